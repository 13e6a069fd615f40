"""Would a lower tone floor for strongly significant tone rises find more storms, and
at what cost? A what-if over the evaluation's own cases, not a result of the detector.

The detector requires a window's hostile share to be up by at least ``tone_floor``
(0.15) before hostile mentions can escalate. A storm forty times its usual volume
whose measured share rises by 0.09 then stays at ``watch`` ("hostility as usual").
This replays the full ``tuned`` plan's storm and background cases through
``firestorm replay``'s intake and engine, records for every judged minute the figures
of each window of 15 minutes or more (ratio, share shift, tone z, hostile mentions,
authors, the severity the detector gave), and counts the episodes (storms, news
spikes, storm-free spans) in which a candidate rule, "shift >= LO and tone z >= Z",
holds for 3 minutes within 5 before the detector warned there (or where it never
did). It ignores the entity's own rarity thresholds and the ladder's other tests,
so it overstates both gains and costs; it says whether a rule is worth building.

    python bench/scan_tone_floor.py [--cases N] [--jobs 2]   # ~8 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import models.detector as detector_module
from bench.harness.run import settings
from bench.scenarios.plan import FULL, CaseSpec, plan
from bench.scenarios.streams import generate
from models.labels import Label
from models.watchlist import parse_watchlist
from streams.commands.replay import replay
from streams.components import build_engine, build_intake

RULES = ((0.05, 4.0), (0.06, 5.0), (0.08, 4.0), (0.08, 5.0), (0.05, 6.0), (0.10, 3.0),
         (0.10, 4.0))


@dataclass(frozen=True, slots=True)
class Minute:
    """One window of one judged minute."""

    entity_id: str
    at: float
    minutes: int
    expected: float
    organic: float
    shift: float
    tone_z: float
    hostile: float
    expected_hostile: float
    authors: float
    severity: str | None


_seen: list[Minute] = []
_at: dict[str, float] = {}
_entity: dict[str, str] = {}


def _record() -> None:
    """Wrap the detector's close and judge to record each judged minute's windows."""
    close, judge = detector_module.Detector._close, detector_module.judge

    def closing(self, state, entity_id):
        _at["at"] = state.open.start + self.params.bucket_seconds
        _entity["id"] = entity_id
        return close(self, state, entity_id)

    def judging(short, busiest, long, extras, *args, **kwargs):
        j = judge(short, busiest, long, extras, *args, **kwargs)
        for s in (*short, *long):
            if s.minutes >= 15:
                _seen.append(Minute(_entity["id"], _at["at"], s.minutes, s.expected, s.organic,
                                    s.shift, s.negative_z, s.hostile_mentions,
                                    s.expected_hostile, s.authors, j.severity))
        return j

    detector_module.Detector._close = closing
    detector_module.judge = judging



def _case(spec: CaseSpec) -> tuple[str, list[Label], list[Minute]]:
    _seen.clear()
    case = generate(spec)
    watchlist = parse_watchlist(case.watchlist, source=spec.name)
    replay(iter(case.lines()), build_intake(settings(), watchlist), build_engine(watchlist),
           io.StringIO())
    return spec.name, case.labels, list(_seen)


def _episodes(labels: list[Label], minutes: list[Minute]) -> dict[tuple[str, str], list[Minute]]:
    """Each minute under the storm or news spike it falls in (a news spike's hour after
    too; a storm's hour after is its tail), else under its entity's storm-free span."""
    spans = [(lab.entity_id, "storm" if lab.kind == "storm" else lab.label or lab.kind,
              lab.onset, lab.end + (3600.0 if lab.kind == "benign" else 0.0), lab.id or "")
             for lab in labels if lab.kind in ("storm", "benign")]
    # A storm's tail: the hour after its end, whose alarms the evaluation counts neither way.
    spans += [(lab.entity_id, "storm tail", lab.end, lab.end + 3600.0, f"{lab.id}/tail")
              for lab in labels if lab.kind == "storm"]
    out: dict[tuple[str, str], list[Minute]] = {}
    for m in minutes:
        kind, name = "storm-free", m.entity_id
        for entity_id, k, onset, end, span in spans:
            if entity_id == m.entity_id and onset <= m.at <= end and (
                    k == "storm" or kind == "storm-free"):
                kind, name = k, span
        out.setdefault((kind, name), []).append(m)
    return out


def _holds(m: Minute, lo: float, z: float) -> bool:
    return (lo <= m.shift < 0.15 and m.tone_z >= z and m.organic >= max(m.expected, 0.5)
            and m.hostile - m.expected_hostile >= 8 and m.hostile >= 2 * max(
                m.expected_hostile, 0.25) and m.authors >= 8)


def _sustained(times: list[float]) -> float | None:
    at = sorted(set(times))
    return next((at[i + 2] for i in range(len(at) - 2) if at[i + 2] - at[i] <= 240), None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=0, help="only the first N cases (0: all)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    specs = [s for s in plan("tuned", FULL["tuned"], 1) if s.family in ("storm", "background")]
    if args.cases:
        specs = specs[:args.cases]
    episodes: dict[tuple[str, str], list[Minute]] = {}
    with Pool(args.jobs, initializer=_record) as pool:
        for done, (name, labels, minutes) in enumerate(pool.imap_unordered(_case, specs), 1):
            for (kind, span), found in _episodes(labels, minutes).items():
                episodes[(kind, f"{name}/{span}")] = found
            print(f"\r{done}/{len(specs)} cases", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    kinds = sorted({k for k, _ in episodes})
    print("episodes with a judged minute:",
          ", ".join(f"{k} {sum(1 for x, _ in episodes if x == k)}" for k in kinds))
    print(f"{'rule':>22}  newly warned (never before) / earlier by 1 min or more")
    for lo, z in RULES:
        new: dict[str, int] = {}
        earlier: dict[str, int] = {}
        for (kind, _), found in episodes.items():
            warned = [m.at for m in found if m.severity in ("warning", "critical")]
            at = _sustained([m.at for m in found if _holds(m, lo, z)])
            if at is None:
                continue
            if not warned:
                new[kind] = new.get(kind, 0) + 1
            elif at < min(warned) - 60:
                earlier[kind] = earlier.get(kind, 0) + 1
        cells = "  ".join(f"{k} {new.get(k, 0)}/{earlier.get(k, 0)}" for k in kinds)
        print(f"shift >= {lo:.2f}, z >= {z:.0f}:  {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
