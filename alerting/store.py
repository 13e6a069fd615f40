"""Where alert events go: the store seam, the key layout, and the store chosen by URL.

:class:`AlertStore` is the seam; two implementations, both owned here:

- :class:`alerting.redis_store.RedisAlertStore` (``redis://``, ``rediss://``,
  ``unix://``): production; PUBLISH for live subscribers, a capped stream for
  catch-up, incident records and timelines with a retention TTL.
- :class:`alerting.memory_store.MemoryAlertStore` (``memory://``): the same
  behaviour in a dict, for tests and for drivers that need no Redis.

Given :class:`alerting.story.StoryRules`, a store groups the incidents of
linked entities into stories as it stores their events (atomically with the
write), and sets each event's ``story``.

Wrap either in :class:`alerting.delivery.DurableDelivery` so that an
unreachable Redis delays events instead of losing them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from alerting.errors import AlertStoreConfigError

if TYPE_CHECKING:
    from alerting.event import AlertEvent
    from alerting.liveness import Heartbeat, History
    from alerting.story import Story
    from alerting.timeline import IncidentRecord, Timeline, TimelinePoint

__all__ = ["DEFAULT_RETENTION", "DEFAULT_STREAM_MAXLEN", "AlertStore", "Keys", "open_store"]

DEFAULT_RETENTION = 30 * 24 * 3600  # incidents are reviewed for weeks, not forever
DEFAULT_STREAM_MAXLEN = 100_000  # a console offline for days still catches up


class AlertStore(Protocol):
    """Alert events, incidents, timelines, stories and the pipeline's signs of life.

    Every method raises :class:`alerting.errors.AlertStoreUnavailable` when the
    store cannot be reached (retry later) and ``AlertStoreAuthError`` when it
    refuses the credentials.
    """

    keys: Keys

    def publish(self, event: AlertEvent) -> str | None:
        """Deliver once: log, record, story, PUBLISH. The stream id, or None if delivered
        before (the same ``event_id``)."""
        ...

    def record_points(self, incident_id: str, points: Iterable[TimelinePoint]) -> None:
        """Store per-minute points by event time; the same minute again overwrites itself."""
        ...

    def catch_up(self, last_id: str = "0-0",
                 count: int | None = None) -> list[tuple[str, AlertEvent]]:
        """Events logged after stream id ``last_id``, oldest first."""
        ...

    def open_incidents(self) -> list[IncidentRecord]: ...

    def incidents(self, entity_id: str | None = None) -> list[IncidentRecord]:
        """Every incident within retention, open and resolved, newest first."""
        ...

    def incident(self, incident_id: str) -> IncidentRecord | None: ...

    def timeline(self, incident_id: str) -> Timeline | None: ...

    def story(self, story_id: str) -> Story | None:
        """The story as its latest event left it (None: unknown, or expired)."""
        ...

    def beat(self, heartbeat: Heartbeat) -> None:
        """Record a worker's heartbeat (and forget workers silent for a day)."""
        ...

    def heartbeats(self) -> list[Heartbeat]: ...

    def history(self) -> History | None:
        """The history marker (None: this store has no history, e.g. Redis restarted empty)."""
        ...

    def begin_history(self, now: float, holding_open: bool) -> tuple[History, bool]:
        """The marker, created now if missing (then True): lost if a worker holds open
        incidents (``holding_open``), since nothing else can have emptied it."""
        ...

    def history_rebuilt(self, now: float, restored: int) -> None:
        """A worker has republished its open incidents into this history."""
        ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


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

    def story(self, story_id: str) -> str:
        return f"{self.prefix}:story:{story_id}"

    @property
    def stories(self) -> str:
        """The stories that can still gather incidents (alerting.story.StoryState)."""
        return f"{self.prefix}:stories:active"

    @property
    def workers(self) -> str:
        """Hash: worker id -> its latest heartbeat."""
        return f"{self.prefix}:workers"

    @property
    def history(self) -> str:
        """Hash: when this store's history began, was lost, was rebuilt."""
        return f"{self.prefix}:history"


def open_store(url: str, **options: Any) -> AlertStore:
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
