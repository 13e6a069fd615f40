"""Show untrusted text (posts, handles) safely in a terminal.

A post can carry ANSI escape sequences or control characters that would
rewrite the officer's screen; they are shown as visible escapes instead.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["format_alert", "safe"]

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
    """A duty officer's summary of one alert event: what, why, how big, how negative."""
    severity = str(event.get("severity", "?"))
    head = f"{severity.upper():8} {event.get('event', '?'):12}"
    if colour:
        head = _COLOURS.get(severity, "") + head + _RESET
    volume = event.get("volume") or {}
    negativity = event.get("negativity") or {}
    lines = [
        f"{head} {safe(event.get('entity_name'), 80)} ({safe(event.get('entity_kind'), 20)})"
        f"  incident {safe(event.get('incident_id'), 80)}  at {safe(event.get('at'), 40)}",
        f"    volume {_num(volume.get('current'))} vs expected {_num(volume.get('expected'))}"
        f" | negative {_pct(negativity.get('current'))} vs {_pct(negativity.get('expected'))}"
        f" | score {_num(event.get('score'))}",
    ]
    lines += [f"    why: {safe(r, 200)}" for r in event.get("reasons") or ()]
    evidence = event.get("evidence") or {}
    linked = evidence.get("linked") or ()
    if linked:
        lines.append("    linked: " + ", ".join(safe(_first(x), 60) for x in linked))
    for sample in list(evidence.get("samples") or ())[:3]:
        if isinstance(sample, dict):
            lines.append(f"    > {safe(sample.get('author'), 40)}: {safe(sample.get('text'), 160)}")
    return "\n".join(lines)


def _first(item: Any) -> Any:
    return item[0] if isinstance(item, list | tuple) and item else item


def _num(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value if value is not None else "?")


def _pct(value: Any) -> str:
    return f"{value:.0%}" if isinstance(value, int | float) else "?"
