"""An incident's timeline as a self-contained SVG: drawn on the server, no script, no CDN.

The comms lead's question is "how did it grow, and when were we told?", so
one chart answers it: mentions per minute against the baseline band, the
negative share on a second axis, and a vertical line at every lifecycle event.

The band is ``expected ± band_k·√expected``: detection models minute counts
as Poisson around the baseline (``models.signals.poisson_z``), so with the
default ``band_k=2`` about 95% of ordinary minutes fall inside it and a line
well above it is what an alert looks like. Pure: same input, same bytes.
Every piece of text is XML-escaped, and nothing uses ``style=`` attributes,
so the pages' Content-Security-Policy needs no ``unsafe-inline``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from alerting.event import AlertEvent
from alerting.timeline import TimelinePoint

__all__ = ["ChartSize", "points_from_events", "timeline_svg"]

VOLUME = "#1f5fa8"
BAND = "#cfe0f3"
NEGATIVE = "#c2410c"
EVENT_COLOURS = {"opened": "#b91c1c", "escalated": "#b91c1c", "updated": "#6b7280",
                 "deescalated": "#047857", "resolved": "#047857", "acknowledged": "#6d28d9"}


@dataclass(frozen=True, slots=True)
class ChartSize:
    """Canvas and margins in SVG user units (the SVG scales to its container)."""

    width: int = 960
    height: int = 360
    left: int = 56
    right: int = 56
    top: int = 72  # room for the legend and three rows of event labels
    bottom: int = 44


def points_from_events(events: Sequence[AlertEvent]) -> tuple[TimelinePoint, ...]:
    """Fall-back series when no per-minute points were recorded: one per event.

    >>> e = AlertEvent("a-1", 1, "opened", "a", "A", "partner", "warning", 60.0,
    ...                40, 8.0, 0.7, 0.3, 5.0)
    >>> [(p.at, p.volume) for p in points_from_events([e])]
    [(60.0, 40)]
    """
    by_time = {e.at: TimelinePoint(e.at, e.volume, e.expected_volume, e.negativity,
                                   e.expected_negativity, e.score, e.severity)
               for e in events if e.event != "acknowledged"}
    return tuple(by_time[t] for t in sorted(by_time))


def timeline_svg(points: Sequence[TimelinePoint], events: Sequence[AlertEvent] = (), *,
                 title: str = "Mentions per minute against the baseline",
                 band_k: float = 2.0, size: ChartSize = ChartSize()) -> str:
    """The SVG document (a string) of one incident's timeline.

    >>> pts = [TimelinePoint(60.0 * i, v, 8.0, 0.3 + i / 20, 0.3, 1.0, None)
    ...        for i, v in enumerate([8, 9, 40, 90])]
    >>> ev = AlertEvent("a-1", 1, "opened", "a", "A", "partner", "warning", 120.0,
    ...                 40, 8.0, 0.4, 0.3, 5.0)
    >>> svg = timeline_svg(pts, [ev], title="<Acme> & co")
    >>> svg.startswith("<svg") and "&lt;Acme&gt; &amp; co" in svg
    True
    >>> svg.count('data-event="opened"'), svg == timeline_svg(pts, [ev], title="<Acme> & co")
    (1, True)
    """
    w, h = size.width, size.height
    x0, x1 = size.left, w - size.right
    y0, y1 = h - size.bottom, size.top  # y0: bottom of the plot, y1: its top
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline-chart" role="img"'
            f' viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="DejaVu Sans,'
            f' Arial, sans-serif" font-size="12" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>"
            f'<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>')
    if not points:
        return (head + f'<text x="{w / 2:.1f}" y="{h / 2:.1f}" text-anchor="middle"'
                f' fill="#374151">No timeline data recorded for this incident</text></svg>')

    times = [p.at for p in points] + [e.at for e in events]
    t_lo, t_hi = min(times), max(times)
    if t_hi - t_lo < 120:  # one or two minutes: widen so the line is not a dot
        t_lo, t_hi = t_lo - 60, t_hi + 60
    highs = [max(p.volume, p.expected_volume + band_k * math.sqrt(max(p.expected_volume, 0)))
             for p in points]
    v_top = _nice_ceiling(max(max(highs), 1.0))

    def x(t: float) -> float:
        return x0 + (t - t_lo) / (t_hi - t_lo) * (x1 - x0)

    def yv(v: float) -> float:
        return y0 - min(max(v, 0.0), v_top) / v_top * (y0 - y1)

    def yn(share: float) -> float:
        return y0 - min(max(share, 0.0), 1.0) * (y0 - y1)

    parts = [head, _grid(x0, x1, y0, y1, v_top), _time_axis(t_lo, t_hi, x, y0)]
    upper = [(x(p.at), yv(p.expected_volume + band_k * math.sqrt(max(p.expected_volume, 0))))
             for p in points]
    lower = [(x(p.at), yv(p.expected_volume - band_k * math.sqrt(max(p.expected_volume, 0))))
             for p in points]
    parts.append(f'<path class="band" data-series="band" fill="{BAND}" stroke="none"'
                 f' d="{_line(upper + lower[::-1])} Z"/>')
    parts.append(f'<path class="expected" data-series="expected" fill="none" stroke="#6b8fbf"'
                 f' stroke-width="1" stroke-dasharray="4 3"'
                 f' d="{_line([(x(p.at), yv(p.expected_volume)) for p in points])}"/>')
    parts.append(f'<path class="negativity" data-series="negativity" fill="none"'
                 f' stroke="{NEGATIVE}" stroke-width="1.5" stroke-dasharray="6 3"'
                 f' d="{_line([(x(p.at), yn(p.negativity)) for p in points])}"/>')
    parts.append(f'<path class="volume" data-series="volume" fill="none" stroke="{VOLUME}"'
                 f' stroke-width="2.5" stroke-linejoin="round"'
                 f' d="{_line([(x(p.at), yv(p.volume)) for p in points])}"/>')
    parts += _event_marks(events, x, y0, y1, w - 4)
    parts.append(_legend(x0, band_k))
    parts.append("</svg>")
    return "".join(parts)


def _line(xy: Sequence[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{a:.1f},{b:.1f}" for a, b in xy)


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value``."""
    exp = 10 ** math.floor(math.log10(value))
    return next(m * exp for m in (1, 2, 2.5, 5, 10) if m * exp >= value)


def _grid(x0: float, x1: float, y0: float, y1: float, v_top: float) -> str:
    out = []
    for i in range(5):
        y = y0 - i / 4 * (y0 - y1)
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{VOLUME}">'
                   f"{_num(v_top * i / 4)}</text>")
        out.append(f'<text x="{x1 + 6}" y="{y + 4:.1f}" fill="{NEGATIVE}">{25 * i}%</text>')
    out.append(f'<text x="{x0 - 44}" y="{y0 + 34}" fill="{VOLUME}">mentions/min</text>')
    out.append(f'<text x="{x1 + 44}" y="{y0 + 34}" text-anchor="end" fill="{NEGATIVE}">'
               "negative share</text>")
    out.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#6b7280"/>')
    return "".join(out)


def _num(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _time_axis(t_lo: float, t_hi: float, x, y0: float) -> str:
    span = t_hi - t_lo
    step = next((s for s in (60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
                 if span / s <= 8), 86400 * math.ceil(span / 86400 / 8))
    fmt = "%H:%M" if span < 86400 else "%d %b %H:%M"
    out = []
    t = math.ceil(t_lo / step) * step
    while t <= t_hi:
        label = datetime.fromtimestamp(t, UTC).strftime(fmt)
        out.append(f'<line x1="{x(t):.1f}" y1="{y0}" x2="{x(t):.1f}" y2="{y0 + 4}"'
                   f' stroke="#6b7280"/><text x="{x(t):.1f}" y="{y0 + 17}"'
                   f' text-anchor="middle" fill="#374151">{label}</text>')
        t += step
    out.append(f'<text x="{(x(t_lo) + x(t_hi)) / 2:.1f}" y="{y0 + 34}" text-anchor="middle"'
               ' fill="#6b7280">time (UTC)</text>')
    return "".join(out)


def _event_marks(events: Sequence[AlertEvent], x, y0: float, y1: float,
                 x_max: float) -> list[str]:
    out = []
    for i, event in enumerate(sorted(events, key=lambda e: (e.at, e.seq))):
        colour = EVENT_COLOURS.get(event.event, "#374151")
        label = event.event if event.event in ("acknowledged", "resolved") else (
            f"{event.event} · {event.severity}")
        ly = y1 - 8 - 14 * (i % 3)  # three staggered rows so close events stay readable
        xe = x(event.at)
        # A label that would run off the right edge is drawn to the left of its line.
        leftward = xe + 3 + 7 * len(label) > x_max
        anchor = ' text-anchor="end"' if leftward else ""
        out.append(f'<g class="event" data-event="{escape(event.event)}">'
                   f'<line x1="{xe:.1f}" y1="{ly + 3:.1f}" x2="{xe:.1f}" y2="{y0}"'
                   f' stroke="{colour}" stroke-width="1.5"/>'
                   f'<text x="{xe - 3 if leftward else xe + 3:.1f}" y="{ly:.1f}"{anchor}'
                   f' fill="{colour}">{escape(label)}</text></g>')
    return out


def _legend(x0: float, band_k: float) -> str:
    items = [("volume", VOLUME, "mentions per minute", ""),
             ("band", BAND, f"baseline ± {band_k:g}√baseline", ""),
             ("negativity", NEGATIVE, "negative share (right axis)", ' stroke-dasharray="6 3"')]
    out = ['<g class="legend">']
    lx = x0
    for _, colour, text, dash in items:
        out.append(f'<line x1="{lx}" y1="12" x2="{lx + 22}" y2="12" stroke="{colour}"'
                   f' stroke-width="{6 if colour == BAND else 2.5}"{dash}/>'
                   f'<text x="{lx + 28}" y="16" fill="#374151">{escape(text)}</text>')
        lx += 34 + 7 * len(text)
    out.append("</g>")
    return "".join(out)
