"""The alert store in a dict: same behaviour as Redis, for tests and Redis-less drivers.

Not a mock: it keeps the same dedupe, stream ids, capped log, records and
timelines as :class:`alerting.redis_store.RedisAlertStore`, and it can be
switched off (``available = False``) to show what callers do when the real
one is unreachable. Retention is not enforced in memory.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from alerting.errors import AlertStoreUnavailable
from alerting.event import AlertEvent
from alerting.liveness import Heartbeat, History
from alerting.store import DEFAULT_RETENTION, DEFAULT_STREAM_MAXLEN, Keys
from alerting.story import Stories, Story, StoryRules
from alerting.timeline import IncidentRecord, Timeline, TimelinePoint, record_fields

STALE_WORKER = 86_400.0  # a worker silent this long is forgotten (it was stopped or moved)

__all__ = ["MemoryAlertStore"]


class MemoryAlertStore:
    """Alert events, incidents and timelines in process memory.

    >>> from alerting.event import AlertEvent
    >>> store = MemoryAlertStore(clock=lambda: 1714566845.0)
    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "warning", 1714566840.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> store.publish(e), store.publish(e)          # the second is a redelivery
    ('1714566845000-0', None)
    >>> [i.incident_id for i in store.open_incidents()]
    ['acme-20240501T123400Z']
    >>> [event.seq for _, event in store.catch_up("0-0")]
    [1]
    """

    def __init__(self, *, stream_maxlen: int = DEFAULT_STREAM_MAXLEN,
                 retention_seconds: int = DEFAULT_RETENTION, prefix: str = "firestorm",
                 clock: Callable[[], float] = time.time,
                 stories: StoryRules | None = None) -> None:
        self.keys = Keys(prefix)
        self.rules = stories
        self.stream_maxlen = stream_maxlen
        self.retention_seconds = retention_seconds
        self.available = True  # set False to behave like an unreachable Redis
        self._clock = clock
        self._lock = threading.Lock()  # one publish at a time, as the Redis script is
        self.forget_everything()

    def forget_everything(self) -> None:
        """Lose every key, as a Redis restart without persistence does."""
        self._seen: set[str] = set()
        self._log: deque[tuple[str, AlertEvent]] = deque(maxlen=self.stream_maxlen)
        self._last_id = (0, 0)
        self._records: dict[str, dict[str, str]] = {}
        self._events: dict[str, list[AlertEvent]] = {}
        self._points: dict[str, dict[float, TimelinePoint]] = {}
        self._open: set[str] = set()
        self._channels: dict[str, list[AlertEvent]] = {}
        self._stories = Stories(self.rules) if self.rules is not None else None
        self._workers: dict[str, Heartbeat] = {}
        self._history: History | None = None

    def publish(self, event: AlertEvent) -> str | None:
        """Deliver once: log, record, publish; None if this event_id was delivered before."""
        self._check()
        with self._lock:
            return self._publish(event)

    def _publish(self, event: AlertEvent) -> str | None:
        if event.event_id in self._seen:
            return None
        self._seen.add(event.event_id)
        if self._stories is not None:
            event = self._stories.tell(event)
        stream_id = self._next_id()
        self._log.append((stream_id, event))
        record = self._records.setdefault(event.incident_id, {})
        if event.seq >= int(record.get("last_seq", 0)):  # an older event never undoes a newer
            record.update(record_fields(event))
        self._events.setdefault(event.incident_id, []).append(event)
        if event.event == "resolved":
            self._open.discard(event.incident_id)
        elif event.event != "acknowledged":
            self._open.add(event.incident_id)
        for channel in (self.keys.channel(), self.keys.channel(event.entity_id)):
            self._channels.setdefault(channel, []).append(event)
        return stream_id

    def record_points(self, incident_id: str, points: Iterable[TimelinePoint]) -> None:
        """Store per-minute points; the same minute again overwrites itself."""
        self._check()
        self._points.setdefault(incident_id, {}).update({p.at: p for p in points})

    def catch_up(self, last_id: str = "0-0",
                 count: int | None = None) -> list[tuple[str, AlertEvent]]:
        """Events logged after stream id ``last_id``, oldest first."""
        self._check()
        after = _parse_id(last_id)
        out = [(sid, e) for sid, e in self._log if _parse_id(sid) > after]
        return out if count is None else out[:count]

    def open_incidents(self) -> list[IncidentRecord]:
        self._check()
        records = [IncidentRecord.from_fields(self._records[i]) for i in self._open]
        return sorted(records, key=lambda r: (r.opened_at or r.last_at, r.incident_id))

    def incidents(self, entity_id: str | None = None) -> list[IncidentRecord]:
        """Every incident (open and resolved), newest first; optionally of one entity."""
        self._check()
        records = [IncidentRecord.from_fields(f) for f in self._records.values()
                   if entity_id is None or f["entity_id"] == entity_id]
        return sorted(records, key=lambda r: (r.opened_at or r.last_at, r.incident_id),
                      reverse=True)

    def incident(self, incident_id: str) -> IncidentRecord | None:
        self._check()
        fields = self._records.get(incident_id)
        return None if fields is None else IncidentRecord.from_fields(fields)

    def timeline(self, incident_id: str) -> Timeline | None:
        self._check()
        if incident_id not in self._events and incident_id not in self._points:
            return None
        points = self._points.get(incident_id, {})
        return Timeline(incident_id, tuple(points[at] for at in sorted(points)),
                        tuple(sorted(self._events.get(incident_id, ()), key=lambda e: e.seq)))

    def story(self, story_id: str) -> Story | None:
        self._check()
        return self._stories.story(story_id) if self._stories is not None else None

    def beat(self, heartbeat: Heartbeat) -> None:
        self._check()
        self._workers[heartbeat.worker] = heartbeat
        for worker, beat in list(self._workers.items()):
            if heartbeat.at - beat.at > STALE_WORKER:
                del self._workers[worker]

    def heartbeats(self) -> list[Heartbeat]:
        self._check()
        return sorted(self._workers.values(), key=lambda h: h.worker)

    def history(self) -> History | None:
        self._check()
        return self._history

    def begin_history(self, now: float, holding_open: bool) -> tuple[History, bool]:
        self._check()
        if self._history is not None:
            return self._history, False
        self._history = History(now, now if holding_open else None)
        return self._history, True

    def history_rebuilt(self, now: float, restored: int) -> None:
        self._check()
        if self._history is not None:
            self._history = History(self._history.since, self._history.lost_at, now, restored)

    def channel_messages(self, channel: str) -> list[AlertEvent]:
        """What a subscriber of ``channel`` would have received (memory only)."""
        return list(self._channels.get(channel, ()))

    def ping(self) -> None:
        self._check()

    def close(self) -> None:
        """Nothing to release; present so both stores are used the same way."""

    def _check(self) -> None:
        if not self.available:
            raise AlertStoreUnavailable("memory store switched off (available=False)")

    def _next_id(self) -> str:
        ms = int(self._clock() * 1000)
        last_ms, last_seq = self._last_id
        self._last_id = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        return f"{self._last_id[0]}-{self._last_id[1]}"


def _parse_id(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)
