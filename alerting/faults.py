"""The engine's side of the test-only fault hook (:mod:`models.faults`).

An observation waits in the engine until event time has passed its minute, and
only then reaches the detector; a fault raised there would fire on whichever
later item released it. The hook raises in :meth:`PoisonEngine.step` instead,
on the marked observation itself, as a bug triggered by one message would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alerting.engine import Engine, EntityEngineState, Source, Stepped
from models.faults import InjectedFault, poisoned
from models.observation import Observation
from models.progress import At
from models.watchlist import Watchlist

__all__ = ["PoisonEngine"]


@dataclass(frozen=True, slots=True)
class PoisonEngine(Engine):
    """An engine whose step raises on an observation carrying ``<marker>:detect``.

    >>> from models.watchlist import parse_watchlist
    >>> wl = parse_watchlist("entities: [{id: acme, name: Acme, kind: partner, terms: [acme]}]")
    >>> base = Engine.for_watchlist(wl)
    >>> engine = PoisonEngine(wl, base.detector, base.lifecycle, marker="P0ison")
    >>> obs = Observation("acme", "m1", 1.7e9, "x", "anon:1", "acme P0ison:detect", 1, 0.5)
    >>> engine.step(None, obs)
    Traceback (most recent call last):
    ...
    models.faults.InjectedFault: test poison in detect (FIRESTORM_TEST_POISON)

    A copy of it that the state has passed over (dead-lettered) is a redelivery:

    >>> passed = engine.pass_over(None, Source(0, 7))
    >>> engine.step(passed, obs, Source(0, 7))[1].redelivered
    True
    """

    marker: str = ""

    def step(self, state: EntityEngineState | None, item: Any,
             source: Source | None = None, at: At | None = None
             ) -> tuple[EntityEngineState, Stepped]:
        if (isinstance(item, Observation) and poisoned(self.marker, "detect", item.text)
                and (source is None or self.pass_over(state, source) is not None)):
            # Where a bug in the engine would fire: not on a copy of an observation already
            # counted or passed over (Engine.step drops those as redelivered first).
            raise InjectedFault("test poison in detect (FIRESTORM_TEST_POISON)")
        return Engine.step(self, state, item, source, at)

    def with_watchlist(self, watchlist: Watchlist) -> PoisonEngine:
        engine = Engine.with_watchlist(self, watchlist)
        return PoisonEngine(engine.watchlist, engine.detector, engine.lifecycle,
                            marker=self.marker)
