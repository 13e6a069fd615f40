"""Training and evaluation of the negativity scorer (pure: texts and labels in, model out).

The target is binary, negative vs the rest (neutral, positive): an early warning
cares whether a post is hostile, not whether it is merely flat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

from models.negativity import LABELS, NegativityScorer, featurize

__all__ = ["LABELS", "VERSION", "best_threshold", "evaluate", "holdout_mask", "train"]

VERSION = "negativity-v1"
# Inverse regularisation strengths tried on the validation slice; few, because each fit
# on ~30k posts takes seconds and AUC is flat around the optimum.
C_GRID = (0.5, 1.0, 2.0, 4.0)


def holdout_mask(texts: Sequence[str], fraction: float, *, salt: str = "holdout") -> np.ndarray:
    """True for texts in the held-out part: a hash of the text, so the split is stable.

    The same post lands on the same side whatever the file order or size, and
    exact duplicates (up to case and spacing) never straddle the split.

    >>> mask = holdout_mask(["a", "b", "c", "A"], 0.5)
    >>> bool(mask[0] == mask[3]), mask.dtype.name
    (True, 'bool')
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"holdout fraction must be in [0, 1), got {fraction}")
    cut = int(fraction * 2**64)
    prefix = salt.encode() + b"\x00"
    keys = (" ".join(t.lower().split()).encode("utf-8", "surrogatepass") for t in texts)
    digests = (hashlib.sha256(prefix + k).digest()[:8] for k in keys)
    return np.fromiter((int.from_bytes(d, "big") < cut for d in digests), bool, len(texts))


def _target(labels: Sequence[str]) -> np.ndarray:
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise ValueError(f"labels {unknown} are not among {', '.join(LABELS)}")
    return np.array([label == "negative" for label in labels], dtype=bool)


def best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The probability cut that maximises F1 of the negative class."""
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))]) if len(thresholds) else 0.5


def _fit(x, y: np.ndarray, c: float, seed: int) -> LogisticRegression:
    model = LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=seed)
    return model.fit(x, y)


def _scorer(model: LogisticRegression, word_bits: int, char_bits: int, **kw) -> NegativityScorer:
    coef = model.coef_[0]
    words, chars = 2**word_bits, 2**char_bits
    return NegativityScorer(
        word_coef=coef[:words],
        char_coef=coef[words : words + chars],
        dense_coef=coef[words + chars :],
        intercept=float(model.intercept_[0]),
        **kw,
    )


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    seed: int = 0,
    word_bits: int = 18,
    char_bits: int = 18,
    validation: float = 0.15,
) -> NegativityScorer:
    """Fit on ``texts`` (all of them training data; hold out your test set before).

    A validation slice of the given texts picks C and the F1 threshold; the
    model is then refitted on all of them with that C.
    """
    y = _target(labels)
    if y.all() or not y.any():
        raise ValueError("training needs both negative and non-negative posts")
    x = featurize(texts, word_bits, char_bits)
    val = holdout_mask(texts, validation, salt="validation")
    fit = ~val
    if y[val].all() or not y[val].any() or y[fit].all() or not y[fit].any():
        val = fit = np.ones(len(texts), dtype=bool)  # too few posts to split: fit and pick on all
    results = []
    for c in C_GRID:
        p = _fit(x[fit], y[fit], c, seed).predict_proba(x[val])[:, 1]
        results.append((roc_auc_score(y[val], p), c, best_threshold(y[val], p)))
    auc, c, threshold = max(results)
    metadata = {
        "version": VERSION,
        "C": c,
        "seed": seed,
        "word_bits": word_bits,
        "char_bits": char_bits,
        "n_train": len(texts),
        "validation_roc_auc": round(float(auc), 4),
    }
    model = _fit(x, y, c, seed)
    return _scorer(model, word_bits, char_bits, threshold=threshold, metadata=metadata)


def evaluate(scorer: NegativityScorer, texts: Sequence[str], labels: Sequence[str]) -> dict:
    """ROC-AUC and negative-class F1 (at the scorer's threshold) on labelled posts."""
    y = _target(labels)
    p = scorer.score_many(texts)
    predicted = p >= scorer.threshold
    return {
        "n": len(texts),
        "n_negative": int(y.sum()),
        "roc_auc": round(float(roc_auc_score(y, p)), 4),
        "f1_negative": round(float(f1_score(y, predicted)), 4),
        "precision_negative": round(float(precision_score(y, predicted, zero_division=0)), 4),
        "recall_negative": round(float(recall_score(y, predicted)), 4),
        "threshold": round(scorer.threshold, 4),
    }
