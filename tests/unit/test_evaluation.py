"""Evaluation metrics: recall, false warnings per entity-week, delay, lead."""

import pytest

from models.evaluation import evaluate
from models.synthetic import Episode

WEEK = 7 * 86400.0
STORM = Episode("acme", "sharp", onset=1000.0, peak=4000.0, end=9000.0)


@pytest.mark.parametrize(("events", "recall", "false", "delay", "lead"), [
    ([("acme", 1600.0, "warning")], 1.0, 0, 600.0, 2400.0),
    ([("acme", 1600.0, "watch")], 0.0, 0, None, None),                 # watch is not found
    ([("acme", 5000.0, "critical")], 1.0, 0, 4000.0, -1000.0),         # found after the peak
    ([("other", 1600.0, "warning")], 0.0, 1, None, None),              # wrong entity: false
    ([("acme", 9000.0 + 1800, "warning")], 0.0, 0, None, None),        # tail within grace
    ([("acme", 50_000.0, "warning"), ("acme", 50_060.0, "warning"),
      ("acme", 50_120.0, "critical")], 0.0, 1, None, None),            # one episode, once
    ([("acme", 50_000.0, "warning"), ("acme", 90_000.0, "warning")], 0.0, 2, None, None),
])
def test_metrics(events, recall, false, delay, lead):
    r = evaluate([STORM], [], events, ["acme", "other"], start=0.0, end=WEEK)
    assert r.recall == recall
    assert r.false_warnings == false
    assert r.false_per_entity_week == false / 2
    assert r.storms[0].delay == delay and r.storms[0].lead == lead


def test_false_warnings_are_attributed_to_benign_kinds():
    bots = Episode("acme", "bots", 20_000.0, 20_000.0, 22_000.0)
    spill = Episode("acme", "spillover", 30_000.0, 31_000.0, 32_000.0)
    r = evaluate([], [bots, spill], [("acme", 21_000.0, "warning"), ("acme", 31_000.0, "warning")],
                 ["acme"], start=0.0, end=WEEK)
    assert r.false_warnings == 1 and dict(r.false_by_benign) == {"bots": 1}


def test_warmup_alarms_are_not_counted():
    r = evaluate([], [], [("acme", 100.0, "critical")], ["acme"], start=1000.0, end=WEEK)
    assert r.false_warnings == 0 and r.recall == 1.0
