"""The hot records written for speed compute exactly what their plain forms did.

``Scale`` derives its figures in its constructor (a tuple, not a frozen dataclass),
``slide`` adds and subtracts field by field, and a quiet minute's baseline and dispersion
learning is written out: all run for every entity every minute,
and a replay must give the same alerts and states bit for bit as before they were
rewritten. The references below are the plain forms they replaced.
"""

from __future__ import annotations

import math
from operator import add, sub

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.baseline import Baseline, BaselineParams, slot_of
from models.detector import Detector
from models.params import DetectorParams
from models.signals import THREADS, Scale, binomial_z, poisson_z
from models.window import ZERO, Bucket, Totals, slide, slide_all, window

counts = st.integers(min_value=0, max_value=5000)
# (No subnormals: poisson_z's log underflows on them, before and after alike.)
reals = st.floats(min_value=0.0, max_value=5000.0, allow_nan=False, allow_subnormal=False)
shares = st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_subnormal=False)


def reference_scale(minutes, volume, expected, organic, scored, mass, hostile, share0,
                    authors, dispersion, uncertainty=0.0, coordinated_hostility=1.0):
    """Scale's derived figures as its dataclass ``__post_init__`` worked them out."""
    base = max(expected, 0.5)
    share = mass / scored if scored else share0
    organic_share = organic / volume if volume else 1.0
    coordinated = volume - organic
    hostile_m = min(share * organic, max(0.0, share * volume - coordinated
                                         * coordinated_hostility))
    tone = hostile_m / organic if organic > 0 else share
    n = scored * organic_share
    d = {
        "ratio": organic / base, "share": tone, "shift": tone - share0,
        "coordinated_share": 1.0 - organic_share if volume else 0.0,
        "hostile_mentions": hostile_m, "expected_hostile": expected * share0,
        "volume_z": poisson_z(volume, base, dispersion + uncertainty),
        "organic_z": poisson_z(organic, base, dispersion + uncertainty),
        "negative_z": binomial_z(tone * n, n, share0, 1.5),
    }
    d["combined_z"] = math.sqrt(max(d["organic_z"], 0.0) * max(d["negative_z"], 0.0))
    d["hostile_z"] = poisson_z(hostile_m, max(d["expected_hostile"], 0.5 * share0),
                               THREADS + uncertainty)
    return d


@st.composite
def scale_inputs(draw):
    volume = draw(counts)
    organic = draw(st.floats(min_value=0.0, max_value=float(volume), allow_nan=False,
                             allow_subnormal=False))
    scored = draw(st.integers(min_value=0, max_value=volume))
    mass = draw(st.floats(min_value=0.0, max_value=float(scored), allow_nan=False,
                          allow_subnormal=False))
    return (draw(st.sampled_from([5, 15, 60, 180])), volume, draw(reals), organic, scored,
            mass, draw(st.integers(min_value=0, max_value=scored)), draw(shares),
            draw(reals), draw(st.floats(min_value=1.0, max_value=10.0)),
            draw(st.floats(min_value=0.0, max_value=1.0)), draw(shares))


@settings(max_examples=300, deadline=None)
@given(scale_inputs())
def test_scale_derives_exactly_what_the_dataclass_did(args):
    s = Scale(*args)
    expected = reference_scale(*args)
    assert {name: getattr(s, name) for name in expected} == expected
    assert tuple(s[:12]) == args


@settings(max_examples=100, deadline=None)
@given(scale_inputs(), counts)
def test_scale_replace_derives_again(args, volume):
    s = Scale(*args)._replace(volume=volume, organic=0.0)
    assert s == Scale(args[0], volume, *args[2:3], 0.0, *args[4:])


def test_scale_replace_refuses_a_derived_field():
    with pytest.raises(TypeError, match="derives ratio"):
        Scale(15, 10, 2.0, 10.0, 10, 5.0, 5, 0.2, 8.0, 1.0)._replace(ratio=3.0)


totals = st.builds(Totals, counts, counts, reals, counts, reals, counts)


def reference_slide(old, ring, minutes):
    """slide as it was: the fields mapped through add then sub."""
    if len(ring) > minutes:
        new = Totals._make(map(sub, map(add, old, ring[-1].totals), ring[-minutes - 1].totals))
        if new.expected < 0.0 or new.mass < 0.0:
            new = new._replace(expected=max(new.expected, 0.0), mass=max(new.mass, 0.0))
        return new
    return Totals._make(map(add, old, ring[-1].totals))


@settings(max_examples=200, deadline=None)
@given(st.lists(totals, min_size=1, max_size=40),
       st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=3, unique=True))
def test_slide_is_the_old_arithmetic_bit_for_bit(parts, scales):
    ring: tuple[Bucket, ...] = ()
    olds: tuple[Totals, ...] = ()
    plain = (ZERO,) * len(scales)
    for i, t in enumerate(parts):
        ring = (*ring, Bucket(60.0 * i, t))[-(max(scales) + 1):]
        olds = slide_all(olds, ring, tuple(scales))
        plain = tuple(reference_slide(o, ring, m) for o, m in zip(plain, scales, strict=True))
        assert olds == plain
        assert all(type(x) is Totals for x in olds)
        for got, m in zip(olds, scales, strict=True):  # and they are the windows' sums
            want = window(ring, m).totals
            assert got.volume == want.volume and got.hostile == want.hostile
            assert got.expected == pytest.approx(want.expected, abs=1e-6)


def test_slide_keeps_long_sums_from_going_below_zero():
    ring = (Bucket(0.0, Totals(mass=0.1 + 0.2, expected=0.3)), Bucket(60.0, ZERO))
    out = slide(Totals(mass=0.3, expected=0.1 + 0.2 - 1e-17), ring, 1)
    assert out.mass >= 0.0 and out.expected >= 0.0


def reference_learn(b, ts, count, params, scored=0, mass=0.0, dispersion=1.0, guarded=False,
                    tone=True):
    """Baseline.learn as it was: the shape and counts rebuilt by slicing, the record by
    its generated constructor."""
    slot = slot_of(ts, params.utc_offset_hours)
    shape = b.shape(slot)
    x, s, k = float(count), float(scored), float(mass)
    if b.n >= params.clip_after or guarded:
        mu = max(b.mean_level(params) * shape, params.floor)
        cap = mu + params.clip_sigmas * math.sqrt(max(dispersion, 1.0) * mu) + 1.0
        if x > cap:
            k, s, x = k * cap / x, s * cap / x, cap
            if guarded:
                k = s = 0.0
    a_level = max(1.0 / (b.n + 1), 1.0 / params.level_memory)
    level = b.level + a_level * (x / shape - b.level)
    profile, seen = b.profile, b.seen
    if b.level > params.floor:
        a_slot = max(1.0 / (seen[slot] + 1 + params.profile_prior), 1.0 / params.profile_memory)
        value = profile[slot] + a_slot * (x / b.level - profile[slot])
        if params.profile_cap > 0.0:
            value = min(value, params.profile_cap)
        profile = (*profile[:slot], value, *profile[slot + 1:])
        seen = (*seen[:slot], min(seen[slot] + 1, 10**6), *seen[slot + 1:])
    if not tone:
        return Baseline(level, profile, seen, b.negatives, b.posts, b.n + 1)
    keep = 0.5 ** (1.0 / params.share_memory)
    return Baseline(level, profile, seen, b.negatives * keep + k, b.posts * keep + s, b.n + 1)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=400), st.integers(0, 50),
                          st.floats(min_value=0.0, max_value=1.0), st.booleans(),
                          st.booleans(), st.floats(min_value=0.5, max_value=20.0)),
                min_size=1, max_size=60),
       st.integers(min_value=0, max_value=10_000))
def test_baseline_learn_is_the_old_arithmetic_bit_for_bit(steps, start_minute):
    params = BaselineParams(prior_level=0.3, clip_after=5)
    new = old = Baseline()
    for i, (count, scored, share, guarded, tone, dispersion) in enumerate(steps):
        ts = 1767603600.0 + 60.0 * (start_minute + 37 * i)  # through the day's slots
        scored = min(scored, count)
        new = new.learn(ts, count, params, scored, scored * share, dispersion, guarded, tone)
        old = reference_learn(old, ts, count, params, scored, scored * share, dispersion,
                              guarded, tone)
        assert new == old and type(new) is Baseline
        assert type(new.profile) is tuple and type(new.seen) is tuple


def reference_dispersion(dispersion, sums, filled, n, p):
    """Detector._learn_dispersion as it was (max and min, ** 2)."""
    a = max(1.0 / (n + 1 - p.quiet_start - max(p.scales)), 1.0 / 1440)
    out = []
    for d, t, minutes in zip(dispersion, sums, p.scales, strict=True):
        if filled < minutes:
            out.append(d)
            continue
        e = max(t.expected, 0.5)
        residual = min((t.volume - e) ** 2 / e, 9.0)
        out.append(max(1.0, d + a * (residual - d)))
    return tuple(out)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=1.0, max_value=9.0), min_size=3, max_size=3),
       st.lists(totals, min_size=3, max_size=3), st.integers(min_value=0, max_value=70),
       st.integers(min_value=121, max_value=10**6))
def test_dispersion_learning_is_the_old_arithmetic_bit_for_bit(dispersion, sums, filled, n):
    p = DetectorParams()
    detector = Detector(p)
    got = detector._learn_dispersion(tuple(dispersion), tuple(sums), filled, n, p)
    assert got == reference_dispersion(tuple(dispersion), tuple(sums), filled, n, p)
