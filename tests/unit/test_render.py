"""Untrusted post text never controls the officer's terminal."""

from hypothesis import given
from hypothesis import strategies as st

from streams.render import format_alert, safe

EVENT = {"incident_id": "acme-20260105T1000Z", "seq": 1, "entity_id": "acme",
         "entity_name": "Acme", "entity_kind": "partner", "event": "opened",
         "severity": "warning", "at": "2026-01-05T10:00:00Z",
         "volume": {"current": 40, "expected": 4.0, "window_seconds": 900},
         "negativity": {"current": 0.8, "expected": 0.2}, "score": 6.1,
         "reasons": ["volume 10x the baseline"],
         "evidence": {"samples": [{"id": "1", "author": "anon:ab",
                                   "text": "boycott\x1b[2J\x1b]0;pwned\x07 acme\nnow"}],
                      "linked": [["work-programme", 12]]}}


def test_an_alert_shows_what_why_how_big_and_how_negative():
    text = format_alert(EVENT)
    assert "WARNING" in text and "opened" in text and "Acme (partner)" in text
    assert "40 mentions in 15 min, usually 4.0 (10.0x)" in text
    assert "80% of them negative, usually 20% | score 6.1" in text
    assert "why: volume 10x the baseline" in text and "linked: work-programme" in text


def test_an_event_this_version_cannot_read_is_still_shown_without_figures():
    text = format_alert({**EVENT, "event": "exploded"})
    assert "exploded" in text and "mentions in" not in text and "why: volume 10x" in text


def test_escape_sequences_in_posts_are_shown_not_obeyed():
    text = format_alert(EVENT)
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J" in text


@given(st.text())
def test_safe_output_has_no_control_characters(text):
    out = safe(text, limit=10_000)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in out)
