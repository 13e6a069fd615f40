"""The RSS bench's generated watchlist and stream: distinct entities, each mention
tagged to the entity it names, and every entity given history across the span."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.bench_rss import MAX_ENTITIES, stream, watchlist, word
from models.matcher import Matcher
from models.watchlist import parse_watchlist

END = 1_772_409_600.0


def test_a_generated_watchlist_is_valid_with_every_kind_in_proportion() -> None:
    g = watchlist(100, 6.0)
    wl = parse_watchlist(json.dumps({"entities": g.entities}))
    assert len(wl.entities) == 100
    assert Counter(e.kind for e in wl.entities) == {"policy": 30, "partner": 30,
                                                     "department": 10, "person": 30}
    assert sum(g.rates.values()) / 100 == pytest.approx(6.0)
    department = next(r for e, r in g.rates.items() if e.startswith("department-"))
    person = next(r for e, r in g.rates.items() if e.startswith("person-"))
    assert department > person


def test_every_mention_tags_to_the_one_entity_it_was_written_for() -> None:
    g = watchlist(200, 6.0)
    matcher = Matcher(parse_watchlist(json.dumps({"entities": g.entities})))
    by_word = {e["terms"][0]: e["id"] for e in g.entities}
    mentions = stream(g, 3, END, seed=7)
    for m in mentions:
        named = [w for w in by_word if w in m["text"].casefold()]
        assert len(named) == 1, m["text"]
        assert matcher.match(m["text"]) == (by_word[named[0]],)


def test_the_stream_covers_every_hour_of_every_entity_in_time_order() -> None:
    g = watchlist(40, 2.0)
    mentions = stream(g, 5, END)
    assert [m["ts"] for m in mentions] == sorted(m["ts"] for m in mentions)
    assert len({m["id"] for m in mentions}) == len(mentions)
    assert all(END - 5 * 3600 <= m["ts"] <= END for m in mentions)
    hours = {(m["text"], int((END - m["ts"]) // 3600)) for m in mentions}
    for e in g.entities:
        w = e["terms"][0]
        seen = {h for text, h in hours if w in text.casefold()}
        assert seen >= set(range(5)), e["id"]


@settings(max_examples=200)
@given(st.integers(0, MAX_ENTITIES - 1), st.integers(0, MAX_ENTITIES - 1))
def test_words_are_distinct_per_index(i: int, j: int) -> None:
    assert (word(i) == word(j)) == (i == j)


def test_a_word_beyond_the_range_is_refused() -> None:
    with pytest.raises(ValueError, match="out of range"):
        word(MAX_ENTITIES)
