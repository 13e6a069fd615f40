"""Silences: who, why, until when; critical still goes out unless the silence says so."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerting.errors import SilenceError
from alerting.event import format_time
from alerting.silence import Silence, active_for, parse_until

NOW = 1714564800.0  # 2024-05-01 12:00 UTC


@pytest.mark.parametrize(("text", "until"), [
    ("2h", "2024-05-01T14:00:00Z"),
    ("90m", "2024-05-01T13:30:00Z"),
    ("1h30m", "2024-05-01T13:30:00Z"),
    ("1d", "2024-05-02T12:00:00Z"),
    ("07:00", "2024-05-02T07:00:00Z"),          # the next 07:00
    ("13:15", "2024-05-01T13:15:00Z"),          # later today
    ("12:00", "2024-05-02T12:00:00Z"),          # now is not "until now"
    ("2024-05-02T07:00Z", "2024-05-02T07:00:00Z"),
    ("2024-05-02T08:00+01:00", "2024-05-02T07:00:00Z"),
])
def test_until_reads_durations_times_of_day_and_iso_times(text, until):
    assert format_time(parse_until(text, NOW)) == until


def test_a_time_of_day_is_in_the_given_zone():
    london_summer = timezone(timedelta(hours=1))
    assert format_time(parse_until("07:00", NOW, london_summer)) == "2024-05-02T06:00:00Z"
    assert format_time(parse_until("07:00", NOW, "Europe/London")) == "2024-05-02T06:00:00Z"


@given(st.text(max_size=40))
def test_any_text_is_a_time_or_a_silence_error_never_a_crash(text):
    try:
        assert isinstance(parse_until(text, NOW), float)
    except SilenceError as exc:
        assert "give a duration" in str(exc)


def make(**kw) -> Silence:
    args = {"scope": "entity", "linked": ("work-programme",), "until": NOW + 3600,
            "by": "sam", "why": "known campaign", "now": NOW, **kw}
    return Silence.make("acme-stores", **args)


def test_a_silence_holds_back_all_but_critical_until_it_ends():
    s = make()
    assert s.entities == ("acme-stores",)
    assert s.covers("acme-stores", "warning", NOW + 60)
    assert not s.covers("acme-stores", "critical", NOW + 60)  # a new wave still wakes someone
    assert not s.covers("work-programme", "warning", NOW + 60)
    assert not s.covers("acme-stores", "warning", NOW + 3600)  # over on its own
    assert make(include_critical=True).covers("acme-stores", "critical", NOW + 60)


def test_a_story_silence_covers_the_linked_policy_too():
    s = make(scope="story", linked=("work-programme", "acme-stores"))
    assert s.entities == ("acme-stores", "work-programme")
    assert s.covers("work-programme", "watch", NOW)
    assert active_for([s, make(until=NOW + 60)], "work-programme", NOW) == [s]


@pytest.mark.parametrize(("kw", "says"), [
    ({"why": " "}, "say why"),
    ({"by": ""}, "say who"),
    ({"until": NOW - 1}, "not in the future"),
    ({"until": NOW + 8 * 86400}, "at most 7 days"),
    ({"scope": "everything"}, "must be entity or story"),
])
def test_a_silence_without_who_why_or_a_sensible_end_is_refused(kw, says):
    with pytest.raises(SilenceError, match=says):
        make(**kw)


def test_a_silence_round_trips():
    s = make(scope="story", include_critical=True, via="page", origin="10.0.0.7")
    assert Silence.from_json(s.to_json()) == s
