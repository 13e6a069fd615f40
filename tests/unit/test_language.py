"""Language identification: declared first, then English words, then CLD2; null when unread."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.language import identify, language_name
from models.negativity import NegativityScorer
from models.negativity_features import margins

SCORER = NegativityScorer.default()
# "This policy is a disgrace, the minister must resign" and the like, in other languages.
NOT_ENGLISH = {
    "cy": ["Mae'r polisi hwn yn warth, rhaid i'r gweinidog ymddiswyddo",
           "Dyma'r tro cyntaf i mi weld y fath lanast gan y llywodraeth",
           "Mae'r gweinidog a'r llywodraeth i fod yn onest gyda ni am hyn"],
    "fr": ["cette politique est une honte, le ministre doit démissionner"],
    "de": ["Das ist eine Schande, der Minister muss sofort zurücktreten"],
    "es": ["Esta política es una vergüenza, el ministro debe dimitir ya"],
    "pl": ["To jest skandal, minister musi to natychmiast zmienić"],
    "it": ["Questa politica è una vergogna, il ministro deve dimettersi"],
    "ga": ["Is é seo an polasaí is measa riamh, ba chóir don aire éirí as"],
}
ENGLISH = ["this policy is a disgrace, the minister must resign",
           "I can't believe they did that to us again",
           "thanks for the quick reply, really helpful"]


def english_words_say_english(texts: list[str]) -> list[bool]:
    return margins(texts, [SCORER.model("en").coefs()]).english.tolist()


def test_english_words_recognise_english_and_no_other_language():
    others = [t for texts in NOT_ENGLISH.values() for t in texts]
    assert english_words_say_english(ENGLISH) == [True] * len(ENGLISH)
    assert english_words_say_english(others) == [False] * len(others)


def test_cld2_names_the_languages_the_english_words_leave():
    for lang, texts in NOT_ENGLISH.items():
        assert identify(texts) == [lang] * len(texts)


@pytest.mark.parametrize("text", ["", "😡😡😡", "12:30", "lol", "\ud800 lone surrogate",
                                  "nul \x00 byte", "https://example.org/a"])
def test_what_cld2_cannot_read_is_none_never_an_error(text):
    assert identify([text]) == [None]


def test_undeclared_posts_are_identified_and_those_without_a_model_are_not_scored():
    texts = [NOT_ENGLISH["cy"][0], ENGLISH[0], "😡😡😡", NOT_ENGLISH["fr"][0]]
    assessed = SCORER.assess_many(texts)
    assert assessed.lang == ["cy", "en", "en", "fr"]  # emoji only: the default language
    assert assessed.values()[0] is None and assessed.values()[3] is None
    np.testing.assert_array_equal(assessed.negativity[1:3], SCORER.score_many(texts[1:3]))


def test_a_declared_language_wins_over_identification():
    assessed = SCORER.assess_many([NOT_ENGLISH["cy"][0], ENGLISH[0]], ["en", "cy"])
    assert assessed.lang == ["en", "cy"]
    assert assessed.values()[0] is not None and assessed.values()[1] is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=80), st.sampled_from([None, "en", "cy", "und", "x"])),
                max_size=20))
def test_assessing_any_batch_gives_one_score_or_null_per_post_in_order(posts):
    texts, langs = [t for t, _ in posts], [g for _, g in posts]
    assessed = SCORER.assess_many(texts, langs)
    assert len(assessed.lang) == len(texts) == len(assessed.negativity)
    for (text, lang), p, read in zip(posts, assessed.values(), assessed.lang, strict=True):
        assert (p is None) == (read != "en")
        if lang in ("en", "cy"):
            assert read == lang
        if p is not None:
            # Equal to rounding: a batch's dense features go through one matrix product,
            # whose summation order depends on the batch's shape (seen: 1 ulp apart).
            assert p == pytest.approx(SCORER.score_one(text), rel=1e-12, abs=1e-15)


@given(st.text(max_size=2048))
def test_a_declared_language_is_named_never_echoed_when_it_is_not_a_code(lang):
    # ``lang`` is the producer's text; the alert's unscored note names it.
    name = language_name(lang)
    assert len(name) <= 32 and "<" not in name and "\n" not in name
    if name not in ("an unidentified language", "an unrecognised language"):
        assert name.replace(" ", "").replace("(", "").replace(")", "").replace("-", "").isalnum()
