"""``firestorm evaluate``: score the alerts a replay wrote against labelled history.

A department labels its own past incidents (docs/detection.md, "Labels"),
replays the mentions of that period with ``firestorm replay``, and sees what
the duty officer would have been told: which storms were found and how early,
and how often they would have been woken for nothing.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable

from alerting.errors import AlertEventError
from alerting.event import AlertEvent
from models.errors import LabelError
from models.evaluation import Alarm, Report, evaluate
from models.labels import Label, format_time, parse_labels
from streams.errors import ConfigError, UsageError
from streams.lines import open_lines
from streams.render import safe

__all__ = ["add_parser", "alarms_of", "read_alarms", "read_labels"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="score replayed alerts against labelled storms and quiet spans",
        description="Score the alert events `firestorm replay` wrote against a labels file:\n"
                    "recall, delay and lead of each labelled storm, benign episodes that\n"
                    "reached warning, and false alarms per entity-week in the labelled\n"
                    "background. Labels (docs/detection.md, \"Labels\"), one JSON object a"
                    " line:\n"
                    '  {"entity_id": "acme", "kind": "storm", "onset": "2026-03-05T09:30:00Z",\n'
                    '   "peak": "2026-03-05T12:00:00Z", "end": "2026-03-05T20:00:00Z"}\n'
                    "kind: storm (must be found), benign (must not warn), background (every\n"
                    "storm in it is labelled), ignore; times ISO-8601 with an offset or epoch"
                    " seconds.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n"
               "  firestorm replay -w watchlist.yaml -i mentions.jsonl -o alerts.jsonl\n"
               "  firestorm evaluate --labels labels.jsonl --alerts alerts.jsonl")
    p.add_argument("--labels", "-l", required=True, metavar="FILE",
                   help="labels (JSONL: storm, benign, background and ignore spans)")
    p.add_argument("--alerts", "-a", required=True, metavar="FILE",
                   help="alert events as `firestorm replay --alerts` writes them (JSONL,"
                        " .gz, or - for stdin)")
    p.add_argument("--before", type=float, default=0.0, metavar="MIN",
                   help="minutes before a storm's labelled onset in which a warning still"
                        " finds it (default 0: labels are exact)")
    p.add_argument("--grace", type=float, default=60.0, metavar="MIN",
                   help="minutes after a storm's end whose alarms are its tail, not false"
                        " (default 60)")
    p.add_argument("--json", action="store_true",
                   help="print the full report as JSON (summary, every storm and benign"
                        " episode) instead of the text summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for name in ("before", "grace"):
        value = getattr(args, name)
        if not value >= 0:
            raise UsageError(f"--{name} must be minutes >= 0, got {value:g}")
    labels = read_labels(args.labels)
    if not labels:
        raise ConfigError(f"labels {args.labels!r} has no labels: write one JSON object a"
                          " line (see docs/detection.md, \"Labels\")")
    alarms = read_alarms(args.alerts)
    report = evaluate(labels, alarms, before=args.before * 60, grace=args.grace * 60)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(summary_text(report, len(alarms)))
    return 0


def read_labels(path: str) -> list[Label]:
    """Labels from a file; a bad line is a :class:`ConfigError` naming line, field and fix."""
    try:
        with open_lines(path, keep_blank=True) as lines:
            return parse_labels(lines, source=path)
    except LabelError as exc:
        raise ConfigError(str(exc)) from None


def read_alarms(path: str) -> list[Alarm]:
    """Alarms from a file of alert events; a bad line names its number and what is wrong."""
    with open_lines(path, keep_blank=True) as lines:
        return alarms_of(lines, source=path)


def alarms_of(lines: Iterable[bytes | str], source: str = "alerts") -> list[Alarm]:
    """One :class:`Alarm` per alert event line (blank lines skipped)."""
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = AlertEvent.from_json(line)
        except AlertEventError as exc:
            raise ConfigError(f"{source} line {number}: {exc}; expected the alert events"
                              " `firestorm replay --alerts FILE` writes") from None
        out.append(Alarm(event.entity_id, event.at, event.event, event.severity,
                         event.previous_severity, event.incident_id))
    return out


def summary_text(report: Report, events: int) -> str:
    """The report for a person: headline figures, then one line per storm and per miss."""
    s = report.summary()

    def num(value: float | None, fmt: str = "{:.0f}") -> str:
        return "-" if value is None else fmt.format(value)

    lines = [
        f"alert events read: {events:,}",
        f"storms: {s['storms']}, found (warning or critical): {s['found']}"
        f" (recall {num(s['recall'], '{:.2f}')})",
        f"  median delay after onset: {num(s['median_delay_minutes'])} min;"
        f" median lead before peak: {num(s['median_lead_minutes'])} min;"
        f" found before peak: {num(s['found_before_peak'], '{:.0%}')}",
        f"benign episodes: {s['benign']}, reached warning: {s['benign_reached_warning']}",
        f"background: {s['entity_weeks']:.2f} entity-weeks;"
        f" warning pages {s['warning_pages']}"
        f" ({num(s['warning_pages_per_entity_week'], '{:.2f}')} per entity-week);"
        f" incidents opened {s['incidents']}"
        f" ({num(s['incidents_per_entity_week'], '{:.2f}')} per entity-week,"
        f" {s['watch_only_incidents']} never above watch)",
    ]
    if s["pages_by_benign_label"]:
        lines.append("  warning pages inside benign episodes: " + ", ".join(
            f"{safe(k, 40)} {n}" for k, n in sorted(s["pages_by_benign_label"].items())))
    if report.storms:
        lines.append("")
        lines.append(f"{'storm':40} {'onset':20} {'found':>5} {'delay':>6} {'lead':>6} max")
        for r in report.storms:
            name = safe(r.label.id or f"{r.label.entity_id} {r.label.label}".strip(), 40)
            lines.append(
                f"{name:40} {_short(r.label.onset):20} {'yes' if r.found else 'NO':>5}"
                f" {num(None if r.delay is None else r.delay / 60):>6}"
                f" {num(None if r.lead is None else r.lead / 60):>6} {r.max_severity or '-'}")
    warned = [b for b in report.benign if b.reached_warning]
    for b in warned:
        lines.append(f"benign reached warning: {safe(b.label.id or b.label.entity_id, 60)}"
                     f" ({safe(b.label.label, 30)}) at {_short(b.first_warning or 0.0)}")
    return "\n".join(lines)


def _short(ts: float) -> str:
    return format_time(round(ts))[:16].replace("T", " ")
