"""The notification outbox: retries with exponential backoff and jitter; never drops one.

:meth:`Outbox.deliver` tries a notification up to ``retry.attempts`` times,
waiting ``retry.delay(n)`` (doubling, capped, times a jitter in [0.5, 1])
between attempts. Delivered: removed from the journal. Out of attempts, or
refused outright (:class:`PermanentDeliveryError`): moved to the journal's
failed set and logged at ERROR with the id, channel and reason (never the
text of a post). :meth:`Outbox.replay_failed` puts the failed ones back and
tries them again: the notify process calls it on every start.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from alerting.notifiers.errors import DeliveryError, PermanentDeliveryError
from alerting.notifiers.journal import MemoryJournal
from alerting.notifiers.notification import Notification
from alerting.notifiers.policy import Retry
from alerting.notifiers.redis_journal import RedisJournal

__all__ = ["Notifier", "Outbox"]

log = logging.getLogger(__name__)

Journal = MemoryJournal | RedisJournal


class Notifier(Protocol):
    """WebhookNotifier, EmailNotifier and RecordingNotifier all have this one method."""

    async def send(self, notification: Notification) -> None: ...


class Outbox:
    """Deliver notifications through their channel's notifier, with retries.

    >>> import asyncio
    >>> from alerting.event import AlertEvent
    >>> from alerting.notifiers.memory import RecordingNotifier
    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "critical", 1714566840.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> duty, journal = RecordingNotifier(fail_next=2), MemoryJournal()
    >>> async def no_wait(seconds): pass
    >>> outbox = Outbox({"duty": duty}, journal, Retry(attempts=3), sleep=no_wait)
    >>> asyncio.run(outbox.deliver(Notification("duty", e, 0.0))), duty.attempts
    (True, 3)
    """

    def __init__(self, notifiers: Mapping[str, Notifier], journal: Journal, retry: Retry, *,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 rng: random.Random | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.notifiers = notifiers
        self.journal = journal
        self.retry = retry
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock

    async def deliver(self, notification: Notification) -> bool:
        """Try until delivered (True) or out of attempts (False: kept in the failed set)."""
        n = notification
        notifier = self.notifiers.get(n.channel)
        error, attempt = f"no channel named '{n.channel}' in the policy", 0
        while notifier is not None and attempt < self.retry.attempts:
            attempt += 1
            try:
                await notifier.send(n)
            except PermanentDeliveryError as exc:
                error = str(exc)
                break
            except DeliveryError as exc:
                error = str(exc)
                log.warning("notification attempt failed id=%s channel=%s attempt=%d/%d"
                            " error=%s", n.id, n.channel, attempt, self.retry.attempts, exc)
                if attempt < self.retry.attempts:
                    await self._sleep(self.retry.delay(attempt, self._rng.uniform(0.5, 1.0)))
                continue
            await self.journal.done(n)
            log.info("notification delivered id=%s channel=%s severity=%s event=%s"
                     " renotify=%d attempts=%d", n.id, n.channel, n.event.severity,
                     n.event.event, n.renotify, attempt)
            return True
        await self.journal.fail(n, error, attempt, self._clock())
        log.error("notification FAILED id=%s channel=%s severity=%s attempts=%d error=%s"
                  " kept=failed (replayed on the next start of firestorm notify)",
                  n.id, n.channel, n.event.severity, attempt, error)
        return False

    async def replay_failed(self) -> tuple[int, int]:
        """Put every failed notification back and try it again: (delivered, failed again)."""
        again = await self.journal.requeue_failed()
        if again:
            log.info("replaying failed notifications count=%d", len(again))
        results = await asyncio.gather(*(self.deliver(n) for n in again))
        return sum(results), len(results) - sum(results)
