"""The officer's verdict on an alert, and the measured precision it adds up to. Pure.

After an incident the officer marks it ``useful``, ``false_alarm`` or
``too_late`` (real, but we heard too late to act). One verdict per incident
counts: the latest. Precision over a window is the share of rated incidents
that were real::

    precision = (useful + too_late) / (useful + false_alarm + too_late)

reported per entity and per severity (the highest the incident reached) over
the last 30 and 90 days, with the ``too_late`` share beside it, because an
alert that is right but late is a different failure from a false alarm.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from alerting.errors import AlertEventError
from alerting.event import format_time, parse_time
from models.verdict import SEVERITIES, severity_rank

__all__ = ["VERDICTS", "Feedback", "PrecisionReport", "PrecisionRow", "precision",
           "verdict_label"]

VERDICTS = ("useful", "false_alarm", "too_late")
_LABELS = {"useful": "useful", "false_alarm": "false alarm", "too_late": "too late"}


def verdict_label(verdict: str) -> str:
    """How a verdict reads to a person.

    >>> verdict_label("false_alarm")
    'false alarm'
    """
    return _LABELS.get(verdict, verdict)


@dataclass(frozen=True, slots=True)
class Feedback:
    """One person's verdict on one incident.

    >>> f = Feedback("acme-20240501T123400Z", "acme", "Acme", "critical", "useful", "sam",
    ...              1714570000.0, "page")
    >>> Feedback.from_json(f.to_json()) == f
    True
    """

    incident_id: str
    entity_id: str
    entity_name: str
    severity: str  # the highest severity the incident reached
    verdict: str
    by: str
    at: float
    via: str = "page"
    origin: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise AlertEventError(f"feedback {self.verdict!r}: must be one of"
                                  f" {', '.join(VERDICTS)}")
        if self.severity not in SEVERITIES:
            raise AlertEventError(f"feedback severity {self.severity!r}: must be one of"
                                  f" {', '.join(SEVERITIES)}")

    def to_dict(self) -> dict[str, Any]:
        return {"incident_id": self.incident_id, "entity_id": self.entity_id,
                "entity_name": self.entity_name, "severity": self.severity,
                "verdict": self.verdict, "by": self.by, "at": format_time(self.at),
                "via": self.via, "origin": self.origin}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Feedback:
        d = json.loads(text)
        return cls(str(d["incident_id"]), str(d["entity_id"]), str(d["entity_name"]),
                   str(d["severity"]), str(d["verdict"]), str(d["by"]),
                   parse_time(d["at"], "at"), str(d.get("via") or "page"),
                   str(d.get("origin") or ""))


@dataclass(frozen=True, slots=True)
class PrecisionRow:
    """Counts of rated incidents for one entity or severity (or all of them).

    >>> row = PrecisionRow("acme", "Acme").add("useful").add("too_late").add("false_alarm")
    >>> row.rated, round(row.precision, 2), round(row.too_late_share, 2)
    (3, 0.67, 0.33)
    """

    key: str
    label: str
    useful: int = 0
    false_alarm: int = 0
    too_late: int = 0

    @property
    def rated(self) -> int:
        return self.useful + self.false_alarm + self.too_late

    @property
    def precision(self) -> float | None:
        """Share of rated incidents that were real; None when nothing is rated."""
        return (self.useful + self.too_late) / self.rated if self.rated else None

    @property
    def too_late_share(self) -> float | None:
        return self.too_late / self.rated if self.rated else None

    def add(self, verdict: str) -> PrecisionRow:
        counts = {"useful": self.useful, "false_alarm": self.false_alarm,
                  "too_late": self.too_late}
        counts[verdict] += 1
        return PrecisionRow(self.key, self.label, **counts)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "useful": self.useful,
                "false_alarm": self.false_alarm, "too_late": self.too_late,
                "rated": self.rated, "precision": self.precision,
                "too_late_share": self.too_late_share}


@dataclass(frozen=True, slots=True)
class PrecisionReport:
    """Precision over the last ``days`` days: overall, per entity, per severity.

    >>> report = precision([], now=0.0, days=30)
    >>> report.days, report.total.precision, report.by_entity
    (30, None, ())
    """

    days: int
    total: PrecisionRow
    by_entity: tuple[PrecisionRow, ...]
    by_severity: tuple[PrecisionRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"days": self.days, "total": self.total.to_dict(),
                "by_entity": [r.to_dict() for r in self.by_entity],
                "by_severity": [r.to_dict() for r in self.by_severity]}


def precision(feedback: Iterable[Feedback], now: float, days: int) -> PrecisionReport:
    """Precision over incidents rated in the last ``days`` days (the latest verdict counts).

    >>> def fb(incident, entity, severity, verdict, at):
    ...     return Feedback(incident, entity, entity.title(), severity, verdict, "sam", at)
    >>> day = 86400.0
    >>> report = precision([fb("a-1", "acme", "critical", "useful", 10 * day),
    ...                     fb("a-2", "acme", "warning", "false_alarm", 11 * day),
    ...                     fb("a-2", "acme", "warning", "useful", 12 * day),   # changed mind
    ...                     fb("w-1", "wp", "warning", "too_late", 20 * day),
    ...                     fb("w-2", "wp", "watch", "false_alarm", 25 * day),
    ...                     fb("o-1", "old", "watch", "useful", 1 * day)],      # out of window
    ...                    now=30 * day, days=28)
    >>> report.total.rated, report.total.precision
    (4, 0.75)
    >>> [(r.key, r.rated, r.precision) for r in report.by_entity]
    [('acme', 2, 1.0), ('wp', 2, 0.5)]
    >>> [(r.key, r.rated) for r in report.by_severity]
    [('critical', 1), ('warning', 2), ('watch', 1)]
    """
    since = now - days * 86400.0
    latest: dict[str, Feedback] = {}
    for f in feedback:
        if f.at > now:
            continue
        known = latest.get(f.incident_id)
        if known is None or (f.at, f.by) >= (known.at, known.by):
            latest[f.incident_id] = f
    rated = [f for f in latest.values() if f.at >= since]
    total = PrecisionRow("all", "all alerts")
    entities: dict[str, PrecisionRow] = {}
    severities = {s: PrecisionRow(s, s) for s in reversed(SEVERITIES)}
    for f in rated:
        total = total.add(f.verdict)
        row = entities.get(f.entity_id) or PrecisionRow(f.entity_id, f.entity_name)
        entities[f.entity_id] = row.add(f.verdict)
        severities[f.severity] = severities[f.severity].add(f.verdict)
    return PrecisionReport(
        days, total, tuple(sorted(entities.values(), key=lambda r: (r.label.lower(), r.key))),
        tuple(r for r in sorted(severities.values(), key=lambda r: -severity_rank(r.key))
              if r.rated))
