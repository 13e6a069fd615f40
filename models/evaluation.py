"""Detection quality against labelled storms: recall, false alarms, delay and lead.

Works on plain ``(entity_id, at, severity)`` triples, so the same code scores
the detector's verdicts and the lifecycle's alert events.

- A storm is **found** when its entity has a warning or critical at a time in
  ``[onset, end]``; **delay** is that first time minus the onset, **lead** the
  peak minus that time (negative when found after the peak).
- A **false warning** is an episode of warning/critical outside every storm
  window of its entity (and after the warm-up): times closer than ``merge_gap``
  seconds count as one episode, as consecutive buckets of one alarm should.
  They are reported per entity-week of evaluated (post warm-up) time.
- A storm's window runs on ``grace`` seconds after its labelled end (default an
  hour: the longest detection window still holds the storm's tail), and alarms
  inside ``exempt`` benign episodes (``spillover``: a linked entity dragged into
  a partner's storm by co-mentions) are neither found storms nor false.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from models.verdict import severity_rank

__all__ = ["Report", "StormResult", "evaluate"]

_WARNING = 2  # severity_rank("warning")


@dataclass(frozen=True, slots=True)
class StormResult:
    """One labelled storm: found or not, and when."""

    entity_id: str
    kind: str
    found: bool
    delay: float | None  # seconds after onset
    lead: float | None  # seconds before the peak
    max_severity: str | None


@dataclass(frozen=True, slots=True)
class Report:
    """The figures ``make evaluate`` prints.

    >>> from models.synthetic import Episode
    >>> storm = Episode("acme", "sharp", onset=1000.0, peak=4000.0, end=9000.0)
    >>> r = evaluate([storm], [], [("acme", 1600.0, "warning"), ("acme", 1660.0, "critical"),
    ...                            ("acme", 20000.0, "warning"), ("acme", 20060.0, "warning")],
    ...              entity_ids=["acme"], start=0.0, end=604800.0)
    >>> r.recall, r.false_warnings, r.false_per_entity_week, r.storms[0].delay, r.storms[0].lead
    (1.0, 1, 1.0, 600.0, 2400.0)
    """

    storms: tuple[StormResult, ...]
    false_warnings: int
    entity_weeks: float
    false_by_benign: tuple[tuple[str, int], ...]  # false episodes overlapping each benign kind

    @property
    def recall(self) -> float:
        return sum(s.found for s in self.storms) / len(self.storms) if self.storms else 1.0

    @property
    def false_per_entity_week(self) -> float:
        return self.false_warnings / self.entity_weeks if self.entity_weeks else 0.0

    def delays(self, kinds: Iterable[str] | None = None) -> list[float]:
        wanted = None if kinds is None else set(kinds)
        return [s.delay for s in self.storms
                if s.delay is not None and (wanted is None or s.kind in wanted)]

    def median_delay(self, kinds: Iterable[str] | None = None) -> float | None:
        d = self.delays(kinds)
        return statistics.median(d) if d else None

    def median_lead(self) -> float | None:
        leads = [s.lead for s in self.storms if s.lead is not None]
        return statistics.median(leads) if leads else None


def evaluate(storms: Iterable, benign: Iterable, events: Iterable[tuple[str, float, str | None]],
             entity_ids: Iterable[str], start: float, end: float, merge_gap: float = 1800.0,
             grace: float = 3600.0, exempt: tuple[str, ...] = ("spillover",)) -> Report:
    """Score ``events`` (entity, event time, severity) against labelled episodes.

    ``start``/``end`` bound the evaluated time (pass the end of warm-up as
    ``start``); episodes are :class:`models.synthetic.Episode`-like objects
    with ``entity_id``, ``kind``, ``onset``, ``peak`` and ``end``.
    """
    storms, benign = list(storms), list(benign)
    alarms: dict[str, list[tuple[float, str]]] = {}
    for entity, at, severity in events:
        if severity_rank(severity) >= _WARNING and start <= at <= end:
            alarms.setdefault(entity, []).append((at, severity))
    for times in alarms.values():
        times.sort()
    results = []
    for s in storms:
        inside = [(t, sev) for t, sev in alarms.get(s.entity_id, []) if s.onset <= t <= s.end]
        first = inside[0][0] if inside else None
        top = max((sev for _, sev in inside), key=severity_rank, default=None)
        results.append(StormResult(s.entity_id, s.kind, bool(inside),
                                   None if first is None else first - s.onset,
                                   None if first is None else s.peak - first, top))
    false = 0
    by_kind: dict[str, int] = {}
    for entity, times in alarms.items():
        windows = [(s.onset, s.end + grace) for s in storms if s.entity_id == entity]
        windows += [(b.onset, b.end + grace) for b in benign
                    if b.entity_id == entity and b.kind in exempt]
        last = None
        for t, _ in times:
            if any(a <= t <= b for a, b in windows):
                last = None
                continue
            if last is None or t - last > merge_gap:
                false += 1
                kinds = [b.kind for b in benign if b.entity_id == entity
                         and b.onset - merge_gap <= t <= b.end + merge_gap
                         and b.kind not in exempt]
                key = kinds[0] if kinds else "none"
                by_kind[key] = by_kind.get(key, 0) + 1
            last = t
    n_entities = len(set(entity_ids))
    weeks = max(end - start, 0.0) / (7 * 86400.0)
    return Report(tuple(results), false, n_entities * weeks, tuple(sorted(by_kind.items())))
