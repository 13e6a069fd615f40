"""Replay throughput on one core: decode + tag, + score, + detect + lifecycle, and the CLI.

    python bench/bench_replay.py                       # generated dense stream (cached in /tmp)
    python bench/bench_replay.py --input M.jsonl --watchlist W.yaml
    python bench/bench_replay.py --seeds 12 --days 4 --repeat 1   # denser, 632k mentions
    python bench/bench_replay.py --busy     # issue 13's busy stream: 3.05M mentions

The default stream is several seeded :func:`bench.scenarios.legacy.generate` streams of
the standard variant merged in event-time order: the same 8 entities, each seed
adding its own traffic, storms and benign episodes, so the merged stream is
denser (Poisson rates add) and stormier than one seed. It is written once to a
JSONL file in the temp directory and reused by later runs with the same
parameters.

Every stage runs the real code on the raw lines, in batches like the CLI, with
fresh state each repeat (no caching across repeats that a live stream would not
have):

- ``floor``: only the JSON decoder and the token regex on each line: no pure-Python
  pipeline that reads JSON and matches words can beat this figure;
- ``decode+tag (Python)``: :class:`models.intake.Intake` with a constant scorer
  (decode, validate, tokenise, match, pseudonymise, ticks);
- ``+score (Python)``: the same with the shipped negativity model: the pure-Python
  intake, the compiled core's specification;
- ``+score (compiled)``: what replay and the worker run, :func:`build_intake`'s
  :class:`models.compiled.CompiledIntake` (the Rust core, ``rust/``);
- ``full``: :func:`streams.commands.replay.replay` (intake, detector,
  lifecycle, alert events serialised to an in-memory file), with either intake;
- ``CLI``: ``firestorm replay`` as a subprocess, wall time including start-up.

``--busy`` is issue 13's busy stream: 26 seeds of 13 days (3.05M mentions, 20.4 per
entity-minute of the stream's span), timed with the floor, the compiled intake and the
CLI only (the Python intake and the in-process replay would take minutes more, and the
CLI is the figure with a target). Each figure is printed
beside its target: the CLI at >= 50,000/s on the default stream and >= 100,000/s on
the busy one.
"""

import os

# One core: set before numpy loads its BLAS.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import heapq  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from itertools import islice  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scenarios.legacy import generate  # noqa: E402
from models.intake import Intake  # noqa: E402
from models.matcher import tokens  # noqa: E402
from models.mention import _DECODER, parse_ts  # noqa: E402
from models.negativity import NegativityScorer  # noqa: E402
from models.privacy import Pseudonymiser  # noqa: E402
from models.watchlist import parse_watchlist  # noqa: E402
from streams.commands.replay import BATCH, replay  # noqa: E402
from streams.components import build_engine, build_intake  # noqa: E402
from streams.settings import Settings  # noqa: E402


def dense_stream(seeds: int, days: int, warmup_days: int) -> tuple[Path, Path]:
    """Write (once) the merged stream of ``seeds`` generated streams; its files."""
    stem = Path(tempfile.gettempdir()) / f"firestorm-bench-{seeds}x{days}d-w{warmup_days}"
    mentions, watchlist = stem.with_suffix(".jsonl"), stem.with_suffix(".yaml")
    if mentions.is_file() and watchlist.is_file():
        return mentions, watchlist
    streams = [generate(seed=s, days=days, warmup_days=warmup_days) for s in range(1, seeds + 1)]
    merged = heapq.merge(*(s.mentions for s in streams), key=lambda m: (m["ts"], m["id"]))
    partial = mentions.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out:
        for m in merged:
            out.write(json.dumps(m) + "\n")
    partial.rename(mentions)
    watchlist.write_text(streams[0].watchlist, encoding="utf-8")
    return mentions, watchlist


BUSY = {"seeds": 26, "days": 13, "warmup_days": 1}
# Issue 13's replay targets, CLI wall time including start-up (mentions a second).
TARGET_BENCH, TARGET_BUSY = 50_000, 100_000


def density(lines: list[bytes], entities: int) -> float:
    """Mentions per entity-minute over the minutes the stream spans (its first to its
    last timestamp's minute, both counted)."""
    first, last = (parse_ts(_DECODER.decode(line.decode("utf-8"))["ts"])
                   for line in (lines[0], lines[-1]))
    reasons = [t for t in (first, last) if isinstance(t, str)]  # parse_ts's reasons
    if reasons:
        raise SystemExit(f"bench_replay: the stream's first or last line: {reasons[0]}")
    return len(lines) / (entities * (int(last // 60) - int(first // 60) + 1))


def batches(lines: list[bytes]):
    it = iter(lines)
    while batch := list(islice(it, BATCH)):
        yield batch


Timing = tuple[float, float]  # wall seconds, CPU seconds


def timed(run) -> Timing:
    started, started_cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - started, time.process_time() - started_cpu


def time_intake(lines: list[bytes], intake: Intake) -> Timing:
    def run() -> None:
        for batch in batches(lines):
            intake.accept_many(batch, now=time.time())
    return timed(run)


def time_replay(lines: list[bytes], intake: Intake, engine) -> Timing:
    return timed(lambda: replay(iter(lines), intake, engine, io.StringIO()))


def time_cli(mentions: Path, watchlist: Path) -> Timing:
    firestorm = Path(sys.executable).with_name("firestorm")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([str(firestorm), "replay", "--watchlist", str(watchlist),
                    "--input", str(mentions), "--alerts", os.devnull],
                   check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", type=Path, help="mentions JSONL (default: a generated stream)")
    ap.add_argument("--watchlist", type=Path, help="watchlist YAML (with --input)")
    ap.add_argument("--seeds", type=int, default=6, help="generated streams merged")
    ap.add_argument("--days", type=int, default=4, help="days of each generated stream")
    ap.add_argument("--warmup-days", type=int, default=1)
    ap.add_argument("--repeat", type=int,
                    help="runs per stage; the best is shown (default 3, with --busy 1)")
    ap.add_argument("--no-cli", action="store_true", help="skip the CLI subprocess run")
    ap.add_argument("--busy", action="store_true",
                    help="issue 13's busy stream (26 seeds x 13 days, 3.05M mentions), "
                         "the floor, the compiled intake and the CLI only; --repeat "
                         "defaults to 1")
    args = ap.parse_args(argv)
    if args.busy:
        if args.input:
            ap.error("--busy generates its own stream: drop --input")
        args.seeds, args.days, args.warmup_days = BUSY["seeds"], BUSY["days"], BUSY["warmup_days"]
    if args.repeat is None:
        args.repeat = 1 if args.busy else 3
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    if args.input:
        if not args.watchlist:
            ap.error("--input needs --watchlist")
        mentions, watchlist_path = args.input, args.watchlist
    else:
        mentions, watchlist_path = dense_stream(args.seeds, args.days, args.warmup_days)
    lines = [line.rstrip(b"\n") for line in mentions.open("rb") if line.strip()]
    watchlist = parse_watchlist(watchlist_path.read_text(encoding="utf-8"))
    settings = Settings(pseudonym_key="bench")
    n = len(lines)
    print(f"# {n:,} mentions, {len(watchlist.entities)} entities, "
          f"{density(lines, len(watchlist.entities)):.1f} mentions per entity-minute, {mentions}")

    def constant(texts):
        return [0.3] * len(texts)

    def floor() -> Timing:
        # What CPython's C-level parts alone cost per line: the shared JSON decoder
        # and the token regex, with no validation, matching, scoring or detection.
        def run() -> None:
            for line in lines:
                data = _DECODER.decode(line.decode("utf-8"))
                if type(data) is dict and type(data.get("text")) is str:
                    tokens(data["text"])
        return timed(run)

    def python_intake() -> Intake:  # the compiled core's oracle
        return Intake(watchlist, None, Pseudonymiser(settings.pseudonym_key.encode()),
                      assess_many=NegativityScorer.default().assess_many)

    stages = {
        "floor: json + tokenise": floor,
        "decode+tag (Python)": lambda: time_intake(lines, Intake(
            watchlist, constant, Pseudonymiser(settings.pseudonym_key.encode()))),
        "+score (Python)": lambda: time_intake(lines, python_intake()),
        "+score (compiled)": lambda: time_intake(lines, build_intake(settings, watchlist)),
        "full, Python intake": lambda: time_replay(
            lines, python_intake(), build_engine(watchlist)),
        "full, compiled intake": lambda: time_replay(
            lines, build_intake(settings, watchlist), build_engine(watchlist)),
    }
    if args.busy:
        for name in ("decode+tag (Python)", "+score (Python)", "full, Python intake",
                     "full, compiled intake"):
            del stages[name]
    if not args.no_cli:
        stages["CLI firestorm replay"] = lambda: time_cli(mentions, watchlist_path)
    default = not args.input and all(getattr(args, name) == ap.get_default(name)
                                     for name in ("seeds", "days", "warmup_days"))
    target = TARGET_BUSY if args.busy else TARGET_BENCH if default else None
    # CPU time is the fair figure on a shared machine; wall time is what a run sees.
    print(f"{'stage':26} {'wall s':>8} {'mentions/s':>11} {'CPU s':>8} {'per CPU-s':>10}")
    for name, run in stages.items():
        runs = [run() for _ in range(args.repeat)]
        wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
        beside = ""
        if name.startswith("CLI") and target:
            beside = (f"   target >= {target:,}/s: "
                      f"{'met' if n / wall >= target else 'not met'}")
        print(f"{name:26} {wall:>8.2f} {n / wall:>11,.0f} {cpu:>8.2f} {n / cpu:>10,.0f}"
              f"{beside}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
