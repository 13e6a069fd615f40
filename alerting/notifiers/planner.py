"""Which notifications an alert event (or the passing of time) calls for. Pure.

``(state, event, now) -> (state, notifications)`` and, for reminders,
``(state, now) -> (state, notifications)``. ``now`` is the caller's wall
clock: quiet hours and re-notify intervals are about when people are told,
not about the event time of the data.

The state remembers recent event ids (a redelivered event never notifies
twice), recently closed incidents (an acknowledged or resolved incident is
never reminded about again, even if an older event of it turns up late),
the open, unacknowledged critical incidents with when they were last notified
and which escalation tier they reached, and the events quiet hours held back
(sent as one morning digest when quiet hours end).

Silences (:class:`alerting.silence.Silence`) are passed in with each step, as
the store has them now: an event a silence covers is not sent (nor reminded
about, nor escalated); one it does not cover (a critical, unless the silence
says so) is sent with the silence named in the message.

Events carrying a story (a partner and its policy storming together) are
notified per story, not per incident (:mod:`alerting.notifiers.stories`): the
state remembers how severe each story was last told, reminders are per story,
and "closed" holds story ids. :meth:`NotificationPlanner.on_liveness` is the
dead-man alert (:mod:`alerting.notifiers.deadman`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from alerting.event import AlertEvent
from alerting.liveness import Liveness
from alerting.notifiers.deadman import DeadmanState, check
from alerting.notifiers.notification import Notification
from alerting.notifiers.policy import EscalationPolicy
from alerting.notifiers.stories import closes_story, story_key, tells
from alerting.silence import Silence
from models.verdict import Evidence

__all__ = ["NotificationPlanner", "PlannerState", "Watch"]



@dataclass(frozen=True, slots=True)
class Watch:
    """An open, unacknowledged critical incident: its latest event and when we last told."""

    event: AlertEvent
    notified_at: float
    renotified: int = 0
    since: float = 0.0  # when it was first notified as critical: tiers count from here
    tier: int = 0  # escalation tiers already told

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event.to_dict(), "notified_at": self.notified_at,
                "renotified": self.renotified, "since": self.since, "tier": self.tier}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Watch:
        notified = float(data["notified_at"])
        return cls(AlertEvent.from_dict(data["event"]), notified, int(data["renotified"]),
                   float(data.get("since", notified)), int(data.get("tier", 0)))


@dataclass(frozen=True, slots=True)
class PlannerState:
    """What the planner must remember between steps; the caller stores it back.

    >>> s = PlannerState(seen=("a:1",), closed=("b",))
    >>> PlannerState.from_dict(s.to_dict()) == s
    True
    """

    seen: tuple[str, ...] = ()  # recent event ids, oldest first
    closed: tuple[str, ...] = ()  # recent incidents (stories) acknowledged or resolved
    watching: tuple[Watch, ...] = ()
    held: tuple[AlertEvent, ...] = ()  # held back by quiet hours, for the digest (no evidence)
    told: tuple[tuple[str, int], ...] = ()  # story id -> severity rank last told, oldest first
    deadman: DeadmanState = field(default_factory=DeadmanState)  # silences already told

    def to_dict(self) -> dict[str, Any]:
        return {"seen": list(self.seen), "closed": list(self.closed),
                "watching": [w.to_dict() for w in self.watching],
                "held": [e.to_dict() for e in self.held],
                "told": [list(t) for t in self.told], "deadman": self.deadman.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlannerState:
        return cls(tuple(data.get("seen", ())), tuple(data.get("closed", ())),
                   tuple(Watch.from_dict(w) for w in data.get("watching", ())),
                   tuple(AlertEvent.from_dict(e) for e in data.get("held", ())),
                   tuple((str(k), int(r)) for k, r in data.get("told", ())),
                   DeadmanState.from_dict(data.get("deadman", {})))


class NotificationPlanner:
    """Apply an :class:`EscalationPolicy` to alert events and to the re-notify timer.

    >>> from alerting.notifiers.policy import parse_policy
    >>> policy = parse_policy('''
    ... channels: {duty: {type: webhook, url: "https://hooks.example/x"}}
    ... routes: [{severities: [critical], channels: [duty]}]
    ... renotify_critical_minutes: 15
    ... ''')
    >>> planner = NotificationPlanner(policy)
    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "critical", 1714566840.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> state, out = planner.on_event(PlannerState(), e, now=1000.0)
    >>> [n.id for n in out]
    ['acme-20240501T123400Z:1/duty']
    >>> planner.on_event(state, e, now=1001.0)[1]          # redelivered: nothing
    []
    >>> planner.next_due(state)
    1900.0
    >>> state, out = planner.on_timer(state, now=1900.0)
    >>> [n.id for n in out]
    ['acme-20240501T123400Z:1/duty/r1']
    """

    def __init__(self, policy: EscalationPolicy, *, memory: int = 10_000,
                 digest_limit: int = 500) -> None:
        self.policy = policy
        self.memory = memory  # event ids and closed incidents remembered for dedupe
        self.digest_limit = digest_limit  # held-back events kept for one digest

    @property
    def interval(self) -> float:
        """Seconds between reminders of an unacknowledged critical; 0 means never."""
        return self.policy.renotify_critical_minutes * 60.0

    @property
    def watches(self) -> bool:
        """Whether unacknowledged criticals are followed (reminders or escalation tiers)."""
        return self.interval > 0 or bool(self.policy.escalation)

    def on_event(self, state: PlannerState, event: AlertEvent, now: float,
                 silences: Sequence[Silence] = ()) -> tuple[PlannerState, list[Notification]]:
        if event.event_id in state.seen:
            return state, []
        seen = (*state.seen, event.event_id)[-self.memory:]
        key = story_key(event)
        levels = dict(state.told)
        new, level = tells(event, levels.get(key, 0))
        told = state.told
        if event.story is not None and level != levels.get(key, 0):
            told = (*(t for t in told if t[0] != key), (key, level))[-self.memory:]
        held = state.held
        if any(s.covers(event.entity_id, event.severity, now) for s in silences):
            out: list[Notification] = []  # silenced: still on every screen, not sent
        elif not new:
            out = []  # an incident of a story already told: not news (stories.tells)
        else:
            notes = tuple(s.describe() for s in silences if s.applies_to(event.entity_id, now))
            out = self._notify(event, now, notes)
            if not out and self._held_by_quiet_hours(event, now):
                trimmed = replace(event, evidence=Evidence())  # the digest needs no posts
                held = (*held, trimmed)[-self.digest_limit:]
        closes = closes_story(event)
        closed = state.closed
        if closes and key not in closed:
            closed = (*closed, key)[-self.memory:]
        previous = next((w for w in state.watching if story_key(w.event) == key), None)
        watching = tuple(w for w in state.watching if w is not previous)
        severity = event.story.severity if event.story is not None else event.severity
        if (self.watches and not closes and severity == "critical" and key not in closed):
            at = now if out or previous is None else previous.notified_at
            count = 0 if previous is None else previous.renotified
            since = now if previous is None else previous.since
            tier = 0 if previous is None else previous.tier
            watching = (*watching, Watch(event, at, count, since, tier))
        return replace(state, seen=seen, closed=closed, watching=watching, held=held,
                       told=told), out

    def on_timer(self, state: PlannerState, now: float,
                 silences: Sequence[Silence] = ()) -> tuple[PlannerState, list[Notification]]:
        """Reminders, escalation tiers and the morning digest that are due at ``now``."""
        out: list[Notification] = []
        watching = []
        tiers = self.policy.escalation
        for watch in state.watching:
            entity = watch.event.entity_id
            if any(s.covers(entity, "critical", now) for s in silences):
                watching.append(watch)  # silenced, critical included: wait until it ends
                continue
            notes = tuple(s.describe() for s in silences if s.applies_to(entity, now))
            if self.interval > 0 and now >= watch.notified_at + self.interval:
                n = watch.renotified + 1
                out += [Notification(c, watch.event, now, renotify=n, notes=notes)
                        for c in self.policy.channels_for("critical")]
                watch = replace(watch, notified_at=now, renotified=n)
            due = watch.tier < len(tiers) and \
                now >= watch.since + tiers[watch.tier].after_minutes * 60
            if due:
                tier = watch.tier + 1
                out += [Notification(c, watch.event, now, tier=tier, notes=notes)
                        for c in tiers[tier - 1].channels]
                watch = replace(watch, tier=tier)
            watching.append(watch)
        held = state.held
        quiet = self.policy.quiet_hours
        if held and (quiet is None or not quiet.is_quiet(now)):
            channels: list[str] = []
            for event in held:
                channels += [c for c in self.policy.channels_for(event.severity)
                             if c not in channels]
            out += [Notification(c, held[-1], now, digest=held) for c in channels]
            held = ()
        return replace(state, watching=tuple(watching), held=held), out

    def on_liveness(self, state: PlannerState, live: Liveness, now: float,
                    started: float) -> tuple[PlannerState, list[Notification]]:
        """The dead-man alert: the worker or the mention feed silent past the policy's limit
        (and once more when it is back). Quiet hours never hold it back."""
        deadman, alerts = check(state.deadman, live, self.policy.deadman, now, started)
        out = [Notification(c, alert, now) for alert in alerts
               for c in self.policy.deadman.channels]
        return replace(state, deadman=deadman), out

    def next_due(self, state: PlannerState) -> float | None:
        """When :meth:`on_timer` will next have a reminder or a tier to send (None: none).

        The morning digest is not counted: the caller's timer runs at least every
        half minute, which is soon enough after quiet hours end.
        """
        times = []
        tiers = self.policy.escalation
        for watch in state.watching:
            if self.interval > 0:
                times.append(watch.notified_at + self.interval)
            if watch.tier < len(tiers):
                times.append(watch.since + tiers[watch.tier].after_minutes * 60)
        return min(times, default=None)

    def _notify(self, event: AlertEvent, now: float,
                notes: tuple[str, ...] = ()) -> list[Notification]:
        if event.event not in self.policy.events:
            return []
        quiet = self.policy.quiet_hours
        if quiet is not None and not quiet.allows(event.severity, now):
            return []
        return [Notification(c, event, now, notes=notes)
                for c in self.policy.channels_for(event.severity)]

    def _held_by_quiet_hours(self, event: AlertEvent, now: float) -> bool:
        quiet = self.policy.quiet_hours
        return (event.event in self.policy.events and quiet is not None
                and not quiet.allows(event.severity, now)
                and bool(self.policy.channels_for(event.severity)))
