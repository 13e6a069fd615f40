"""The alert event JSON is the public contract of DESIGN.md: exact fields, exact round trip."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerting.errors import AlertEventError
from alerting.event import EVENTS, AlertEvent
from models.verdict import SEVERITIES, Evidence, Sample

T0 = 1714566840.0

EVIDENCE = Evidence(top_terms=(("workfare", 12),), top_hashtags=(("#boycottacme", 9),),
                    samples=(Sample("p1", "user-1", "boycott acme", 120, 0.9),
                             Sample("p2", "user-2", "acme again")),
                    top_authors=(("bigaccount", 50000),), linked=(("work-programme", 4),),
                    coordinated_share=0.25)


def event(**changes) -> AlertEvent:
    base = dict(incident_id="acme-20240501T123400Z", seq=2, event="escalated",
                entity_id="acme", entity_name="Acme Stores", entity_kind="partner",
                severity="critical", at=T0 + 60, volume=90, expected_volume=8.5,
                negativity=0.8, expected_negativity=0.3, score=9.1,
                reasons=("volume 10x baseline",), evidence=EVIDENCE, owner="DWP",
                previous_severity="warning", emitted_at=T0 + 61.25, window_seconds=300.0,
                opened_at=T0)
    return AlertEvent(**(base | changes))


def test_json_has_exactly_the_contract_fields_plus_the_documented_ones():
    data = json.loads(event().to_json())
    contract = {"incident_id", "entity_id", "entity_name", "entity_kind", "event", "severity",
                "at", "emitted_at", "volume", "negativity", "score", "reasons", "evidence"}
    additions = {"event_id", "seq", "owner", "previous_severity", "acknowledged_by",
                 "opened_at", "story"}
    assert set(data) == contract | additions
    assert data["event_id"] == "acme-20240501T123400Z:2"
    assert data["at"] == "2024-05-01T12:35:00Z"
    assert data["emitted_at"] == "2024-05-01T12:35:01.250000Z"
    assert data["volume"] == {"current": 90, "expected": 8.5, "window_seconds": 300.0}
    assert data["negativity"] == {"current": 0.8, "expected": 0.3, "window_seconds": 300.0}
    assert data["opened_at"] == "2024-05-01T12:34:00Z" and data["story"] is None
    assert data["evidence"] == {
        "top_terms": [["workfare", 12]], "top_hashtags": [["#boycottacme", 9]],
        "samples": [{"id": "p1", "author": "user-1", "text": "boycott acme",
                     "followers": 120, "negativity": 0.9},
                    {"id": "p2", "author": "user-2", "text": "acme again"}],
        "top_authors": [["bigaccount", 50000]], "linked": [["work-programme", 4]],
        "coordinated_share": 0.25, "centre": None, "high_reach": []}


def test_round_trip_keeps_everything_including_emitted_at():
    e = event()
    back = AlertEvent.from_json(e.to_json())
    assert back == e and back.emitted_at == e.emitted_at and back.to_dict() == e.to_dict()


def test_emitted_at_is_not_part_of_equality():
    assert event(emitted_at=None) == event(emitted_at=T0 + 999)
    assert event().stamped(T0 + 5).emitted_at == T0 + 5


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("severity"), "lacks required field 'severity'"),
    (lambda d: d.update(event="exploded"), "'event'.*must be one of"),
    (lambda d: d.update(severity="mild"), "'severity'.*must be one of"),
    (lambda d: d.update(at="2024-05-01 12:00"), "no UTC offset"),
    (lambda d: d.update(at="yesterday"), "not an ISO-8601 time"),
    (lambda d: d.update(volume={"current": "many", "expected": 1}), "wrong type"),
    (lambda d: d.update(event_id="x:9"), "does not match"),
    (lambda d: d.update(seq=0), "'seq'"),
    (lambda d: d["volume"].update(window_seconds=0), "window_seconds"),
    (lambda d: d.update(story={"id": "x"}), "'story'"),
])
def test_bad_events_say_what_is_wrong(change, message):
    data = event().to_dict()
    change(data)
    with pytest.raises(AlertEventError, match=message):
        AlertEvent.from_dict(data)


def test_not_json_is_an_alert_event_error():
    with pytest.raises(AlertEventError, match="not valid JSON"):
        AlertEvent.from_json("{nope")


times = st.integers(min_value=0, max_value=4_000_000_000_000).map(lambda ms: ms / 1000)
words = st.text(min_size=1, max_size=12)


@given(kind=st.sampled_from(EVENTS), severity=st.sampled_from(SEVERITIES), at=times,
       emitted=st.none() | times, seq=st.integers(1, 10_000),
       volume=st.integers(0, 10**6), share=st.floats(0, 1),
       reasons=st.lists(words, max_size=3).map(tuple), owner=st.none() | words)
def test_any_event_round_trips(kind, severity, at, emitted, seq, volume, share, reasons, owner):
    e = AlertEvent("x-1", seq, kind, "x", "X", "policy", severity, at, volume, 1.5, share, 0.1,
                   2.0, reasons, EVIDENCE, owner=owner, emitted_at=emitted)
    back = AlertEvent.from_json(e.to_json())
    assert back == e and back.emitted_at == e.emitted_at
