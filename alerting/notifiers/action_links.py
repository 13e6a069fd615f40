"""The signed links a message carries: acknowledge from the phone, rate the alert. Pure.

A message about an unacknowledged incident carries ``<pages_url>/ack/<token>``;
a message about a resolved one carries ``<pages_url>/feedback/<token>``.
Tokens come from :mod:`alerting.links`: one incident, one purpose, an expiry
(``link_minutes`` after the notification was planned) and the channel it was
sent to. The nonce is derived from the notification id, so a retry of the same
message carries the same link, and a reminder a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerting.links import LinkClaim, link_nonce, sign_link
from alerting.notifiers.deadman import SystemAlert
from alerting.notifiers.message import Extras
from alerting.notifiers.notification import Notification

__all__ = ["ActionLinks", "extras_for"]


@dataclass(frozen=True, slots=True)
class ActionLinks:
    """Where the pages are, the key that signs, how long a link works.

    >>> from alerting.event import AlertEvent
    >>> links = ActionLinks(b"k" * 32, "https://fs.example", 60.0)
    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "critical", 1714566840.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> extras = extras_for(Notification("duty", e, 1714566845.0), links)
    >>> extras.ack_link.startswith("https://fs.example/ack/v1."), extras.feedback_link
    (True, None)
    """

    key: bytes
    base_url: str
    minutes: float = 240.0

    def url(self, purpose: str, notification: Notification) -> str:
        claim = LinkClaim(purpose, notification.event.incident_id,
                          notification.planned_at + self.minutes * 60,
                          link_nonce(self.key, f"{purpose}:{notification.id}"),
                          notification.channel)
        return f"{self.base_url}/{purpose}/{sign_link(self.key, claim)}"


def extras_for(notification: Notification, links: ActionLinks | None) -> Extras:
    """The extras of one notification's message: tier, notes, and links when configured."""
    event = notification.event
    ack = feedback = None
    if isinstance(event, SystemAlert):  # about Firestorm itself: nothing to ack or rate
        return Extras(notification.tier, notification.notes)
    if links is not None and not notification.digest:
        if event.event not in ("acknowledged", "resolved") and not event.acknowledged_by:
            ack = links.url("ack", notification)
        if event.event == "resolved":
            feedback = links.url("feedback", notification)
    return Extras(notification.tier, notification.notes, ack, feedback)
