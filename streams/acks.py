"""Send an acknowledgement to the worker that owns the incident's entity, and wait for its answer.

An ack travels on the observations topic, keyed by entity, so the lifecycle
state it changes is updated on its own partition, in order with the data.
The worker answers on Redis under the ack's ``request_id``
(:mod:`alerting.action_store`), so every sender (``firestorm ack``, the
console, the incident pages, a signed link) learns the outcome:
recorded, already acknowledged, unknown incident, or not the latest
incident of the entity. No answer in time means no worker read it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from alerting.ack import Ack, AckAnswer, entity_of_incident
from alerting.action_store import RedisActionStore, open_action_store
from alerting.errors import FirestormAlertError
from alerting.memory_actions import MemoryActionStore
from streams.errors import FirestormError, UsageError
from streams.kafka_client import kafka_python_options, unreachable
from streams.messages import encode_bytes
from streams.settings import Settings
from streams.topics import require_topic

__all__ = ["DEFAULT_WAIT", "AckResult", "acknowledge", "send_ack"]

DEFAULT_WAIT = 15.0  # seconds to wait for the worker: a batch, a commit, a Redis write


@dataclass(frozen=True, slots=True)
class AckResult:
    """The ack as sent, and the worker's answer (None: none came in time)."""

    ack: Ack
    answer: AckAnswer | None
    waited: float  # seconds
    problem: str | None = None  # why no answer could be read (Redis away), if that was it


def send_ack(settings: Settings, incident_id: str, by: str, *, via: str = "cli",
             origin: str = "", request_id: str | None = None) -> Ack:
    """Send the ack and wait until Kafka has it; the worker then answers on Redis."""
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    if not by.strip():
        raise UsageError("say who is acknowledging: --by NAME")
    if not incident_id.strip():
        raise FirestormError("which incident? give its id, e.g. acme-stores-20260105T101500Z")
    ack = Ack(entity_of_incident(incident_id.strip()), incident_id.strip(), by.strip(),
              time.time(), request_id or uuid.uuid4().hex, via, origin)
    # Never let the first send create the topic: a topic no worker reads swallows acks.
    require_topic(settings, settings.topic_observations, "acknowledgements")
    try:
        producer = KafkaProducer(**kafka_python_options(settings), acks="all")
        try:
            producer.send(settings.topic_observations, key=ack.entity_id.encode("utf-8"),
                          value=encode_bytes(ack)).get(timeout=30)
        finally:
            producer.close(timeout=10)
    except KafkaError as exc:
        raise unreachable(settings, exc, "send the ack to") from None
    return ack


def acknowledge(settings: Settings, incident_id: str, by: str, *, via: str = "cli",
                origin: str = "", wait: float = DEFAULT_WAIT,
                actions: RedisActionStore | MemoryActionStore | None = None) -> AckResult:
    """Send the ack and wait up to ``wait`` seconds for the worker's answer."""
    own = actions is None
    store = actions or open_action_store(
        settings.redis_url, **({"ssl_ca_certs": settings.redis_ca} if settings.redis_ca else {}))
    try:
        started = time.monotonic()
        ack = send_ack(settings, incident_id, by, via=via, origin=origin)
        try:
            answer = store.wait_answer(ack.request_id, wait) if wait > 0 else None
        except FirestormAlertError as exc:  # sent, but the answer cannot be read: say both
            return AckResult(ack, None, time.monotonic() - started, str(exc))
        return AckResult(ack, answer, time.monotonic() - started)
    finally:
        if own:
            store.close()
