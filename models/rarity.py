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
teach an entity that storms are normal. Of the runs that crossed the entity's
threshold (alarms), only a lone short one, a pile-on, is learned, after it and
at the threshold it crossed (:meth:`Tail.learn`'s ``within``).
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
    peak: float = 0.0  # the peak of the run under way (0: none; ALARM + score: an alarm)
    hold: int = 0  # no run starts before this bucket count: an alarm's echo (see learn)
    start: int = 0  # the bucket count when the run under way started
    pending: float = 0.0  # a short alarm's excess, learned at ``due`` if no alarm came since
    due: int = 0

    def learn(self, score: float, n: int, echo: int = 0, within: int = 0) -> Tail:
        """Bucket ``n``'s score folded in: a run grows, or ends and is learned. A run
        in which a score was :data:`ALARM` + s (s crossed the entity's threshold) is an
        alarm, not an ordinary surprise, and is forgotten when it ends (SPOT), unless it
        ended within ``within`` buckets of its start and no other alarm starts in the
        ``within`` buckets after it: a short pile-on, not a storm's first wave, learned
        then at s (the detector passes the threshold the run crossed, not its peak), so
        that an entity whose pile-ons recur raises its threshold step by step. For
        ``echo`` buckets after an alarm, no run starts: the longer windows still hold
        the alarm's posts, and their scores flicker about START as it leaves them
        (learned, one three-minute hostile burst taught an entity four runs and lifted
        its threshold from 5.5 to 6.1).

        >>> Tail().learn(3.0, 1).learn(ALARM + 6.0, 2).learn(0.0, 3).k  # forgotten
        0.0
        >>> held = Tail().learn(ALARM, 2).learn(0.0, 3, echo=60)  # no run before bucket 63
        >>> held.learn(2.5, 30).learn(0.0, 31) == held
        True
        >>> held.learn(2.5, 70).learn(0.0, 71).k  # a run after the echo is learned
        1.0
        >>> short = Tail().learn(3.0, 1).learn(ALARM + 6.0, 2).learn(0.0, 30, 10, 60)
        >>> short.k, short.pending, short.due, short.hold  # a short alarm, pending ...
        (0.0, 4.0, 90, 40)
        >>> later = short.learn(0.0, 90)  # ... learned at its score if no alarm came since
        >>> later.k, later.s1, later.at, later.pending
        (1.0, 4.0, 90, 0.0)
        >>> waves = short.learn(ALARM + 5.0, 70).learn(0.0, 71, 10, 60)  # one came: a storm,
        >>> waves.learn(0.0, 500).k, waves.pending  # and neither wave is learned
        (0.0, 0.0)
        >>> Tail().learn(ALARM + 6.0, 2).learn(0.0, 90, within=60).k  # too long: forgotten
        0.0
        """
        self = self.settled(n)
        if score > START:
            if score >= ALARM and self.pending:  # another alarm: no pile-on, a storm
                self = self._replace(pending=0.0, due=0)
            if n < self.hold:
                return self
            if score <= self.peak:
                return self
            # Built directly: this runs for every surprising bucket (``_replace`` is slower).
            return Tail(self.k, self.s1, self.s2, self.at, score, self.hold,
                        self.start if self.peak > 0.0 else n, self.pending, self.due)
        if self.peak == 0.0:
            return self
        peak = self.peak
        if peak >= ALARM:
            # Long, or within ``within`` of the alarm before it (its end: hold - echo).
            wave = self.hold > 0 and self.start <= self.hold - echo + within
            if n - self.start > within or peak - ALARM <= START or wave:
                return self._replace(peak=0.0, hold=n + echo)
            return self._replace(peak=0.0, hold=n + echo, pending=peak - ALARM - START,
                                 due=n + within)
        return self._excess(peak - START, n)._replace(peak=0.0)

    def _excess(self, y: float, n: int) -> Tail:
        """One excess of ``y`` learned at bucket ``n``."""
        if self.k == 0.0:
            return self._replace(k=1.0, s1=y, s2=y * y, at=n)
        d = _KEEP ** max(n - self.at, 0)
        return self._replace(k=self.k * d + 1.0, s1=self.s1 * d + y, s2=self.s2 * d + y * y,
                             at=n)

    def settled(self, n: int) -> Tail:
        """This tail as of bucket ``n``: a pending short alarm is learned once due (a
        quiet entity calls :meth:`learn` rarely, so :meth:`threshold` settles it too)."""
        if not self.pending or n < self.due:
            return self
        return self._excess(self.pending, self.due)._replace(pending=0.0, due=0)

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
        self = self.settled(n)
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
