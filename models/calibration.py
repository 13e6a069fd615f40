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

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = ["KINDS", "Calibration", "ReliabilityBin", "reliability"]

KINDS = ("isotonic", "platt", "beta")
# Isotonic blocks hold at least this many posts, and this share of them.
MIN_BLOCK_POSTS = 20
MIN_BLOCK_SHARE = 0.02
# Platt's and beta's curves are stored as knots too, sampled this densely over the
# fitted range.
_CURVE_KNOTS = 257


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
        if kind in ("platt", "beta"):
            lo, hi = float(m.min()), float(m.max())
            pad = max(hi - lo, 1.0)
            x = np.linspace(lo - pad, hi + pad, _CURVE_KNOTS)
            curve = _platt(m, t) if kind == "platt" else _beta(m, t)
            return cls(x, np.maximum.accumulate(curve(x)), kind=kind)
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


def expit(x: np.ndarray) -> np.ndarray:
    """scipy's logistic sigmoid, imported on first use: fitting a calibration needs it,
    applying the stored one does not, and scipy.special takes a third of a second to
    import at every `firestorm replay` or `score`."""
    from scipy.special import expit as sigmoid

    return sigmoid(x)


def _smoothed(t: np.ndarray) -> np.ndarray:
    """Platt's targets: (N+ + 1)/(N+ + 2) and 1/(N- + 2) instead of 1 and 0 (no overfit ends)."""
    positives = t.sum()
    negatives = len(t) - positives
    return np.where(t > 0, (positives + 1) / (positives + 2), 1 / (negatives + 2))


def _logistic(features: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """Weights w (last: intercept) of p = sigmoid(features @ w[:-1] + w[-1]), by Newton's
    method on the log loss; None if it does not converge to finite weights."""
    z = np.column_stack([features, np.ones(len(target))])
    w = np.zeros(z.shape[1])
    for _ in range(100):
        p = expit(z @ w)
        h = (z * np.maximum(p * (1 - p), 1e-12)[:, None]).T @ z
        step = np.linalg.solve(h + 1e-9 * np.eye(len(w)), z.T @ (p - target))
        w -= step
        if not np.all(np.isfinite(w)):
            return None
        if np.abs(step).max() < 1e-10:
            break
    return w


Curve = Callable[[np.ndarray], np.ndarray]


def _base_rate(t: np.ndarray) -> Curve:
    """The constant map: the (smoothed) share of negatives, for margins that rank backwards."""
    rate = float(_smoothed(t).mean())
    return lambda x: np.full(np.shape(x), rate)


def _platt(m: np.ndarray, t: np.ndarray) -> Curve:
    """Platt scaling p = sigmoid(a * m + b), with Platt's target smoothing.

    A slope below zero (margins that rank backwards) would not be monotone: then the
    map is the constant base rate.
    """
    target = _smoothed(t)
    w = _logistic(m[:, None], target)
    if w is None or w[0] <= 0:
        return _base_rate(t)
    return lambda x: expit(w[0] * x + w[1])


def _beta(m: np.ndarray, t: np.ndarray) -> Curve:
    """Beta calibration (Kull et al. 2017) of s = sigmoid(m):
    logit p = a * ln s - b * ln(1 - s) + c with a, b >= 0.

    Platt is the case a = b; a != b lets the two tails shrink by different amounts. A
    weight that comes out negative is dropped and the rest refitted, as the paper does.
    """
    target = _smoothed(t)

    def columns(x: np.ndarray) -> np.ndarray:  # ln s and -ln(1 - s), stably
        return np.column_stack([-np.logaddexp(0.0, -x), np.logaddexp(0.0, x)])

    features = columns(m)
    keep = [0, 1]
    while keep:
        w = _logistic(features[:, keep], target)
        if w is None:
            return _base_rate(t)
        if np.all(w[:-1] >= 0) and np.any(w[:-1] > 0):
            break
        keep = [k for k, v in zip(keep, w[:-1], strict=True) if v > 0]
    else:
        return _base_rate(t)
    full = np.zeros(3)
    full[keep] = w[:-1]
    full[2] = w[-1]
    return lambda x: expit(columns(np.asarray(x, dtype=np.float64)) @ full[:2] + full[2])


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
