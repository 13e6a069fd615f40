"""What to generate: the cases of one evaluation run, each an independent stream.

A case is a small watchlist (one or a few entities) and its history, with
everything random about it drawn here from the run's seed: sizes, times,
shapes, mixtures. :func:`bench.scenarios.streams.generate` then writes its
posts from the case's own seed, so cases can be generated (and replayed) in
any order, in parallel.

Families of cases:

- ``storm``: a warmed-up entity (2 to 6 days of history), then a storm whose
  rise time and volume multiplier are stratified over the grid of
  :data:`RISE_BINS` x :data:`MULT_BINS`; hostile-share shift 0.1 to 0.6;
- ``official``: a named official with a near-zero baseline whose own post goes
  viral overnight (the multiplier is then in the hundreds);
- ``cold``: a storm in the first hour an entity is watched (no history);
- ``bots``: a burst of 3 to 10 accounts posting hundreds of near-identical
  hostile posts within half an hour (benign: must never warn);
- ``background``: 3 entities (a policy, its partner, a department or
  official) and nothing but heavy-tailed background: the false-alarm test.
- ``drift``: the same three entities whose usual volume steps or ramps to a
  new level (0.25x to 4x, at once or over hours to days) once or twice in two
  weeks, at their usual tone: an organisation in the news for weeks, or
  forgotten. Real mention volumes do this; a detector that takes every new
  level for a storm pages for days. Storm-free, scored like ``background``.
- ``young``: the first day of every other case but the cold ones, storm-free,
  from a start at any hour: the false alarms of an entity newly watched (the
  other families' false-alarm time starts on their second day, so a change to
  how a young entity is judged would otherwise be scored on its storms alone).
  Derived from the other cases (their entities and seeds), so adding it draws
  nothing from the plan's generator and leaves every other case as it was.

Every labelled storm is material: over its course it brings at least
:data:`MIN_EXCESS_HOSTILE` more hostile mentions than the entity's usual, and
at least :data:`MIN_Z` Poisson standard deviations of the usual hostile count
over the same hours. Otherwise no press officer would call it a storm (a
1.5x storm on an entity with 0.05 mentions an hour is a tenth of a post) and
no detector could tell it from noise without crying wolf. So small
multipliers and shifts land on busy entities; the baseline map shows where
each cell's storms came from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from bench.scenarios.entities import KIND_RATES, KINDS, EntitySpec, make_entity
from bench.scenarios.traffic import DAY, HOUR, MIN, decay, rise
from bench.scenarios.variants import VARIANTS, Variant

__all__ = ["FULL", "MULT_BINS", "QUICK", "RISE_BINS", "BurstSpec", "CaseSpec", "DriftSpec",
           "Size", "StormSpec", "curve_hours", "excess_hostile", "plan"]

RISE_BINS = ((10, 30), (30, 120), (120, 360), (360, 720), (720, 1440), (1440, 2160))  # minutes
MULT_BINS = ((1.2, 1.5), (1.5, 2.0), (2.0, 4.0), (4.0, 10.0), (10.0, 50.0))
BASELINE_BINS = ((0.05, 0.5), (0.5, 5.0), (5.0, 50.0), (50.0, 500.0))  # mentions an hour
MIN_EXCESS_HOSTILE = 20.0
MIN_Z = 4.0  # and that excess is at least this many Poisson sds of the usual hostile count
EPOCH_MONDAY = 1772409600.0  # 2026-03-02 00:00 UTC, a Monday, in the past (intake rejects
# timestamps more than a day ahead of the clock)


@dataclass(frozen=True, slots=True)
class StormSpec:
    """One storm: the labelled parameters and the hidden ones (shape, mixture)."""

    entity_id: str
    onset: float
    rise: float  # seconds from onset to peak
    tau: float  # decay: seconds from peak to a third of the way to the end
    multiplier: float  # peak volume / usual mean volume
    shift: float  # hostile share at the peak minus the usual share
    shape: str
    shape_value: float  # a shape's free parameter, in [0, 1]
    mix: tuple[float, float, float, float, float]  # explicit, sarcasm, demand, question, reshare
    bot_share: float  # of the storm's own posts, from 3-10 bot accounts
    co_share: float  # of its posts that also name the linked entity
    own_post: bool  # the centre is the official's own post

    @property
    def peak(self) -> float:
        return self.onset + self.rise

    @property
    def end(self) -> float:
        return self.peak + 3 * self.tau


@dataclass(frozen=True, slots=True)
class BurstSpec:
    """A benign coordinated burst: few accounts, many near-identical hostile posts."""

    entity_id: str
    kind: str  # "bots" (rotating slogans) or "copypaste" (one text, tiny variations)
    onset: float
    duration: float
    posts: int
    accounts: int


@dataclass(frozen=True, slots=True)
class DriftSpec:
    """A lasting change of an entity's usual volume, at its usual tone (not a storm)."""

    entity_id: str
    onset: float
    ramp: float  # seconds from the old level to the new (0: a step)
    factor: float  # new level / old level

    @property
    def settled(self) -> float:
        """When the new level is reached."""
        return self.onset + self.ramp


@dataclass(frozen=True, slots=True)
class CaseSpec:
    """One independent stream to generate, replay and score."""

    variant: str
    family: str  # storm, official, cold, bots, background, young
    index: int
    seed: int
    start: float
    end: float
    scored_from: float  # background (false-alarm) time starts here
    entities: tuple[EntitySpec, ...]
    storms: tuple[StormSpec, ...] = ()
    bursts: tuple[BurstSpec, ...] = ()
    drifts: tuple[DriftSpec, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.variant}-{self.family}-{self.index:03d}"

    @property
    def cost(self) -> float:
        """Expected mentions, to schedule the biggest cases first."""
        hours = (self.end - self.start) / HOUR
        total = sum(e.rate * hours * max((d.factor for d in self.drifts
                                          if d.entity_id == e.id), default=1.0)
                    for e in self.entities)
        for s in self.storms:
            rate = next(e.rate for e in self.entities if e.id == s.entity_id)
            total += (s.multiplier - 1) * rate * curve_hours(s)
        return total + sum(b.posts for b in self.bursts) + hours * 60 * len(self.entities) / 20


@dataclass(frozen=True, slots=True)
class Size:
    """How many cases of each family, and how long."""

    storms_per_cell: int
    officials: int
    cold: int
    bots: int
    background_families: int
    background_days: float
    history_days: tuple[float, float]
    mention_cap: float  # expected mentions of one storm case at most
    cells: int | None = None  # storm cells sampled (None: every cell)
    drift_families: int = 0  # drift cases (three entities each, background_days long)


FULL = {"tuned": Size(5, 16, 20, 24, 12, 14.0, (2.0, 6.0), 40_000.0, drift_families=8),
        "holdout": Size(3, 10, 12, 16, 8, 14.0, (2.0, 6.0), 40_000.0, drift_families=6)}
QUICK = {"tuned": Size(1, 2, 3, 3, 1, 5.0, (1.5, 2.5), 15_000.0, cells=8, drift_families=1),
         "holdout": Size(1, 1, 2, 2, 1, 5.0, (1.5, 2.5), 15_000.0, cells=5, drift_families=1)}
DRIFT_FACTORS = (1.5, 4.0)  # a level change of at least 1.5x and at most 4x, up or down
DRIFT_RAMP_HOURS = (2.0, 96.0)  # when not a step
DRIFT_MAX_RATE = 600.0  # mentions an hour at the highest level (the case's size)


def plan(variant: str, size: Size, seed: int = 1) -> list[CaseSpec]:
    """Every case of one variant, deterministic in ``(variant, size, seed)``."""
    v = VARIANTS[variant]
    rng = np.random.default_rng([v.salt, seed, 1])
    cases: list[CaseSpec] = []

    def add(family: str, build: Callable[..., CaseSpec]) -> None:
        index = sum(c.family == family for c in cases)
        case_seed = int(rng.integers(2**31))
        cases.append(build(np.random.default_rng([v.salt, seed, case_seed]), index, case_seed))

    cells = [(r, m) for r in RISE_BINS for m in MULT_BINS]
    if size.cells is not None:
        picks = rng.choice(len(cells), size=size.cells, replace=False)
        cells = [cells[i] for i in sorted(picks)]
    for rise_bin, mult_bin in cells:
        for _ in range(size.storms_per_cell):
            add("storm", lambda r, i, s, rb=rise_bin, mb=mult_bin: _storm_case(
                r, v, size, i, s, rb, mb))
    for _ in range(size.officials):
        add("official", lambda r, i, s: _official_case(r, v, size, i, s))
    for _ in range(size.cold):
        add("cold", lambda r, i, s: _cold_case(r, v, i, s))
    for _ in range(size.bots):
        add("bots", lambda r, i, s: _bots_case(r, v, size, i, s))
    for _ in range(size.background_families):
        add("background", lambda r, i, s: _background_case(r, v, size, i, s))
    parents = [c for c in cases if c.scored_from > c.start]  # all but the cold starts
    # Drawn after the parents' young cases are fixed, so adding the family left every
    # other case as it was.
    for _ in range(size.drift_families):
        add("drift", lambda r, i, s: _drift_case(r, v, size, i, s))
    return cases + [_young_case(c, i) for i, c in enumerate(parents)]


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _start(rng: np.random.Generator) -> float:
    return EPOCH_MONDAY + int(rng.integers(0, 35)) * DAY


def _time_of_day(rng: np.random.Generator, kind: str) -> float:
    if kind == "person":  # officials go viral in the evening and overnight
        return (rng.uniform(19, 26) % 24) * HOUR
    return (rng.uniform(7, 20) if rng.random() < 0.7 else rng.uniform(0, 24)) * HOUR


def _mix(rng: np.random.Generator) -> tuple[float, float, float, float, float]:
    w = rng.dirichlet([1.0, 1.0, 1.0, 0.5, 1.0])
    return tuple(round(float(x), 4) for x in w)  # type: ignore[return-value]


def _storm(rng: np.random.Generator, v: Variant, entity_id: str, onset: float,
           rise_s: float, multiplier: float, shift: float, own_post: bool,
           tau: float | None = None) -> StormSpec:
    if tau is None:
        tau = (rng.uniform(0.5, 3.0) * HOUR if rise_s < 2 * HOUR
               else rng.uniform(0.15, 0.5) * rise_s)
    return StormSpec(
        entity_id=entity_id, onset=float(round(onset)), rise=float(round(rise_s)),
        tau=float(round(tau)),
        multiplier=float(multiplier), shift=float(shift),
        shape=str(rng.choice(v.storm_shapes)), shape_value=float(rng.random()), mix=_mix(rng),
        bot_share=float(rng.uniform(0.0, 0.25)) if rng.random() < 0.5 else 0.0,
        co_share=0.0, own_post=own_post)


def _integrals(s: StormSpec) -> tuple[float, float]:
    """Hours-integrals of the storm's curve c and of c squared, rise and decay."""
    u = np.linspace(0, 1, 401)
    c_up = rise(s.shape, u, s.shape_value)
    t = np.linspace(0, 3 * s.tau, 401)
    c_down = decay("exponential", t, s.tau)  # both decay kinds end at 0.1 at 3 tau
    first = float(np.trapezoid(c_up, u)) * s.rise + float(np.trapezoid(c_down, t))
    second = float(np.trapezoid(c_up ** 2, u)) * s.rise + float(np.trapezoid(c_down ** 2, t))
    return first / HOUR, second / HOUR


def curve_hours(s: StormSpec) -> float:
    """Hours-equivalent of the storm's extra volume (integral of its curve)."""
    return _integrals(s)[0]


def excess_hostile(s: StormSpec, rate: float, hostile: float) -> float:
    """Expected extra hostile mentions over the storm: rate (1 + (M-1)c)(p0 + Sc) - rate p0."""
    c1, c2 = _integrals(s)
    return rate * (((s.multiplier - 1) * hostile + s.shift) * c1
                   + (s.multiplier - 1) * s.shift * c2)


def _storm_case(rng: np.random.Generator, v: Variant, size: Size, index: int, seed: int,
                rise_bin: tuple[int, int], mult_bin: tuple[float, float]) -> CaseSpec:
    rise_s = _log_uniform(rng, *rise_bin) * MIN
    multiplier = _log_uniform(rng, *mult_bin)
    shift = float(rng.uniform(0.1, 0.6))
    hostile = float(rng.uniform(0.05, 0.35))
    history = float(rng.uniform(*size.history_days))
    start = _start(rng)
    kind = str(rng.choice(KINDS))
    draft = _storm(rng, v, "", 0.0, rise_s, multiplier, shift, kind == "person")
    # The baseline: material (MIN_EXCESS_HOSTILE), within the mention budget, in the
    # kind's range if it can be; else another kind whose range fits.
    per_rate = max(excess_hostile(draft, 1.0, hostile), 1e-9)
    hours = (draft.end - draft.onset) / HOUR
    # excess = rate x per_rate >= MIN_EXCESS_HOSTILE, and >= MIN_Z sqrt(rate x hostile x hours)
    lo = max(MIN_EXCESS_HOSTILE / per_rate, MIN_Z ** 2 * hostile * hours / per_rate ** 2)
    hi = size.mention_cap / (24 * (history + 1) + (multiplier - 1) * curve_hours(draft))
    fits = [k for k in KINDS if KIND_RATES[k][0] < hi and KIND_RATES[k][1] > lo]
    if kind not in fits:
        kind = str(rng.choice(fits)) if fits else "department"
    k_lo, k_hi = KIND_RATES[kind]
    a, b = max(k_lo, lo), min(k_hi, hi)
    rate = _log_uniform(rng, a, b) if a < b else float(min(max(lo, k_lo), k_hi))
    entity = replace(make_entity(rng, v.vocabulary.names, kind, rate, 0), hostile=hostile)
    entities = [entity]
    if kind in ("partner", "policy") and rng.random() < 0.4:
        other_kind = "policy" if kind == "partner" else "partner"
        other = make_entity(rng, v.vocabulary.names, other_kind,
                            _log_uniform(rng, *KIND_RATES[other_kind]) / 4, 1)
        entity = replace(entity, linked=(other.id,), co_mention=float(rng.uniform(0.02, 0.12)))
        entities = [entity, other]
    onset = start + (math.floor(history) + 1) * DAY + _time_of_day(rng, kind)
    storm = replace(draft, entity_id=entity.id, onset=float(round(onset)),
                    own_post=kind == "person",
                    co_share=float(rng.uniform(0.1, 0.5)) if entity.linked else 0.0)
    return CaseSpec(v.name, "storm", index, seed, start, storm.end + 2 * HOUR, start + DAY,
                    tuple(entities), (storm,))


def _official_case(rng: np.random.Generator, v: Variant, size: Size, index: int,
                   seed: int) -> CaseSpec:
    rate = _log_uniform(rng, 0.02, 0.5)
    entity = make_entity(rng, v.vocabulary.names, "person", rate, 0)
    peak_extra = _log_uniform(rng, 20, 600)  # mentions an hour at the peak
    rise_s = _log_uniform(rng, 20, 480) * MIN
    history = float(rng.uniform(*size.history_days))
    start = _start(rng)
    onset = start + (math.floor(history) + 1) * DAY + (rng.uniform(20, 25) % 24) * HOUR
    storm = _storm(rng, v, entity.id, onset, rise_s, 1 + peak_extra / rate,
                   float(rng.uniform(0.25, 0.6)), True, tau=rng.uniform(1, 4) * HOUR)
    return CaseSpec(v.name, "official", index, seed, start, storm.end + 2 * HOUR, start + DAY,
                    (entity,), (storm,))


def _cold_case(rng: np.random.Generator, v: Variant, index: int, seed: int) -> CaseSpec:
    multiplier = _log_uniform(rng, 3, 30)
    peak_extra = _log_uniform(rng, 40, 600)
    rate = min(max(peak_extra / (multiplier - 1), 0.05), 500.0)
    kinds = [k for k in KINDS if KIND_RATES[k][0] <= rate <= KIND_RATES[k][1]] or ["department"]
    kind = str(rng.choice(kinds))
    entity = make_entity(rng, v.vocabulary.names, kind, rate, 0)
    start = _start(rng) + (rng.uniform(7, 19) if kind != "person" else rng.uniform(19, 23)) * HOUR
    start -= start % MIN
    onset = start + rng.uniform(5, 55) * MIN
    storm = _storm(rng, v, entity.id, onset, _log_uniform(rng, 10, 60) * MIN, multiplier,
                   float(rng.uniform(0.25, 0.6)), kind == "person",
                   tau=rng.uniform(1, 3) * HOUR)
    return CaseSpec(v.name, "cold", index, seed, start, storm.end + HOUR, start, (entity,),
                    (storm,))


def _bots_case(rng: np.random.Generator, v: Variant, size: Size, index: int,
               seed: int) -> CaseSpec:
    kind = str(rng.choice(KINDS))
    entity = make_entity(rng, v.vocabulary.names, kind, _log_uniform(rng, *KIND_RATES[kind]), 0)
    history = float(rng.uniform(*size.history_days))
    start = _start(rng)
    onset = start + (math.floor(history) + 1) * DAY + _time_of_day(rng, "partner")
    burst = BurstSpec(entity.id, str(rng.choice(["bots", "copypaste"])), float(round(onset)),
                      float(round(rng.uniform(10, 40) * MIN)), int(rng.integers(100, 601)),
                      int(rng.integers(3, 11)))
    return CaseSpec(v.name, "bots", index, seed, start, onset + burst.duration + 3 * HOUR,
                    start + DAY, (entity,), bursts=(burst,))


def _young_case(parent: CaseSpec, index: int) -> CaseSpec:
    """``parent``'s entities watched from scratch for a day, nothing but background,
    from an hour of the day set by the parent's seed (entities are added to a
    watchlist at any hour; the parents all start at midnight)."""
    start = parent.start + (parent.seed % 24) * HOUR
    return CaseSpec(parent.variant, "young", index, parent.seed, start, start + DAY, start,
                    parent.entities)


def _background_case(rng: np.random.Generator, v: Variant, size: Size, index: int,
                     seed: int) -> CaseSpec:
    policy, partner, third = _three_entities(rng, v)
    start = _start(rng)
    return CaseSpec(v.name, "background", index, seed, start, start + size.background_days * DAY,
                    start + DAY, (policy, partner, third))


def _drift_case(rng: np.random.Generator, v: Variant, size: Size, index: int,
                seed: int) -> CaseSpec:
    """Three entities, each with one or two lasting level changes at least two days
    apart, the first after two days of history (so each is a change from a level
    learned, not from the prior)."""
    entities = _three_entities(rng, v)
    start = _start(rng)
    end = start + size.background_days * DAY
    drifts: list[DriftSpec] = []
    for e in entities:
        level = 1.0
        onset = start + 2 * DAY
        for _ in range(int(rng.integers(1, 3))):
            onset += float(rng.uniform(0.0, 4.0)) * DAY
            if onset > end - 2 * DAY:
                break
            factor = _log_uniform(rng, *DRIFT_FACTORS)
            if rng.random() < 0.35 or e.rate * level * factor > DRIFT_MAX_RATE:
                factor = 1.0 / factor  # attention fading, or no room to grow
            ramp = 0.0 if rng.random() < 0.5 else _log_uniform(rng, *DRIFT_RAMP_HOURS) * HOUR
            drifts.append(DriftSpec(e.id, float(round(onset)), float(round(ramp)), factor))
            level *= factor
            onset += ramp + 2 * DAY
    return CaseSpec(v.name, "drift", index, seed, start, end, start + DAY, entities,
                    drifts=tuple(drifts))


def _three_entities(rng: np.random.Generator, v: Variant) -> tuple[EntitySpec, ...]:
    """A policy, its delivery partner, and a department or an official."""
    names = v.vocabulary.names
    policy = make_entity(rng, names, "policy", _log_uniform(rng, *KIND_RATES["policy"]), 0)
    partner = make_entity(rng, names, "partner", _log_uniform(rng, *KIND_RATES["partner"]), 1,
                          linked=(policy.id,))
    third_kind = str(rng.choice(["department", "person"]))
    third = make_entity(rng, names, third_kind, _log_uniform(rng, *KIND_RATES[third_kind]), 2)
    return policy, partner, third
