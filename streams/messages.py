"""The messages between the intake and detect agents, on the observations topic.

One codec for the wire format: the agents, ``firestorm ack`` and the tests encode
and decode here and nowhere else. A message is a JSON object keyed by entity:

==============  ===============================================================
observation     the :class:`~models.observation.Observation` fields, and
                ``source: [partition, offset]`` of the mention it came from
progress        ``{"progress": mark|null, "entity_id", "partition", "partitions",
                "idle"}`` (:class:`~models.progress.Progress`)
tick            ``{"tick": ts, "entity_id"}``: close every minute before ``ts``
                (sent by workers before event-time progress; still understood)
ack             ``{"ack": incident_id, "entity_id", "by", "ts"}``
seed            ``{"seed": learned detector state, "entity_id"}``
                (:class:`~alerting.engine.Seed`, sent by ``firestorm backfill``)
batch           ``{"batch": [message, ...], "entity_id"}``: several of the above
                for one entity, in order (what the intake agent sends: one message
                per entity per batch of mentions, :func:`batches`)
==============  ===============================================================

The intake agent used to send one message per observation; the detect agent then paid
Faust's and aiokafka's per-message cost (a send, a fetch, an event) twice per mention.
A batch carries an entity's items of one intake batch in one message. Single messages
are still read (``firestorm ack`` and ``firestorm backfill`` send them, and a topic
written before batches holds them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from alerting.ack import Ack
from alerting.engine import Seed, Source
from models.observation import Observation, Tick
from models.progress import Progress

__all__ = ["BATCH_BYTES", "Envelope", "Item", "MessageError", "batches", "decode", "decode_all",
           "detect_take", "encode", "encode_bytes"]

Item = Observation | Progress | Tick | Ack | Seed


# At most this many bytes in one batch message (its JSON, as Kafka carries it): well
# under the 1 MB a topic takes by default.
BATCH_BYTES = 256 * 1024


class MessageError(ValueError):
    """A message on the observations topic is not one of the five kinds."""


class Envelope(NamedTuple):
    """One decoded message: the item, and for an observation where its mention was read."""

    item: Item
    source: Source | None = None


def encode(item: Item, source: Source | None = None) -> dict[str, Any]:
    """The JSON object for ``item`` (Faust's json serializer writes it).

    >>> from models.progress import Progress
    >>> encode(Progress("acme", 1, 6, 120.0))
    {'progress': 120.0, 'entity_id': 'acme', 'partition': 1, 'partitions': 6, 'idle': False}
    >>> decode(encode(Progress("acme", 1, 6, 120.0))).item
    Progress(entity_id='acme', partition=1, partitions=6, mark=120.0, idle=False)
    """
    if isinstance(item, Observation):
        value = item.to_dict()
        if source is not None:
            value["source"] = [source.partition, source.offset]
        return value
    return item.to_dict()


def encode_bytes(item: Item, source: Source | None = None) -> bytes:
    """``encode`` as UTF-8 JSON bytes, for clients that send raw values (kafka-python)."""
    return json.dumps(encode(item, source), ensure_ascii=False).encode("utf-8")


def decode(value: Mapping[str, Any] | bytes) -> Envelope:
    """The item a message carries; MessageError says what is wrong with a bad one."""
    if isinstance(value, bytes | bytearray):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise MessageError(f"not JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise MessageError(f"not a JSON object: {type(value).__name__}")
    try:
        if "progress" in value:
            return Envelope(Progress.from_dict(dict(value)))
        if "tick" in value:
            return Envelope(Tick(str(value["entity_id"]), float(value["tick"])))
        if "ack" in value:
            return Envelope(Ack.from_dict(dict(value)))
        if "seed" in value:
            return Envelope(Seed.from_dict(dict(value)))
        fields = {k: v for k, v in value.items() if k != "source"}
        source = value.get("source")
        return Envelope(Observation.from_dict(fields),
                        Source(int(source[0]), int(source[1])) if source else None)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise MessageError(f"{type(exc).__name__}: {exc}") from None


def decode_all(value: Mapping[str, Any] | bytes) -> list[Envelope]:
    """The items a message carries, in order: a batch's, or the one of a single message.

    >>> from models.progress import Progress
    >>> o = Observation("acme", "m1", 60.0, "x", "anon:1", "acme", 10, 0.2)
    >>> [batch] = batches([(o, Source(0, 7)), (Progress("acme", 0, 1, 60.0), None)])
    >>> [type(e.item).__name__ for e in decode_all(batch)], decode_all(batch)[0].source
    (['Observation', 'Progress'], Source(partition=0, offset=7))
    >>> decode_all(encode(o))[0].item == o
    True
    """
    if isinstance(value, bytes | bytearray):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise MessageError(f"not JSON: {exc}") from None
    if isinstance(value, Mapping) and "batch" in value:
        items = value["batch"]
        if not isinstance(items, list):
            raise MessageError(f"batch: not a list but {type(items).__name__}")
        return [decode(item) for item in items]
    return [decode(value)]


def batches(pairs: Iterable[tuple[Item, Source | None]],
            limit: int = BATCH_BYTES) -> Iterator[bytes]:
    """Batch messages of one entity's ``(item, source)`` pairs, in order, as the bytes Kafka
    carries: the JSON of ``{"entity_id", "batch": [item, ...]}`` exactly as Faust's json
    serializer writes it (ASCII), each at most ``limit`` bytes (an item over the limit
    alone goes in a batch of its own). Each item is written once, and a message is those
    writes joined, so its size is known exactly, without a bound to estimate.

    >>> o = Observation("acme", "m1", 60.0, "x", "anon:1", "acme", 10, 0.2)
    >>> [wire] = batches([(o, None)])
    >>> wire == json.dumps({"entity_id": "acme", "batch": [encode(o)]}).encode()
    True
    """
    parts: list[bytes] = []
    size, head = 0, b""
    for item, source in pairs:
        part = _json(encode(item, source))
        if not head:
            head = b'{"entity_id": ' + _json(item.entity_id) + b', "batch": ['
        if parts and size + 2 + len(part) > limit:  # its ", " and itself
            yield head + b", ".join(parts) + b"]}"
            parts, size = [], 0
        parts.append(part)
        # The message's exact length: the head, the parts, a ", " between two, the "]}".
        size = size + 2 + len(part) if size else len(head) + len(part) + 2
    if parts:
        yield head + b", ".join(parts) + b"]}"


def _json(value: Any) -> bytes:
    """``value`` as Faust's json serializer writes it: ASCII JSON, default separators."""
    return json.dumps(value).encode("ascii")


def detect_take(batch_size: int, entities: int) -> int:
    """How many messages the detect agent takes at a time: about one intake batch's
    items, as when each message was one item. An intake batch of ``batch_size``
    mentions makes at most one batch message per entity it touched. Taking
    ``batch_size`` messages instead let a loaded worker's detect batches grow to
    hundreds of intake batches, each batch's alerts waiting for all of it (measured:
    1.8 s a batch, p99 alert latency 26 s against 7 s).

    >>> detect_take(500, 8), detect_take(500, 1000), detect_take(500, 0)
    (8, 500, 1)
    """
    return max(1, min(batch_size, entities))
