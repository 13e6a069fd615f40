"""Acknowledgements: every ack gets one of four answers, each with its reason; pure."""

from __future__ import annotations

import pytest

from alerting.ack import Ack, AckAnswer, judge_ack
from alerting.engine import Engine
from alerting.errors import AlertEventError
from alerting.lifecycle import Incident
from models.watchlist import parse_watchlist

WATCHLIST = parse_watchlist("""
entities:
  - {id: work-programme, name: Work Programme, kind: policy, terms: [workfare]}
  - {id: acme, name: Acme Stores, kind: partner, terms: [acme], linked: [work-programme]}
""")
LATEST = Incident("acme-20240501T123400Z", "acme", 1714566840.0, "critical")
HELD = Incident("acme-20240501T123400Z", "acme", 1714566840.0, "critical",
                acknowledged_by="kim", acknowledged_at=1714567000.0)


def ask(incident_id: str, by: str = "sam") -> Ack:
    return Ack(incident_id.rsplit("-", 1)[0], incident_id, by, 1714567200.0, "r1")


@pytest.mark.parametrize(("latest", "asked", "watched", "outcome", "says"), [
    (LATEST, "acme-20240501T123400Z", True, "recorded", "acknowledged by sam"),
    (HELD, "acme-20240501T123400Z", True, "already_acknowledged",
     "already acknowledged by kim at 2024-05-01T12:36:40Z"),
    (LATEST, "acme-20240430T090000Z", True, "not_latest",
     "the latest is acme-20240501T123400Z (open); acknowledge that one"),
    (LATEST, "acme-20240601T000000Z", True, "unknown_incident",
     "no incident acme-20240601T000000Z: the latest incident of 'acme' is"),
    (LATEST, "acme-typo", True, "unknown_incident", "no incident acme-typo"),
    (None, "acme-20240501T123400Z", True, "unknown_incident", "'acme' has had no incident"),
    (LATEST, "nobody-20240501T123400Z", False, "unknown_incident",
     "'nobody' is not an entity of the worker's watchlist"),
])
def test_each_ack_gets_its_own_answer_and_reason(latest, asked, watched, outcome, says):
    got, reason = judge_ack(latest, ask(asked), watched)
    assert got == outcome and says in reason


def test_an_ack_without_a_name_is_invalid():
    assert judge_ack(LATEST, ask(LATEST.id, by="  "), True)[0] == "invalid"


def test_engine_records_the_first_ack_then_says_who_already_has_it():
    engine = Engine.for_watchlist(WATCHLIST)
    state = engine.initial()
    state = type(state)(state.detector, type(state.incident)(incident=LATEST))
    state, events, answer = engine.acknowledge(state, ask(LATEST.id))
    assert answer.outcome == "recorded" and answer.acknowledged_by == "sam"
    assert [e.event for e in events] == ["acknowledged"] and events[0].acknowledged_by == "sam"
    again, events, answer = engine.acknowledge(state, ask(LATEST.id, by="kim"))
    assert (answer.outcome, answer.acknowledged_by, events) == ("already_acknowledged", "sam", [])
    assert again == state
    _, events, answer = engine.acknowledge(state, ask("acme-20240101T000000Z"))
    assert (answer.outcome, answer.latest, events) == ("not_latest", LATEST.id, [])


def test_engine_answers_for_an_entity_it_has_no_state_for_and_one_it_does_not_watch():
    engine = Engine.for_watchlist(WATCHLIST)
    for asked in ("work-programme-20240501T123400Z", "nobody-20240501T123400Z"):
        state, events, answer = engine.acknowledge(None, ask(asked))
        assert (state, events, answer.outcome) == (None, [], "unknown_incident")


def test_acks_sent_before_request_ids_existed_still_decode():
    old = {"ack": "acme-20240501T123400Z", "entity_id": "acme", "by": "sam", "ts": 1.0}
    assert Ack.from_dict(old) == Ack("acme", "acme-20240501T123400Z", "sam", 1.0)


def test_an_answer_round_trips_and_refuses_an_unknown_outcome():
    answer = AckAnswer("r1", LATEST.id, "not_latest", "why", "sam", 1714567200.0,
                       latest="acme-20240601T000000Z")
    assert AckAnswer.from_json(answer.to_json()) == answer
    with pytest.raises(AlertEventError, match="outcome 'maybe'"):
        AckAnswer("r1", LATEST.id, "maybe", "why", "sam", 0.0)
    with pytest.raises(AlertEventError, match="not an ack answer"):
        AckAnswer.from_json('{"request_id": "r1"}')
