"""The p99 bench's pure parts: the nearest-rank percentile and the shifted stream."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bench.bench_p99 import percentile, shifted


def test_the_99th_percentile_of_a_hundred_delays_is_the_99th_not_the_largest() -> None:
    delays = [float(i) for i in range(1, 101)]
    assert percentile(delays, 0.99) == 99.0
    assert percentile(delays, 0.5) == 50.0
    assert percentile(delays, 1.0) == 100.0


@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=300),
       st.floats(0.01, 1.0))
def test_a_percentile_has_at_least_its_share_at_or_below_it(values, q) -> None:
    values.sort()
    v = percentile(values, q)
    assert v in values
    assert sum(x <= v for x in values) >= q * len(values) - 1e-9
    assert sum(x < v for x in values) < q * len(values)


def test_the_stream_moves_back_whole_minutes_and_keeps_everything_else() -> None:
    lines = [json.dumps({"id": f"m{i}", "ts": 1_767_571_203.341 + i, "text": "acme"}).encode()
             for i in range(3)]
    out = shifted(lines, 7)
    assert [ts for ts, _ in out] == [round(1_767_571_203.341 + i - 420, 3) for i in range(3)]
    for (ts, line), before in zip(out, lines, strict=True):
        moved, was = json.loads(line), json.loads(before)
        assert moved["ts"] == ts and moved["id"] == was["id"] and moved["text"] == was["text"]
