"""Seasonal, robust baseline of one entity's mention volume and negative share.

Expected mentions per bucket are ``level x profile[slot]``: ``level`` is a
deseasonalised running mean and ``profile`` a multiplicative shape over the 24
hours of a weekday and the 24 hours of a weekend day, so a quiet Sunday night
is judged against Sunday nights, not against a weekday noon. The negative share
is a discounted count of negative posts over a discounted count of posts, with
a weak prior so that an entity's first posts do not set it alone.

Robustness: a bucket is learned with its count clipped at a few standard
deviations above expectation (one outlier moves the level by a bounded step),
and the detector does not learn buckets it judged escalating at all, so an
ongoing storm never becomes the new normal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

__all__ = ["SLOTS", "Baseline", "BaselineParams", "slot_of"]

_new = tuple.__new__

SLOTS = 48  # 24 weekday hours, then 24 weekend hours
_DAY = 86_400.0


def slot_of(ts: float, utc_offset_hours: float = 0.0) -> int:
    """Seasonal slot of an event time: the hour, shifted by 24 on Saturday and Sunday.

    >>> slot_of(1767603600.0)  # Monday 2026-01-05 09:00 UTC
    9
    >>> slot_of(1767500000.0)  # Sunday 2026-01-04 04:13 UTC
    28
    """
    local = ts + utc_offset_hours * 3600.0
    day = math.floor(local / _DAY)
    hour = int((local - day * _DAY) // 3600.0)
    weekend = (day + 3) % 7 >= 5  # 1970-01-01 was a Thursday (Monday = 0)
    return hour + (24 if weekend else 0)


@dataclass(frozen=True, slots=True)
class BaselineParams:
    """How fast the baseline forgets and how hard it resists outliers.

    Memories are in buckets (minutes by default): the level forgets with a
    half-life of two days, the seasonal shape over about ten days of each hour,
    the negative share with a half-life of three days.
    """

    level_memory: int = 2880
    profile_memory: int = 600  # updates of one hourly slot (60 a day)
    # The flat shape (1.0) a slot starts from counts as this many updates: at 0 a slot's
    # first minute (nothing posted, for a quiet entity) sets its shape to the floor, the
    # level learns 20x the counts, and the next hour's slot expects 20x too (0 was the
    # default until v6: detection.md, "Detection v6").
    profile_prior: float = 5.0
    # A slot's shape is at most this many times the daily mean. A quiet entity's single
    # mention is x / level = 20 to 1,000 times its mean; learned per minute, twenty of
    # them set that hour's shape to tens, and the entity then expected a storm's own
    # volume in that hour (detection.md, "2026-12-03"). A day's busiest hour is rarely
    # more than 8 times its mean (a day's news in three hours is 8). 0: no bound.
    profile_cap: float = 8.0
    share_memory: int = 4320
    prior_share: float = 0.15  # hostile share assumed before data ...
    prior_posts: float = 20.0  # ... worth this many posts
    clip_sigmas: float = 4.0  # learn counts clipped at expected + this many sd
    clip_after: int = 30  # buckets learned before clipping starts
    utc_offset_hours: float = 0.0  # local time of the audience, for the daily shape
    floor: float = 1e-3  # smallest expected count per bucket
    # Gamma-Poisson prior on the level (mentions per bucket) before the entity has
    # history: the kind's rate, worth prior_weight buckets of data. Set per entity
    # from its kind by DetectorParams.for_entity.
    prior_level: float = 0.05
    prior_weight: float = 5.0


@lru_cache(maxsize=64)
def _keep(memory: int) -> float:
    """What a discounted count keeps of itself per bucket: a half-life of ``memory``."""
    return 0.5 ** (1.0 / memory)


class Baseline(NamedTuple):
    """Expected count and negative share of one entity, learned bucket by bucket (a
    tuple: one is made for every entity every minute).

    A new entity starts at its kind's prior level and pulls away as it learns:

    >>> b, p = Baseline(), BaselineParams(prior_level=1.0, prior_weight=5)
    >>> b.expected(1767603600.0, p)
    1.0
    >>> for minute in range(600):
    ...     b = b.learn(1767603600.0 + 60 * minute, count=4, params=p, scored=4, mass=1.0)
    >>> round(b.expected(1767603600.0 + 36000, p), 1), round(b.negative_share(p), 2)
    (4.0, 0.25)
    >>> Baseline.from_dict(b.to_dict()) == b
    True
    """

    level: float = 0.0
    profile: tuple[float, ...] = (1.0,) * SLOTS
    seen: tuple[int, ...] = (0,) * SLOTS
    negatives: float = 0.0  # discounted hostility mass (expected hostile posts)
    posts: float = 0.0  # discounted count of scored posts
    n: int = 0  # buckets learned

    def shape(self, slot: int) -> float:
        """Multiplicative seasonal factor of a slot, borrowed from the other day type
        (same hour) until the slot has data of its own."""
        other = (slot + 24) % SLOTS
        own, borrowed = self.seen[slot], self.seen[other]
        if own >= 60 or borrowed == 0:
            value = self.profile[slot]
        else:
            w = own / 60.0
            value = w * self.profile[slot] + (1.0 - w) * self.profile[other]
        return max(value, 0.05)

    def expected(self, ts: float, params: BaselineParams) -> float:
        """Expected count for the bucket starting at ``ts``."""
        slot = slot_of(ts, params.utc_offset_hours)
        return max(self.mean_level(params) * self.shape(slot), params.floor)

    def mean_level(self, params: BaselineParams) -> float:
        """The level, pooled with the kind's prior while the entity has little history
        (the gamma-Poisson posterior mean: the prior counts as ``prior_weight`` buckets)."""
        w = params.prior_weight
        if w <= 0.0 or self.n >= 100 * w:
            return self.level
        n = min(float(self.n), float(params.level_memory))
        return (w * params.prior_level + n * self.level) / (w + n)

    def negative_share(self, params: BaselineParams) -> float:
        """Baseline hostile share of scored posts (prior-smoothed)."""
        return (self.negatives + params.prior_share * params.prior_posts) / (
            self.posts + params.prior_posts)

    def learn(self, ts: float, count: int, params: BaselineParams, scored: int = 0,
              mass: float = 0.0, dispersion: float = 1.0, guarded: bool = False,
              tone: bool = True) -> Baseline:
        """Fold one normal bucket in: ``count`` posts, of which ``scored`` had their tone
        scored, with summed hostility ``mass``. From ``clip_after`` buckets on (at once if
        ``guarded``), a count far above expectation is clipped first; a ``guarded``
        bucket that needed clipping teaches the volume a bounded step and the tone
        nothing (how a new entity learns through a storm in its first hour). Without
        ``tone`` the bucket teaches the volume only, and the share neither learns nor
        forgets (a build under way: see ``DetectorParams.tone_hold``)."""
        slot = slot_of(ts, params.utc_offset_hours)
        shape = self.shape(slot)
        x, s, k = float(count), float(scored), float(mass)
        n = self.n
        if n >= params.clip_after or guarded:
            mu = max(self.mean_level(params) * shape, params.floor)
            cap = mu + params.clip_sigmas * math.sqrt(max(dispersion, 1.0) * mu) + 1.0
            if x > cap:
                k, s, x = k * cap / x, s * cap / x, cap
                if guarded:
                    k = s = 0.0
        a_level = max(1.0 / (n + 1), 1.0 / params.level_memory)
        old = self.level
        level = old + a_level * (x / shape - old)
        profile, seen = self.profile, self.seen
        if old > params.floor:
            a_slot = max(1.0 / (seen[slot] + 1 + params.profile_prior),
                         1.0 / params.profile_memory)
            value = profile[slot] + a_slot * (x / old - profile[slot])
            if params.profile_cap > 0.0:
                value = min(value, params.profile_cap)
            # Built from lists, not by slicing twice: this runs for every entity every minute.
            shapes, counts = list(profile), list(seen)
            shapes[slot] = value
            counts[slot] = min(counts[slot] + 1, 10**6)
            profile, seen = tuple(shapes), tuple(counts)
        # Built with tuple.__new__: the generated constructor costs more than the fields.
        if not tone:
            return _new(Baseline, (level, profile, seen, self.negatives, self.posts, n + 1))
        keep = _keep(params.share_memory)
        return _new(Baseline, (level, profile, seen, self.negatives * keep + k,
                               self.posts * keep + s, n + 1))

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "profile": list(self.profile), "seen": list(self.seen),
                "negatives": self.negatives, "posts": self.posts, "n": self.n}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Baseline:
        return cls(level=float(data["level"]), profile=tuple(map(float, data["profile"])),
                   seen=tuple(map(int, data["seen"])), negatives=float(data["negatives"]),
                   posts=float(data["posts"]), n=int(data["n"]))
