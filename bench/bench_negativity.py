"""Negativity scorer benchmark: batch throughput on one core, and test-split figures.

    python bench/bench_negativity.py [DATA.jsonl] [--model PATH] [--n 20000]

Throughput is posts per CPU-second (``time.process_time``, the fair figure on a
shared machine) and per wall-second, median of 5 runs of one batch, for:
the model alone (``score_many``: no language identification); the pipeline's path
(``assess_many``) with every post's language declared; and with none declared, so
every post goes through language identification (the worst case); and CLD2 alone.

The test figures use the split the model was trained for (its metadata): the
lines of the test ``set`` for a temporal split, the hash-held-out fraction for a
random one. For another model on another file, every post is unseen, so the
whole split is fair.
"""

import os

# One core: set before numpy loads its BLAS.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.compiled import CompiledIntake  # noqa: E402
from models.language import identify  # noqa: E402
from models.negativity import NegativityScorer  # noqa: E402
from models.negativity_features import margins  # noqa: E402
from models.negativity_train import evaluate, holdout_mask  # noqa: E402
from models.privacy import Pseudonymiser  # noqa: E402
from models.watchlist import parse_watchlist  # noqa: E402

DEFAULT_DATA = "../shared/data/negativity/semeval-2013-2016-en.jsonl"


def timed(run, n: int) -> str:
    run()  # warm the tables
    wall, cpu = [], []
    for _ in range(5):
        started, started_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return (f"{n / statistics.median(cpu):>9,.0f} posts per CPU-second,"
            f" {n / statistics.median(wall):>9,.0f} posts/s wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA,
                        help=f"JSONL {{text, label[, set]}} (default: {DEFAULT_DATA})")
    parser.add_argument("--model", default="", help="artefact (default: the shipped model)")
    parser.add_argument("--n", type=int, default=20_000, help="posts per timed batch")
    args = parser.parse_args()
    if not Path(args.data).is_file():
        sys.exit(f"{args.data}: no such file; pass the labelled data's path"
                 " (the SemEval file is in ../shared/data/negativity/ beside the repository)")

    with open(args.data, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    texts = [r["text"] for r in rows]
    scorer = NegativityScorer.load(args.model) if args.model else NegativityScorer.default()
    sample = (texts * (args.n // max(len(texts), 1) + 1))[: args.n]
    n = len(sample)
    default = scorer.model(scorer.default_language)
    english = margins(sample, [default.coefs()]).english.mean()
    print(f"{n:,} posts a batch, 1 thread, model {scorer.version}"
          f" ({', '.join(scorer.languages)}), load average {os.getloadavg()[0]:.1f}")
    print(f"  model alone (score_many)              {timed(lambda: scorer.score_many(sample), n)}")
    declared = [scorer.default_language] * n
    print("  pipeline, lang declared (assess_many) "
          f" {timed(lambda: scorer.assess_many(sample, declared), n)}")
    print("  pipeline, lang identified             "
          f" {timed(lambda: scorer.assess_many(sample), n)}"
          f"  ({english:.0%} settled by English words, the rest by CLD2)")
    print(f"  CLD2 alone (models.language.identify) {timed(lambda: identify(sample), n)}")
    # The compiled core (rust/, what replay and the worker run): the same two paths.
    core = CompiledIntake(parse_watchlist("entities: [{id: a, name: A, kind: policy, terms: [a]}]"),
                          scorer, Pseudonymiser(b"bench"))._core
    nones = [None] * n
    print("  compiled core, lang declared         "
          f" {timed(lambda: core.assess(sample, declared), n)}")
    print("  compiled core, lang identified       "
          f" {timed(lambda: core.assess(sample, nones), n)}")

    meta = default.metadata
    if meta.get("split") == "temporal" and meta.get("data_file") == Path(args.data).name:
        test = [r.get("set") == meta["test_set"] for r in rows]
        where = f"temporal split, set {meta['test_set']}"
    else:
        fraction = meta.get("holdout") or 0.2
        test = holdout_mask(texts, fraction).tolist()
        where = f"random split, {fraction:.0%} held out by hash"
    labelled = [(t, r["label"]) for t, r, h in zip(texts, rows, test, strict=True) if h]
    metrics = evaluate(scorer, [t for t, _ in labelled], [y for _, y in labelled])
    reliability = metrics.pop("reliability")
    print(f"test ({where}): " + " ".join(f"{k}={v}" for k, v in metrics.items()))
    print("reliability (bin, posts, mean predicted, observed):")
    for lo, count, predicted, observed in reliability:
        print(f"  {lo:.1f}-{lo + 0.1:.1f} {count:>6,} {predicted:.3f} {observed:.3f}")


if __name__ == "__main__":
    main()
