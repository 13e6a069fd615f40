"""Watchlist validation: every error names the entity, the field and the fix."""

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from models.errors import WatchlistError
from models.watchlist import parse_watchlist

EXAMPLE = Path(__file__).parents[2] / "deploy" / "examples" / "watchlist.yaml"


def test_the_shipped_example_is_valid_and_links_both_ways():
    wl = parse_watchlist(EXAMPLE.read_text())
    assert wl["acme-stores"].linked == ("work-programme",)
    assert "acme-stores" in wl.linked_to("work-programme")
    assert wl["work-programme"].owner == "DWP"


def one(**fields):
    base = {"id": "acme", "name": "Acme", "kind": "partner", "terms": ["acme"]}
    base.update(fields)
    body = "\n".join(f"    {k}: {v!r}" if v is not None else f"    {k}:" for k, v in base.items()
                     if v is not ...)
    return "entities:\n  -\n" + body + "\n"


@pytest.mark.parametrize(("text", "message"), [
    ("entities: [", "line 1: not valid YAML"),
    ("- a\n- b", "expected a top-level 'entities:' list"),
    ("entities: []", "'entities' is empty"),
    ("entities: [3]", "entity #1: expected a mapping"),
    (one(kind="charity"), "entity 'acme' field 'kind': must be one of policy, partner,"),
    (one(id="Acme Stores"), "field 'id': use a slug"),
    (one(name=...), "entity 'acme' field 'name': required"),
    (one(id=...), "entity #1 field 'id': required"),
    (one(terms=[]), "field 'terms': give at least one of terms, hashtags or handles"),
    (one(terms="acme"), "field 'terms': must be a list of non-empty strings"),
    (one(hashtags=["boycott"]), "field 'hashtags': 'boycott' must look like '#word'"),
    (one(handles=["acme"]), "field 'handles': 'acme' must look like '@account'"),
    (one(linked=["nope"]), "field 'linked': unknown entity 'nope'"),
    (one(colour="red"), "field 'colour': unknown field"),
    (one(owner=3), "field 'owner': must be a string"),
    (one() + one().replace("entities:\n", ""), "entity 'acme': duplicate id"),
    (one(since="yesterday"), "entity 'acme' field 'since': is not an ISO-8601 timestamp"),
    (one(since="2026-03-01T00:00:00"), "field 'since': has no UTC offset: add 'Z'"),
    (one(since=True), "field 'since': must be an ISO-8601 string or epoch seconds"),
    ("watch_since: 2026-03-01\n" + one(), "'watch_since': is a date without a time; give"),
    ("watch_sinse: 1772323200\n" + one(), "'watch_sinse': unknown field; allowed fields"
                                          " are entities, watch_since"),
])
def test_errors_say_where_and_how_to_fix(text, message):
    with pytest.raises(WatchlistError) as err:
        parse_watchlist(text, source="w.yaml")
    assert str(err.value).startswith("w.yaml")
    assert message in str(err.value)


def test_the_watch_begins_at_the_entitys_since_else_the_lists():
    wl = parse_watchlist("watch_since: 2026-03-01T00:00:00Z\n" + one()
                         + one(id="jo", kind="person", terms=["jo"],
                               since="2026-03-07T01:00:00+01:00").replace("entities:\n", ""))
    assert wl.since("acme") == 1772323200.0  # the list's, read by YAML as a datetime
    assert wl.since("jo") == 1772841600.0  # its own, a string with an offset
    assert parse_watchlist(one(since=1772323200)).since("acme") == 1772323200.0
    assert parse_watchlist(one()).since("acme") is None  # from its first mention


@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(),
                 st.lists(st.integers(), max_size=2), st.datetimes()))
def test_any_since_is_a_time_or_an_error_that_names_the_field(value):
    text = yaml.safe_dump({"watch_since": value, "entities": [
        {"id": "acme", "name": "Acme", "kind": "partner", "terms": ["acme"]}]})
    try:
        since = parse_watchlist(text, source="w.yaml").watch_since
    except WatchlistError as err:
        assert str(err).startswith("w.yaml: 'watch_since': ")
    else:
        assert since is None or since >= 946684800.0  # None: YAML's null ('', '~', 'null')
