"""Show untrusted text (posts, handles) safely in a terminal.

A post can carry ANSI escape sequences or control characters that would
rewrite the officer's screen; they are shown as visible escapes instead.
"""

from __future__ import annotations

import re
from typing import Any

from alerting.errors import AlertEventError
from alerting.event import AlertEvent

__all__ = ["format_age", "format_alert", "safe"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_COLOURS = {"critical": "\x1b[1;41;97m", "warning": "\x1b[1;33m", "watch": "\x1b[36m"}
_RESET = "\x1b[0m"


def safe(text: Any, limit: int = 280) -> str:
    """One printable line: controls and bidi overrides escaped, newlines folded, cut at ``limit``.

    >>> safe("hi\\x1b[2Jthere\\nnext")
    'hi\\\\x1b[2Jthere ⏎ next'
    """
    text = str(text).replace("\r\n", "\n").replace("\n", " ⏎ ").replace("\t", " ")
    text = _CONTROL.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_alert(event: dict[str, Any], colour: bool = False) -> str:
    """A duty officer's summary of one alert event: what, why, how big, how negative.

    The figures are written as every channel writes them (:mod:`alerting.figures`).
    """
    severity = str(event.get("severity", "?"))
    head = f"{severity.upper():8} {event.get('event', '?'):12}"
    if colour:
        head = _COLOURS.get(severity, "") + head + _RESET
    try:
        decoded: AlertEvent | None = AlertEvent.from_dict(event)
    except AlertEventError:
        decoded = None  # not ours to judge: show what can be shown
    story = decoded.story if decoded is not None else None
    lines = [
        f"{head} {safe(event.get('entity_name'), 80)} ({safe(event.get('entity_kind'), 20)})"
        f"  incident {safe(event.get('incident_id'), 80)}  at {safe(event.get('at'), 40)}",
    ]
    if story is not None and story.is_group:
        lines.append(f"    story: {safe(story.title(), 200)} ({story.severity})")
    if decoded is not None:
        lines += [f"    {decoded.figures.volume_text()}",
                  f"    {decoded.figures.negativity_text()} | {decoded.figures.score_text()}"]
    lines += [f"    why: {safe(r, 200)}" for r in event.get("reasons") or ()]
    evidence = event.get("evidence") or {}
    linked = evidence.get("linked") or ()
    if linked:
        lines.append("    linked: " + ", ".join(safe(_first(x), 60) for x in linked))
    for sample in list(evidence.get("samples") or ())[:3]:
        if isinstance(sample, dict):
            lines.append(f"    > {safe(sample.get('author'), 40)}: {safe(sample.get('text'), 160)}")
    return "\n".join(lines)


def format_age(seconds: float) -> str:
    """A short age for a glance at 2am.

    >>> format_age(42), format_age(125), format_age(7300), format_age(200000)
    ('42s', '2m', '2h01m', '2d07h')
    """
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def _first(item: Any) -> Any:
    return item[0] if isinstance(item, list | tuple) and item else item

