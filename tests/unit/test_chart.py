"""The incident chart: one SVG, drawn on the server, safe to inline in a page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from alerting.chart import points_from_events, timeline_svg
from alerting.event import AlertEvent
from alerting.timeline import TimelinePoint

T0 = 1714566840.0
SVG = "{http://www.w3.org/2000/svg}"


def point(i: int, volume: int, negativity: float = 0.3) -> TimelinePoint:
    return TimelinePoint(T0 + 60 * i, volume, 8.0, negativity, 0.3, 1.0, None)


def event(seq: int, kind: str, minute: int, severity: str = "warning", **kw) -> AlertEvent:
    return AlertEvent("acme-20240501T123400Z", seq, kind, "acme", "Acme", "partner", severity,
                      T0 + 60 * minute, 40, 8.0, 0.7, 0.3, 5.0, **kw)


POINTS = [point(i, v, 0.3 + i / 40) for i, v in enumerate([8, 9, 7, 10, 25, 40, 90, 60, 9])]
EVENTS = [event(1, "opened", 5), event(2, "escalated", 6, "critical", previous_severity="warning"),
          event(3, "acknowledged", 7, "critical", acknowledged_by="duty"),
          event(4, "resolved", 8, "watch")]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def series(root: ET.Element, name: str) -> str:
    (path,) = [p for p in root.iter(f"{SVG}path") if p.get("data-series") == name]
    return path.get("d", "")


def test_volume_negativity_and_expected_lines_have_one_vertex_per_minute():
    root = parse(timeline_svg(POINTS, EVENTS))
    for name in ("volume", "negativity", "expected"):
        assert len(re.findall(r"[ML]", series(root, name))) == len(POINTS), name
    # the band goes out along the upper edge and back along the lower one
    assert len(re.findall(r"[ML]", series(root, "band"))) == 2 * len(POINTS)


def test_every_lifecycle_event_is_a_labelled_vertical_line():
    root = parse(timeline_svg(POINTS, EVENTS))
    marks = [g for g in root.iter(f"{SVG}g") if g.get("class") == "event"]
    assert [g.get("data-event") for g in marks] == ["opened", "escalated", "acknowledged",
                                                    "resolved"]
    for g in marks:
        line = g.find(f"{SVG}line")
        assert line.get("x1") == line.get("x2")  # vertical
    labels = [g.find(f"{SVG}text").text for g in marks]
    assert labels == ["opened · warning", "escalated · critical", "acknowledged", "resolved"]


def test_the_volume_peak_is_the_highest_point_drawn():
    d = series(parse(timeline_svg(POINTS, EVENTS)), "volume")
    ys = [float(y) for y in re.findall(r",([\d.]+)", d)]
    assert ys.index(min(ys)) == 6  # SVG y grows downwards; minute 6 had 90 mentions


@pytest.mark.parametrize("hostile", ['<script>alert(1)</script>', '"><img src=x onerror=1>',
                                     "Acme & Sons"])
def test_title_text_is_escaped(hostile):
    svg = timeline_svg(POINTS, EVENTS, title=hostile)
    assert "<script" not in svg and "<img" not in svg
    assert parse(svg).find(f"{SVG}title").text == hostile


def test_same_input_gives_the_same_bytes():
    assert timeline_svg(POINTS, EVENTS) == timeline_svg(list(POINTS), list(EVENTS))


def test_no_style_attributes_so_a_strict_csp_allows_it():
    assert "style=" not in timeline_svg(POINTS, EVENTS)


def test_empty_timeline_says_so():
    root = parse(timeline_svg([], []))
    assert "No timeline data" in "".join(root.itertext())


def test_single_point_is_widened_not_divided_by_zero():
    root = parse(timeline_svg([point(0, 40)], [event(1, "opened", 0)]))
    assert series(root, "volume").startswith("M")


def test_points_from_events_when_no_minutes_were_recorded():
    pts = points_from_events(EVENTS)
    assert [p.at for p in pts] == [T0 + 300, T0 + 360, T0 + 480]  # acknowledged has no figures
