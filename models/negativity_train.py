"""Training and evaluation of the negativity scorer (pure: texts and labels in, model out).

The target is binary, negative vs the rest (neutral, positive): an early warning
cares whether a post is hostile, not whether it is merely flat.

Training holds out a validation slice of the training posts (by a hash of the
text) to pick the regularisation. The calibration is then fitted on out-of-fold
margins (cross-fitting: each training post scored by a model fitted on the other
folds), the F1-best threshold is picked on those calibrated probabilities, and
the model is refitted on all training posts and keeps both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.svm import LinearSVC

from models import negativity_embed
from models.calibration import KINDS, Calibration, reliability
from models.negativity import (
    FORMAT_VERSION,
    LABELS,
    LanguageModel,
    NegativityScorer,
)
from models.negativity_features import FEATURES, FEATURES_VERSION, FeatureConfig, featurize

__all__ = [
    "LABELS",
    "MIN_CALIBRATION_POSTS",
    "VERSION",
    "Fitted",
    "Recipe",
    "best_threshold",
    "evaluate",
    "fit_linear",
    "holdout_mask",
    "train",
    "train_model",
]

VERSION = FORMAT_VERSION
# Inverse regularisation strengths tried on the validation slice; few, because each fit
# on ~30k posts takes seconds and AUC is flat around the optimum.
C_GRID = (0.5, 1.0, 2.0, 4.0)
# A reliability bin is judged only with at least this many posts (fewer: noise).
MIN_CALIBRATION_POSTS = 200


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


@dataclass(frozen=True, slots=True)
class Recipe:
    """How a model is fitted: the defaults make the shipped model, the rest are the
    options ``bench/negativity_options.py`` compares. Every option yields one linear
    model over :func:`featurize`'s columns, so scoring costs the same whatever the recipe.
    """

    features: FeatureConfig = FEATURES  # options other than FEATURES: comparison only
    word_bits: int = 18
    char_bits: int = 18
    c_grid: tuple[float, ...] = C_GRID
    class_weight: str | None = None  # "balanced": the negatives weigh as much as the rest
    nb: bool = False  # scale hashed columns by their naive-Bayes log-count ratio (NB-LR)
    nb_shared: bool = False  # cross-fitting folds use the all-posts NB ratio (as the refit)
    svm: float = 0.0  # weight of a linear SVM averaged with the logistic regression
    # Weight of a fastText-style model (models.negativity_embed) averaged with the
    # logistic regression; 1: that model alone (C then plays no part).
    embedding: float = 0.0
    embed_dim: int = 32  # these three: the best on the validation slice
    embed_epochs: int = 3  # (bench/negativity_embed_tune.py)
    embed_rate: float = 0.05
    calibration: str = "isotonic"
    folds: int = 5  # cross-fitted calibration; 0: fit it on the validation posts
    refit: bool = True  # refit on all posts after choosing C (else keep the fitted part's)


class _Linear(NamedTuple):
    coef: np.ndarray
    intercept: float

    def decision(self, x) -> np.ndarray:
        return np.asarray(x @ self.coef + self.intercept, dtype=np.float64)


def _nb_ratio(x, y: np.ndarray, hashed: int, alpha: float = 0.25) -> np.ndarray:
    """Log-count ratio of each hashed column (negatives vs the rest); dense columns keep 1."""
    neg = np.asarray(x[y].sum(axis=0)).ravel()[:hashed] + alpha
    rest = np.asarray(x[~y].sum(axis=0)).ravel()[:hashed] + alpha
    ratio = np.ones(x.shape[1])
    ratio[:hashed] = np.log(neg / neg.sum()) - np.log(rest / rest.sum())
    return ratio


def _fit(x, y: np.ndarray, c: float, recipe: Recipe, seed: int,
         ratio: np.ndarray | None = None) -> _Linear:
    """Fit on (x, y); with NB-LR, ``ratio`` (else computed from x, y) scales the columns."""
    hashed = 2**recipe.word_bits + 2**recipe.char_bits
    if recipe.nb and ratio is None:
        ratio = _nb_ratio(x, y, hashed)
    xs = x @ sparse.diags(ratio) if ratio is not None else x
    if recipe.embedding:
        embed = _Linear(*negativity_embed.fit(xs, y, dim=recipe.embed_dim,
                                              epochs=recipe.embed_epochs,
                                              rate=recipe.embed_rate, seed=seed))
        if recipe.embedding >= 1.0:
            return _Linear(embed.coef * ratio, embed.intercept) if ratio is not None else embed
    lr = LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=seed,
                            class_weight=recipe.class_weight).fit(xs, y)
    coef, intercept = lr.coef_[0], float(lr.intercept_[0])
    for w, other in [(recipe.svm, "svm"), (recipe.embedding, "embedding")]:
        if not w:
            continue
        if other == "svm":
            svm = LinearSVC(C=c / 4, class_weight=recipe.class_weight, random_state=seed,
                            max_iter=5000).fit(xs, y)
            model = _Linear(svm.coef_[0], float(svm.intercept_[0]))
        else:
            model = embed
        lr_m, other_m = lr.decision_function(xs), model.decision(xs)
        scale = lr_m.std() / max(other_m.std(), 1e-12)  # its margins on the LR's scale
        coef = (1 - w) * coef + w * scale * model.coef
        intercept = (1 - w) * intercept + w * scale * model.intercept
    if ratio is not None:
        coef = coef * ratio
    return _Linear(coef, intercept)


def _weights(model: _Linear, word_bits: int, char_bits: int) -> dict:
    coef = model.coef
    words, chars = 2**word_bits, 2**char_bits
    return {"word_coef": coef[:words], "char_coef": coef[words : words + chars],
            "dense_coef": coef[words + chars :], "intercept": model.intercept}


class Fitted(NamedTuple):
    """A fitted linear model before it becomes a :class:`LanguageModel` (whose dense
    block has the shipped width: comparisons with other feature sets stop here).

    >>> texts = [f"{w} post {i}" for i in range(60) for w in ("awful", "lovely", "plain")]
    >>> labels = ["negative", "positive", "neutral"] * 60
    >>> fitted = fit_linear(texts, labels, recipe=Recipe(word_bits=8, char_bits=8,
    ...                                                  c_grid=(1.0,), calibration="platt"))
    >>> sorted(fitted.weights), fitted.metadata["C"]
    (['char_coef', 'dense_coef', 'intercept', 'word_coef'], 1.0)
    """

    weights: dict  # word_coef, char_coef, dense_coef, intercept
    calibration: Calibration
    threshold: float
    metadata: dict


def train_model(texts: Sequence[str], labels: Sequence[str], **options) -> LanguageModel:
    """Fit one language's model on ``texts`` (all training data: hold out your test set
    first): :func:`fit_linear`'s model as a :class:`LanguageModel`."""
    fitted = fit_linear(texts, labels, **options)
    return LanguageModel(**fitted.weights, calibration=fitted.calibration,
                         threshold=fitted.threshold, metadata=fitted.metadata)


def fit_linear(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    seed: int = 0,
    validation: float | np.ndarray = 0.15,
    recipe: Recipe = Recipe(),
    x=None,
    groups: Sequence[str] | None = None,
    calibrate: np.ndarray | None = None,
) -> Fitted:
    """Fit one language's model on ``texts`` (all training data: hold out your test set first).

    ``validation`` is a fraction held out by a hash of the text, or a boolean mask
    (for example the newest posts): those posts pick C, and with ``recipe.folds=0``
    also fit the calibration and threshold. ``x`` may pass ``featurize(texts)``
    already computed (comparisons reuse it). ``groups`` (one label per post, say
    its year) makes the cross-fitting folds whole groups, so that each post's
    held-out margin comes from a model of other periods; default: ``recipe.folds``
    folds by position. ``calibrate`` (a boolean mask, with cross-fitting) fits the
    calibration and threshold on the held-out margins of those posts only: say the
    newest, whose relation between margin and outcome is the nearest to the future's.

    Needs negative and other posts both in the validation posts and in the rest;
    with too few posts for that, a clear ValueError says so.
    """
    if recipe.calibration not in KINDS:
        raise ValueError(f"calibration {recipe.calibration!r} is not one of {', '.join(KINDS)}")
    y = _target(labels)
    if y.all() or not y.any():
        raise ValueError("training needs both negative and non-negative posts")
    if isinstance(validation, np.ndarray):
        val = validation.astype(bool)
    else:
        val = holdout_mask(texts, validation, salt="validation")
    fit = ~val
    for part, name in [(val, "validation posts"), (fit, "training part")]:
        if y[part].all() or not y[part].any():
            raise ValueError(
                f"the {name} ({int(part.sum())} of {len(texts)} posts) lacks negative or"
                " other posts: calibration needs held-out posts of both kinds; label more"
                " posts (a few hundred negatives is a sensible minimum)")
    if x is None:
        x = featurize(texts, recipe.word_bits, recipe.char_bits, recipe.features)
    results = []
    for c in recipe.c_grid:
        model = _fit(x[fit], y[fit], c, recipe, seed)
        margin = model.decision(x[val])
        results.append((roc_auc_score(y[val], margin), c, margin, model))
    auc, c, margin, model = max(results, key=lambda r: (r[0], r[1]))
    held_y = y[val]
    folds = recipe.folds
    if folds:
        # Cross-fitting: every training post's margin from a model that did not see it.
        if groups is not None:
            fold = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)[1]
            folds = int(fold.max()) + 1
            if folds < 2:
                raise ValueError("cross-fitting by group needs posts of at least two groups")
        else:
            fold = (np.arange(len(texts)) * 7919 + seed) % folds
        margin = np.empty(len(texts))
        # nb_shared: every fold scales by the refit model's NB ratio (all posts' labels).
        shared = (_nb_ratio(x, y, 2**recipe.word_bits + 2**recipe.char_bits)
                  if recipe.nb and recipe.nb_shared else None)
        for k in range(folds):
            part = fold == k
            margin[part] = _fit(x[~part], y[~part], c, recipe, seed,
                                shared).decision(x[part])
        held_y = y
        if calibrate is not None:
            chosen = np.asarray(calibrate, dtype=bool)
            if chosen.shape != y.shape:
                raise ValueError("the calibration mask needs one entry per post")
            if y[chosen].all() or not y[chosen].any():
                raise ValueError(
                    f"the posts to calibrate on ({int(chosen.sum())}) lack negative or other"
                    " posts: name sets holding both")
            margin, held_y = margin[chosen], y[chosen]
    elif calibrate is not None:
        raise ValueError("calibrating on chosen posts needs cross-fitting (recipe.folds > 0)")
    cal = Calibration.fit(margin, held_y, recipe.calibration)
    threshold = best_threshold(held_y, cal.apply(margin))
    metadata = {
        "C": c,
        "seed": seed,
        "word_bits": recipe.word_bits,
        "char_bits": recipe.char_bits,
        "n_train": len(texts),
        "n_validation": int(val.sum()),
        "validation_roc_auc": round(float(auc), 4),
        "calibration_fit": (f"{folds}-fold cross-fit" + (" by group" if groups else "")
                            if folds else "validation posts"),
        "n_calibration": len(held_y),
        "recipe": {k: v for k, v in asdict(recipe).items() if k != "features"},
    }
    if recipe.refit or folds:
        model = _fit(x, y, c, recipe, seed)
    return Fitted(_weights(model, recipe.word_bits, recipe.char_bits), cal, threshold, metadata)


def train(texts: Sequence[str], labels: Sequence[str], *, lang: str = "en", seed: int = 0,
          **recipe) -> NegativityScorer:
    """A one-language scorer: :func:`train_model` with ``lang`` as the default language and
    ``recipe`` the fields of a :class:`Recipe`."""
    return NegativityScorer({lang: train_model(texts, labels, seed=seed,
                                               recipe=Recipe(**recipe))}, lang)


def evaluate(scorer: NegativityScorer | LanguageModel, texts: Sequence[str],
             labels: Sequence[str]) -> dict:
    """ROC-AUC, negative-class F1 at the stored threshold, and calibration, on labelled posts.

    ``calibration_max_gap`` is the largest |predicted - observed| over the ten
    reliability bins holding at least :data:`MIN_CALIBRATION_POSTS` posts.
    """
    y = _target(labels)
    if isinstance(scorer, NegativityScorer):
        p = scorer.score_many(texts)
    else:
        p = scorer.probabilities(texts)
    predicted = p >= scorer.threshold
    bins = reliability(y, p)
    gaps = [abs(b.predicted - b.observed) for b in bins if b.n >= MIN_CALIBRATION_POSTS]
    return {
        "n": len(texts),
        "n_negative": int(y.sum()),
        "roc_auc": round(float(roc_auc_score(y, p)), 4),
        "f1_negative": round(float(f1_score(y, predicted)), 4),
        "precision_negative": round(float(precision_score(y, predicted, zero_division=0)), 4),
        "recall_negative": round(float(recall_score(y, predicted)), 4),
        "threshold": round(scorer.threshold, 4),
        "calibration_max_gap": round(max(gaps), 4) if gaps else None,
        "reliability": [[round(b.lo, 2), b.n, round(b.predicted, 4), round(b.observed, 4)]
                        for b in bins if b.n],
        "features": FEATURES_VERSION,
    }
