"""Fixes for message loss in faust-streaming's start-up and rebalances.

Four patches, all installed by :func:`apply`:

- resume must not clear live queues (below);
- seek to the committed offsets *before* the stream partitions resume, and a
  source partition the group never committed to its first offset (see
  ``_on_recovery_completed``);
- never commit an offset that was not acked: no "gap" is taken as processed,
  and no single missing offset at the head is stepped over (see ``_new_offset``);
- a fetch waiting while every partition is paused takes no records (see
  ``_fetch_records``).

The first one:

faust-streaming 0.15.3 (with mode-streaming 0.7.1) can lose messages that arrive
while a worker starts:

1. ``Recovery.on_recovery_completed`` (faust/tables/recovery.py) resumes the
   stream partitions and only then awaits ``Consumer.perform_seek()``. The
   fetcher is already running, so records fetched from the committed offset are
   handed to the agents' channel queues while the seek is in flight.
2. ``perform_seek`` resets each partition's read offset, but the drain loop
   (``Consumer._drain_messages``) goes on through the batch it holds and sets
   the read offset to the last record it delivered, so the same records
   fetched again after the seek are dropped ("DROPPED MESSAGE ROFF").
3. Then ``app.flow_control.resume()`` runs, and mode's
   ``FlowControlEvent.resume`` *always* clears every channel queue (they are
   made with ``clear_on_resume=True``), though flow was never suspended. The
   one or two events still queued at that instant are thrown away and never
   fetched again; faust's ``Consumer._new_offset`` then commits past a
   single missing offset (its head-gap check is ``> 1``, faust #606), so the
   message is lost for good.

Clearing on resume exists to drop what was queued before a rebalance, while
flow was suspended. Clearing when flow was not suspended drops live,
current-generation events, which nothing fetches again. :func:`apply` makes
``resume`` clear only when it ends a suspension. Without this, the restart
test loses a message in about 1 of 10 runs with 3 partitions (see
docs/operations-local.md).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from aiokafka.errors import ConsumerStoppedError
from faust.tables.recovery import Recovery
from faust.transport.consumer import Consumer, consecutive_numbers
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from mode.utils.queues import FlowControlEvent

__all__ = ["Only", "apply", "holes"]

log = logging.getLogger("firestorm.worker")


def _resume(self: FlowControlEvent) -> None:
    """Resume production into the queues; clear them only if flow was suspended."""
    was_suspended = not self.is_active()
    self._suspend.clear()
    self._resume.set()
    if was_suspended:
        self.clear()


async def _on_recovery_completed(self: Recovery, generation_id: int = 0) -> None:
    """faust's ``Recovery.on_recovery_completed``, seeking before it resumes partitions.

    faust resumes the stream partitions and then seeks them to their committed
    offsets. Flow is already on at that point (recovery turned it on to read the
    changelog), so the fetcher reads from the partitions while the seek is in
    flight. ``perform_seek`` then sets each partition's read offset back to the
    committed one, and the next record of the fetch under way, far past it, makes
    ``Consumer._drain_messages`` record a "gap" from the committed offset to that
    record: offsets faust then counts as acked and commits, processed or not. The
    copies fetched again after the seek are dropped as already read. Seen on the
    real broker: an observation partition committed 307 offsets ahead of what the
    agent had done; after a rebalance, a worker lost 300 observations of an entity
    (the scale-out test's extra incidents), and a run held a commit back for minutes
    (the poison test's stall). Seeking while the partitions are still paused leaves
    nothing in flight. The rest is faust-streaming 0.15.3's code, unchanged.
    """
    consumer = self.app.consumer
    self.log.info("Restore complete!")
    await self.app.on_rebalance_complete.send()
    self._set_recovery_ended()
    callback_coros = [
        asyncio.ensure_future(table.on_recovery_completed(
            self.actives_for_table[table], self.standbys_for_table[table]))
        for table in self.tables.values()
    ]
    if callback_coros:
        await asyncio.wait(callback_coros)
    assignment = consumer.assignment()
    if self.app.consumer_generation_id != generation_id:
        self.log.warning(f"Recovery rebalancing again app id "
                         f"{self.app.consumer_generation_id} param {generation_id}")
        return
    if assignment:
        self.log.info("Seek stream partitions to committed offsets (before resuming them).")
        await self._wait(consumer.perform_seek(),
                         timeout=self.app.conf.broker_request_timeout)
        await _seek_uncommitted_to_beginning(consumer, assignment)
    consumer.resume_partitions({tp for tp in assignment if not self._is_changelog_tp(tp)})
    self.completed.set()
    self.log.dev("Resume stream partitions")
    self.app.flow_control.resume()
    consumer.resume_flow()
    await cast(Any, self.app)._fetcher.maybe_start()
    self.tables.on_actives_ready()
    if not self.app.assignor.assigned_standbys():
        self.tables.on_standbys_ready()
    self.app.on_rebalance_end()
    self.log.info("Worker ready")


async def _seek_uncommitted_to_beginning(consumer: Any, assignment: Any) -> None:
    """A source partition the group has never committed starts at its first offset.

    ``perform_seek`` leaves such a partition wherever the client was, and the client
    may have read on from before the rebalance: seen on the real broker, a worker
    that kept an observation partition through a rebalance before its first commit
    was handed offset 484 next, and offsets 3 to 483 were never judged (the
    scale-out test's extra incidents). ``earliest`` is our reset policy anyway;
    copies of what was already handed are dropped downstream as redelivered.
    """
    tps = [tp for tp in assignment if tp.topic in _SOURCES
           and consumer._committed_offset.get(tp) is None]
    if not tps:
        return
    earliest = await consumer.earliest_offsets(*tps)
    await consumer.seek_wait({tp: earliest[tp] or 0 for tp in tps})
    for tp in tps:
        consumer._read_offset[tp] = None  # hand over whatever comes first
    log.info("uncommitted partitions %s read from their first offsets",
             ", ".join(f"{tp.topic}/{tp.partition}={earliest[tp] or 0}" for tp in sorted(tps)))


async def _add_gap(self: Consumer, tp: Any, offset_from: int, offset_to: int) -> None:
    """faust counts offsets it did not see between two records as processed (for
    compacted or transactional topics). Ours are neither: a jump means records were
    not handed over, and counting them as acked would commit them unprocessed. They
    stay unacked instead, so the commit waits (and /health says so) rather than skip."""
    log.warning("offsets %d to %d of %s/%d were not handed over in order; not counted as"
                " processed", offset_from, offset_to - 1, tp.topic, tp.partition)


def _new_offset(self: Consumer, tp: Any) -> int | None:
    """faust's ``Consumer._new_offset`` without its step over one missing offset.

    faust commits past the committed offset when the first acked offset is just one
    beyond it (its head check is ``> 1``, faust #606), so a single message handed
    over and never acked is committed unprocessed. Here the commit moves only over
    acked offsets that start at the committed one.
    """
    acked = self._acked[tp]
    if not acked:
        return None
    acked.sort()
    committed = self._committed_offset[tp]
    if committed is not None and acked[0] > committed:
        return None  # the next offset to commit is not acked yet
    batch = next(consecutive_numbers(acked))
    acked[: len(batch)] = []
    self._acked_index[tp].difference_update(batch)
    return batch[-1] + 1


class Only:
    """The partitions a fetch may take records from: faust's live set of active
    partitions, where an empty set means none (for aiokafka it means all).

    >>> live = {"obs/0"}
    >>> only = Only(live)
    >>> live.clear()  # faust pauses the last active partition while the fetch waits
    >>> bool(only), "obs/0" in only
    (True, False)
    """

    __slots__ = ("live",)

    def __init__(self, live: Any) -> None:
        self.live = live

    def __contains__(self, tp: object) -> bool:
        return tp in self.live

    def __bool__(self) -> bool:
        return True  # aiokafka's fetched_records takes a falsy set as "every partition"


async def _fetch_records(self: AIOKafkaConsumerThread, consumer: Any,
                         active_partitions: Any, timeout: float | None = None,
                         max_records: int | None = None) -> Any:
    """faust's ``AIOKafkaConsumerThread._fetch_records``, never taking records from
    every partition because the active set emptied while it waited.

    faust hands aiokafka's ``Fetcher.fetched_records`` its live set of active partitions,
    and that call waits up to a second for records, checking ``if partitions and tp not
    in partitions`` on each wake. At the end of recovery faust pauses the changelog
    partitions while the stream partitions are still paused: the set is empty, and
    aiokafka then drains *every* partition, moving their positions on. faust's
    ``Consumer.getmany`` drops those records (their partition is not active), and the
    seek to the committed offsets has already run, so they are never fetched again.
    Seen on the real broker: after a restart, 55 mentions produced during recovery
    (offsets 6635 to 6689) were taken and dropped right after the seek; the intake never
    saw them, and the commit stood still behind them (the 3-partition restart test's
    stall). With :class:`Only`, a paused partition is never drained; the rest is
    faust-streaming 0.15.3's code, unchanged.
    """
    if not self.consumer.flow_active:
        return {}
    fetcher = consumer._fetcher
    if consumer._closed or fetcher._closed:
        raise ConsumerStoppedError()
    with fetcher._subscriptions.fetch_context():
        return await fetcher.fetched_records(
            None if active_partitions is None else Only(active_partitions),
            timeout=timeout, max_records=max_records)


def holes(consumer: Consumer) -> set[tuple[str, int, int]]:
    """(topic, partition, offset) where the next offset to commit was never acked though
    later ones were: with :func:`_new_offset` the commit cannot move until a restart
    reads it again. A commit that stands still for another reason (the broker away) has
    no hole, and waits."""
    committed = getattr(consumer, "_committed_offset", {})
    found = set()
    for tp, acked in list(getattr(consumer, "_acked", {}).items()):
        upto = committed.get(tp)
        if acked and upto is not None and min(acked) > upto:
            found.add((tp.topic, tp.partition, upto))
    return found


_SOURCES: set[str] = set()  # the topics the agents read (apply's source_topics)


def apply(source_topics: tuple[str, ...] = ()) -> None:
    """Install the fixes (idempotent). Call before the Faust app starts, with the topics
    its agents read."""
    _SOURCES.update(source_topics)
    probe = FlowControlEvent(initially_suspended=True)
    if not all(hasattr(probe, name) for name in ("_suspend", "_resume", "clear")):
        raise RuntimeError("mode's FlowControlEvent changed shape: re-check streams/flowfix.py"
                           " against this mode-streaming version before running a worker")
    if FlowControlEvent.resume is not _resume:
        FlowControlEvent.resume = _resume  # type: ignore[method-assign]
    for cls, name, fix in ((Recovery, "on_recovery_completed", _on_recovery_completed),
                           (Consumer, "_add_gap", _add_gap),
                           (Consumer, "_new_offset", _new_offset),
                           (AIOKafkaConsumerThread, "_fetch_records", _fetch_records)):
        if not hasattr(cls, name):
            raise RuntimeError(f"faust's {cls.__name__}.{name} is gone: re-check"
                               " streams/flowfix.py against this faust-streaming version")
        setattr(cls, name, fix)
