"""The negativity model's compared options: extra lexicons and the fastText-style model.

They are not shipped (docs/negativity.md, "Options compared"); these tests pin that
they compute what the comparison says they compute.
"""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from models import negativity_embed
from models.negativity_features import (
    FEATURES,
    N_DENSE,
    Coefs,
    _specials,
    featurize,
    margins,
    n_dense,
)
from models.negativity_train import Recipe, evaluate, fit_linear, train_model

LEXICONS = FEATURES._replace(lexicons=("afinn", "pattern"))
TEXTS = st.text(max_size=120) | st.sampled_from(["not good", "awful day", "😡 :(", "\x00"])


def dense(texts, config):
    return featurize(texts, 8, 8, config)[:, 2**9 :].toarray()


def test_each_extra_lexicon_adds_a_positive_and_a_negative_column():
    assert n_dense(FEATURES) == N_DENSE and n_dense(LEXICONS) == N_DENSE + 4
    rows = dense(["what a horrible awful day", "a wonderful happy day", "the bus"], LEXICONS)
    extra = rows[:, N_DENSE:]  # afinn +, afinn -, pattern +, pattern -
    assert extra[0, 1] > 0 and extra[0, 3] > 0 and extra[0, 0] == extra[0, 2] == 0
    assert extra[1, 0] > 0 and extra[1, 2] > 0 and extra[1, 1] == extra[1, 3] == 0
    assert not extra[2].any()


def test_a_negated_lexicon_word_counts_on_the_other_side_as_vader_does():
    good, not_good = dense(["this is good", "this is not good"], LEXICONS)[:, N_DENSE:]
    assert good[0] > 0 and good[1] == 0
    assert not_good[0] == 0 and not_good[1] > 0


def test_the_shipped_configuration_reads_no_extra_lexicon():
    keys, attributes = _specials()
    assert attributes.shape == (len(keys), 7)
    plain, extended = dense(["not good at all!"], FEATURES), dense(["not good at all!"], LEXICONS)
    np.testing.assert_array_equal(extended[:, :N_DENSE], plain)


@settings(max_examples=30, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=20))
def test_scoring_with_lexicons_sums_the_features_training_sees(texts):
    rng = np.random.default_rng(3)
    coefs = Coefs(rng.normal(size=2**8), rng.normal(size=2**8),
                  rng.normal(size=n_dense(LEXICONS)), 0.5)
    x = featurize(texts, 8, 8, LEXICONS)
    expected = x @ np.concatenate([coefs.word, coefs.char, coefs.dense]) + 0.5
    np.testing.assert_allclose(margins(texts, [coefs], LEXICONS).values[0], expected,
                               rtol=0, atol=1e-9)


def test_an_unknown_lexicon_is_named():
    with pytest.raises(ValueError, match="'nrc' is not one of afinn, pattern"):
        featurize(["x"], 8, 8, FEATURES._replace(lexicons=("nrc",)))


def synthetic():
    negative = [f"I hate the {w}, awful and terrible" for w in range(60)]
    other = [f"the {w} is lovely, great work" for w in range(60)]
    other += [f"meeting about item {w} on monday" for w in range(60)]
    return negative + other, ["negative"] * 60 + ["positive"] * 60 + ["neutral"] * 60


def test_the_fasttext_style_model_learns_to_rank_and_collapses_to_linear_weights():
    texts, labels = synthetic()
    x = featurize(texts, 10, 10)
    y = np.array([label == "negative" for label in labels])
    coef, bias = negativity_embed.fit(x, y, dim=8, epochs=5, rate=0.1)
    assert coef.shape == (x.shape[1],)
    margin = x @ coef + bias
    assert margin[y].min() > margin[~y].max()


def test_the_fasttext_style_model_is_deterministic_for_a_seed():
    x = sparse.random(50, 40, density=0.2, format="csr", random_state=1)
    y = np.arange(50) % 3 == 0
    first, second = (negativity_embed.fit(x, y, dim=4, epochs=2, seed=5) for _ in range(2))
    np.testing.assert_array_equal(first[0], second[0])


@pytest.mark.parametrize("bad", [{"dim": 0}, {"epochs": 0}, {"rate": 0.0}, {"batch": 0}])
def test_the_fasttext_style_model_rejects_meaningless_settings(bad):
    with pytest.raises(ValueError, match="positive"):
        negativity_embed.fit(sparse.csr_matrix(np.eye(4)), np.array([1, 0, 1, 0], bool), **bad)


def test_a_diverging_fasttext_style_model_says_to_lower_the_rate():
    x = sparse.csr_matrix(np.eye(4) * 1e30)  # margins overflow float32 within a few steps
    with pytest.raises(ValueError, match=r"diverged at rate 1\.0: use a lower rate"):
        negativity_embed.fit(x, np.array([1, 0, 1, 0], bool), dim=4, epochs=3, rate=1.0)


@pytest.mark.parametrize("mix", [1.0, 0.5])
def test_the_fasttext_style_model_and_its_ensemble_train_as_one_linear_model(mix):
    texts, labels = synthetic()
    recipe = Recipe(word_bits=10, char_bits=10, embedding=mix, embed_dim=8, c_grid=(1.0,),
                    calibration="platt")
    model = train_model(texts, labels, recipe=recipe)
    assert evaluate(model, texts, labels)["roc_auc"] > 0.95
    assert model.metadata["recipe"]["embedding"] == mix


def test_a_model_with_extra_lexicons_fits_but_is_not_a_shippable_language_model():
    texts, labels = synthetic()
    recipe = Recipe(word_bits=10, char_bits=10, features=LEXICONS, folds=0, refit=False,
                    c_grid=(1.0,))
    fitted = fit_linear(texts, labels, recipe=recipe)
    assert fitted.weights["dense_coef"].shape == (N_DENSE + 4,)
    with pytest.raises(Exception, match="dense_coef must have 9 weights"):
        train_model(texts, labels, recipe=recipe)


def test_a_shared_nb_ratio_changes_the_calibration_not_the_weights():
    texts, labels = synthetic()
    texts = [f"{t} {'sad' if i % 7 == 0 else 'ok'}" for i, t in enumerate(texts)]
    base = Recipe(word_bits=10, char_bits=10, nb=True, c_grid=(1.0,), calibration="platt")
    own, shared = (fit_linear(texts, labels, recipe=replace(base, nb_shared=s))
                   for s in (False, True))
    np.testing.assert_array_equal(own.weights["word_coef"], shared.weights["word_coef"])
    assert not np.array_equal(own.calibration.y, shared.calibration.y)
