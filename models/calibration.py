"""Calibration: a monotone map from a model's margin to the probability it is right.

A linear model's sigmoid is a ranking, not a probability: regularisation and class
balance bend it. :class:`Calibration` is fitted on posts the model did not train
on and turns a margin into the observed rate of negatives at that margin, so that
"0.7" means seven posts in ten like it are negative.

The map is piecewise linear through stored knots and flat beyond the ends
(``numpy.interp``): two float arrays, easy to store without pickle and to
reimplement exactly. It is fitted by centred isotonic regression (pool adjacent
violators, then one knot at each pooled block's mean margin), which is monotone
like isotonic regression but strictly increasing between knots, so it keeps the
model's ranking (and its ROC-AUC) instead of tying whole blocks of posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.special import expit

__all__ = ["KINDS", "Calibration", "ReliabilityBin", "reliability"]

KINDS = ("isotonic", "platt")
# Isotonic blocks hold at least this many posts, and this share of them.
MIN_BLOCK_POSTS = 20
MIN_BLOCK_SHARE = 0.02
# Platt's sigmoid is stored as knots too, sampled this densely over the fitted range.
_PLATT_KNOTS = 257


@dataclass(frozen=True, slots=True, eq=False)
class Calibration:
    """Margin -> calibrated probability: linear between knots, flat beyond them.

    >>> margin = np.arange(80.0)
    >>> negative = np.where(margin < 40, margin % 4 == 0, margin % 4 != 0)  # 25 %, then 75 %
    >>> cal = Calibration.fit(margin, negative)
    >>> cal.x.tolist(), cal.y.round(2).tolist()
    ([20.0, 60.0], [0.24, 0.77])
    >>> cal.apply([-5.0, 40.0, 100.0]).round(2).tolist()
    [0.24, 0.51, 0.77]
    """

    x: np.ndarray  # knots' margins, strictly increasing
    y: np.ndarray  # knots' probabilities in [0, 1], non-decreasing
    kind: str = "isotonic"

    def __post_init__(self) -> None:
        x = np.ascontiguousarray(self.x, dtype=np.float64)
        y = np.ascontiguousarray(self.y, dtype=np.float64)
        if x.ndim != 1 or x.shape != y.shape or not len(x):
            raise ValueError("calibration knots must be two 1-d arrays of one non-zero length")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError("calibration knots must be finite")
        if np.any(np.diff(x) <= 0) or np.any(np.diff(y) < 0):
            raise ValueError("calibration must be monotone: x strictly, y weakly increasing")
        if y[0] < 0 or y[-1] > 1:
            raise ValueError("calibrated probabilities must lie in [0, 1]")
        if self.kind not in KINDS:
            raise ValueError(f"calibration kind {self.kind!r} is not one of {', '.join(KINDS)}")
        for array in (x, y):
            array.flags.writeable = False
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)

    def apply(self, margin: np.ndarray | list[float]) -> np.ndarray:
        return np.interp(np.asarray(margin, dtype=np.float64), self.x, self.y)

    @classmethod
    def fit(cls, margin, target, kind: str = "isotonic") -> Calibration:
        """Fit on held-out ``margin`` and boolean ``target`` (True = negative)."""
        m = np.asarray(margin, dtype=np.float64)
        t = np.asarray(target, dtype=np.float64)
        if m.shape != t.shape or m.ndim != 1 or not len(m):
            raise ValueError("calibration needs one target per margin, at least one")
        if kind == "isotonic":
            return cls(*_centred_isotonic(m, t), kind="isotonic")
        if kind == "platt":
            a, b = _platt(m, t)
            lo, hi = float(m.min()), float(m.max())
            pad = max(hi - lo, 1.0)
            x = np.linspace(lo - pad, hi + pad, _PLATT_KNOTS)
            return cls(x, expit(a * x + b), kind="platt")
        raise ValueError(f"calibration kind {kind!r} is not one of {', '.join(KINDS)}")

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"calibration_x": self.x, "calibration_y": self.y}


def _centred_isotonic(m: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pool adjacent violators over margins (ties pooled first), knots at block centres."""
    xs, inverse = np.unique(m, return_inverse=True)
    weight = np.bincount(inverse).astype(np.float64)
    total = np.bincount(inverse, weights=t)
    # Each block: [sum of targets, weight, sum of weight * margin]; merged while decreasing.
    blocks: list[list[float]] = []
    for s, w, x in zip(total.tolist(), weight.tolist(), (xs * weight).tolist(), strict=True):
        blocks.append([s, w, x])
        while len(blocks) > 1 and blocks[-2][0] * blocks[-1][1] >= blocks[-1][0] * blocks[-2][1]:
            s2, w2, x2 = blocks.pop()
            blocks[-1][0] += s2
            blocks[-1][1] += w2
            blocks[-1][2] += x2
    # A block of a few posts is noise, worst at the ends where PAV picks the extreme
    # runs: merge each small block into its closer-valued neighbour (still monotone).
    least = max(MIN_BLOCK_POSTS, MIN_BLOCK_SHARE * len(m))
    while len(blocks) > 1:
        small = [i for i, b in enumerate(blocks) if b[1] < least]
        if not small:
            break
        i = min(small, key=lambda j: blocks[j][1])
        value = blocks[i][0] / blocks[i][1]
        near = [j for j in (i - 1, i + 1) if 0 <= j < len(blocks)]
        j = min(near, key=lambda k: abs(blocks[k][0] / blocks[k][1] - value))
        lo, hi = min(i, j), max(i, j)
        blocks[lo] = [a + b for a, b in zip(blocks[lo], blocks[hi], strict=True)]
        del blocks[hi]
    arr = np.array(blocks)
    return arr[:, 2] / arr[:, 1], np.clip(arr[:, 0] / arr[:, 1], 0.0, 1.0)


def _platt(m: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """Logistic fit p = sigmoid(a * m + b) by Newton's method, with Platt's target smoothing.

    A slope below zero (margins that rank backwards) would not be monotone: then the
    map is the constant base rate.
    """
    positives = t.sum()
    negatives = len(t) - positives
    target = np.where(t > 0, (positives + 1) / (positives + 2), 1 / (negatives + 2))
    a, b = 1.0, 0.0
    for _ in range(100):
        p = expit(a * m + b)
        w = np.maximum(p * (1 - p), 1e-12)
        g = np.array([np.dot(p - target, m), np.sum(p - target)])
        h = np.array([[np.dot(w, m * m), np.dot(w, m)], [np.dot(w, m), w.sum()]])
        step = np.linalg.solve(h + 1e-9 * np.eye(2), g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-10:
            break
    if not (np.isfinite(a) and np.isfinite(b)) or a <= 0:
        rate = target.mean()
        return 0.0, float(np.log(rate / (1 - rate)))
    return float(a), float(b)


class ReliabilityBin(NamedTuple):
    """Posts whose predicted probability fell in [lo, hi): how many, predicted vs observed."""

    lo: float
    hi: float
    n: int
    predicted: float  # mean predicted probability in the bin
    observed: float  # share of negatives in the bin


def reliability(target, probability, bins: int = 10) -> list[ReliabilityBin]:
    """Equal-width bins of predicted probability (the last one includes 1.0).

    >>> [(b.n, b.observed) for b in reliability([0, 1, 1], [0.05, 0.95, 1.0], bins=2)]
    [(1, 0.0), (2, 1.0)]
    """
    t = np.asarray(target, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    n = np.bincount(index, minlength=bins)
    predicted = np.bincount(index, weights=p, minlength=bins)
    observed = np.bincount(index, weights=t, minlength=bins)
    return [ReliabilityBin(i / bins, (i + 1) / bins, int(n[i]),
                           float(predicted[i] / n[i]) if n[i] else float("nan"),
                           float(observed[i] / n[i]) if n[i] else float("nan"))
            for i in range(bins)]
