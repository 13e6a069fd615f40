"""Where notifications wait: pending until delivered, failed until replayed; and planner state.

The journal is the notifier's durable memory. A notification is written to it
(``commit``) before any attempt is made, removed only by a successful
delivery (``done``), and moved to the failed set (``fail``) when its attempts
are used up. Nothing leaves the failed set except by ``requeue_failed``,
which the notify process calls on every start. So a failed delivery is
reported and retried, never lost.

Two implementations of one seam, both owned here:

- :class:`MemoryJournal`: in process memory, for tests and dry runs;
- :class:`alerting.notifiers.redis_journal.RedisJournal`: in Redis, where
  ``commit`` also saves the planner state and XACKs the alert-log entries in
  the same MULTI/EXEC, so a crash either redoes a step or has fully done it.

Both have the same (async) methods::

    load_state() -> PlannerState
    commit(notifications, state=None, acks=())    # acks: alert-log stream ids
    pending() -> list[Notification]               # oldest first
    done(notification); fail(notification, error, attempts, at)
    failed() -> list[Failure]; requeue_failed() -> list[Notification]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alerting.event import format_time, parse_time
from alerting.notifiers.notification import Notification
from alerting.notifiers.planner import PlannerState

__all__ = ["Failure", "MemoryJournal"]


@dataclass(frozen=True, slots=True)
class Failure:
    """A notification whose attempts ran out, why, and when (kept for replay).

    >>> from alerting.event import AlertEvent
    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "critical", 1714566840.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> f = Failure(Notification("duty", e, 0.0), "HTTP 500", 5, 1714566900.0)
    >>> Failure.from_dict(f.to_dict()) == f, f.to_dict()["failed_at"]
    (True, '2024-05-01T12:35:00Z')
    """

    notification: Notification
    error: str
    attempts: int
    failed_at: float

    def to_dict(self) -> dict[str, Any]:
        return {"notification": self.notification.to_dict(), "error": self.error,
                "attempts": self.attempts, "failed_at": format_time(self.failed_at)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Failure:
        return cls(Notification.from_dict(data["notification"]), str(data["error"]),
                   int(data["attempts"]), parse_time(data["failed_at"], "failed_at"))


class MemoryJournal:
    """The journal in process memory (lost on exit: for tests and dry runs).

    >>> import asyncio
    >>> from alerting.event import AlertEvent
    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "critical", 1714566840.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> j, n = MemoryJournal(), Notification("duty", e, 0.0)
    >>> asyncio.run(j.commit([n])); asyncio.run(j.fail(n, "HTTP 500", 5, 60.0))
    >>> len(asyncio.run(j.pending())), len(asyncio.run(j.failed()))
    (0, 1)
    >>> [x.id for x in asyncio.run(j.requeue_failed())], len(asyncio.run(j.pending()))
    (['acme-20240501T123400Z:1/duty'], 1)
    """

    def __init__(self) -> None:
        self.state = PlannerState()
        self.acked: list[str] = []
        self._pending: dict[str, Notification] = {}
        self._failed: dict[str, Failure] = {}

    async def load_state(self) -> PlannerState:
        return self.state

    async def commit(self, notifications: Sequence[Notification],
                     state: PlannerState | None = None, acks: Sequence[str] = ()) -> None:
        for n in notifications:
            self._pending[n.id] = n
        if state is not None:
            self.state = state
        self.acked += acks

    async def pending(self) -> list[Notification]:
        return sorted(self._pending.values(), key=lambda n: (n.planned_at, n.id))

    async def done(self, notification: Notification) -> None:
        self._pending.pop(notification.id, None)

    async def fail(self, notification: Notification, error: str, attempts: int,
                   at: float) -> None:
        self._pending.pop(notification.id, None)
        self._failed[notification.id] = Failure(notification, error, attempts, at)

    async def failed(self) -> list[Failure]:
        return sorted(self._failed.values(), key=lambda f: (f.failed_at, f.notification.id))

    async def requeue_failed(self) -> list[Notification]:
        moved = [f.notification for f in await self.failed()]
        self._failed.clear()
        await self.commit(moved)
        return moved
