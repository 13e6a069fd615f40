"""One entity's whole judgement: detector state plus incident state, stepped together.

This is the unit both drivers share. The stream keeps an :class:`EntityEngineState`
per entity in a Faust table (as JSON); replay keeps them in a dict. The same
observations and ticks in the same per-entity order give the same alert events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alerting.event import AlertEvent
from alerting.lifecycle import IncidentState, Lifecycle
from models.detector import Detector, EntityState, Profile
from models.observation import Observation, Tick
from models.params import DetectorParams
from models.watchlist import Watchlist

__all__ = ["Ack", "Engine", "EntityEngineState", "Seed", "detector_for", "entity_of_incident"]


def detector_for(watchlist: Watchlist, params: DetectorParams) -> Detector:
    """The detector for a watchlist: each entity's kind, sensitivity and linked entities."""
    profiles = {e.id: Profile(e.kind, e.sensitivity, watchlist.linked_to(e.id))
                for e in watchlist.entities}
    return Detector(params, profiles=profiles)


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
    def for_watchlist(cls, watchlist: Watchlist, lifecycle: Lifecycle | None = None,
                      params: DetectorParams | None = None) -> Engine:
        """The engine for a watchlist: each entity's kind, sensitivity and links."""
        return cls(watchlist, detector_for(watchlist, params or DetectorParams()),
                   lifecycle or Lifecycle())

    def initial(self) -> EntityEngineState:
        return EntityEngineState(self.detector.initial(), IncidentState())

    def step(self, state: EntityEngineState | None,
             item: Observation | Tick | Ack | Seed) -> tuple[EntityEngineState,
                                                              list[AlertEvent]]:
        """Fold one item; an :class:`Ack` of an unknown incident raises LifecycleError.

        A :class:`Seed` replaces what detection has learned of the entity when the seed
        has learned more (more buckets of baseline); incidents are left as they are."""
        state = state or self.initial()
        if isinstance(item, Seed):
            if item.detector.baseline.n <= state.detector.baseline.n:
                return state, []
            return EntityEngineState(item.detector.learned(), state.incident), []
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
