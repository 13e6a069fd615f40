"""Rarity per entity: how surprising a surprise is *for this entity*.

A z-score of 5 is once a year for a steady policy and twice a day for a
partner in the news every morning. Each entity therefore keeps the tail of its
own surprise scores and sets its threshold where a false-alarm budget puts it,
peaks-over-threshold style (SPOT: Siffer et al., "Anomaly Detection in Streams
with Extreme Value Theory", KDD 2017): scores above ``START`` are *excesses*;
a generalised Pareto tail fitted to them (by the method of moments: four
numbers of state) extrapolates the score exceeded with probability ``q`` per
bucket.

Two differences from SPOT, both for streams of mentions:

- the sums are discounted (a memory of about four weeks), so the tail follows
  an entity whose news cycle changes (DSPOT's drift handling, more simply);
- a new entity starts from a prior tail worth ``prior`` excesses (a global
  default, documented), so it is usable from its first hour and becomes its
  own as excesses accumulate (pooling without cross-entity state).

Cost: a bucket whose score is below ``START`` (nearly all of them) changes
nothing: the discount is applied when the next excess arrives, from the
number of buckets learned since (the caller's count, ``n``).

The detector never learns a bucket it judged escalating, so a storm does not
teach an entity that storms are normal.
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["MEMORY", "PRIOR_MEAN_EXCESS", "PRIOR_RATE", "START", "Tail"]

START = 2.0  # surprise scores above this are excesses
PRIOR_RATE = 0.04  # the prior tail: a score above START in 4% of buckets...
PRIOR_MEAN_EXCESS = 0.6  # ... exceeding it by 0.6 on average, exponentially (shape 0)
MEMORY = 40_320  # buckets (four weeks of minutes)
_KEEP = 1.0 - 1.0 / MEMORY


class Tail(NamedTuple):
    """Discounted peaks-over-threshold sums of one surprise score.

    ``n`` in :meth:`learn` and :meth:`threshold` is the number of buckets learned
    so far (the baseline's count).

    >>> t = Tail()
    >>> round(t.threshold(q=1.5e-3, prior=20, n=0), 2)  # the prior alone
    3.97
    >>> for i in range(20_000):  # an entity with big, frequent spikes
    ...     t = t.learn(6.0 if i % 200 == 0 else 0.5, n=i)
    >>> t.threshold(q=1.5e-3, prior=20, n=20_000) > 6.0
    True
    >>> Tail().learn(1.0, n=5) == Tail()  # below START: nothing to remember
    True
    """

    k: float = 0.0  # excesses over START (discounted to bucket ``at``)
    s1: float = 0.0  # their sum
    s2: float = 0.0  # their sum of squares
    at: int = 0  # the bucket count when last updated

    def learn(self, score: float, n: int) -> Tail:
        """Bucket ``n``'s score folded in."""
        if score <= START:
            return self
        y = score - START
        if self.k == 0.0:
            return Tail(1.0, y, y * y, n)
        d = _KEEP ** max(n - self.at, 0)
        return Tail(self.k * d + 1.0, self.s1 * d + y, self.s2 * d + y * y, n)

    def threshold(self, q: float, prior: float, n: int) -> float:
        """The score exceeded with probability ``q`` per bucket, from this entity's tail
        (after ``n`` buckets) pooled with a prior tail worth ``prior`` excesses."""
        d = _KEEP ** max(n - self.at, 0)
        k = self.k * d + prior
        if k <= 0.0:
            return START
        seen = (1.0 - _KEEP ** n) / (1.0 - _KEEP)  # buckets, discounted as the sums are
        total = seen + prior / PRIOR_RATE
        s1 = self.s1 * d + prior * PRIOR_MEAN_EXCESS
        s2 = self.s2 * d + prior * 2.0 * PRIOR_MEAN_EXCESS ** 2  # exponential: E[y^2] = 2m^2
        rate = min(k / total, 1.0)
        if q >= rate:
            return START
        mean = s1 / k
        var = max(s2 / k - mean * mean, 1e-9)
        # Generalised Pareto by the method of moments, shape clamped to a sane range.
        ratio = mean * mean / var
        shape = min(max(0.5 * (1.0 - ratio), -0.3), 0.45)
        scale = max(0.5 * mean * (ratio + 1.0), 1e-6)
        if abs(shape) < 1e-6:
            return START + scale * math.log(rate / q)
        return START + scale / shape * ((q / rate) ** -shape - 1.0)
