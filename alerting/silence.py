"""Silences: "we know about this one, stop paging us until 07:00", with who and why. Pure.

A silence names an entity (or a story: the entity and every entity the
watchlist links to it, a partner and its policy), an end time, who set it and
why. While it lasts, notifications about those entities are held back, but
a ``critical`` one still goes out unless the silence explicitly covers critical
(``include_critical``): a known campaign should not wake the officer, a new
wave of it should. Silences never hide anything: the console, the pages and
the messages that still go out all say "silenced until ... by ...". They end
on their own at ``until`` (the store expires them; :meth:`Silence.active`
checks too), and are at most :data:`MAX_SILENCE` long.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from alerting.errors import SilenceError
from alerting.event import format_time, parse_time

__all__ = ["MAX_SILENCE", "SCOPES", "Silence", "active_for", "parse_until", "silence_id"]

MAX_SILENCE = 7 * 24 * 3600.0  # longer is a watchlist change, not a silence
SCOPES = ("entity", "story")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$",
                       re.IGNORECASE)
_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def silence_id(entity_id: str, scope: str, created_at: float) -> str:
    """A readable, URL-safe id.

    >>> silence_id("acme", "story", 1714566840.5)
    'acme-story-1714566840500'
    """
    return f"{entity_id}-{scope}-{int(created_at * 1000)}"


@dataclass(frozen=True, slots=True)
class Silence:
    """Hold back notifications about ``entities`` until ``until``.

    >>> s = Silence("acme-entity-1", "acme", "entity", ("acme",), until=2000.0, by="sam",
    ...             why="known campaign", created_at=1000.0)
    >>> s.covers("acme", "warning", 1500.0), s.covers("acme", "critical", 1500.0)
    (True, False)
    >>> s.covers("acme", "warning", 2000.0)          # ended on its own
    False
    >>> Silence.from_json(s.to_json()) == s
    True
    """

    id: str
    entity_id: str  # what was silenced (the story's own entity for a story)
    scope: str  # "entity" | "story"
    entities: tuple[str, ...]  # every entity it covers
    until: float
    by: str
    why: str
    created_at: float
    include_critical: bool = False
    via: str = "cli"
    origin: str = ""

    def active(self, now: float) -> bool:
        return self.created_at <= now < self.until

    def applies_to(self, entity_id: str, now: float) -> bool:
        """Active and about this entity (whatever the severity)."""
        return self.active(now) and entity_id in self.entities

    def covers(self, entity_id: str, severity: str, now: float) -> bool:
        """True when a notification about ``entity_id`` at ``severity`` is held back."""
        return (self.applies_to(entity_id, now)
                and (severity != "critical" or self.include_critical))

    def describe(self) -> str:
        """One line for messages, pages and the console.

        >>> Silence("i", "acme", "story", ("acme", "wp"), 1714600800.0, "sam", "known",
        ...         1714566840.0).describe()
        'silenced (story: acme, wp) until 2024-05-01 22:00 UTC by sam: known; critical still \
notified'
        """
        what = "silenced" if self.scope == "entity" else \
            f"silenced (story: {', '.join(self.entities)})"
        crit = "critical silenced too" if self.include_critical else "critical still notified"
        until = format_time(self.until).replace("T", " ")[:16] + " UTC"
        return f"{what} until {until} by {self.by}: {self.why}; {crit}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "entity_id": self.entity_id, "scope": self.scope,
                "entities": list(self.entities), "until": format_time(self.until),
                "by": self.by, "why": self.why, "created_at": format_time(self.created_at),
                "include_critical": self.include_critical, "via": self.via,
                "origin": self.origin}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Silence:
        d = json.loads(text)
        return cls(str(d["id"]), str(d["entity_id"]), str(d["scope"]),
                   tuple(str(e) for e in d["entities"]), parse_time(d["until"], "until"),
                   str(d["by"]), str(d["why"]), parse_time(d["created_at"], "created_at"),
                   bool(d.get("include_critical", False)), str(d.get("via") or "cli"),
                   str(d.get("origin") or ""))

    @classmethod
    def make(cls, entity_id: str, *, scope: str, linked: Iterable[str], until: float,
             by: str, why: str, now: float, include_critical: bool = False,
             via: str = "cli", origin: str = "") -> Silence:
        """A checked new silence; :class:`SilenceError` says which field is wrong."""
        if scope not in SCOPES:
            raise SilenceError(f"scope {scope!r}: must be entity or story")
        if not by.strip():
            raise SilenceError("say who is silencing it (--by NAME, or the name field)")
        if not why.strip():
            raise SilenceError("say why (--why TEXT): whoever is on duty next will ask")
        if until <= now:
            raise SilenceError(f"until {format_time(until)} is not in the future")
        if until - now > MAX_SILENCE:
            raise SilenceError("a silence lasts at most 7 days; for longer, take the entity"
                               " off the watchlist")
        entities = (entity_id,) if scope == "entity" else \
            (entity_id, *(e for e in dict.fromkeys(linked) if e != entity_id))
        # Whole seconds: what a person means, and what survives the JSON's ISO times exactly.
        return cls(silence_id(entity_id, scope, now), entity_id, scope, entities,
                   float(round(until)), by.strip()[:80], " ".join(why.split())[:300],
                   float(int(now)), include_critical, via, origin[:120])


def active_for(silences: Iterable[Silence], entity_id: str, now: float) -> list[Silence]:
    """The silences in force for ``entity_id`` now, longest-lasting first."""
    return sorted((s for s in silences if s.applies_to(entity_id, now)),
                  key=lambda s: (-s.until, s.id))


def parse_until(text: str, now: float, timezone: str | tzinfo = "UTC") -> float:
    """When a silence ends, from what a person types: ``2h``, ``1h30m``, ``1d``, ``07:00``
    (the next 07:00 in ``timezone``) or an ISO-8601 time with an offset.

    >>> now = 1714564800.0   # 2024-05-01 12:00 UTC
    >>> parse_until("2h", now) - now, parse_until("90m", now) - now
    (7200.0, 5400.0)
    >>> format_time(parse_until("07:00", now)), format_time(parse_until("13:30", now))
    ('2024-05-02T07:00:00Z', '2024-05-01T13:30:00Z')
    >>> parse_until("soon", now)
    Traceback (most recent call last):
    ...
    alerting.errors.SilenceError: until 'soon': give a duration (2h, 90m, 1d), a time of \
day (07:00, UTC) or an ISO-8601 time (2024-05-02T07:00Z)
    """
    raw = text.strip()
    duration = _DURATION.match(raw)
    if raw and duration and any(duration.groups()):
        days, hours, minutes = (int(g or 0) for g in duration.groups())
        return now + days * 86400.0 + hours * 3600.0 + minutes * 60.0
    clock = _CLOCK.match(raw)
    zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    if clock:
        local = datetime.fromtimestamp(now, zone)
        target = local.replace(hour=int(clock.group(1)), minute=int(clock.group(2)),
                               second=0, microsecond=0)
        if target.timestamp() <= now:
            target = (local + timedelta(days=1)).replace(
                hour=int(clock.group(1)), minute=int(clock.group(2)), second=0, microsecond=0)
        return target.timestamp()
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        when = None
    if when is None:
        raise SilenceError(f"until {text!r}: give a duration (2h, 90m, 1d), a time of day"
                           f" (07:00, {timezone}) or an ISO-8601 time (2024-05-02T07:00Z)")
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.timestamp()
