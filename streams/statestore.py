"""The engine table's records of an entity: read its state, write what changed.

The table (a Faust table backed by the ``engine-state`` changelog) holds each entity's
state as the records of :mod:`alerting.stored`: the head under the entity id, its parts
under ``entity id + "\\x00" + suffix``, every key as UTF-8 bytes. Values are bytes:
the head is JSON; a part is JSON compressed with zlib against a fixed dictionary of the
field names it repeats (:data:`ZDICT`), one version byte first. Reading also takes the
formats written before: the whole state as JSON under ``{"engine": ...}`` (keyed by the
id, or by the id in JSON quotes before 0.2), which the next write replaces.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any, NamedTuple

from alerting.engine import EntityEngineState
from alerting.stored import NOTHING, SEP, Written, incident_status, is_head, load, plan

__all__ = ["Loaded", "decode", "encode", "key_of", "read", "write"]

# Version 1 of the compressed part format: zlib (RFC 1950) with this preset dictionary.
# Never edit it: parts already written decompress only with it. A new dictionary is a
# new version byte, with this one kept for reading.
ZDICT_V1 = (
    b'{"start":,"totals":[],"counts":[],"authors":[],"distinct":,"top_authors":[["u:",1]],'
    b'"others":[],"roots":[],"posts":[]}{"at":,"volume":,"expected_volume":,"negativity":,'
    b'"expected_negativity":,"score":0.0,"severity":null}')
ZDICT = ZDICT_V1
_V1 = b"\x01"
_SEP = SEP.encode()
_LEVEL = 6


def encode(suffix: str, value: Any) -> bytes:
    """A record's value as stored: the head as JSON, a part compressed (version 1).

    >>> decode(encode("m60.0", {"start": 60.0})), decode(encode("", {"stored": 3}))
    ({'start': 60.0}, {'stored': 3})
    """
    raw = json.dumps(value, separators=(",", ":")).encode("utf-8")
    if not suffix:
        return raw
    z = zlib.compressobj(_LEVEL, zdict=ZDICT_V1)
    return _V1 + z.compress(raw) + z.flush()


def decode(value: Any) -> Any:
    """A stored value back as JSON data (bytes of either kind; or already data)."""
    if not isinstance(value, bytes | bytearray):
        return value  # written by a faust JSON serializer and read back as data
    if value[:1] == _V1:
        z = zlib.decompressobj(zdict=ZDICT_V1)
        value = z.decompress(value[1:]) + z.flush()
    return json.loads(value)


class Loaded(NamedTuple):
    """An entity's state as read, and what the changelog holds of it (for the next write)."""

    state: EntityEngineState | None
    written: Written


def key_of(entity_id: str, suffix: str = "") -> bytes:
    """The table key of an entity's head (or of one of its parts)."""
    return (entity_id + SEP + suffix if suffix else entity_id).encode("utf-8")


def read(table: MutableMapping[bytes, Any], entity_id: str) -> Loaded:
    """The entity's state from the table, in whichever format it was written."""
    raw = table.get(key_of(entity_id)) or table.get(json.dumps(entity_id).encode("utf-8"))
    value = decode(raw) if raw else None
    if not value:
        return Loaded(None, NOTHING)
    if is_head(value):
        state, written = load(value, lambda suffix: _part(table, entity_id, suffix))
        return Loaded(state, written)
    return Loaded(_whole(value), NOTHING)  # the next write stores it in parts


def write(table: MutableMapping[bytes, Any], entity_id: str, written: Written,
          state: EntityEngineState) -> Written:
    """Write what changed since ``written``: new parts, core, head, then tombstones."""
    steps = plan(written, state)
    for suffix, value in steps.writes:
        table[key_of(entity_id, suffix)] = encode(suffix, value)
    for suffix in steps.deletes:
        key = key_of(entity_id, suffix)
        if key in table:
            del table[key]
    return steps.written


def is_open(table: MutableMapping[bytes, Any], key: bytes, raw: Any) -> bool:
    """Is this table entry an entity head whose latest incident is open (cheap)?"""
    if not isinstance(key, bytes) or _SEP in key or not raw:
        return False
    value = decode(raw)
    if is_head(value):
        entity_id = key.decode("utf-8")
        return incident_status(value, lambda s: _part(table, entity_id, s)) == "open"
    incident = ((value.get("engine") or {}).get("incident") or {}).get("incident") or {}
    return incident.get("status") == "open"


def _part(table: MutableMapping[bytes, Any], entity_id: str, suffix: str) -> Any:
    raw = table.get(key_of(entity_id, suffix))
    return None if raw is None else decode(raw)


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
