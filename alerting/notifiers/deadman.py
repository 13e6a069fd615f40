"""The dead-man alert: a silent pipeline pages the duty officer, as a storm would. Pure.

Silence from a dead worker looks exactly like a quiet night. ``firestorm
notify`` therefore judges the workers' heartbeats (:mod:`alerting.liveness`)
on a timer::

    state, alerts = check(state, liveness, deadman, now, started)

and sends a :class:`SystemAlert` when the worker has been silent for the
policy's ``worker_silent_minutes`` (no heartbeat, or none since notify started),
or when a live worker has taken in no mention for ``feed_silent_minutes``;
and one more when it is back. Each silence is told once: the state remembers
which silences were told, and is saved with the planner's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from alerting.errors import AlertEventError
from alerting.liveness import Liveness
from alerting.notifiers.policy import Deadman

__all__ = ["DeadmanState", "SystemAlert", "check"]

WHAT = {"worker": "the Firestorm worker", "feed": "the mention feed"}


@dataclass(frozen=True, slots=True)
class SystemAlert:
    """Something about Firestorm itself, not about an entity: it went silent, or is back.

    Quacks like an alert event where the notifiers need one (``event_id``,
    ``incident_id``, ``event``, ``severity``), so it travels the same journal
    and outbox, and is retried and never lost the same way.

    >>> a = SystemAlert("worker", "silent", since=1714566840.0, at=1714567140.0)
    >>> a.event_id, a.event, a.severity
    ('deadman:worker:1714566840:silent', 'worker silent', 'critical')
    >>> a.headline()
    'worker silent for 5 min: the Firestorm worker has sent no heartbeat since 12:34 UTC'
    >>> SystemAlert.from_dict(a.to_dict()) == a
    True
    """

    what: str  # "worker" | "feed"
    state: str  # "silent" | "back"
    since: float  # the last sign of life (wall clock)
    at: float  # when notify judged it

    @property
    def event_id(self) -> str:
        return f"deadman:{self.what}:{self.since:.0f}:{self.state}"

    @property
    def incident_id(self) -> str:
        return f"deadman-{self.what}"

    @property
    def event(self) -> str:
        return f"{self.what} {self.state}"

    @property
    def severity(self) -> str:
        return "critical" if self.state == "silent" else "watch"

    def headline(self) -> str:
        quiet = f"{(self.at - self.since) / 60:.0f} min"
        since = datetime.fromtimestamp(self.since, UTC).strftime("%H:%M UTC")
        sign = "sent no heartbeat" if self.what == "worker" else "brought no mention"
        if self.state == "silent":
            return f"{self.what} silent for {quiet}: {WHAT[self.what]} has {sign} since {since}"
        return f"{self.what} back: {WHAT[self.what]} is alive again after {quiet} of silence"

    def lines(self) -> list[str]:
        """The body: what it means for the duty officer tonight."""
        if self.state == "back":
            return ["Alerts flow again. Check the console for what happened meanwhile."]
        if self.what == "worker":
            return ["No alert can arrive while it is silent: this is NOT a quiet night.",
                    "Check the worker (its log, `deploy/local/stack.sh status`, /health) and"
                    " watch social media by hand until it is back."]
        return ["The worker is alive but no mention has come in: the producers or Kafka's"
                " mentions topic may have stopped. Quiet here does not mean calm out there."]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "system", "what": self.what, "state": self.state, "since": self.since,
                "at": self.at, "event_id": self.event_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SystemAlert:
        try:
            alert = cls(str(data["what"]), str(data["state"]), float(data["since"]),
                        float(data["at"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise AlertEventError(f"not a system alert: {exc!r}") from None
        if alert.what not in WHAT or alert.state not in ("silent", "back"):
            raise AlertEventError(f"not a system alert: {alert.what!r} {alert.state!r}")
        return alert


@dataclass(frozen=True, slots=True)
class DeadmanState:
    """The silences told and not yet over: ``(what, since)``."""

    silent: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"silent": [list(s) for s in self.silent]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeadmanState:
        return cls(tuple((str(w), float(t)) for w, t in data.get("silent", ())))


def check(state: DeadmanState, live: Liveness, deadman: Deadman, now: float,
          started: float) -> tuple[DeadmanState, list[SystemAlert]]:
    """Silences that passed their limit, and silences that ended, since the last check.

    ``started`` is when this notify began watching: with no heartbeat at all (the
    worker never started, or Redis lost them) the silence counts from then.

    >>> from alerting.liveness import Heartbeat, judge
    >>> live = judge([Heartbeat("w", at=1000.0, last_input_at=990.0)], None, now=1400.0)
    >>> state, alerts = check(DeadmanState(), live, Deadman(5, 60), 1400.0, started=0.0)
    >>> [a.event for a in alerts], state.silent
    (['worker silent'], (('worker', 1000.0),))
    >>> check(state, live, Deadman(5, 60), 1460.0, started=0.0)[1]   # told once
    []
    >>> back = judge([Heartbeat("w", at=1500.0, last_input_at=1499.0)], None, now=1501.0)
    >>> [a.event for a in check(state, back, Deadman(5, 60), 1501.0, started=0.0)[1]]
    ['worker back']
    """
    told = dict(state.silent)
    alerts: list[SystemAlert] = []
    last_beat = live.latest.at if live.latest is not None else started
    signs = {"worker": (last_beat, deadman.worker_silent_minutes * 60.0)}
    if live.alive and live.latest is not None:  # a dead worker says nothing about the feed
        last_input = live.latest.last_input_at
        signs["feed"] = (last_input if last_input is not None else started,
                         deadman.feed_silent_minutes * 60.0)
    for what, (last, limit) in signs.items():
        if limit <= 0:
            continue
        silent = now - last >= limit
        if silent and what not in told:
            told[what] = last
            alerts.append(SystemAlert(what, "silent", last, now))
        elif not silent and what in told:
            alerts.append(SystemAlert(what, "back", told.pop(what), now))
    return DeadmanState(tuple(sorted(told.items()))), alerts
