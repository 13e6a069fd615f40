"""What the worker's agents run (intake and engine for one watchlist), and its reload.

The watchlist changes without a restart: on SIGHUP, or when the file's content
changes (a Kubernetes ConfigMap update swaps the mounted file). Entities keep
their state while their id stays in the list (state lives in the table, by id);
new ids start cold, from the detector's prior, watched from their ``since`` (or the
list's ``watch_since``) or else from their first mention; removed ids are skipped. An
invalid file is refused and logged at ERROR, and the watchlist in force stays.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from alerting.engine import Engine
from models.errors import FirestormModelError
from models.intake import Intake
from models.watchlist import Watchlist
from streams.errors import FirestormError

__all__ = ["CATCH_UP_WARN_DAYS", "Pipeline", "Reloaded", "WatchlistSource", "log_watch_start"]

log = logging.getLogger("firestorm.worker")

# An entity watched from a start this far back learns every quiet minute since then
# at its first progress: say so.
CATCH_UP_WARN_DAYS = 30
CATCH_UP_CPU_SECONDS_PER_DAY = 1.6 / 30  # measured: 30 days of minutes, one entity


def log_watch_start(watchlist: Watchlist, now: float | None = None) -> None:
    """Say when the entities' watch began (the watchlist's ``watch_since`` and
    ``since``), and warn when a start is so far back that catching up is slow."""
    now = time.time() if now is None else now
    starts = [s for e in watchlist.entities if (s := watchlist.since(e.id)) is not None]
    unset = len(watchlist.entities) - len(starts)
    log.info("watch start: %d entities from their watchlist since, %d from their first"
             " mention%s", len(starts), unset,
             "" if watchlist.watch_since is not None else
             " (set watch_since to when this deployment began: docs/operations.md)")
    days = (now - min(starts)) / 86_400 if starts else 0.0
    if days > CATCH_UP_WARN_DAYS:
        log.warning("watch start %.0f days ago: an entity first mentioned now first learns"
                    " %.0f days of quiet minutes, about %.0f CPU-seconds each, once; set"
                    " watch_since to when this deployment began watching", days, days,
                    days * CATCH_UP_CPU_SECONDS_PER_DAY)


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
                    " (new entities start cold, from their since or first mention; the others"
                    " keep their state)", self.path, why,
                    len(new.watched), ",".join(added) or "-", ",".join(removed) or "-")
        log_watch_start(watchlist)
        inherit = [a for a in added if watchlist[a].since is None]
        if inherit and watchlist.watch_since is not None:
            # Its mentions were not being tagged before now: from watch_since it would
            # learn that time as silence, and its usual volume would look like a storm.
            log.warning("watchlist reload: added %s without a since of its own: watched from"
                        " watch_since, so the time before it was added counts as quiet; give"
                        " each `since: %s` (now)", ",".join(inherit),
                        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        return Reloaded(new, added, removed)
