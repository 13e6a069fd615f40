"""An incident as files a comms lead can keep: JSON (everything) and CSV (spreadsheets).

JSON is the record plus the timeline in the alert contract's own shapes
(``docs/alerts.md``), and the story the incident is told in. CSV has one row
per minute (``table=points``, the default) or per lifecycle event
(``table=events``, with each event's window and its figures written as every
other channel writes them). A cell that a spreadsheet
would run as a formula (starting ``=``, ``+``, ``-``, ``@``, tab or CR) is
prefixed with ``'``, since who acknowledged an incident is typed by a person.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from alerting.event import format_time
from alerting.story import Story
from alerting.timeline import IncidentRecord, Timeline

__all__ = ["CSV_TABLES", "incident_csv", "incident_json", "record_dict"]

CSV_TABLES = ("points", "events")


def record_dict(record: IncidentRecord) -> dict[str, Any]:
    """The record with ISO-8601 UTC times, as the JSON export carries it."""
    def t(ts: float | None) -> str | None:
        return None if ts is None else format_time(ts)

    return {"incident_id": record.incident_id, "entity_id": record.entity_id,
            "entity_name": record.entity_name, "entity_kind": record.entity_kind,
            "owner": record.owner, "status": record.status, "severity": record.severity,
            "opened_at": t(record.opened_at), "resolved_at": t(record.resolved_at),
            "last_at": t(record.last_at), "last_event": record.last_event,
            "last_seq": record.last_seq, "acknowledged_by": record.acknowledged_by,
            "acknowledged_at": t(record.acknowledged_at), "story_id": record.story_id}


def incident_json(record: IncidentRecord, timeline: Timeline | None,
                  story: Story | None = None) -> str:
    """Record, per-minute points (``window_seconds`` 60: each is one minute), events, story."""
    timeline = timeline or Timeline(record.incident_id, (), ())
    data = {"incident": record_dict(record),
            "story": None if story is None else story.to_dict(),
            "points": [{**p.to_dict(), "at": format_time(p.at), "window_seconds": 60}
                       for p in timeline.points],
            "events": [{**e.to_dict(), "figures": {"volume": e.figures.volume_text(),
                                                   "negativity": e.figures.negativity_text()}}
                       for e in timeline.events]}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def incident_csv(timeline: Timeline | None, table: str = "points") -> str:
    """One table of the timeline as CSV text (header first).

    >>> from alerting.timeline import TimelinePoint
    >>> t = Timeline("a-1", (TimelinePoint(60.0, 40, 8.0, 0.7, 0.3, 5.0, "warning"),), ())
    >>> print(incident_csv(t), end="")
    at,volume,expected_volume,negativity,expected_negativity,score,severity,events
    1970-01-01T00:01:00Z,40,8.0,0.7,0.3,5.0,warning,
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    points = timeline.points if timeline else ()
    events = timeline.events if timeline else ()
    if table == "points":
        marks: dict[float, list[str]] = {}
        for e in events:
            marks.setdefault(e.at, []).append(e.event)
        writer.writerow(["at", "volume", "expected_volume", "negativity",
                         "expected_negativity", "score", "severity", "events"])
        for p in points:
            writer.writerow([format_time(p.at), p.volume, p.expected_volume, p.negativity,
                             p.expected_negativity, p.score, p.severity or "",
                             " ".join(marks.get(p.at, ()))])
    elif table == "events":
        writer.writerow(["at", "emitted_at", "seq", "event", "severity", "previous_severity",
                         "volume", "expected_volume", "negativity", "expected_negativity",
                         "window_seconds", "how_big", "how_negative", "score", "reasons",
                         "acknowledged_by", "story_id"])
        for e in events:
            writer.writerow([
                format_time(e.at), "" if e.emitted_at is None else format_time(e.emitted_at),
                e.seq, e.event, e.severity, e.previous_severity or "", e.volume,
                e.expected_volume, e.negativity, e.expected_negativity,
                "" if e.window_seconds is None else f"{e.window_seconds:g}",
                e.figures.volume_text(), e.figures.negativity_text(), e.score,
                _cell(" | ".join(e.reasons)), _cell(e.acknowledged_by or ""),
                e.story.id if e.story is not None else ""])
    else:
        raise ValueError(f"table {table!r}: must be one of {', '.join(CSV_TABLES)}")
    return out.getvalue()


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
