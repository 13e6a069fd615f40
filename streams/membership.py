"""Consumer-group membership: take partitions back at once after a restart, give them up
at once on a clean stop.

A worker is a *static* member of its group (Kafka's ``group.instance.id``, KIP-345):
when it comes back after a crash under the same id, the broker hands it its
partitions straight away instead of waiting for the dead member's session to
expire (faust's default session was 60 s, so every ``kill -9`` meant more than a
minute without detection). The id is kept in the data dir, so it survives restarts
and two workers with their own data dirs never share one. A static member does not
leave its group when it stops, so on a clean stop (SIGTERM, SIGINT) :func:`leave`
removes it by id: another worker takes its partitions now, not after the session
timeout (``FIRESTORM_SESSION_TIMEOUT``, which still bounds how long a crashed
worker that does not come back holds them).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from pathlib import Path

from streams.errors import ConfigError
from streams.kafka_client import kafka_python_options
from streams.settings import Settings

__all__ = ["instance_id", "leave"]

log = logging.getLogger("firestorm.worker")


def instance_id(settings: Settings) -> str:
    """``FIRESTORM_INSTANCE_ID``, else the id kept in the data dir (made on first start)."""
    if settings.instance_id:
        return settings.instance_id
    path = Path(settings.instance_id_path)
    try:
        kept = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        kept = ""
    except OSError as exc:
        raise ConfigError(f"cannot read the worker's instance id {path} ({exc}): fix the"
                          " permissions of FIRESTORM_DATA_DIR or set FIRESTORM_INSTANCE_ID"
                          ) from None
    if kept:
        return kept
    made = f"{settings.app_id}-{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(made + "\n", encoding="utf-8")
    os.replace(tmp, path)
    log.info("static group member id=%s kept in %s", made, path)
    return made


def leave(settings: Settings, member: str) -> bool:
    """Remove static member ``member`` from the worker's group now; False if it failed
    (the broker then frees the partitions after the session timeout)."""
    from kafka.admin import KafkaAdminClient, MemberToRemove
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(**kafka_python_options(settings),
                                 client_id=f"{settings.app_id}-leave", request_timeout_ms=5_000)
    except KafkaError as exc:
        log.warning("leaving group=%s member=%s failed: %s", settings.app_id, member, exc)
        return False
    try:
        result = admin.remove_group_members(
            settings.app_id, [MemberToRemove(group_instance_id=member)])
    except KafkaError as exc:
        log.warning("leaving group=%s member=%s failed: %s", settings.app_id, member, exc)
        return False
    finally:
        admin.close()
    errors = [e for e in result.values() if e.__name__ != "NoError"]
    if errors:  # UnknownMemberId: never joined, or already gone; nothing to free
        log.info("left group=%s member=%s: %s", settings.app_id, member,
                 ", ".join(e.__name__ for e in errors))
        return False
    log.info("left group=%s member=%s: its partitions go to the other workers now",
             settings.app_id, member)
    return True
