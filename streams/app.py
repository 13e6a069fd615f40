"""The Faust application: topics, the engine table and two thin agents.

``intake`` reads raw mentions, routes rejects to the dead-letter topic (original
bytes, reason in headers) and forwards observations and ticks keyed by entity;
``detect`` runs on the entity's partition, where that entity's engine state
lives in a changelog-backed table, and publishes alert events. Neither agent
holds detection logic: that is :mod:`models` and :mod:`alerting`. Neither lets a
failure commit what it has not processed: :mod:`streams.failstop` stops the
worker instead, and dead-letters a message that keeps crashing it;
:mod:`streams.health` compares what was processed with what was committed.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import faust

from alerting.ack import Ack, AckAnswer
from alerting.audit import AuditEntry
from alerting.engine import Engine, EntityEngineState
from alerting.errors import FirestormAlertError
from alerting.event import AlertEvent
from alerting.lifecycle import IncidentState
from models.intake import Intake
from models.observation import Observation, Tick
from streams import flowfix
from streams.changelog import DurableTable
from streams.failstop import AttemptLedger, FailStop, Source, culprits
from streams.health import Health
from streams.settings import Settings

__all__ = ["Counters", "build_app"]

log = logging.getLogger("firestorm.worker")

Deliver = Callable[[list[AlertEvent], IncidentState], object]
Answer = Callable[[AckAnswer, AuditEntry], object]


@dataclass(slots=True)
class Counters:
    """What ops watch: ``received == accepted + dead`` at every batch boundary."""

    received: int = 0
    accepted: int = 0
    dead: int = 0
    repaired: int = 0  # accepted after lone surrogates or NULs were replaced (models.mention)
    poisoned: int = 0  # dead-lettered after crashing the worker FIRESTORM_MAX_ATTEMPTS times
    observations: int = 0
    forwarded: int = 0  # observations and ticks sent on to the detect agent
    judged: int = 0  # observations and ticks the detect agent has stepped
    redelivered: int = 0  # items seen again after a restart and skipped (already in state)
    alerts: int = 0
    acks: int = 0  # acknowledgements answered (recorded or refused)


def build_app(settings: Settings, intake: Intake, engine: Engine, deliver: Deliver,
              flush: Callable[[], object], answer: Answer | None = None, *,
              instance_id: str | None = None,
              failstop: FailStop | None = None) -> tuple[faust.App, Counters]:
    """A Faust app wired to the pure pipeline.

    ``deliver(events, incident_state)`` hands alert events (and the incident's
    timeline) to the durable outbox; ``flush()`` retries what is queued;
    ``answer(ack_answer, audit_entry)`` tells whoever sent an ack what became of it.
    ``instance_id`` makes the worker a static member of its consumer group, so a
    restart takes its partitions back at once (streams/membership.py).
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
        consumer_group_instance_id=instance_id,
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=min(3.0, settings.session_timeout / 3),
    )
    mentions = app.topic(settings.topic_mentions, key_serializer="raw", value_serializer="raw")
    dead = app.topic(settings.topic_dead, key_serializer="raw", value_serializer="raw")
    observations = app.topic(settings.topic_observations, key_type=str,
                             key_serializer="raw", value_serializer="json")
    # Keys come back from the changelog as bytes; key_type=str decodes them on recovery.
    # Written once per batch, outside any one event's context: use_partitioner sends
    # each entry to its key's partition, the partition the entity's observations use.
    # The changelog is compacted, but Kafka compacts only closed segments (1 GB by
    # default): rolled every 5 minutes, a restarted worker recovers the latest state of
    # each entity instead of every write since the topic was made. Applies when the
    # topic is created (a new FIRESTORM_APP_ID, or kafka-configs.sh on an old one).
    states = app.tables.add(DurableTable(
        app, name="engine-state", default=None, beacon=app.tables.beacon,
        partitions=settings.partitions, key_type=str, use_partitioner=True,
        extra_topic_configs={"segment.ms": "300000", "min.cleanable.dirty.ratio": "0.1"}))
    counters = Counters()
    health = Health(("intake", "detect"))
    ledger = AttemptLedger(settings.attempts_path, settings.max_attempts)
    failstop = failstop or FailStop(ledger)
    failstop.on_stop = lambda agent, why: health.agent_stopped(agent, why)

    source_topics = (settings.topic_mentions, settings.topic_observations)

    def committed_offsets() -> dict[tuple[str, int], int | None]:
        """The offsets faust last committed, or found committed when it was given the
        partition (a faust internal: faust-streaming is pinned, see streams/flowfix.py)."""
        committed = getattr(app.consumer, "_committed_offset", {})
        return {(tp.topic, tp.partition): offset for tp, offset in dict(committed).items()
                if tp.topic in source_topics}

    def see(batch: Sequence[faust.types.EventT]) -> list[Source]:
        """The batch's sources; offsets Kafka holds but this worker was never handed are
        counted and logged (they are lost unless re-fed)."""
        sources = [Source(e.message.topic, e.message.partition, e.message.offset)
                   for e in batch]
        committed = committed_offsets()
        for source in sorted(sources):
            missing = health.see(*source, committed.get(source[:2]))
            if missing:
                log.error("offset gap topic=%s partition=%d missing=%d before=%d: messages on"
                          " Kafka that this worker was never handed", *source[:2], missing,
                          source.offset)
        return sources

    def done(sources: Sequence[Source]) -> None:
        """Every output of these messages is on Kafka: they count as processed. A charge
        is kept until its offset is committed: until then Kafka may hand it out again."""
        upto: dict[tuple[str, int], int] = {}
        for topic, partition, offset in sources:
            upto[topic, partition] = max(upto.get((topic, partition), -1), offset + 1)
        for (topic, partition), below in upto.items():
            health.processed(topic, partition, below)
        if len(ledger):
            for (topic, partition), offset in committed_offsets().items():
                if offset is not None:
                    ledger.settle(topic, partition, offset)

    async def send_dead(message: faust.types.Message, value: bytes | None,
                        reason: str) -> Awaitable[Any]:
        return await dead.send(value=value, key=message.key, headers=[
            ("firestorm-reason", reason.encode("utf-8", "backslashreplace")),
            ("firestorm-source", f"{message.topic}/{message.partition}/"
                                 f"{message.offset}".encode()),
        ])

    async def intake_batch(batch: Sequence[faust.types.EventT]) -> None:
        sources = see(batch)
        spent = {i: c for i, s in enumerate(sources) if (c := ledger.exhausted(s))}
        todo = [i for i in range(len(batch)) if i not in spent]  # batch index of each raw
        raws = [batch[i].value for i in todo]
        now = time.time()
        try:
            result = intake.accept_many(raws, now=now)
        except Exception as exc:  # a bug in the pure code: find the message, charge it, stop
            bad = culprits(lambda one: copy.copy(intake).accept_many(one, now=now), raws)
            failstop.poisoned("intake", "intake", exc,
                              [sources[todo[i]] for i in bad] or [sources[i] for i in todo])
        sent: list[Awaitable[Any]] = []
        for index, charge in spent.items():
            log.error("dead-lettering source=%s: %s", sources[index],
                      charge.reason(ledger.max_attempts))
            sent.append(await send_dead(batch[index].message, batch[index].value,
                                        charge.reason(ledger.max_attempts)))
        for index, rejection in result.rejected:
            sent.append(await send_dead(batch[todo[index]].message, rejection.raw,
                                        rejection.reason))
        for index, fields in result.repaired:  # which fields, never their text
            log.warning("repaired source=%s fields=%s: lone surrogates or NUL replaced by"
                        " U+FFFD", sources[todo[index]], ",".join(fields))
        for item, origin in zip(result.items, result.origins, strict=True):
            value = item.to_dict()
            if origin >= 0:  # where the mention came from, to drop it if redelivered
                message = batch[todo[origin]].message
                value["source"] = [message.partition, message.offset]
            sent.append(await observations.send(
                key=item.entity_id.encode("utf-8"), value=value))
        # Offsets are acked after this batch: wait until Kafka has every output.
        await asyncio.gather(*sent)
        done(sources)
        counters.received += len(batch)
        counters.accepted += result.accepted
        counters.dead += len(result.rejected) + len(spent)
        counters.poisoned += len(spent)
        counters.repaired += len(result.repaired)
        counters.observations += len(result.observations)
        counters.forwarded += len(result.items)
        log.info("intake batch=%d accepted=%d dead=%d observations=%d untagged=%d",
                 len(batch), result.accepted, len(result.rejected) + len(spent),
                 len(result.observations), result.untagged)

    watched = {e.id for e in engine.watchlist.entities}

    async def detect_batch(batch: Sequence[faust.types.EventT]) -> None:
        sources = see(batch)
        # State is read once and written once per entity per batch: an entity's
        # state is large during a storm, and every write goes to the changelog.
        touched: dict[str, tuple[EntityEngineState | None, dict[str, int]]] = {}
        deliveries: list[tuple[list[AlertEvent], IncidentState]] = []
        answers: list[tuple[AckAnswer, AuditEntry]] = []
        sent: list[Awaitable[Any]] = []
        for event, where in zip(batch, sources, strict=True):
            charge = ledger.exhausted(where)
            if charge is not None:  # crashed the worker too often: dead letter, state as is
                log.error("dead-lettering source=%s: %s", where,
                          charge.reason(ledger.max_attempts))
                sent.append(await send_dead(event.message, json.dumps(event.value).encode(),
                                            charge.reason(ledger.max_attempts)))
                counters.poisoned += 1
                continue
            try:
                item = _decode_item(event.value)
                if isinstance(item, Ack):
                    # Every ack gets an answer, refusals included: the sender is waiting.
                    before, seen = _load(touched, states, item.entity_id) \
                        if item.entity_id in watched else (None, {})
                    after, events, reply = engine.acknowledge(before, item)
                    if events and after is not None:
                        touched[item.entity_id] = (after, seen)
                        deliveries.append((events, after.incident))
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
                after, events = engine.step(before, item)
            except Exception as exc:  # a bug in the pure code: charge this item, stop
                failstop.poisoned("detect", "detect", exc, [where])
            if source:  # a partition of mentions is read in order: offsets only grow
                seen = {**seen, str(source[0]): source[1]}
            touched[item.entity_id] = (after, seen)
            if events or after.incident != (before.incident if before else None):
                deliveries.append((events, after.incident))
            for alert in events:
                counters.alerts += 1
                log.info("alert entity=%s incident=%s event=%s severity=%s offset=%d",
                         alert.entity_id, alert.incident_id, alert.event,
                         alert.severity, event.message.offset)
            counters.judged += 1
        loop = asyncio.get_running_loop()
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
        # The state must be on Kafka before the batch is acked (streams/changelog.py).
        await asyncio.gather(states.written(), *sent)
        done(sources)

    async def run_agent(name: str, stream: faust.StreamT,
                        process: Callable[[Sequence[faust.types.EventT]], Awaitable[None]]
                        ) -> None:
        health.agent_started(name)
        try:
            async for batch in stream.take_events(settings.batch_size,
                                                  within=settings.batch_wait):
                with failstop.guard(name, f"a batch of {len(batch)}"):
                    await process(batch)
        except asyncio.CancelledError:
            health.agent_stopped(name)
            raise
        except BaseException as exc:
            health.agent_stopped(name, f"{type(exc).__name__}: {exc}")
            raise

    @app.agent(mentions, concurrency=1)  # >1 can commit past an in-flight message (faust #606)
    async def intake_agent(stream: faust.StreamT) -> None:
        await run_agent("intake", stream, intake_batch)

    @app.agent(observations, concurrency=1)
    async def detect_agent(stream: faust.StreamT) -> None:
        await run_agent("detect", stream, detect_batch)

    @app.on_partitions_revoked.connect
    async def forget_revoked(sender: Any, revoked: Any, **kwargs: Any) -> None:
        health.forget((tp.topic, tp.partition) for tp in revoked)

    @app.timer(interval=1.0)
    async def flush_outbox() -> None:
        # Events queued while Redis was away go out when it returns, new events or not.
        await asyncio.get_running_loop().run_in_executor(None, flush)

    @app.page("/health")
    async def health_page(web: Any, request: Any) -> Any:
        report = health.report(committed_offsets(), {
            **asdict(counters), "attempts_pending": len(ledger), "instance_id": instance_id})
        return web.json(report, status=503 if report["status"] == "failing" else 200)

    return app, counters


def _deliver_all(deliver: Deliver,
                 deliveries: list[tuple[list[AlertEvent], IncidentState]]) -> None:
    for events, incident in deliveries:
        deliver(events, incident)


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
