"""Replay labelled synthetic streams through intake and detection; print the figures.

    python bench/evaluate.py                      # seeds 1-3 (tuned on) + held-out seeds 101-102
    python bench/evaluate.py --seeds 4 5 --days 21 --heldout-seeds
    python bench/evaluate.py --negativity synthetic   # the generator's tones instead of the scorer

Each stream goes through the same path as the drivers: raw JSON lines ->
:class:`models.intake.Intake` (decode, tag, score, pseudonymise, ticks) ->
:class:`models.detector.Detector` per entity. Metrics are computed on verdict
severities (see :mod:`models.evaluation`); replay speed counts the whole path,
mentions per second of wall time on one core.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.detector import Detector
from models.evaluation import Report, evaluate
from models.intake import Intake
from models.observation import Observation
from models.privacy import Pseudonymiser
from models.synthetic import generate
from models.watchlist import parse_watchlist

BATCH = 2000


def scorer_for(kind: str, tones: dict[str, float]):
    """The real negativity model, or the generator's intended tones."""
    if kind in ("scorer", "auto"):
        try:
            from models.negativity import NegativityScorer

            return NegativityScorer.default().score_many, "scorer"
        except Exception as exc:  # the artefact may not be built yet
            if kind == "scorer":
                raise
            print(f"# negativity model unavailable ({type(exc).__name__}: {exc});"
                  " using the generator's tones", file=sys.stderr)
    return (lambda texts: [tones.get(t, 0.3) for t in texts]), "synthetic"


def run(seed: int, variant: str, days: int, negativity: str) -> tuple[Report, dict]:
    stream = generate(seed=seed, variant=variant, days=days)
    watchlist = parse_watchlist(stream.watchlist)
    tones = {m["text"]: t for m, t in zip(stream.mentions, stream.tones, strict=True)}
    score_many, used = scorer_for(negativity, tones)
    lines = [json.dumps(m).encode() for m in stream.mentions]
    linked = {e.id: watchlist.linked_to(e.id) for e in watchlist.entities}
    detector = Detector(linked=linked)
    intake = Intake(watchlist, score_many=score_many, pseudonymiser=Pseudonymiser(b"evaluate"))
    states: dict[str, object] = {}
    events: list[tuple[str, float, str | None]] = []
    started = time.perf_counter()
    for i in range(0, len(lines), BATCH):
        result = intake.accept_many(lines[i:i + BATCH], now=stream.end + 86400)
        for item in result.items:
            state = states.get(item.entity_id) or detector.initial()
            if isinstance(item, Observation):
                state, verdicts = detector.observe(state, item)
            else:
                state, verdicts = detector.tick(state, item.ts, item.entity_id)
            states[item.entity_id] = state
            for v in verdicts:
                if v.severity is not None:
                    events.append((v.entity_id, v.at, v.severity))
    elapsed = time.perf_counter() - started
    report = evaluate(stream.storms, stream.benign, events, stream.entity_ids,
                      start=stream.warmup_end, end=stream.end)
    return report, {"mentions": len(lines), "seconds": elapsed, "negativity": used}


def minutes(x: float | None) -> str:
    return "-" if x is None else f"{x / 60:.0f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    ap.add_argument("--heldout", type=int, nargs="*", default=[101, 102],
                    help="seeds of the held-out variant (not tuned on)")
    ap.add_argument("--days", type=int, default=21)
    ap.add_argument("--negativity", choices=["auto", "scorer", "synthetic"], default="auto")
    ap.add_argument("--details", action="store_true", help="one line per storm")
    args = ap.parse_args(argv)
    runs = [("standard", s) for s in args.seeds] + [("heldout", s) for s in args.heldout]
    header = (f"{'variant':9} {'seed':>4} {'storms':>6} {'recall':>6} {'false/ew':>8}"
              f" {'sharp delay':>11} {'delay':>5} {'lead':>5} {'mentions':>8} {'ment/s':>7}"
              f"  false by benign kind")
    print(header)
    print("-" * len(header))
    totals: dict[str, list] = {}
    for variant, seed in runs:
        report, info = run(seed, variant, args.days, args.negativity)
        t = totals.setdefault(variant, [])
        t.append((report, info))
        print(f"{variant:9} {seed:>4} {len(report.storms):>6} {report.recall:>6.2f}"
              f" {report.false_per_entity_week:>8.2f}"
              f" {minutes(report.median_delay(['sharp', 'concurrent'])):>11}"
              f" {minutes(report.median_delay()):>5} {minutes(report.median_lead()):>5}"
              f" {info['mentions']:>8} {info['mentions'] / info['seconds']:>7.0f}"
              f"  {dict(report.false_by_benign) or ''}")
        if args.details:
            for s in report.storms:
                print(f"    {s.kind:10} {s.entity_id:18} found={s.found!s:5}"
                      f" delay={minutes(s.delay):>4} min lead={minutes(s.lead):>5} min"
                      f" max={s.max_severity}")
    print("-" * len(header))
    for variant, rows in totals.items():
        storms = [s for r, _ in rows for s in r.storms]
        found = sum(s.found for s in storms)
        false = sum(r.false_warnings for r, _ in rows)
        weeks = sum(r.entity_weeks for r, _ in rows)
        sharp = [s.delay for s in storms if s.delay is not None
                 and s.kind in ("sharp", "concurrent")]
        delays = [s.delay for s in storms if s.delay is not None]
        leads = [s.lead for s in storms if s.lead is not None]
        speed = sum(i["mentions"] for _, i in rows) / sum(i["seconds"] for _, i in rows)
        print(f"{variant:9} {'all':>4} {len(storms):>6} {found / len(storms):>6.2f}"
              f" {false / weeks:>8.2f}"
              f" {minutes(statistics.median(sharp) if sharp else None):>11}"
              f" {minutes(statistics.median(delays) if delays else None):>5}"
              f" {minutes(statistics.median(leads) if leads else None):>5}"
              f" {sum(i['mentions'] for _, i in rows):>8} {speed:>7.0f}"
              f"  negativity={rows[0][1]['negativity']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
