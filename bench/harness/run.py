"""Generate, replay and score one case through the path ``firestorm replay`` takes.

The mentions go as raw JSON lines through :func:`streams.commands.replay.replay`
with the intake and engine of :mod:`streams.components` (decode, tag, the
negativity model, pseudonymise, detector, incident lifecycle); the alert
events it writes are read back by the code of ``firestorm evaluate`` and
scored against the case's labels as they read from its labels file. So
``firestorm replay`` + ``firestorm evaluate`` on an exported case give the
same figures (tested).
"""

from __future__ import annotations

import io
import time
from contextlib import redirect_stderr
from dataclasses import dataclass

from bench.scenarios.plan import CaseSpec
from bench.scenarios.streams import Case, generate
from models.evaluation import Alarm, BackgroundResult, Report, evaluate
from models.intake import Intake
from models.labels import Label, parse_labels
from models.privacy import Pseudonymiser
from models.watchlist import parse_watchlist
from streams.commands.evaluate import alarms_of
from streams.commands.replay import replay
from streams.components import build_engine, build_intake
from streams.settings import Settings

__all__ = ["CaseResult", "run_case", "score_case"]

# Pseudonyms do not change detection (distinct authors stay distinct); a fixed key keeps
# the intake quiet about the development key.
SETTINGS = Settings(pseudonym_key="firestorm-evaluate")


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


def score_case(case: Case, negativity: str = "model") -> tuple[Report, list[Alarm], dict]:
    """Replay ``case`` and score its alert events; ``negativity`` "oracle" swaps the model
    for the generator's own intent (hostile 0.9, else 0.1), to see what the scorer costs."""
    watchlist = parse_watchlist(case.watchlist, source=case.spec.name)
    if negativity == "oracle":
        intent = {}
        for mention, hostile in zip(case.mentions, case.hostile, strict=True):
            intent[mention["text"]] = max(intent.get(mention["text"], 0.1),
                                          0.9 if hostile else 0.1)
        intake = Intake(watchlist, lambda texts: [intent.get(t, 0.1) for t in texts],
                        Pseudonymiser(SETTINGS.pseudonym_key.encode(),
                                      SETTINGS.reach_threshold))
    else:
        intake = build_intake(SETTINGS, watchlist)
    engine = build_engine(watchlist)
    sink = io.StringIO()
    lines = case.lines()
    with redirect_stderr(io.StringIO()):  # replay's progress line is for a person
        started = time.process_time()
        stats = replay(iter(lines), intake, engine, sink)
        cpu = time.process_time() - started
    alarms = alarms_of(sink.getvalue().splitlines(), source=case.spec.name)
    report = evaluate(labels_as_read(case.labels), alarms)
    return report, alarms, {"mentions": stats["lines"], "rejected": stats["rejected"],
                            "events": stats["events"], "cpu": cpu}


def run_case(spec: CaseSpec, negativity: str = "model") -> CaseResult:
    """Generate and score one case (a pool worker's whole job)."""
    started = time.process_time()
    case = generate(spec)
    generated = time.process_time() - started
    report, alarms, stats = score_case(case, negativity)
    labels = labels_as_read(case.labels)
    by_kind = {}
    for kind in dict.fromkeys(e.kind for e in spec.entities):
        ids = {e.id for e in spec.entities if e.kind == kind}
        by_kind[kind] = evaluate([lab for lab in labels if lab.entity_id in ids],
                                 alarms).background
    return CaseResult(spec.name, spec.variant, spec.family, report, stats["mentions"],
                      stats["rejected"], stats["events"], stats["cpu"], generated, by_kind)
