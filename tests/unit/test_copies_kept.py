"""A copy-paste burst's copies are kept past its texts: the hour after it is not a storm.

A bucket keeps the texts of its posts for the last ``evidence_minutes`` only. The
hour's window holds a burst's posts for three quarters of an hour more, and used to
read their accounts' share from the author sample alone: too few, so the bots'
hostile copies counted as the crowd's and the hour after a burst could warn.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.detector import Detector, DetectorParams
from models.observation import Observation
from models.verdict import severity_rank
from models.window import Bucket, Post, Totals, copies_in

MONDAY = 1772409600.0  # 2026-03-02 00:00 UTC
WORDS = ["forms", "office", "update", "staff", "news", "queue", "help", "letter", "phone", "today"]
SLOGAN = "acme has betrayed us all. share if you agree"


def stream(seed: int, accounts: int, per_minute: int, calm_days: float = 3.0,
           slogan: str = SLOGAN, hostility: float = 0.9, after: int = 120):
    """A calm entity (about a post a minute, 6 % hostile, from a crowd of 3,000), a
    copy-paste burst of ``accounts`` posting ``per_minute`` for 37 minutes, ``after``
    calm minutes."""
    rng = random.Random(seed)
    bots = [f"bot{seed}-{k}" for k in range(accounts)]
    minute = 0
    for minutes, burst in ((int(calm_days * 1440), False), (37, True), (after, False)):
        for _ in range(minutes):
            n = per_minute if burst else 1 + rng.choice((0, 0, 1, -1))
            for i in range(n):
                at = MONDAY + 60 * minute + i * 59 / max(n, 1)
                if burst:
                    yield Observation("acme", f"{minute}-{i}", at, "x", rng.choice(bots),
                                      slogan, 100, hostility)
                else:
                    text = "acme " + " ".join(rng.choice(WORDS) for _ in range(6))
                    neg = 0.9 if rng.random() < 0.06 else 0.1
                    yield Observation("acme", f"{minute}-{i}", at, "x",
                                      f"a{rng.randrange(3000)}", text, 100, neg)
            minute += 1


def top_severity(observations) -> int:
    detector = Detector(DetectorParams())
    state, top = detector.initial(), 0
    for obs in observations:
        state, verdicts = detector.observe(state, obs)
        top = max([top, *(severity_rank(v.severity) for v in verdicts)])
    return top


@pytest.mark.parametrize(("seed", "accounts", "rate"), [(26, 5, 14), (39, 10, 9)])
def test_the_hour_after_a_copy_paste_burst_is_not_a_warning(seed, accounts, rate):
    # Found by a scan of 40 seeds: with these author hashes the hour after the burst
    # sampled too few of its accounts, and warned before copies were kept.
    assert top_severity(stream(seed, accounts, rate)) < severity_rank("warning")


@given(st.integers(0, 10**6), st.integers(3, 10), st.integers(6, 14))
@settings(max_examples=6, deadline=None)
def test_a_copy_paste_burst_of_three_to_ten_accounts_never_warns(seed, accounts, rate):
    assert top_severity(stream(seed, accounts, rate, calm_days=1.0)) < severity_rank("warning")


def test_a_stripped_bucket_keeps_its_copies_and_which_are_calm():
    detector = Detector(DetectorParams())
    state = detector.initial()
    for obs in stream(1, accounts=5, per_minute=10, calm_days=3.0, after=30):
        state, _ = detector.observe(state, obs)
    gone = [b for b in state.ring if not b.texts and b.totals.volume >= 10]
    assert gone, "the burst's buckets should have left the evidence horizon"
    # Every post of the burst is a copy, all hostile. Copies are read only while the
    # texts kept after a bucket hold some: the burst's last minute leaves none behind.
    assert gone[-1].start == max(b.start for b in gone)
    for b in gone[:-1]:
        assert b.copies == b.totals.volume - b.totals.excess and b.calm_copies == 0.0
    quiet = [b for b in state.ring if not b.texts and b.totals.volume < 3]
    assert quiet and all(b.copies == 0.0 for b in quiet)

    # A headline shared verbatim is copy-paste too, but not hostile: kept as calm.
    state = detector.initial()
    for obs in stream(1, accounts=5, per_minute=10, calm_days=0.5,
                      slogan="acme results out today", hostility=0.05, after=30):
        state, _ = detector.observe(state, obs)
    read = [b for b in state.ring if not b.texts and b.copies]
    assert read and all(b.calm_copies == b.copies for b in read)


def test_copies_are_read_against_the_texts_kept_after_the_bucket():
    slogan = Post("m", "a", SLOGAN, 1, 0.9)
    other = Post("n", "b", "acme opening hours?", 1, 0.1)
    first = Bucket(0.0, Totals(volume=8, excess=2), texts=(slogan, other))
    # One copy here and one later: below duplicate_min (3) of the window, no copies.
    assert copies_in((first, Bucket(60.0, texts=(other,))), 3, 0.5) == (0.0, 0.0)
    # A third copy a minute later: half the kept posts are copies, of 6 organic posts.
    later = Bucket(60.0, texts=(slogan, slogan))
    assert copies_in((first, later), 3, 0.5) == (3.0, 0.0)


def test_a_bucket_stored_before_copies_were_kept_loads_with_none():
    b = Bucket(60.0, Totals(volume=12), copies=9.0, calm_copies=1.5)
    assert Bucket.from_dict(b.to_dict()) == b
    old = Bucket(60.0, Totals(volume=12)).to_dict()
    assert "copies" not in old  # nothing stored for a bucket without copies
    assert Bucket.from_dict(old).copies == 0.0
