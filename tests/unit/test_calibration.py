"""Calibration: a monotone margin -> probability map, fitted on held-out posts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.calibration import Calibration, reliability

MARGINS = st.lists(st.floats(-30, 30, allow_nan=False), min_size=1, max_size=200)


@settings(max_examples=200, deadline=None)
@given(MARGINS, st.data(), st.sampled_from(["isotonic", "platt", "beta"]))
def test_a_fitted_calibration_is_a_monotone_map_into_zero_one(margins, data, kind):
    targets = data.draw(st.lists(st.booleans(), min_size=len(margins), max_size=len(margins)))
    cal = Calibration.fit(margins, targets, kind)
    assert np.all(np.diff(cal.x) > 0) and np.all(np.diff(cal.y) >= 0)
    grid = np.linspace(-40, 40, 801)
    mapped = cal.apply(grid)
    assert np.all((mapped >= 0) & (mapped <= 1))
    assert np.all(np.diff(mapped) >= 0)


def test_isotonic_fit_gives_the_observed_rate_of_each_pooled_block():
    # Margins 0..99; a post is negative when its margin is above 49 or a multiple of 10.
    margins = np.arange(100.0)
    targets = (margins > 49) | (margins % 10 == 0)
    cal = Calibration.fit(margins, targets)
    assert cal.apply([-5.0, 200.0]).tolist() == [cal.y[0], 1.0]
    assert cal.y[0] == pytest.approx(targets[:50].mean(), abs=0.12)


def test_centred_isotonic_keeps_the_ranking_between_the_end_knots():
    rng = np.random.default_rng(3)
    margins = rng.normal(size=2000)
    targets = rng.random(2000) < 1 / (1 + np.exp(-2 * margins))
    cal = Calibration.fit(margins, targets)
    inside = np.sort(margins[(margins > cal.x[0]) & (margins < cal.x[-1])])
    assert np.all(np.diff(cal.apply(inside)) > 0) or np.all(np.diff(inside) == 0)


def test_calibration_recovers_a_known_probability_curve():
    rng = np.random.default_rng(7)
    margins = rng.normal(0, 2, size=50_000)
    truth = 1 / (1 + np.exp(-(0.5 * margins - 1)))  # a model twice too confident, shifted
    targets = rng.random(len(margins)) < truth
    for kind in ("isotonic", "platt", "beta"):
        cal = Calibration.fit(margins, targets, kind)
        probe = np.linspace(-3, 3, 13)
        expected = 1 / (1 + np.exp(-(0.5 * probe - 1)))
        np.testing.assert_allclose(cal.apply(probe), expected, atol=0.03)


def test_beta_calibration_fits_tails_of_different_slopes_where_platt_cannot():
    # logit p = 2 ln s - 0.3 ln(1 - s) - 0.5 with s = sigmoid(margin): the negative tail
    # falls steeply, the positive one saturates slowly. One sigmoid (Platt) fits neither.
    def truth(margin):
        ln_s, ln_not_s = -np.logaddexp(0, -margin), -np.logaddexp(0, margin)
        return 1 / (1 + np.exp(-(2.0 * ln_s - 0.3 * ln_not_s - 0.5)))

    rng = np.random.default_rng(7)
    margins = rng.normal(0, 2, size=50_000)
    targets = rng.random(len(margins)) < truth(margins)
    probe = np.linspace(-3, 3, 13)
    beta = Calibration.fit(margins, targets, "beta")
    platt = Calibration.fit(margins, targets, "platt")
    assert beta.kind == "beta"
    np.testing.assert_allclose(beta.apply(probe), truth(probe), atol=0.01)
    assert np.abs(platt.apply(probe) - truth(probe)).max() > 0.04


def test_beta_calibration_of_margins_that_rank_backwards_is_the_base_rate():
    margins = np.arange(400.0) - 200
    targets = margins < -100  # negatives at the low end: no increasing map fits
    cal = Calibration.fit(margins, targets, "beta")
    assert np.ptp(cal.y) < 1e-9 and abs(cal.y[0] - targets.mean()) < 0.01


@pytest.mark.parametrize(("x", "y", "message"), [
    ([0.0, 0.0], [0.1, 0.2], "monotone"),
    ([0.0, 1.0], [0.5, 0.4], "monotone"),
    ([0.0, 1.0], [0.5, 1.5], r"\[0, 1\]"),
    ([0.0, np.nan], [0.1, 0.2], "finite"),
    ([], [], "non-zero length"),
])
def test_invalid_knots_are_refused(x, y, message):
    with pytest.raises(ValueError, match=message):
        Calibration(np.array(x), np.array(y))


def test_reliability_bins_count_every_post_once_and_compare_predicted_with_observed():
    p = np.array([0.0, 0.05, 0.15, 0.5, 0.55, 0.95, 1.0])
    t = np.array([0, 0, 1, 0, 1, 1, 1])
    bins = reliability(t, p)
    assert len(bins) == 10 and sum(b.n for b in bins) == len(p)
    assert (bins[0].n, bins[0].observed) == (2, 0.0)
    assert (bins[5].n, bins[5].predicted, bins[5].observed) == (2, 0.525, 0.5)
    assert (bins[9].n, bins[9].observed) == (2, 1.0)
