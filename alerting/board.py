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
  live event that catch-up already saw, leaves the board as it was;
- one storm, one block: :func:`stories` groups the open incidents by the
  story their events carry (:mod:`alerting.story`), worst story first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from alerting.event import AlertEvent
from alerting.story import Story
from models.verdict import SEVERITIES, severity_rank

__all__ = ["Board", "Entry", "StoryView", "apply", "fold", "stories"]


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

    @property
    def story_id(self) -> str:
        story = self.event.story
        return story.id if story is not None else self.incident_id

    def sort_key(self) -> tuple[int, bool, float, str]:
        return (-severity_rank(self.severity), self.acknowledged_by is not None,
                -self.last_at, self.incident_id)


@dataclass(frozen=True, slots=True)
class StoryView:
    """One storm on the board: its open incidents, in the order they joined the story.

    A single incident is a story of one. ``story`` is the latest telling of it
    that the board has seen (None for events stored without stories).
    """

    id: str
    entries: tuple[Entry, ...]
    story: Story | None = None

    @property
    def severity(self) -> str:
        return max((e.severity for e in self.entries), key=severity_rank)

    @property
    def acknowledged(self) -> bool:
        return all(e.acknowledged_by for e in self.entries)

    @property
    def acknowledged_by(self) -> tuple[str, ...]:
        """Who has it, each once, in member order."""
        return tuple(dict.fromkeys(e.acknowledged_by for e in self.entries
                                   if e.acknowledged_by))

    @property
    def unacknowledged(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if not e.acknowledged_by)

    @property
    def title(self) -> str:
        return " + ".join(f"{e.event.entity_name} ({e.event.entity_kind})" for e in self.entries)

    def sort_key(self) -> tuple[int, bool, float, str]:
        return (-severity_rank(self.severity), self.acknowledged,
                -max(e.last_at for e in self.entries), self.id)


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


def stories(board: Board) -> tuple[StoryView, ...]:
    """The open incidents as stories: worst first, unacknowledged first, most recent first.

    >>> from alerting.story import StoryRules, Stories
    >>> book = Stories(StoryRules.of({"acme": ("wp",)}))
    >>> def ev(entity, at, severity):
    ...     return book.tell(AlertEvent(f"{entity}-1", 1, "opened", entity, entity.title(),
    ...                                 "partner", severity, at, 40, 8.0, 0.7, 0.3, 5.0))
    >>> board = fold([ev("acme", 60.0, "warning"), ev("uc", 90.0, "warning"),
    ...               ev("wp", 120.0, "critical")])
    >>> [(s.id, s.severity, [e.incident_id for e in s.entries]) for s in stories(board)]
    [('acme-1', 'critical', ['acme-1', 'wp-1']), ('uc-1', 'warning', ['uc-1'])]
    """
    groups: dict[str, list[Entry]] = {}
    for entry in board.open:
        groups.setdefault(entry.story_id, []).append(entry)
    views = []
    for story_id, entries in groups.items():
        told = [e.event.story for e in entries if e.event.story is not None]
        # The telling with the most members, then the latest: it knows the whole story.
        story = max(told, key=lambda s: (len(s.members), max(m.last_at for m in s.members)),
                    default=None)
        order = {m.incident_id: i for i, m in enumerate(story.members)} if story else {}
        entries.sort(key=lambda e: (order.get(e.incident_id, len(order)), e.opened_at,
                                    e.incident_id))
        views.append(StoryView(story_id, tuple(entries), story))
    return tuple(sorted(views, key=StoryView.sort_key))


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
        # The log may start after 'opened' (stream cap, or a restore after Redis lost
        # it): the first event seen stands in, with the opening time it carries.
        opened = event.opened_at if event.opened_at is not None else event.at
        return Entry(event, opened_at=opened, last_at=event.at, acknowledged_by=by,
                     resolved=event.event == "resolved", last_event=event.event)
    opened_at = event.at if event.event == "opened" else known.opened_at
    last_at = known.last_at if is_ack else max(known.last_at, event.at)
    # An acknowledgement never changes status: a late ack leaves a resolved one resolved.
    resolved = known.resolved if is_ack else event.event == "resolved"
    last_event = known.last_event if is_ack else event.event
    if is_ack:
        # An ack says who has it, not what is happening: keep the figures and the why.
        event = replace(known.event, seq=event.seq, acknowledged_by=by,
                        story=event.story or known.event.story)
    return Entry(event, opened_at=opened_at, last_at=last_at, acknowledged_by=by,
                 resolved=resolved, last_event=last_event)
