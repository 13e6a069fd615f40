"""Feedback becomes a figure: precision per entity and severity, the latest verdict counting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerting.errors import AlertEventError
from alerting.feedback import VERDICTS, Feedback, precision

DAY = 86400.0
NOW = 100 * DAY


def fb(incident: str, verdict: str, at: float, entity: str = "acme",
       severity: str = "warning", by: str = "sam") -> Feedback:
    return Feedback(incident, entity, entity.title(), severity, verdict, by, at)


def test_too_late_counts_as_real_but_is_reported_apart():
    report = precision([fb("a-1", "useful", NOW - DAY), fb("a-2", "too_late", NOW - DAY),
                        fb("a-3", "false_alarm", NOW - DAY)], NOW, 30)
    assert report.total.precision == pytest.approx(2 / 3)
    assert report.total.too_late_share == pytest.approx(1 / 3)


def test_the_latest_verdict_on_an_incident_counts_once():
    report = precision([fb("a-1", "false_alarm", NOW - 3 * DAY),
                        fb("a-1", "useful", NOW - 2 * DAY, by="kim")], NOW, 30)
    assert (report.total.rated, report.total.useful) == (1, 1)


def test_windows_keep_what_was_rated_within_them():
    given_ = [fb("a-1", "useful", NOW - 10 * DAY), fb("a-2", "false_alarm", NOW - 60 * DAY),
              fb("a-3", "useful", NOW + DAY)]  # a clock ahead of ours: not counted yet
    assert precision(given_, NOW, 30).total.rated == 1
    assert precision(given_, NOW, 90).total.precision == 0.5


def test_rows_per_entity_and_severity():
    report = precision([fb("a-1", "useful", NOW, severity="critical"),
                        fb("w-1", "false_alarm", NOW, entity="wp", severity="watch")], NOW, 30)
    assert [(r.key, r.precision) for r in report.by_entity] == [("acme", 1.0), ("wp", 0.0)]
    assert [r.key for r in report.by_severity] == ["critical", "watch"]


def test_nothing_rated_has_no_precision_rather_than_zero():
    assert precision([], NOW, 30).total.precision is None


def test_bad_verdicts_and_severities_are_refused_and_feedback_round_trips():
    with pytest.raises(AlertEventError, match="must be one of useful"):
        fb("a-1", "meh", NOW)
    with pytest.raises(AlertEventError, match="severity"):
        fb("a-1", "useful", NOW, severity="huge")
    f = fb("a-1", "too_late", NOW)
    assert Feedback.from_json(f.to_json()) == f


@given(st.lists(st.tuples(st.integers(0, 20), st.sampled_from(VERDICTS),
                          st.floats(0, 200 * DAY)), max_size=60))
def test_precision_is_a_share_and_the_counts_add_up(items):
    report = precision([fb(f"a-{i}", v, at) for i, v, at in items], NOW, 90)
    t = report.total
    assert t.rated == t.useful + t.false_alarm + t.too_late
    assert t.rated == sum(r.rated for r in report.by_severity)
    assert t.precision is None or 0.0 <= t.precision <= 1.0
