"""The Faust application: topics, the engine table and two thin agents.

``intake`` reads raw mentions, routes rejects to the dead-letter topic (original
bytes, reason in headers) and forwards observations and ticks keyed by entity;
``detect`` runs on the entity's partition, where that entity's engine state
lives in a changelog-backed table, and publishes alert events. Neither agent
holds detection logic: that is :mod:`models` and :mod:`alerting`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import faust

from alerting.ack import Ack, AckAnswer
from alerting.audit import AuditEntry
from alerting.engine import Engine, EntityEngineState
from alerting.errors import FirestormAlertError
from alerting.lifecycle import Emit
from models.intake import Intake
from models.observation import Observation, Tick
from streams import flowfix
from streams.liveness import Pulse, active_filter, consumer_lag, open_states
from streams.offsets import OffsetWatch
from streams.settings import Settings

__all__ = ["Counters", "build_app"]

log = logging.getLogger("firestorm.worker")

Deliver = Callable[[Emit], object]
Answer = Callable[[AckAnswer, AuditEntry], object]


@dataclass(slots=True)
class Counters:
    """What ops watch: ``received == accepted + dead`` at every batch boundary."""

    received: int = 0
    accepted: int = 0
    dead: int = 0
    observations: int = 0
    forwarded: int = 0  # observations and ticks sent on to the detect agent
    judged: int = 0  # observations and ticks the detect agent has stepped
    redelivered: int = 0  # items seen again after a restart and skipped (already in state)
    alerts: int = 0
    acks: int = 0  # acknowledgements answered (recorded or refused)


def build_app(settings: Settings, intake: Intake, engine: Engine, deliver: Deliver,
              flush: Callable[[], object],
              answer: Answer | None = None,
              pulse: Pulse | None = None) -> tuple[faust.App, Counters]:
    """A Faust app wired to the pure pipeline.

    ``deliver(emit)`` hands alert events and timeline points to the durable
    outbox; ``flush()`` retries what is queued; ``answer(ack_answer,
    audit_entry)`` tells whoever sent an ack what became of it; ``pulse``
    writes the heartbeat and republishes open incidents (:mod:`streams.liveness`).
    """
    flowfix.apply()  # else events that arrive while the worker starts can be dropped
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",  # tables are rebuilt from their Kafka changelog on start
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        web_host=settings.web_host,
        web_port=settings.web_port,
        datadir=settings.data_dir,
        key_serializer="raw",
        value_serializer="json",
    )
    mentions = app.topic(settings.topic_mentions, key_serializer="raw", value_serializer="raw")
    dead = app.topic(settings.topic_dead, key_serializer="raw", value_serializer="raw")
    observations = app.topic(settings.topic_observations, key_type=str,
                             key_serializer="raw", value_serializer="json")
    # Keys come back from the changelog as bytes; key_type=str decodes them on recovery.
    # Written once per batch, outside any one event's context: use_partitioner sends
    # each entry to its key's partition, the partition the entity's observations use.
    states = app.Table("engine-state", default=None, partitions=settings.partitions,
                       key_type=str, use_partitioner=True)
    counters = Counters()
    watch = OffsetWatch()

    @app.agent(mentions, concurrency=1)  # >1 can commit past an in-flight message (faust #606)
    async def intake_agent(stream: faust.StreamT) -> None:
        async for batch in stream.take_events(settings.batch_size, within=settings.batch_wait):
            for event in sorted(batch, key=lambda e: (e.message.partition, e.message.offset)):
                missing = watch.see(event.message.partition, event.message.offset)
                if missing:
                    log.error("intake offset gap topic=%s partition=%d missing=%d before=%d:"
                              " messages on Kafka that this worker was never handed",
                              event.message.topic, event.message.partition, missing,
                              event.message.offset)
            raws = [event.value for event in batch]
            if pulse is not None:
                pulse.took_in()
            result = intake.accept_many(raws, now=time.time())
            sent: list[Awaitable[Any]] = []
            for index, rejection in result.rejected:
                message = batch[index].message
                sent.append(await dead.send(value=rejection.raw, key=message.key, headers=[
                    ("firestorm-reason", rejection.reason.encode("utf-8")),
                    ("firestorm-source", f"{message.topic}/{message.partition}/"
                                         f"{message.offset}".encode()),
                ]))
            for item, origin in zip(result.items, result.origins, strict=True):
                value = item.to_dict()
                if origin >= 0:  # where the mention came from, to drop it if redelivered
                    message = batch[origin].message
                    value["source"] = [message.partition, message.offset]
                sent.append(await observations.send(
                    key=item.entity_id.encode("utf-8"), value=value))
            # Offsets are acked after this batch: wait until Kafka has every output.
            await asyncio.gather(*sent)
            counters.received += len(batch)
            counters.accepted += result.accepted
            counters.dead += len(result.rejected)
            counters.observations += len(result.observations)
            counters.forwarded += len(result.items)
            log.info("intake batch=%d accepted=%d dead=%d observations=%d untagged=%d",
                     len(batch), result.accepted, len(result.rejected),
                     len(result.observations), result.untagged)

    @app.agent(observations, concurrency=1)
    async def detect_agent(stream: faust.StreamT) -> None:
        loop = asyncio.get_running_loop()
        watched = {e.id for e in engine.watchlist.entities}
        async for batch in stream.take_events(settings.batch_size, within=settings.batch_wait):
            # State is read once and written once per entity per batch: an entity's
            # state is large during a storm, and every write goes to the changelog.
            touched: dict[str, tuple[EntityEngineState | None, dict[str, int]]] = {}
            deliveries: list[Emit] = []
            answers: list[tuple[AckAnswer, AuditEntry]] = []

            for event in batch:
                item = _decode_item(event.value)
                if isinstance(item, Ack):
                    # Every ack gets an answer, refusals included: the sender is waiting.
                    before, seen = _load(touched, states, item.entity_id) \
                        if item.entity_id in watched else (None, {})
                    after, emit, reply = engine.acknowledge(before, item)
                    if emit.events and after is not None:
                        touched[item.entity_id] = (after, seen)
                        deliveries.append(emit)
                    answers.append((reply, _audit(item, reply)))
                    counters.acks += 1
                    log.info("ack request=%s incident=%s via=%s outcome=%s", item.request_id,
                             item.incident_id, item.via, reply.outcome)
                    continue
                if item.entity_id not in watched:
                    log.warning("skipping entity=%s: no longer in the watchlist",
                                item.entity_id)
                    continue
                before, seen = _load(touched, states, item.entity_id)
                source = event.value.get("source")
                if source and source[1] <= seen.get(str(source[0]), -1):
                    # A mention redelivered after a restart (Kafka is at-least-once) and
                    # already counted: the state must count each mention once.
                    counters.redelivered += 1
                    continue
                after, emit = engine.step(before, item)
                if source:  # a partition of mentions is read in order: offsets only grow
                    seen = {**seen, str(source[0]): source[1]}
                touched[item.entity_id] = (after, seen)
                if emit.events or emit.points:
                    deliveries.append(emit)
                if pulse is not None:
                    pulse.judged(item.ts)
                for alert in emit.events:
                    counters.alerts += 1
                    log.info("alert entity=%s incident=%s event=%s severity=%s offset=%d",
                             alert.entity_id, alert.incident_id, alert.event,
                             alert.severity, event.message.offset)
                counters.judged += 1
            if deliveries:
                # Into the outbox before the batch is acked: a crash here redelivers the
                # batch, and the store's event-id dedupe drops the repeats.
                await loop.run_in_executor(None, _deliver_all, deliver, deliveries)
            if answers and answer is not None:
                # After delivery: "recorded" means the event is already on its way to Redis.
                await loop.run_in_executor(None, _answer_all, answer, answers)
            for entity_id, (after, seen) in touched.items():
                if after is not None:
                    states[entity_id] = {"engine": after.to_dict(), "seen": seen}

    @app.timer(interval=1.0)
    async def flush_outbox() -> None:
        # Events queued while Redis was away go out when it returns, new events or not.
        await asyncio.get_running_loop().run_in_executor(None, flush)

    if pulse is not None:
        @app.timer(interval=settings.heartbeat_seconds)
        async def heartbeat() -> None:
            # Which incidents are open is read here, on the loop that writes the table;
            # the Redis part runs in a thread. While the table recovers there is
            # nothing to republish from yet (None).
            recovery = app.tables.recovery
            recovering = app.rebalancing or recovery.in_recovery or not recovery.completed.is_set()
            held = None if recovering else open_states(
                states.items(), active_filter(app, settings.topic_observations,
                                              settings.partitions))
            lag = consumer_lag(app, (settings.topic_mentions, settings.topic_observations))
            await asyncio.get_running_loop().run_in_executor(None, pulse.beat, held, lag)

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        return web.json({"status": "ok", "received": counters.received,
                         "accepted": counters.accepted, "dead": counters.dead,
                         "observations": counters.observations,
                         "forwarded": counters.forwarded, "judged": counters.judged,
                         "redelivered": counters.redelivered,
                         "offset_gaps": watch.gaps, "offset_repeats": watch.repeats,
                         "alerts": counters.alerts, "acks": counters.acks})

    return app, counters


def _deliver_all(deliver: Deliver, deliveries: list[Emit]) -> None:
    for emit in deliveries:
        deliver(emit)


def _load(touched: dict[str, tuple[EntityEngineState | None, dict[str, int]]], states: Any,
          entity_id: str) -> tuple[EntityEngineState | None, dict[str, int]]:
    """The entity's state as this batch has it: read from the table once per batch."""
    if entity_id not in touched:
        stored = states.get(entity_id) or {}
        touched[entity_id] = (
            EntityEngineState.from_dict(stored["engine"]) if stored else None,
            stored.get("seen", {}))  # mentions partition -> last offset counted
    return touched[entity_id]


def _answer_all(answer: Answer, answers: list[tuple[AckAnswer, AuditEntry]]) -> None:
    for reply, entry in answers:
        try:
            answer(reply, entry)
        except FirestormAlertError as exc:  # Redis away: the sender times out and says so
            log.warning("ack answer not delivered request=%s outcome=%s error=%s",
                        reply.request_id, reply.outcome, exc)


def _audit(ack: Ack, reply: AckAnswer) -> AuditEntry:
    return AuditEntry(ack.ts, ack.incident_id, "acknowledge", ack.by, ack.via, ack.origin,
                      reply.outcome, reply.reason)


def _decode_item(value: dict[str, Any]) -> Observation | Tick | Ack:
    value = {k: v for k, v in value.items() if k != "source"}
    if "tick" in value:
        return Tick(value["entity_id"], float(value["tick"]))
    if "ack" in value:
        return Ack.from_dict(value)
    return Observation.from_dict(value)
