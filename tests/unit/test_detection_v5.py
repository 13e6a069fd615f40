"""Detection v5 (issue 8): escalation counted k of n, and an alarm's echo left unlearned."""

from __future__ import annotations

import pytest

from models.detector import Detector, DetectorParams, EntityState
from models.errors import ParamsError
from models.escalation import Thresholds, judge
from models.signals import Scale
from models.window import OpenBucket

# ------------------------------------------------------------------ k of n

# One 15-minute window in which hostile mentions are far above expectation, the share
# up, from many authors: every warning condition holds in this bucket.
HOT = Scale(15, volume=120, expected=15.0, organic=120.0, scored=120, mass=90.0,
            hostile=90, share0=0.25, authors=100.0, dispersion=1.5)
T = Thresholds(4.0, 3.0, 3.0)


def test_warning_needs_sustain_escalating_buckets_among_the_last_sustain_within():
    # Escalated two and four buckets ago, calm in between. Counted within 3 (consecutive,
    # v4's rule) only the previous two buckets count, one of them escalated, so this
    # bucket is the second of three: a watch. Within 5 (the default) it is the third.
    from models.detector import _recent_escalations

    flags = 0b1010  # bit i: the bucket i+1 closes ago
    consecutive = DetectorParams(sustain_within=3)
    n = _recent_escalations(flags, consecutive)
    assert n == 1
    assert judge([HOT], [12], [], [], streak=0, thresholds=T, p=consecutive,
                 recent=n).severity == "watch"
    p = DetectorParams()
    assert judge([HOT], [12], [], [], streak=0, thresholds=T, p=p,
                 recent=_recent_escalations(flags, p)).severity == "critical"


def test_a_flickering_storm_warns_on_its_third_escalating_bucket():
    # sustain 3 within 5: two of the previous four buckets escalated, so this third one
    # warns although the run was broken by a bucket that fell just short.
    p = DetectorParams()
    assert judge([HOT], [12], [], [], streak=0, thresholds=T, p=p, recent=2).severity \
        == "critical"
    assert judge([HOT], [12], [], [], streak=0, thresholds=T, p=p, recent=1).severity \
        == "watch"


def test_sustain_within_below_sustain_names_the_field_and_the_fix():
    with pytest.raises(ParamsError, match="sustain_within: must be at least sustain"):
        DetectorParams(sustain=3, sustain_within=2)
    with pytest.raises(ParamsError, match="sustain_within: must be at most 16"):
        DetectorParams(sustain_within=17)


def test_the_detector_remembers_which_recent_buckets_escalated_and_old_states_load():
    s = EntityState(recent=0b1011)
    assert EntityState.from_dict(s.to_dict()) == s
    old = s.to_dict()
    del old["recent"]  # a state written before k-of-n sustain
    assert EntityState.from_dict(old).recent == 0


def test_calm_buckets_shift_the_escalation_flags_out():
    d = Detector(DetectorParams())
    state = EntityState(open=OpenBucket(0.0), recent=0b111)
    for minute in range(1, 20):  # quiet minutes: nothing posted
        state, _ = d.tick(state, 60.0 * minute)
    assert state.recent == 0
