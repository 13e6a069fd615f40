"""From per-case reports to the figures, maps and distributions the harness prints.

Pure functions over :class:`~models.evaluation.StormResult` and friends, so
that what each figure means is tested on hand-written cases. Medians of
delay and lead count a missed storm as *never* (delay +inf, lead -inf): a
detector cannot improve its median delay by missing the hard storms.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.harness.run import CaseResult
from bench.scenarios.entities import KINDS
from bench.scenarios.plan import BASELINE_BINS, MULT_BINS, RISE_BINS
from bench.scenarios.texts import HOSTILE_STYLES
from models.evaluation import BackgroundResult, Report, StormResult

__all__ = ["Figure", "figures", "maps", "median_never", "percentiles"]

SLOW = 12 * 60.0  # minutes: a rise this long or longer is a slow burn
SHIFT_BINS = ((0.1, 0.25), (0.25, 0.4), (0.4, 0.6))


@dataclass(frozen=True, slots=True)
class Figure:
    """One headline figure beside its target from the issue."""

    key: str
    title: str
    value: float | None
    n: int  # how many storms, episodes or entity-weeks it rests on
    target: str  # as the issue states it, "" when it sets none
    met: bool | None
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "value": _round(self.value), "n": self.n,
                "target": self.target, "met": self.met, "unit": self.unit}


def median_never(values: Sequence[float | None], never: float = math.inf) -> float | None:
    """Median where ``None`` (missed) counts as ``never``; None when the median is a miss.

    >>> median_never([5.0, 10.0, None]), median_never([5.0, None, None]), median_never([])
    (10.0, None, None)
    """
    if not values:
        return None
    m = statistics.median_low(sorted((never if v is None else v) for v in values))
    return None if math.isinf(m) else m


def percentiles(values: Iterable[float], qs: Sequence[int] = (10, 25, 50, 75, 90)) -> dict:
    """Nearest-rank percentiles of ``values`` (empty: all None).

    >>> percentiles([1, 2, 3, 4], (50, 90))
    {'p50': 2, 'p90': 4}
    """
    xs = sorted(values)
    if not xs:
        return {f"p{q}": None for q in qs}
    return {f"p{q}": xs[max(0, math.ceil(q / 100 * len(xs)) - 1)] for q in qs}


def _attr(s: StormResult, name: str) -> Any:
    return s.label.attrs.get(name)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60.0


def _delay(s: StormResult) -> float | None:
    return _minutes(s.delay)


def _lead(s: StormResult) -> float | None:
    return _minutes(s.lead)


def _rise_gone(s: StormResult) -> float | None:
    """How much of its rise a storm had behind it when it was warned (0 at onset, 1 at
    its peak, above 1 after it): the delay in the storm's own time. A storm whose
    volume takes 8 hours to peak is barely there in its first 20 minutes."""
    delay, rise = _delay(s), _attr(s, "rise_minutes")
    return None if delay is None or not rise else delay / rise


def _recall(storms: Sequence[StormResult]) -> float | None:
    return sum(s.found for s in storms) / len(storms) if storms else None


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _at_least(value: float | None, target: float) -> bool | None:
    return None if value is None else value >= target - 1e-9


def _at_most(value: float | None, target: float) -> bool | None:
    return None if value is None else value <= target + 1e-9


def figures(results: Sequence[CaseResult], speed_baseline: float | None = None) -> list[Figure]:
    """The headline figures of one variant, each beside the issue's target."""
    by_family = {f: Report.combine(r.report for r in results if r.family == f)
                 for f in ("storm", "official", "cold", "bots", "background", "young", "drift")}
    grid = by_family["storm"].storms
    target_set = [s for s in grid if _attr(s, "multiplier") >= 1.5 and _attr(s, "shift") >= 0.25]
    slow = [s for s in grid if _attr(s, "rise_minutes") >= SLOW]
    sharp = [s for s in grid if _attr(s, "rise_minutes") < SLOW]
    officials = by_family["official"].storms
    cold = by_family["cold"].storms
    bots = by_family["bots"].benign
    bursts = [b for b in bots if b.label.label in ("bots", "copypaste")]
    bg: BackgroundResult = by_family["background"].background
    pages = bg.per_week(bg.warning_pages)
    incidents = bg.per_week(bg.incidents)
    young: BackgroundResult = by_family["young"].background
    young_pages = young.per_week(young.warning_pages)
    young_incidents = young.per_week(young.incidents)
    drift: BackgroundResult = by_family["drift"].background
    drift_pages = drift.per_week(drift.warning_pages)
    drift_incidents = drift.per_week(drift.incidents)
    cold_delays = [_delay(s) for s in cold]
    within = [d is not None and d <= 30 for d in cold_delays]
    sharp_delay = median_never([_delay(s) for s in sharp])
    sharp_lead = median_never([_lead(s) for s in sharp], never=-math.inf)
    mentions = sum(r.mentions for r in results)
    cpu = sum(r.replay_cpu for r in results)
    speed = mentions / cpu if cpu else None
    out = [
        Figure("recall_target_set", "storm recall, volume >= 1.5x and hostile shift >= 0.25",
               _recall(target_set), len(target_set), ">= 0.95",
               _at_least(_recall(target_set), 0.95)),
        Figure("recall_grid", "storm recall, whole grid (1.2-50x, shift 0.1-0.6)",
               _recall(grid), len(grid), "", None),
        Figure("slow_before_peak", "slow burns (rise >= 12 h) found before their peak",
               _share([bool(s.before_peak) for s in slow]), len(slow), "all (1.00)",
               _at_least(_share([bool(s.before_peak) for s in slow]), 1.0)),
        Figure("sharp_delay", "sharp storms (rise < 12 h): median delay, misses = never",
               sharp_delay, len(sharp), "<= 20 min", _at_most(sharp_delay, 20)
               if sharp_delay is not None else (False if sharp else None), "min"),
        Figure("sharp_lead", "sharp storms: median lead before the peak, misses = never",
               sharp_lead, len(sharp), ">= 90 min", _at_least(sharp_lead, 90)
               if sharp_lead is not None else (False if sharp else None), "min"),
        Figure("sharp_rise_gone", "sharp storms: median share of the rise gone at warning",
               median_never([_rise_gone(s) for s in sharp]), len(sharp), "", None),
        Figure("official_before_peak", "officials gone viral overnight: found before peak",
               _share([bool(s.before_peak) for s in officials]), len(officials), "all (1.00)",
               _at_least(_share([bool(s.before_peak) for s in officials]), 1.0)),
        Figure("false_pages", "background: warning pages per entity-week",
               pages, round(bg.entity_weeks), "<= 0.2", _at_most(pages, 0.2)),
        Figure("false_incidents", "background: incidents opened (watch+) per entity-week",
               incidents, round(bg.entity_weeks), "<= 1", _at_most(incidents, 1.0)),
        Figure("young_pages", "first day watched (storm-free): warning pages per entity-week",
               young_pages, round(young.entity_weeks * 7), "<= 0.2",
               _at_most(young_pages, 0.2)),
        Figure("young_incidents", "first day watched: incidents (watch+) per entity-week",
               young_incidents, round(young.entity_weeks * 7), "<= 1",
               _at_most(young_incidents, 1.0)),
        Figure("drift_pages", "level changes (storm-free): warning pages per entity-week",
               drift_pages, round(drift.entity_weeks), "<= 0.2", _at_most(drift_pages, 0.2)),
        Figure("drift_incidents", "level changes: incidents (watch+) per entity-week",
               drift_incidents, round(drift.entity_weeks), "<= 1",
               _at_most(drift_incidents, 1.0)),
        Figure("bots_warned", "bot/copy-paste bursts of 3-10 accounts reaching warning",
               float(sum(b.reached_warning for b in bursts)), len(bursts), "0 (never)",
               None if not bursts else not any(b.reached_warning for b in bursts), "count"),
        Figure("cold_within_30", "cold start: storm in the first hour warned within 30 min",
               _share(within), len(within), "all (1.00)", _at_least(_share(within), 1.0)),
        Figure("cold_median", "cold start: median time to warning, misses = never",
               median_never(cold_delays), len(cold), "<= 30 min",
               (_at_most(median_never(cold_delays), 30)
                if median_never(cold_delays) is not None else (False if cold else None)),
               "min"),
        Figure("replay_speed", "replay speed of the harness path, mentions per CPU-second",
               speed, mentions, "no slower than main" + (
                   f" ({speed_baseline:,.0f})" if speed_baseline else ""),
               None if speed_baseline is None or speed is None
               else speed >= 0.95 * speed_baseline, "/s"),
    ]
    return out


def _bin_of(value: float, bins: Sequence[tuple[float, float]]) -> int | None:
    for i, (lo, hi) in enumerate(bins):
        if lo <= value < hi or (i == len(bins) - 1 and value == hi):
            return i
    return None


def _cells(storms: Sequence[StormResult], row: Callable[[StormResult], Any],
           col: Callable[[StormResult], Any]) -> dict[tuple[Any, Any], list[StormResult]]:
    cells: dict[tuple[Any, Any], list[StormResult]] = {}
    for s in storms:
        r, c = row(s), col(s)
        if r is not None and c is not None:
            cells.setdefault((r, c), []).append(s)
    return cells


def _cell_stats(storms: Sequence[StormResult]) -> dict[str, Any]:
    delays = [_delay(s) for s in storms]
    return {"n": len(storms), "found": sum(s.found for s in storms),
            "recall": _round(_recall(storms)),
            "median_delay": _round(median_never(delays)),
            "median_lead": _round(median_never([_lead(s) for s in storms], never=-math.inf)),
            "before_peak": _round(_share([bool(s.before_peak) for s in storms])),
            "delay_found": percentiles([d for d in delays if d is not None])}


def maps(results: Sequence[CaseResult]) -> dict[str, Any]:
    """Recall and delay as maps (rise x multiplier, baseline x kind) and by other cuts."""
    grid = Report.combine(r.report for r in results if r.family == "storm").storms
    rise_of = lambda s: _bin_of(_attr(s, "rise_minutes"), RISE_BINS)  # noqa: E731
    mult_of = lambda s: _bin_of(_attr(s, "multiplier"), MULT_BINS)  # noqa: E731
    base_of = lambda s: _bin_of(_attr(s, "baseline_per_hour"), BASELINE_BINS)  # noqa: E731
    rise_labels = [_rise_label(lo, hi) for lo, hi in RISE_BINS]
    mult_labels = [f"{lo:g}-{hi:g}x" for lo, hi in MULT_BINS]
    base_labels = [f"{lo:g}-{hi:g}/h" for lo, hi in BASELINE_BINS]
    shift_labels = [f"{lo:g}-{hi:g}" for lo, hi in SHIFT_BINS]

    def table(cells: dict, rows: list[str], cols: list[str]) -> dict[str, Any]:
        return {"rows": rows, "cols": cols,
                "cells": {f"{rows[r]}|{cols[c]}": _cell_stats(v)
                          for (r, c), v in sorted(cells.items())}}

    def dominant(s: StormResult) -> str:
        mix = _attr(s, "mix") or {}
        return max(HOSTILE_STYLES, key=lambda k: mix.get(k, 0.0))

    def one_way(key: Callable[[StormResult], Any], labels: list[str]) -> dict[str, Any]:
        groups: dict[Any, list[StormResult]] = {}
        for s in grid:
            k = key(s)
            if k is not None:
                groups.setdefault(k, []).append(s)
        return {labels[k] if isinstance(k, int) else k: _cell_stats(v)
                for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]) if not isinstance(
                    kv[0], int) else f"{kv[0]:03d}")}

    background = [r for r in results if r.family == "background"]
    return {
        "rise_x_multiplier": table(_cells(grid, rise_of, mult_of), rise_labels, mult_labels),
        "baseline_x_kind": table(_cells(grid, base_of, lambda s: KINDS.index(
            _attr(s, "entity_kind"))), base_labels, list(KINDS)),
        "by_rise": one_way(rise_of, rise_labels),
        "by_shift": one_way(lambda s: _bin_of(_attr(s, "shift"), SHIFT_BINS), shift_labels),
        "by_dominant_style": one_way(dominant, list(HOSTILE_STYLES)),
        "by_family": {f: _cell_stats(Report.combine(r.report for r in results
                                                    if r.family == f).storms)
                      for f in ("storm", "official", "cold")},
        "background_by_kind": _background_by_kind(background),
        "young_by_kind": _background_by_kind([r for r in results if r.family == "young"]),
        "drift_by_kind": _background_by_kind([r for r in results if r.family == "drift"]),
        "benign_max_severity": _benign_severities(results),
    }


def _rise_label(lo: float, hi: float) -> str:
    def t(m: float) -> str:
        return f"{m / 60:g}h" if m >= 60 else f"{m:g}m"
    return f"{t(lo)}-{t(hi)}"


def _background_by_kind(results: Sequence[CaseResult]) -> dict[str, Any]:
    """False alarms per entity-week for each kind of entity, from per-entity reports."""
    out: dict[str, dict[str, float]] = {}
    for r in results:
        for kind, bg in r.background_by_kind.items():
            acc = out.setdefault(kind, {"entity_weeks": 0.0, "warning_pages": 0,
                                        "incidents": 0})
            acc["entity_weeks"] += bg.entity_weeks
            acc["warning_pages"] += bg.warning_pages
            acc["incidents"] += bg.incidents
    for acc in out.values():
        weeks = acc["entity_weeks"]
        acc["warning_pages_per_entity_week"] = _round(acc["warning_pages"] / weeks if weeks
                                                      else None)
        acc["incidents_per_entity_week"] = _round(acc["incidents"] / weeks if weeks else None)
        acc["entity_weeks"] = _round(weeks)
    return out


def _benign_severities(results: Sequence[CaseResult]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in results:
        for b in r.report.benign:
            counts = out.setdefault(b.label.label or "benign", {})
            key = b.max_severity or "none"
            counts[key] = counts.get(key, 0) + 1
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
