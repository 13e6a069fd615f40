"""The engine table's records of an entity: read its state, write what changed.

The table (a Faust table backed by the ``engine-state`` changelog) holds each entity's
state as the records of :mod:`alerting.stored`: the head under the entity id, its parts
under ``entity id + "\\x00" + suffix``, every key as UTF-8 bytes. Reading also takes
the formats written before: the whole state under ``{"engine": ...}`` (keyed by the id,
or by the id in JSON quotes before 0.2), which the next write replaces.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any, NamedTuple

from alerting.engine import EntityEngineState
from alerting.stored import NOTHING, SEP, Written, incident_status, is_head, load, plan

__all__ = ["Loaded", "key_of", "read", "write"]


class Loaded(NamedTuple):
    """An entity's state as read, and what the changelog holds of it (for the next write)."""

    state: EntityEngineState | None
    written: Written


def key_of(entity_id: str, suffix: str = "") -> bytes:
    """The table key of an entity's head (or of one of its parts)."""
    return (entity_id + SEP + suffix if suffix else entity_id).encode("utf-8")


def read(table: MutableMapping[bytes, Any], entity_id: str) -> Loaded:
    """The entity's state from the table, in whichever format it was written."""
    value = table.get(key_of(entity_id)) or table.get(json.dumps(entity_id).encode("utf-8"))
    if not value:
        return Loaded(None, NOTHING)
    if is_head(value):
        state, written = load(value, lambda suffix: table.get(key_of(entity_id, suffix)))
        return Loaded(state, written)
    return Loaded(_whole(value), NOTHING)  # the next write stores it in parts


def write(table: MutableMapping[bytes, Any], entity_id: str, written: Written,
          state: EntityEngineState) -> Written:
    """Write what changed since ``written``: new parts, core, head, then tombstones."""
    steps = plan(written, state)
    for suffix, value in steps.writes:
        table[key_of(entity_id, suffix)] = value
    for suffix in steps.deletes:
        key = key_of(entity_id, suffix)
        if key in table:
            del table[key]
    return steps.written


def is_open(table: MutableMapping[bytes, Any], key: bytes, value: Any) -> bool:
    """Is this table entry an entity head whose latest incident is open (cheap)?"""
    if not isinstance(key, bytes) or SEP.encode() in key or not value:
        return False
    if is_head(value):
        entity_id = key.decode("utf-8")
        return incident_status(value, lambda s: table.get(key_of(entity_id, s))) == "open"
    incident = ((value.get("engine") or {}).get("incident") or {}).get("incident") or {}
    return incident.get("status") == "open"


def _whole(value: dict[str, Any]) -> EntityEngineState | None:
    """A whole state as written before the split (and the format before 0.2: "seen"
    beside it)."""
    if "engine" not in value:
        return None
    state = EntityEngineState.from_dict(value["engine"])
    old = value.get("seen")
    if old and not state.seen:
        state = replace(state, seen=tuple(sorted((int(p), int(o)) for p, o in old.items())))
    return state
