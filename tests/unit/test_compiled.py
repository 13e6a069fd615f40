"""The compiled core (models._core, behind models.compiled.CompiledIntake) agrees with
the Python intake, its specification: generated batches, hostile and malformed ones
included, go through both, and every rejection, repair, observation, pseudonym and
hostility marker must be the same, and every probability within 1e-9 with the same
decision."""

from __future__ import annotations

import json
import os
import re
from functools import cache

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from models import calls_to_action, compiled, hostility
from models.compiled import CompiledIntake
from models.hostility import CALL, DEMAND, QUESTION, SARCASM, markers, might_mark
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


@cache
def compiled_core() -> object:
    return both()[1]._core


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


# ------------------------------------------------------------------ hostility markers
# Ported by hand from models.hostility's and models.calls_to_action's patterns: texts
# made of their words and phrases, in every case and spacing that Python's re reads
# differently from a naive port (its \s, \w and \b, IGNORECASE's dotless i for "i").
SPELLINGS = [str] * 6 + [str.upper, str.title, lambda w: w.replace("i", "\u0131"),  # dotless
                         lambda w: w.replace("i", "\u0130"), lambda w: w.replace("s", "\u017f"),
                         lambda w: w.replace("k", "\u212a"), lambda w: "#" + w.replace(" ", ""),
                         lambda w: "#" + w.replace(" ", "") + "out"]
# Between two words: mostly a space, else what Python's \s (or \b, or [^?]) reads its way.
GAPS = st.sampled_from([" "] * 8 + ["", "  ", "\t", "\n", "\x1c", "\x1f", "\xa0", "\u2028",
                                    "\u3000", ", ", "!", ". ", " ? ", "?", "'", "\u2019", "/", "_",
                                    "1", "\u0307"])


def phrase(*parts: list[str]) -> st.SearchStrategy[str]:
    """One word of each part in turn, each spelt some way, a gap after each."""
    return st.tuples(*(st.tuples(st.sampled_from(SPELLINGS), st.sampled_from(p), GAPS)
                       for p in parts)).map(lambda ws: "".join(f(w) + g for f, w, g in ws))


# The patterns' words, in the orders the patterns read them, and near misses.
PRONOUNS = ["him", "her", "them", "the", "minister", ""]
marker_phrases = st.one_of(
    phrase(["must", "should", "need to", "needs to", "has to", "have to", "ought to", "must be"],
           ["be", ""], ["go", "resign", "quit", "step down", "stand down", "be sacked", "be fired",
                        "sacked", "fired", "gone"],
           ["to", "and", "on", "for", "out", "back", "home", "through", "ahead", "with", "in",
            "there", "by", "up", "over", "now", "tomorrow", "today", ""]),
    phrase(["sack", "oust", "fire", "get"], PRONOUNS, ["out", *PRONOUNS]),
    phrase(["resign", "step down", "stand down", "resignation", "no"],
           ["now", "today", "immediately", "!", ".", "", "nowhere", "confidence"]),
    phrase(["head", "heads"], ["must", "should", "will", "may"], ["roll", "rolls"]),
    phrase(["#"], ["sack", "oust", "resign", "boycott", "stop", "ban", "acme", "work", "lock"],
           ["out", "mustgo", "shouldgo", "mustresign", "mustquit", "resign", "resignnow", ""]),
    # "who is ... why", "why is ... trending", "what has ... done": up to 60 or 40
    # characters between, and no "?".
    phrase(["who", "why", "what"], ["is", "tf is", "the hell is", "even is", "has", "did"],
           ["you", "i", "we", "u", "acme", "she", "?", ""],
           ["why", "trending", "do", "done", "say", "said", "?"]),
    phrase(["what", "what's", "why is", "can", "is this", "how is this", "are"],
           ["is going on with", "going on with", "everyone", "everybody", "someone", "anyone",
            "on earth", "the hell", "real", "a joke", "allowed", "ok", "okay", "you", "they"],
           ["talking about", "explain", "serious", ""]),
    phrase(["yeah", "yeah,", "so in", "thanks for", "lovely to", "great to know", "slow",
            "couldn't", "couldnt", "said no one", "how", "how very", "/s", "/"],
           ["right", "touch", "nothing", "see", "what", "clap", "make it up", "ever", "lovely",
            "nice", "thoughtful", "reassuring", "s", ""]),
    phrase(sorted(calls_to_action.CALL_PHRASES), ["now", "acme", ""]),
)
marker_words = st.sampled_from(sorted({
    *hostility._TRIGGERS, *hostility._NOT_DEMANDS, *hostility._DEMAND_STEMS,
    *hostility._QUESTION_STEMS, *calls_to_action._STEMS, *hostility._IRONY_EMOJI, "acme",
    "\U0001f44d", "ß", "#"})) | hostile_text(3)
marker_texts = st.lists(marker_phrases | st.tuples(marker_words, GAPS).map("".join),
                        max_size=8).map("".join)


@settings(max_examples=500 * SCALE, deadline=None)
@given(marker_texts.map(lambda t: re.sub("[\ud800-\udfff]", "\ufffd", t)))
@example("f\u0131re him and fire")  # re.IGNORECASE: the dotless i matches "i"
@example("she must go to the shops and should go")
@example("sack\x1chim")  # Python's \s, not Rust's whitespace
@example("who is she? why")
def test_the_compiled_markers_are_pythons_on_any_text(text):
    core = compiled_core()
    assert core.markers(text) == markers(text)
    assert core.might_mark_text(text) == might_mark(tokens(text), text)


@settings(max_examples=200 * SCALE, deadline=None)
@given(st.sampled_from(["who is", "who tf is", "why is", "what has", "what did"]),
       st.integers(30, 64), GAPS, GAPS, st.sampled_from(["why", "trending", "done", "say"]))
def test_a_question_reaches_as_far_as_pythons(opening, width, before, after, closing):
    text = f"{opening}{before}{'x' * width}{after}{closing}"  # windows of 60 and 40
    assert compiled_core().markers(text) == markers(text)


@pytest.mark.parametrize(("text", "flags"), [
    ("#SackSmith", DEMAND | CALL), ("#SmithMustGo", DEMAND | CALL), ("#SmithOut", DEMAND),
    ("#workout", 0), ("oust   them", DEMAND), ("fire her", DEMAND),
    ("fire the minister", 0), ("he needs to be sacked", DEMAND),
    ("she must go", DEMAND), ("must go to the shops", 0), ("must go tomorrow", DEMAND),
    ("Resign.", DEMAND | CALL), ("step down today", DEMAND), ("heads must roll", DEMAND),
    ("no confidence", DEMAND), ("get them out", DEMAND), ("get\tthem out", 0),
    ("f\u0131re him and fire", DEMAND), ("F\u0130RE HIM", 0),
    ("🙄", SARCASM), ("great /s", SARCASM), ("yeah, right", SARCASM),
    ("couldn't make it up", SARCASM), ("couldn\u2019t make it up", 0),
    ("how very thoughtful", SARCASM), ("well done", 0),
    ("who is Jane Smith and why is she trending?", QUESTION), ("who is she? why", 0),
    ("who is " + "x" * 58 + " why", QUESTION), ("who is " + "x" * 59 + " why", 0),
    ("why is acme trending", QUESTION), ("what has acme done", QUESTION),
    ("what has \u0131 done", 0), ("what did you say", 0), ("how is this okay", QUESTION),
    ("boycott acme", CALL), ("don't shop at acme", CALL), ("#AcmeShouldGo", CALL),
    ("write to your MP", CALL), ("walkout", CALL), ("walking out", 0),
])
def test_each_marker_kind_is_found_as_python_finds_it(text, flags):
    assert markers(text) == flags
    assert compiled_core().markers(text) == flags


def test_the_core_refuses_to_start_when_a_marker_pattern_changed(monkeypatch):
    monkeypatch.setattr(hostility, "_IRONY", re.compile(hostility._IRONY.pattern + "|meh"))
    with pytest.raises(RuntimeError, match=r"update rust/src/hostility\.rs"):
        compiled._compiled_markers.__wrapped__()
