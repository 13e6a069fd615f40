"""The worker's signs of life: a heartbeat every few seconds, and open incidents republished
when the store has lost them. The judgement of what a heartbeat means is
:mod:`alerting.liveness`; this module is the worker's side of it.

Every beat (a Faust timer, on the worker's event loop, so a stuck loop stops
beating):

1. the loop reads which entities of *its active partitions* hold an open
   incident (:func:`open_states`) and the consumer lag (:func:`consumer_lag`);
2. a thread does the Redis part (:meth:`Pulse.beat`): make sure the store's
   history marker exists (creating it says the history began now, and was
   *lost* if we hold open incidents); if it began since our last look (Redis
   restarted empty) or this is our first beat, republish every open incident
   ('restored' events at the front of the outbox: a store that still has them
   drops them by event id); once they are delivered, mark the history rebuilt;
   then write the heartbeat.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

from aiokafka.partitioner import murmur2

from alerting.delivery import DurableDelivery
from alerting.engine import Engine, EntityEngineState
from alerting.errors import AlertStoreError
from alerting.lifecycle import Emit
from alerting.liveness import Heartbeat
from alerting.store import AlertStore
from alerting.stored import SEP
from models.progress import Progress
from streams import statestore
from streams.statestore import Loaded

__all__ = ["Pulse", "consumer_lag", "event_time_of", "open_states", "worker_name"]

log = logging.getLogger("firestorm.worker")


def worker_name(app_id: str) -> str:
    """``app@host:pid``: a restarted worker is a new one, so its silence is its own."""
    return f"{app_id}@{socket.gethostname()}:{os.getpid()}"


class Pulse:
    """What the agents tell the heartbeat, and the heartbeat's Redis step."""

    def __init__(self, worker: str, store: AlertStore, delivery: DurableDelivery,
                 engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.worker, self.store, self.delivery, self.engine = worker, store, delivery, engine
        self._clock = clock
        self.event_time: float | None = None  # newest event time judged
        self.last_input_at: float | None = None  # wall clock a mention last came in
        self._since: float | None = None  # the history we last republished into
        self._restored: int | None = None  # republished, waiting to be marked rebuilt
        self._failing = False

    def took_in(self) -> None:
        self.last_input_at = self._clock()

    def judged(self, event_time: float | None) -> None:
        if event_time is not None and (self.event_time is None or event_time > self.event_time):
            self.event_time = event_time

    def beat(self, open_now: Mapping[str, EntityEngineState] | None,
             lag: int | None, engine: Engine | None = None) -> Heartbeat | None:
        """One heartbeat; ``open_now`` is None while the worker's state is still recovering
        (nothing to republish from yet); ``engine`` is the one in force (a watchlist
        reload replaces it). Blocking Redis I/O: run it off the event loop."""
        now = self._clock()
        if engine is not None:
            self.engine = engine
        try:
            if open_now is not None:
                self._keep_history(now, open_now)
            beat = Heartbeat(self.worker, now, self.event_time, self.last_input_at, lag,
                             len(open_now or {}), self.delivery.pending)
            self.store.beat(beat)
        except AlertStoreError as exc:
            if not self._failing:  # once per outage: the outbox already says Redis is down
                log.warning("heartbeat not written error=%s", exc)
            self._failing = True
            return None
        if self._failing:
            log.info("heartbeat written again")
        self._failing = False
        return beat

    def _keep_history(self, now: float, open_now: Mapping[str, EntityEngineState]) -> None:
        history, fresh = self.store.begin_history(now, holding_open=bool(open_now))
        if fresh or history.since != self._since:
            emit = Emit()
            # Oldest first, so stories form again in the order they first did.
            for entity_id, state in sorted(open_now.items(), key=lambda kv: _opened(kv[1])):
                emit = emit.then(self.engine.restore(entity_id, state))
            if fresh and open_now:
                log.warning("redis history lost (restarted empty?): republishing"
                            " open_incidents=%d", len(emit.events))
            self.delivery.restore(emit)
            self._since = history.since
            self._restored = len(emit.events)
        if self._restored is not None and not self.delivery.restoring:
            if history.rebuilding:
                self.store.history_rebuilt(now, self._restored)
                log.info("redis history rebuilt restored=%d", self._restored)
            self._restored = None


def event_time_of(item: Any) -> float | None:
    """How far event time has got by an item of the observations topic."""
    if isinstance(item, Progress):
        return item.mark
    return getattr(item, "ts", None)


def open_states(table: MutableMapping[bytes, Any], active: Callable[[str], bool],
                known: Mapping[str, tuple[object, Loaded]] | None = None
                ) -> dict[str, EntityEngineState]:
    """The engine states with an open incident, of the entities ``active`` says are ours.

    ``table`` is the engine table (streams/statestore.py: heads and their parts, keys
    as bytes). ``known`` maps an entity to the head value it last wrote or read and the
    state that head stands for (the detect agent's cache): where the table still holds
    that very head, the state is taken from it, with nothing decoded. For the rest
    only the status in each head's core is read, so a beat costs little even with
    thousands of entities.
    """
    out = {}
    known = known or {}
    for key, stored in list(table.items()):
        if not isinstance(key, bytes) or _SEP in key or not stored:
            continue  # a part: its head says whether it matters
        entity_id = key.decode("utf-8")
        cached = known.get(entity_id)
        if cached is not None and cached[0] is stored:
            state = cached[1].state
            if state is not None and state.incident.open_incident is not None and active(
                    entity_id):
                out[entity_id] = state
        elif statestore.is_open(table, key, stored) and active(entity_id):
            state = statestore.read(table, entity_id).state
            if state is not None:
                out[entity_id] = state
    return out


_SEP = SEP.encode()


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key`` (as the table's writes use).

    >>> partition_of("acme-stores", 1), partition_of("acme-stores", 3) in (0, 1, 2)
    (0, True)
    """
    return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % partitions


def active_filter(app: Any, topic: str, partitions: int) -> Callable[[str], bool]:
    """Is an entity on a partition this worker is active for (not a standby copy)?

    A standby copy may lag; republishing it could reopen an incident the active
    worker has since resolved.
    """
    if partitions == 1:
        return lambda entity_id: True
    mine = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic}
    return lambda entity_id: partition_of(entity_id, partitions) in mine


def consumer_lag(app: Any, topics: Iterable[str]) -> int | None:
    """Messages on the worker's assigned partitions of ``topics`` not yet read by its agents.

    Uses what the consumer has read (``_read_offset``) or committed, against the
    highwater it last fetched; None when Faust has no position yet.
    """
    names = set(topics)
    consumer = app.consumer
    total = 0
    try:
        for tp in consumer.assignment():
            if tp.topic not in names:
                continue
            read = consumer._read_offset.get(tp)
            committed = consumer._committed_offset.get(tp)
            position = max(read + 1 if read is not None else 0, committed or 0)
            total += max(0, consumer.highwater(tp) - position)
    except (AttributeError, KeyError, TypeError, AssertionError):
        return None  # not started, or rebalancing: unknown for this beat
    return total


def _opened(state: EntityEngineState) -> float:
    incident = state.incident.open_incident
    return incident.opened_at if incident is not None else 0.0
