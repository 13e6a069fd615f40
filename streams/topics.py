"""Create Firestorm's topics before a worker subscribes to them.

A Faust worker that starts before its source topic exists ignores the topic
and never picks it up later, so the worker makes sure they all exist first.
"""

from __future__ import annotations

import logging

from streams.errors import FirestormError
from streams.settings import Settings

__all__ = ["ensure_topics"]

log = logging.getLogger(__name__)


def ensure_topics(settings: Settings) -> list[str]:
    """Create the mentions, dead-letter and observations topics if missing; return created."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    wanted = [settings.topic_mentions, settings.topic_dead, settings.topic_observations]
    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","),
                                 client_id=f"{settings.app_id}-admin",
                                 request_timeout_ms=15_000)
    except KafkaError as exc:
        raise FirestormError(f"cannot reach Kafka at {settings.kafka_bootstrap} ({exc});"
                             " is the broker up? try: deploy/local/stack.sh start") from None
    try:
        missing = [t for t in wanted if t not in set(admin.list_topics())]
        created = []
        for topic in missing:
            try:
                admin.create_topics([NewTopic(topic, num_partitions=settings.partitions,
                                              replication_factor=1)])
                created.append(topic)
            except TopicAlreadyExistsError:
                pass  # another worker made it first
        if created:
            log.info("created topics=%s partitions=%d", ",".join(created), settings.partitions)
        return created
    finally:
        admin.close()
