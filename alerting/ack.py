"""Acknowledgements: the request a person sends, and the answer the worker gives. Pure.

An :class:`Ack` travels on the entity's partition like a tick, so the
lifecycle state it changes is updated in order with the data. The worker
judges it with :func:`judge_ack` and answers with an :class:`AckAnswer`, one
of four outcomes, each with its own reason::

    recorded               the incident is now acknowledged by this person
    already_acknowledged   somebody acknowledged it before (who, and when)
    unknown_incident       no such incident (typo, another deployment, expired)
    not_latest             an older incident of the entity: only the latest can be acked

``invalid`` answers a request no client of ours sends (an empty name). The
sender (``firestorm ack``, the console, the pages) waits for the answer by
its ``request_id``, so an acknowledgement either provably lands or says why not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from alerting.errors import AlertEventError
from alerting.event import format_time
from alerting.lifecycle import Incident

__all__ = [
    "ALREADY",
    "INVALID",
    "NOT_LATEST",
    "OUTCOMES",
    "RECORDED",
    "UNKNOWN",
    "VIAS",
    "Ack",
    "AckAnswer",
    "entity_of_incident",
    "judge_ack",
    "opened_at_of",
]

RECORDED = "recorded"
ALREADY = "already_acknowledged"
UNKNOWN = "unknown_incident"
NOT_LATEST = "not_latest"
INVALID = "invalid"
OUTCOMES = (RECORDED, ALREADY, UNKNOWN, NOT_LATEST, INVALID)
VIAS = ("cli", "console", "page", "link")  # where an acknowledgement was made


def entity_of_incident(incident_id: str) -> str:
    """The entity an incident id belongs to (ids are ``<entity>-<YYYYMMDDTHHMMSSZ>``).

    >>> entity_of_incident("acme-stores-20260105T101500Z")
    'acme-stores'
    """
    return incident_id.rsplit("-", 1)[0]


def opened_at_of(incident_id: str) -> float | None:
    """The opening time an incident id encodes, or None if it is not an incident id.

    >>> opened_at_of("acme-20240501T123400Z"), opened_at_of("acme")
    (1714566840.0, None)
    """
    _, _, stamp = incident_id.rpartition("-")
    try:
        return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Ack:
    """A person has acknowledged an incident; travels on the entity's partition like a tick.

    ``request_id`` names the answer the sender waits for; ``via`` is where it was
    made (cli, console, page, link) and ``origin`` from where (host, IP, channel):
    the audit record of staff acting, kept with the incident.

    >>> a = Ack("acme", "acme-20240501T123400Z", "sam", 1714566900.0, "r1", "page", "10.0.0.7")
    >>> Ack.from_dict(a.to_dict()) == a
    True
    """

    entity_id: str
    incident_id: str
    by: str
    ts: float  # when they acknowledged it (their clock: an ack is a human act, not data)
    request_id: str = ""
    via: str = "cli"
    origin: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"ack": self.incident_id, "entity_id": self.entity_id, "by": self.by,
                "ts": self.ts, "request_id": self.request_id, "via": self.via,
                "origin": self.origin}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ack:
        # Acks sent before request ids existed have none: they get no answer, nothing else.
        return cls(str(data["entity_id"]), str(data["ack"]), str(data["by"]),
                   float(data["ts"]), str(data.get("request_id") or ""),
                   str(data.get("via") or "cli"), str(data.get("origin") or ""))


@dataclass(frozen=True, slots=True)
class AckAnswer:
    """The worker's answer to one :class:`Ack`: the outcome and the reason, in words.

    >>> a = AckAnswer("r1", "acme-20240501T123400Z", RECORDED, "acknowledged by sam",
    ...               "sam", 1714566900.0)
    >>> AckAnswer.from_json(a.to_json()) == a, a.ok
    (True, True)
    """

    request_id: str
    incident_id: str
    outcome: str
    reason: str
    by: str  # who asked
    at: float  # when they asked
    acknowledged_by: str | None = None  # who holds the incident now (recorded/already)
    latest: str | None = None  # the entity's latest incident, when that is not the one asked

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise AlertEventError(f"ack answer outcome {self.outcome!r}: must be one of"
                                  f" {', '.join(OUTCOMES)}")

    @property
    def ok(self) -> bool:
        return self.outcome == RECORDED

    def to_dict(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "incident_id": self.incident_id,
                "outcome": self.outcome, "reason": self.reason, "by": self.by,
                "at": format_time(self.at), "acknowledged_by": self.acknowledged_by,
                "latest": self.latest}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> AckAnswer:
        from alerting.event import parse_time

        try:
            d = json.loads(text)
            return cls(str(d["request_id"]), str(d["incident_id"]), str(d["outcome"]),
                       str(d["reason"]), str(d["by"]), parse_time(d["at"], "at"),
                       d.get("acknowledged_by"), d.get("latest"))
        except (ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, AlertEventError):
                raise
            raise AlertEventError(f"not an ack answer: {exc}") from None


def judge_ack(latest: Incident | None, ack: Ack, watched: bool) -> tuple[str, str]:
    """``(outcome, reason)`` for ``ack`` given the entity's latest incident.

    Only the latest incident of an entity can be acknowledged (open, or the last
    resolved one); an id that names the entity with an earlier opening time is
    an older incident, anything else is unknown.

    >>> from alerting.lifecycle import Incident
    >>> inc = Incident("acme-20240501T123400Z", "acme", 1714566840.0, "warning")
    >>> def ask(incident_id): return Ack("acme", incident_id, "sam", 1714567000.0)
    >>> judge_ack(inc, ask("acme-20240501T123400Z"), True)[0]
    'recorded'
    >>> judge_ack(inc, ask("acme-20240401T000000Z"), True)
    ('not_latest', "acme-20240401T000000Z is not the latest incident of 'acme': the latest is \
acme-20240501T123400Z (open); acknowledge that one")
    >>> judge_ack(None, ask("acme-20240501T123400Z"), True)[0], judge_ack(inc, ask("x"), False)[0]
    ('unknown_incident', 'unknown_incident')
    """
    asked = ack.incident_id
    if not ack.by.strip():
        return INVALID, "an acknowledgement needs the name of who acknowledged it"
    if not watched:
        return UNKNOWN, (f"no incident {asked}: {ack.entity_id!r} is not an entity of the"
                         " worker's watchlist (check the id)")
    if latest is None:
        return UNKNOWN, f"no incident {asked}: {ack.entity_id!r} has had no incident"
    if latest.id == asked:
        if latest.acknowledged_by is not None:
            when = "" if latest.acknowledged_at is None else \
                f" at {format_time(round(latest.acknowledged_at))}"
            return ALREADY, f"{asked} was already acknowledged by {latest.acknowledged_by}{when}"
        return RECORDED, f"{asked} acknowledged by {ack.by}"
    opened = opened_at_of(asked)
    if opened is not None and opened < latest.opened_at:
        return NOT_LATEST, (f"{asked} is not the latest incident of {ack.entity_id!r}: the"
                            f" latest is {latest.id} ({latest.status}); acknowledge that one")
    return UNKNOWN, (f"no incident {asked}: the latest incident of {ack.entity_id!r} is"
                     f" {latest.id} ({latest.status})")
