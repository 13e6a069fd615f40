"""Pick the fastText-style model's settings on the validation slice (never the test set).

    python bench/negativity_embed_tune.py DATA.jsonl [--dim 16 32 64] [--epochs 3 5 10]
        [--rate 0.05 0.1 0.2]

Trains :mod:`models.negativity_embed` on the training posts (every set but
``2016test``) minus the 15 % validation slice that ``fit_linear`` holds out, and
prints each setting's ROC-AUC on that slice, with the logistic regression's (C 1
and 4, the cheap protocol's) beside it. ``bench/negativity_options.py`` uses the
best setting; the test set plays no part in the choice.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

np.seterr(over="ignore", invalid="ignore")  # a diverging setting is reported, not warned
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import negativity_embed  # noqa: E402
from models.negativity_features import featurize  # noqa: E402
from models.negativity_train import holdout_mask  # noqa: E402

TEST_SET = "2016test"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="the SemEval JSONL, with a \"set\" field")
    parser.add_argument("--dim", type=int, nargs="+", default=[32])
    parser.add_argument("--epochs", type=int, nargs="+", default=[5])
    parser.add_argument("--rate", type=float, nargs="+", default=[0.1])
    parser.add_argument("--no-lr", action="store_true", help="skip the logistic regression")
    args = parser.parse_args()
    with open(args.data, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    train = [r for r in rows if r.get("set") != TEST_SET]
    texts = [r["text"] for r in train]
    y = np.array([r["label"] == "negative" for r in train])
    val = holdout_mask(texts, 0.15, salt="validation")
    x = featurize(texts, 18, 18)
    fit, held = x[~val], x[val]
    print(f"fit {int((~val).sum()):,} posts, validation {int(val.sum()):,}", file=sys.stderr)
    if not args.no_lr:
        for c in (1.0, 4.0):
            lr = LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=0)
            lr.fit(fit, y[~val])
            auc = roc_auc_score(y[val], lr.decision_function(held))
            print(f"LR C={c:g}: validation AUC {auc:.4f}", flush=True)
    for dim, epochs, rate in itertools.product(args.dim, args.epochs, args.rate):
        started = time.process_time()
        setting = f"fastText dim={dim} epochs={epochs} rate={rate:g}"
        try:
            coef, bias = negativity_embed.fit(fit, y[~val], dim=dim, epochs=epochs, rate=rate)
        except ValueError as exc:
            print(f"{setting}: {exc}", flush=True)
            continue
        seconds = time.process_time() - started
        auc = roc_auc_score(y[val], held @ coef + bias)
        print(f"{setting}: validation AUC {auc:.4f} ({seconds:.0f} CPU-s)", flush=True)


if __name__ == "__main__":
    main()
