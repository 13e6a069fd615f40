"""Create Firestorm's topics before a worker subscribes to them.

A Faust worker that starts before its source topic exists ignores the topic
and never picks it up later, so the worker makes sure they all exist first.
"""

from __future__ import annotations

import logging
from typing import Any

from streams.errors import ConfigError, FirestormError
from streams.kafka_client import kafka_python_options, unreachable
from streams.settings import Settings

__all__ = ["ensure_topics", "require_topic", "topic_configs"]

log = logging.getLogger(__name__)


def topic_configs(settings: Settings) -> dict[str, str]:
    """Broker configs of the three topics: retention of the raw posts they carry."""
    configs = {"retention.ms": str(int(settings.topic_retention_hours * 3_600_000))}
    if settings.replication_factor > 1:
        # acks=all then means "on at least two brokers": one broker may be down.
        configs["min.insync.replicas"] = str(min(2, settings.replication_factor))
    return configs


def ensure_topics(settings: Settings) -> list[str]:
    """Create the mentions, dead-letter and observations topics if missing (partitions,
    replication and retention from the settings); return those created."""
    from kafka.admin import NewTopic
    from kafka.errors import (
        InvalidReplicationFactorError,
        TopicAlreadyExistsError,
        TopicAuthorizationFailedError,
    )

    wanted = [settings.topic_mentions, settings.topic_dead, settings.topic_observations]
    admin = _admin(settings, "admin")
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
                                  " (deploy/kubernetes/11-topics.yaml) or allow this user to"
                                  ) from None
        if created:
            log.info("created topics=%s partitions=%d replication=%d retention_hours=%g",
                     ",".join(created), settings.partitions, settings.replication_factor,
                     settings.topic_retention_hours)
        return created
    finally:
        admin.close()


def require_topic(settings: Settings, topic: str, what: str) -> None:
    """Fail with the fix if ``topic`` does not exist: never let a send create it.

    A client that writes to a topic it expects a worker to read must not create
    it by writing (a broker with ``auto.create.topics.enable`` would): nobody
    reads that new topic, so whatever was sent is lost without a word. The
    admin client's listing asks for no topic by name, so it creates nothing.
    """
    from kafka.errors import KafkaError

    admin = _admin(settings, "check")
    try:
        topics = set(admin.list_topics())
    except KafkaError as exc:
        raise FirestormError(f"cannot list the topics at {settings.kafka_bootstrap}:"
                             f" {exc}") from None
    finally:
        admin.close()
    if topic not in topics:
        ours = sorted(t for t in topics if not t.startswith("_"))[:8]
        raise FirestormError(
            f"topic {topic!r} does not exist at {settings.kafka_bootstrap}, so no worker"
            f" reads {what} there and they would be lost. Use the settings the worker runs"
            " with (FIRESTORM_TOPIC_MENTIONS, FIRESTORM_TOPIC_OBSERVATIONS,"
            " FIRESTORM_KAFKA_BOOTSTRAP; the demo writes them to .stack/demo/env: run"
            " `source .stack/demo/env`), or start `firestorm worker`, which creates its"
            f" topics. Topics there now: {', '.join(ours) or 'none'}")


def _admin(settings: Settings, role: str) -> Any:
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        return KafkaAdminClient(**kafka_python_options(settings),
                                client_id=f"{settings.app_id}-{role}",
                                request_timeout_ms=15_000)
    except KafkaError as exc:
        raise unreachable(settings, exc) from None
