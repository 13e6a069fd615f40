"""A feed outage is not a storm: what detection does when a source goes quiet and comes
back (docs/operations.md, "late" mentions).

- The whole feed stops for hours and resumes in order: event time stands still while
  nothing arrives, the silent minutes close when the first mention after them does,
  and the usual volume and tone after it raise nothing.
- One source stops while event time moves on (another partition), then its backlog
  arrives: the mentions whose minutes closed are counted in the open minute (never
  dropped), which reads as a burst of volume. At the usual tone that is at most a
  `watch`, never a page; the officer's console shows it, and the reason gives the
  volume it came from.
"""

from __future__ import annotations

import random

import pytest

from models.detector import Detector
from models.observation import Observation
from models.params import DetectorParams
from models.verdict import severity_rank

MONDAY = 1767571200.0  # 2026-01-05 00:00 UTC
DAYS = 3 * 1440  # minutes of history before the outage


def mentions(first: int, minutes: int, per_minute: int, hostile: float = 0.2,
             seed: int = 3) -> list[Observation]:
    """``per_minute`` mentions a minute from ``first`` (minutes after MONDAY), each by its
    own author, hostile at the usual share."""
    rng = random.Random(seed + first)
    return [Observation("acme", f"{m}-{i}", MONDAY + 60 * m + i * 59 / per_minute, "x",
                        f"a{m}-{i}", "acme store news", 100,
                        0.9 if rng.random() < hostile else 0.1)
            for m in range(first, first + minutes) for i in range(per_minute)]


def highest(verdicts) -> str | None:
    return max((v.severity for v in verdicts), key=severity_rank, default=None)


@pytest.mark.parametrize("hole", [60, 360, 720])
def test_a_feed_that_stops_and_resumes_in_order_raises_nothing(hole):
    d = Detector(DetectorParams())
    state, _ = d.observe_many(d.initial(), mentions(0, DAYS, 2))
    state, verdicts = d.observe_many(state, mentions(DAYS + hole, 240, 2))
    assert len(verdicts) >= hole  # the silent minutes were closed, and judged
    assert highest(verdicts) is None


@pytest.mark.parametrize("hole", [60, 360])
def test_a_late_backlog_at_the_usual_tone_is_watched_never_paged(hole):
    d = Detector(DetectorParams())
    state, _ = d.observe_many(d.initial(), mentions(0, DAYS, 2))
    verdicts = []
    for minute in range(hole):  # event time moves on: another partition's mentions
        state, closed = d.tick(state, MONDAY + 60 * (DAYS + minute + 1))
        verdicts += closed
    backlog = mentions(DAYS, hole, 2)  # the quiet source's mentions, their minutes closed
    state, closed = d.observe_many(state, [*backlog, *mentions(DAYS + hole, 120, 2)])
    verdicts += closed
    assert highest(verdicts) == "watch"  # the burst is seen: volume, not hostility
    watched = next(v for v in verdicts if v.severity == "watch")
    assert watched.volume >= len(backlog) and "volume" in watched.reasons[0]
