"""What is kept of an incident for later review: its record, per-minute points and events.

Pure values shared by the lifecycle (which collects the points of an open
incident) and both stores (which persist them). :func:`record_fields` turns
one event into the partial update of an incident's record, so the Redis hash
and the in-memory dict are written by the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from alerting.event import AlertEvent, format_time, parse_time
from models.verdict import Verdict

__all__ = ["IncidentPoints", "IncidentRecord", "Timeline", "TimelinePoint", "record_fields"]


class TimelinePoint(NamedTuple):
    """One closed minute of an incident: how big, how negative, against what baseline.
    (A tuple: one is made for every entity every minute.)

    >>> v = Verdict("acme", at=1714566840.0, severity="watch", score=2.5, volume=20,
    ...             expected_volume=8.0, negativity=0.5, expected_negativity=0.3)
    >>> p = TimelinePoint.from_verdict(v)
    >>> TimelinePoint.from_dict(p.to_dict()) == p, p.severity
    (True, 'watch')
    """

    at: float
    volume: int
    expected_volume: float
    negativity: float
    expected_negativity: float
    score: float
    severity: str | None

    @classmethod
    def from_verdict(cls, verdict: Verdict) -> TimelinePoint:
        """The verdict's own minute where the detector gives it, else its window."""
        if verdict.minute_volume is None:
            return cls(verdict.at, verdict.volume, verdict.expected_volume, verdict.negativity,
                       verdict.expected_negativity, verdict.score, verdict.severity)
        return cls(verdict.at, verdict.minute_volume, verdict.minute_expected or 0.0,
                   verdict.minute_negativity or 0.0, verdict.expected_negativity,
                   verdict.score, verdict.severity)

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "volume": self.volume, "expected_volume": self.expected_volume,
                "negativity": self.negativity, "expected_negativity": self.expected_negativity,
                "score": self.score, "severity": self.severity}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TimelinePoint:
        return cls(float(data["at"]), int(data["volume"]), float(data["expected_volume"]),
                   float(data["negativity"]), float(data["expected_negativity"]),
                   float(data["score"]), data["severity"])


class IncidentPoints(NamedTuple):
    """New per-minute points of one incident: what a lifecycle step emits for its timeline."""

    incident_id: str
    points: tuple[TimelinePoint, ...]


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """The summary a console lists: who, how bad, open or resolved, acknowledged by whom.

    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "warning", 1714566840.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> r = IncidentRecord.from_fields(record_fields(e))
    >>> r.status, r.severity, r.opened_at == e.at
    ('open', 'warning', True)
    """

    incident_id: str
    entity_id: str
    entity_name: str
    entity_kind: str
    owner: str | None
    status: str  # "open" | "resolved"
    severity: str
    opened_at: float | None
    last_at: float
    last_event: str
    last_seq: int
    resolved_at: float | None = None
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None
    story_id: str | None = None  # the story it is told in (alerting.story)

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> IncidentRecord:
        def time(name: str) -> float | None:
            return parse_time(fields[name], name) if fields.get(name) else None

        return cls(
            incident_id=fields["incident_id"], entity_id=fields["entity_id"],
            entity_name=fields["entity_name"], entity_kind=fields["entity_kind"],
            owner=fields.get("owner") or None, status=fields["status"],
            severity=fields["severity"], opened_at=time("opened_at"),
            last_at=parse_time(fields["last_at"], "last_at"), last_event=fields["last_event"],
            last_seq=int(fields["last_seq"]), resolved_at=time("resolved_at"),
            acknowledged_by=fields.get("acknowledged_by") or None,
            acknowledged_at=time("acknowledged_at"),
            story_id=fields.get("story_id") or None,
        )


def record_fields(event: AlertEvent) -> dict[str, str]:
    """The fields of the incident record this event sets (strings, as a Redis hash holds).

    An acknowledgement never changes status or severity, so a late ack of a
    resolved incident leaves it resolved. A 'restored' event (Redis lost the
    record) sets everything back, the opening time included.
    """
    fields = {"incident_id": event.incident_id, "entity_id": event.entity_id,
              "entity_name": event.entity_name, "entity_kind": event.entity_kind,
              "owner": event.owner or "", "last_at": format_time(event.at),
              "last_event": event.event, "last_seq": str(event.seq)}
    if event.story is not None:
        fields["story_id"] = event.story.id
    if event.opened_at is not None:  # never changes; a 'restored' record needs it back
        fields["opened_at"] = format_time(event.opened_at)
    if event.event == "acknowledged":
        fields["acknowledged_by"] = event.acknowledged_by or ""
        fields["acknowledged_at"] = format_time(event.at)
        return fields
    fields["severity"] = event.severity
    fields["status"] = "resolved" if event.event == "resolved" else "open"
    if event.event == "opened":
        fields["opened_at"] = format_time(event.at)
        # An ack always follows its opening, so only a re-delivered 'opened' could
        # overwrite one; it never carries acknowledged_by, so it is left alone.
    if event.event == "resolved":
        fields["resolved_at"] = format_time(event.at)
    if event.acknowledged_by:
        fields["acknowledged_by"] = event.acknowledged_by
    return fields


@dataclass(frozen=True, slots=True)
class Timeline:
    """An incident's story for the comms lead: per-minute points and every event, in order."""

    incident_id: str
    points: tuple[TimelinePoint, ...]
    events: tuple[AlertEvent, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"incident_id": self.incident_id,
                "points": [p.to_dict() for p in self.points],
                "events": [e.to_dict() for e in self.events]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timeline:
        return cls(data["incident_id"],
                   tuple(TimelinePoint.from_dict(p) for p in data["points"]),
                   tuple(AlertEvent.from_dict(e) for e in data["events"]))
