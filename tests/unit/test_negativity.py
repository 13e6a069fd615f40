"""Negativity scorer: probabilities, order, batch independence, artefact round-trip, sense."""

import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.calibration import Calibration
from models.errors import ModelArtefactError
from models.negativity import LanguageModel, NegativityScorer
from models.negativity_train import (
    MIN_CALIBRATION_POSTS,
    Recipe,
    evaluate,
    holdout_mask,
    train,
    train_model,
)

SCORER = NegativityScorer.default()
# Arbitrary unicode, including the NUL the batch uses as a separator and odd whitespace.
TEXTS = st.text(max_size=200) | st.sampled_from(
    ["", " ", "\x00", "a\x00b", "ΣΑΣ ΣΑΣ", "😡😡", "\t\n", "don't", "NOT GOOD!!!"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXTS, max_size=30))
def test_scores_are_probabilities_one_per_text(texts):
    scores = SCORER.score_many(texts)
    assert scores.shape == (len(texts),)
    assert np.all((scores >= 0) & (scores <= 1))


@settings(max_examples=100, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=20))
def test_batch_scores_equal_one_by_one(texts):
    one_by_one = [SCORER.score_one(t) for t in texts]
    np.testing.assert_allclose(SCORER.score_many(texts), one_by_one, rtol=0, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.lists(TEXTS, min_size=2, max_size=20), st.randoms())
def test_order_is_preserved(texts, rnd):
    order = list(range(len(texts)))
    rnd.shuffle(order)
    shuffled = SCORER.score_many([texts[i] for i in order])
    np.testing.assert_allclose(shuffled, SCORER.score_many(texts)[order], rtol=0, atol=1e-12)


def test_batches_larger_than_the_internal_chunk_score_like_small_ones():
    texts = [f"post {i} is {'awful' if i % 3 else 'lovely'}" for i in range(2500)]
    np.testing.assert_allclose(SCORER.score_many(texts)[-3:], SCORER.score_many(texts[-3:]))


@pytest.mark.parametrize("text", ["\ud800 lone surrogate", "x" * 100_000, "\u0130" * 50])
def test_odd_input_scores_without_raising(text):
    assert 0.0 <= SCORER.score_one(text) <= 1.0


def test_empty_batch_gives_empty_scores():
    assert SCORER.score_many([]).shape == (0,)


def test_artefact_round_trip_gives_identical_scores_and_metadata(tmp_path):
    path = tmp_path / "model.npz"
    SCORER.save(path)
    loaded = NegativityScorer.load(path)
    texts = ["I hate this", "lovely day", "", "not bad at all 👍"]
    assert np.array_equal(loaded.score_many(texts), SCORER.score_many(texts))
    assert loaded.metadata == SCORER.metadata
    assert loaded.threshold == SCORER.threshold


def test_shipped_artefact_is_versioned_and_records_its_data_and_metrics():
    assert SCORER.metadata["version"] == "negativity-v2"
    meta = SCORER.model("en").metadata
    assert len(meta["data_sha256"]) == 64
    assert meta["split"] == "temporal" and meta["test_set"] == "2016test"
    assert meta["test_metrics"]["n"] > 19_000


def test_shipped_calibration_is_fitted_on_the_newest_sets_and_within_target_on_the_later_one():
    model = SCORER.model("en")
    meta = model.metadata
    assert model.calibration.kind == "beta"
    assert meta["calibrate_on"] == "2016train,2016dev,2016devtest"
    assert meta["calibration_fit"] == "5-fold cross-fit" and meta["n_calibration"] == 9619
    assert meta["test_metrics"]["calibration_max_gap"] <= 0.05
    assert meta["test_metrics"]["roc_auc"] >= 0.86


@pytest.mark.parametrize(("worse", "better"), [
    ("I hate this, boycott them now", "I love this, great job"),
    ("not good", "good"),
    ("this is not good at all", "this is good"),
    ("Disgraceful. Resign now #boycott", "Thanks for the quick reply"),
    ("worst service ever 😡", "best service ever 😊"),
])
def test_more_negative_post_scores_higher(worse, better):
    assert SCORER.score_one(worse) > SCORER.score_one(better)


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04 truncated"])
def test_corrupt_artefact_is_a_clear_error(data):
    with pytest.raises(ModelArtefactError, match="not a negativity artefact"):
        NegativityScorer.from_bytes(data)


def test_missing_artefact_is_a_clear_error(tmp_path):
    with pytest.raises(ModelArtefactError, match="No such file"):
        NegativityScorer.load(tmp_path / "missing.npz")


def test_holdout_split_is_stable_and_near_the_fraction():
    texts = [f"post number {i}" for i in range(5000)]
    mask = holdout_mask(texts, 0.2)
    assert 0.17 < mask.mean() < 0.23
    assert np.array_equal(holdout_mask(texts[::-1], 0.2), mask[::-1])


def test_train_and_evaluate_on_synthetic_posts():
    negative = [f"I hate the {w}, awful and terrible" for w in range(60)]
    other = [f"the {w} is lovely, great work" for w in range(60)]
    other += [f"meeting about item {w} on monday" for w in range(60)]
    texts, labels = negative + other, ["negative"] * 60 + ["positive"] * 60 + ["neutral"] * 60
    scorer = train(texts, labels, seed=0, word_bits=12, char_bits=12)
    metrics = evaluate(scorer, texts, labels)
    assert metrics["roc_auc"] > 0.95
    assert scorer.version == "negativity-v2" and scorer.languages == ("en",)


def test_train_rejects_unknown_labels():
    with pytest.raises(ValueError, match="negative, neutral, positive"):
        train(["a", "b"], ["negative", "angry"], seed=0)


def test_scores_are_the_stored_calibration_applied_to_the_margins():
    model = SCORER.model("en")
    texts = ["I hate this", "lovely day", "", "not bad at all", "resign now, disgrace"]
    margins = model.margins(texts)
    np.testing.assert_array_equal(SCORER.score_many(texts), model.calibration.apply(margins))
    assert np.all(np.diff(model.calibration.x) > 0) and np.all(np.diff(model.calibration.y) >= 0)
    assert 0.0 < SCORER.threshold < 1.0


def synthetic_posts(n: int, seed: int, drift: float = 1.0) -> tuple[list[str], list[str]]:
    """Posts whose chance of being negative is known: z of them (z * drift: the same words
    meaning less, later), with ~6z of 6 grim words."""
    rng = np.random.default_rng(seed)
    grim, sunny = [f"grim{i}" for i in range(20)], [f"sunny{i}" for i in range(20)]
    texts, labels = [], []
    for z in rng.choice([0.05, 0.2, 0.4, 0.6, 0.8, 0.95], size=n):
        k = rng.binomial(6, z)
        words = [*rng.choice(grim, k), *rng.choice(sunny, 6 - k)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append("negative" if rng.random() < z * drift else "neutral")
    return texts, labels


def test_calibrated_probabilities_match_observed_rates_on_held_out_posts():
    scorer = train(*synthetic_posts(4000, seed=1), word_bits=10, char_bits=10)
    metrics = evaluate(scorer, *synthetic_posts(8000, seed=2))
    judged = [row for row in metrics["reliability"] if row[1] >= MIN_CALIBRATION_POSTS]
    assert len(judged) >= 5
    for lo, n, predicted, observed in judged:
        assert abs(predicted - observed) <= 0.05, (lo, n, predicted, observed)


def test_calibrating_on_the_newest_posts_follows_a_drift_that_all_posts_would_average_away():
    # The same words, later, are negative 0.6 times as often: calibrated on the later
    # posts' cross-fitted margins, probabilities match a fresh later sample.
    old_texts, old_labels = synthetic_posts(4000, seed=1)
    new_texts, new_labels = synthetic_posts(2000, seed=3, drift=0.6)
    texts, labels = old_texts + new_texts, old_labels + new_labels
    newest = np.arange(len(texts)) >= len(old_texts)
    later = synthetic_posts(8000, seed=2, drift=0.6)

    def worst_gap(calibrate):
        model = train_model(texts, labels, calibrate=calibrate, recipe=Recipe(
            word_bits=10, char_bits=10, c_grid=(1.0,), calibration="beta"))
        metrics = evaluate(model, *later)
        judged = [row for row in metrics["reliability"] if row[1] >= MIN_CALIBRATION_POSTS]
        assert len(judged) >= 4
        return max(abs(predicted - observed) for _, _, predicted, observed in judged)

    assert worst_gap(newest) <= 0.05
    assert worst_gap(None) > 0.05  # calibrated on every post: the drift is half averaged away


def test_calibrating_on_chosen_posts_needs_both_kinds_and_cross_fitting():
    texts, labels = synthetic_posts(600, seed=4)
    only_neutral = np.array([label != "negative" for label in labels])
    with pytest.raises(ValueError, match="lack negative or other posts"):
        train_model(texts, labels, calibrate=only_neutral, recipe=Recipe(word_bits=8, char_bits=8))
    with pytest.raises(ValueError, match="needs cross-fitting"):
        train_model(texts, labels, calibrate=~only_neutral,
                    recipe=Recipe(word_bits=8, char_bits=8, folds=0))


# Margins of odd texts under fixed random weights (numpy seed 11), computed by the
# featurisation as first shipped: any change that alters a feature (say, a faster
# negation-scope test that also ends scopes at U+01FF, whose low six bits are "?")
# breaks them, and needs FEATURES_VERSION bumped and the model retrained.
PINNED = {
    "not good ǿ bad at all": 0.158232424, "not good \x7f bad": -0.347232451,
    "never again? great stuff": 2.355917312, "didn't like it, love it": -1.667163905,
    "no way 😡 this is fine ¿ really": -1.383183496, "Σ not ΣΑΣ. ok": -2.396837898,
    "nothing works ; happy now": 1.358462896, "": 0.25, "not\x00good": -1.228456236,
    "I can't believe it… wonderful 🎉": 1.403078065,
    "\u216f not \uff57\uff4f\uff52\uff53\uff45 \uff1f better": -1.982028799,  # fullwidth
}


def test_the_featurisation_gives_the_pinned_margins():
    from models.negativity_features import Coefs, margins
    rng = np.random.default_rng(11)
    coefs = Coefs(rng.normal(size=2**18).astype(np.float32),
                  rng.normal(size=2**18).astype(np.float32), rng.normal(size=9), 0.25)
    got = margins(list(PINNED), [coefs]).values[0]
    np.testing.assert_allclose(got, list(PINNED.values()), rtol=0, atol=2e-9)


def tiny_model(lang_word: str, bias: float = 0.0) -> LanguageModel:
    """A hand-made model: the margin is bias, whatever the text (all weights zero)."""
    return LanguageModel(np.zeros(16), np.zeros(16), np.zeros(9), bias,
                         Calibration(np.array([-1.0, 1.0]), np.array([0.2, 0.8])), 0.5,
                         {"note": lang_word})


def test_a_language_without_a_model_is_not_scored_and_keeps_its_order():
    texts = ["Mae hyn yn warth", "what a disgrace", "quelle honte", "thanks, lovely"]
    assessed = SCORER.assess_many(texts, ["cy", "en-GB", "fr", None])
    assert assessed.lang == ["cy", "en", "fr", "en"]
    assert assessed.values()[0] is None and assessed.values()[2] is None
    np.testing.assert_array_equal(assessed.negativity[[1, 3]],
                                  SCORER.score_many([texts[1], texts[3]]))


def test_each_language_is_read_by_its_own_model_and_survives_the_artefact(tmp_path):
    both = SCORER.with_model("cy", tiny_model("cy", bias=0.0))
    path = tmp_path / "both.npz"
    both.save(path)
    loaded = NegativityScorer.load(path)
    assert loaded.languages == ("cy", "en") and loaded.default_language == "en"
    assessed = loaded.assess_many(["Mae hyn yn warth", "what a disgrace"], ["cy", "en"])
    assert assessed.negativity[0] == 0.5  # the Welsh model: margin 0 -> 0.5
    assert assessed.negativity[1] == SCORER.score_one("what a disgrace")
    assert loaded.model("cy").metadata["note"] == "cy"
    assert loaded.threshold == SCORER.threshold


def test_an_artefact_of_another_format_version_is_refused_with_a_fix():
    good = SCORER.to_bytes()
    with np.load(io.BytesIO(good), allow_pickle=False) as npz:
        arrays = dict(npz)
    meta = json.loads(str(arrays["metadata"]))
    for version in ("negativity-v1", "negativity-v3", None):
        arrays["metadata"] = np.array(json.dumps({**meta, "version": version}))
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        with pytest.raises(ModelArtefactError, match=f"format {version!r}.*retrain"):
            NegativityScorer.from_bytes(buffer.getvalue())


def test_a_model_built_for_other_features_is_refused():
    with np.load(io.BytesIO(SCORER.to_bytes()), allow_pickle=False) as npz:
        arrays = dict(npz)
    meta = json.loads(str(arrays["metadata"]))
    meta["languages"]["en"]["features"] = "negativity-features-0"
    arrays["metadata"] = np.array(json.dumps(meta))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with pytest.raises(ModelArtefactError, match="'en' was built for features"):
        NegativityScorer.from_bytes(buffer.getvalue())


def test_the_v1_artefact_is_gone_and_the_default_is_v2():
    from importlib import resources
    files = {f.name for f in resources.files("models").joinpath("artefacts").iterdir()}
    assert "negativity-v2.npz" in files and "negativity-v1.npz" not in files


@settings(max_examples=50, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=30))
def test_scoring_sums_exactly_the_features_training_sees(texts):
    from models.negativity_features import featurize
    model = SCORER.model("en")
    coef = np.concatenate([model.word_coef, model.char_coef, model.dense_coef])
    x = featurize(texts, 18, 18)
    np.testing.assert_allclose(model.margins(texts), x @ coef.astype(np.float64)
                               + model.intercept, rtol=0, atol=1e-9)
