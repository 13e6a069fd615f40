"""What a quiet minute costs: replay of many mostly quiet entities, per entity-minute.

Issue 13 asks that a quiet minute (nothing unusual at any scale) cost a few µs. Most
minutes of a real watchlist are quiet, and every watched entity closes one a minute
whether or not it was mentioned: with 1,000 entities that is 1,000 closes a minute
of event time, so this cost, not the per-mention one, bounds how fast a large
watchlist replays or catches up.

The stream is bench_rss.py's (1,000 entities named by made-up words, each mention
tagged to one entity, a fifth hostile in tone, at least a mention an hour each, 6 an
hour on average), cut to ``--hours`` of event time. It runs through
:func:`streams.commands.replay.replay` in this process (the CLI's own path, start-up
left out) on one core. Every minute the detector closes is counted, with the share
that took the quiet path (``Detector._unusual`` said no). Printed: CPU seconds,
mentions and entity-minutes per CPU-second, and µs per entity-minute beside the
target.

    python bench/bench_quiet.py [--entities 1000] [--hours 6] [--repeat 2]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import fields, replace  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_rss import stream, watchlist  # noqa: E402
from models.detector import Detector  # noqa: E402
from models.watchlist import parse_watchlist  # noqa: E402
from streams.commands.replay import replay  # noqa: E402
from streams.components import build_engine, build_intake  # noqa: E402
from streams.settings import Settings  # noqa: E402

END = 1_767_571_200.0  # 2026-01-05 00:00 UTC: a fixed day, so runs compare


class Counted(Detector):
    """The engine's detector, counting the minutes it closes and the quiet ones."""

    closed = 0
    quiet = 0

    def _unusual(self, *args, **kwargs) -> bool:
        unusual = super()._unusual(*args, **kwargs)
        type(self).closed += 1
        type(self).quiet += not unusual
        return unusual


def lines_and_watchlist(entities: int, hours: float, rate: float,
                        seed: int) -> tuple[list[bytes], object]:
    generated = watchlist(entities, rate)
    data = [m for m in stream(generated, 26.0, END, seed) if m["ts"] >= END - hours * 3600]
    doc = {"entities": generated.entities}
    return [json.dumps(m).encode() for m in data], parse_watchlist(json.dumps(doc))


def run_once(lines: list[bytes], wl) -> tuple[float, int, int]:
    engine = build_engine(wl)
    d = engine.detector
    engine = replace(engine, detector=Counted(**{f.name: getattr(d, f.name)
                                                  for f in fields(d) if f.init}))
    intake = build_intake(Settings(pseudonym_key="bench"), wl)
    Counted.closed = Counted.quiet = 0
    started = time.process_time()
    replay(iter(lines), intake, engine, io.StringIO())
    return time.process_time() - started, Counted.closed, Counted.quiet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=1000, help="watched entities")
    parser.add_argument("--hours", type=float, default=6.0,
                        help="hours of event time replayed (the stream's last ones; <= 26)")
    parser.add_argument("--rate", type=float, default=6.0, help="mean mentions an hour")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="runs; the fastest is shown")
    args = parser.parse_args(argv)
    if not 0 < args.hours <= 26 or args.entities < 1 or args.repeat < 1:
        parser.error("--hours must be in (0, 26], --entities and --repeat at least 1")
    lines, wl = lines_and_watchlist(args.entities, args.hours, args.rate, args.seed)
    print(f"# {len(lines):,} mentions, {args.entities:,} entities, {args.hours:g} h of event"
          " time", flush=True)
    runs = [run_once(lines, wl) for _ in range(args.repeat)]
    cpu, closed, quiet = min(runs)
    print(f"CPU s {cpu:.2f}; minutes closed {closed:,} ({quiet / max(closed, 1):.1%} quiet)")
    print(f"mentions per CPU-second      {len(lines) / cpu:>10,.0f}")
    print(f"entity-minutes per CPU-second {closed / cpu:>9,.0f}")
    per = cpu / max(closed, 1) * 1e6
    print(f"target: µs per entity-minute {per:.1f} (a quiet minute: a few µs;"
          f" {'met' if per <= 5 else 'not met'})")
    print(json.dumps({"quiet_result": {"mentions": len(lines), "entities": args.entities,
                                       "hours": args.hours, "cpu": round(cpu, 3),
                                       "minutes": closed, "quiet": quiet,
                                       "us_per_minute": round(per, 2)}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
