"""The alert event: the public contract between the lifecycle and every consumer.

One :class:`AlertEvent` per lifecycle event of an incident. Its JSON is the
Redis message, the stream log entry and one line of replay output; the fields
are documented in ``docs/alerts.md``. Times are epoch seconds in Python and
ISO-8601 UTC (``...Z``) in JSON.

``emitted_at`` is the only wall-clock value. It is stamped by whoever emits
the event (see :meth:`AlertEvent.stamped`) and is left out of equality, so a
replay and the live stream compare equal event for event. ``story`` (which
storm the incident belongs to) is added where events are stored
(:mod:`alerting.story`), downstream of the per-entity lifecycle, and is left
out of equality too.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from alerting.errors import AlertEventError
from alerting.figures import Figures
from alerting.story import Story
from models.verdict import SEVERITIES, Evidence, Sample

__all__ = ["EVENTS", "AlertEvent", "evidence_to_dict", "format_time", "parse_time"]

# 'restored': the worker republished the state of an open incident after Redis lost it
# (it carries the incident's latest seq, so it is dropped where nothing was lost).
EVENTS = ("opened", "escalated", "updated", "deescalated", "resolved", "acknowledged",
          "restored")


def format_time(ts: float) -> str:
    """Epoch seconds as ISO-8601 UTC with a ``Z``.

    >>> format_time(1714566840.0)
    '2024-05-01T12:34:00Z'
    """
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str, name: str = "time") -> float:
    """ISO-8601 with an offset or ``Z`` back to epoch seconds.

    >>> parse_time("2024-05-01T12:34:00Z")
    1714566840.0
    """
    try:
        parsed = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise AlertEventError(f"'{name}': {text!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        raise AlertEventError(f"'{name}': {text!r} has no UTC offset; use e.g. '...Z'")
    return parsed.timestamp()


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One thing that happened to an incident, with the figures and evidence behind it.

    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme Stores",
    ...                "partner", "warning", at=1714566840.0, volume=40,
    ...                expected_volume=8.0, negativity=0.7, expected_negativity=0.3,
    ...                score=5.0, reasons=("volume 5x baseline",), window_seconds=300)
    >>> e.event_id
    'acme-20240501T123400Z:1'
    >>> d = e.stamped(1714566845.5).to_dict()
    >>> d["at"], d["emitted_at"], d["volume"]["current"], d["volume"]["window_seconds"]
    ('2024-05-01T12:34:00Z', '2024-05-01T12:34:05.500000Z', 40, 300)
    >>> e.figures.volume_text()
    '40 mentions in 5 min, usually 8.0 (5.0x)'
    >>> AlertEvent.from_json(e.stamped(1714566845.5).to_json()) == e   # emitted_at ignored
    True
    """

    incident_id: str
    seq: int  # 1 for 'opened', then +1 per event of the incident
    event: str
    entity_id: str
    entity_name: str
    entity_kind: str
    severity: str  # the incident's severity after this event
    at: float  # event time of the data that caused it (epoch seconds)
    volume: int
    expected_volume: float
    negativity: float
    expected_negativity: float
    score: float
    reasons: tuple[str, ...] = ()
    evidence: Evidence = field(default_factory=Evidence)
    owner: str | None = None
    previous_severity: str | None = None  # set on 'escalated' and 'deescalated'
    acknowledged_by: str | None = None  # set on 'acknowledged' and every later event
    # The window `volume` and `negativity` were counted over (seconds of event time).
    window_seconds: float | None = None
    opened_at: float | None = None  # event time the incident opened
    emitted_at: float | None = field(default=None, compare=False)  # wall clock, or None
    story: Story | None = field(default=None, compare=False)  # set where events are stored

    def __post_init__(self) -> None:
        if self.event not in EVENTS:
            raise AlertEventError(f"'event': {self.event!r} must be one of {', '.join(EVENTS)}")
        for name in ("severity", "previous_severity"):
            value = getattr(self, name)
            if value not in SEVERITIES and not (name == "previous_severity" and value is None):
                raise AlertEventError(
                    f"'{name}': {value!r} must be one of {', '.join(SEVERITIES)}")
        if self.seq < 1:
            raise AlertEventError(f"'seq': {self.seq} must be 1 or more")
        if not math.isfinite(self.at):
            raise AlertEventError(f"'at': {self.at!r} must be a finite time")

    @property
    def event_id(self) -> str:
        """Stable across replay and redelivery: the dedupe key."""
        return f"{self.incident_id}:{self.seq}"

    @property
    def figures(self) -> Figures:
        """How big and how negative, with the window: what every channel writes."""
        return Figures(self.volume, self.expected_volume, self.negativity,
                       self.expected_negativity, self.score, self.window_seconds)

    def stamped(self, emitted_at: float) -> AlertEvent:
        """The same event with its wall-clock emission time set."""
        return replace(self, emitted_at=emitted_at)

    def in_story(self, story: Story | None) -> AlertEvent:
        """The same event, told as part of ``story``."""
        return replace(self, story=story)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "incident_id": self.incident_id,
            "seq": self.seq,
            "entity_id": self.entity_id,
            "entity_name": self.entity_name,
            "entity_kind": self.entity_kind,
            "owner": self.owner,
            "event": self.event,
            "severity": self.severity,
            "previous_severity": self.previous_severity,
            "at": format_time(self.at),
            "emitted_at": None if self.emitted_at is None else format_time(self.emitted_at),
            "opened_at": None if self.opened_at is None else format_time(self.opened_at),
            "volume": {"current": self.volume, "expected": self.expected_volume,
                       "window_seconds": self.window_seconds},
            "negativity": {"current": self.negativity, "expected": self.expected_negativity,
                           "window_seconds": self.window_seconds},
            "score": self.score,
            "reasons": list(self.reasons),
            "evidence": evidence_to_dict(self.evidence),
            "acknowledged_by": self.acknowledged_by,
            "story": None if self.story is None else self.story.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertEvent:
        """Decode and check a contract dict; :class:`AlertEventError` names what is wrong."""
        if not isinstance(data, dict):
            raise AlertEventError(f"an alert event is a JSON object, not {type(data).__name__}")
        try:
            event = cls(
                incident_id=str(data["incident_id"]),
                seq=int(data["seq"]),
                event=data["event"],
                entity_id=str(data["entity_id"]),
                entity_name=str(data["entity_name"]),
                entity_kind=str(data["entity_kind"]),
                severity=data["severity"],
                at=parse_time(data["at"], "at"),
                volume=int(data["volume"]["current"]),
                expected_volume=float(data["volume"]["expected"]),
                negativity=float(data["negativity"]["current"]),
                expected_negativity=float(data["negativity"]["expected"]),
                score=float(data["score"]),
                reasons=tuple(str(r) for r in data.get("reasons", ())),
                evidence=Evidence.from_dict(data.get("evidence") or {}),
                owner=data.get("owner"),
                previous_severity=data.get("previous_severity"),
                acknowledged_by=data.get("acknowledged_by"),
                window_seconds=_window(data["volume"].get("window_seconds")),
                opened_at=(None if data.get("opened_at") is None
                           else parse_time(data["opened_at"], "opened_at")),
                emitted_at=(None if data.get("emitted_at") is None
                            else parse_time(data["emitted_at"], "emitted_at")),
                story=None if data.get("story") is None else Story.from_dict(data["story"]),
            )
        except KeyError as exc:
            raise AlertEventError(f"alert event lacks required field {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            if isinstance(exc, AlertEventError):
                raise
            raise AlertEventError(f"alert event has a field of the wrong type: {exc}") from None
        if "event_id" in data and data["event_id"] != event.event_id:
            raise AlertEventError(f"'event_id': {data['event_id']!r} does not match"
                                  f" incident_id:seq {event.event_id!r}")
        return event

    @classmethod
    def from_json(cls, text: str | bytes) -> AlertEvent:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise AlertEventError(f"alert event is not valid JSON: {exc}") from None
        return cls.from_dict(data)


def _window(value: Any) -> float | None:
    if value is None:
        return None
    seconds = float(value)
    if not seconds > 0:
        raise AlertEventError(f"'volume.window_seconds': {value!r} must be seconds > 0")
    return seconds


def evidence_to_dict(evidence: Evidence) -> dict[str, Any]:
    """Evidence as contract JSON (pairs as lists, samples as {id, author, text})."""
    return {
        "top_terms": [list(p) for p in evidence.top_terms],
        "top_hashtags": [list(p) for p in evidence.top_hashtags],
        "samples": [_sample_dict(s) for s in evidence.samples],
        "top_authors": [list(p) for p in evidence.top_authors],
        "linked": [list(p) for p in evidence.linked],
        "coordinated_share": evidence.coordinated_share,
        "centre": None if evidence.centre is None else _sample_dict(evidence.centre),
        "high_reach": [_sample_dict(s) for s in evidence.high_reach],
    }


def _sample_dict(sample: Sample) -> dict[str, Any]:
    # The contract's sample is {id, author, text}; reach, negativity, time, link and
    # reshares ride along when known.
    out: dict[str, Any] = {"id": sample.id, "author": sample.author, "text": sample.text}
    for name in ("followers", "negativity", "ts", "url", "reshares"):
        value = getattr(sample, name)
        if value is not None:
            out[name] = value
    return out
