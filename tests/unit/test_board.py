"""The console's board: what is open, in what order, and redelivery changes nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerting.board import Board, apply, fold
from alerting.event import AlertEvent
from models.verdict import SEVERITIES, Evidence, Sample, severity_rank

T0 = 1714566840.0


def ev(entity: str, seq: int, kind: str, severity: str = "warning", at: float | None = None,
       by: str | None = None, **kw) -> AlertEvent:
    return AlertEvent(f"{entity}-20240501T123400Z", seq, kind, entity, entity.title(),
                      "partner", severity, T0 + 60 * seq if at is None else at, 40 + seq,
                      8.0, 0.7, 0.3, 5.0, reasons=(f"{entity} minute {seq}",),
                      acknowledged_by=by, **kw)


def names(board: Board) -> list[str]:
    return [e.entity_name for e in board.open]


def test_an_opened_incident_is_on_the_board_with_its_latest_figures_and_evidence():
    evidence = Evidence(samples=(Sample("p1", "anon:1", "boycott acme"),),
                        linked=(("work-programme", 3),))
    board = fold([ev("acme", 1, "opened"),
                  ev("acme", 2, "escalated", "critical", previous_severity="warning",
                     evidence=evidence)])
    (entry,) = board.open
    assert entry.severity == "critical" and entry.event.volume == 42
    assert entry.event.reasons == ("acme minute 2",)
    assert entry.event.evidence.linked == (("work-programme", 3),)
    assert entry.opened_at == T0 + 60 and entry.last_at == T0 + 120
    assert entry.acknowledged_by is None


@pytest.mark.parametrize(("events", "expected"), [
    # critical above warning above watch, whatever the arrival order
    ([ev("a", 1, "opened", "watch"), ev("b", 1, "opened", "critical"),
      ev("c", 1, "opened", "warning")], ["B", "C", "A"]),
    # same severity: the unacknowledged one first, even if older
    ([ev("a", 1, "opened", at=T0), ev("b", 1, "opened", at=T0 + 10),
      ev("b", 2, "acknowledged", at=T0 + 20, by="sam")], ["A", "B"]),
    # same severity, both unacknowledged: the most recent activity first
    ([ev("a", 1, "opened", at=T0), ev("b", 1, "opened", at=T0 + 10),
      ev("a", 2, "updated", at=T0 + 20)], ["A", "B"]),
    # an acknowledgement is not news: it does not move the incident up
    ([ev("a", 1, "opened", at=T0), ev("b", 1, "opened", at=T0 + 10, by="kim"),
      ev("a", 2, "acknowledged", at=T0 + 99, by="sam")], ["B", "A"]),
])
def test_order_is_severity_then_unacknowledged_then_most_recent(events, expected):
    assert names(fold(events)) == expected


def test_acknowledgement_is_shown_with_who_and_stays_on_later_events():
    board = fold([ev("acme", 1, "opened"), ev("acme", 2, "acknowledged", by="sam"),
                  ev("acme", 3, "updated", by="sam")])
    entry = board.find("acme-20240501T123400Z")
    assert entry.acknowledged_by == "sam" and entry.last_event == "updated"


def test_an_acknowledgement_does_not_count_as_the_latest_alert():
    entry = fold([ev("acme", 1, "opened"), ev("acme", 2, "escalated", "critical"),
                  ev("acme", 3, "acknowledged", "critical", at=T0 + 999, by="sam")]).open[0]
    assert (entry.last_event, entry.last_at, entry.severity) == ("escalated", T0 + 120,
                                                                  "critical")


def test_resolved_incidents_leave_the_open_list_for_a_short_recent_list():
    board = Board(keep_resolved=2)
    for i, entity in enumerate(["a", "b", "c"]):
        board = fold([ev(entity, 1, "opened", at=T0 + i),
                      ev(entity, 2, "resolved", at=T0 + 100 + i)], board)
    assert board.open == ()
    assert [e.entity_name for e in board.resolved] == ["C", "B"]
    assert board.closed == ("a-20240501T123400Z",)
    # a redelivered event of the dropped one does not bring it back
    assert apply(board, ev("a", 1, "opened")) == board


def test_a_late_acknowledgement_marks_a_resolved_incident_without_reopening_it():
    board = fold([ev("acme", 1, "opened"), ev("acme", 2, "resolved"),
                  ev("acme", 3, "acknowledged", by="sam")])
    assert board.open == ()
    assert board.resolved[0].acknowledged_by == "sam" and board.resolved[0].resolved


def test_an_incident_whose_opening_left_the_capped_log_still_shows():
    board = fold([ev("acme", 7, "updated", "critical")])
    assert names(board) == ["Acme"] and board.open[0].opened_at == T0 + 7 * 60


def test_an_older_event_after_a_newer_one_changes_nothing():
    board = fold([ev("acme", 1, "opened"), ev("acme", 3, "escalated", "critical")])
    assert apply(board, ev("acme", 2, "updated")) == board


def test_counts_by_severity_critical_first():
    board = fold([ev("a", 1, "opened", "critical"), ev("b", 1, "opened", "watch"),
                  ev("c", 1, "opened", "critical")])
    assert board.counts() == {"critical": 2, "warning": 0, "watch": 1}


# -- properties ----------------------------------------------------------------

KINDS = ("escalated", "updated", "deescalated", "resolved", "acknowledged")


@st.composite
def incident_histories(draw) -> list[AlertEvent]:
    """Lifecycle-shaped event lists for a few entities, interleaved in time."""
    events: list[AlertEvent] = []
    for entity in draw(st.lists(st.sampled_from("abcdefg"), min_size=1, max_size=5,
                                unique=True)):
        steps = draw(st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(SEVERITIES),
                                        st.integers(1, 600)), max_size=6))
        at = draw(st.integers(0, 10_000)) + T0
        by = None
        history = [ev(entity, 1, "opened", draw(st.sampled_from(SEVERITIES)), at=at)]
        for seq, (kind, severity, gap) in enumerate(steps, start=2):
            at += gap
            if kind == "acknowledged":
                by = by or draw(st.sampled_from(["sam", "kim"]))
            history.append(ev(entity, seq, kind, severity, at=at, by=by))
            if kind == "resolved":
                break
        events += history
    return sorted(events, key=lambda e: e.at)  # stable: one incident stays in seq order


@given(incident_histories())
def test_applying_the_same_events_twice_gives_the_same_board(events):
    board = fold(events)
    assert fold(events, board) == board
    assert fold(events + events) == board


@given(incident_histories(), st.data())
def test_redelivery_anywhere_later_changes_nothing(events, data):
    redelivered = list(events)
    for _ in range(data.draw(st.integers(0, 5))):
        if not redelivered:
            break
        i = data.draw(st.integers(0, len(redelivered) - 1))
        j = data.draw(st.integers(i + 1, len(redelivered)))
        redelivered.insert(j, redelivered[i])
    assert fold(redelivered) == fold(events)


@given(incident_histories())
def test_open_incidents_are_in_severity_order_and_never_resolved(events):
    board = fold(events)
    ranks = [severity_rank(e.severity) for e in board.open]
    assert ranks == sorted(ranks, reverse=True)
    assert not any(e.resolved for e in board.open)
    assert all(e.resolved for e in board.resolved)
    resolved_ids = {e.incident_id for e in events if e.event == "resolved"}
    assert {e.incident_id for e in board.open}.isdisjoint(resolved_ids)


def test_an_acknowledgement_keeps_the_figures_and_reasons_on_the_board():
    from alerting.board import fold
    from alerting.event import AlertEvent

    opened = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
                        "critical", 1714566840.0, 90, 8.5, 0.8, 0.3, 9.1,
                        reasons=("volume 10x expected",))
    ack = AlertEvent("acme-20240501T123400Z", 2, "acknowledged", "acme", "Acme", "partner",
                     "critical", 1714566900.0, 0, 0.0, 0.0, 0.0, 0.0,
                     reasons=("acknowledged by sam",), acknowledged_by="sam")
    (entry,) = fold([opened, ack]).open
    assert entry.acknowledged_by == "sam"
    assert entry.event.reasons == ("volume 10x expected",) and entry.event.volume == 90
    assert fold([opened, ack, ack]).open == fold([opened, ack]).open  # redelivery
