"""Is anybody watching? The worker's heartbeat, the store's history, and what they mean.

A dead worker must not look like a quiet day, and a Redis that restarted empty
must not look like an all-clear. So:

- every worker writes a :class:`Heartbeat` every few seconds: when, how far
  event time has got, when it last took in a mention, how many messages wait
  on its partitions, how many incidents it holds open;
- the store keeps a :class:`History` marker: when its history began, and, if
  it began again while a worker held open incidents, when it was lost and
  when the worker had republished them;
- readers (console, pages, notify) turn both into a :class:`Liveness` with
  :func:`judge`, and say "worker silent for 3 min" rather than nothing.

Pure: no I/O, no clock (``now`` is passed in). Times are wall-clock epoch
seconds, except ``Heartbeat.event_time`` (event time of the data).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["DEFAULT_SILENT_AFTER", "Heartbeat", "History", "Liveness", "judge"]

DEFAULT_SILENT_AFTER = 30.0  # seconds without a heartbeat before a worker counts as silent


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """One worker's sign of life.

    >>> h = Heartbeat("firestorm@host:4242", at=1714566845.0, event_time=1714566840.0,
    ...               last_input_at=1714566844.0, lag=0, open_incidents=2)
    >>> Heartbeat.from_json(h.to_json()) == h
    True
    """

    worker: str  # app id, host and pid: a restarted worker is a new one
    at: float  # wall clock of this beat
    event_time: float | None = None  # newest event time the worker has judged
    last_input_at: float | None = None  # wall clock it last took in a mention
    lag: int | None = None  # messages waiting on its input partitions (None: unknown yet)
    open_incidents: int = 0  # open incidents in the state of its partitions
    pending: int = 0  # alert events waiting in its outbox for Redis

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Heartbeat:
        data = json.loads(text)
        return cls(str(data["worker"]), float(data["at"]), _float(data.get("event_time")),
                   _float(data.get("last_input_at")),
                   None if data.get("lag") is None else int(data["lag"]),
                   int(data.get("open_incidents", 0)), int(data.get("pending", 0)))


@dataclass(frozen=True, slots=True)
class History:
    """When the store's history began; whether it began again with incidents to rebuild.

    >>> History(since=100.0, lost_at=100.0).rebuilding, History(100.0, 100.0, 104.0).rebuilding
    (True, False)
    """

    since: float  # wall clock this store's history began (first worker beat on it)
    lost_at: float | None = None  # set when it began while a worker held open incidents
    rebuilt_at: float | None = None  # when a worker had republished its open incidents
    restored: int = 0  # how many it republished

    @property
    def rebuilding(self) -> bool:
        return self.lost_at is not None and (self.rebuilt_at is None
                                             or self.rebuilt_at < self.lost_at)

    def to_fields(self) -> dict[str, str]:
        out = {"since": repr(self.since), "restored": str(self.restored)}
        if self.lost_at is not None:
            out["lost_at"] = repr(self.lost_at)
        if self.rebuilt_at is not None:
            out["rebuilt_at"] = repr(self.rebuilt_at)
        return out

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> History:
        return cls(float(fields["since"]), _float(fields.get("lost_at")),
                   _float(fields.get("rebuilt_at")), int(fields.get("restored") or 0))


@dataclass(frozen=True, slots=True)
class Liveness:
    """What a reader should say about the pipeline now.

    >>> beat = Heartbeat("w", at=1000.0, event_time=990.0, last_input_at=995.0, lag=3)
    >>> judge([beat], History(900.0), now=1010.0).text()
    'worker ok (lag 3, data up to 00:16:30 UTC)'
    >>> judge([beat], History(900.0), now=1190.0).text()
    'worker silent for 3 min'
    >>> judge([], None, now=1190.0).text()
    'no worker heartbeat'
    """

    now: float
    latest: Heartbeat | None  # the most recent beat of any worker
    history: History | None
    silent_after: float = DEFAULT_SILENT_AFTER
    open_incidents: int = 0  # held by the workers that beat recently

    @property
    def silent_for(self) -> float | None:
        """Seconds since the last heartbeat when that is too long (None: a worker is alive)."""
        if self.latest is None:
            return None
        quiet = self.now - self.latest.at
        return quiet if quiet > self.silent_after else None

    @property
    def alive(self) -> bool:
        return self.latest is not None and self.silent_for is None

    @property
    def feed_quiet_for(self) -> float | None:
        """Seconds since a worker last took in a mention (None: never, or no worker)."""
        if self.latest is None or self.latest.last_input_at is None:
            return None
        return max(0.0, self.now - self.latest.last_input_at)

    @property
    def all_clear_allowed(self) -> bool:
        """May an empty board say "no open incidents"? Only with a live worker and history."""
        return self.alive and self.history is not None and not self.history.rebuilding

    def text(self) -> str:
        """One short line for a header: green when alive, the problem otherwise."""
        if self.latest is None:
            return "no worker heartbeat"
        silent = self.silent_for
        if silent is not None:
            return f"worker silent for {_span(silent)}"
        parts = []
        if self.latest.lag is not None:
            parts.append(f"lag {self.latest.lag}")
        if self.latest.event_time is not None:
            parts.append(f"data up to {_clock(self.latest.event_time)}")
        return "worker ok" + (f" ({', '.join(parts)})" if parts else "")

    def empty_board_text(self, lost_at: float | None = None) -> str:
        """What an empty board says, never a false all-clear.

        ``lost_at`` is when the reader itself saw the log go (a Redis restart).
        """
        history = self.history
        if history is not None and history.rebuilding:
            return (f"History lost at {_clock(history.lost_at or history.since)}, rebuilding…"
                    f" ({self.open_incidents} open incidents held by the worker)")
        if history is None:
            if lost_at is not None:
                return (f"History lost at {_clock(lost_at)}, rebuilding… (waiting for the"
                        " worker to republish its open incidents)")
            return ("No incident history in Redis yet: waiting for the worker."
                    " This is not an all-clear.")
        if not self.alive:
            return (f"No open incidents known, but {self.text()}:"
                    " this is not an all-clear.")
        return "No open incidents. Watching for new alerts."


def judge(heartbeats: Iterable[Heartbeat], history: History | None, now: float,
          silent_after: float = DEFAULT_SILENT_AFTER) -> Liveness:
    """Liveness from every worker's latest beat: alive if any beat recently.

    Open incidents are summed over the workers that beat within ``silent_after``
    (each holds its own partitions).
    """
    beats = list(heartbeats)
    latest = max(beats, key=lambda h: h.at, default=None)
    held = sum(h.open_incidents for h in beats if now - h.at <= silent_after)
    return Liveness(now, latest, history, silent_after, held)


def _float(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def _span(seconds: float) -> str:
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S UTC")
