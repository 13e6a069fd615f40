"""A notification: one alert event (or a reminder of it) for one channel.

The unit the outbox retries and the journal keeps. Its :attr:`Notification.id`
is stable, so a receiver (and our own journal) can tell a retry from a new
message: the email notifier uses it for the Message-ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alerting.event import AlertEvent
from alerting.notifiers.deadman import SystemAlert

__all__ = ["Notification"]


@dataclass(frozen=True, slots=True)
class Notification:
    """Tell ``channel`` about ``event``; ``renotify`` > 0 is the n-th reminder of it.

    ``tier`` > 0: the critical went unacknowledged and is escalated to that tier
    of the policy. ``notes``: lines the message must carry (a silence in force).
    ``digest``: the morning digest of what quiet hours held back (``event`` is
    then the latest of them).

    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "critical", 1714566840.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> n = Notification("duty-slack", e, planned_at=1714566845.0)
    >>> n.id, Notification("duty-slack", e, 1714567745.0, renotify=1).id
    ('acme-20240501T123400Z:1/duty-slack', 'acme-20240501T123400Z:1/duty-slack/r1')
    >>> Notification.from_dict(n.to_dict()) == n
    True
    """

    channel: str
    event: AlertEvent | SystemAlert  # an incident's event, or the pipeline's own alarm
    planned_at: float  # wall clock when the planner decided it (epoch seconds)
    renotify: int = 0
    tier: int = 0
    notes: tuple[str, ...] = ()
    digest: tuple[AlertEvent, ...] = ()

    @property
    def id(self) -> str:
        if self.digest:
            return f"digest-{int(self.planned_at)}/{self.channel}"
        base = f"{self.event.event_id}/{self.channel}"
        if self.tier:
            return f"{base}/t{self.tier}"
        return f"{base}/r{self.renotify}" if self.renotify else base

    def to_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "channel": self.channel, "planned_at": self.planned_at,
               "renotify": self.renotify, "event": self.event.to_dict()}
        if self.tier:
            out["tier"] = self.tier
        if self.notes:
            out["notes"] = list(self.notes)
        if self.digest:
            out["digest"] = [e.to_dict() for e in self.digest]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notification:
        event = data["event"]
        told = (SystemAlert.from_dict(event) if event.get("kind") == "system"
                else AlertEvent.from_dict(event))
        return cls(str(data["channel"]), told, float(data["planned_at"]),
                   int(data.get("renotify", 0)),
                   int(data.get("tier", 0)), tuple(str(n) for n in data.get("notes", ())),
                   tuple(AlertEvent.from_dict(e) for e in data.get("digest", ())))
