"""One entity's whole judgement: detector state plus incident state, stepped together.

This is the unit both drivers share. The stream keeps an :class:`EntityEngineState`
per entity in a Faust table (as JSON); replay keeps them in a dict.

Observations wait in the state until event time has passed their minute on every
input partition (:mod:`models.progress`), then go to the detector in event-time
order (time, then mention id). So the alerts do not depend on how the partitions'
streams interleaved on their way here: several workers, or one worker, or a replay
of the same mentions give the same events. An observation whose minute has already
closed is late: it counts in the open minute, and is reported. An observation seen
again (Kafka delivers at least once) is recognised by its source offset and skipped;
a progress read again, by where it was read on the observations topic
(:meth:`~models.progress.EventClock.advance`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from alerting.ack import ALREADY, RECORDED, Ack, AckAnswer, entity_of_incident, judge_ack
from alerting.event import AlertEvent
from alerting.lifecycle import Emit, IncidentState, Lifecycle
from alerting.timeline import IncidentPoints
from models.detector import Detector, EntityState, Profile
from models.observation import Observation, Tick
from models.params import DetectorParams
from models.progress import At, EventClock, Progress
from models.verdict import Verdict
from models.watchlist import Watchlist

__all__ = ["Ack", "Engine", "EntityEngineState", "Seed", "Source", "Stepped", "detector_for",
           "entity_of_incident"]


def detector_for(watchlist: Watchlist, params: DetectorParams) -> Detector:
    """The detector for a watchlist: each entity's kind, sensitivity and linked entities."""
    profiles = {e.id: Profile(e.kind, e.sensitivity, watchlist.linked_to(e.id))
                for e in watchlist.entities}
    # Evidence is worked out only for the minutes the lifecycle notifies about.
    return Detector(params, profiles=profiles, lazy_evidence=True)


class Source(NamedTuple):
    """Where an observation's mention was read: mentions partition and offset."""

    partition: int
    offset: int


class Stepped(NamedTuple):
    """What one step produced besides the new state."""

    events: list[AlertEvent]
    late: int = 0  # observations counted in the open minute because theirs had closed
    redelivered: bool = False  # the item was seen before and skipped
    points: tuple[IncidentPoints, ...] = ()  # new timeline points of the entity's incident


@dataclass(frozen=True, slots=True)
class Seed:
    """What detection learned of an entity from its history (``firestorm backfill``):
    travels on the entity's partition like an ack, and is adopted by a live worker
    whose own state has learned less.

    >>> seed = Seed("acme", EntityState())
    >>> Seed.from_dict(seed.to_dict()) == seed
    True
    """

    entity_id: str
    detector: EntityState

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.detector.learned().to_dict(), "entity_id": self.entity_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Seed:
        return cls(data["entity_id"], EntityState.from_dict(data["seed"]))


@dataclass(frozen=True, slots=True)
class EntityEngineState:
    """Detector and incident state of one entity, stored together so they never drift,
    with the event-time clock, the observations waiting for it, and the last offset
    counted per input partition.

    >>> from models.detector import EntityState
    >>> s = EntityEngineState(EntityState(), IncidentState(), seen=((0, 41),))
    >>> EntityEngineState.from_dict(s.to_dict()) == s
    True
    """

    detector: EntityState
    incident: IncidentState
    clock: EventClock = field(default_factory=EventClock)
    released: float = -math.inf  # minutes that ended at or before this are closed
    pending: tuple[Observation, ...] = ()  # observations waiting for their minute to close
    seen: tuple[tuple[int, int], ...] = ()  # (mentions partition, last offset counted)

    def to_dict(self) -> dict[str, Any]:
        return {"detector": self.detector.to_dict(), "incident": self.incident.to_dict(),
                "clock": self.clock.to_dict(),
                "released": None if self.released == -math.inf else self.released,
                "pending": [o.to_dict() for o in self.pending],
                "seen": [list(s) for s in self.seen]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntityEngineState:
        released = data.get("released")
        return cls(EntityState.from_dict(data["detector"]),
                   IncidentState.from_dict(data["incident"]),
                   EventClock.from_dict(data["clock"]) if "clock" in data else EventClock(),
                   -math.inf if released is None else float(released),
                   tuple(Observation.from_dict(o) for o in data.get("pending", ())),
                   tuple((int(p), int(o)) for p, o in data.get("seen", ())))


@dataclass(frozen=True, slots=True)
class Engine:
    """Steps detection then lifecycle for one observation or tick."""

    watchlist: Watchlist
    detector: Detector
    lifecycle: Lifecycle = field(default_factory=Lifecycle)

    @classmethod
    def for_watchlist(cls, watchlist: Watchlist, lifecycle: Lifecycle | None = None,
                      params: DetectorParams | None = None) -> Engine:
        """The engine for a watchlist: each entity's kind, sensitivity and links."""
        return cls(watchlist, detector_for(watchlist, params or DetectorParams()),
                   lifecycle or Lifecycle())

    def with_watchlist(self, watchlist: Watchlist) -> Engine:
        """The same detector parameters and lifecycle for another watchlist."""
        return Engine(watchlist, detector_for(watchlist, self.detector.params), self.lifecycle)

    def initial(self) -> EntityEngineState:
        return EntityEngineState(self.detector.initial(), IncidentState())

    def acknowledge(self, state: EntityEngineState | None,
                    ack: Ack) -> tuple[EntityEngineState | None, list[AlertEvent], AckAnswer]:
        """Judge and apply one ack: the state, the 'acknowledged' event if any, the answer.

        Never raises for a bad ack: every refusal is an answer with its reason, so
        the person who sent it is told (``firestorm ack`` waits for this answer).
        """
        try:
            entity = self.watchlist[ack.entity_id]
        except KeyError:
            entity = None
        latest = state.incident.incident if state is not None else None
        outcome, reason = judge_ack(latest, ack, entity is not None)
        events: list[AlertEvent] = []
        if outcome == RECORDED and state is not None and entity is not None:
            incident, emit = self.lifecycle.acknowledge(
                state.incident, ack.incident_id, ack.by, ack.ts, entity)
            state, events = replace(state, incident=incident), list(emit.events)
        holder = latest.acknowledged_by if latest is not None else None
        answer = AckAnswer(
            ack.request_id, ack.incident_id, outcome, reason, ack.by, ack.ts,
            acknowledged_by=ack.by if outcome == RECORDED else
            holder if outcome == ALREADY else None,
            latest=latest.id if latest is not None and latest.id != ack.incident_id else None)
        return state, events, answer

    def step(self, state: EntityEngineState | None,
             item: Observation | Progress | Tick | Ack | Seed,
             source: Source | None = None, at: At | None = None
             ) -> tuple[EntityEngineState, Stepped]:
        """Fold one item. ``source`` is where an observation's mention was read: an
        item from an offset already counted is skipped (``Stepped.redelivered``).
        ``at`` is where the item was read on the observations topic (partition, offset,
        index in its message): a progress read again is skipped.

        An :class:`Ack` of an unknown incident raises LifecycleError. A
        :class:`Progress` may release waiting observations and close minutes; a
        :class:`Tick` closes everything before its time (replay's end of input). A
        :class:`Seed` replaces what detection has learned of the entity when the seed
        has learned more (more buckets of baseline); incidents are left as they are.
        """
        state = state or self.initial()
        if isinstance(item, Seed):
            if item.detector.baseline.n <= state.detector.baseline.n:
                return state, Stepped([])
            return replace(state, detector=item.detector.learned()), Stepped([])
        if source is not None:
            counted = self.pass_over(state, source)
            if counted is None:
                # Redelivered after a restart (Kafka is at least once) and already in
                # the state: each mention must count once.
                return state, Stepped([], redelivered=True)
            state = counted
        if isinstance(item, Ack):
            incident, emit = self.lifecycle.acknowledge(
                state.incident, item.incident_id, item.by, item.ts,
                self.watchlist[item.entity_id])
            return replace(state, incident=incident), Stepped(list(emit.events))
        if isinstance(item, Observation):
            if item.ts < state.released:  # its minute is closed: count it in the open one
                detector, verdicts = self.detector.observe(state.detector, item)
                state, emit = self._judge(state, detector, verdicts, item.entity_id)
                return state, Stepped(list(emit.events), late=1, points=emit.points)
            # Built directly, not with dataclasses.replace: once per mention.
            return EntityEngineState(state.detector, state.incident, state.clock,
                                     state.released, (*state.pending, item),
                                     state.seen), Stepped([])
        if isinstance(item, Progress):
            clock = state.clock.advance(item, at)
            if clock is state.clock:  # a progress the state has taken already
                return state, Stepped([], redelivered=True)
            state = EntityEngineState(state.detector, state.incident, clock, state.released,
                                      state.pending, state.seen)
            watermark = state.clock.watermark()
            if watermark is None:
                return state, Stepped([])
            size = self.detector.params.bucket_seconds
            return self._release(state, watermark - watermark % size, item.entity_id)
        return self._release(state, item.ts, item.entity_id)

    def watch(self, state: EntityEngineState | None, at: float) -> EntityEngineState:
        """The state watched from event time ``at`` (``firestorm replay --start``): its
        minutes close from then, mentioned or not (:meth:`Detector.watch`)."""
        state = state or self.initial()
        return replace(state, detector=self.detector.watch(state.detector, at))

    def pass_over(self, state: EntityEngineState | None,
                  source: Source) -> EntityEngineState | None:
        """The state with the mention at ``source`` marked as seen, its observation not
        counted; None if it was seen already. The stream passes over an observation this
        way when it is dead-lettered, so that copies made by reading its mention again
        are skipped as redelivered rather than tried again.

        >>> from models.watchlist import parse_watchlist
        >>> wl = parse_watchlist("entities: [{id: acme, name: Acme, kind: partner, terms: [acme]}]")
        >>> engine = Engine.for_watchlist(wl)
        >>> state = engine.pass_over(None, Source(0, 41))
        >>> state.seen, state.pending
        (((0, 41),), ())
        >>> engine.pass_over(state, Source(0, 41)) is None
        True
        """
        state = state or self.initial()
        seen = dict(state.seen)
        if source.offset <= seen.get(source.partition, -1):
            return None
        seen[source.partition] = source.offset  # a partition is read in order
        return replace(state, seen=tuple(sorted(seen.items())))

    def _release(self, state: EntityEngineState, until: float,
                 entity_id: str) -> tuple[EntityEngineState, Stepped]:
        """Observations before ``until`` to the detector, in event-time order; then
        close the minutes that ended by ``until``."""
        if until <= state.released:
            return state, Stepped([])
        pending = state.pending
        # Most minutes of most entities have no mention waiting: nothing to sort or keep.
        ready = sorted((o for o in pending if o.ts < until),
                       key=lambda o: (o.ts, o.mention_id)) if pending else []
        detector = state.detector
        if detector.open is None and not detector.baseline.n and entity_id in self.watchlist:
            since = self.watchlist.since(entity_id)
            # Watched from the watchlist's start if it came before the entity's first
            # mention: decided by the first mention alone (with none yet, every minute
            # up to ``until`` is before it), so a worker and a replay, however their
            # batches fall, start it at the same minute. A seeded state (it has learned)
            # is left to start at its first mention: a gap after its history is not
            # silence (EntityState.learned).
            if since is not None and since <= (ready[0].ts if ready else until):
                detector = self.detector.watch(detector, since)
        verdicts: list[Verdict] = []
        if ready:
            detector, verdicts = self.detector.observe_many(detector, ready)
        detector, closed = self.detector.tick(detector, until, entity_id)
        verdicts += closed
        state = EntityEngineState(state.detector, state.incident, state.clock, until,
                                  tuple(o for o in pending if o.ts >= until)
                                  if len(ready) < len(pending) else (), state.seen)
        state, emit = self._judge(state, detector, verdicts, entity_id)
        return state, Stepped(list(emit.events), points=emit.points)

    def _judge(self, state: EntityEngineState, detector: EntityState, verdicts: list[Verdict],
               entity_id: str) -> tuple[EntityEngineState, Emit]:
        incident, emit = state.incident, Emit()
        entity = self.watchlist[entity_id]
        for verdict in verdicts:
            incident, new = self.lifecycle.advance(incident, verdict, entity)
            emit = emit.then(new)
        return EntityEngineState(detector, incident, state.clock, state.released,
                                 state.pending, state.seen), emit

    def restore(self, entity_id: str, state: EntityEngineState | None) -> Emit:
        """The open incident of the entity as a 'restored' event (see Lifecycle.restore)."""
        if state is None or entity_id not in self.watchlist:
            return Emit()
        return self.lifecycle.restore(state.incident, self.watchlist[entity_id])
