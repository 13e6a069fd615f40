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


def test_the_metrics_page_gives_each_agent_and_phase_its_count_and_seconds() -> None:
    from bench.bench_p99 import totals

    page = "\n".join([
        '# HELP firestorm_batch_seconds Time to process one batch, by agent',
        'firestorm_batch_seconds_bucket{agent="detect",le="0.5"} 3.0',
        'firestorm_batch_seconds_count{agent="detect"} 4.0',
        'firestorm_batch_seconds_sum{agent="detect"} 1.5',
        'firestorm_batch_seconds_count{agent="intake"} 2.0',
        'firestorm_batch_seconds_sum{agent="intake"} 0.25',
        'firestorm_detect_phase_seconds_count{phase="judge"} 4.0',
        'firestorm_detect_phase_seconds_sum{phase="judge"} 0.75'])
    assert totals(page, "firestorm_batch_seconds", "agent") == {
        "detect": (4.0, 1.5), "intake": (2.0, 0.25)}
    assert totals(page, "firestorm_detect_phase_seconds", "phase") == {"judge": (4.0, 0.75)}


def test_the_worker_rate_bench_compares_the_worker_with_its_targets() -> None:
    from bench.bench_worker_rate import Rate, verdicts

    replay = Rate("replay", 100_000, 10.0, 9.0)  # 10,000/s
    slow, fast = Rate("worker", 100_000, 50.0, 40.0), Rate("worker", 100_000, 4.0, 4.0)
    assert [met for *_, met in verdicts(slow, replay)] == [False, False]  # 2,000/s, 0.2
    assert [met for *_, met in verdicts(fast, replay)] == [True, True]  # 25,000/s, 2.5
    assert Rate("none", 0, 0.0, 0.0).per_second == 0.0
