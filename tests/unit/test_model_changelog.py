"""bench/model_changelog.py: the offline model of the state changelog counts what the
worker's table would be written, by record kind."""

from __future__ import annotations

from pathlib import Path

from bench.model_changelog import model
from streams import statestore

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "deploy" / "examples" / "sample-mentions.jsonl"
WATCHLIST = REPO / "deploy" / "examples" / "watchlist.yaml"


def test_the_model_counts_every_record_by_kind_and_leaves_a_loadable_table():
    lines = SAMPLE.read_bytes().splitlines()[:1500]
    small, large = model(lines, 5, WATCHLIST), model(lines, 500, WATCHLIST)
    for table in (small, large):
        assert "other" not in table.bytes  # every suffix is a known record kind
        assert table.records["head"] and table.records["minute buckets"]
        heads = [k for k in table if b"\x00" not in k]
        for key in heads:
            assert statestore.read(table, key.decode()).state is not None
    # Small batches write a head (and waiting observations) far more often.
    assert small.records["head"] > 5 * large.records["head"]
    assert sum(small.bytes.values()) > sum(large.bytes.values())
