"""bench/bench_replay.py prints its replay figures beside issue 13's targets."""

from __future__ import annotations

import json

import pytest

from bench import bench_replay


def _line(ts: str) -> bytes:
    return json.dumps({"id": "1", "ts": ts, "text": "x"}).encode()


def test_density_is_mentions_per_entity_minute_over_the_span():
    lines = [_line("2026-03-01T00:00:00Z")] * 599 + [_line("2026-03-01T00:10:00Z")]
    assert bench_replay.density(lines, 3) == pytest.approx(600 / (3 * 11))  # both ends
    epoch = [json.dumps({"ts": 1772323200.0 + 60 * i}).encode() for i in range(4)]
    assert bench_replay.density(epoch, 1) == pytest.approx(1.0)  # epoch seconds too


def test_a_stream_of_ones_own_prints_its_density_and_no_target(tmp_path, capsys):
    mentions = tmp_path / "m.jsonl"
    watchlist = tmp_path / "w.yaml"
    watchlist.write_text("entities: [{id: acme, name: Acme, kind: partner, terms: [acme]}]\n")
    mentions.write_text("".join(
        json.dumps({"id": str(i), "ts": f"2026-03-01T00:{i // 10:02d}:00Z", "platform": "x",
                    "author": f"a{i}", "text": "acme is a disgrace"}) + "\n" for i in range(200)))
    assert bench_replay.main(["--input", str(mentions), "--watchlist", str(watchlist),
                              "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "200 mentions, 1 entities, 10.0 mentions per entity-minute" in out
    assert "CLI firestorm replay" in out
    assert "target" not in out  # a stream of one's own has no target


def test_busy_refuses_an_input_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        bench_replay.main(["--busy", "--input", str(tmp_path / "m.jsonl")])
    assert stop.value.code == 2
    assert "--busy generates its own stream" in capsys.readouterr().err


def test_repeat_below_one_is_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        bench_replay.main(["--repeat", "0"])
    assert stop.value.code == 2
    assert "--repeat must be at least 1" in capsys.readouterr().err
