"""Negativity scorer benchmark: batch throughput on one core, and held-out AUC/F1.

    python bench/bench_negativity.py [DATA.jsonl] [--model PATH] [--n 20000]

The held-out figures are only meaningful for the model trained on the other part of
the same file (the shipped model and the SemEval file, the default).
"""

import os

# One core: set before numpy loads its BLAS.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

from models.negativity import NegativityScorer  # noqa: E402
from models.negativity_train import evaluate, holdout_mask  # noqa: E402

DEFAULT_DATA = "/work/shared/data/negativity/semeval-2013-2016-en.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA, help="JSONL {text, label}")
    parser.add_argument("--model", default="", help="artefact (default: the shipped model)")
    parser.add_argument("--n", type=int, default=20_000, help="posts per timed run")
    parser.add_argument("--holdout", type=float, default=0.2)
    args = parser.parse_args()

    with open(args.data, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    texts = [r["text"] for r in rows]
    scorer = NegativityScorer.load(args.model) if args.model else NegativityScorer.default()
    sample = (texts * (args.n // max(len(texts), 1) + 1))[: args.n]
    scorer.score_many(sample[:1000])  # warm the lexicon and character tables
    wall, cpu = [], []
    for _ in range(5):
        started, started_cpu = time.perf_counter(), time.process_time()
        scorer.score_many(sample)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    # CPU time is the fair figure on a shared machine; wall time is what a worker sees.
    n = len(sample)
    print(f"throughput: {n / sorted(wall)[2]:,.0f} posts/s wall (median of 5, best"
          f" {n / min(wall):,.0f}), {n / sorted(cpu)[2]:,.0f} posts per CPU-second;"
          f" {n:,} posts a batch, 1 thread, model {scorer.version}")

    held = holdout_mask(texts, args.holdout)
    test = [(t, r["label"]) for t, r, h in zip(texts, rows, held, strict=True) if h]
    metrics = evaluate(scorer, [t for t, _ in test], [y for _, y in test])
    print("held-out: " + " ".join(f"{k}={v}" for k, v in metrics.items()))


if __name__ == "__main__":
    main()
