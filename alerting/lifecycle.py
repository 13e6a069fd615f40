"""Incident lifecycle: verdicts in, incident events out. Pure: no I/O, no clock.

Per entity, one state value and one step::

    state, emit = lifecycle.advance(state, verdict, entity)

``emit`` is what the step tells the outside world: the incident's events and
its new per-minute timeline points (:class:`Emit`). Points leave as output, as
they happen; the state keeps only the few minutes before an opening (the
build-up, emitted with the opening), never a growing timeline for the store
to diff.

The state machine (one incident per entity at a time)::

             confirmed run of alerting minutes (open_watch / open_warning / open_critical)
      idle ─────────────────────────────────────────────────► open ──┐
       ▲                                                      │  ▲   │ escalated: a confirmed
       │ resolved: no alerting minute for resolve_quiet       │  │   │   level above its own, now
       │   (watch_quiet if it never rose above watch)         │  │   │
       └──────────────────────────────────────────────────────┘  │   │ deescalated: below its level
                                                                 │   │   for deescalate_hold
                                                                 └───┘ updated: still alerting and
                                                                         renotify_cooldown since
                                                                         the last notification
      acknowledged: by a person, once per incident (the open one or the latest resolved one)

Why asymmetric: opening needs a confirmed run (two watch minutes, or one
warning/critical minute) but resolving needs half an hour of calm, so an entity
hovering at the threshold makes one incident, not a stream of open/resolve
pairs; an incident that stayed at watch waits two quiet hours, because an entity
in the news has spikes all day and each must not open an incident of its own
(on storm-free generated streams this cut incidents per entity-week by about a
sixth). Escalation is immediate because that is what the duty officer must hear;
de-escalation waits for a hold, so warning/critical flapping is at most one
pair of events per hold.

Redelivery: a verdict whose ``at`` is not after the last one processed yields
no events, so a worker that restarts and re-reads its input never makes a
second incident or a second event. Incident ids and event sequence numbers
come from the data alone, so replay and stream give the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from alerting.errors import LifecycleError, UnknownIncidentError
from alerting.event import AlertEvent, evidence_to_dict
from alerting.figures import Figures
from alerting.timeline import IncidentPoints, TimelinePoint
from models.verdict import SEVERITIES, Evidence, Verdict, severity_rank
from models.watchlist import Entity

__all__ = ["Emit", "Incident", "IncidentState", "Lifecycle", "LifecycleParams", "incident_id"]

_LEVELS = (1, 2, 3)  # ranks of watch, warning, critical


def incident_id(entity_id: str, opened_at: float) -> str:
    """Deterministic id: the entity and the event time of the verdict that opened it.

    >>> incident_id("acme", 1714566840.0)
    'acme-20240501T123400Z'
    """
    return f"{entity_id}-{datetime.fromtimestamp(opened_at, UTC):%Y%m%dT%H%M%SZ}"


@dataclass(frozen=True, slots=True)
class LifecycleParams:
    """Knobs of the lifecycle; defaults suit one verdict per entity per minute.

    >>> LifecycleParams().needed("watch"), LifecycleParams().needed("critical")
    (2, 1)
    """

    open_watch: int = 2  # consecutive minutes at >= watch to open (or escalate to) watch
    open_warning: int = 1  # ... at >= warning to open/escalate at warning
    open_critical: int = 1  # ... at critical
    resolve_quiet: float = 1800.0  # seconds with no alerting minute before 'resolved'
    watch_quiet: float = 7200.0  # ... for an incident that never rose above watch
    deescalate_hold: float = 1800.0  # seconds below the incident's level before 'deescalated'
    renotify_cooldown: float = 900.0  # min seconds between notifications before 'updated'
    lookback: int = 10  # minutes before the opening kept as the incident's build-up

    def __post_init__(self) -> None:
        for name in ("open_watch", "open_warning", "open_critical", "lookback"):
            if getattr(self, name) < 1:
                raise LifecycleError(f"LifecycleParams.{name} must be 1 or more,"
                                     f" got {getattr(self, name)}")
        for name in ("resolve_quiet", "watch_quiet", "deescalate_hold", "renotify_cooldown"):
            if getattr(self, name) < 0:
                raise LifecycleError(f"LifecycleParams.{name} must be seconds >= 0,"
                                     f" got {getattr(self, name)}")

    def needed(self, severity: str) -> int:
        """Consecutive minutes at or above ``severity`` that confirm it."""
        return (self.open_watch, self.open_warning, self.open_critical)[severity_rank(severity) - 1]


class Emit(NamedTuple):
    """What a step tells the outside world: incident events and new timeline points.

    >>> Emit().events, Emit().points
    ((), ())
    """

    events: tuple[AlertEvent, ...] = ()
    points: tuple[IncidentPoints, ...] = ()

    def then(self, other: Emit) -> Emit:
        """This step's output followed by ``other``'s."""
        if not other.events and not other.points:
            return self
        return Emit((*self.events, *other.events), (*self.points, *other.points))


_NOTHING = Emit()


@dataclass(frozen=True, slots=True)
class Incident:
    """One episode of one entity, open or resolved."""

    id: str
    entity_id: str
    opened_at: float
    severity: str
    status: str = "open"  # "open" | "resolved"
    seq: int = 0  # sequence number of the last event emitted
    notified_at: float = 0.0  # at of the last notification (opened/escalated/updated/deesc.)
    alerting_at: float = 0.0  # at of the last alerting minute; quiet is measured from it
    level_at: float = 0.0  # at of the last minute at or above `severity`; hold from it
    below_peak: int = 0  # highest rank seen since level_at (where to de-escalate to)
    peak: str = "watch"  # the highest severity it has had (how long a calm resolves it)
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None
    resolved_at: float | None = None
    reasons: tuple[str, ...] = ()  # of the last alerting minute, for events caused by calm
    evidence: Evidence = field(default_factory=Evidence)  # of the last event at an alerting minute
    figures: Figures | None = None  # of the latest verdict: what an ack or a restore shows

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "entity_id": self.entity_id, "opened_at": self.opened_at,
                "severity": self.severity, "status": self.status, "seq": self.seq,
                "notified_at": self.notified_at, "alerting_at": self.alerting_at,
                "level_at": self.level_at, "below_peak": self.below_peak, "peak": self.peak,
                "acknowledged_by": self.acknowledged_by,
                "acknowledged_at": self.acknowledged_at, "resolved_at": self.resolved_at,
                "reasons": list(self.reasons),
                "evidence": evidence_to_dict(self.evidence),
                "figures": None if self.figures is None else list(self.figures)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Incident:
        fields = dict(data)
        fields["reasons"] = tuple(fields["reasons"])
        fields["evidence"] = Evidence.from_dict(fields["evidence"])
        # State written before points left it (they are in the store) still loads.
        fields.pop("points", None)
        fields.setdefault("peak", fields["severity"])  # state written before peaks were kept
        figures = fields.get("figures")
        fields["figures"] = None if figures is None else Figures(*figures)
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class IncidentState:
    """Everything the lifecycle remembers about one entity (a Faust table value).

    >>> s = IncidentState()
    >>> IncidentState.from_dict(s.to_dict()) == s, s.open_incident
    (True, None)
    """

    last_at: float | None = None  # at of the last verdict processed (the redelivery guard)
    runs: tuple[int, int, int] = (0, 0, 0)  # consecutive minutes at >= watch, warning, critical
    recent: tuple[TimelinePoint, ...] = ()  # last `lookback` minutes: the build-up
    incident: Incident | None = None  # the open incident, or the last resolved one

    @property
    def open_incident(self) -> Incident | None:
        return self.incident if self.incident is not None and self.incident.is_open else None

    def to_dict(self) -> dict[str, Any]:
        return {"last_at": self.last_at, "runs": list(self.runs),
                "recent": [p.to_dict() for p in self.recent],
                "incident": None if self.incident is None else self.incident.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IncidentState:
        runs = tuple(int(r) for r in data["runs"])
        if len(runs) != 3:
            raise LifecycleError(f"IncidentState.runs must have 3 counts, got {runs}")
        return cls(last_at=data["last_at"], runs=(runs[0], runs[1], runs[2]),
                   recent=tuple(TimelinePoint.from_dict(p) for p in data["recent"]),
                   incident=None if data["incident"] is None
                   else Incident.from_dict(data["incident"]))


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """Turns one entity's verdicts into incident events.

    >>> from models.watchlist import Entity
    >>> acme = Entity("acme", "Acme Stores", "partner", terms=("acme",))
    >>> def v(minute, severity):
    ...     return Verdict("acme", 1714566840.0 + 60 * minute, severity, 5.0, 40, 8.0, 0.7, 0.3)
    >>> life, state, out, points = Lifecycle(), IncidentState(), [], 0
    >>> for minute, severity in enumerate([None, "watch", "watch", "critical"] + [None] * 30):
    ...     state, emit = life.advance(state, v(minute, severity), acme)
    ...     out += [e.event for e in emit.events]
    ...     points += sum(len(p.points) for p in emit.points)
    >>> out, points            # the 3 minutes up to the opening, then one per minute
    (['opened', 'escalated', 'resolved'], 34)
    >>> state, again = life.advance(state, v(5, "critical"), acme)   # redelivered: ignored
    >>> again
    Emit(events=(), points=())
    """

    params: LifecycleParams = field(default_factory=LifecycleParams)

    def initial(self) -> IncidentState:
        return IncidentState()

    def advance(self, state: IncidentState, verdict: Verdict,
                entity: Entity) -> tuple[IncidentState, Emit]:
        """Fold one verdict (one closed minute of ``entity``) into its state."""
        if verdict.entity_id != entity.id:
            raise LifecycleError(f"verdict for entity {verdict.entity_id!r} given with entity"
                                 f" {entity.id!r}; pass the watchlist entry of the verdict")
        if state.last_at is not None and verdict.at <= state.last_at:
            return state, _NOTHING  # redelivered or out of order: already reflected in state
        p = self.params
        rank = severity_rank(verdict.severity)
        watch, warning, critical = state.runs
        runs = (watch + 1 if rank >= 1 else 0, warning + 1 if rank >= 2 else 0,
                critical + 1 if rank >= 3 else 0)
        confirmed = 0
        if rank:  # a normal minute confirms nothing (most minutes: skip the search)
            needs = (p.open_watch, p.open_warning, p.open_critical)
            confirmed = max((lvl for lvl in _LEVELS if runs[lvl - 1] >= needs[lvl - 1]),
                            default=0)
        point = TimelinePoint.from_verdict(verdict)
        # Built directly, not with dataclasses.replace: this runs for every entity every minute.
        state = IncidentState(verdict.at, runs, (*state.recent, point)[-p.lookback:],
                              state.incident)
        incident = state.open_incident
        if incident is None:
            if not confirmed:
                return state, _NOTHING
            verdict = verdict.explained()
            incident = Incident(
                id=incident_id(entity.id, verdict.at), entity_id=entity.id,
                opened_at=verdict.at, severity=SEVERITIES[confirmed - 1],
                peak=SEVERITIES[confirmed - 1],
                notified_at=verdict.at, alerting_at=verdict.at, level_at=verdict.at,
                reasons=verdict.reasons, evidence=verdict.evidence,
                figures=_figures(verdict))
            # The opening carries its build-up: the minutes that led to it.
            return self._emit(state, incident, "opened", verdict, entity, state.recent)

        # The minute's changes in one copy (every minute of an open incident).
        changes: dict[str, Any] = {"figures": _figures(verdict)}
        if rank:
            # The evidence is worked out (and kept) only when an event is emitted: most
            # alerting minutes notify nobody, and evidence is what costs.
            changes["alerting_at"], changes["reasons"] = verdict.at, verdict.reasons
        current = severity_rank(incident.severity)
        if rank >= current:
            changes["level_at"], changes["below_peak"] = verdict.at, 0
        else:
            changes["below_peak"] = max(incident.below_peak, rank)
        incident = replace(incident, **changes)
        minute = (point,)

        if confirmed > current:
            incident = replace(incident, severity=SEVERITIES[confirmed - 1],
                               notified_at=verdict.at, level_at=verdict.at, below_peak=0,
                               peak=SEVERITIES[max(confirmed, severity_rank(incident.peak)) - 1])
            return self._emit(state, incident, "escalated", verdict, entity, minute,
                              previous=SEVERITIES[current - 1])
        # An entity in the news has spikes all day: one watch incident for the day's
        # attention, not one per spike. An incident that warned resolves sooner.
        calm_needed = p.watch_quiet if incident.peak == "watch" else p.resolve_quiet
        if not rank and verdict.at - incident.alerting_at >= calm_needed:
            incident = replace(incident, status="resolved", resolved_at=verdict.at)
            quiet = f"no alerting minute for {(verdict.at - incident.alerting_at) / 60:.0f} min"
            return self._emit(state, incident, "resolved", verdict, entity, minute,
                              reasons=(quiet,))
        # Down to the highest level seen during the hold, never below watch:
        # an open incident always has a severity until it resolves.
        lower = max(incident.below_peak, 1)
        held_for = verdict.at - incident.level_at
        if rank < current and lower < current and held_for >= p.deescalate_hold:
            held = (f"below {incident.severity} for {held_for / 60:.0f} min",)
            incident = replace(incident, severity=SEVERITIES[lower - 1], notified_at=verdict.at,
                               level_at=verdict.at, below_peak=0)
            return self._emit(state, incident, "deescalated", verdict, entity, minute,
                              previous=SEVERITIES[current - 1],
                              reasons=verdict.reasons if rank else held)
        if rank and verdict.at - incident.notified_at >= p.renotify_cooldown:
            incident = replace(incident, notified_at=verdict.at)
            return self._emit(state, incident, "updated", verdict, entity, minute)
        return (IncidentState(state.last_at, state.runs, state.recent, incident),
                Emit((), (IncidentPoints(incident.id, minute),)))

    def acknowledge(self, state: IncidentState, incident_id: str, by: str, at: float,
                    entity: Entity) -> tuple[IncidentState, Emit]:
        """Record that ``by`` has seen the incident; a second ack yields no event.

        ``at`` is the time of the acknowledgement as the console recorded it.
        The latest incident can be acknowledged even after it resolved. The
        event carries the figures of the incident's latest minute judged.
        """
        incident = state.incident
        if incident is None or incident.id != incident_id:
            latest = "none" if incident is None else repr(incident.id)
            raise UnknownIncidentError(
                f"cannot acknowledge incident {incident_id!r}: entity {entity.id!r} holds"
                f" {latest}; acknowledge the latest incident of the entity")
        if not by.strip():
            raise LifecycleError("an acknowledgement needs the name of who acknowledged it")
        if incident.acknowledged_by is not None:
            return state, _NOTHING
        incident = replace(incident, acknowledged_by=by, acknowledged_at=at)
        event = self._event(incident, "acknowledged", at, entity,
                            reasons=(f"acknowledged by {by}",), seq=incident.seq + 1)
        return replace(state, incident=replace(incident, seq=event.seq)), Emit((event,))

    def restore(self, state: IncidentState, entity: Entity) -> Emit:
        """The open incident's state as one 'restored' event, and its build-up points.

        For a store that lost its history (a Redis restart without persistence):
        the event has the incident's latest ``seq``, so a store that still has
        that event drops it as a redelivery, and one that lost it gets the
        incident back, open, at its severity, acknowledged or not. The state is
        not changed. Nothing for an entity without an open incident.
        """
        incident = state.open_incident
        if incident is None or state.last_at is None:
            return _NOTHING
        event = self._event(incident, "restored", state.last_at, entity,
                            reasons=incident.reasons, seq=incident.seq)
        points = tuple(p for p in state.recent if p.at >= incident.opened_at)
        return Emit((event,), (IncidentPoints(incident.id, points),) if points else ())

    def _emit(self, state: IncidentState, incident: Incident, kind: str, verdict: Verdict,
              entity: Entity, points: tuple[TimelinePoint, ...], *,
              previous: str | None = None,
              reasons: tuple[str, ...] | None = None) -> tuple[IncidentState, Emit]:
        incident = replace(incident, seq=incident.seq + 1)
        if verdict.severity:
            # An alerting minute's evidence; events caused by calm (and acknowledgements,
            # restores) show the last one emitted.
            verdict = verdict.explained()
            incident = replace(incident, evidence=verdict.evidence)
        event = AlertEvent(
            incident_id=incident.id, seq=incident.seq, event=kind, entity_id=entity.id,
            entity_name=entity.name, entity_kind=entity.kind, severity=incident.severity,
            at=verdict.at, volume=verdict.volume, expected_volume=verdict.expected_volume,
            negativity=verdict.negativity, expected_negativity=verdict.expected_negativity,
            score=verdict.score, reasons=verdict.reasons if reasons is None else reasons,
            # Calm minutes carry no evidence: show what the incident was about.
            evidence=_with_links(incident.evidence, entity),
            owner=entity.owner, previous_severity=previous,
            acknowledged_by=incident.acknowledged_by, window_seconds=verdict.window_seconds,
            opened_at=incident.opened_at)
        return replace(state, incident=incident), Emit(
            (event,), (IncidentPoints(incident.id, points),) if points else ())

    @staticmethod
    def _event(incident: Incident, kind: str, at: float, entity: Entity, *,
               reasons: tuple[str, ...], seq: int) -> AlertEvent:
        """An event about the incident as it stands, not about a new minute."""
        f = incident.figures or Figures(0, 0.0, 0.0, 0.0, 0.0)
        return AlertEvent(
            incident_id=incident.id, seq=seq, event=kind, entity_id=entity.id,
            entity_name=entity.name, entity_kind=entity.kind, severity=incident.severity,
            at=at, volume=f.volume, expected_volume=f.expected_volume,
            negativity=f.negativity, expected_negativity=f.expected_negativity,
            score=f.score, reasons=reasons, evidence=_with_links(incident.evidence, entity),
            owner=entity.owner, acknowledged_by=incident.acknowledged_by,
            window_seconds=f.window_seconds, opened_at=incident.opened_at)


def _figures(verdict: Verdict) -> Figures:
    return Figures(verdict.volume, verdict.expected_volume, verdict.negativity,
                   verdict.expected_negativity, verdict.score, verdict.window_seconds)


def _with_links(evidence: Evidence, entity: Entity) -> Evidence:
    """Add the watchlist's links (partner <-> policy) to the co-mentioned ones, count 0.

    The press officer should see "Acme delivers the Work Programme" even when
    no post today names both.
    """
    seen = {entity_id for entity_id, _ in evidence.linked}
    extra = tuple((e, 0) for e in entity.linked if e not in seen)
    return replace(evidence, linked=evidence.linked + extra) if extra else evidence
