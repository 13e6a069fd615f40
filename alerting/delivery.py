"""The outbox: events are never dropped when Redis is unreachable; the worker keeps going.

:class:`DurableDelivery` sits in front of a store. Every event (and every new
timeline point) joins an in-order queue; the queue is flushed at once when the
store answers, and kept when it does not. After a failure it waits (backoff,
0.5 s doubling to 30 s) before touching the store again, so a dead Redis costs
the worker one short timeout per backoff period, not one per event. Nothing
is ever dropped from the queue except by a successful delivery.

With ``spill_path`` the queue is also written ahead to a JSONL file and
reloaded on start, so events queued while Redis was down survive a worker
restart. Redelivery is safe: the store delivers each ``event_id`` once.

Call :meth:`DurableDelivery.flush` on a timer (say every second) so queued
events go out when Redis returns even if no new event arrives.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from alerting.errors import AlertStoreAuthError, AlertStoreUnavailable
from alerting.event import AlertEvent
from alerting.lifecycle import IncidentState
from alerting.memory_store import MemoryAlertStore
from alerting.redis_store import RedisAlertStore
from alerting.timeline import TimelinePoint

__all__ = ["DurableDelivery"]

log = logging.getLogger(__name__)

Store = RedisAlertStore | MemoryAlertStore
_Item = tuple[str, Any]  # ("event", AlertEvent) | ("points", (incident_id, points))


class DurableDelivery:
    """Deliver events and timeline points in order, keeping them while the store is down.

    >>> from alerting.memory_store import MemoryAlertStore
    >>> from alerting.event import AlertEvent
    >>> store = MemoryAlertStore()
    >>> outbox = DurableDelivery(store, clock=lambda: 1714566845.0, monotonic=lambda: 0.0)
    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "warning", 1714566840.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> store.available = False
    >>> outbox.deliver([e]), outbox.pending              # kept, not lost
    (0, 1)
    >>> store.available = True
    >>> outbox.flush(force=True), outbox.pending
    (1, 0)
    """

    def __init__(self, store: Store, *, spill_path: str | os.PathLike[str] | None = None,
                 clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic,
                 min_backoff: float = 0.5, max_backoff: float = 30.0) -> None:
        self.store = store
        self._clock = clock
        self._monotonic = monotonic
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._backoff = 0.0
        self._next_try = 0.0
        self._queue: deque[_Item] = deque()
        self._points_sent: dict[str, float] = {}  # incident id -> last point at queued
        self._lock = threading.Lock()
        self._spill = Path(spill_path) if spill_path is not None else None
        if self._spill is not None and self._spill.exists():
            self._reload()

    @property
    def pending(self) -> int:
        """Items waiting for the store (events and point batches)."""
        return len(self._queue)

    @property
    def healthy(self) -> bool:
        """False while the store is failing (for the worker's health check)."""
        return self._backoff == 0.0

    def deliver(self, events: Sequence[AlertEvent], state: IncidentState | None = None) -> int:
        """Queue ``events`` (stamped with ``emitted_at``) and the new timeline points of
        ``state``'s incident, then flush if the store is due a try. Returns items delivered.
        """
        with self._lock:
            items: list[_Item] = [
                ("event", e if e.emitted_at is not None else e.stamped(self._clock()))
                for e in events]
            incident = state.incident if state is not None else None
            if incident is not None:
                since = self._points_sent.get(incident.id, float("-inf"))
                fresh = tuple(p for p in incident.points if p.at > since)
                if fresh:
                    self._points_sent[incident.id] = fresh[-1].at
                    items.append(("points", (incident.id, fresh)))
            if items:
                self._write_ahead(items)
                self._queue.extend(items)
            return self._flush(force=False)

    def publish(self, event: AlertEvent) -> None:
        """One event: ``deliver([event])``, for callers that handle events one at a time."""
        self.deliver([event])

    def flush(self, *, force: bool = False) -> int:
        """Deliver what is queued, in order; ``force`` ignores the backoff."""
        with self._lock:
            return self._flush(force=force)

    def _flush(self, *, force: bool) -> int:
        if not self._queue or (not force and self._monotonic() < self._next_try):
            return 0
        delivered = 0
        while self._queue:
            kind, payload = self._queue[0]
            try:
                if kind == "event":
                    self.store.publish(payload)
                else:
                    self.store.record_points(*payload)
            except (AlertStoreUnavailable, AlertStoreAuthError) as exc:
                # Kept, in order. An auth failure is a config error that a fix of the
                # Redis side can cure without restarting us, so it is retried too.
                self._backoff = min(max(self._backoff * 2, self._min_backoff), self._max_backoff)
                self._next_try = self._monotonic() + self._backoff
                level = logging.ERROR if isinstance(exc, AlertStoreAuthError) else logging.WARNING
                log.log(level, "alert store failing pending=%d retry_in=%.1fs error=%s",
                        len(self._queue), self._backoff, exc)
                return delivered
            self._queue.popleft()
            delivered += 1
        if self._backoff:
            log.info("alert store back delivered=%d", delivered)
        self._backoff = 0.0
        self._next_try = 0.0
        self._truncate()
        return delivered

    def _write_ahead(self, items: list[_Item]) -> None:
        if self._spill is None:
            return
        with self._spill.open("a", encoding="utf-8") as out:
            for kind, payload in items:
                out.write(json.dumps(_item_dict(kind, payload), ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def _truncate(self) -> None:
        if self._spill is not None and self._spill.exists() and self._spill.stat().st_size:
            self._spill.write_bytes(b"")

    def _reload(self) -> None:
        assert self._spill is not None
        bad = 0
        for line in self._spill.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if data["kind"] == "event":
                    self._queue.append(("event", AlertEvent.from_dict(data["event"])))
                else:
                    points = tuple(TimelinePoint.from_dict(p) for p in data["points"])
                    self._queue.append(("points", (data["incident_id"], points)))
            except (ValueError, KeyError, TypeError):
                bad += 1  # a line torn by a crash mid-write; the rest is still good
        if bad:
            log.warning("outbox spill file unreadable lines skipped=%d path=%s", bad, self._spill)
        if self._queue:
            log.info("outbox reloaded pending=%d path=%s", len(self._queue), self._spill)


def _item_dict(kind: str, payload: Any) -> dict[str, Any]:
    if kind == "event":
        return {"kind": "event", "event": payload.to_dict()}
    incident_id, points = payload
    return {"kind": "points", "incident_id": incident_id,
            "points": [p.to_dict() for p in points]}
