"""``firestorm replay --start``'s parser on any text: a time or a clear argparse error."""

from __future__ import annotations

import argparse
import math

from hypothesis import given
from hypothesis import strategies as st

from models.mention import MIN_TS
from streams.commands.replay import parse_start


@given(st.one_of(st.text(max_size=40), st.floats(allow_nan=True).map(repr),
                 st.datetimes().map(lambda d: d.isoformat() + "Z")))
def test_start_is_a_finite_time_or_an_argparse_error(text):
    try:
        value = parse_start(text)
    except argparse.ArgumentTypeError as exc:
        assert "epoch seconds" in str(exc)
    else:
        assert math.isfinite(value) and value >= MIN_TS


def test_iso_and_epoch_seconds_agree():
    assert parse_start("2026-01-05T00:00:00Z") == parse_start("1767571200") == 1767571200.0
