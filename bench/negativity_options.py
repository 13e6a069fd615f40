"""Compare the negativity model's options out of domain: one table row per option.

    python bench/negativity_options.py DATA.jsonl [--only NAME ...] [--json OUT.jsonl]

Every option trains on the lines whose ``set`` is not ``2016test`` and is scored on
the 19,596 lines of ``2016test`` (a later period, other authors, labelled
independently). To keep the comparison affordable on one shared core, every row
uses the same cheap protocol unless its name says otherwise: C chosen from
(1, 4) and calibration and threshold fitted on a 15 % hash slice of the training
posts, no refit. The milestone model's recipe (cross-fitted calibration,
refit on all) is the row ``cross-fitted calibration, refit``; the C those rows
use (2) is the one the full grid picked for the milestone model. Rows named
``shipped recipe: ...`` train as the shipped model was (the C grid, 5-fold
cross-fitting, beta calibration and threshold on the newest sets' held-out
margins, refit on all): an option must win there to be shipped.

The fastText-style rows use :mod:`models.negativity_embed` with the settings that
``bench/negativity_embed_tune.py`` picked on the validation slice; the lexicon rows
need the ``dev`` extra's ``afinn`` and ``textblob`` (``make install``).

Columns: ROC-AUC; F1 of the negative class at the threshold stored by training;
the best F1 any threshold reaches on the test set (an upper bound, not a
result); the largest |predicted - observed| over reliability bins of >= 200
posts; and scoring speed of the option's featurisation in posts per CPU-second
(``time.process_time``, 5,000 posts, one thread).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.negativity_features import (  # noqa: E402
    FEATURES,
    Coefs,
    FeatureConfig,
    featurize,
    margins,
    n_dense,
)
from models.negativity_train import Recipe, evaluate, fit_linear  # noqa: E402

TEST_SET = "2016test"
NEWEST = ("2016train", "2016dev", "2016devtest")  # the newest sets before the test period
CHEAP = Recipe(c_grid=(1.0, 4.0), nb=False, folds=0, refit=False)

# The shipped model's recipe (the C grid, 5-fold cross-fitting, beta calibration on the
# newest sets' held-out margins, refit on all): rows with validation "shipped".
SHIPPED = Recipe(calibration="beta")

# (name, recipe, validation: "slice", "newest", "years" or "shipped")
OPTIONS = [
    ("baseline: word 1-2, char 2-5, LR", CHEAP, "slice"),
    ("class weighting (balanced)", replace(CHEAP, class_weight="balanced"), "slice"),
    ("word 1-3-grams", replace(CHEAP, features=FEATURES._replace(word_ngrams=3)), "slice"),
    ("negation scope ends at but/however",
     replace(CHEAP, features=FEATURES._replace(contrast_ends_scope=True)), "slice"),
    ("emoticons read as emoji", replace(CHEAP, features=FEATURES._replace(emoticons=True)),
     "slice"),
    ("NB log-count ratio (NB-LR)", replace(CHEAP, nb=True), "slice"),
    ("ensemble LR + linear SVM", replace(CHEAP, svm=0.5), "slice"),
    ("char 3-5 (faster)", replace(CHEAP, features=FEATURES._replace(char_ngrams=(3, 5))),
     "slice"),
    ("hashing 2^16 (smaller)", replace(CHEAP, word_bits=16, char_bits=16), "slice"),
    ("Platt instead of isotonic", replace(CHEAP, calibration="platt"), "slice"),
    ("calibrated on the newest sets", CHEAP, "newest"),
    ("calibrated on the newest sets, refit", replace(CHEAP, refit=True), "newest"),
    ("cross-fitted calibration, refit (milestone recipe)", Recipe(c_grid=(2.0,), nb=False),
     "slice"),
    ("cross-fitted by year, refit", Recipe(c_grid=(2.0,), nb=False), "years"),
    # fastText-style (models/negativity_embed.py): dim, epochs and rate picked on the
    # validation slice only (bench/negativity_embed_tune.py), never on the test set.
    ("fastText-style embeddings alone", replace(CHEAP, embedding=1.0, c_grid=(1.0,)), "slice"),
    ("ensemble LR + fastText-style, margins averaged", replace(CHEAP, embedding=0.5), "slice"),
    ("AFINN-165 lexicon", replace(CHEAP, features=FEATURES._replace(lexicons=("afinn",))),
     "slice"),
    ("pattern (TextBlob) lexicon",
     replace(CHEAP, features=FEATURES._replace(lexicons=("pattern",))), "slice"),
    ("AFINN + pattern lexicons, emoticons read as emoji",
     replace(CHEAP, features=FEATURES._replace(lexicons=("afinn", "pattern"), emoticons=True)),
     "slice"),
    ("shipped recipe: LR (the shipped model)", SHIPPED, "shipped"),
    ("shipped recipe: ensemble LR + fastText-style", replace(SHIPPED, embedding=0.5), "shipped"),
    ("shipped recipe: NB-LR alone", replace(SHIPPED, nb=True), "shipped"),
    ("shipped recipe: NB-LR, the folds share the refit's NB ratio",
     replace(SHIPPED, nb=True, nb_shared=True), "shipped"),
    ("shipped recipe but isotonic: NB-LR, shared NB ratio",
     replace(SHIPPED, nb=True, nb_shared=True, calibration="isotonic"), "shipped"),
    ("shipped recipe but Platt: NB-LR, shared NB ratio",
     replace(SHIPPED, nb=True, nb_shared=True, calibration="platt"), "shipped"),
    ("shipped recipe: NB-LR with AFINN + pattern lexicons",
     replace(SHIPPED, nb=True, features=FEATURES._replace(lexicons=("afinn", "pattern"))),
     "shipped"),
    ("NB-LR with AFINN + pattern lexicons",
     replace(CHEAP, nb=True, features=FEATURES._replace(lexicons=("afinn", "pattern"))), "slice"),
]


def speed(texts: list[str], recipe: Recipe) -> float:
    rng = np.random.default_rng(0)
    coefs = Coefs(rng.normal(size=2**recipe.word_bits).astype(np.float32),
                  rng.normal(size=2**recipe.char_bits).astype(np.float32),
                  rng.normal(size=n_dense(recipe.features)), 0.0)
    sample = texts[:5000]
    margins(sample[:500], [coefs], recipe.features)
    runs = []
    for _ in range(3):
        started = time.process_time()
        margins(sample, [coefs], recipe.features)
        runs.append(time.process_time() - started)
    return len(sample) / sorted(runs)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="the SemEval JSONL, with a \"set\" field")
    parser.add_argument("--only", nargs="*", help="run only options whose name contains these")
    parser.add_argument("--json", help="append each row as a JSON line to this file")
    args = parser.parse_args()
    with open(args.data, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    train = [r for r in rows if r.get("set") != TEST_SET]
    test = [r for r in rows if r.get("set") == TEST_SET]
    texts, labels = [r["text"] for r in train], [r["label"] for r in train]
    newest = np.array([r.get("set") in NEWEST for r in train])
    years = [str(r.get("set"))[:4] for r in train]  # 2013, 2014, 2015, 2016, unkn
    print(f"train {len(train):,} posts, test ({TEST_SET}) {len(test):,}", file=sys.stderr)
    print("| option | AUC | F1 at stored threshold | best F1 | calibration max gap |"
          " posts per CPU-s |")
    print("|---|---|---|---|---|---|")
    cache: dict[tuple[FeatureConfig, int, int], object] = {}
    for name, recipe, validation in OPTIONS:
        if args.only and not any(word in name for word in args.only):
            continue
        key = (recipe.features, recipe.word_bits, recipe.char_bits)
        if key not in cache:
            cache[key] = featurize(texts, recipe.word_bits, recipe.char_bits, recipe.features)
        started = time.process_time()
        model = fit_linear(texts, labels, recipe=recipe, x=cache[key],
                           validation=newest if validation == "newest" else 0.15,
                           groups=years if validation == "years" else None,
                           calibrate=newest if validation == "shipped" else None)
        fit_seconds = time.process_time() - started
        test_texts = [r["text"] for r in test]
        y = np.array([r["label"] == "negative" for r in test])
        w = model.weights
        coefs = Coefs(*(np.asarray(w[k], np.float32) for k in ("word_coef", "char_coef")),
                      np.asarray(w["dense_coef"], np.float32), float(np.float32(w["intercept"])))
        p = model.calibration.apply(margins(test_texts, [coefs], recipe.features).values[0])
        metrics = evaluate(_Fixed(p, model.threshold), test_texts, [r["label"] for r in test])
        best = _best_f1(y, p)
        pace = speed(test_texts, recipe)
        gap = metrics["calibration_max_gap"]
        print(f"| {name} | {metrics['roc_auc']:.3f} | {metrics['f1_negative']:.3f} |"
              f" {best:.3f} | {gap:.3f} | {pace:,.0f} |", flush=True)
        versus = None
        if validation == "shipped":
            versus = _versus_shipped(y, p, model.threshold, test_texts)
            print(f"  {name} minus the shipped model, 90 % paired bootstrap interval:"
                  f" AUC {versus['auc']}, F1 at stored thresholds {versus['f1']}",
                  file=sys.stderr, flush=True)
        if args.json:
            with open(args.json, "a", encoding="utf-8") as out:
                out.write(json.dumps({"option": name, **metrics, "best_f1": round(best, 4),
                                      "posts_per_cpu_second": round(pace),
                                      "fit_cpu_seconds": round(fit_seconds),
                                      "C": model.metadata["C"], "versus_shipped": versus,
                                      "features": recipe.features._asdict()}) + "\n")


def _versus_shipped(y: np.ndarray, p: np.ndarray, threshold: float, texts: list[str],
                    resamples: int = 200) -> dict:
    """Differences (this option minus the shipped artefact) in ROC-AUC and in F1 at each
    model's stored threshold on the same test posts: the difference and a 90 % paired
    bootstrap interval (posts resampled, 200 times), to tell a gain from noise."""
    from sklearn.metrics import f1_score, roc_auc_score

    from models.negativity import NegativityScorer
    shipped = NegativityScorer.default()
    q = shipped.score_many(texts)
    ours, theirs = p >= threshold, q >= shipped.threshold
    rng = np.random.default_rng(0)
    deltas = []
    for sample in [np.arange(len(y))] + [rng.integers(0, len(y), len(y))
                                         for _ in range(resamples)]:
        ys = y[sample]
        deltas.append((roc_auc_score(ys, p[sample]) - roc_auc_score(ys, q[sample]),
                       f1_score(ys, ours[sample]) - f1_score(ys, theirs[sample])))
    out = {}
    for k, key in enumerate(("auc", "f1")):
        lo, hi = np.percentile([d[k] for d in deltas[1:]], [5, 95])
        out[key] = f"{deltas[0][k]:+.4f} ({lo:+.4f} to {hi:+.4f})"
    return out


class _Fixed:
    """Precomputed probabilities in the shape evaluate() reads (a LanguageModel's)."""

    def __init__(self, p: np.ndarray, threshold: float) -> None:
        self._p, self.threshold = p, threshold

    def probabilities(self, texts: list[str]) -> np.ndarray:
        return self._p


def _best_f1(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import precision_recall_curve
    precision, recall, _ = precision_recall_curve(y, p)
    return float(np.max(2 * precision * recall / np.maximum(precision + recall, 1e-12)))


if __name__ == "__main__":
    main()
