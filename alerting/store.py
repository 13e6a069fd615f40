"""Where alert events go: the key layout both stores share, and the store chosen by URL.

Two implementations of one seam, both owned here:

- :class:`alerting.redis_store.RedisAlertStore` (``redis://``, ``rediss://``,
  ``unix://``): production; PUBLISH for live subscribers, a capped stream for
  catch-up, incident records and timelines with a retention TTL.
- :class:`alerting.memory_store.MemoryAlertStore` (``memory://``): the same
  behaviour in a dict, for tests and for drivers that need no Redis.

Both have the same methods::

    publish(event) -> str | None          # stream id, or None if already delivered
    record_points(incident_id, points)    # idempotent per-minute timeline points
    catch_up(last_id="0-0", count=None) -> list[tuple[str, AlertEvent]]
    open_incidents() -> list[IncidentRecord]
    incidents(entity_id=None) -> list[IncidentRecord]   # newest first, open and resolved
    incident(incident_id) -> IncidentRecord | None
    timeline(incident_id) -> Timeline | None
    ping(); close()

Wrap either in :class:`alerting.delivery.DurableDelivery` so that an
unreachable Redis delays events instead of losing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alerting.errors import AlertStoreConfigError

if TYPE_CHECKING:
    from alerting.memory_store import MemoryAlertStore
    from alerting.redis_store import RedisAlertStore

__all__ = ["DEFAULT_RETENTION", "DEFAULT_STREAM_MAXLEN", "Keys", "open_store"]

DEFAULT_RETENTION = 30 * 24 * 3600  # incidents are reviewed for weeks, not forever
DEFAULT_STREAM_MAXLEN = 100_000  # a console offline for days still catches up


@dataclass(frozen=True, slots=True)
class Keys:
    """Redis channel and key names, under one prefix (``firestorm`` in production).

    >>> k = Keys()
    >>> k.channel(), k.channel("acme"), k.stream
    ('firestorm:alerts', 'firestorm:alerts:acme', 'firestorm:alerts:log')
    >>> k.incident("acme-20240501T123400Z")
    'firestorm:incident:acme-20240501T123400Z'
    >>> k.incident_index
    'firestorm:incidents:index'
    """

    prefix: str = "firestorm"

    def channel(self, entity_id: str | None = None) -> str:
        base = f"{self.prefix}:alerts"
        return base if entity_id is None else f"{base}:{entity_id}"

    @property
    def stream(self) -> str:
        return f"{self.prefix}:alerts:log"

    @property
    def open_set(self) -> str:
        return f"{self.prefix}:incidents:open"

    @property
    def incident_index(self) -> str:
        return f"{self.prefix}:incidents:index"

    @property
    def incident_index_ready(self) -> str:
        return f"{self.prefix}:incidents:index:ready"

    def seen(self, event_id: str) -> str:
        return f"{self.prefix}:alerts:seen:{event_id}"

    def incident(self, incident_id: str) -> str:
        return f"{self.prefix}:incident:{incident_id}"

    def events(self, incident_id: str) -> str:
        return f"{self.prefix}:incident:{incident_id}:events"

    def points(self, incident_id: str) -> str:
        return f"{self.prefix}:incident:{incident_id}:points"


def open_store(url: str, **options: Any) -> RedisAlertStore | MemoryAlertStore:
    """The store a URL names; ``options`` are the chosen class's keyword arguments.

    >>> open_store("memory://").__class__.__name__
    'MemoryAlertStore'
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        from alerting.memory_store import MemoryAlertStore

        return MemoryAlertStore(**options)
    if scheme in ("redis", "rediss", "unix"):
        from alerting.redis_store import RedisAlertStore

        return RedisAlertStore(url, **options)
    raise AlertStoreConfigError(
        f"alert store URL {url!r}: scheme must be redis://, rediss:// (TLS), unix:// or"
        " memory://, e.g. redis://:PASSWORD@localhost:6379/0")
