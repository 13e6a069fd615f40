"""The engine table's records of an entity: read its state, write what changed.

The table (a Faust table backed by the ``engine-state`` changelog) holds each entity's
state as the records of :mod:`alerting.stored`: the head under the entity id, its parts
under ``entity id + "\\x00" + suffix``, every key as UTF-8 bytes. Values are bytes:
JSON compressed with zlib against a fixed dictionary of what the records repeat
(:data:`ZDICT`), one version byte first. Reading also takes the formats written
before: parts of version 1 and heads in plain JSON, and the whole state as
JSON under ``{"engine": ...}`` (keyed by the id, or by the id in JSON quotes before
0.2), which the next write replaces.
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
# Version 2: the skeletons of every record this module writes (head, core, evidence,
# kept posts, pending observations), the pseudonym prefix and the detector's reason
# phrases, then version 1's dictionary (zlib reaches the end of a dictionary in the
# fewest bits, so the most repeated words go last). Only the format's own words:
# nothing learned from any stream, so it compresses any department's records alike.
# Most records are a few hundred bytes, where zlib alone finds little to repeat.
ZDICT_V2 = (
    b' look coordinated (repeat accounts or near-identical texts; distinct authors)'
    b'calls to action in % of posts (#posts from accounts with \\u226550,000 followers'
    b' (largest @drags in linked : co-mentioned in % of posts hostile share % vs '
    b'% usual over  min (z=volume x expected over  h ( mentions vs , z=hostile '
    b'mentions  vs  expected over 15 min60 min'
    b'{"top_terms":[],"top_hashtags":[],"samples":[{"id":"","author":"anon:","text":"",'
    b'"followers":,"negativity":0.,"ts":,"url":null,"reshares":null}],"top_authors":[],'
    b'"linked":[],"coordinated_share":0.0,"centre":null,"high_reach":[]}'
    b'{"detector":{"v":2,"open":{"start":,"n":0,"records":[],"texts":[]},"baseline":'
    b'{"level":,"profile":[],"seen":[60,60,60,60,60,60,60,60,60,60,60,60,0,0,0,0,0,0,0,0,0,'
    b'0,0,0],"negatives":,"posts":,"n":},"ring":[],"dispersion":[,"streak":-,"totals":[[,'
    b'0],[,0],[,0]],"partial":[,0],"horizon":{"coarse":[],"long":[[,0],[,0],[,0]],'
    b'"dispersion":,"build":[0.0,null,[0,0,0.0,0,0.0,0],0.0],"tails":[[,0],[0.0,0.0,0.0,0,'
    b'0.0,0],[0.0,0.0,0.0,0,0.0,0]]},"recent":0},"incident":{"last_at":,"runs":[0,0,0],'
    b'"recent":[],"incident":{"id":"","entity_id":"","opened_at":,"severity":"warning",'
    b'"status":"open","seq":1,"notified_at":,"alerting_at":,"level_at":,"below_peak":0,'
    b'"peak":"warning","acknowledged_by":null,"acknowledged_at":null,"resolved_at":null,'
    b'"reasons":["'
    b'"],"evidence":{"top_terms":[],"top_hashtags":[],"samples":[],"top_authors":[],'
    b'"linked":[],"coordinated_share":0.0,"centre":null,"high_reach":[]},"figures":[,,0.,'
    b'0.,0.0,3600.0]}},"ring":[[,60.0,61]],"texts":[[,60.0,15]],"coarse":[[,900.0,97]],'
    b'"recent":[[,60.0,10]],"slots":true,"evidence":"e.1"}'
    b'{"stored":3,"clock":{"partitions":1,"marks":[[0,,false]]},"released":,"seen":[[0,]],'
    b'"core":0,"pending":[[,]],"next":}'
    b'[["","",,"","anon:","",,0.,[],null,"en",0,null],["","",,"","anon:","",,0.,[],null,'
    b'"en",0,null]]'
    b'[["","anon:","",,0.,null,0,,null],["","anon:","",,0.,null,0,,null]]'
    + ZDICT_V1)
ZDICT = ZDICT_V2
_V1 = b"\x01"
_V2 = b"\x02"
_SEP = SEP.encode()
_LEVEL = 6
# A 4 kB window (the dictionary and most records fit) and a small hash table: copying a
# compressor primed with the dictionary then costs less than priming a new one, which
# would hash the whole dictionary again for every record.
_PRIMED = zlib.compressobj(_LEVEL, zlib.DEFLATED, 12, 4, zdict=ZDICT_V2)


def encode(suffix: str, value: Any) -> bytes:
    """A record's value as stored: compressed (version 2), the head too (written every
    batch that touches the entity, it is the largest record at a live stream's pace).

    >>> decode(encode("m60.0", {"start": 60.0})), decode(encode("", {"stored": 3}))
    ({'start': 60.0}, {'stored': 3})
    """
    raw = json.dumps(value, separators=(",", ":")).encode("utf-8")
    z = _PRIMED.copy()
    return _V2 + z.compress(raw) + z.flush()


def decode(value: Any) -> Any:
    """A stored value back as JSON data: version 2 or 1, plain JSON (a head written
    before heads were compressed), or data already (written by a faust JSON serializer
    and read back as such)."""
    if not isinstance(value, bytes | bytearray):
        return value
    zdict = _DICTS.get(value[:1])
    if zdict is not None:
        z = zlib.decompressobj(zdict=zdict)
        value = z.decompress(value[1:]) + z.flush()
    return json.loads(value)


_DICTS = {_V1: ZDICT_V1, _V2: ZDICT_V2}


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
