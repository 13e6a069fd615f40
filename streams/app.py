"""The Faust application: topics, the engine table and two thin agents.

``intake`` reads raw mentions, routes rejects to the dead-letter topic (original
bytes, reason in headers) and forwards observations and event-time progress keyed
by entity; ``detect`` runs on the entity's partition, where that entity's engine
state lives in a changelog-backed table, and publishes alert events. Neither agent
holds detection logic: that is :mod:`models` and :mod:`alerting`; the messages
between them are :mod:`streams.messages`.

Several workers share the work by sharing the app id (docs/operations.md,
"Scaling"): an entity's minute closes only when every mentions partition has
passed it, whichever worker reads it (:mod:`models.progress`).

Neither agent lets a failure commit what it has not processed: :mod:`streams.failstop`
stops the worker instead, and dead-letters a message that keeps crashing it;
:mod:`streams.health` compares what was processed with what was committed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import faust
from aiokafka.errors import KafkaError

from alerting.ack import Ack, AckAnswer
from alerting.audit import AuditEntry
from alerting.engine import EntityEngineState, Source
from alerting.errors import FirestormAlertError
from alerting.event import AlertEvent
from alerting.stored import NOTHING
from alerting.timeline import IncidentPoints
from models.observation import Observation
from models.progress import At
from streams import drain, fetchwait, flowfix, statestore
from streams.changelog import DurableTable
from streams.failstop import AttemptLedger, FailStop, Position, culprits
from streams.health import Health
from streams.kafka_client import faust_credentials
from streams.liveness import Pulse, active_filter, consumer_lag, event_time_of, open_states
from streams.messages import (
    Envelope,
    MessageError,
    batches,
    decode_all,
    detect_take,
    encode,
)
from streams.metrics import CONTENT_TYPE, Metrics, reason_class
from streams.pipeline import Pipeline, WatchlistSource
from streams.settings import Settings
from streams.statestore import Loaded

__all__ = ["Counters", "build_app"]

log = logging.getLogger("firestorm.worker")

# A batch's alert events and timeline points, step by step in order, into the outbox.
Deliver = Callable[[list[tuple[list[AlertEvent], tuple[IncidentPoints, ...]]]], object]
Answer = Callable[[AckAnswer, AuditEntry], object]
TIMER_SECONDS = 2.0  # lag, idle partitions, heartbeat
# The largest entity state the changelog takes (its topic's max.message.bytes, and the
# producer's request size). A state holds the observations waiting for every
# partition's mark, and in a storm behind a quiet partition it passed Kafka's 1 MB
# default: the worker stopped and met the same batch on every restart.
STATE_MAX_BYTES = 32 * 1024 * 1024
# The producer waits this long for more records to a partition before it sends: the
# state records, observation batches and dead letters of a batch go out in fewer
# requests (aiokafka sends one request per broker at a time). Faust's default is 0.
# Worker end to end, alternated: 1,563 and 1,353 mentions/s at 0, 1,716 and 1,708 at
# 5 ms (docs/benchmarks.md, "The worker beside a raw consumer and replay").
PRODUCER_LINGER_SECONDS = 0.005
# A commit that stands still this long while later offsets are processed is reported
# on /health; twice this long, with an offset handed over and never acked holding it
# back, the worker stops (exit 70) to read it again.
COMMIT_STALL_SECONDS = 120.0
RELOAD_CHECK_SECONDS = 5.0  # how often the watchlist file is compared with the one in force
# How often a rebalance or stop, waiting for every message handed over to be acked,
# flushes the states of batches the detect agent finished meanwhile.
WAIT_EMPTY_FLUSH_SECONDS = 0.2


@dataclass(slots=True)
class Counters:
    """What ops watch: ``received == accepted + dead`` at every batch boundary."""

    received: int = 0
    accepted: int = 0
    dead: int = 0
    repaired: int = 0  # accepted after lone surrogates or NULs were replaced (models.mention)
    poisoned: int = 0  # dead-lettered after crashing the worker FIRESTORM_MAX_ATTEMPTS times
    observations: int = 0
    forwarded: int = 0  # observations and progress sent on to the detect agent
    judged: int = 0  # observations and progress the detect agent has stepped
    redelivered: int = 0  # items seen again after a restart and skipped (already in state)
    late: int = 0  # observations that came after their minute had closed
    alerts: int = 0
    acks: int = 0  # acknowledgements answered (recorded or refused)
    flushes: int = 0  # writes of the detect batches' states to the changelog
    beat: float = 0.0  # monotonic time of the last batch or timer: the heartbeat
    beat_reload: float = 0.0  # when the watchlist file was last compared


@dataclass(slots=True)
class Current:
    """The pipeline in force (replaced whole on a watchlist reload)."""

    pipeline: Pipeline


@dataclass(slots=True)
class Unflushed:
    """Detect batches judged, their alerts delivered, whose entity states are not on the
    changelog yet. An entity's state is written once for all of them (a write encodes,
    compresses and sends every record that changed since the last one: new minute
    buckets, core, head, tombstones; once a batch, it was the detect agent's largest
    cost), and their messages are acked only once Kafka has it, so a crash before then
    reads them again and judges them against the state last written
    (docs/operations.md, "The state changelog")."""

    touched: dict[str, EntityEngineState | None] = field(default_factory=dict)
    events: list[faust.types.EventT] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    sent: list[Awaitable[Any]] = field(default_factory=list)
    since: float = 0.0  # monotonic time the first of them was judged

    def add(self, batch: Sequence[faust.types.EventT], positions: Sequence[Position],
            sent: list[Awaitable[Any]]) -> None:
        """Hold ``batch``'s messages unacked (faust acks a batch's events when the agent
        takes the next: a reference each keeps them from counting as done) until a flush."""
        if not self.events:
            self.since = time.monotonic()
        for event in batch:
            event.message.incref()
        self.events += batch
        self.positions += positions
        self.sent += sent

    def due(self, every: float) -> bool:
        return bool(self.events) and time.monotonic() - self.since >= every

    def clear(self) -> None:
        self.touched.clear()
        self.events.clear()
        self.positions.clear()
        self.sent.clear()


@dataclass(slots=True)
class DetectBatch:
    """What one detect batch works with and gathers, item by item: the pipeline it
    read at its start, the entity states it touched (those of the batches not yet
    flushed: :class:`Unflushed`), and the alerts, ack answers and sends it waits for
    before its messages are acked."""

    pipeline: Pipeline
    touched: dict[str, EntityEngineState | None] = field(default_factory=dict)
    deliveries: list[tuple[list[AlertEvent], tuple[IncidentPoints, ...]]] = field(
        default_factory=list)
    answers: list[tuple[AckAnswer, AuditEntry]] = field(default_factory=list)
    sent: list[Awaitable[Any]] = field(default_factory=list)


def build_app(settings: Settings, pipeline: Pipeline, deliver: Deliver,
              flush: Callable[[], object], *, metrics: Metrics | None = None,
              watchlist: WatchlistSource | None = None,
              outbox_depth: Callable[[], int] = lambda: 0,
              answer: Answer | None = None, pulse: Pulse | None = None,
              instance_id: str | None = None,
              failstop: FailStop | None = None) -> tuple[faust.App, Counters]:
    """A Faust app wired to the pure pipeline.

    ``deliver(steps)`` hands a batch's alert events and new timeline points, as
    ``(events, points)`` per step in order, to the durable outbox (at once: one
    write-ahead and one flush per batch); ``flush()`` retries what is queued;
    ``watchlist`` is the file to reload on SIGHUP or a change.
    ``answer(ack_answer, audit_entry)`` tells whoever sent an ack what became of it;
    ``pulse`` writes the heartbeat to Redis and republishes open incidents
    (:mod:`streams.liveness`). ``instance_id`` makes the worker a static member of its
    consumer group, so a restart takes its partitions back at once
    (streams/membership.py); ``failstop`` stops it rather than skip a message.
    """
    source_topics = (settings.topic_mentions, settings.topic_observations)
    # Else events that arrive while the worker starts, or around a rebalance, can be lost.
    flowfix.apply(source_topics)
    fetchwait.apply(settings.fetch_max_wait)
    drain.apply()  # hands a message over without four tasks each (streams/drain.py)
    metrics = metrics or Metrics("worker")
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{b}" for b in settings.kafka_bootstrap.split(",")],
        broker_credentials=faust_credentials(settings),
        store="memory://",  # tables are rebuilt from their Kafka changelog on start
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        consumer_auto_offset_reset="earliest",
        web_host=settings.web_host,
        web_port=settings.web_port,
        datadir=settings.data_dir,
        key_serializer="raw",
        value_serializer="json",
        consumer_group_instance_id=instance_id,
        producer_max_request_size=STATE_MAX_BYTES,
        producer_linger=PRODUCER_LINGER_SECONDS,
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=min(3.0, settings.session_timeout / 3),
    )
    mentions = app.topic(settings.topic_mentions, key_serializer="raw", value_serializer="raw")
    dead = app.topic(settings.topic_dead, key_serializer="raw", value_serializer="raw")
    observations = app.topic(settings.topic_observations, key_type=str,
                             key_serializer="raw", value_serializer="json")
    # Written once per state flush, outside any one event's context: use_partitioner sends
    # each entry to its key's partition, the partition the entity's observations use.
    # That holds only with raw keys (key_type=bytes): with str keys Faust writes JSON,
    # and '"acme"' hashes to another partition than 'acme', so the state lived on a
    # changelog partition that another worker recovered (seen with several workers).
    # The changelog is compacted, but Kafka compacts only closed segments (1 GB by
    # default): rolled every 5 minutes, a restarted worker recovers the latest state of
    # each entity instead of every write since the topic was made. Applies when the
    # topic is created (a new FIRESTORM_APP_ID, or kafka-configs.sh on an old one).
    states = app.tables.add(DurableTable(
        app, name="engine-state", default=None, beacon=app.tables.beacon,
        partitions=settings.partitions, key_type=bytes, use_partitioner=True,
        value_type=bytes,  # raw: streams/statestore.py encodes (and compresses) values
        extra_topic_configs={"segment.ms": "300000", "min.cleanable.dirty.ratio": "0.1",
                             "max.message.bytes": str(STATE_MAX_BYTES)}))
    counters = Counters(beat=time.monotonic())
    current = Current(pipeline)
    health = Health(("intake", "detect"))  # offsets handed over, processed, committed
    ledger = AttemptLedger(settings.attempts_path, settings.max_attempts)
    failstop = failstop or FailStop(ledger)
    failstop.on_stop = lambda agent, why: health.agent_stopped(agent, why)
    detected: dict[int, int] = {}  # observations partition -> next offset to judge
    # The state last written per entity, what the changelog holds of it, and the head
    # value it was written with: while the table still holds that head, the state is
    # reused (no re-parse) and the next write sends only what changed (streams/statestore.py).
    parsed: dict[str, tuple[object, Loaded]] = {}
    unflushed = Unflushed()  # detect batches judged whose states are not written yet
    flushing = asyncio.Lock()
    heard: dict[int, float] = {}  # mentions partition -> monotonic time of its last message
    declared: dict[int, float] = {}  # mentions partition -> when it was last said to be idle

    def input_partitions() -> int:
        return app.consumer.topic_partitions(settings.topic_mentions) or settings.partitions

    async def forward(items: list[Any]) -> list[Awaitable[Any]]:
        return [await observations.send(key=item.entity_id.encode("utf-8"), value=encode(item))
                for item in items]

    def committed_offsets() -> dict[tuple[str, int], int | None]:
        """The offsets faust last committed, or found committed when it was given the
        partition (a faust internal: faust-streaming is pinned, see streams/flowfix.py)."""
        committed = getattr(app.consumer, "_committed_offset", {})
        return {(tp.topic, tp.partition): offset for tp, offset in dict(committed).items()
                if tp.topic in source_topics}

    def see(batch: Sequence[faust.types.EventT]) -> list[Position]:
        """The batch's positions; offsets Kafka holds but this worker was never handed
        are counted and logged (they are lost unless re-fed)."""
        positions = [Position(e.message.topic, e.message.partition, e.message.offset)
                     for e in batch]
        committed = committed_offsets()
        for where in sorted(positions):
            missing = health.see(*where, committed.get(where[:2]))
            if missing:
                log.error("offset gap topic=%s partition=%d missing=%d before=%d: messages on"
                          " Kafka that this worker was never handed", *where[:2], missing,
                          where.offset)
        return positions

    def done(positions: Sequence[Position]) -> None:
        """Every output of these messages is on Kafka: they count as processed. A charge
        is kept until Kafka has a commit past where it crashed: until then Kafka may hand
        that message out again."""
        upto: dict[tuple[str, int], int] = {}
        for topic, partition, offset in positions:
            upto[topic, partition] = max(upto.get((topic, partition), -1), offset + 1)
        for (topic, partition), below in upto.items():
            health.processed(topic, partition, below)
        if len(ledger):
            ledger.settle(committed_offsets())

    async def send_dead(message: faust.types.Message, value: bytes | None,
                        reason: str, mention: Position | None = None) -> Awaitable[Any]:
        headers = [("firestorm-reason", reason.encode("utf-8", "backslashreplace")),
                   ("firestorm-source", f"{message.topic}/{message.partition}/"
                                        f"{message.offset}".encode())]
        if mention is not None:  # an observation: the mention it was made from
            headers.append(("firestorm-mention", str(mention).encode()))
        return await dead.send(value=value, key=message.key, headers=headers)

    async def intake_batch(batch: Sequence[faust.types.EventT]) -> None:
        started = time.perf_counter()
        now = time.monotonic()
        positions = see(batch)
        for event in batch:
            heard[event.message.partition] = now
        if pulse is not None:
            pulse.took_in()
        spent = {i: c for i, p in enumerate(positions) if (c := ledger.exhausted(p))}
        todo = [i for i in range(len(batch)) if i not in spent]  # batch index of each raw
        raws = [batch[i].value for i in todo]
        parts = [batch[i].message.partition for i in todo]
        intake, of, wall = current.pipeline.intake, input_partitions(), time.time()
        try:
            result = intake.accept_many(raws, now=wall, partitions=parts, of=of)
        except Exception as exc:  # a bug in the pure code: find the message, charge it, stop
            trial = current.pipeline.engine.watchlist  # a copy of the intake for each try
            bad = culprits(lambda one: intake.with_watchlist(trial).accept_many(
                [r for r, _ in one], now=wall, partitions=[p for _, p in one], of=of),
                list(zip(raws, parts, strict=True)))
            failstop.poisoned("intake", "intake", exc, [positions[todo[i]] for i in bad]
                              or [positions[i] for i in todo])
        sent: list[Awaitable[Any]] = []
        for index, charge in spent.items():
            reason = charge.reason(ledger.max_attempts)
            log.error("dead-lettering source=%s: %s", positions[index], reason)
            sent.append(await send_dead(batch[index].message, batch[index].value, reason))
        for index, rejection in result.rejected:
            sent.append(await send_dead(batch[todo[index]].message, rejection.raw,
                                        rejection.reason))
            metrics.mentions_dead.labels(reason_class(rejection.reason)).inc()
        for index, fields in result.repaired:  # which fields, never their text
            log.warning("repaired source=%s fields=%s: lone surrogates or NUL replaced by"
                        " U+FFFD", positions[todo[index]], ",".join(fields))
        per_entity: dict[str, list[tuple[Any, Source | None]]] = {}
        for item, origin in zip(result.items, result.origins, strict=True):
            # Where an observation's mention came from, to drop it if redelivered.
            message = batch[todo[origin]].message if origin >= 0 else None
            source = Source(message.partition, message.offset) if message else None
            per_entity.setdefault(item.entity_id, []).append((item, source))
        for entity_id, pairs in per_entity.items():  # one message per entity (in order)
            for wire in batches(pairs):  # JSON already: the detect agent reads it as such
                sent.append(await observations.send(key=entity_id.encode("utf-8"),
                                                    value=wire, value_serializer="raw"))
        # Offsets are acked after this batch: wait until Kafka has every output.
        await asyncio.gather(*sent)
        done(positions)
        counters.received += len(batch)
        counters.accepted += result.accepted
        counters.dead += len(result.rejected) + len(spent)
        counters.poisoned += len(spent)
        counters.repaired += len(result.repaired)
        counters.observations += len(result.observations)
        counters.forwarded += len(result.items)
        counters.beat = time.monotonic()
        metrics.mentions_received.inc(len(batch))
        metrics.mentions_accepted.inc(result.accepted)
        metrics.batch_seconds.labels("intake").observe(time.perf_counter() - started)
        log.info("intake batch=%d accepted=%d dead=%d observations=%d untagged=%d",
                 len(batch), result.accepted, len(result.rejected) + len(spent),
                 len(result.observations), result.untagged)

    async def judge_item(envelope: Envelope, message: faust.types.Message, where: Position,
                         work: DetectBatch, index: int) -> None:
        """Item ``index`` of the observations message at ``where`` into ``work``."""
        engine, watched = work.pipeline.engine, work.pipeline.watched
        touched, deliveries, answers, sent = (work.touched, work.deliveries, work.answers,
                                              work.sent)
        item = envelope.item
        # A crash is charged to the mention the observation was made from: until that
        # mention is committed, a restart reads it again and makes a copy of the
        # observation at a new offset, which must not start a count of its own.
        blame = (where if envelope.source is None else
                 Position(settings.topic_mentions, *envelope.source))
        charge = ledger.exhausted(blame)
        if charge is not None:  # crashed the worker too often: dead letter, state as is
            if envelope.source is not None and item.entity_id in watched:
                counted = engine.pass_over(_load(touched, states, parsed, item.entity_id),
                                           envelope.source)
                if counted is None:  # a copy of one already passed over or counted
                    counters.redelivered += 1
                    metrics.redelivered.inc()
                    return
                touched[item.entity_id] = counted  # its copies are redelivered now
            reason = charge.reason(ledger.max_attempts)
            log.error("dead-lettering source=%s mention=%s: %s", where, blame, reason)
            value = json.dumps(encode(item, envelope.source)).encode()
            sent.append(await send_dead(message, value, reason,
                                        blame if blame != where else None))
            counters.poisoned += 1
            return
        try:
            if isinstance(item, Ack):
                # Every ack gets an answer, refusals included: the sender is waiting.
                before = (_load(touched, states, parsed, item.entity_id)
                          if item.entity_id in watched else None)
                after, events, reply = engine.acknowledge(before, item)
                if events and after is not None:
                    touched[item.entity_id] = after
                    deliveries.append((events, ()))
                answers.append((reply, _audit(item, reply)))
                counters.acks += 1
                log.info("ack request=%s incident=%s via=%s outcome=%s",
                         item.request_id, item.incident_id, item.via, reply.outcome)
                return
            if item.entity_id not in watched:
                if isinstance(item, Observation):
                    log.warning("skipping entity=%s: not in the watchlist",
                                item.entity_id)
                return
            before = _load(touched, states, parsed, item.entity_id)
            # Where it was read: after a restart, a state written before the crash may
            # already hold this message (its offset was not committed yet).
            after, stepped = engine.step(before, item, envelope.source,
                                         At(message.partition, message.offset, index))
        except Exception as exc:  # a bug in the pure code: charge this item, stop
            failstop.poisoned("detect", "detect", exc, [blame], where)
        if stepped.redelivered:
            counters.redelivered += 1
            metrics.redelivered.inc()
            return
        touched[item.entity_id] = after
        if stepped.late:
            counters.late += stepped.late
            metrics.late_mentions.inc(stepped.late)
        if stepped.events or stepped.points:
            deliveries.append((stepped.events, stepped.points))
        if pulse is not None:
            pulse.judged(event_time_of(item))
        for alert in stepped.events:
            counters.alerts += 1
            metrics.alerts.labels("worker", alert.event, alert.severity).inc()
            log.info("alert entity=%s incident=%s event=%s severity=%s offset=%d",
                     alert.entity_id, alert.incident_id, alert.event,
                     alert.severity, message.offset)
        counters.judged += 1

    async def detect_batch(batch: Sequence[faust.types.EventT]) -> None:
        # A flush (the timer's) never runs in the middle of a batch: a state on Kafka
        # must hold no observation whose alerts are not in the outbox yet.
        async with flushing:
            await _detect_batch(batch)

    async def _detect_batch(batch: Sequence[faust.types.EventT]) -> None:
        started = time.perf_counter()
        positions = see(batch)
        # State is read once and written once per entity per flush: an entity's state
        # is large during a storm, and every write goes to the changelog.
        work = DetectBatch(current.pipeline, unflushed.touched)
        deliveries, answers, sent = work.deliveries, work.answers, work.sent

        for event, where in zip(batch, positions, strict=True):
            detected[event.message.partition] = event.message.offset + 1
            try:
                envelopes = decode_all(event.value)
            except MessageError as exc:  # not ours: dead-lettered with why, never dropped
                log.error("observations message dead-lettered partition=%d offset=%d: %s",
                          event.message.partition, event.message.offset, exc)
                sent.append(await send_dead(event.message, json.dumps(event.value).encode(),
                                            f"not an observation message: {exc}"))
                continue
            for index, envelope in enumerate(envelopes):  # a batch's items, in order
                await judge_item(envelope, event.message, where, work, index)
        judged = time.perf_counter()
        loop = asyncio.get_running_loop()
        if deliveries:
            # Into the outbox before the batch is acked: a crash here redelivers the
            # batch, and the store's event-id dedupe drops the repeats.
            await loop.run_in_executor(None, deliver, deliveries)
        if answers and answer is not None:
            # After delivery: "recorded" means the event is already on its way to Redis.
            await loop.run_in_executor(None, _answer_all, answer, answers)
        delivered = time.perf_counter()
        unflushed.add(batch, positions, sent)
        if unflushed.due(settings.state_flush_seconds):
            await flush_states()
        counters.beat = time.monotonic()
        metrics.batch_seconds.labels("detect").observe(time.perf_counter() - started)
        metrics.detect_phase_seconds.labels("judge").observe(judged - started)
        metrics.detect_phase_seconds.labels("deliver").observe(delivered - judged)

    async def flush_states() -> None:
        """Write the states the batches since the last flush touched, wait until Kafka
        has them and those batches' dead letters, then ack the batches' messages."""
        started = time.perf_counter()
        for entity_id, after in unflushed.touched.items():
            if after is not None:
                cached = parsed.get(entity_id)
                written = statestore.write(states, entity_id,
                                           cached[1].written if cached else NOTHING, after)
                parsed[entity_id] = (states.get(statestore.key_of(entity_id)),
                                     Loaded(after, written))
        wrote = time.perf_counter()
        # The state must be on Kafka before the batches are acked (streams/changelog.py).
        await asyncio.gather(states.written(), *unflushed.sent)
        for event in unflushed.events:
            event.ack()
        done(unflushed.positions)
        flushed = len(unflushed.touched)
        unflushed.clear()
        counters.flushes += 1
        metrics.detect_phase_seconds.labels("write").observe(wrote - started)
        metrics.detect_phase_seconds.labels("changelog").observe(time.perf_counter() - wrote)
        log.debug("state flush entities=%d", flushed)

    async def flush_between_batches(why: str) -> None:
        """A flush outside a batch (after a pause, before a rebalance or stop): never
        during one, and a failure stops the worker as a batch's would."""
        async with flushing:
            with failstop.guard("detect", why):
                await flush_states()

    async def run_agent(name: str, stream: faust.StreamT,
                        process: Callable[[Sequence[faust.types.EventT]], Awaitable[None]],
                        size: int) -> None:
        health.agent_started(name)
        try:
            async for batch in stream.take_events(size, within=settings.batch_wait):
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
        await run_agent("intake", stream, intake_batch, settings.batch_size)

    @app.agent(observations, concurrency=1)
    async def detect_agent(stream: faust.StreamT) -> None:
        # Messages, not items: a batch message holds an entity's items of an intake batch.
        await run_agent("detect", stream, detect_batch,
                        detect_take(settings.batch_size, len(current.pipeline.watched)))

    # Before faust gives partitions away (a rebalance) or stops, it waits until every
    # message it handed over is acked; those of unflushed batches are acked by a flush,
    # so flush (the timers are already stopped when the worker stops) - and flush again
    # while it waits: the detect agent may finish more batches meanwhile (seen under
    # load: a batch after the first flush, and faust waited on it until its broker went).
    if not hasattr(app, "_consumer_wait_empty"):
        raise RuntimeError("faust's App._consumer_wait_empty is gone: re-check the state"
                           " flush in streams/app.py against this faust-streaming version")
    wait_empty = app._consumer_wait_empty

    async def flush_then_wait_empty(consumer: Any, logger: Any) -> None:
        waiting = asyncio.ensure_future(wait_empty(consumer, logger))
        try:
            while not waiting.done():
                if unflushed.events:
                    await flush_between_batches("the state flush before a rebalance or stop")
                await asyncio.wait({waiting}, timeout=WAIT_EMPTY_FLUSH_SECONDS)
        finally:
            waiting.cancel()  # nothing once it is done
        waiting.result()

    app._consumer_wait_empty = flush_then_wait_empty  # type: ignore[method-assign]

    if settings.state_flush_seconds > 0:
        @app.timer(interval=max(0.05, settings.state_flush_seconds / 2))
        async def flush_quiet() -> None:
            # The last batches before a pause, and those of a rebalance (faust waits for
            # every message handed over to be acked before it gives a partition away).
            if unflushed.due(settings.state_flush_seconds):
                await flush_between_batches("a state flush")

    @app.timer(interval=1.0)
    async def flush_outbox() -> None:
        # Events queued while Redis was away go out when it returns, new events or not.
        await asyncio.get_running_loop().run_in_executor(None, flush)
        metrics.outbox_depth.set(outbox_depth())

    if pulse is not None:
        @app.timer(interval=settings.heartbeat_seconds)
        async def heartbeat() -> None:
            # Which incidents are open is read here, on the loop that writes the table;
            # the Redis part runs in a thread. While the table recovers there is
            # nothing to republish from yet (None).
            recovery = app.tables.recovery
            recovering = app.rebalancing or recovery.in_recovery or not recovery.completed.is_set()
            active = active_filter(app, settings.topic_observations, settings.partitions)
            held = None if recovering else open_states(states, active, parsed)
            for entity_id, state in ([] if held is None else unflushed.touched.items()):
                # Judged since the last flush: newer than what the table holds.
                if state is not None and state.incident.open_incident is not None and active(
                        entity_id):
                    held[entity_id] = state
                else:
                    held.pop(entity_id, None)
            lag = consumer_lag(app, (settings.topic_mentions, settings.topic_observations))
            await asyncio.get_running_loop().run_in_executor(
                None, pulse.beat, held, lag, current.pipeline.engine)

    @app.on_partitions_revoked.connect
    async def on_revoked(sender: Any, revoked: Any, **_: Any) -> None:
        health.forget((tp.topic, tp.partition) for tp in revoked)
        for tp in revoked:
            if tp.topic == settings.topic_mentions:
                heard.pop(tp.partition, None)
                declared.pop(tp.partition, None)
            elif tp.topic == settings.topic_observations:
                detected.pop(tp.partition, None)
                parsed.clear()  # the table's values may come back from another worker
            key = (tp.topic, str(tp.partition))
            if key in _labels(metrics.consumer_lag):  # another worker reports it now
                metrics.consumer_lag.remove(*key)

    @app.timer(interval=TIMER_SECONDS)
    async def watch_partitions() -> None:
        """Consumer lag per partition; a caught-up, quiet mentions partition goes idle."""
        counters.beat = time.monotonic()
        if app.rebalancing:
            return
        stuck = health.stalls(committed_offsets(), time.monotonic(), 2 * COMMIT_STALL_SECONDS)
        holes = flowfix.holes(app.consumer)
        if stuck and holes:  # a message handed over and never acked: read it after a restart
            failstop.stop("commit", "; ".join(stuck) + "; never acked: " + ", ".join(
                f"{topic}/{partition}@{offset}" for topic, partition, offset in sorted(holes)))
        try:
            await _watch_partitions()
        except KafkaError as exc:  # a rebalance took a partition while we looked
            log.info("partition watch skipped this round: %s", exc)

    async def _watch_partitions() -> None:
        assigned = app.consumer.assignment()
        inputs = sorted((tp for tp in assigned if tp.topic == settings.topic_mentions),
                        key=lambda tp: tp.partition)
        outputs = [tp for tp in assigned if tp.topic == settings.topic_observations]
        if not inputs and not outputs:
            return
        highwaters = await app.consumer.highwaters(*inputs, *outputs)
        if app.rebalancing:
            return  # the assignment changed while we asked
        # Faust's record of committed offsets (set at assignment, then at each commit).
        committed = getattr(app.consumer, "_committed_offset", {})
        intake, now = current.pipeline.intake, time.monotonic()
        still = app.consumer.assignment()
        idle: list[Any] = []
        for tp in inputs:
            end = highwaters.get(tp)
            if end is None or tp not in still:
                continue
            done = committed.get(tp) or 0  # processed and committed: nothing in flight
            seen = health.next_offset(tp.topic, tp.partition)
            metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(
                max(0, end - max(done, seen or 0)))
            quiet = now - heard.setdefault(tp.partition, now) >= settings.idle_seconds
            again = now - declared.get(tp.partition, -math.inf) >= settings.idle_seconds
            # Idle only when everything on the partition is processed and committed (not
            # just fetched: a slow worker's queue may still hold it) and it has been
            # quiet; said again while quiet, since another partition's wake revokes it.
            if end - done <= 0 and quiet and again:
                declared[tp.partition] = now
                idle += intake.idle(tp.partition, input_partitions())
        for tp in outputs:
            end, done = highwaters.get(tp), detected.get(tp.partition)
            if end is not None and done is not None:
                metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(max(0, end - done))
        for partition, mark in intake.marks().items():
            metrics.watermark.labels(str(partition)).set(mark)
        if idle:
            await asyncio.gather(*await forward(idle))
            counters.forwarded += len(idle)
            log.info("idle partitions=%s: caught up and quiet for %gs, minutes no longer wait"
                     " for them", sorted({p.partition for p in idle}), settings.idle_seconds)

    async def reload(why: str) -> None:
        if watchlist is None:
            return
        outcome = watchlist.reload(current.pipeline, why)
        if outcome.pipeline is None:
            metrics.watchlist_reloads.labels("refused").inc()
        else:
            current.pipeline = outcome.pipeline
            metrics.watchlist_reloads.labels("applied").inc()

    # SIGHUP asks for a reload; the timer below does it (a plain handler, installed now,
    # so that a SIGHUP before the event loop runs does not kill the worker).
    hup: list[bool] = []
    if watchlist is not None:
        signal.signal(signal.SIGHUP, lambda *_: hup.append(True))

    @app.timer(interval=1.0)
    async def watch_watchlist() -> None:
        if hup:
            hup.clear()
            await reload("SIGHUP")
        elif watchlist is not None and (
                time.monotonic() - counters.beat_reload >= RELOAD_CHECK_SECONDS):
            counters.beat_reload = time.monotonic()
            if watchlist.changed():
                await reload("file changed")

    @app.page("/health")
    async def health_page(web: Any, request: Any) -> Any:
        counted = {k: v for k, v in asdict(counters).items() if not k.startswith("beat")}
        committed = committed_offsets()
        report = health.report(committed, {
            **counted, "entities": len(current.pipeline.watched),
            "attempts_pending": len(ledger), "instance_id": instance_id},
            health.stalls(committed, time.monotonic(), COMMIT_STALL_SECONDS))
        # 200 whatever the status: this is the liveness probe (deploy/kubernetes), and
        # restarting a worker does not undo a skipped message; `status` says the truth.
        return web.json(report)

    @app.page("/ready")
    async def ready(web: Any, request: Any) -> Any:
        # In the group, partitions assigned and the table recovered: it is doing its share.
        # A worker beyond the partition count is ready with nothing assigned (a spare).
        recovered = app.tables.recovery.completed.is_set() and not app.rebalancing
        body: dict[str, Any] = {"ready": recovered,
                                "assigned": len(app.consumer.assignment()) if recovered else 0}
        if not recovered:
            body["reason"] = "joining the group, rebalancing or recovering the table"
        return web.json(body, status=200 if recovered else 503)

    @app.page("/metrics")
    async def scrape(web: Any, request: Any) -> Any:
        if metrics.heartbeat_age is not None:
            metrics.heartbeat_age.set(time.monotonic() - counters.beat)
        # aiohttp refuses a charset inside content_type: the header carries it whole.
        return web.bytes(metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})

    return app, counters


def _labels(gauge: Any) -> set[tuple[str, ...]]:
    """The label values a gauge has series for."""
    return {tuple(s.labels.values()) for m in gauge.collect() for s in m.samples}


def _load(touched: dict[str, EntityEngineState | None], states: Any,
          parsed: dict[str, tuple[object, Loaded]], entity_id: str) -> EntityEngineState | None:
    """The entity's state as this batch has it: read from the table once per flush
    (``touched`` holds the states of the batches not flushed yet)."""
    if entity_id not in touched:
        head = states.get(statestore.key_of(entity_id))
        cached = parsed.get(entity_id)
        if not (cached and head is not None and cached[0] is head):
            cached = (head, statestore.read(states, entity_id))
            parsed[entity_id] = cached
        touched[entity_id] = cached[1].state
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
