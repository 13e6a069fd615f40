"""Instructions a replay executes, counted by valgrind: an A/B figure that noise cannot move.

On a shared VM the CPU time of one run moves by 30 % or more from run to run, more
than most single changes to the detector are worth. The number of instructions the
CPU executes does not move: this runs a replay in one process under valgrind's
callgrind, with instrumentation switched on (``callgrind_control -i on``) only once
the imports and the workload are ready, and prints the instructions counted. Run it
from each tree to compare, at once if you like (the counts do not depend on load).

Workloads (``--workload``):

- ``quiet``: ``--size`` minutes of bench_quiet.py's stream (1,000 mostly quiet
  entities): what quiet entity-minutes cost;
- ``bench``: the first ``--size`` lines of the replay bench stream (8 entities, news
  spikes and storms): what busy and storm minutes cost.

It needs valgrind (``apt-get install valgrind``), which the project does not install,
and runs about 50 times slower than natively: ``--size 20`` (quiet) takes about two
minutes, ``--size 30000`` (bench) about five.

    python bench/instructions.py --workload quiet --size 20
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def workload(kind: str, size: int) -> None:
    """The child: build the workload, say so in the marker file, wait, replay."""
    from bench.bench_quiet import lines_and_watchlist
    from bench.bench_replay import dense_stream
    from models.watchlist import parse_watchlist
    from streams.commands.replay import replay
    from streams.components import build_engine, build_intake
    from streams.settings import Settings

    if kind == "quiet":
        lines, wl = lines_and_watchlist(1000, size / 60, 6.0, 1)
    else:
        mentions, watchlist = dense_stream(6, 4, 1)
        with mentions.open("rb") as f:
            lines = [line for _, line in zip(range(size), f, strict=False)]
        wl = parse_watchlist(watchlist.read_text(encoding="utf-8"))
    engine, intake = build_engine(wl), build_intake(Settings(pseudonym_key="bench"), wl)
    marker = Path(os.environ["FIRESTORM_INSTRUCTIONS_MARKER"])
    marker.write_text("ready")
    while marker.read_text() != "on":  # the parent switches instrumentation on
        time.sleep(0.2)
    out = io.StringIO()
    replay(iter(lines), intake, engine, out)
    print(json.dumps({"mentions": len(lines), "events": out.getvalue().count("\n")}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", choices=("quiet", "bench"), default="quiet")
    parser.add_argument("--size", type=int, default=20,
                        help="minutes (quiet, default 20) or lines (bench)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error("--size must be at least 1")
    if args.child:
        workload(args.workload, args.size)
        return 0
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            print(f"{tool} not found: apt-get install valgrind", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory() as tmp:
        marker, out = Path(tmp, "marker"), Path(tmp, "callgrind.out")
        # A fixed hash seed, so that set and dict orders (and so the work done) are the
        # same in both trees' runs. (On 9f1bb51 it moved the bench count by 0.02 %:
        # 12,432 M with a random seed, 12,430 M with 0.)
        env = {**os.environ, "FIRESTORM_INSTRUCTIONS_MARKER": str(marker),
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")}
        child = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={out}", sys.executable, __file__, "--child",
             "--workload", args.workload, "--size", str(args.size)],
            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while child.poll() is None and not (marker.exists() and marker.read_text()):
            time.sleep(0.5)
        if child.poll() is None:
            subprocess.run(["callgrind_control", "-i", "on", str(child.pid)],
                           capture_output=True, check=False)
            marker.write_text("on")
        stdout, stderr = child.communicate()
        counted = re.search(r"Collected : (\d+)", stderr)
        if child.returncode or counted is None:
            print(stderr[-2000:], file=sys.stderr)
            return 1
    result = json.loads(stdout.strip().splitlines()[-1])
    n = int(counted.group(1))
    print(f"{args.workload} {args.size}: {n:,} instructions, {result['mentions']:,} mentions,"
          f" {result['events']:,} alert events")
    print(json.dumps({"instructions_result": {"workload": args.workload, "size": args.size,
                                              "instructions": n, **result}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
