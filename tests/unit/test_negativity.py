"""Negativity scorer: probabilities, order, batch independence, artefact round-trip, sense."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.errors import ModelArtefactError
from models.negativity import NegativityScorer
from models.negativity_train import evaluate, holdout_mask, train

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
    meta = SCORER.metadata
    assert meta["version"] == "negativity-v1"
    assert len(meta["data_sha256"]) == 64
    assert meta["heldout_metrics"]["roc_auc"] >= 0.86


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
    assert scorer.metadata["version"] == "negativity-v1"


def test_train_rejects_unknown_labels():
    with pytest.raises(ValueError, match="negative, neutral, positive"):
        train(["a", "b"], ["negative", "angry"], seed=0)
