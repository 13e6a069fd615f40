"""``firestorm report``: the measured precision of the alerts, from the officers' feedback."""

from __future__ import annotations

import argparse
import json
import time

from alerting.action_store import open_action_store
from alerting.feedback import PrecisionReport, PrecisionRow, precision
from streams.errors import FirestormError
from streams.settings import Settings

__all__ = ["add_parser", "render_report"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="alert precision per entity and severity, from officers' feedback",
        description="Print the precision of the alerts over the last 30 and 90 days: the share"
                    " of incidents the duty officers rated that were real (useful, or too late"
                    " to act on), per entity and per severity, with the share that came too"
                    " late. The latest verdict on an incident counts. The incident pages show"
                    " the same at /report.")
    p.add_argument("--days", type=int, nargs="+", default=[30, 90], metavar="N",
                   help="windows in days (default: 30 90)")
    p.add_argument("--json", action="store_true", help="one JSON object per window")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    if any(d < 1 or d > 100 for d in args.days):
        raise FirestormError("--days: each window must be 1 to 100 days (feedback is kept 100)")
    store = open_action_store(settings.redis_url, **(
        {"ssl_ca_certs": settings.redis_ca} if settings.redis_ca else {}))
    try:
        now = time.time()
        given = store.feedback(now - max(args.days) * 86400.0)
    finally:
        store.close()
    reports = [precision(given, now, days) for days in args.days]
    if args.json:
        for report in reports:
            print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(render_report(reports), end="")
    return 0


def render_report(reports: list[PrecisionReport]) -> str:
    """The report as text a comms lead can paste into a review.

    >>> from alerting.feedback import Feedback, precision
    >>> r = precision([Feedback("a-1", "acme", "Acme", "critical", "useful", "sam", 100.0)],
    ...               now=200.0, days=30)
    >>> print(render_report([r]), end="")
    Alert precision, from the duty officers' feedback (latest verdict per incident)
    <BLANKLINE>
    Last 30 days: precision 100% over 1 rated incident
      per entity                    useful  too late  false alarm  rated  precision  too late
      Acme                               1         0            0      1       100%        0%
      per severity
      critical                           1         0            0      1       100%        0%
    """
    out = ["Alert precision, from the duty officers' feedback (latest verdict per incident)", ""]
    for report in reports:
        total = report.total
        plural = "" if total.rated == 1 else "s"
        out.append(f"Last {report.days} days: precision {_pct(total.precision)} over"
                   f" {total.rated} rated incident{plural}")
        if not total.rated:
            out.append("  no feedback yet: rate incidents on their page, from a message's"
                       " link or in the console (f)")
            continue
        out.append(f"  {'per entity':<28} {'useful':>7} {'too late':>9} {'false alarm':>12}"
                   f" {'rated':>6} {'precision':>10} {'too late':>9}")
        out += [_row(r) for r in report.by_entity]
        out.append("  per severity")
        out += [_row(r) for r in report.by_severity]
    return "\n".join(out) + "\n"


def _row(r: PrecisionRow) -> str:
    label = r.label if len(r.label) <= 28 else r.label[:27] + "…"
    return (f"  {label:<28} {r.useful:>7} {r.too_late:>9} {r.false_alarm:>12} {r.rated:>6}"
            f" {_pct(r.precision):>10} {_pct(r.too_late_share):>9}")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
