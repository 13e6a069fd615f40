"""RecordingNotifier: the notifier seam in memory, for pure tests and dry runs.

Not a mock: it keeps what it was sent, in order, and can be told to fail the
next N attempts (or every attempt) the way an unreachable receiver would.
"""

from __future__ import annotations

from alerting.notifiers.errors import DeliveryError, PermanentDeliveryError
from alerting.notifiers.notification import Notification

__all__ = ["RecordingNotifier"]


class RecordingNotifier:
    """Keep every notification it is sent; fail on request.

    >>> import asyncio
    >>> from alerting.event import AlertEvent
    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "critical", 1714566840.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> r = RecordingNotifier(fail_next=1)
    >>> try:
    ...     asyncio.run(r.send(Notification("duty", e, 0.0)))
    ... except DeliveryError as exc:
    ...     print(exc)
    recording notifier: failing as asked (attempt 1)
    >>> asyncio.run(r.send(Notification("duty", e, 0.0))); [n.id for n in r.sent]
    ['acme-20240501T123400Z:1/duty']
    """

    def __init__(self, *, fail_next: int = 0, available: bool = True,
                 permanent: bool = False) -> None:
        self.sent: list[Notification] = []
        self.attempts = 0
        self.fail_next = fail_next  # fail this many attempts, then deliver
        self.available = available  # False: fail every attempt until set back
        self.permanent = permanent  # failures are PermanentDeliveryError

    async def send(self, notification: Notification) -> None:
        self.attempts += 1
        if not self.available or self.fail_next > 0:
            self.fail_next = max(0, self.fail_next - 1)
            kind = PermanentDeliveryError if self.permanent else DeliveryError
            raise kind(f"recording notifier: failing as asked (attempt {self.attempts})")
        self.sent.append(notification)
