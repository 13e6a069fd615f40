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

Surprises come in runs (a spike keeps a 15-minute window surprising for 15
buckets), so excesses are *declustered*: a run of scores above ``START`` is
one excess, its peak, learned when the run ends. The tail is then one of
episodes, and ``q`` is the false-alarm budget in episodes per bucket.

Cost: a bucket whose score is below ``START`` outside a run (nearly all of
them) changes nothing: the discount is applied when the next excess arrives,
from the number of buckets learned since (the caller's count, ``n``).

The detector never learns a bucket it judged escalating, so a storm does not
teach an entity that storms are normal.
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["ALARM", "MEMORY", "PRIOR_MEAN_EXCESS", "PRIOR_RATE", "START", "Tail"]

START = 2.0  # surprise scores above this are excesses
ALARM = 99.0  # a score passed as this crossed the entity's threshold: its run is not learned
PRIOR_RATE = 0.004  # the prior tail: a run above START starts in 0.4% of buckets...
PRIOR_MEAN_EXCESS = 0.6  # ... its peak exceeding START by 0.6 on average, exponentially
MEMORY = 40_320  # buckets (four weeks of minutes)
_KEEP = 1.0 - 1.0 / MEMORY


class Tail(NamedTuple):
    """Discounted peaks-over-threshold sums of one surprise score, declustered.

    ``n`` in :meth:`learn` and :meth:`threshold` is the number of buckets learned
    so far (the baseline's count).

    >>> t = Tail()
    >>> round(t.threshold(q=1e-4, prior=20, n=0), 2)  # the prior alone
    4.21
    >>> for i in range(20_000):  # an entity with big spikes of 10 buckets, twice a day
    ...     t = t.learn(6.0 if i % 720 < 10 else 0.5, n=i)
    >>> round(t.k), t.threshold(q=1e-4, prior=20, n=20_000) > 6.0  # 28 runs, discounted
    (22, True)
    >>> Tail().learn(1.0, n=5) == Tail()  # below START, no run: nothing to remember
    True
    """

    k: float = 0.0  # runs above START (discounted to bucket ``at``)
    s1: float = 0.0  # the sum of their peaks' excesses
    s2: float = 0.0  # the sum of their squares
    at: int = 0  # the bucket count when last updated
    peak: float = 0.0  # the peak of the run under way (0: none)
    hold: int = 0  # no run starts before this bucket count: an alarm's echo (see learn)

    def learn(self, score: float, n: int, echo: int = 0) -> Tail:
        """Bucket ``n``'s score folded in: a run grows, or ends and is learned. A run
        in which a score was :data:`ALARM` (it crossed the entity's threshold) is an
        alarm, not an ordinary surprise, and is forgotten when it ends (SPOT). For
        ``echo`` buckets after it, no run starts: the longer windows still hold the
        alarm's posts, and their scores flicker about START as it leaves them (learned,
        one three-minute hostile burst taught an entity four runs and lifted its
        threshold from 5.5 to 6.1).

        >>> Tail().learn(3.0, 1).learn(ALARM, 2).learn(0.0, 3).k  # forgotten
        0.0
        >>> held = Tail().learn(ALARM, 2).learn(0.0, 3, echo=60)  # no run before bucket 63
        >>> held.learn(2.5, 30).learn(0.0, 31) == held
        True
        >>> held.learn(2.5, 70).learn(0.0, 71).k  # a run after the echo is learned
        1.0
        """
        if score > START:
            if n < self.hold:
                return self
            if score <= self.peak:
                return self
            return Tail(self.k, self.s1, self.s2, self.at, score, self.hold)
        if self.peak == 0.0:
            return self
        if self.peak >= ALARM:
            return Tail(self.k, self.s1, self.s2, self.at, 0.0, n + echo)
        y = self.peak - START
        if self.k == 0.0:
            return Tail(1.0, y, y * y, n, 0.0, self.hold)
        d = _KEEP ** max(n - self.at, 0)
        return Tail(self.k * d + 1.0, self.s1 * d + y, self.s2 * d + y * y, n, 0.0, self.hold)

    def threshold(self, q: float, prior: float, n: int, prior_shape: float = 0.0) -> float:
        """The score a run peaks above with probability ``q`` per bucket, from this
        entity's tail (after ``n`` buckets) pooled with a prior worth ``prior`` runs.

        The prior's peaks exceed START by PRIOR_MEAN_EXCESS on average, with a
        generalised Pareto tail of shape ``prior_shape`` (0: exponential). Volume
        surprises take a heavy one: attention comes in news spikes of any size, so an
        entity's first days are judged against heavy-tailed volume, not Gaussian-like.

        >>> round(Tail().threshold(5e-5, 8.0, 0), 2), round(Tail().threshold(5e-5, 8.0, 0, 0.3), 2)
        (4.63, 5.81)
        """
        d = _KEEP ** max(n - self.at, 0)
        k = self.k * d + prior
        if k <= 0.0:
            return START
        seen = (1.0 - _KEEP ** n) / (1.0 - _KEEP)  # buckets, discounted as the sums are
        total = seen + prior / PRIOR_RATE
        s1 = self.s1 * d + prior * PRIOR_MEAN_EXCESS
        # A generalised Pareto of mean m and shape xi has E[y^2] = 2 m^2 (1-xi) / (1-2 xi).
        heavy = (1.0 - prior_shape) / (1.0 - 2.0 * prior_shape)
        s2 = self.s2 * d + prior * 2.0 * PRIOR_MEAN_EXCESS ** 2 * heavy
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
