"""Escalation detector: one entity's buckets against its seasonal baseline.

``observe`` folds one observation into an entity's state (O(1): counters and a
link in an immutable chain); ``tick`` closes every bucket that ended at or
before event time ``now``; both return the new state and one
:class:`~models.verdict.Verdict` per closed bucket (severity ``None`` when
normal). On each close the bucket is summarised (:mod:`models.window`), the
windows of every time scale are tested against the baseline
(:mod:`models.signals`), the ladder decides (:mod:`models.escalation`), and
the baseline learns the bucket only if it was not escalating
(:mod:`models.baseline`). The method is written up in ``docs/detection.md``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import chain, islice
from typing import Any

from models.baseline import Baseline, BaselineParams
from models.escalation import judge
from models.matcher import tokens
from models.observation import Observation
from models.signals import (
    Scale,
    Signal,
    calls_to_action,
    coordination,
    linkage,
    poisson_z,
    reach,
    velocity,
)
from models.verdict import Evidence, Sample, Verdict
from models.window import Bucket, OpenBucket, Post, Totals, Window, ranked, slide

__all__ = ["Detector", "DetectorParams", "EntityState"]

_STOP_WORDS = (
    "a an the and or but if of to in on at for from by with about as is are was were be been "
    "it its this that these those i you he she we they me my our your their them his her "
    "not no so do does did done have has had will would should can could just than then "
    "there here what who how why when all any more most very too also up out over into "
    "rt amp via get got im dont its it's i'm"
)
_STOP = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True, slots=True)
class DetectorParams:
    """Every knob of detection, with the defaults documented in docs/detection.md."""

    bucket_seconds: int = 60
    scales: tuple[int, ...] = (5, 15, 60)  # window lengths, in buckets
    warmup: int = 1440  # buckets learned before any verdict (a day: every hour seen once)
    negative_threshold: float = 0.5  # a post counts as negative at this scorer probability
    # Volume surprise (Poisson, over-dispersed) on organic volume.
    z_volume: float = 4.0
    min_excess: float = 8.0  # mentions above expected, so a quiet night's 3 posts are not news
    min_ratio: float = 2.0  # and at least this multiple of expected
    # Negative-share shift (binomial).
    z_negative: float = 3.0
    min_shift: float = 0.15  # share points above baseline
    min_share_posts: int = 10  # posts in the window before negativity alone is judged
    # Escalation: sustained, spread, not a blip.
    min_authors: int = 8
    sustain: int = 3  # consecutive escalating buckets before warning
    blip_share: float = 0.5  # one bucket holding more than this of a window is a blip
    critical_score: float = 8.0
    critical_ratio: float = 4.0
    critical_authors: int = 25
    boosts: tuple[tuple[str, float], ...] = (
        ("velocity", 1.0), ("reach", 1.0), ("calls_to_action", 1.0), ("linkage", 0.5))
    # Coordination.
    author_cap: int = 2  # posts per author per bucket before the rest count as coordinated
    author_window_cap: int = 4  # posts per distinct author per window counted as organic
    duplicate_min: int = 3  # a text repeated this often (normalised) is copy-paste
    coordination_reason: float = 0.2  # report coordination above this share
    # Reach, calls to action, linkage.
    high_reach: int = 50_000  # followers
    centre_reshares: int = 3  # reshares of one post among the kept ones that make it the centre
    call_share: float = 0.15
    linked_share: float = 0.1
    # Evidence.
    keep_texts: int = 40  # texts kept per bucket (sample for copy-paste, calls, terms)
    evidence_minutes: int = 15
    evidence_posts: int = 60  # newest kept posts read for terms and samples
    samples: int = 3
    top_authors: int = 5
    top_terms: int = 10
    baseline: BaselineParams = field(default_factory=BaselineParams)


@dataclass(frozen=True, slots=True)
class EntityState:
    """One entity's open bucket, recent closed buckets and baseline: a JSON-safe value.

    >>> s = EntityState()
    >>> EntityState.from_dict(s.to_dict()) == s
    True
    """

    open: OpenBucket | None = None
    baseline: Baseline = field(default_factory=Baseline)
    ring: tuple[Bucket, ...] = ()
    dispersion: tuple[float, ...] = ()  # per scale, Pearson residual of normal windows
    streak: int = 0  # consecutive escalating buckets
    totals: tuple[Totals, ...] = ()  # per scale, sums over its window (slid per bucket)

    def to_dict(self) -> dict[str, Any]:
        return {"open": None if self.open is None else self.open.to_dict(),
                "baseline": self.baseline.to_dict(), "ring": [b.to_dict() for b in self.ring],
                "dispersion": list(self.dispersion), "streak": self.streak,
                "totals": [list(t) for t in self.totals]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntityState:
        return cls(open=None if data["open"] is None else OpenBucket.from_dict(data["open"]),
                   baseline=Baseline.from_dict(data["baseline"]),
                   ring=tuple(Bucket.from_dict(b) for b in data["ring"]),
                   dispersion=tuple(map(float, data["dispersion"])),
                   streak=int(data["streak"]),
                   totals=tuple((int(v), int(k), float(e), int(x), int(h))
                                for v, k, e, x, h in data["totals"]))


@dataclass(frozen=True, slots=True)
class Detector:
    """Flags escalating negative attention against a seasonal, robust baseline.

    A flat series of four mentions a minute, a quarter of them negative, and
    then a negative surge from many authors:

    >>> d = Detector(DetectorParams(warmup=120))
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
    [None, None, None, None, None, 'watch', 'watch', 'watch', 'critical', 'critical',
     'critical', 'critical', 'critical', 'critical']
    >>> EntityState.from_dict(state.to_dict()) == state
    True
    """

    params: DetectorParams = field(default_factory=DetectorParams)
    linked: Mapping[str, tuple[str, ...]] | None = None

    def initial(self) -> EntityState:
        return EntityState()

    def observe(self, state: EntityState, obs: Observation) -> tuple[EntityState, list[Verdict]]:
        """Fold one observation in, closing the buckets it shows have ended."""
        p = self.params
        bucket = state.open
        verdicts: list[Verdict] = []
        if bucket is None:
            bucket = OpenBucket(obs.ts - obs.ts % p.bucket_seconds)
        elif obs.ts >= bucket.start + p.bucket_seconds:
            state, verdicts = self.tick(state, obs.ts, obs.entity_id)
            bucket = state.open
        # A late observation (event time before the open bucket) counts in the open bucket.
        followers = obs.followers or 0
        post = None
        if len(bucket.texts) < p.keep_texts:
            post = (obs.mention_id, obs.author, obs.text, followers, obs.negativity,
                    obs.reshare_of is not None, obs.ts, obs.url, obs.reshare_of)
        negative = obs.negativity is not None and obs.negativity >= p.negative_threshold
        bucket = bucket.add(obs.author, followers, obs.others, negative, post)
        return EntityState(bucket, state.baseline, state.ring, state.dispersion,
                           state.streak, state.totals), verdicts

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
        p = self.params
        bp = p.baseline
        base = state.baseline
        open_ = state.open
        assert open_ is not None
        bucket = open_.close(base.expected(open_.start, bp), p)
        ring = (*state.ring[-max(p.scales):], bucket)  # one extra: the bucket leaving the window
        old = len(ring) - p.evidence_minutes - 1
        if old >= 0 and ring[old].texts:
            ring = (*ring[:old], ring[old].stripped(), *ring[old + 1:])
        sums = tuple(slide(t, ring, m) for t, m in zip(
            state.totals or ((0, 0, 0.0, 0, 0),) * len(p.scales), p.scales, strict=True))
        dispersion = state.dispersion or (1.5,) * len(p.scales)
        share0 = base.negative_share(bp)
        at = open_.start + p.bucket_seconds
        next_open = OpenBucket(at)

        if sums[-1][0] == 0 or not self._unusual(sums, share0, dispersion):
            # Nothing can be unusual: learn the bucket and move on cheaply, from the
            # window sums alone (most buckets of most entities end here).
            baseline = base.learn(open_.start, bucket.n, bucket.negative, bp, dispersion[0])
            dispersion = self._learn_dispersion(dispersion, sums, len(ring), base.n)
            volume, negative, expected = sums[0][:3]
            verdict = Verdict(entity_id, at, None, 0.0, volume, round(expected, 3),
                              round(negative / volume, 4) if volume else 0.0,
                              round(share0, 4), **_minute(bucket),
                              window_seconds=float(p.scales[0] * p.bucket_seconds))
            return EntityState(next_open, baseline, ring, dispersion, 0, sums), verdict

        warm = base.n >= p.warmup
        windows = [Window(m, *t, ring[-m:]) for m, t in zip(p.scales, sums, strict=True)]
        scales = [self._scale(w, share0, d) for w, d in zip(windows, dispersion, strict=True)]
        extras = self._extras(windows, scales, entity_id) if any(
            s.volume_z >= p.z_volume for s in scales) else []
        judgement = judge(scales, [w.busiest() for w in windows], extras, state.streak,
                          warm, p)
        best = judgement.best
        evidence = Evidence()
        if judgement.severity is not None:
            evidence = self._evidence(ring, entity_id, best.coordinated_share)
        verdict = Verdict(entity_id, at, judgement.severity, round(judgement.score, 3),
                          best.volume, round(best.expected, 3), round(best.share, 4),
                          round(share0, 4), judgement.reasons, evidence, **_minute(bucket),
                          window_seconds=float(best.minutes * p.bucket_seconds))
        baseline = base
        if not judgement.escalating:
            # Escalating buckets are not learned: a storm must not become the new normal.
            baseline = base.learn(open_.start, bucket.n, bucket.negative, bp, dispersion[0])
            if judgement.severity is None:
                dispersion = self._learn_dispersion(dispersion, sums, len(ring), base.n)
        return EntityState(next_open, baseline, ring, dispersion, judgement.streak,
                           sums), verdict

    def _unusual(self, sums: tuple[Totals, ...], share0: float,
                 dispersion: tuple[float, ...]) -> bool:
        """A cheap pre-check on the window sums: could any scale be a watch or more?"""
        p = self.params
        for (volume, negative, expected, _, _), d in zip(sums, dispersion, strict=True):
            base = max(expected, 0.5)
            if volume - expected >= p.min_excess and volume >= p.min_ratio * base and (
                    poisson_z(volume, base, d) >= p.z_volume):
                return True
            if volume >= p.min_share_posts and negative / volume - share0 >= p.min_shift:
                return True
        return False

    def _scale(self, w: Window, share0: float, dispersion: float) -> Scale:
        p = self.params
        organic = float(w.volume - w.excess)
        authors = float(w.volume)
        if w.volume >= p.min_excess and w.volume >= p.min_ratio * max(w.expected, 0.5):
            # Only a window that could be escalating pays for the coordination estimate.
            dup = w.duplicate_share(p.duplicate_min)
            organic = max(0.0, organic - dup * organic)
            authors = w.distinct_authors()
            organic = min(organic, authors * p.author_window_cap)
        return Scale(w.minutes, w.volume, w.expected, organic, w.negative, share0, authors,
                     dispersion)

    def _extras(self, windows: list[Window], scales: list[Scale],
                entity_id: str) -> list[Signal | None]:
        p = self.params
        short, mid, long = scales[0], scales[min(1, len(scales) - 1)], scales[-1]
        w = windows[min(1, len(windows) - 1)]
        tops = _merge_top(w.buckets, p.top_authors)
        hashtags = _hashtags(w.buckets, call_only=True)
        others = _co_mentions(w.buckets)
        linked = (self.linked or {}).get(entity_id, ())
        coordinated = max(scales, key=lambda s: s.coordinated_share if s.volume >= 10 else 0.0)
        return [
            velocity(short, long),
            reach(w.high_reach, tops, p.high_reach),
            calls_to_action(w.call_share(), hashtags, p.call_share),
            linkage(others, linked, mid.volume, p.linked_share),
            coordination(coordinated, p.coordination_reason),
        ]

    def _learn_dispersion(self, dispersion: tuple[float, ...], sums: tuple[Totals, ...],
                          filled: int, n: int) -> tuple[float, ...]:
        """Track each scale's over-dispersion; ``filled`` is how many buckets the ring holds
        (a scale learns only once its window is full)."""
        a = max(1.0 / (n + 1), 1.0 / 1440)
        out = []
        for d, (volume, _, expected, _, _), minutes in zip(dispersion, sums, self.params.scales,
                                                           strict=True):
            if filled < minutes:
                out.append(d)
                continue
            e = max(expected, 0.5)
            residual = min((volume - e) ** 2 / e, 25.0)
            out.append(max(1.0, d + a * (residual - d)))
        return tuple(out)

    def _evidence(self, ring: tuple[Bucket, ...], entity_id: str,
                  coordinated: float) -> Evidence:
        p = self.params
        recent = ring[-p.evidence_minutes:]
        posts = list(islice(chain.from_iterable(b.texts for b in reversed(recent)),
                            p.evidence_posts))
        terms = Counter(chain.from_iterable(_terms(post[2]) for post in posts))
        originals = [t for t in posts if not t[5]]
        most_negative = sorted(originals, key=lambda t: (-(t[4] or 0.0), -t[3], t[0]))
        samples, seen = [], set()
        for post in most_negative:
            if post[1] not in seen and post[2] not in {s.text for s in samples}:
                samples.append(_sample(post))
                seen.add(post[1])
            if len(samples) == p.samples:
                break
        others = _co_mentions(recent)
        links = set((self.linked or {}).get(entity_id, ()))
        linked = sorted(others.items(), key=lambda kv: (kv[0] not in links, -kv[1], kv[0]))
        return Evidence(
            top_terms=ranked(terms)[:p.top_terms],
            top_hashtags=_hashtags(recent, call_only=False)[:5],
            samples=tuple(samples),
            top_authors=_merge_top(recent, p.top_authors),
            linked=tuple(linked[:5]),
            coordinated_share=round(coordinated, 3),
            centre=_centre(posts, p.centre_reshares),
            high_reach=_high_reach(posts, p.high_reach, p.samples),
        )


def _sample(post: Post, reshares: int | None = None) -> Sample:
    mid, author, text, followers, negativity, _, ts, url, _ = post
    return Sample(mid, author, text, followers,
                  None if negativity is None else round(negativity, 3), ts, url, reshares)


def _centre(posts: list[Post], least: int) -> Sample | None:
    """The post reshared most among the kept posts (at least ``least`` times): what the
    storm is about. Shown as the original when it was kept, else as its first reshare."""
    counts = Counter(post[8] for post in posts if post[8])
    if not counts:
        return None
    target, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if n < least:
        return None
    original = next((post for post in posts if post[0] == target), None)
    if original is not None:
        return _sample(original, n)
    first = min((post for post in posts if post[8] == target), key=lambda t: (t[6] or 0, t[0]))
    return replace(_sample(first, n), id=target)


def _high_reach(posts: list[Post], followers: int, k: int) -> tuple[Sample, ...]:
    """Posts of the accounts with the most followers (at least ``followers``), one each."""
    out, seen = [], set()
    for post in sorted(posts, key=lambda t: (-t[3], t[0])):
        if post[3] < followers or len(out) == k:
            break
        if post[1] not in seen:
            out.append(_sample(post))
            seen.add(post[1])
    return tuple(out)


def _merge_top(buckets: tuple[Bucket, ...], k: int) -> tuple[tuple[str, int], ...]:
    best: dict[str, int] = {}
    for b in buckets:
        for author, followers in b.top_authors:
            if followers > best.get(author, -1):
                best[author] = followers
    return ranked(best)[:k]


def _co_mentions(buckets: tuple[Bucket, ...]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for b in buckets:
        for entity_id, n in b.others:
            counts[entity_id] += n
    return counts


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


def _minute(bucket: Bucket) -> dict[str, float | int]:
    """The closed minute's own figures, for the incident timeline."""
    return {"minute_volume": bucket.n, "minute_expected": round(bucket.expected, 3),
            "minute_negativity": round(bucket.negative / bucket.n, 4) if bucket.n else 0.0}
