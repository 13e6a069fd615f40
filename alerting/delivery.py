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

:meth:`DurableDelivery.restore` puts a republished state (the 'restored'
events of open incidents, after Redis lost them) at the *front* of the queue:
it is the latest state, and events still waiting behind it are older.
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
from alerting.lifecycle import Emit
from alerting.store import AlertStore
from alerting.timeline import IncidentPoints, TimelinePoint

__all__ = ["DurableDelivery"]

log = logging.getLogger(__name__)

_Item = tuple[str, Any]  # ("event", AlertEvent) | ("points", IncidentPoints) | ("restore"...)


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

    def __init__(self, store: AlertStore, *, spill_path: str | os.PathLike[str] | None = None,
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
        self._restoring = 0  # restore items still in the queue
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

    @property
    def restoring(self) -> bool:
        """True while a republished state (:meth:`restore`) is still waiting for the store."""
        return self._restoring > 0

    def deliver(self, events: Sequence[AlertEvent],
                points: Sequence[IncidentPoints] = ()) -> int:
        """Queue ``events`` (stamped with ``emitted_at``) and new timeline ``points``,
        then flush if the store is due a try. Returns items delivered."""
        return self.deliver_steps([(events, points)])

    def deliver_steps(self, steps: Sequence[tuple[Sequence[AlertEvent],
                                                  Sequence[IncidentPoints]]]) -> int:
        """``deliver`` many steps' outputs at once, in order: one write-ahead (one fsync)
        and one flush for a worker's whole batch, not one per step, and the points of
        consecutive steps of one incident as one write (a batch closes several minutes
        of an entity in a row). Returns items delivered.

        >>> from alerting.memory_store import MemoryAlertStore
        >>> from alerting.timeline import TimelinePoint
        >>> def point(at):
        ...     return IncidentPoints("acme-1", (TimelinePoint(at, 9, 3.0, 0.4, 0.2, 1.0, None),))
        >>> DurableDelivery(MemoryAlertStore()).deliver_steps([([], [point(60.0)]),
        ...                                                    ([], [point(120.0)])])
        1
        """
        with self._lock:
            items: list[_Item] = []
            for events, points in steps:
                items += [("event", self._stamp(e)) for e in events]
                for p in points:
                    if not p.points:
                        continue
                    last = items[-1] if items else None
                    if last is not None and last[0] == "points" and \
                            last[1].incident_id == p.incident_id:
                        items[-1] = ("points", IncidentPoints(
                            p.incident_id, last[1].points + p.points))
                    else:
                        items.append(("points", p))
            if items:
                self._write_ahead(items)
                self._queue.extend(items)
            return self._flush(force=False)

    def deliver_emit(self, emit: Emit) -> int:
        """``deliver`` a lifecycle step's output."""
        return self.deliver(emit.events, emit.points)

    def restore(self, emit: Emit) -> int:
        """Queue a republished state ahead of everything waiting, and try to deliver it now.

        Not written ahead to the spill file: a worker that restarts republishes
        again from its state, which is where this came from. A republished event whose
        id is still waiting here is left out: the event itself will tell that state in
        its turn, and a 'restored' copy ahead of it would take its id, so the store
        would drop the real one (a worker started while Redis was down lost its
        'escalated' and 'updated' events that way in the soak).
        """
        with self._lock:
            waiting = {payload.event_id for kind, payload in self._queue if kind == "event"}
            items: list[_Item] = [("event", self._stamp(e)) for e in emit.events
                                  if e.event_id not in waiting]
            items += [("points", p) for p in emit.points if p.points]
            self._queue.extendleft(("restore", item) for item in reversed(items))
            self._restoring += len(items)
            return self._flush(force=True)

    def _stamp(self, event: AlertEvent) -> AlertEvent:
        return event if event.emitted_at is not None else event.stamped(self._clock())

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
            restoring = kind == "restore"
            if restoring:
                kind, payload = payload
            try:
                if kind == "event":
                    self.store.publish(payload)
                else:
                    self.store.record_points(payload.incident_id, payload.points)
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
            self._restoring -= restoring
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
                    self._queue.append(("points", IncidentPoints(data["incident_id"], points)))
            except (ValueError, KeyError, TypeError):
                bad += 1  # a line torn by a crash mid-write; the rest is still good
        if bad:
            log.warning("outbox spill file unreadable lines skipped=%d path=%s", bad, self._spill)
        if self._queue:
            log.info("outbox reloaded pending=%d path=%s", len(self._queue), self._spill)


def _item_dict(kind: str, payload: Any) -> dict[str, Any]:
    if kind == "event":
        return {"kind": "event", "event": payload.to_dict()}
    return {"kind": "points", "incident_id": payload.incident_id,
            "points": [p.to_dict() for p in payload.points]}
