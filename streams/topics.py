"""Create Firestorm's topics before a worker subscribes to them.

A Faust worker that starts before its source topic exists ignores the topic
and never picks it up later, so the worker makes sure they all exist first,
with the partitions, replication factor and retention of the settings. On a
cluster run by an operator (Strimzi's ``KafkaTopic``, deploy/kubernetes) the
topics already exist and nothing is changed.
"""

from __future__ import annotations

import logging

from streams.errors import ConfigError
from streams.kafka_client import kafka_python_options, unreachable
from streams.settings import Settings

__all__ = ["ensure_topics", "topic_configs"]

log = logging.getLogger(__name__)


def topic_configs(settings: Settings) -> dict[str, str]:
    """Broker configs of the three topics: retention of the raw posts they carry."""
    configs = {"retention.ms": str(int(settings.topic_retention_hours * 3_600_000))}
    if settings.replication_factor > 1:
        # acks=all then means "on at least two brokers": one broker may be down.
        configs["min.insync.replicas"] = str(min(2, settings.replication_factor))
    return configs


def ensure_topics(settings: Settings) -> list[str]:
    """Create the mentions, dead-letter and observations topics if missing; return created."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import (
        InvalidReplicationFactorError,
        KafkaError,
        TopicAlreadyExistsError,
        TopicAuthorizationFailedError,
    )

    wanted = [settings.topic_mentions, settings.topic_dead, settings.topic_observations]
    try:
        admin = KafkaAdminClient(**kafka_python_options(settings),
                                 client_id=f"{settings.app_id}-admin",
                                 request_timeout_ms=15_000)
    except KafkaError as exc:
        raise unreachable(settings, exc) from None
    try:
        missing = [t for t in wanted if t not in set(admin.list_topics())]
        created = []
        for topic in missing:
            try:
                admin.create_topics([NewTopic(
                    topic, num_partitions=settings.partitions,
                    replication_factor=settings.replication_factor,
                    topic_configs=topic_configs(settings))])
                created.append(topic)
            except TopicAlreadyExistsError:
                pass  # another worker made it first
            except InvalidReplicationFactorError:
                raise ConfigError(
                    f"{settings.where('replication_factor')}={settings.replication_factor}"
                    " is more than the brokers Kafka has: lower it (1 for the local"
                    " single broker)") from None
            except TopicAuthorizationFailedError:
                raise ConfigError(f"Kafka refused to create topic {topic!r}: create it"
                                  " (deploy/kubernetes/kafka.yaml) or allow this user to"
                                  ) from None
        if created:
            log.info("created topics=%s partitions=%d replication=%d retention_hours=%g",
                     ",".join(created), settings.partitions, settings.replication_factor,
                     settings.topic_retention_hours)
        return created
    finally:
        admin.close()
