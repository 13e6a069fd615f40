"""The compiled core (models._core, behind models.compiled.CompiledIntake) agrees with
the Python intake, its specification: generated batches, hostile and malformed ones
included, go through both, and every rejection, repair, observation and pseudonym must
be the same, and every probability within 1e-9 with the same decision."""

from __future__ import annotations

import json
import os
import re
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.compiled import CompiledIntake
from models.intake import Intake, IntakeResult
from models.matcher import Matcher, tokens
from models.negativity import NegativityScorer
from models.negativity_features import margins as python_margins
from models.observation import Observation
from models.privacy import Pseudonymiser
from models.watchlist import Watchlist, parse_watchlist
from tests.hostile import NOW, SPECIAL_CHARS, START, hostile_mentions, hostile_text, kafka_values

WATCHLIST = """
entities:
  - {id: wp, name: Work Programme, kind: policy, terms: [work programme, workfare, "straße"],
     hashtags: ["#scrapworkfare"]}
  - {id: acme, name: Acme, kind: partner, terms: [acme, acme stores, "\u0391\u039a\u039c\u0395"],
     handles: ["@AcmeStores"]}
  - {id: min, name: Minister, kind: person, terms: ["jo smith", "smith's plan"],
     handles: ["@MinisterSmith"], linked: [wp]}
"""
# Words that reach every stage: terms, possessives, hashtags, handles, negators, lexicon
# words, markers, emoji, and characters whose case or class is unusual.
WORDS = ["acme", "Acme's", "#Acme", "ACME", "acme stores", "Acme  Stores", "workfare",
         "#ScrapWorkfare", "#workfareout", "work programme", "STRASSE", "straße",
         "\u0391\u039a\u039c\u0395", "ακμε", "\u0391\u039a\u039c\u0395\u03a3",
         "jo smith", "smith's plan", "@AcmeStores", "@acmestores",
         "@jo_bloggs", "@MinisterSmith", "a@b", "@@x", "not", "don't", "don\u2019t", "never",
         "good", "great", "terrible", "disgrace", "boycott", "resign", "sack him",
         "must go", "who is", "why", "trending", "?", "!", "...", ":)", "😡", "🙄", "👍",
         "İstanbul", "ǅ", "ﬁx", "Σ", "ΌΣΟΣ", "the", "and", "you", "that", "le ministre",
         "gweinidog", "\u2028", "\u00a0", "\t", "\x1c", "\ufffd", "_", "\u2019s", "1st", "²"]


NAMES = [w for w in WORDS if Matcher(parse_watchlist(WATCHLIST)).match(w)]
# More examples for a long run by hand: FIRESTORM_COMPILED_EXAMPLES=20 (x20).
SCALE = int(os.environ.get("FIRESTORM_COMPILED_EXAMPLES", "1"))


@cache
def watchlist() -> Watchlist:
    return parse_watchlist(WATCHLIST)


@cache
def scorer() -> NegativityScorer:
    return NegativityScorer.default()


def both(key: bytes = b"k") -> tuple[Intake, CompiledIntake]:
    python = Intake(watchlist(), None, Pseudonymiser(key, 1000),
                    assess_many=scorer().assess_many)
    return python, CompiledIntake(watchlist(), scorer(), Pseudonymiser(key, 1000))


texts = st.lists(st.sampled_from(WORDS) | hostile_text(6) | st.sampled_from(SPECIAL_CHARS),
                 max_size=14).map(" ".join)
# What a decoded mention's text can hold: no lone surrogate (decode repairs them).
clean_texts = (st.text() | texts).map(lambda t: re.sub("[\ud800-\udfff]", "\ufffd", t))


@st.composite
def tagged_mentions(draw: st.DrawFn) -> bytes:
    """Mostly valid mentions that name watched entities now and then, in any language;
    their strings hold any code point (lone surrogates too, sent as escapes: repaired)."""
    data = draw(hostile_mentions(valid=draw(st.integers(0, 7)) > 0))
    if draw(st.integers(0, 3)):  # around a watched name, mostly
        data["text"] = " ".join([draw(texts), draw(st.sampled_from(NAMES)), draw(texts)])
    if draw(st.booleans()):
        data["lang"] = draw(st.sampled_from(["en", "EN-gb", "cy", "fr", "und", "", "x"]))
    if draw(st.booleans()):
        data["author"] = draw(st.sampled_from(["@jo", "@Jo", "@AcmeStores", "@ß", "@ẞ"]))
    if draw(st.integers(0, 3)):
        return json.dumps(data).encode()  # ASCII: a lone surrogate is an escape, repaired
    # Raw UTF-8: a lone surrogate makes the message invalid UTF-8, rejected.
    return json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")


def same(expected: IntakeResult, got: IntakeResult) -> None:
    assert got.origins == expected.origins
    assert [(i, r.reason, r.raw) for i, r in got.rejected] == [
        (i, r.reason, r.raw) for i, r in expected.rejected]
    assert got.repaired == expected.repaired
    assert (got.accepted, got.untagged) == (expected.accepted, expected.untagged)
    assert len(got.items) == len(expected.items)
    threshold = scorer().threshold
    for e, g in zip(expected.items, got.items, strict=True):
        if isinstance(e, Observation):
            assert type(g) is Observation
            if e.negativity is None or g.negativity is None:
                assert e.negativity is g.negativity, (e, g)
            else:
                assert abs(e.negativity - g.negativity) <= 1e-9, (e, g)
                assert (e.negativity >= threshold) == (g.negativity >= threshold)
            fields = Observation.__dataclass_fields__
            assert ({f: getattr(g, f) for f in fields if f != "negativity"}
                    == {f: getattr(e, f) for f in fields if f != "negativity"})
        else:
            assert g == e


@settings(max_examples=100 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(tagged_mentions(), tagged_mentions(), kafka_values),
                max_size=12), st.data())
def test_a_batch_gives_what_the_python_intake_gives(raws, data):
    python, compiled = both()
    partitions = [data.draw(st.integers(0, 2)) for _ in raws]
    expected = python.accept_many(raws, now=NOW, partitions=partitions, of=3)
    got = compiled.accept_many(raws, now=NOW, partitions=partitions, of=3)
    same(expected, got)
    assert compiled.marks() == python.marks()


@settings(max_examples=300 * SCALE, deadline=None)
@given(clean_texts)
def test_tokens_matches_and_pseudonyms_agree_on_any_text(text):
    _, compiled = both()
    core = compiled._core
    assert core.tokens(text) == tokens(text)
    assert tuple(core.match_text(text)) == Matcher(watchlist()).match(text)
    keep = {h.casefold() for e in watchlist().entities for h in e.handles}
    assert core.pseudonymise_text(text) == Pseudonymiser(b"k", 1000).text(text, keep)
    assert core.pseudonym(text) == Pseudonymiser(b"k", 1000).author(text, None)


@settings(max_examples=200 * SCALE, deadline=None)
@given(st.lists(clean_texts, min_size=1, max_size=8))
def test_margins_and_calibrated_scores_agree_on_any_text(batch):
    _, compiled = both()
    model = scorer().model("en")
    margins, english = compiled._core.margins(batch)
    for got, expected in zip(margins["en"], model.margins(batch).tolist(), strict=True):
        assert abs(got - expected) <= 1e-9
    assert english == python_margins(batch, [model.coefs()]).english.tolist()
    langs = [None] * len(batch)
    probabilities, read = compiled._core.assess(batch, langs)
    assessed = scorer().assess_many(batch, langs)
    assert read == assessed.lang
    for got, expected in zip(probabilities, assessed.values(), strict=True):
        if expected is None:  # read in a language without a model
            assert got is None
        else:
            assert abs(got - expected) <= 1e-9


def test_the_fast_decoder_leaves_every_odd_shape_to_python():
    core = both()[1]._core
    base = {"id": "1", "ts": NOW - 5, "platform": "x", "author": "@a", "text": "acme"}
    assert core.decode_fast(json.dumps(base).encode(), NOW) == (
        "1", NOW - 5, "x", "@a", "acme", None, None, None, None)
    for odd in [{**base, "ts": "2026-01-05T00:00:00Z"}, {**base, "extra": 1},
                {**base, "text": "nul \x00"}, {**base, "author": "\ud800"},
                {**base, "author_followers": 1.0}, {**base, "author_followers": True},
                {**base, "ts": START - 10**9}, {**base, "ts": NOW + 86_401},
                {**base, "ts": 2**53}, {**base, "id": ""}, {**base, "lang": 5}]:
        assert core.decode_fast(json.dumps(odd).encode(), NOW) is None, odd
    assert core.decode_fast(b"\xef\xbb\xbf" + json.dumps(base).encode(), NOW) is None
    assert core.decode_fast(b"[1]", NOW) is None


def test_a_replay_batch_of_the_sample_agrees():
    from tests.hostile import REPO
    lines = (REPO / "deploy" / "examples" / "sample-mentions.jsonl").read_bytes().splitlines()
    wl = parse_watchlist((REPO / "deploy" / "examples" / "watchlist.yaml").read_text())
    python = Intake(wl, None, Pseudonymiser(b"k"), assess_many=scorer().assess_many)
    compiled = CompiledIntake(wl, scorer(), Pseudonymiser(b"k"))
    for start in range(0, len(lines), 4096):
        batch = lines[start : start + 4096]
        same(python.accept_many(batch, now=2e9), compiled.accept_many(batch, now=2e9))
