"""What the worker's agents run (intake and engine for one watchlist), and its reload.

The watchlist changes without a restart: on SIGHUP, or when the file's content
changes (a Kubernetes ConfigMap update swaps the mounted file). Entities keep
their state while their id stays in the list (state lives in the table, by id);
new ids start cold, from the detector's prior; removed ids are skipped. An
invalid file is refused and logged at ERROR, and the watchlist in force stays.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from alerting.engine import Engine
from models.errors import FirestormModelError
from models.intake import Intake
from models.watchlist import Watchlist
from streams.errors import FirestormError

__all__ = ["Pipeline", "Reloaded", "WatchlistSource"]

log = logging.getLogger("firestorm.worker")


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The intake and engine of one watchlist; swapped whole, never changed in place."""

    intake: Intake
    engine: Engine
    watched: frozenset[str] = field(default=frozenset())

    @classmethod
    def of(cls, intake: Intake, engine: Engine) -> Pipeline:
        return cls(intake, engine, frozenset(e.id for e in engine.watchlist.entities))

    def with_watchlist(self, watchlist: Watchlist) -> Pipeline:
        return Pipeline.of(self.intake.with_watchlist(watchlist),
                           self.engine.with_watchlist(watchlist))


@dataclass(frozen=True, slots=True)
class Reloaded:
    """The outcome of a reload: the new pipeline, or why the file was refused."""

    pipeline: Pipeline | None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    error: str = ""


@dataclass(slots=True)
class WatchlistSource:
    """The watchlist file, and the digest of the content now in force."""

    path: Path
    digest: str = ""

    def __post_init__(self) -> None:
        self.digest = self._digest() or ""

    def _digest(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def changed(self) -> bool:
        """Has the file's content changed since it was last loaded (or refused)?"""
        digest = self._digest()
        return digest is not None and digest != self.digest

    def reload(self, current: Pipeline, why: str) -> Reloaded:
        """Load the file again; a bad one leaves ``current`` in force, and says why."""
        from streams.components import load_watchlist

        self.digest = self._digest() or self.digest  # a refused file is not retried until edited
        try:
            watchlist = load_watchlist(self.path)
        except (FirestormError, FirestormModelError) as exc:
            log.error("watchlist reload REFUSED path=%s trigger=%s: %s; the watchlist in force"
                      " (%d entities) stays", self.path, why, exc, len(current.watched))
            return Reloaded(None, error=str(exc))
        new = current.with_watchlist(watchlist)
        added = tuple(sorted(new.watched - current.watched))
        removed = tuple(sorted(current.watched - new.watched))
        log.warning("watchlist reloaded path=%s trigger=%s entities=%d added=%s removed=%s"
                    " (new entities start cold; the others keep their state)", self.path, why,
                    len(new.watched), ",".join(added) or "-", ",".join(removed) or "-")
        return Reloaded(new, added, removed)
