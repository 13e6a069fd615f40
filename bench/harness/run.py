"""Generate, replay and score one case through ``firestorm replay`` itself.

The case's mentions and watchlist are written to a temporary directory and
replayed by the ``firestorm replay`` command in this process (its argument
parser and its ``run``: the same intake, negativity model, detector
parameters, detector and incident lifecycle as the CLI, whatever they become);
the alert events it writes are read back by ``firestorm evaluate``'s code and
scored against the case's labels as they read from its labels file. So
``firestorm replay`` + ``firestorm evaluate`` on an exported case give the
same figures (tested). Only ``--negativity oracle`` (the generator's intent
instead of the model) builds its own intake.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from contextlib import redirect_stderr
from dataclasses import dataclass
from pathlib import Path

from bench.scenarios.plan import CaseSpec
from bench.scenarios.streams import Case, generate
from models.evaluation import Alarm, BackgroundResult, Report, evaluate
from models.intake import Intake
from models.labels import Label, parse_labels
from models.privacy import Pseudonymiser
from models.watchlist import parse_watchlist
from streams.cli import build_parser
from streams.commands.evaluate import alarms_of, read_alarms
from streams.commands.replay import replay
from streams.components import build_engine
from streams.settings import Settings

__all__ = ["CaseResult", "run_case", "score_case"]



def settings() -> Settings:
    """The environment's settings (FIRESTORM_NEGATIVITY_MODEL and the like apply, as they
    would to the CLI), with a fixed pseudonym key if none is set: pseudonyms do not
    change detection, and the development key's warning is noise here."""
    env = dict(os.environ)
    env.setdefault("FIRESTORM_PSEUDONYM_KEY", "firestorm-evaluate")
    return Settings.from_env(env)


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case's report and what it cost."""

    name: str
    variant: str
    family: str
    report: Report
    mentions: int
    rejected: int
    events: int
    replay_cpu: float  # CPU seconds of the replay (intake + engine), generation excluded
    generate_cpu: float
    background_by_kind: dict[str, BackgroundResult]  # false alarms split by entity kind


def labels_as_read(labels: list[Label]) -> list[Label]:
    """The labels as ``firestorm evaluate`` reads them from the labels file."""
    return parse_labels([lab.to_json() for lab in labels], source="case labels")


def score_case(case: Case, negativity: str = "model", replay_args: Sequence[str] = (),
               keep: Path | None = None) -> tuple[Report, list[Alarm], dict]:
    """Replay ``case`` with ``firestorm replay`` (plus ``replay_args``) and score its alert
    events; ``negativity`` "oracle" swaps the model for the generator's own intent
    (hostile 0.9, else 0.1), to see what the scorer costs."""
    sink = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="firestorm-eval-") as tmp, redirect_stderr(sink):
        if negativity == "oracle":
            alarms, stats, cpu = _replay_oracle(case)
        else:
            paths = case.write(Path(tmp))
            alerts = Path(tmp) / "alerts.jsonl"
            args = build_parser().parse_args(
                ["replay", "-w", str(paths["watchlist"]), "-i", str(paths["mentions"]),
                 "-o", str(alerts), "--start", repr(case.spec.start), *replay_args])
            args.settings = settings()
            started = time.process_time()
            args.func(args)
            cpu = time.process_time() - started
            alarms = read_alarms(str(alerts))
            if keep is not None:  # to see why each alarm was raised: its event has reasons
                dest = keep / f"{case.spec.name}-s{case.spec.seed}"
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy(alerts, dest / "alerts.jsonl")
                shutil.copy(paths["labels"], dest / "labels.jsonl")
            stats = {"lines": len(case.mentions), "rejected": _rejected(sink.getvalue()),
                     "events": len(alarms)}
    report = evaluate(labels_as_read(case.labels), alarms)
    return report, alarms, {"mentions": stats["lines"], "rejected": stats["rejected"],
                            "events": stats["events"], "cpu": cpu}


def _rejected(summary: str) -> int:
    """Rejected lines, from replay's summary line ("..., 1,234 rejected, ...")."""
    found = re.search(r"([\d,]+) rejected", summary)
    return int(found.group(1).replace(",", "")) if found else 0


def _replay_oracle(case: Case) -> tuple[list[Alarm], dict, float]:
    watchlist = parse_watchlist(case.watchlist, source=case.spec.name)
    intent: dict[str, float] = {}
    for mention, hostile in zip(case.mentions, case.hostile, strict=True):
        intent[mention["text"]] = max(intent.get(mention["text"], 0.1), 0.9 if hostile else 0.1)
    s = settings()
    intake = Intake(watchlist, lambda texts: [intent.get(t, 0.1) for t in texts],
                    Pseudonymiser(s.pseudonym_key.encode(), s.reach_threshold))
    engine = build_engine(watchlist)
    out = io.StringIO()
    started = time.process_time()
    stats = replay(iter(case.lines()), intake, engine, out, start=case.spec.start)
    cpu = time.process_time() - started
    return alarms_of(out.getvalue().splitlines(), source=case.spec.name), stats, cpu


def run_case(spec: CaseSpec, negativity: str = "model",
             replay_args: Sequence[str] = (), keep: Path | None = None) -> CaseResult:
    """Generate and score one case (a pool worker's whole job)."""
    started = time.process_time()
    case = generate(spec)
    generated = time.process_time() - started
    report, alarms, stats = score_case(case, negativity, replay_args, keep)
    labels = labels_as_read(case.labels)
    by_kind = {}
    for kind in dict.fromkeys(e.kind for e in spec.entities):
        ids = {e.id for e in spec.entities if e.kind == kind}
        by_kind[kind] = evaluate([lab for lab in labels if lab.entity_id in ids],
                                 alarms).background
    return CaseResult(spec.name, spec.variant, spec.family, report, stats["mentions"],
                      stats["rejected"], stats["events"], stats["cpu"], generated, by_kind)
