"""Rarity per entity: how surprising a surprise is *for this entity*.

A z-score of 5 is once a year for a steady policy and twice a day for a
partner in the news every morning. Each entity therefore keeps the tail of its
own surprise scores and sets its threshold where a false-alarm budget puts it,
peaks-over-threshold style (SPOT: Siffer et al., "Anomaly Detection in Streams
with Extreme Value Theory", KDD 2017): scores above ``start`` are *excesses*; a
generalised Pareto tail fitted to them (by the method of moments, O(1) per
bucket, four numbers of state) extrapolates the score exceeded with
probability ``q`` per bucket.

Two differences from SPOT, both for streams of mentions:

- the sums are discounted (a memory of about four weeks), so the tail follows
  an entity whose news cycle changes (DSPOT's drift handling, more simply);
- a new entity starts from a prior tail worth ``prior`` excesses (a global
  default, documented), so it is usable from its first hour and becomes its
  own as excesses accumulate (pooling per kind without cross-entity state).

The detector never learns a bucket it judged escalating, so a storm does not
teach an entity that storms are normal.
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["PRIOR_MEAN_EXCESS", "PRIOR_RATE", "START", "Tail"]

START = 2.0  # surprise scores above this are excesses
PRIOR_RATE = 0.04  # the prior tail: a score above START in 4% of buckets...
PRIOR_MEAN_EXCESS = 0.6  # ... exceeding it by 0.6 on average, exponentially (shape 0)
MEMORY = 40_320  # buckets (four weeks of minutes)
_KEEP = 1.0 - 1.0 / MEMORY


class Tail(NamedTuple):
    """Discounted peaks-over-threshold sums of one surprise score.

    >>> t = Tail()
    >>> round(t.threshold(q=1.5e-3, prior=20), 2)  # the prior alone
    3.97
    >>> for i in range(20_000):  # an entity with big, frequent spikes
    ...     t = t.learn(6.0 if i % 200 == 0 else 0.5)
    >>> t.threshold(q=1.5e-3, prior=20) > 6.0
    True
    >>> Tail(*Tail().learn(3.0)) == Tail().learn(3.0)
    True
    """

    n: float = 0.0  # buckets seen (discounted)
    k: float = 0.0  # excesses over START
    s1: float = 0.0  # their sum
    s2: float = 0.0  # their sum of squares

    def learn(self, score: float) -> Tail:
        """One bucket's score folded in."""
        if score <= START:
            if self.k == 0.0:
                return Tail(self.n * _KEEP + 1.0)
            return Tail(self.n * _KEEP + 1.0, self.k * _KEEP, self.s1 * _KEEP,
                        self.s2 * _KEEP)
        y = score - START
        return Tail(self.n * _KEEP + 1.0, self.k * _KEEP + 1.0, self.s1 * _KEEP + y,
                    self.s2 * _KEEP + y * y)

    def threshold(self, q: float, prior: float) -> float:
        """The score exceeded with probability ``q`` per bucket, from this entity's tail
        pooled with a prior tail worth ``prior`` excesses."""
        k0 = prior
        k = self.k + k0
        if k <= 0.0:
            return START
        n = self.n + k0 / PRIOR_RATE
        s1 = self.s1 + k0 * PRIOR_MEAN_EXCESS
        s2 = self.s2 + k0 * 2.0 * PRIOR_MEAN_EXCESS ** 2  # exponential: E[y^2] = 2 m^2
        rate = k / n
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
