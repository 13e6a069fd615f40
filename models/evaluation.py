"""Score what the duty officer received (alert events) against labelled history.

Works on plain :class:`Alarm` records (one per alert event: entity, event
time, event name, severity) and :class:`~models.labels.Label` spans, so that
``firestorm evaluate`` and the bench harness score the same way.

- An **alerting event** is ``opened``, ``escalated``, ``updated`` or
  ``deescalated``: the incident is live at its severity. (``resolved`` and
  ``acknowledged`` tell nobody of a storm.)
- A **storm** is *found* when its entity has an alerting event at warning or
  critical in ``[onset - before, end]``; its **delay** is that event's time
  minus the onset, its **lead** the peak minus that time (negative: after the
  peak). The first alerting event of any severity is the *first notice*.
- A **warning page** is an event that takes an incident to warning or above:
  ``opened`` at warning/critical, or ``escalated`` from watch. An incident that
  drops to watch and climbs back pages again, as the officer is paged again.
- **False alarms** are warning pages, and incidents opened, inside
  ``background`` spans but outside every storm window (``[onset - before, end
  + grace]``) and ``ignore`` span of their entity. They are counted per
  entity-week of that exposure. Pages inside ``benign`` spans are false too,
  and are also attributed to the benign label.
- A **benign** episode *reached warning* when an alerting event at warning or
  above falls in ``[onset, end + grace]``.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from models.labels import Label, format_time
from models.verdict import severity_rank

__all__ = ["ALERTING", "Alarm", "BackgroundResult", "BenignResult", "Report", "StormResult",
           "evaluate"]

ALERTING = frozenset(("opened", "escalated", "updated", "deescalated"))
_WARNING = 2  # severity_rank("warning")
_WEEK = 7 * 86400.0


class Alarm(NamedTuple):
    """The part of one alert event that scoring reads."""

    entity_id: str
    at: float
    event: str
    severity: str
    previous_severity: str | None = None
    incident_id: str = ""

    @property
    def alerting(self) -> bool:
        return self.event in ALERTING

    @property
    def pages_warning(self) -> bool:
        """Takes an incident to warning or above: what wakes the officer."""
        if severity_rank(self.severity) < _WARNING:
            return False
        return self.event == "opened" or (
            self.event == "escalated" and severity_rank(self.previous_severity) < _WARNING)


class StormResult(NamedTuple):
    """One labelled storm: when the officer heard of it, if at all."""

    label: Label
    first_warning: float | None  # at of the first alerting event at warning or above
    first_notice: float | None  # at of the first alerting event of any severity
    max_severity: str | None

    @property
    def found(self) -> bool:
        return self.first_warning is not None

    @property
    def delay(self) -> float | None:
        """Seconds from onset to the first warning."""
        return None if self.first_warning is None else self.first_warning - self.label.onset

    @property
    def lead(self) -> float | None:
        """Seconds from the first warning to the peak (negative: after the peak)."""
        if self.first_warning is None or self.label.peak is None:
            return None
        return self.label.peak - self.first_warning

    @property
    def before_peak(self) -> bool | None:
        """Found at or before its peak (None when the label has no peak)."""
        if self.label.peak is None:
            return None
        return self.first_warning is not None and self.first_warning <= self.label.peak

    def to_dict(self) -> dict[str, Any]:
        return {**self.label.to_dict(), "found": self.found,
                "first_warning": _time(self.first_warning),
                "first_notice": _time(self.first_notice),
                "delay_minutes": _minutes(self.delay), "lead_minutes": _minutes(self.lead),
                "before_peak": self.before_peak, "max_severity": self.max_severity}


class BenignResult(NamedTuple):
    """One benign look-alike: how far up the ladder it went."""

    label: Label
    max_severity: str | None
    first_warning: float | None

    @property
    def reached_warning(self) -> bool:
        return self.first_warning is not None

    def to_dict(self) -> dict[str, Any]:
        return {**self.label.to_dict(), "max_severity": self.max_severity,
                "reached_warning": self.reached_warning,
                "first_warning": _time(self.first_warning)}


@dataclass(frozen=True, slots=True)
class BackgroundResult:
    """False alarms over the labelled background time."""

    entity_weeks: float = 0.0
    warning_pages: int = 0
    incidents: int = 0  # opened, any severity
    watch_only: int = 0  # incidents that never reached warning
    pages_by_label: tuple[tuple[str, int], ...] = ()  # pages inside benign spans, by label

    def per_week(self, count: int) -> float | None:
        return count / self.entity_weeks if self.entity_weeks else None

    def __add__(self, other: BackgroundResult) -> BackgroundResult:
        merged: dict[str, int] = dict(self.pages_by_label)
        for key, n in other.pages_by_label:
            merged[key] = merged.get(key, 0) + n
        return BackgroundResult(self.entity_weeks + other.entity_weeks,
                                self.warning_pages + other.warning_pages,
                                self.incidents + other.incidents,
                                self.watch_only + other.watch_only,
                                tuple(sorted(merged.items())))

    def to_dict(self) -> dict[str, Any]:
        return {"entity_weeks": round(self.entity_weeks, 4), "warning_pages": self.warning_pages,
                "incidents": self.incidents, "watch_only_incidents": self.watch_only,
                "warning_pages_per_entity_week": _round(self.per_week(self.warning_pages)),
                "incidents_per_entity_week": _round(self.per_week(self.incidents)),
                "pages_by_benign_label": dict(self.pages_by_label)}


@dataclass(frozen=True, slots=True)
class Report:
    """Every labelled storm and benign episode, and the background's false alarms.

    >>> from models.labels import Label
    >>> day = 86400.0
    >>> labels = [Label("acme", "background", 1.772e9, 1.772e9 + 7 * day),
    ...           Label("acme", "storm", 1.772e9 + day, 1.772e9 + day + 9000,
    ...                 peak=1.772e9 + day + 3000)]
    >>> alarms = [Alarm("acme", 1.772e9 + day + 600, "opened", "warning"),
    ...           Alarm("acme", 1.772e9 + 3 * day, "opened", "watch"),
    ...           Alarm("acme", 1.772e9 + 3 * day + 60, "escalated", "warning", "watch")]
    >>> r = evaluate(labels, alarms)
    >>> r.recall, r.storms[0].delay, r.storms[0].lead, r.background.warning_pages
    (1.0, 600.0, 2400.0, 1)
    >>> r.background.incidents, round(r.background.entity_weeks, 2)
    (1, 0.98)
    """

    storms: tuple[StormResult, ...] = ()
    benign: tuple[BenignResult, ...] = ()
    background: BackgroundResult = BackgroundResult()

    @property
    def recall(self) -> float | None:
        return sum(s.found for s in self.storms) / len(self.storms) if self.storms else None

    @staticmethod
    def combine(reports: Iterable[Report]) -> Report:
        """One report over many independently scored streams."""
        storms: list[StormResult] = []
        benign: list[BenignResult] = []
        background = BackgroundResult()
        for r in reports:
            storms += r.storms
            benign += r.benign
            background = background + r.background
        return Report(tuple(storms), tuple(benign), background)

    def summary(self) -> dict[str, Any]:
        """The headline figures (times in minutes)."""
        delays = [s.delay for s in self.storms if s.delay is not None]
        leads = [s.lead for s in self.storms if s.lead is not None]
        peaks = [s.before_peak for s in self.storms if s.before_peak is not None]
        bg = self.background
        return {
            "storms": len(self.storms),
            "found": sum(s.found for s in self.storms),
            "recall": _round(self.recall),
            "median_delay_minutes": _minutes(statistics.median(delays) if delays else None),
            "median_lead_minutes": _minutes(statistics.median(leads) if leads else None),
            "found_before_peak": _round(sum(peaks) / len(peaks) if peaks else None),
            "benign": len(self.benign),
            "benign_reached_warning": sum(b.reached_warning for b in self.benign),
            **bg.to_dict(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "storms": [s.to_dict() for s in self.storms],
                "benign": [b.to_dict() for b in self.benign]}


def evaluate(labels: Iterable[Label], alarms: Iterable[Alarm], before: float = 0.0,
             grace: float = 3600.0) -> Report:
    """Score ``alarms`` against ``labels`` (see the module docstring).

    ``before``: seconds before a storm's labelled onset in which a warning
    still counts as finding it (labels written by people are rarely exact).
    ``grace``: seconds after a storm's end in which its tail's alarms are not false.
    """
    labels = list(labels)
    by_entity: dict[str, list[Alarm]] = {}
    for a in alarms:
        if a.alerting:
            by_entity.setdefault(a.entity_id, []).append(a)
    for events in by_entity.values():
        events.sort(key=lambda a: a.at)  # stable: equal times keep their emitted order
    storms = tuple(_storm(lab, by_entity.get(lab.entity_id, []), before)
                   for lab in labels if lab.kind == "storm")
    benign = tuple(_benign(lab, by_entity.get(lab.entity_id, []), grace)
                   for lab in labels if lab.kind == "benign")
    background = BackgroundResult()
    for entity in dict.fromkeys(lab.entity_id for lab in labels if lab.kind == "background"):
        mine = [lab for lab in labels if lab.entity_id == entity]
        background = background + _background(mine, by_entity.get(entity, []), before, grace)
    return Report(storms, benign, background)


def _storm(label: Label, alarms: Sequence[Alarm], before: float) -> StormResult:
    inside = [a for a in alarms if label.onset - before <= a.at <= label.end]
    warnings = [a.at for a in inside if severity_rank(a.severity) >= _WARNING]
    top = max((a.severity for a in inside), key=severity_rank, default=None)
    return StormResult(label, warnings[0] if warnings else None,
                       inside[0].at if inside else None, top)


def _benign(label: Label, alarms: Sequence[Alarm], grace: float) -> BenignResult:
    inside = [a for a in alarms if label.onset <= a.at <= label.end + grace]
    warnings = [a.at for a in inside if severity_rank(a.severity) >= _WARNING]
    top = max((a.severity for a in inside), key=severity_rank, default=None)
    return BenignResult(label, top, warnings[0] if warnings else None)


def _background(labels: list[Label], alarms: Sequence[Alarm], before: float,
                grace: float) -> BackgroundResult:
    spans = _union([(lab.onset, lab.end) for lab in labels if lab.kind == "background"])
    excluded = _union([(lab.onset - before, lab.end + grace) for lab in labels
                       if lab.kind == "storm"]
                      + [(lab.onset, lab.end + grace) for lab in labels if lab.kind == "ignore"])
    exposure = _subtract(spans, excluded)
    benign = [lab for lab in labels if lab.kind == "benign"]

    def exposed(t: float) -> bool:
        return any(a <= t <= b for a, b in exposure)

    pages, incidents, watch_only = 0, 0, 0
    by_label: dict[str, int] = {}
    top: dict[str, int] = {}  # incident -> highest rank seen
    opened_in_exposure: list[str] = []
    for a in alarms:
        top[a.incident_id] = max(top.get(a.incident_id, 0), severity_rank(a.severity))
        if not exposed(a.at):
            continue
        if a.event == "opened":
            incidents += 1
            opened_in_exposure.append(a.incident_id)
        if a.pages_warning:
            pages += 1
            for lab in benign:
                if lab.onset <= a.at <= lab.end + grace:
                    key = lab.label or "benign"
                    by_label[key] = by_label.get(key, 0) + 1
                    break
    watch_only = sum(top[i] < _WARNING for i in opened_in_exposure)
    weeks = sum(b - a for a, b in exposure) / _WEEK
    return BackgroundResult(weeks, pages, incidents, watch_only, tuple(sorted(by_label.items())))


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _subtract(spans: list[tuple[float, float]],
              holes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    for a, b in spans:
        pieces = [(a, b)]
        for h0, h1 in holes:
            pieces = [p for x, y in pieces
                      for p in ((x, min(y, h0)), (max(x, h1), y)) if p[1] > p[0]]
        out += pieces
    return out


def _time(ts: float | None) -> str | None:
    return None if ts is None else format_time(ts)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 2)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
