"""Compare calibrations of the negativity model out of domain: kind x posts fitted on.

    python bench/negativity_calibration.py DATA.jsonl [--bootstrap 200]

The shipped recipe's model (C = 2, every set but ``2016test``) and its 5-fold
cross-fitted margins are computed once (about 2 CPU-minutes); then each
calibration (centred isotonic, Platt, beta) is fitted on the held-out margins of
every training post, or of the newest sets only (2016train, 2016dev,
2016devtest: the nearest to the test period), and judged on ``2016test``: the
largest |predicted - observed| over ten reliability bins of >= 200 posts (with a
bootstrap 90 % interval over the test posts), the post-weighted mean gap, and
F1 of the negative class at the threshold picked on the calibration posts.

A second table judges the same choices on training posts only (no test post
seen), as a check that the choice does not merely fit the test set.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.metrics import f1_score, roc_auc_score  # noqa: E402

from models.calibration import KINDS, Calibration, reliability  # noqa: E402
from models.negativity_features import featurize  # noqa: E402
from models.negativity_train import (  # noqa: E402
    MIN_CALIBRATION_POSTS,
    Recipe,
    _fit,
    _target,
    best_threshold,
)

TEST_SET = "2016test"
NEWEST = ("2016train", "2016dev", "2016devtest")
C = 2.0  # what the shipped model's C grid picks on the validation slice
FOLDS = 5


def gaps(target: np.ndarray, p: np.ndarray, least: int = MIN_CALIBRATION_POSTS
         ) -> tuple[float, float]:
    """Largest and post-weighted mean |predicted - observed| over bins of >= least posts."""
    bins = [b for b in reliability(target, p) if b.n >= least]
    if not bins:
        return float("nan"), float("nan")
    worst = max(abs(b.predicted - b.observed) for b in bins)
    mean = sum(b.n * abs(b.predicted - b.observed) for b in bins) / sum(b.n for b in bins)
    return worst, mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="the SemEval JSONL, with a \"set\" field")
    parser.add_argument("--bootstrap", type=int, default=200, metavar="N",
                        help="bootstrap resamples of the test posts (default: 200)")
    args = parser.parse_args()
    with open(args.data, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    train = [r for r in rows if r.get("set") != TEST_SET]
    test = [r for r in rows if r.get("set") == TEST_SET]
    y = _target([r["label"] for r in train])
    test_y = _target([r["label"] for r in test])
    sets = np.array([str(r.get("set")) for r in train])
    recipe = Recipe()
    print(f"train {len(train):,} posts, test ({TEST_SET}) {len(test):,}; fitting"
          f" {FOLDS} folds and the refit (C = {C})", file=sys.stderr)
    x = featurize([r["text"] for r in train], recipe.word_bits, recipe.char_bits)
    fold = (np.arange(len(train)) * 7919) % FOLDS  # the folds train_model uses (seed 0)
    margin = np.empty(len(train))
    for k in range(FOLDS):
        part = fold == k
        margin[part] = _fit(x[~part], y[~part], C, recipe, 0).decision(x[part])
        print(f"  fold {k + 1}/{FOLDS}", file=sys.stderr)
    model = _fit(x, y, C, recipe, 0)
    test_m = model.decision(featurize([r["text"] for r in test], recipe.word_bits,
                                      recipe.char_bits))
    newest = np.isin(sets, NEWEST)
    rng = np.random.default_rng(0)
    resamples = [rng.integers(0, len(test_y), len(test_y)) for _ in range(args.bootstrap)]

    print(f"\nOn {TEST_SET} (ROC-AUC of the margins {roc_auc_score(test_y, test_m):.4f}):\n")
    print("| fitted on | calibration | max gap | 90 % interval | mean gap | threshold |"
          " F1 at it |")
    print("|---|---|---|---|---|---|---|")
    for name, chosen in [("every training post", np.ones(len(y), bool)),
                         ("newest sets", newest)]:
        for kind in KINDS:
            cal = Calibration.fit(margin[chosen], y[chosen], kind)
            threshold = best_threshold(y[chosen], cal.apply(margin[chosen]))
            p = cal.apply(test_m)
            worst, mean = gaps(test_y, p)
            boot = [gaps(test_y[i], p[i])[0] for i in resamples]
            lo, hi = np.percentile(boot, [5, 95]) if boot else (np.nan, np.nan)
            print(f"| {name} ({int(chosen.sum()):,}) | {kind} | {worst:.3f} | {lo:.3f}-{hi:.3f}"
                  f" | {mean:.3f} | {threshold:.3f} | {f1_score(test_y, p >= threshold):.3f} |",
                  flush=True)

    print("\nOn training posts only (cross-fitted margins; bins of >= 100 posts):\n")
    print("| fitted on -> judged on | calibration | max gap | mean gap |")
    print("|---|---|---|---|")
    year = np.array([s[:4] for s in sets])
    checks = [("2013-2015 -> the 2016 sets", year != "2016", year == "2016"),
              ("2016train, 2016dev -> 2016devtest", np.isin(sets, NEWEST[:2]),
               sets == "2016devtest")]
    for name, fit, judged in checks:
        for kind in KINDS:
            cal = Calibration.fit(margin[fit], y[fit], kind)
            worst, mean = gaps(y[judged], cal.apply(margin[judged]), least=100)
            print(f"| {name} | {kind} | {worst:.3f} | {mean:.3f} |", flush=True)


if __name__ == "__main__":
    main()
