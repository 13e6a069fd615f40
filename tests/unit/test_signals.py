"""Signals: the statistics and the reasons they give."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.calls_to_action import call_hashtags, is_call_to_action
from models.coordination import duplicated, fingerprint
from models.signals import Scale, binomial_z, linkage, poisson_z, velocity, volume


@pytest.mark.parametrize(("observed", "expected", "sign"), [
    (30, 10, 1),    # surplus
    (10, 10, 0),    # as expected
    (2, 10, -1),    # deficit
    (3, 0.2, 1),    # a handful at night: positive, but not certainty
])
def test_poisson_z_sign(observed, expected, sign):
    z = poisson_z(observed, expected)
    assert (z > 0) - (z < 0) == sign


@given(st.floats(0.0, 1e12), st.floats(0.0, 1e12), st.floats(0.0, 100.0))
def test_poisson_z_is_finite_and_signed_for_any_count(observed, expected, dispersion):
    # A sum of tiny calibrated probabilities can be subnormal: observed / expected then
    # underflowed to 0 and log raised a domain error inside the per-minute close.
    z = poisson_z(observed, expected, dispersion)
    assert z == z and abs(z) != float("inf")
    assert z >= 0.0 if observed >= max(expected, 1e-9) else z <= 0.0


def test_a_subnormal_count_is_judged_as_none():
    assert poisson_z(5e-324, 10.0) == pytest.approx(poisson_z(0.0, 10.0))


def test_small_counts_are_not_overclaimed():
    assert poisson_z(3, 0.2) < (3 - 0.2) / 0.2 ** 0.5  # below the Gaussian z


@given(st.integers(1, 500), st.data(), st.floats(0.01, 0.99))
def test_more_negative_posts_never_lower_the_negative_signal(n, data, p0):
    k = data.draw(st.integers(0, n - 1))
    assert binomial_z(k + 1, n, p0) >= binomial_z(k, n, p0)
    low = Scale(15, n, 5.0, float(n), n, float(k), k, p0, 50.0, 1.0)
    high = Scale(15, n, 5.0, float(n), n, float(k + 1), k + 1, p0, 50.0, 1.0)
    assert high.share >= low.share and high.negative_z >= low.negative_z
    assert high.combined_z >= low.combined_z and high.hostile_mentions >= low.hostile_mentions


@pytest.mark.parametrize(("text", "call"), [
    ("Boycott Acme until they quit workfare", True),
    ("Stop shopping at Acme", True),
    ("Sign the petition https://x.y", True),
    ("#ScrapWorkfare now", True),
    ("Lovely service at Acme today", False),
    ("Acme petition? never heard", True),
])
def test_calls_to_action(text, call):
    assert is_call_to_action(text) is call


def test_call_hashtags():
    assert call_hashtags("#BoycottAcme #monday") == ["#boycottacme"]


def test_copy_paste_is_one_fingerprint_despite_links_and_handles():
    texts = [f"I am appalled by Acme!! https://t.co/{i} @user{i}" for i in range(5)]
    assert len({fingerprint(t) for t in texts}) == 1
    assert duplicated([fingerprint(t) for t in texts]) == 5


def test_velocity_only_when_rising():
    short = Scale(5, 50, 5.0, 50.0, 50, 10.0, 10, 0.2, 40.0, 1.0)
    long = Scale(60, 100, 60.0, 100.0, 100, 20.0, 20, 0.2, 80.0, 1.0)
    assert velocity(short, long) is not None
    assert velocity(long, long) is None


def test_linkage_names_the_linked_policy():
    signal = linkage({"work-programme": 30, "other": 50}, ("work-programme",), 100)
    assert signal is not None and "work-programme" in signal.reason
    assert linkage({"work-programme": 2}, ("work-programme",), 100) is None


@given(st.integers(1, 5000), st.floats(0.5, 2000.0), st.floats(0.0, 1.0))
def test_the_volume_reason_is_a_ratio_of_the_count_it_prints(volume_, expected, organic_part):
    # The demo printed "1626 mentions in 60 min, usually 95.1 (17.1x)" above "volume 16.5x
    # expected over 60 min (1626 mentions vs 95.1)": a ratio of one count beside another.
    organic = volume_ * organic_part
    s = Scale(60, volume_, expected, organic, volume_, 0.3 * volume_, 0, 0.2, 10.0, 1.0)
    m = re.match(r"volume ([\d.]+)x expected over 60 min \((\d+) mentions vs ([\d.]+)",
                 volume(s).reason)
    ratio, count, base = float(m[1]), int(m[2]), float(m[3])
    assert count == round(organic) and abs(base - expected) <= 0.05 + 1e-9
    assert abs(ratio - organic / max(expected, 0.5)) <= 0.05 + 1e-9
    assert ("look coordinated not counted" in volume(s).reason) == (volume_ - organic >= 0.5)
    assert f"({volume_} mentions vs" in volume(s, organic=False).reason
