"""Send an acknowledgement to the worker that owns the incident's entity.

An ack travels on the observations topic, keyed by entity, so the lifecycle
state it changes is updated on its own partition, in order with the data.
"""

from __future__ import annotations

import json
import time

from alerting.engine import Ack, entity_of_incident
from streams.errors import UsageError
from streams.kafka_client import kafka_python_options, unreachable
from streams.settings import Settings

__all__ = ["send_ack"]


def send_ack(settings: Settings, incident_id: str, by: str) -> Ack:
    """Send the ack and wait until Kafka has it; the worker then publishes 'acknowledged'."""
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    if not by.strip():
        raise UsageError("say who is acknowledging: --by NAME")
    ack = Ack(entity_of_incident(incident_id), incident_id, by.strip(), time.time())
    try:
        producer = KafkaProducer(**kafka_python_options(settings), acks="all")
        try:
            producer.send(settings.topic_observations, key=ack.entity_id.encode("utf-8"),
                          value=json.dumps(ack.to_dict()).encode("utf-8")).get(timeout=30)
        finally:
            producer.close(timeout=10)
    except KafkaError as exc:
        raise unreachable(settings, exc, "send the ack to") from None
    return ack
