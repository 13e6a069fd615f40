"""The audit record of staff acting on an incident: who did what, from where, with what result.

Kept with the incident (and expiring with it) so that a comms lead reviewing
it later sees who acknowledged it and how: from the CLI on which host, the
console, the incident page or a signed link from which IP and channel. It is
about staff acting, never about the public whose posts are evidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from alerting.event import format_time, parse_time

__all__ = ["ACTIONS", "AuditEntry"]

ACTIONS = ("acknowledge", "silence", "lift-silence", "feedback", "link-refused")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One action on one incident.

    >>> e = AuditEntry(1714566900.0, "acme-20240501T123400Z", "acknowledge", "sam", "link",
    ...                "10.0.0.7 via duty-slack", "recorded", "acknowledged by sam")
    >>> AuditEntry.from_json(e.to_json()) == e
    True
    >>> e.line()
    '2024-05-01 12:35 UTC acknowledge by sam via link from 10.0.0.7 via duty-slack: recorded'
    """

    at: float
    incident_id: str
    action: str
    by: str
    via: str  # cli | console | page | link
    origin: str  # host, IP, notification channel: from where
    outcome: str  # recorded, already_acknowledged, set, useful, forged, ...
    detail: str = ""

    def line(self) -> str:
        where = f" from {self.origin}" if self.origin else ""
        who = f" by {self.by}" if self.by else ""
        when = format_time(self.at).replace("T", " ")[:16] + " UTC"
        return f"{when} {self.action}{who} via {self.via}{where}: {self.outcome}"

    def to_dict(self) -> dict[str, Any]:
        return {"at": format_time(self.at), "incident_id": self.incident_id,
                "action": self.action, "by": self.by, "via": self.via, "origin": self.origin,
                "outcome": self.outcome, "detail": self.detail}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> AuditEntry:
        d = json.loads(text)
        return cls(parse_time(d["at"], "at"), str(d["incident_id"]), str(d["action"]),
                   str(d["by"]), str(d["via"]), str(d["origin"]), str(d["outcome"]),
                   str(d.get("detail") or ""))
