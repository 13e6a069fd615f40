"""The tone-floor scan's bookkeeping: which episode a judged minute belongs to, and
when a rule has held for 3 minutes within 5."""

from __future__ import annotations

from bench.scan_tone_floor import Minute, _episodes, _holds, _sustained
from models.labels import Label

T = 1_772_409_600.0


def minute(at: float, entity: str = "acme", shift: float = 0.09, z: float = 5.0) -> Minute:
    return Minute(entity, at, 60, 90.0, 900.0, shift, z, 250.0, 18.0, 800.0, "watch")


def test_a_minute_goes_to_its_storm_its_tail_a_news_spike_or_the_storm_free_span() -> None:
    labels = [Label("acme", "storm", T, T + 3600, peak=T + 600, id="s"),
              Label("acme", "benign", T + 7200, T + 7800, label="news", id="n"),
              Label("acme", "background", T - 86400, T + 86400)]
    at = {"storm": T + 60, "tail": T + 3700, "news": T + 7300, "news hour": T + 8000 + 3000,
          "free": T + 20000, "other": T + 60}
    minutes = [minute(t, "other" if k == "other" else "acme") for k, t in at.items()]
    episodes = _episodes(labels, minutes)
    assert episodes[("storm", "s")] == [minutes[0]]
    assert episodes[("storm tail", "s/tail")] == [minutes[1]]
    assert episodes[("news", "n")] == minutes[2:4]
    assert episodes[("storm-free", "acme")] == [minutes[4]]
    assert episodes[("storm-free", "other")] == [minutes[5]]


def test_a_rule_must_hold_three_minutes_within_five() -> None:
    assert _sustained([T, T + 60, T + 120]) == T + 120
    assert _sustained([T, T + 120, T + 240]) == T + 240
    assert _sustained([T, T + 180, T + 360]) is None
    assert _sustained([T, T, T + 60]) is None  # one window twice is one minute


def test_the_rule_is_about_shifts_under_the_tone_floor() -> None:
    assert _holds(minute(T, shift=0.09, z=5.0), 0.08, 4.0)
    assert not _holds(minute(T, shift=0.07, z=5.0), 0.08, 4.0)
    assert not _holds(minute(T, shift=0.09, z=3.0), 0.08, 4.0)
    assert not _holds(minute(T, shift=0.2, z=9.0), 0.08, 4.0)  # the detector's own rule
