"""streams.liveness.open_states: which entities hold an open incident, read from the
engine table as the heartbeat reads it, with and without the detect agent's cache."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from alerting.stored import NOTHING
from streams import statestore
from streams.liveness import open_states
from streams.statestore import Loaded
from tests.unit.test_stored import run


@cache
def _with_open_incident():
    """A state of the demo sample with its incident open."""
    found = []
    run([500], 8_294, lambda entity, state: found.append(state)
        if state.incident.open_incident is not None else None)
    return found[0]


def _table():
    """Two entities written to a table: one with its incident open, one resolved."""
    open_ = _with_open_incident()
    incident = open_.incident.incident
    closed = replace(open_, incident=replace(
        open_.incident, incident=replace(incident, status="resolved",
                                         resolved_at=incident.opened_at + 60)))
    table: dict[bytes, bytes] = {}
    known = {}
    for entity, state in (("hot", open_), ("calm", closed)):
        written = statestore.write(table, entity, NOTHING, state)
        known[entity] = (table[statestore.key_of(entity)], Loaded(state, written))
    return table, known, open_


def test_open_incidents_are_found_by_reading_the_table():
    table, _, open_ = _table()
    assert open_states(table, lambda e: True) == {"hot": open_}
    assert open_states(table, lambda e: e != "hot") == {}  # not ours: a standby copy


def test_the_detect_agents_cache_stands_in_for_decoding_while_it_holds_the_tables_head():
    table, known, open_ = _table()
    # The cache is used only for the very head the table holds: a state it names, not
    # one read again (here a marker state shows which was used).
    marker = replace(open_, seen=((0, 12345),))
    cached = {"hot": (known["hot"][0], Loaded(marker, known["hot"][1].written))}
    assert open_states(table, lambda e: True, cached) == {"hot": marker}
    # Another head in the table (written since, or recovered): read from the table.
    stale = {"hot": (b"not the table's head", Loaded(marker, known["hot"][1].written))}
    assert open_states(table, lambda e: True, stale) == {"hot": open_}
    # A cached state whose incident is resolved is not open, whatever its head says.
    assert open_states(table, lambda e: True, {"calm": known["calm"]}) == {"hot": open_}
