"""One entity's whole judgement: detector state plus incident state, stepped together.

This is the unit both drivers share. The stream keeps an :class:`EntityEngineState`
per entity in a Faust table (as JSON); replay keeps them in a dict. The same
observations and ticks in the same per-entity order give the same alert events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alerting.lifecycle import Emit, IncidentState, Lifecycle
from models.detector import Detector, EntityState
from models.observation import Observation, Tick
from models.watchlist import Watchlist

__all__ = ["Ack", "Engine", "EntityEngineState", "entity_of_incident"]


def entity_of_incident(incident_id: str) -> str:
    """The entity an incident id belongs to (ids are ``<entity>-<YYYYMMDDTHHMMSSZ>``).

    >>> entity_of_incident("acme-stores-20260105T101500Z")
    'acme-stores'
    """
    return incident_id.rsplit("-", 1)[0]


@dataclass(frozen=True, slots=True)
class Ack:
    """A person has acknowledged an incident; travels on the entity's partition like a tick."""

    entity_id: str
    incident_id: str
    by: str
    ts: float  # when they acknowledged it (their clock: an ack is a human act, not data)

    def to_dict(self) -> dict[str, Any]:
        return {"ack": self.incident_id, "entity_id": self.entity_id, "by": self.by,
                "ts": self.ts}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ack:
        return cls(data["entity_id"], data["ack"], data["by"], float(data["ts"]))


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

    def step(self, state: EntityEngineState | None,
             item: Observation | Tick | Ack) -> tuple[EntityEngineState, Emit]:
        """Fold one item; an :class:`Ack` of an unknown incident raises LifecycleError."""
        state = state or self.initial()
        if isinstance(item, Ack):
            incident, emit = self.lifecycle.acknowledge(
                state.incident, item.incident_id, item.by, item.ts,
                self.watchlist[item.entity_id])
            return EntityEngineState(state.detector, incident), emit
        if isinstance(item, Tick):
            detector, verdicts = self.detector.tick(state.detector, item.ts, item.entity_id)
        else:
            detector, verdicts = self.detector.observe(state.detector, item)
        incident, emit = state.incident, Emit()
        entity = self.watchlist[item.entity_id]
        for verdict in verdicts:
            incident, new = self.lifecycle.advance(incident, verdict, entity)
            emit = emit.then(new)
        return EntityEngineState(detector, incident), emit

    def restore(self, entity_id: str, state: EntityEngineState | None) -> Emit:
        """The open incident of the entity as a 'restored' event (see Lifecycle.restore)."""
        if state is None or entity_id not in self.watchlist:
            return Emit()
        return self.lifecycle.restore(state.incident, self.watchlist[entity_id])
