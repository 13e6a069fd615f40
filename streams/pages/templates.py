"""HTML that escapes by default: the only way the pages build markup.

Post text and handles come from the public, so every value put into a
template is HTML-escaped unless it is already :class:`Markup` (markup this
module or the chart built). A post reading ``<script>alert(1)</script>``
shows as those characters. The Content-Security-Policy (no inline script)
is the second line of defence, not the first.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

__all__ = ["Markup", "escape", "join", "layout", "render", "when"]


class Markup(str):
    """Text that is already safe HTML (built here, never from input)."""

    __slots__ = ()


def escape(value: Any) -> Markup:
    """``value`` as HTML text; Markup passes through unchanged.

    >>> escape('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    >>> escape(Markup("<b>ok</b>"))
    '<b>ok</b>'
    """
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def render(template: str, **values: Any) -> Markup:
    """Fill ``{name}`` slots with escaped values (format numbers before passing them).

    >>> render('<a href="{href}">{text}</a>', href="/x?a=1&b=2", text="<hi>")
    '<a href="/x?a=1&amp;b=2">&lt;hi&gt;</a>'
    """
    return Markup(template.format(**{k: escape(v) for k, v in values.items()}))


def join(parts: Iterable[Any], sep: str = "") -> Markup:
    """Concatenate, escaping any part that is not Markup."""
    return Markup(sep.join(escape(p) for p in parts))


def when(ts: float | None, empty: str = "—") -> str:
    """An epoch time as the pages show it: minutes, UTC, said so.

    >>> when(1714566840.0), when(None)
    ('2024-05-01 12:34 UTC', '—')
    """
    if ts is None:
        return empty
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def layout(title: str, body: Markup, *, nav: bool = True, script: str | None = None,
           banner: Markup | None = None) -> str:
    """A whole page: one stylesheet, optional script file, no inline script or style.

    ``banner`` goes right under the header: the pipeline's liveness, on every page.
    """
    links = Markup('<nav><a href="/">Incidents</a> <a href="/live">Live alerts</a>'
                   ' <a href="/report">Precision</a>'
                   '<form method="post" action="/logout" class="logout">'
                   '<button type="submit">Log out</button></form></nav>') if nav else Markup("")
    tag = render('<script src="{src}" defer></script>', src=script) if script else Markup("")
    return render(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>{title} · Firestorm</title>'
        '<link rel="stylesheet" href="/static/pages.css">{tag}</head>'
        '<body><header><span class="brand">Firestorm</span>{links}</header>{banner}'
        '<main>{body}</main></body></html>\n',
        title=title, tag=tag, links=links, banner=banner or Markup(""), body=body)
