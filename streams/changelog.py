"""A faust table whose changelog writes an agent can wait for before its batch is acked.

faust-streaming 0.15.3 sends a table write to the changelog topic through the
producer's buffer (``Table.on_key_set`` -> ``send_changelog`` -> ``send_soon``)
and drops the future. Before committing source offsets, the consumer flushes
the producer, but ``ProducerBuffer.flush`` (faust/transport/producer.py,
``flush_atmost``) gives up as soon as 0.1 s pass without a buffered message
going out. On a busy machine that happens, the offsets are committed while the
state that counted those messages is still in the buffer, and a crash at that
moment loses the state for good: the messages are not handed out again. We saw
it on the real broker: after two crashes within 20 s of start the changelog was
still empty, the observations committed, and a storm later in the stream raised
no alert because the baseline had never been warmed up.

:class:`DurableTable` keeps the future of every write; :meth:`DurableTable.written`
waits for them, so the detect agent acks a batch only once Kafka holds its state
(written for a second's batches at once: streams/app.py, ``flush_states``).
Deletes (tombstones) are kept the same way.

An entity's state is several records (streams/statestore.py): the head under the entity
id, its parts under ``id + b"\\x00" + suffix``. Every record of an entity goes to the
partition of its id, the partition of the entity's observations, so that a worker
recovering that partition recovers all of them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.partitioner import murmur2
from faust import Table
from faust.types import FutureMessage

__all__ = ["DurableTable"]


class DurableTable(Table):
    """``faust.Table`` plus :meth:`written`; create it with ``app.tables.add(...)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unconfirmed: list[FutureMessage] = []

    def partition_for_key(self, key: Any) -> int | None:
        """The partition of the entity the key belongs to (its part before a NUL)."""
        if isinstance(key, bytes) and self.use_partitioner:
            entity = key.split(b"\x00", 1)[0]
            partitions = self.partitions or self.app.conf.topic_partitions
            return (murmur2(entity) & 0x7FFFFFFF) % partitions
        return super().partition_for_key(key)

    def on_key_set(self, key: Any, value: Any) -> None:
        # faust's own on_key_set (faust/tables/table.py), keeping the future.
        fut = self.send_changelog(self.partition_for_key(key), key, value)
        partition = fut.message.partition
        assert partition is not None  # eager partitioning sets it
        self._maybe_set_key_ttl(key, partition)
        self._sensor_on_set(self, key, value)
        self._unconfirmed.append(fut)

    def on_key_del(self, key: Any) -> None:
        # faust's own on_key_del, keeping the future of the tombstone.
        fut = self.send_changelog(self.partition_for_key(key), key, value=None,
                                  value_serializer="raw")
        partition = fut.message.partition
        assert partition is not None
        self._maybe_del_key_ttl(key, partition)
        self._sensor_on_del(self, key)
        self._unconfirmed.append(fut)

    async def written(self) -> None:
        """Return once every write so far is on the changelog topic (or raise why not)."""
        futures, self._unconfirmed = self._unconfirmed, []
        if futures:
            await asyncio.gather(*futures)
