"""Matching: case-insensitive, whole words, hashtags, handles, overlaps, several entities."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.matcher import Matcher
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
