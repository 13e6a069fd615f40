"""One entity's whole judgement: detector state plus incident state, stepped together.

This is the unit both drivers share. The stream keeps an :class:`EntityEngineState`
per entity in a Faust table (as JSON); replay keeps them in a dict. The same
observations and ticks in the same per-entity order give the same alert events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alerting.ack import ALREADY, RECORDED, Ack, AckAnswer, entity_of_incident, judge_ack
from alerting.event import AlertEvent
from alerting.lifecycle import IncidentState, Lifecycle
from models.detector import Detector, EntityState
from models.observation import Observation, Tick
from models.watchlist import Watchlist

__all__ = ["Ack", "Engine", "EntityEngineState", "entity_of_incident"]


@dataclass(frozen=True, slots=True)
class EntityEngineState:
    """Detector and incident state of one entity, stored together so they never drift."""

    detector: EntityState
    incident: IncidentState

    def to_dict(self) -> dict[str, Any]:
        return {"detector": self.detector.to_dict(), "incident": self.incident.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntityEngineState:
        return cls(EntityState.from_dict(data["detector"]),
                   IncidentState.from_dict(data["incident"]))


@dataclass(frozen=True, slots=True)
class Engine:
    """Steps detection then lifecycle for one observation or tick."""

    watchlist: Watchlist
    detector: Detector
    lifecycle: Lifecycle = field(default_factory=Lifecycle)

    @classmethod
    def for_watchlist(cls, watchlist: Watchlist, lifecycle: Lifecycle | None = None) -> Engine:
        linked = {e.id: watchlist.linked_to(e.id) for e in watchlist.entities}
        return cls(watchlist, Detector(linked=linked), lifecycle or Lifecycle())

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
            incident, events = self.lifecycle.acknowledge(
                state.incident, ack.incident_id, ack.by, ack.ts, entity)
            state = EntityEngineState(state.detector, incident)
        holder = latest.acknowledged_by if latest is not None else None
        answer = AckAnswer(
            ack.request_id, ack.incident_id, outcome, reason, ack.by, ack.ts,
            acknowledged_by=ack.by if outcome == RECORDED else
            holder if outcome == ALREADY else None,
            latest=latest.id if latest is not None and latest.id != ack.incident_id else None)
        return state, events, answer

    def step(self, state: EntityEngineState | None,
             item: Observation | Tick | Ack) -> tuple[EntityEngineState, list[AlertEvent]]:
        """Fold one item; an :class:`Ack` of an unknown incident raises LifecycleError."""
        state = state or self.initial()
        if isinstance(item, Ack):
            incident, events = self.lifecycle.acknowledge(
                state.incident, item.incident_id, item.by, item.ts,
                self.watchlist[item.entity_id])
            return EntityEngineState(state.detector, incident), events
        if isinstance(item, Tick):
            detector, verdicts = self.detector.tick(state.detector, item.ts, item.entity_id)
        else:
            detector, verdicts = self.detector.observe(state.detector, item)
        incident, events = state.incident, []
        entity = self.watchlist[item.entity_id]
        for verdict in verdicts:
            incident, new = self.lifecycle.advance(incident, verdict, entity)
            events += new
        return EntityEngineState(detector, incident), events
