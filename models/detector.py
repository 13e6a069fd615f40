"""Escalation detector: one entity's buckets against its seasonal baseline.

``observe`` folds one observation into an entity's state (O(1): a link in an
immutable chain); ``tick`` closes every bucket that ended at or before event
time ``now``; both return the new state and one
:class:`~models.verdict.Verdict` per closed bucket (severity ``None`` when
normal). On each close the bucket is summarised (:mod:`models.window`), the
short windows slide, the coarse buckets of the long windows fill
(:mod:`models.horizon`), the scales are tested against the baseline
(:mod:`models.signals`) with thresholds from the entity's own tail
(:mod:`models.rarity`), the ladder decides (:mod:`models.escalation`), and the
baseline learns the bucket only if it was not escalating
(:mod:`models.baseline`). The method is written up in ``docs/detection.md``.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import chain, islice
from operator import add, attrgetter
from typing import Any, NamedTuple

from models.baseline import Baseline
from models.escalation import Judgement, Thresholds, build_excess, build_tone, judge
from models.horizon import Build, Coarse
from models.matcher import tokens
from models.observation import Observation
from models.params import MAX_SUSTAIN_WITHIN, DetectorParams
from models.rarity import ALARM, START, Tail
from models.signals import (
    THREADS,
    Scale,
    Signal,
    binomial_z,
    calls_to_action,
    centre,
    coordinated_kind,
    coordination,
    linkage,
    markers,
    poisson_z,
    reach,
    unscored,
    velocity,
    viral,
)
from models.verdict import NO_EVIDENCE, Evidence, Sample, Verdict
from models.window import (
    ZERO,
    Bucket,
    OpenBucket,
    Post,
    Totals,
    Window,
    bump_langs,
    copies_in,
    ranked,
    slide_all,
    summed,
)

__all__ = ["Detector", "DetectorParams", "EntityState", "Horizon", "Profile"]

STATE_VERSION = 2

_STOP_WORDS = (
    "a an the and or but if of to in on at for from by with about as is are was were be been "
    "it its this that these those i you he she we they me my our your their them his her "
    "not no so do does did done have has had will would should can could just than then "
    "there here what who how why when all any more most very too also up out over into "
    "rt amp via get got im dont its it's i'm"
)
_STOP = frozenset(_STOP_WORDS.split())
_WEEK_BUCKETS = 7 * 1440  # at one-minute buckets
_TAIL_CAP = 2.0  # how far above its threshold a score is learned
_TAIL_TYPES = tuple(type(x) for x in Tail())  # how each stored number of a tail is read


class Horizon(NamedTuple):
    """The slow parts of an entity's state: long windows, the CUSUM and the tails.

    They change when a coarse bucket closes or a surprise is an excess: rarely, so
    a per-mention update copies one reference instead of five.
    """

    coarse: tuple[Coarse, ...] = ()  # closed coarse buckets of the long windows
    long: tuple[Totals, ...] = ()  # per long scale, sums of its coarse buckets
    dispersion: float = 1.5  # of coarse hostile counts, for the CUSUM
    build: Build = Build()
    tails: tuple[Tail, Tail, Tail] = (Tail(), Tail(), Tail())  # volume, hostile, share

    def to_dict(self) -> dict[str, Any]:
        return {"coarse": [c.to_list() for c in self.coarse],
                "long": [list(t) for t in self.long], "dispersion": self.dispersion,
                "build": self.build.to_list(), "tails": [list(t) for t in self.tails]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Horizon:
        # Five numbers per tail before the alarm's echo was held (v5), six since, nine
        # since a short alarm may be learned: the fields a stored tail lacks keep their
        # defaults.
        v, n, w = (Tail(*(cast(x) for cast, x in zip(_TAIL_TYPES, t, strict=False)))
                   for t in data["tails"])
        return cls(tuple(Coarse.from_list(c) for c in data["coarse"]),
                   tuple(Totals.from_list(t) for t in data["long"]),
                   float(data["dispersion"]), Build.from_list(data["build"]), (v, n, w))


class EntityState(NamedTuple):
    """One entity's open bucket, recent buckets, long-horizon sums, tails and baseline:
    a JSON-safe value (a tuple: one is made for every entity every minute).

    >>> s = EntityState()
    >>> EntityState.from_dict(s.to_dict()) == s
    True
    """

    open: OpenBucket | None = None
    baseline: Baseline = Baseline()
    ring: tuple[Bucket, ...] = ()
    dispersion: tuple[float, ...] = ()  # per short scale, Pearson residual of normal windows
    streak: int = 0  # consecutive escalating buckets
    totals: tuple[Totals, ...] = ()  # per short scale, sums over its window (slid per bucket)
    partial: Totals = ZERO  # the coarse bucket being filled
    horizon: Horizon = Horizon()
    recent: int = 0  # bit i: the bucket i+1 closes ago escalated (k of n sustain)

    def to_dict(self) -> dict[str, Any]:
        return {"v": STATE_VERSION,
                "open": None if self.open is None else self.open.to_dict(),
                "baseline": self.baseline.to_dict(), "ring": [b.to_dict() for b in self.ring],
                "dispersion": list(self.dispersion), "streak": self.streak,
                "totals": [list(t) for t in self.totals], "partial": list(self.partial),
                "horizon": self.horizon.to_dict(), "recent": self.recent}

    def learned(self) -> EntityState:
        """Only what this state has learned (baseline, dispersion, tails), without the
        recent buckets and running windows: what a backfill seeds a live worker with.
        The live stream's own windows then fill from its own data, so a gap between
        the history's end and the stream is never learned as silence.

        >>> s = EntityState(streak=3, partial=ZERO._replace(volume=4))
        >>> s.learned() == EntityState()
        True
        """
        h = self.horizon
        return EntityState(baseline=self.baseline, dispersion=self.dispersion,
                           horizon=Horizon(dispersion=h.dispersion, tails=h.tails))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntityState:
        """The state back from :meth:`to_dict`; a state written before version 2 keeps
        its baseline (volume level, seasonal shape) and starts the rest afresh."""
        if data.get("v") != STATE_VERSION:
            baseline = Baseline.from_dict(data["baseline"])
            return cls(baseline=Baseline(baseline.level, baseline.profile, baseline.seen,
                                         0.0, 0.0, baseline.n))
        return cls(open=None if data["open"] is None else OpenBucket.from_dict(data["open"]),
                   baseline=Baseline.from_dict(data["baseline"]),
                   ring=tuple(Bucket.from_dict(b) for b in data["ring"]),
                   dispersion=tuple(map(float, data["dispersion"])),
                   streak=int(data["streak"]),
                   totals=tuple(Totals.from_list(t) for t in data["totals"]),
                   partial=Totals.from_list(data["partial"]),
                   horizon=Horizon.from_dict(data["horizon"]),
                   recent=int(data.get("recent", 0)))  # absent before k-of-n sustain


@dataclass(frozen=True, slots=True)
class Profile:
    """What the detector knows of one watched entity: kind, sensitivity, linked entities."""

    kind: str | None = None
    sensitivity: float = 1.0
    linked: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Detector:
    """Flags escalating hostile attention against a seasonal, robust baseline.

    A flat series of four mentions a minute, a quarter of them hostile, and
    then a hostile surge from many authors:

    >>> d = Detector(DetectorParams())
    >>> state, out = d.initial(), []
    >>> def post(minute, i, negativity):  # distinct authors, distinct texts
    ...     word = "".join(chr(97 + (minute * 40 + i) // 26**k % 26) for k in range(3))
    ...     return Observation("acme", f"{minute}-{i}", 60.0 * minute + i, "x",
    ...                        f"u{minute}-{i}", f"acme {word}", 10, negativity)
    >>> for minute in range(200):
    ...     n = 4 if minute < 190 else 40
    ...     for i in range(n):
    ...         neg = 0.9 if (minute >= 190 and i % 5) or i == 0 else 0.1
    ...         state, verdicts = d.observe(state, post(minute, i, neg))
    ...         out += verdicts
    >>> [v.severity for v in out[185:199]]  # doctest: +NORMALIZE_WHITESPACE
    [None, None, None, None, None, None, 'watch', 'critical', 'critical', 'critical',
     'critical', 'critical', 'critical', 'critical']
    >>> EntityState.from_dict(state.to_dict()) == state
    True
    """

    params: DetectorParams = field(default_factory=DetectorParams)
    linked: Mapping[str, tuple[str, ...]] | None = None
    profiles: Mapping[str, Profile] | None = None
    # Leave each alerting verdict's evidence to ``Verdict.explain`` (the engine does: the
    # lifecycle works it out only for the minutes it notifies about).
    lazy_evidence: bool = False
    # Per-entity parameters (kind, sensitivity), worked out once.
    _params: dict[str, DetectorParams] = field(init=False, repr=False, compare=False)
    _keep: tuple[float, ...] = field(init=False, repr=False, compare=False)
    # Per entity, its closed coarse buckets and the authors summed over each long
    # window's (``_long_scales``): they change every ``coarse_buckets`` buckets, and are
    # read every unusual minute. A memo (of the very tuple it was summed from), not state.
    _long_authors: dict[str, tuple[tuple[Coarse, ...], dict[int, float]]] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_params", {
            entity_id: self.params.for_entity(profile.kind, profile.sensitivity)
            for entity_id, profile in (self.profiles or {}).items()})
        object.__setattr__(self, "_keep", self.params.keep)
        object.__setattr__(self, "_long_authors", {})

    def params_for(self, entity_id: str) -> DetectorParams:
        """This entity's parameters (its kind's prior and floors, its sensitivity)."""
        p = self._params.get(entity_id)
        if p is None:
            p = self._params[entity_id] = self.params.for_entity(None)
        return p

    def linked_to(self, entity_id: str) -> tuple[str, ...]:
        if self.profiles is not None and entity_id in self.profiles:
            return self.profiles[entity_id].linked
        return (self.linked or {}).get(entity_id, ())

    def initial(self) -> EntityState:
        return EntityState()

    def watch(self, state: EntityState, at: float) -> EntityState:
        """The state watched from event time ``at`` (its minute): from then on each minute
        closes, mentioned or not. An entity nobody has mentioned since it was first watched
        has learned that it is quiet; started only at its first mention instead, a junior
        official quiet for weeks would meet the storm that first names them as a newly
        watched entity, which learns its first hours (the storm) as its normal. A state
        already watched is returned as it is.

        >>> d = Detector()
        >>> d.watch(d.initial(), 1767603630.0).open.start
        1767603600.0
        >>> s = d.watch(d.initial(), 1767603600.0)
        >>> d.watch(s, 1767690000.0) is s
        True
        """
        if state.open is not None:
            return state
        size = self.params.bucket_seconds
        return state._replace(open=OpenBucket(at - at % size))

    def observe(self, state: EntityState, obs: Observation) -> tuple[EntityState, list[Verdict]]:
        """Fold one observation in, closing the buckets it shows have ended."""
        return self.observe_many(state, (obs,))

    def observe_many(self, state: EntityState, observations: Sequence[Observation]
                     ) -> tuple[EntityState, list[Verdict]]:
        """Fold each observation in, in turn, closing the buckets each shows have ended.
        A late observation (event time before the open bucket) counts in the open
        bucket; a high-reach post is always kept (amplification is read from them:
        ``_amplifying``). The open bucket and the state are built once per run of
        observations in one bucket, not once per mention: those records were a tenth
        of a replay's time."""
        p = self.params
        size, keep, keep_texts, high_reach = p.bucket_seconds, self._keep, p.keep_texts, \
            p.high_reach
        verdicts: list[Verdict] = []
        i, n = 0, len(observations)
        while i < n:
            obs = observations[i]
            bucket = state.open
            if bucket is None:
                bucket = OpenBucket(obs.ts - obs.ts % size)
            elif obs.ts >= bucket.start + size:
                state, closed = self.tick(state, obs.ts, obs.entity_id)
                verdicts += closed
                bucket = state.open
            end = bucket.start + size
            count, chain, texts, langs = bucket.n, bucket.chain, list(bucket.texts), bucket.langs
            while True:  # as OpenBucket.add, for each observation of the run
                followers = obs.followers or 0
                h = obs.negativity
                if h is not None and obs.markers:
                    h = 1.0 - (1.0 - h) * keep[obs.markers & 7]
                if len(texts) < keep_texts or followers >= high_reach:
                    texts.append(Post(obs.mention_id, obs.author, obs.text, followers, h,
                                      obs.reshare_of, obs.markers, obs.ts, obs.url))
                if h is None:
                    langs = bump_langs(langs, obs.lang or "und")
                chain = (obs.author, followers, obs.others, obs.reshare_of, h, obs.markers,
                         chain)
                count += 1
                i += 1
                if i == n:
                    break
                obs = observations[i]
                if obs.ts >= end:
                    break
            state = EntityState(OpenBucket(bucket.start, count, chain, tuple(texts), langs),
                                state.baseline, state.ring, state.dispersion, state.streak,
                                state.totals, state.partial, state.horizon, state.recent)
        return state, verdicts

    def tick(self, state: EntityState, now: float,
             entity_id: str = "") -> tuple[EntityState, list[Verdict]]:
        """Close every bucket that ended at or before event time ``now``."""
        verdicts: list[Verdict] = []
        size = self.params.bucket_seconds
        while state.open is not None and now >= state.open.start + size:
            state, verdict = self._close(state, entity_id)
            verdicts.append(verdict)
        return state, verdicts

    def _close(self, state: EntityState, entity_id: str) -> tuple[EntityState, Verdict]:
        p = self.params_for(entity_id)
        bp = p.baseline
        base = state.baseline
        open_ = state.open
        assert open_ is not None
        bucket = open_.close(base.expected(open_.start, bp), p)
        ring = (*state.ring[-max(p.scales):], bucket)  # one extra: the bucket leaving the window
        old = len(ring) - p.evidence_minutes - 1
        leaving = ring[old] if old >= 0 and ring[old].texts else None
        if leaving is not None:
            ring = (*ring[:old], leaving.stripped(), *ring[old + 1:])
        sums = slide_all(state.totals, ring, p.scales)
        dispersion = state.dispersion or (1.5,) * len(p.scales)
        share0 = base.negative_share(bp)
        at = open_.start + p.bucket_seconds
        next_open = OpenBucket(at)
        # Coarse buckets for the long windows: filled every bucket, closed on the boundary.
        partial = _sum_totals(state.partial, bucket.totals)
        horizon = state.horizon
        closing = at % (p.coarse_buckets * p.bucket_seconds) == 0
        uncertainty = 1.0 / (bp.prior_weight + base.n) if bp.prior_weight > 0 else 0.0
        surprise = _surprises(sums, share0, dispersion, p, uncertainty)

        if not self._unusual(surprise, sums, share0, horizon, p):
            # Nothing can be unusual: learn the bucket and move on cheaply, from the
            # window sums alone (most buckets of most entities end here).
            calm = _calmer(state.streak)
            baseline = _learn_lagged(base, ring, calm, p, dispersion[0], build=horizon.build)
            mature = base.n >= p.quiet_start + max(p.scales)
            if mature:
                dispersion = self._learn_dispersion(dispersion, sums, len(ring), base.n, p)
                # A calm bucket must still end a run under way: else the next spike,
                # hours later, continues it, and the tail learns one episode for many.
                if surprise is not _NONE or _in_run(horizon.tails):
                    horizon = horizon._replace(
                        tails=_learn_tails(horizon.tails, surprise, base.n, p))
            if closing:
                horizon = self._close_coarse(horizon, ring, partial, at, share0, p, False,
                                             base.n)
                partial = ZERO
            t, m = sums[0], bucket.totals
            verdict = Verdict(entity_id, at, None, 0.0, t[0], round(t[4], 3),
                              round(t[2] / t[1], 4) if t[1] else 0.0, round(share0, 4), (),
                              NO_EVIDENCE, m[0], round(m[4], 3),
                              round(m[2] / m[1], 4) if m[1] else 0.0,
                              float(p.scales[0] * p.bucket_seconds))
            return EntityState(next_open, baseline, ring, dispersion, calm, sums, partial,
                               horizon, (state.recent << 1) & _RECENT_MASK), verdict

        thresholds = self._thresholds(horizon.tails, p, base.n)
        windows = [Window(m, t, ring[-m:]) for m, t in zip(p.scales, sums, strict=True)]
        scales: list[Scale] = []
        reads: dict[int, tuple[float, float]] = {}
        if _may_escalate(windows[-1].totals, p):
            # The longest window's copy-paste read, made now rather than after the shorter
            # ones' (``_scale`` makes it for this window anyway): where it finds no copies,
            # the shorter windows, which keep some of its texts, have none either.
            _copies_read(windows[-1], p, reads)
        for w, d, m in zip(windows, dispersion, p.scales, strict=True):
            scales.append(self._scale(w, share0, d, m * uncertainty, p,
                                      scales[-1] if scales else None, reads))
        if leaving is not None and any(dup for dup, _ in reads.values()):
            ring = _keep_copies(ring, old, leaving, p)
        holding = next((s for s in scales if s.minutes >= p.coarse_buckets), scales[-1])
        long_scales = self._long_scales(horizon, partial, share0, uncertainty, p,
                                        holding.coordinated_share, base.n, entity_id)
        extras = self._extras(windows, scales, entity_id, p, reads,
                              held=_recent_escalations(state.recent, p) > 0)
        amplified = (any(x.name == "reach" for x in extras)
                     and _amplifying(windows[min(1, len(windows) - 1)], windows[-1], p))
        build = horizon.build
        hours = 0.0 if build.started is None else (at - build.started) / 3600.0
        # The busiest bucket of each window: the windows are suffixes of the longest.
        volumes = [b.totals.volume for b in windows[-1].buckets]
        busiest = [max(volumes[-m:], default=0) for m in p.scales]
        judgement = judge(scales, busiest, long_scales, extras,
                          max(state.streak, 0), thresholds, p, build, amplified, hours, base.n,
                          _recent_escalations(state.recent, p))
        best = judgement.best
        evidence = NO_EVIDENCE
        explain = None
        if judgement.severity is not None:
            explain = functools.partial(self._evidence, ring, entity_id,
                                        best.coordinated_share, judgement, p)
            if not self.lazy_evidence:
                evidence, explain = explain(), None
        verdict = Verdict(entity_id, at, judgement.severity, round(judgement.score, 3),
                          best.volume, round(best.expected, 3), round(best.share, 4),
                          round(share0, 4), judgement.reasons, evidence, *_minute(bucket.totals),
                          window_seconds=float(best.minutes * p.bucket_seconds),
                          explain=explain)
        baseline = base
        streak = judgement.streak if judgement.escalating else _calmer(state.streak)
        if not judgement.escalating and not _in_build(build, p, hours):
            # Escalating buckets are not learned: a storm must not become the new normal.
            # Unusual volume at some short scale: learn the bucket's volume, not its tone.
            baseline = _learn_lagged(base, ring, streak, p, dispersion[0], build=build,
                                     hold_tone=judgement.surge)
            if base.n >= p.quiet_start + max(p.scales):
                # Surprises and spread measured against a baseline that has learned: a new
                # entity's first hours against its kind's prior would teach it nothing true.
                # SPOT leaves out scores above the threshold altogether; here they are
                # learned capped a little above it, so that an entity whose news spikes
                # recur raises its thresholds step by step, and one burst cannot.
                capped = _to_learn(surprise, thresholds)
                horizon = horizon._replace(tails=_learn_tails(horizon.tails, capped, base.n,
                                                              p))
                if judgement.severity is None:
                    dispersion = self._learn_dispersion(dispersion, sums, len(ring), base.n,
                                                        p)
        elif base.n < p.quiet_start:
            # A new entity cannot yet tell a storm from being busier and more hostile than
            # its kind's prior: it goes on learning (lagged, so a storm that starts after
            # its first minutes is judged before it is learned, and warned).
            baseline = _learn_lagged(base, ring, -p.learn_lag, p, dispersion[0])
        elif base.n < p.learning and judgement.streak >= 60:
            # Escalating for an hour while still young: perhaps simply busier and more
            # hostile than it has had time to learn. It learns, guarded (bounded volume
            # steps, no tone from a bucket far above expectation).
            baseline = _learn_lagged(base, ring, -p.learn_lag, p, dispersion[0], guarded=True)
        elif (base.n < p.learning and _in_build(build, p, hours)
              and hours * 3600.0 >= p.long_scales[0] * p.bucket_seconds):
            # A build for hours while still young: more likely a tone its first sparse
            # hours did not see than a storm. It learns, guarded, as above, and the
            # build's tone is judged against what it learns; else the build blocks the
            # learning that would end it, and warns all day (seen: a department whose
            # first night taught it 0.11 paged six times in a day, "27% vs 11% usual").
            baseline = _learn_lagged(base, ring, -p.learn_lag, p, dispersion[0], guarded=True)
            horizon = horizon._replace(build=build._replace(
                share0=max(build.share0, baseline.negative_share(bp))))
        if (judgement.escalating and p.alarm_learn_within
                and base.n >= p.quiet_start + max(p.scales)):
            # Escalating: the tails learn nothing, but an alarm's run keeps its peak and
            # start, so that a short one (a pile-on) is learned when it ends.
            horizon = horizon._replace(tails=_mark_alarms(
                horizon.tails, _to_learn(surprise, thresholds), base.n, p))
        if closing:
            horizon = self._close_coarse(horizon, ring, partial, at, share0, p,
                                         judgement.escalating, base.n)
            partial = ZERO
        recent = ((state.recent << 1) | judgement.escalating) & _RECENT_MASK
        return EntityState(next_open, baseline, ring, dispersion, streak, sums, partial,
                           horizon, recent), verdict

    def _thresholds(self, tails: tuple[Tail, Tail, Tail], p: DetectorParams,
                    n: int) -> Thresholds:
        q = p.budget / (_WEEK_BUCKETS * 60.0 / p.bucket_seconds)  # episodes per bucket
        vol = tails[0].threshold(q, p.tail_prior, n, p.volume_tail_shape)
        hostile, share = (t.threshold(q, p.tail_prior, n) for t in tails[1:])
        hostile = max(hostile, p.z_escalate)
        if n < p.quiet_start:
            # Its first hour: the prior's tail alone would ask z 4.6 or more of a storm
            # nobody has seen coming, and the hour is a small share of a week's budget.
            hostile = min(hostile, max(p.z_young, p.z_escalate))
        return Thresholds(max(vol, p.z_volume), hostile, max(share, p.z_negative))

    def _unusual(self, surprise: tuple[float, float, float], sums: tuple[Totals, ...],
                 share0: float, horizon: Horizon, p: DetectorParams) -> bool:
        """A cheap pre-check: could anything be a watch or more? (An entity's thresholds
        are never below the global floors, so the floors decide here.)"""
        if horizon.build.score >= p.cusum_alarm * 0.5:
            return True
        volume_z, hostile_z, share_z = surprise
        if volume_z >= p.z_volume or share_z >= p.z_negative or hostile_z >= p.z_escalate:
            return True
        for t in horizon.long:
            if (t.volume >= p.rise_ratio * t.expected and t.volume - t.expected
                    >= p.min_excess and t.share >= share0 + p.min_shift * 0.5):
                return True
        return False

    def _scale(self, w: Window, share0: float, dispersion: float, uncertainty: float,
               p: DetectorParams, shorter: Scale | None = None,
               reads: dict[int, tuple[float, float]] | None = None) -> Scale:
        """One short window against the baseline; ``shorter`` is the scale of the next
        shorter window, whose coordinated posts are among this window's too;
        ``reads`` the copy-paste reads of this minute's other windows (see
        :func:`_organic`)."""
        t = w.totals
        organic = float(t.volume - t.excess)
        authors = float(t.volume)
        hostility = 1.0
        if _may_escalate(t, p):
            # Only a window that could be escalating pays for the coordination estimate.
            organic, authors, hostility = _organic(w, organic, p, reads)
        if shorter is not None and shorter.volume - shorter.organic > t.volume - organic:
            # Windows are nested: posts a shorter window found coordinated are in this one
            # too. A burst's first minutes fill every window alike, and only the shortest
            # sees its accounts repeat (a longer one would count them as voices).
            organic = max(0.0, float(t.volume) - (shorter.volume - shorter.organic))
            hostility = shorter.coordinated_hostility
        return Scale(w.minutes, t.volume, t.expected, organic, t.scored, t.mass, t.hostile,
                     share0, authors, dispersion, uncertainty, hostility)

    def _long_scales(self, horizon: Horizon, partial: Totals, share0: float,
                     uncertainty: float, p: DetectorParams, coordinated: float,
                     n: int, entity_id: str = "") -> list[Scale]:
        """The hour-scale windows: closed coarse buckets plus the one being filled (whose
        ``coordinated`` share is taken from the short window that holds it). A window is
        judged once the baseline had learned for its whole length (``n`` buckets)."""
        out = []
        per = p.coarse_buckets
        partial = partial._replace(excess=partial.excess + round(
            coordinated * (partial.volume - partial.excess)))
        coarse = horizon.coarse
        memo = self._long_authors.get(entity_id)
        if memo is None or memo[0] is not coarse:
            memo = self._long_authors[entity_id] = (coarse, {})
        summed_authors = memo[1]
        for m, t in zip(p.long_scales, horizon.long, strict=False):
            k = m // per
            if len(coarse) < k or n < m + p.quiet_start:
                break  # not a full window of a learned baseline yet
            t = _sum_totals(t, partial)
            authors = summed_authors.get(k)
            if authors is None:
                authors = summed_authors[k] = sum(map(_AUTHORS, coarse[-k:]))
            organic = float(max(t.volume - t.excess, 0))
            out.append(Scale(m, t.volume, t.expected, organic, t.scored, t.mass, t.hostile,
                             share0, authors, horizon.dispersion, m * uncertainty))
        return out

    def _close_coarse(self, horizon: Horizon, ring: tuple[Bucket, ...], partial: Totals,
                      at: float, share0: float, p: DetectorParams, escalating: bool,
                      n: int) -> Horizon:
        """Close the coarse bucket ending at ``at``: ring, long sums, CUSUM, dispersion."""
        per = p.coarse_buckets
        start = at - per * p.bucket_seconds
        recent = Window(per, partial, ring[-per:])
        organic = partial.volume - partial.excess
        authors = float(sum(b.distinct for b in recent.buckets))  # at most this many
        if organic > max(partial.expected, 1.0) and (
                partial.share > share0 or build_might(horizon.build, p)):
            # A busier, more hostile coarse bucket: its coordinated posts leave its organic
            # volume, as they leave a short window's (copy-paste, and more posts than
            # author_window_cap per distinct author).
            organic, authors, hostility = _organic(recent, float(organic), p)
            # Calm copies (a headline shared verbatim) stay in the coarse bucket's organic
            # volume: its sums keep no hostility of the coordinated posts.
            coordinated = (partial.volume - organic) * hostility
            partial = partial._replace(excess=round(coordinated))
        keep = max(p.long_scales) // per
        coarse = (*horizon.coarse[-keep:], Coarse(start, partial, authors))
        long = slide_all(horizon.long, coarse, tuple(m // per for m in p.long_scales))
        d = horizon.dispersion
        build = horizon.build
        if n >= p.quiet_start + p.long_scales[0]:
            # Only against a baseline that has learned for a while: a new entity's first
            # hours are judged against its kind's prior, too rough to accumulate on.
            build = build.step(start, partial, share0, p.cusum_ratio, d, 3.0 * p.cusum_alarm)
        if not escalating and build.score < p.cusum_alarm and partial.scored:
            mu = max(partial.expected * share0, 0.5)
            x = partial.share * max(partial.volume - partial.excess, 0)
            residual = min((x - mu) ** 2 / mu, 9.0)
            d = max(1.0, d + (residual - d) / 200.0)
        return Horizon(coarse, long, d, build, horizon.tails)

    def _extras(self, windows: list[Window], scales: list[Scale], entity_id: str,
                p: DetectorParams, reads: dict[int, tuple[float, float]] | None = None,
                held: bool = False) -> list[Signal]:
        """The optional signals of this minute. ``held``: some of the last minutes
        escalated, so a post gone viral keeps its place at ``viral_hold`` of the share it
        needed (:func:`models.signals.viral`)."""
        short, mid, long = scales[0], scales[min(1, len(scales) - 1)], scales[-1]
        w = windows[min(1, len(windows) - 1)]
        coordinated, cw = max(zip(scales, windows, strict=True), key=lambda sw: (
            sw[0].coordinated_share if sw[0].volume >= 10 else 0.0))
        t = w.totals
        c = w.counts()
        # Each read below is made only where its signal can speak (the signal returns
        # None without looking at it otherwise): most unusual minutes have no high-reach
        # post, no calls to action and no post reshared enough to be a centre.
        # The top author only: ``reach`` names the first (top_authors 0 keeps none).
        tops = _top_author(w.buckets) if c.high_reach and p.top_authors else ()
        calls = c.calls / t.volume if t.volume else 0.0
        hashtags = _hashtags(w.buckets, call_only=True) if calls >= p.call_share else ()
        linked = self.linked_to(entity_id)
        others = _co_mentions(w.buckets) if linked and mid.volume else _NO_OTHERS
        # A window's reshares of its top post are at most all of its reshares
        # (``Counts.reshares``, of every root; a bucket keeps its top three roots): read
        # only when they could make a centre or a post gone viral (0: off).
        least = (min(p.centre_reshares, p.viral_reshares) if p.viral_reshares > 0
                 else p.centre_reshares)
        share = p.centre_share * (p.viral_hold if held else 1.0)
        top_root = (w.centre() if t.volume and c.reshares >= least
                    and c.reshares / t.volume >= share else None)
        found = [
            velocity(short, long),
            reach(c.high_reach, tops, p.high_reach),
            calls_to_action(calls, hashtags, p.call_share),
            linkage(others, linked, mid.volume, p.linked_share),
            centre(top_root, t.volume, mid.span, p.centre_reshares, p.centre_share),
            viral(top_root, t.volume, mid.span, p.viral_reshares, share),
            *markers({"demands": c.demands, "sarcasm": c.sarcasm, "questions": c.questions},
                     t.scored, {}, p.marker_share),
            coordination(coordinated, p.coordination_reason,
                         functools.partial(_coordinated_kind, cw, p, reads)),
            unscored(t.volume, c.unscored, mid.span, w.unscored_langs),
        ]
        return [x for x in found if x is not None]

    def _learn_dispersion(self, dispersion: tuple[float, ...], sums: tuple[Totals, ...],
                          filled: int, n: int, p: DetectorParams) -> tuple[float, ...]:
        """Track each scale's over-dispersion; ``filled`` is how many buckets the ring holds
        (a scale learns only once its window is full)."""
        a = max(1.0 / (n + 1 - p.quiet_start - max(p.scales)), 1.0 / 1440)
        out = []
        for d, t, minutes in zip(dispersion, sums, p.scales, strict=True):
            if filled < minutes:
                out.append(d)
                continue
            e = t[4]  # expected
            if e < 0.5:
                e = 0.5
            # Capped at 3 sd: the bulk's dispersion, not the news spikes' (the tails have
            # those), so a spike neither hides behind its own variance nor the next storm.
            x = t[0] - e  # volume - expected
            residual = x * x / e
            if residual > 9.0:
                residual = 9.0
            d = d + a * (residual - d)
            out.append(d if d > 1.0 else 1.0)
        return tuple(out)

    def _evidence(self, ring: tuple[Bucket, ...], entity_id: str, coordinated: float,
                  judgement: Judgement, p: DetectorParams) -> Evidence:
        recent = ring[-p.evidence_minutes:]
        posts = list(islice(chain.from_iterable(b.texts for b in reversed(recent)),
                            p.evidence_posts))
        terms = Counter(chain.from_iterable(_terms(post.text) for post in posts))
        samples: list[Sample] = []
        seen: set[str] = set()
        centre_post = _centre(recent, posts, p)
        originals = [x for x in posts if x.reshare_of is None and (
            centre_post is None or x.id != centre_post.id)]
        most_hostile = sorted(originals, key=lambda x: (
            -(x.hostility if x.hostility is not None else -1.0), -x.followers, x.id))
        texts: set[str] = set()
        for x in most_hostile:
            if len(samples) >= p.samples:
                break
            if x.author not in seen and x.text not in texts:
                samples.append(_sample(x))
                seen.add(x.author)
                texts.add(x.text)
        others = _co_mentions(recent)
        links = set(self.linked_to(entity_id))
        linked = sorted(others.items(), key=lambda kv: (kv[0] not in links, -kv[1], kv[0]))
        return Evidence(
            top_terms=ranked(terms)[:p.top_terms],
            top_hashtags=_hashtags(recent, call_only=False)[:5],
            samples=tuple(samples),
            top_authors=_merge_top(recent, p.top_authors),
            linked=tuple(linked[:5]),
            coordinated_share=round(coordinated, 3),
            build_started=judgement.since,
            centre=centre_post,
            high_reach=_high_reach(posts, p.high_reach, p.samples),
        )


def _sample(post: Post, reshares: int | None = None) -> Sample:
    return Sample(post.id, post.author, post.text, post.followers, _round(post.hostility),
                  post.ts, post.url, reshares)


def _centre(recent: tuple[Bucket, ...], posts: list[Post], p: DetectorParams) -> Sample | None:
    """The post reshared most in the evidence window (at least ``centre_evidence`` times,
    counted in full, not only among the kept posts): what the storm is about. Shown as
    the original when it is among the evidence ``posts``, else as its first reshare
    there."""
    top = Window(len(recent), ZERO, recent).centre()
    if top is None or top[1] < p.centre_evidence:
        return None
    root, count = top
    kept = [x for x in posts if x.id == root or x.reshare_of == root]
    original = next((x for x in kept if x.id == root), None)
    if original is not None:
        return _sample(original, count)
    if not kept:
        return None
    first = min(kept, key=lambda x: (x.ts or 0.0, x.id))
    return replace(_sample(first, count), id=root)


def _high_reach(posts: list[Post], followers: int, k: int) -> tuple[Sample, ...]:
    """Posts of the accounts with the most followers (at least ``followers``), one each."""
    out: list[Sample] = []
    seen: set[str] = set()
    for post in sorted(posts, key=lambda x: (-x.followers, x.id)):
        if post.followers < followers or len(out) == k:
            break
        if post.author not in seen:
            out.append(_sample(post))
            seen.add(post.author)
    return tuple(out)


def _organic(w: Window, organic: float, p: DetectorParams,
             reads: dict[int, tuple[float, float]] | None = None
             ) -> tuple[float, float, float]:
    """The organic volume, the distinct voices and the hostile share of the coordinated
    posts of a window that may be escalating.

    Coordinated posts leave it: copy-paste (a normalised text repeated
    ``duplicate_min`` times), and every post of an author with more than
    ``author_window_cap`` posts in the window (a bot or a campaign account, who
    then does not count among the distinct authors either). What is left is at
    most ``author_window_cap`` posts per remaining author. Coordinated posts are
    taken as hostile (a bot burst must not lend the crowd its hostility), except
    copies found not hostile among the kept texts (a news headline shared
    verbatim).

    ``reads`` holds the copy-paste reads of the other windows of the same minute,
    by how many of their buckets keep texts. The windows are suffixes of one ring,
    so two that hold as many such buckets hold the same ones: the hour's window
    reads the quarter's again, as only the last ``evidence_minutes`` keep texts."""
    volume = w.totals.volume
    dup, dup_hostile = _copies_read(w, p, reads)
    copies = dup * organic
    calm = copies * (1.0 - dup_hostile)
    kept = [b for b in w.buckets if b.copies]
    if kept:
        # Copies read from buckets whose texts are gone: the texts' share stands for the
        # buckets that still keep them only.
        texted = sum(b.totals.volume for b in w.buckets if b.texts) / volume if volume else 0.0
        seen = sum(b.copies for b in kept) + copies * texted
        if seen > copies:
            calm = sum(b.calm_copies for b in kept) + calm * texted
            copies = seen
    organic = max(0.0, organic - copies)
    cap = _author_cap(w.minutes, p)
    authors, posts, voices = w.voices(cap)
    if posts:
        authors *= 1.0 - voices
        organic = min(organic, volume * (1.0 - posts))
    # (An estimated count of authors is a little noisy: the clamp keeps the window cap.)
    organic = max(0.0, min(organic, authors * p.author_window_cap))
    coordinated = volume - organic
    if coordinated <= 0.0:
        return organic, authors, 1.0
    calm_copies = min(calm, coordinated)
    return organic, authors, 1.0 - calm_copies / coordinated


def _copies_read(w: Window, p: DetectorParams,
                 reads: dict[int, tuple[float, float]] | None) -> tuple[float, float]:
    """The window's copy-paste read (share of copies, share of them hostile), from
    ``reads`` when a window of the same minute with as many text-keeping buckets made
    it (see :func:`_organic`), else made and kept there."""
    texted = sum(1 for b in w.buckets if b.texts)
    if reads is None:
        return w.duplicates(p.duplicate_min, p.negative_threshold)
    read = reads.get(texted)
    if read is None:
        # A window of the same minute with more buckets that keep texts holds all of
        # this one's (they are suffixes of one ring): if it found no copies, neither
        # can this one (``Window.duplicates`` says (0.0, 1.0) for none).
        if any(n > texted and not dup for n, (dup, _) in reads.items()):
            read = (0.0, 1.0)
        else:
            read = w.duplicates(p.duplicate_min, p.negative_threshold)
        reads[texted] = read
    return read


def _may_escalate(t: Totals, p: DetectorParams) -> bool:
    """A window busy enough, or hostile enough, to be escalating: only such a window
    pays for the coordination estimate (:func:`_organic`)."""
    return (t.volume >= p.min_excess and t.volume >= p.rise_ratio * max(t.expected, 0.5)) or (
        bool(t.scored) and t.share * t.volume >= p.floor.floor_hostile * p.reach_floor_factor)


def _coordinated_kind(w: Window, p: DetectorParams,
                      reads: dict[int, tuple[float, float]] | None = None) -> str:
    """Copies or repeat accounts: the window's two coordination reads, as ``_organic``
    makes them (copies kept past their texts count too)."""
    volume = w.totals.volume
    dup, _ = _copies_read(w, p, reads)
    kept = sum(b.copies for b in w.buckets) / volume if volume else 0.0
    _, repeats, _ = w.voices(_author_cap(w.minutes, p))
    return coordinated_kind(max(dup, kept), repeats)


def _author_cap(minutes: int, p: DetectorParams) -> int:
    """Posts per author a window counts as organic: ``author_window_cap``, or, with
    ``author_rate`` set, that many an hour (at least one, at most the cap), so a few
    accounts posting every minute are repeaters within minutes, not voices."""
    if p.author_rate <= 0.0:
        return p.author_window_cap
    hours = minutes * p.bucket_seconds / 3600.0
    return max(1, min(p.author_window_cap, math.floor(p.author_rate * hours)))


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _recent_escalations(recent: int, p: DetectorParams) -> int:
    """How many of the ``sustain_within - 1`` buckets before this one escalated.

    >>> _recent_escalations(0b1010, DetectorParams(sustain_within=3))  # the last 2
    1
    >>> _recent_escalations(0b1010, DetectorParams())  # sustain_within 5: the last 4
    2
    """
    return (recent & ((1 << (p.sustain_within - 1)) - 1)).bit_count()


def _keep_copies(ring: tuple[Bucket, ...], old: int, leaving: Bucket,
                 p: DetectorParams) -> tuple[Bucket, ...]:
    """``ring`` with ``ring[old]``, whose texts were just dropped, keeping how many of
    its posts were copies (read from ``leaving``, the same bucket with its texts).

    Read only in a minute whose windows found copy-paste among the texts they keep
    (so its texts are fingerprinted already: a burst keeps the minutes after it
    unusual, and its copies in the texts, until its last minute leaves them), and only
    for a bucket that held ``duplicate_min`` posts and twice its expected volume:
    copy-paste that does not raise a minute's volume cannot move a window's, and every
    other minute must stay cheap."""
    t = leaving.totals
    if t.volume < max(p.duplicate_min, 2.0 * t.expected):
        return ring
    copies, calm = copies_in((leaving, *ring[old + 1:]), p.duplicate_min,
                             p.negative_threshold)
    if not copies:
        return ring
    return (*ring[:old], leaving.stripped(copies, calm), *ring[old + 1:])


def _calmer(streak: int) -> int:
    """One more calm bucket: ``streak`` counts escalating buckets up and calm ones down."""
    return max(min(streak, 0) - 1, -1_000_000)


def _learn_lagged(base: Baseline, ring: tuple[Bucket, ...], streak: int, p: DetectorParams,
                  dispersion: float, guarded: bool = False, build: Build | None = None,
                  hold_tone: bool = False) -> Baseline:
    """Learn the bucket ``learn_lag`` buckets back, once every bucket since has been calm.

    Learning lags so that the start of a storm, which looks ordinary until it has
    grown, is judged before it is learned: if the entity escalates within
    ``learn_lag`` buckets, its build-up is never learned. While a ``build`` stands at
    ``tone_hold`` of its alarm, its tone is not learned either: a creep over a day
    never escalates a minute, and learned, it raised the usual share it is judged
    against until it never called. Nor while the volume is unusual (``hold_tone``):
    the usual tone is learned from usual minutes. The share learns per post, so an
    hour of a news spike at eight times the volume taught it as much as eight calm
    hours (0.205 -> 0.176 in the unit test), and a quiet official's storm at `watch`
    taught it the storm's own tone."""
    lag = p.learn_lag
    if streak > -lag or len(ring) <= lag:
        return base
    b = ring[-lag - 1]
    t = b.totals
    tone = not hold_tone and (build is None or build.score < p.tone_hold * p.cusum_alarm)
    return base.learn(b.start, t.volume, p.baseline, t.scored, t.mass, dispersion, guarded,
                      tone)


def _amplifying(recent: Window, hour: Window, p: DetectorParams) -> bool:
    """A high-reach account amplifies the storm: in the ``recent`` window, one posts
    something hostile, reshares a post, or posts what others have reshared at least
    ``amplify_reshares`` times over the ``hour``. A minister's own announcement or a
    newsdesk's headline that nobody passes on is reach, not amplification: it must not
    lower the floors of the news spike it starts."""
    roots: dict[str, int] | None = None
    for b in recent.buckets:
        for post in b.texts:
            if post.followers < p.high_reach:
                continue
            if post.reshare_of is not None or (
                    post.hostility is not None and post.hostility >= p.negative_threshold):
                return True
            if roots is None:
                roots = {}
                for other in hour.buckets:
                    for root, n in other.roots:
                        roots[root] = roots.get(root, 0) + n
            if roots.get(post.id, 0) >= p.amplify_reshares:
                return True
    return False


def build_might(build: Build, p: DetectorParams) -> bool:
    """The CUSUM has started to climb (a coarse bucket's coordination then matters)."""
    return build.score > 0.0


def _in_build(build: Build, p: DetectorParams, hours: float) -> bool:
    """A build past its alarm is kept out of the baseline, as a storm is; with
    ``level_shift_hours`` set (> 0), not once it has run that long (``hours`` so far)
    without its tone up. The CUSUM counts hostile mentions, volume x share, so a lasting
    rise in volume at the usual tone (a level shift: an organisation in the news for
    weeks) crosses its alarm too; kept out, the new level is never learned, the build
    never ends, and every pile-on for days is judged against the old level
    (detection.md, "2026-12-01: a level shift"). "Up" is significant (``level_shift_z``)
    and material: at least ``min_shift`` of the run's extra volume, as for a window. Over
    days of a 3x level, a shift of 0.01 is significant at z 1-3, and held the baseline of
    a 25-an-hour department for days (detection.md, "2026-12-02: a level shift's
    tone must be up by a material amount")."""
    if build.score < p.cusum_alarm:
        return False
    if p.level_shift_hours <= 0.0 or hours < p.level_shift_hours:
        return True
    tone = build_tone(build)  # None: no tone to tell it by, and volume alone is no storm
    return (tone is not None and tone[0] > 0.0 and tone[1] >= p.level_shift_z
            and tone[0] >= p.min_shift * build_excess(build))


_NONE = (0.0, 0.0, 0.0)
_AUTHORS = attrgetter("authors")  # of a Coarse
_RECENT_MASK = (1 << MAX_SUSTAIN_WITHIN) - 1


def _surprises(sums: tuple[Totals, ...], share0: float, dispersion: tuple[float, ...],
               p: DetectorParams, uncertainty: float) -> tuple[float, float, float]:
    """This bucket's surprise scores (max over the short scales, raw volume): volume,
    hostile mentions where the tone is surprising too, hostile share; ``_NONE`` when
    none can reach the tail (START).

    A count's root deviance never exceeds its Pearson residual above expectation, so
    windows whose Pearson residual is below START skip the logarithms. Hostile
    mentions count only where the share is up: a news spike (volume, usual tone)
    must not teach an entity that hostile surges are ordinary."""
    volume_z = hostile_z = share_z = 0.0
    for t, d, m in zip(sums, dispersion, p.scales, strict=True):
        e = t.expected
        x = t.volume
        if x <= e:
            continue
        u = m * uncertainty
        e = max(e, 0.5)
        if (x - e) * (x - e) > START * START * (d + u) * e:
            volume_z = max(volume_z, poisson_z(x, e, d + u))
        if t.scored >= p.min_share_posts and t.mass > share0 * t.scored:
            sz = binomial_z(t.mass, t.scored, share0, 1.5)
            share_z = max(share_z, sz)
            if sz > START:
                h = t.mass / t.scored * x
                hostile_z = max(hostile_z, poisson_z(h, max(e * share0, 0.5 * share0),
                                                     THREADS + u))
    if volume_z <= START and share_z <= START and hostile_z <= START:
        return _NONE
    return volume_z, hostile_z, share_z


def _to_learn(surprise: tuple[float, float, float],
              thresholds: Thresholds) -> tuple[float, float, float]:
    """What the tails learn of a bucket's surprises.

    Volume: capped ``_TAIL_CAP`` above its threshold, so that an entity whose news
    spikes recur raises its volume threshold step by step, and one burst cannot.
    Hostile mentions and hostile share: a score above the entity's threshold is an
    alarm (SPOT), and its run is not learned at all. A storm's build-up is judged
    minutes or hours before it escalates; learned, one such run lifted an entity's
    hostile threshold from 4.3 to 5.8 in the middle of a storm, which was then
    warned 80 minutes later. Only a short, lone alarm run (a pile-on: see
    ``DetectorParams.alarm_learn_within``) is learned, after it, and at the threshold it
    crossed, not its peak: one peak learned at 6.2 lifted a department's bar from 5.3
    to 9.3, at the threshold to 7.9."""
    volume, hostile, share = surprise
    return (min(volume, thresholds.volume + _TAIL_CAP),
            hostile if hostile <= thresholds.hostile else ALARM + thresholds.hostile,
            share if share <= thresholds.share else ALARM + thresholds.share)


def _in_run(tails: tuple[Tail, Tail, Tail]) -> bool:
    """A run of surprises is under way in some tail (its end is still to be learned)."""
    return tails[0].peak > 0.0 or tails[1].peak > 0.0 or tails[2].peak > 0.0


def _learn_tails(tails: tuple[Tail, Tail, Tail], surprise: tuple[float, float, float],
                 n: int, p: DetectorParams) -> tuple[Tail, Tail, Tail]:
    echo = max(p.scales)  # an alarm stays in the longest window this long
    within = p.alarm_learn_within
    return (tails[0].learn(surprise[0], n, echo), tails[1].learn(surprise[1], n, echo, within),
            tails[2].learn(surprise[2], n, echo, within))


def _mark_alarms(tails: tuple[Tail, Tail, Tail], learned: tuple[float, float, float],
                 n: int, p: DetectorParams) -> tuple[Tail, Tail, Tail]:
    """An escalating bucket's alarms (hostile mentions, hostile share; ``learned`` is
    :func:`_to_learn`'s) marked on their tails' runs: nothing else of it is learned, and
    no run ends in it."""
    echo = max(p.scales)
    hostile, share = learned[1], learned[2]
    return (tails[0],
            tails[1].learn(hostile, n, echo) if hostile >= ALARM else tails[1],
            tails[2].learn(share, n, echo) if share >= ALARM else tails[2])


def _merge_top(buckets: tuple[Bucket, ...], k: int) -> tuple[tuple[str, int], ...]:
    best: dict[str, int] = {}
    for b in buckets:
        for author, followers in b.top_authors:
            if followers > best.get(author, -1):
                best[author] = followers
    return ranked(best)[:k]


def _top_author(buckets: tuple[Bucket, ...]) -> tuple[tuple[str, int], ...]:
    """``_merge_top(buckets, k)[:1]`` for k >= 1, without ranking every author: the
    highest followers of any author, ties by name.

    >>> b = Bucket(0.0, top_authors=(("@b", 90), ("@a", 5)))
    >>> c = Bucket(60.0, top_authors=(("@c", 7), ("@a", 90)))
    >>> _top_author((b, c)), _merge_top((b, c), 5)[:1]
    ((('@a', 90),), (('@a', 90),))
    """
    top: tuple[str, int] | None = None
    for b in buckets:
        for pair in b.top_authors:
            if top is None or pair[1] > top[1] or (pair[1] == top[1] and pair[0] < top[0]):
                top = pair
    return () if top is None else (top,)


_NO_OTHERS: Counter[str] = Counter()  # read only (linkage without linked entities)


def _co_mentions(buckets: tuple[Bucket, ...]) -> Counter[str]:
    return summed(chain.from_iterable(b.others for b in buckets))


def _hashtags(buckets: tuple[Bucket, ...], call_only: bool) -> tuple[tuple[str, int], ...]:
    counts: Counter[str] = Counter()
    for b in buckets:
        counts.update(b.hashtags(call_only))
    return ranked(counts)


# Evidence re-reads the newest kept posts every minute of a storm, so most texts were
# read a minute ago. A pure function of the text: a cache hit never changes a verdict.
@lru_cache(maxsize=16_384)
def _terms(text: str) -> frozenset[str]:
    """Distinct evidence terms of a post: words, not tags, handles, numbers or stop words."""
    return frozenset(t for t in tokens(text) if len(t) > 2 and t[0] not in "#@"
                     and t not in _STOP and not t.isdigit() and "/" not in t)


def _sum_totals(a: Totals, b: Totals) -> Totals:
    """``a + b`` field by field (``Totals._make`` without its call and length check)."""
    return tuple.__new__(Totals, map(add, a, b))


def _minute(t: Totals) -> tuple[int, float, float]:
    """The closed minute's own figures, for the incident timeline: a verdict's
    ``minute_volume``, ``minute_expected`` and ``minute_negativity``."""
    return t.volume, round(t.expected, 3), round(t.share, 4)

