"""``make bench``: every benchmark, one after the other, figures to stdout.

Throughput figures are single-core (BLAS and OpenMP threads pinned to 1); the
latency benchmark needs the local stack, which ``make bench`` starts. Record
the figures in docs/benchmarks.md with the machine they came from.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    ("negativity scorer: held-out AUC/F1 and batch throughput", ["bench_negativity.py"]),
    ("replay pipeline throughput (target: CLI >= 50,000 mentions/s)", ["bench_replay.py"]),
    ("replay on a busy stream: >= 3M mentions, >= 20 per entity-minute"
     " (target: CLI >= 100,000 mentions/s)", ["bench_replay.py", "--busy"]),
    ("what a quiet entity-minute costs: 1,000 entities, 6 h replayed (target: a few µs)",
     ["bench_quiet.py"]),
    ("mention-to-console delay on the real broker and Redis", ["bench_latency.py"]),
    ("faust's floor: a bare agent's cost per message, faust's drain loop and ours",
     ["bench_faust_floor.py"]),
    ("worker end to end beside a raw aiokafka consumer and replay, on one topic"
     " (targets >= 20,000 mentions/s, >= half of replay's rate)", ["bench_worker_rate.py"]),
    ("alert latency under load: p99 at 80% of the sustainable rate (target <= 1 s)",
     ["bench_p99.py"]),
    # Exit 3 when the worker has not taken the whole day in by the timeout: the figures
    # reached are printed, marked PARTIAL (docs/benchmarks.md, "Worker memory").
    ("worker RSS watching 1,000 entities with a day of history (target < 500 MB)",
     ["bench_rss.py", "--timeout", "2400"]),
    ("worker state changelog against input, on the real broker",
     ["bench_worker_changelog.py", "--lines", "60000"]),
    ("state changelog by record kind and batch size (offline model: live pace is batch 5)",
     ["model_changelog.py"]),
]


def main() -> int:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    failed = []
    for title, argv in BENCHES:
        print(f"\n== {title} ==", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, str(HERE / argv[0]), *argv[1:]], env=env,
                               cwd=HERE.parent)
        print(f"({time.monotonic() - started:.0f}s, exit {code})", flush=True)
        if code:
            failed.append(title)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
