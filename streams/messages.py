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
==============  ===============================================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from alerting.ack import Ack
from alerting.engine import Source
from models.observation import Observation, Tick
from models.progress import Progress

__all__ = ["Envelope", "Item", "MessageError", "decode", "encode", "encode_bytes"]

Item = Observation | Progress | Tick | Ack


class MessageError(ValueError):
    """A message on the observations topic is not one of the four kinds."""


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
        fields = {k: v for k, v in value.items() if k != "source"}
        source = value.get("source")
        return Envelope(Observation.from_dict(fields),
                        Source(int(source[0]), int(source[1])) if source else None)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise MessageError(f"{type(exc).__name__}: {exc}") from None
