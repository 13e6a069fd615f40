"""The duty officer's board: what is open now, folded from alert events.

The console (``firestorm console``) keeps one :class:`Board` and folds every
event it reads into it with :func:`apply`: first the whole stream log
(catch-up), then each live event. Pure: no I/O, no clock; ages are the
view's business.

Rules, in the order an officer relies on them:

- one :class:`Entry` per open incident, carrying its latest event (severity,
  figures, reasons, evidence) and who acknowledged it;
- ``resolved`` moves an incident to a short "recently resolved" list; a late
  ``acknowledged`` still marks it there; nothing else brings it back;
- order: severity (critical first), then unacknowledged first, then the most
  recent activity first;
- redelivery is harmless: an event whose ``seq`` is not after the last one
  applied to its incident changes nothing, so reading the log twice, or a
  live event that catch-up already saw, leaves the board as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from alerting.event import AlertEvent
from models.verdict import SEVERITIES, severity_rank

__all__ = ["Board", "Entry", "apply", "fold"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One incident as the console shows it: its latest event and what the board adds.

    ``last_at`` is the event time of the latest alerting event: an
    acknowledgement is not news about the storm, so it does not move the
    incident up the list.
    """

    event: AlertEvent  # the latest event applied (figures, reasons, evidence)
    opened_at: float  # event time of 'opened', or of the first event seen
    last_at: float
    acknowledged_by: str | None = None
    resolved: bool = False
    last_event: str = "opened"  # the kind of the latest alerting (non-ack) event

    @property
    def incident_id(self) -> str:
        return self.event.incident_id

    @property
    def entity_name(self) -> str:
        return self.event.entity_name

    @property
    def severity(self) -> str:
        return self.event.severity

    @property
    def seq(self) -> int:
        return self.event.seq

    def sort_key(self) -> tuple[int, bool, float, str]:
        return (-severity_rank(self.severity), self.acknowledged_by is not None,
                -self.last_at, self.incident_id)


@dataclass(frozen=True, slots=True)
class Board:
    """Open incidents in display order, the recently resolved, and what was closed.

    >>> from alerting.event import AlertEvent
    >>> def ev(entity, seq, kind, severity, at, by=None):
    ...     return AlertEvent(f"{entity}-20240501T120000Z", seq, kind, entity, entity.title(),
    ...                       "partner", severity, at, 40, 8.0, 0.7, 0.3, 5.0,
    ...                       acknowledged_by=by)
    >>> events = [ev("acme", 1, "opened", "warning", 60.0),
    ...           ev("dwp", 1, "opened", "watch", 120.0),
    ...           ev("dwp", 2, "escalated", "critical", 180.0),
    ...           ev("acme", 2, "acknowledged", "warning", 200.0, by="sam")]
    >>> board = fold(events)
    >>> [(e.entity_name, e.severity, e.acknowledged_by) for e in board.open]
    [('Dwp', 'critical', None), ('Acme', 'warning', 'sam')]
    >>> fold(events, board) == board          # redelivered: nothing changes
    True
    >>> board = apply(board, ev("dwp", 3, "resolved", "critical", 2000.0))
    >>> [e.entity_name for e in board.open], [e.entity_name for e in board.resolved]
    (['Acme'], ['Dwp'])
    >>> board.counts()
    {'critical': 0, 'warning': 1, 'watch': 0}
    """

    open: tuple[Entry, ...] = ()
    resolved: tuple[Entry, ...] = ()  # most recently resolved first
    closed: tuple[str, ...] = ()  # ids resolved and since dropped, newest first
    keep_resolved: int = 5  # how many resolved incidents stay on screen
    remember_closed: int = 1000  # how many dropped ids are still recognised as done

    def find(self, incident_id: str) -> Entry | None:
        """The open or recently resolved incident with this id."""
        for entry in (*self.open, *self.resolved):
            if entry.incident_id == incident_id:
                return entry
        return None

    def counts(self) -> dict[str, int]:
        """Open incidents per severity, critical first."""
        counts = dict.fromkeys(reversed(SEVERITIES), 0)
        for entry in self.open:
            counts[entry.severity] += 1
        return counts


def apply(board: Board, event: AlertEvent) -> Board:
    """The board after ``event``; the same board if the event was already applied."""
    if event.incident_id in board.closed:
        return board  # resolved long ago and dropped from the screen
    known = board.find(event.incident_id)
    if known is not None and event.seq <= known.seq:
        return board  # redelivered, or older than what we show
    entry = _advance(known, event)
    open_ = tuple(e for e in board.open if e.incident_id != event.incident_id)
    resolved = tuple(e for e in board.resolved if e.incident_id != event.incident_id)
    if entry.resolved:
        resolved = (entry, *resolved)
        dropped = tuple(e.incident_id for e in resolved[board.keep_resolved:])
        resolved = resolved[: board.keep_resolved]
        closed = (*reversed(dropped), *board.closed)[: board.remember_closed]
        return replace(board, open=open_, resolved=resolved, closed=closed)
    open_ = tuple(sorted((*open_, entry), key=Entry.sort_key))
    return replace(board, open=open_, resolved=resolved)


def fold(events: Iterable[AlertEvent], board: Board | None = None) -> Board:
    """Apply ``events`` in order, to ``board`` or to an empty one."""
    board = Board() if board is None else board
    for event in events:
        board = apply(board, event)
    return board


def _advance(known: Entry | None, event: AlertEvent) -> Entry:
    is_ack = event.event == "acknowledged"
    by = event.acknowledged_by or (known.acknowledged_by if known else None)
    if known is None:
        # The log may start after 'opened' (stream cap): the first event seen stands in.
        return Entry(event, opened_at=event.at, last_at=event.at, acknowledged_by=by,
                     resolved=event.event == "resolved", last_event=event.event)
    opened_at = event.at if event.event == "opened" else known.opened_at
    last_at = known.last_at if is_ack else max(known.last_at, event.at)
    # An acknowledgement never changes status: a late ack leaves a resolved one resolved.
    resolved = known.resolved if is_ack else event.event == "resolved"
    last_event = known.last_event if is_ack else event.event
    if is_ack:
        # An ack says who has it, not what is happening: keep the figures and the why.
        event = replace(known.event, seq=event.seq, acknowledged_by=by)
    return Entry(event, opened_at=opened_at, last_at=last_at, acknowledged_by=by,
                 resolved=resolved, last_event=last_event)
