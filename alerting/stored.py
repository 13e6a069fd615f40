"""An entity's engine state as several changelog records, so a batch writes only what changed.

Written whole, an entity's state (an hour of closed minute buckets with their sample
texts, a day of coarse buckets, the timeline, the observations waiting) went to the
changelog after every batch: 3 to 5 times the bytes of the input topic. Here the
state is cut into records under the entity's key and ``key + "\\x00" + suffix``:

- the **head** (``""``): event-time clock, released mark, offsets seen, which core
  slot is current, the list of pending chunks. Small; written each batch that touches
  the entity.
- the **core** (``k0`` or ``k1``): the detector state without its ring and coarse
  buckets and its seasonal profile (baseline level and counts, open bucket, short sums,
  horizon sums and tails), the incident
  state without its timeline points, and which buckets, texts, coarse buckets and points
  make up the state. Written when it changes (a minute closes, a late mention, an
  ack), into the slot the head does not name; the head is written after it, so a crash
  between the two leaves the old core intact.
- **immutable parts**, each written once and deleted (a tombstone) once the state no
  longer holds it: a closed minute bucket without its texts (``m<start>``), with the
  timeline point its close made (which leaves the look-back long before the bucket
  leaves the hour: read while the core names it, then ignored), its sample texts
  (``t<start>``, deleted when the bucket passes the evidence horizon), a coarse
  bucket (``c<start>``), a timeline point no bucket holds (``r<at>``), one slot of the
  baseline's seasonal profile (``s<slot>.<count>``: a slot learns once a minute, and its
  count goes up when it does; the slot learning now is kept in the core instead, and
  gets its record when the next slot takes over), and the latest incident's evidence
  (``e<opened_at>.<seq>``: it changes only when the incident emits an event, and the
  core, rewritten every minute, would otherwise carry its sample posts each time).
- **pending chunks** (``p<n>``): the observations that arrived since the last write,
  in arrival order. A chunk whose observations are all released is deleted; one
  partly released is written again as a new chunk in its place.

A batch writes new parts first, then the core, then the head, then the tombstones:
every prefix of that sequence on Kafka loads as either the old state or the new one.
:func:`plan` is pure: it compares the new state with what is already written
(:class:`Written`) and returns the records to write and the keys to delete.

>>> from models.detector import EntityState
>>> from alerting.lifecycle import IncidentState
>>> state = EntityEngineState(EntityState(), IncidentState(), seen=((0, 41),))
>>> first = plan(NOTHING, state)
>>> [suffix for suffix, _ in first.writes if not suffix.startswith("s")]  # s: the profile
['k0', '']
>>> records = dict(first.writes)
>>> load(records[""], records.get)[0] == state
True
>>> plan(first.written, state).writes  # nothing changed: nothing written
[]
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

from alerting.engine import EntityEngineState
from alerting.errors import FirestormAlertError
from alerting.event import evidence_to_dict
from alerting.lifecycle import IncidentState
from alerting.timeline import TimelinePoint
from models.detector import EntityState
from models.horizon import Coarse
from models.observation import Observation
from models.progress import EventClock
from models.verdict import Evidence
from models.window import Bucket, Post

__all__ = ["FORMAT", "NOTHING", "SEP", "Plan", "StoredStateError", "Written", "incident_status",
           "is_head", "load", "plan", "split_key"]

FORMAT = 3  # the head's "stored": 1 and 2 were the whole state under "engine"
SEP = "\x00"  # between the entity id and a part's suffix in a table key
_OBS_FIELDS = ("entity_id", "mention_id", "ts", "platform", "author", "text", "followers",
               "negativity", "others", "reshare_of", "lang", "markers", "url")


class StoredStateError(FirestormAlertError):
    """The changelog's records of an entity do not make a state (a part is missing)."""


class Written(NamedTuple):
    """What is on the changelog for one entity, as :func:`plan` needs to know it."""

    head: dict[str, Any] | None = None
    core: dict[str, Any] | None = None
    parts: dict[str, Any] = {}  # noqa: RUF012 (never mutated) suffix -> the part's object
    chunks: tuple[tuple[int, tuple[Observation, ...]], ...] = ()  # pending, in order
    next_chunk: int = 0


NOTHING = Written()
_NO_EVIDENCE = Evidence()


class Plan(NamedTuple):
    """Records to write (suffix, JSON value) in this order, then suffixes to delete."""

    writes: list[tuple[str, Any]]
    deletes: list[str]
    written: Written


def split_key(key: str) -> tuple[str, str]:
    """(entity id, suffix) of a table key; the head's suffix is ``""``.

    >>> split_key("acme"), split_key("acme\\x00m60.0")
    (('acme', ''), ('acme', 'm60.0'))
    """
    entity, _, suffix = key.partition(SEP)
    return entity, suffix


def is_head(value: Any) -> bool:
    """Is a table value a head of this format (not a part, not a whole old state)?"""
    return isinstance(value, dict) and value.get("stored") == FORMAT


def plan(written: Written, state: EntityEngineState) -> Plan:
    """The records that bring the changelog from ``written`` to ``state``."""
    writes: list[tuple[str, Any]] = []
    parts: dict[str, Any] = {}
    old = written.parts
    det, incident = state.detector, state.incident

    def keep(suffix: str, obj: Any, same: Callable[[Any, Any], bool],
             encode: Callable[[Any], Any]) -> None:
        before = old.get(suffix)
        if before is None or (before is not obj and not same(before, obj)):
            writes.append((suffix, encode(obj)))
        parts[suffix] = obj

    ring = _keyed([b.start for b in det.ring])
    recent = _keyed([p.at for p in incident.recent])
    texts = [b.start for b in det.ring if b.texts] if ring is not None else []
    # A minute's timeline point rides in its bucket's record: both are made when the
    # minute closes, and the point leaves the look-back long before the bucket leaves
    # the hour. (Two records and two tombstones a minute become one and one.)
    points = _points_by_bucket(det.ring, incident.recent) if (
        ring is not None and recent is not None) else {}
    if ring is not None:
        for bucket in det.ring:
            keep(f"m{bucket.start!r}", _Minute(bucket, points.get(bucket.start)),
                 _same_minute, _minute_value)
            if bucket.texts:
                keep(f"t{bucket.start!r}", bucket.texts, _eq, _texts_value)
    coarse = _keyed([c.start for c in det.horizon.coarse])
    if coarse is not None:
        for c in det.horizon.coarse:
            keep(f"c{c.start!r}", c, _eq, Coarse.to_list)
    if recent is not None:
        carried = {id(p) for p in points.values()}
        for point in incident.recent:
            if id(point) not in carried:
                keep(f"r{point.at!r}", point, _eq, TimelinePoint.to_dict)

    base = det.baseline
    hot = _hot_slot(written, old, base.profile, base.seen)
    for i, (value, seen) in enumerate(zip(base.profile, base.seen, strict=True)):
        # One slot learns per minute, and its count goes up when it does: the count names
        # the version. (Past 10**6, or after a seed, a key may be written again in place.)
        # The slot learning now rides in the core, which a closed minute rewrites anyway:
        # its record is written once the next slot starts to learn (once an hour).
        if i != hot:
            keep(f"s{i}.{seen}", (value, seen), _eq, list)

    latest = incident.incident
    evidence = None
    if latest is not None:
        # Keyed by the event that set it: a part is written once, never in place.
        evidence = f"e{latest.opened_at!r}.{latest.seq}"
        keep(evidence, latest.evidence, _eq, evidence_to_dict)
        incident = replace(incident, incident=replace(latest, evidence=_NO_EVIDENCE))

    chunks, next_chunk, pending_writes = _chunks(written, state.pending)
    writes += pending_writes

    core_detector = det._replace(baseline=base._replace(profile=()),
                                 ring=() if ring is not None else det.ring,
                                 horizon=det.horizon._replace(coarse=()) if coarse is not None
                                 else det.horizon)
    core = {"detector": core_detector.to_dict(),
            "incident": replace(incident, recent=() if recent is not None
                                else incident.recent).to_dict(),
            "ring": None if ring is None else ring, "texts": _spans(texts),
            "coarse": None if coarse is None else coarse,
            "recent": None if recent is None else recent, "slots": True}
    if evidence is not None:
        core["evidence"] = evidence
    if hot is not None:
        core["slot"] = [hot, base.profile[hot], base.seen[hot]]
    slot = written.head["core"] if written.head is not None else 1
    if core != written.core:
        slot = 1 - slot
        writes.append((f"k{slot}", core))
    head = {"stored": FORMAT, "clock": state.clock.to_dict(),
            "released": None if state.released == -math.inf else state.released,
            "seen": [list(s) for s in state.seen], "core": slot,
            "pending": [[i, len(obs)] for i, obs in chunks], "next": next_chunk}
    if head != written.head or writes:
        writes.append(("", head))
    deletes = [s for s in old if s not in parts]
    deletes += [f"p{i}" for i, _ in written.chunks if i not in {j for j, _ in chunks}]
    return Plan(writes, deletes, Written(head, core, parts, chunks, next_chunk))


def load(head: dict[str, Any], get: Callable[[str], Any]) -> tuple[EntityEngineState, Written]:
    """The state whose head is ``head``; ``get(suffix)`` reads a part (None if absent)."""

    def need(suffix: str) -> Any:
        value = get(suffix)
        if value is None:
            raise StoredStateError(
                f"the changelog holds the head of an entity state but not its part {suffix!r}"
                " (docs/operations.md, 'The state changelog')")
        return value

    core = need(f"k{head['core']}")
    detector = EntityState.from_dict(core["detector"])
    parts: dict[str, Any] = {}
    if core.get("slots"):
        base = detector.baseline
        hot = core.get("slot")
        slots = []
        for i, n in enumerate(base.seen):
            if hot is not None and i == hot[0]:
                slots.append((float(hot[1]), n))
            else:
                slots.append((float(need(f"s{i}.{n}")[0]), n))
                parts[f"s{i}.{n}"] = slots[-1]
        detector = detector._replace(baseline=base._replace(profile=tuple(v for v, _ in slots)))
    carried: dict[float, TimelinePoint] = {}
    if core["ring"] is not None:
        with_texts = set(_unspan(core["texts"]))
        ring = []
        for start in _unspan(core["ring"]):
            data = need(f"m{start!r}")
            texts = need(f"t{start!r}") if start in with_texts else []
            bucket = Bucket.from_dict({**data, "texts": texts})
            point = data.get("point")
            minute = _Minute(bucket, None if point is None else TimelinePoint.from_dict(point))
            if minute.point is not None:
                carried[minute.point.at] = minute.point
            parts[f"m{start!r}"] = minute
            if bucket.texts:
                parts[f"t{start!r}"] = bucket.texts
            ring.append(bucket)
        detector = detector._replace(ring=tuple(ring))
    if core["coarse"] is not None:
        coarse = tuple(Coarse.from_list(need(f"c{s!r}")) for s in _unspan(core["coarse"]))
        parts.update((f"c{c.start!r}", c) for c in coarse)
        detector = detector._replace(horizon=detector.horizon._replace(coarse=coarse))
    incident = IncidentState.from_dict(core["incident"])
    if core.get("evidence") is not None and incident.incident is not None:
        evidence = Evidence.from_dict(need(core["evidence"]))
        parts[core["evidence"]] = evidence
        incident = replace(incident, incident=replace(incident.incident, evidence=evidence))
    if core["recent"] is not None:
        recent = tuple(carried[a] if a in carried else TimelinePoint.from_dict(need(f"r{a!r}"))
                       for a in _unspan(core["recent"]))
        parts.update((f"r{p.at!r}", p) for p in recent if carried.get(p.at) is not p)
        incident = replace(incident, recent=recent)
    chunks = []
    for i, n in head["pending"]:
        obs = tuple(Observation.from_dict(dict(zip(_OBS_FIELDS, o, strict=True)))
                    for o in need(f"p{i}"))
        if len(obs) != n:
            raise StoredStateError(f"pending chunk p{i} holds {len(obs)} observations, the"
                                   f" head says {n}")
        chunks.append((int(i), obs))
    released = head["released"]
    state = EntityEngineState(
        detector, incident, EventClock.from_dict(head["clock"]),
        -math.inf if released is None else float(released),
        tuple(o for _, obs in chunks for o in obs),
        tuple((int(p), int(o)) for p, o in head["seen"]))
    return state, Written(head, core, parts, tuple(chunks), int(head["next"]))


def incident_status(head: dict[str, Any], get: Callable[[str], Any]) -> str | None:
    """The status of the entity's latest incident, reading only the current core."""
    core = get(f"k{head['core']}") or {}
    return ((core.get("incident") or {}).get("incident") or {}).get("status")


def _chunks(written: Written, pending: tuple[Observation, ...]
            ) -> tuple[tuple[tuple[int, tuple[Observation, ...]], ...], int,
                       list[tuple[str, Any]]]:
    """Pending observations as chunks: kept whole, rewritten where partly released, and
    one new chunk for what arrived since. Concatenated they are ``pending``, in order."""
    chunks, writes, at, nxt = [], [], 0, written.next_chunk
    for i, obs in written.chunks:
        kept = []
        for o in obs:
            if at < len(pending) and (pending[at] is o or pending[at] == o):
                kept.append(pending[at])
                at += 1
        if len(kept) == len(obs):
            chunks.append((i, obs))
        elif kept:
            chunks.append((nxt, tuple(kept)))
            writes.append((f"p{nxt}", [_obs_value(o) for o in kept]))
            nxt += 1
    if at < len(pending):
        chunks.append((nxt, pending[at:]))
        writes.append((f"p{nxt}", [_obs_value(o) for o in pending[at:]]))
        nxt += 1
    return tuple(chunks), nxt, writes


def _keyed(keys: Sequence[float]) -> list[list[float]] | None:
    """The keys as spans when they name distinct parts; None (store inline) if not."""
    return _spans(keys) if len(set(keys)) == len(keys) else None


def _spans(values: Iterable[float]) -> list[list[float]]:
    """Runs of an arithmetic progression as [first, step, count]: an hour of minute
    starts is one run. Exact: a value joins a run only if first + i * step equals it.

    >>> _spans([60.0, 120.0, 180.0, 300.0]), _unspan(_spans([60.0, 120.0, 180.0, 300.0]))
    ([[60.0, 60.0, 3], [300.0, 0.0, 1]], [60.0, 120.0, 180.0, 300.0])
    """
    runs: list[list[float]] = []
    for v in values:
        if runs:
            first, step, n = runs[-1]
            if n == 1 and v != first and first + (v - first) == v:
                runs[-1] = [first, v - first, 2]
                continue
            if n > 1 and first + n * step == v:
                runs[-1][2] = n + 1
                continue
        runs.append([v, 0.0, 1])
    return runs


def _unspan(runs: Iterable[Sequence[float]]) -> list[float]:
    return [float(first + i * step) for first, step, n in runs for i in range(int(n))]


def _eq(a: Any, b: Any) -> bool:
    return bool(a == b)


def _hot_slot(written: Written, old: dict[str, Any], profile: Sequence[float],
              seen: Sequence[int]) -> int | None:
    """The profile slot to keep in the core: the one slot learning since the last write
    (or the one kept there, if none has learned since); None when several have (a batch
    across the hour's boundary, or the first write), which then all get records."""
    if written.core is None:
        return None
    kept = written.core.get("slot")
    changed = []
    for i, (value, count) in enumerate(zip(profile, seen, strict=True)):
        if kept is not None and kept[0] == i and kept[1] == value and kept[2] == count:
            continue
        if old.get(f"s{i}.{count}") != (value, count):
            changed.append(i)
            if len(changed) > 1:
                return None
    if changed:
        return changed[0]
    return None if kept is None else int(kept[0])


class _Minute(NamedTuple):
    """What a minute bucket's record holds: the bucket without its texts, and the
    timeline point of the minute it closed, while the incident's look-back holds it."""

    bucket: Bucket
    point: TimelinePoint | None


def _points_by_bucket(ring: Sequence[Bucket], recent: Iterable[TimelinePoint]
                      ) -> dict[float, TimelinePoint]:
    """Each point under the start of the ring bucket whose close made it: the latest
    bucket that starts before the point's time (a verdict is at its bucket's end)."""
    starts = [b.start for b in ring]
    out: dict[float, TimelinePoint] = {}
    for point in recent:
        i = bisect_left(starts, point.at) - 1
        if i >= 0 and starts[i] not in out and (i + 1 == len(starts) or starts[i + 1] >= point.at):
            out[starts[i]] = point
    return out


def _same_minute(written: _Minute, now: _Minute) -> bool:
    """The record stands as written: the same bucket, and the same point or none now
    (a point that has left the look-back stays in its record, unread)."""
    return ((written.bucket is now.bucket or written.bucket.stripped() == now.bucket.stripped())
            and (now.point is None or written.point is now.point or written.point == now.point))


def _minute_value(minute: _Minute) -> dict[str, Any]:
    value = minute.bucket.stripped().to_dict()
    del value["texts"]
    if minute.point is not None:
        value["point"] = minute.point.to_dict()
    return value


def _texts_value(texts: tuple[Post, ...]) -> list[list[Any]]:
    return [list(p) for p in texts]


def _obs_value(o: Observation) -> list[Any]:
    return list(o.to_dict().values())
