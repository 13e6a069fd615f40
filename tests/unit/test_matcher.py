"""Matching: case-insensitive, whole words, hashtags, handles, overlaps, several entities."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.matcher import Matcher, tokens
from models.watchlist import parse_watchlist

WATCHLIST = parse_watchlist("""
entities:
  - id: wp
    name: Work Programme
    kind: policy
    terms: ["work programme", "workfare", "mandatory work activity"]
    hashtags: ["#workfare"]
    handles: ["@dwppressoffice"]
  - id: acme
    name: Acme
    kind: partner
    terms: ["acme"]
    handles: ["@acmestores"]
  - id: acme-stores
    name: Acme Stores Ltd
    kind: partner
    terms: ["acme stores"]
  - id: uc
    name: Universal Credit
    kind: policy
    terms: ["universal credit", "UC"]
""")
MATCHER = Matcher(WATCHLIST)


@pytest.mark.parametrize(("text", "expected"), [
    ("The WORK PROGRAMME is failing", ("wp",)),
    ("the work\n programme", ("wp",)),                 # any whitespace between words
    ("homework programme", ()),                        # not on a word boundary
    ("workfarefare", ()),
    ("#Workfare again", ("wp",)),                      # hashtag of the contract
    ("#acme is trending", ("acme",)),                  # a hashtag names its bare word
    ("#acmeville", ()),
    ("ask @DWPPressOffice", ("wp",)),                  # handle
    ("@acmestores2 is a parody", ()),                  # a longer handle is someone else
    ("email me at bob@acmestores.com", ()),            # not a handle inside an address
    ("boycott acme stores", ("acme", "acme-stores")),  # overlapping terms both match
    ("acme's workfare deal", ("wp", "acme")),          # several entities in one post
    ("UC and universal credit", ("uc",)),              # each entity once
    ("nothing to see", ()),
    ("", ()),
])
def test_match(text, expected):
    assert MATCHER.match(text) == expected


@given(st.text(max_size=200))
def test_match_never_raises_and_returns_known_ids(text):
    assert set(MATCHER.match(text)) <= {"wp", "acme", "acme-stores", "uc"}


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_a_term_surrounded_by_spaces_is_always_found(noise):
    assert "acme" in MATCHER.match(f"{noise} acme {noise}")


def reference_match(text: str) -> tuple[str, ...]:
    """The definition, slowly: a phrase matches where a form of a token starts it."""
    toks = tokens(text)
    phrases = {}
    for e in WATCHLIST.entities:
        for phrase in (*e.terms, *e.hashtags, *e.handles):
            phrases.setdefault(tuple(tokens(phrase)), set()).add(e.id)
    found = set()
    for i, tok in enumerate(toks):
        forms = {tok}
        if tok.startswith("#") and len(tok) > 1:
            forms.add(tok[1:])
        elif tok.endswith("'s") and len(tok) > 2:
            forms.add(tok[:-2])
        for key, ids in phrases.items():
            if key[0] in forms and toks[i + 1 : i + len(key)] == list(key[1:]):
                found |= ids
    order = [e.id for e in WATCHLIST.entities]
    return tuple(sorted(found, key=order.index))


_WORDS = ["work", "programme", "workfare", "#workfare", "acme", "#acme", "acme's", "stores",
          "@acmestores", "@dwppressoffice", "mandatory", "activity", "uc", "universal",
          "credit", "#uc", "uc's", "#acme's", "the", "boycott", ",", "!", "\u2019s", "'s"]


@given(st.lists(st.sampled_from(_WORDS), max_size=12), st.sampled_from([" ", "  ", "\n", ", "]))
def test_the_indexed_matcher_agrees_with_the_definition(words, sep):
    text = sep.join(words)
    assert MATCHER.match(text) == reference_match(text)
