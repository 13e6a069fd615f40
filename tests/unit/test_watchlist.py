"""Watchlist validation: every error names the entity, the field and the fix."""

from pathlib import Path

import pytest

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
])
def test_errors_say_where_and_how_to_fix(text, message):
    with pytest.raises(WatchlistError) as err:
        parse_watchlist(text, source="w.yaml")
    assert str(err.value).startswith("w.yaml")
    assert message in str(err.value)
