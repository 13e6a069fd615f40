"""Scoring alert events against labels: what counts as found, as a page, as a false alarm."""

import pytest

from models.evaluation import Alarm, Report, evaluate
from models.labels import Label

T0 = 1_772_409_600.0  # 2026-03-02, a Monday
HOUR, DAY, WEEK = 3600.0, 86400.0, 7 * 86400.0
BACKGROUND = Label("acme", "background", T0, T0 + WEEK)
STORM = Label("acme", "storm", T0 + DAY, T0 + DAY + 6 * HOUR, peak=T0 + DAY + 2 * HOUR)


def at(hours: float) -> float:
    return T0 + DAY + hours * HOUR  # hours after the storm's onset


@pytest.mark.parametrize(("alarms", "found", "delay", "lead", "before_peak"), [
    ([Alarm("acme", at(0.25), "opened", "warning")], True, 900.0, 6300.0, True),
    ([Alarm("acme", at(0.25), "opened", "watch")], False, None, None, False),   # watch: noticed
    ([Alarm("acme", at(3), "opened", "critical")], True, 3 * HOUR, -HOUR, False),  # after peak
    ([Alarm("acme", at(0.25), "opened", "watch"),
      Alarm("acme", at(0.5), "escalated", "warning", "watch")], True, 1800.0, 5400.0, True),
    ([Alarm("acme", at(1), "resolved", "warning")], False, None, None, False),  # not a notice
    ([Alarm("acme", at(7), "opened", "warning")], False, None, None, False),   # after the end
    ([Alarm("other", at(0.25), "opened", "warning")], False, None, None, False),  # wrong entity
])
def test_a_storm_is_found_by_the_first_warning_between_onset_and_end(
        alarms, found, delay, lead, before_peak):
    r = evaluate([BACKGROUND, STORM], alarms).storms[0]
    assert (r.found, r.delay, r.lead, r.before_peak) == (found, delay, lead, before_peak)


def test_a_watch_is_the_first_notice_but_not_a_find():
    r = evaluate([STORM], [Alarm("acme", at(0.1), "opened", "watch")]).storms[0]
    assert r.first_notice == at(0.1) and r.max_severity == "watch" and not r.found


def test_before_lets_an_early_warning_find_a_roughly_labelled_storm():
    early = [Alarm("acme", at(-0.5), "opened", "warning")]
    assert not evaluate([STORM], early).storms[0].found
    assert evaluate([STORM], early, before=HOUR).storms[0].delay == -1800.0


@pytest.mark.parametrize(("alarms", "pages", "incidents", "watch_only"), [
    ([Alarm("acme", T0 + 3 * DAY, "opened", "warning", None, "i1")], 1, 1, 0),
    ([Alarm("acme", T0 + 3 * DAY, "opened", "watch", None, "i1")], 0, 1, 1),
    ([Alarm("acme", T0 + 3 * DAY, "opened", "watch", None, "i1"),
      Alarm("acme", T0 + 3 * DAY + 60, "escalated", "warning", "watch", "i1"),
      Alarm("acme", T0 + 3 * DAY + 960, "updated", "warning", None, "i1")], 1, 1, 0),
    # Paged again after dropping to watch; escalating warning -> critical is no new page.
    ([Alarm("acme", T0 + 3 * DAY, "opened", "warning", None, "i1"),
      Alarm("acme", T0 + 3 * DAY + 900, "deescalated", "watch", "warning", "i1"),
      Alarm("acme", T0 + 3 * DAY + 1800, "escalated", "warning", "watch", "i1"),
      Alarm("acme", T0 + 3 * DAY + 1860, "escalated", "critical", "warning", "i1")], 2, 1, 0),
    ([Alarm("acme", at(2), "opened", "warning", None, "i1")], 0, 0, 0),  # the storm itself
    ([Alarm("acme", at(6.5), "opened", "warning", None, "i1")], 0, 0, 0),  # its tail (grace)
    ([Alarm("acme", at(7.5), "opened", "warning", None, "i1")], 1, 1, 0),  # after the grace
    ([Alarm("acme", T0 + 8 * DAY, "opened", "warning", None, "i1")], 0, 0, 0),  # unlabelled
])
def test_false_alarms_are_pages_and_incidents_in_background_outside_storms(
        alarms, pages, incidents, watch_only):
    bg = evaluate([BACKGROUND, STORM], alarms).background
    assert (bg.warning_pages, bg.incidents, bg.watch_only) == (pages, incidents, watch_only)


def test_exposure_is_background_time_minus_storm_windows_and_ignored_spans():
    ignore = Label("acme", "ignore", T0 + 3 * DAY, T0 + 3 * DAY + HOUR, label="spillover")
    bg = evaluate([BACKGROUND, STORM, ignore], []).background
    excluded = (6 * HOUR + HOUR) + (HOUR + HOUR)  # storm + grace, ignore + grace
    assert bg.entity_weeks == pytest.approx((WEEK - excluded) / WEEK)
    assert evaluate([STORM], []).background.entity_weeks == 0.0  # no background: no exposure


def test_alarms_in_ignored_spans_count_neither_way():
    ignore = Label("acme", "ignore", T0 + 3 * DAY, T0 + 3 * DAY + HOUR, label="spillover")
    r = evaluate([BACKGROUND, ignore], [Alarm("acme", T0 + 3 * DAY + 60, "opened", "warning")])
    assert r.background.warning_pages == 0 and r.recall is None


def test_a_benign_episode_that_warns_is_a_false_page_attributed_to_its_label():
    bots = Label("acme", "benign", T0 + 3 * DAY, T0 + 3 * DAY + 1800, label="bots")
    r = evaluate([BACKGROUND, bots], [
        Alarm("acme", T0 + 3 * DAY + 600, "opened", "watch", None, "i1"),
        Alarm("acme", T0 + 3 * DAY + 900, "escalated", "warning", "watch", "i1")])
    assert r.benign[0].reached_warning and r.benign[0].max_severity == "warning"
    assert r.background.warning_pages == 1 and dict(r.background.pages_by_label) == {"bots": 1}


def test_a_benign_episode_at_watch_did_not_reach_warning():
    bots = Label("acme", "benign", T0 + 3 * DAY, T0 + 3 * DAY + 1800, label="bots")
    r = evaluate([bots], [Alarm("acme", T0 + 3 * DAY + 600, "opened", "watch")])
    assert not r.benign[0].reached_warning and r.benign[0].max_severity == "watch"


def test_reports_of_independent_streams_combine():
    one = evaluate([BACKGROUND, STORM], [Alarm("acme", at(0.2), "opened", "warning", None, "a")])
    two = evaluate([BACKGROUND, STORM], [Alarm("acme", T0 + 4 * DAY, "opened", "warning",
                                               None, "b")])
    both = Report.combine([one, two])
    assert both.recall == 0.5
    assert both.background.warning_pages == 1
    assert both.background.entity_weeks == pytest.approx(2 * one.background.entity_weeks)
    summary = both.summary()
    assert summary["storms"] == 2 and summary["found"] == 1
    assert summary["warning_pages_per_entity_week"] == pytest.approx(
        1 / both.background.entity_weeks, abs=1e-4)
