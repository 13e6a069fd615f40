"""Long horizons: coarse buckets for 3-24 hour windows, and an accumulating detector.

A complaint that creeps up over a day is invisible to a 60-minute window: each
hour is only a little above the last. Two things see it:

- **long windows** over *coarse* buckets (15 minutes by default), so a 24-hour
  window is 96 small records, not 1,440 minute buckets: the state written
  after each batch does not grow with the horizon;
- a **CUSUM** (Page, 1954) on hostile mentions (organic volume x hostile
  share) against the seasonal expectation, per coarse bucket: the
  log-likelihood ratio of "hostile mentions run at ``ratio`` x expected"
  against "as expected", summed and floored at zero. It crosses its alarm
  when the evidence has built up, however slowly, and the bucket after it
  last stood at zero is when the build started.

Over-dispersion is honoured by dividing each bucket's log-likelihood ratio by
the dispersion of coarse hostile counts (learned from normal buckets), so a
bursty entity needs more evidence than a steady one.
"""

from __future__ import annotations

import math
from operator import add
from typing import Any, NamedTuple

from models.window import ZERO, Totals

__all__ = ["Build", "Coarse"]


class Coarse(NamedTuple):
    """One coarse bucket: the sum of its minute buckets, and its distinct authors."""

    start: float
    totals: Totals
    authors: float

    def to_list(self) -> list[Any]:
        return [self.start, list(self.totals), self.authors]

    @classmethod
    def from_list(cls, data: list[Any]) -> Coarse:
        return cls(float(data[0]), Totals.from_list(data[1]), float(data[2]))


class Build(NamedTuple):
    """CUSUM state on hostile mentions, and the sums of the run since it left zero.

    >>> b = Build()
    >>> for i in range(40):  # expected 2 hostile mentions a bucket, then 6
    ...     x = 2.0 if i < 20 else 6.0
    ...     b = b.step(60.0 * 15 * i, Totals(volume=10, scored=10, mass=x, expected=10.0),
    ...                share0=0.2, ratio=2.0, dispersion=1.0, cap=30.0)
    >>> b.score > 10, b.started
    (True, 18000.0)
    """

    score: float = 0.0
    started: float | None = None  # start of the first coarse bucket of the run
    run: Totals = ZERO  # sums over the run
    share0: float = 0.0  # baseline share when the run started

    def step(self, start: float, t: Totals, share0: float, ratio: float, dispersion: float,
             cap: float) -> Build:
        """Fold one coarse bucket (starting at ``start``) in; ``cap`` bounds the score so
        that it falls back soon after a long storm ends."""
        # A coarse bucket's coordinated posts (its excess) are taken as hostile and lend
        # the organic posts none of their hostility: a copy-paste burst among a few real
        # posts is not a build.
        hostile = t.organic_hostile(share0)
        mu = max(t.expected * share0, 1e-3)
        llr = (hostile * math.log(ratio) - (ratio - 1.0) * mu) / max(dispersion, 1.0)
        score = min(max(self.score + llr, 0.0), cap)
        if score == 0.0:
            return Build() if self.score or self.started is not None else self
        if self.started is None:
            return Build(score, start, t, share0)
        return Build(score, self.started, Totals._make(map(add, self.run, t)), self.share0)

    def to_list(self) -> list[Any]:
        return [self.score, self.started, list(self.run), self.share0]

    @classmethod
    def from_list(cls, data: list[Any]) -> Build:
        return cls(float(data[0]), None if data[1] is None else float(data[1]),
                   Totals.from_list(data[2]), float(data[3]))
