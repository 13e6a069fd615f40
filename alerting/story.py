"""One storm, one story: the incidents of linked entities that escalate together.

Detection and the incident lifecycle are per entity: each entity's state lives
on its own partition, so a partner and the policy it delivers open two
incidents. The duty officer should hear of one storm once, on one page. So
incidents are grouped *downstream* of the per-entity alert events, by a pure
step over events in arrival order::

    state, story = group(state, event, rules)

An incident joins the story of a linked entity's incident (a watchlist
``linked`` relation, either direction) that still storms: open, with an event
less than twice ``rules.window`` seconds of event time before (a storming
incident has one at least every 15 minutes, so an incident left open because
its data stopped does not gather for ever), or resolved less than
``rules.window`` before. Otherwise it starts a story of its own, whose id is
the incident's id. Links are followed through
members, so a policy gathers every partner storming with it. Two stories that
already exist are never merged: a story id, once told, stays.

The step runs where events are stored, atomically with the store's write (the
Redis store under WATCH/MULTI, the memory store under its lock), and replay
runs the same step over its own output, so a story is the same for the same
events in the same order. The stream's per-entity events do not depend on it.

>>> rules = StoryRules.of({"acme": ("wp",)}, {"acme": ("Acme", "partner"),
...                                          "wp": ("Work Programme", "policy")})
>>> class E:  # any alert event: only these fields are read
...     def __init__(self, incident, entity, kind, at, severity="warning", by=None):
...         self.incident_id, self.entity_id, self.event, self.at = incident, entity, kind, at
...         self.entity_name, self.entity_kind = rules.names[entity]
...         self.severity, self.acknowledged_by = severity, by
>>> state, story = group(StoryState(), E("acme-1", "acme", "opened", 60.0), rules)
>>> story.id, [m.entity_id for m in story.members], [e for e, _, _ in story.linked]
('acme-1', ['acme'], ['wp'])
>>> state, story = group(state, E("wp-1", "wp", "opened", 120.0, "critical"), rules)
>>> story.id, [m.entity_id for m in story.members], story.severity, story.linked
('acme-1', ['acme', 'wp'], 'critical', ())
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from alerting.errors import AlertEventError
from models.verdict import severity_rank

if TYPE_CHECKING:
    from alerting.event import AlertEvent
    from models.watchlist import Watchlist

__all__ = ["DEFAULT_WINDOW", "Stories", "Story", "StoryMember", "StoryRules", "StoryState",
           "group"]

DEFAULT_WINDOW = 1800.0  # as long as the lifecycle waits before resolving: one storm's calm


@dataclass(frozen=True, slots=True)
class StoryMember:
    """One incident of the story, as of the latest event stored for it."""

    incident_id: str
    entity_id: str
    entity_name: str
    entity_kind: str
    severity: str
    status: str  # "open" | "resolved"
    last_at: float  # event time of its latest event (not of an acknowledgement)
    acknowledged_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def label(self) -> str:
        return f"{self.entity_name} ({self.entity_kind})"

    def to_dict(self) -> dict[str, Any]:
        return {"incident_id": self.incident_id, "entity_id": self.entity_id,
                "entity_name": self.entity_name, "entity_kind": self.entity_kind,
                "severity": self.severity, "status": self.status, "last_at": self.last_at,
                "acknowledged_by": self.acknowledged_by}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoryMember:
        return cls(str(data["incident_id"]), str(data["entity_id"]), str(data["entity_name"]),
                   str(data["entity_kind"]), str(data["severity"]), str(data["status"]),
                   float(data["last_at"]), data.get("acknowledged_by"))


@dataclass(frozen=True, slots=True)
class Story:
    """The incidents told as one storm, in the order they joined; the first names it.

    ``linked`` are the watchlist links of the members that have no incident in
    the story: ``(entity_id, name, kind)``, so a message can name "Work
    Programme (policy)" even while only its partner storms.
    """

    id: str
    members: tuple[StoryMember, ...]
    linked: tuple[tuple[str, str, str], ...] = ()

    @property
    def severity(self) -> str:
        """The highest severity of the open members (of all, once every one resolved)."""
        pool = [m for m in self.members if m.is_open] or list(self.members)
        return max((m.severity for m in pool), key=severity_rank)

    @property
    def status(self) -> str:
        return "open" if any(m.is_open for m in self.members) else "resolved"

    @property
    def is_group(self) -> bool:
        """More than one incident: the channels tell it as one story."""
        return len(self.members) > 1

    def member(self, incident_id: str) -> StoryMember | None:
        return next((m for m in self.members if m.incident_id == incident_id), None)

    def title(self) -> str:
        """"Acme Stores (partner) + Work Programme (policy)"."""
        return " + ".join(m.label() for m in self.members)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity, "status": self.status,
                "members": [m.to_dict() for m in self.members],
                "linked": [{"entity_id": e, "entity_name": n, "entity_kind": k}
                           for e, n, k in self.linked]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Story:
        try:
            members = tuple(StoryMember.from_dict(m) for m in data["members"])
            linked = tuple((str(x["entity_id"]), str(x["entity_name"]), str(x["entity_kind"]))
                           for x in data.get("linked", ()))
            story = cls(str(data["id"]), members, linked)
        except (KeyError, TypeError, ValueError) as exc:
            raise AlertEventError(f"'story': not a story ({exc!r})") from None
        if not members:
            raise AlertEventError("'story': a story has at least one member")
        return story


@dataclass(frozen=True, slots=True)
class StoryRules:
    """What grouping needs from the watchlist: links both ways, names, and the window."""

    links: Mapping[str, frozenset[str]]
    names: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, kind)
    window: float = DEFAULT_WINDOW

    @classmethod
    def of(cls, linked: Mapping[str, Iterable[str]],
           names: Mapping[str, tuple[str, str]] | None = None,
           window: float = DEFAULT_WINDOW) -> StoryRules:
        """Rules from one-way ``linked`` lists; links are made symmetric here."""
        both: dict[str, set[str]] = {}
        for source, targets in linked.items():
            for target in targets:
                both.setdefault(source, set()).add(target)
                both.setdefault(target, set()).add(source)
        return cls({k: frozenset(v) for k, v in both.items()}, dict(names or {}), window)

    @classmethod
    def from_watchlist(cls, watchlist: Watchlist, window: float = DEFAULT_WINDOW) -> StoryRules:
        return cls.of({e.id: e.linked for e in watchlist.entities},
                      {e.id: (e.name, e.kind) for e in watchlist.entities}, window)

    def linked(self, entity_id: str) -> frozenset[str]:
        return self.links.get(entity_id, frozenset())


@dataclass(frozen=True, slots=True)
class StoryState:
    """The stories that can still gather incidents (open, or calm for less than the window).

    >>> s = StoryState((Story("a-1", (StoryMember("a-1", "a", "A", "partner", "watch",
    ...                                            "open", 60.0),)),))
    >>> StoryState.from_dict(s.to_dict()) == s
    True
    """

    stories: tuple[Story, ...] = ()  # in the order they started

    def find(self, incident_id: str) -> Story | None:
        return next((s for s in self.stories if s.member(incident_id) is not None), None)

    def to_dict(self) -> dict[str, Any]:
        return {"stories": [s.to_dict() for s in self.stories]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoryState:
        return cls(tuple(Story.from_dict(s) for s in data.get("stories", ())))


def group(state: StoryState, event: AlertEvent, rules: StoryRules,
          recorded: Story | None = None) -> tuple[StoryState, Story]:
    """The story ``event`` belongs to, and the state after it.

    ``recorded`` is the story the store already holds for this incident, for an
    event that arrives after its story left the state (a late acknowledgement).
    """
    member = _member(event)
    story = state.find(event.incident_id) or (
        recorded if recorded is not None and recorded.member(event.incident_id) else None)
    if story is None:
        story = next((s for s in state.stories if _gathers(s, event, rules)), None)
        story = (Story(event.incident_id, (member,)) if story is None
                 else replace(story, members=(*story.members, member)))
    else:
        old = story.member(event.incident_id)
        assert old is not None
        if event.event == "acknowledged":  # who has it; nothing about the storm changed
            member = replace(old, acknowledged_by=event.acknowledged_by)
        elif member.acknowledged_by is None:
            member = replace(member, acknowledged_by=old.acknowledged_by)
        story = replace(story, members=tuple(member if m.incident_id == event.incident_id
                                             else m for m in story.members))
    story = replace(story, linked=_linked(story, rules))
    # Keep the order stories started in; drop those too long calm to gather anything.
    stories = [story if s.id == story.id else s for s in state.stories]
    if story not in stories:
        stories.append(story)
    stories = [s for s in stories if _live(s, event.at, rules)]
    return StoryState(tuple(stories)), story


def _member(event: AlertEvent) -> StoryMember:
    status = "resolved" if event.event == "resolved" else "open"
    return StoryMember(event.incident_id, event.entity_id, event.entity_name, event.entity_kind,
                       event.severity, status, event.at, event.acknowledged_by)


def _gathers(story: Story, event: AlertEvent, rules: StoryRules) -> bool:
    """Can ``story`` take the new incident of ``event``: linked to a member still storming?"""
    linked = rules.linked(event.entity_id)
    return any(m.entity_id in linked and _storming(m, event.at, rules) for m in story.members)


def _live(story: Story, at: float, rules: StoryRules) -> bool:
    return any(_storming(m, at, rules) for m in story.members)


def _storming(member: StoryMember, at: float, rules: StoryRules) -> bool:
    """Open and heard of lately (twice the window), or calm for less than the window.

    Either side of ``at``: events of two entities can arrive in either order,
    and an incident far ahead in event time (another feed, a replayed past) is
    no part of a storm now.
    """
    return abs(at - member.last_at) <= rules.window * (2 if member.is_open else 1)


def _linked(story: Story, rules: StoryRules) -> tuple[tuple[str, str, str], ...]:
    inside = {m.entity_id for m in story.members}
    out: list[str] = []
    for m in story.members:
        out += sorted(e for e in rules.linked(m.entity_id) if e not in inside and e not in out)
    return tuple((e, *rules.names.get(e, (e, ""))) for e in out)


class Stories:
    """:func:`group` with the memory a store keeps: each story by id, each incident's story.

    What the memory store and replay use; the Redis store keeps the same three
    things in Redis (``stories:active``, ``story:<id>``, the record's ``story_id``).
    """

    def __init__(self, rules: StoryRules) -> None:
        self.rules = rules
        self.state = StoryState()
        self._by_id: dict[str, Story] = {}
        self._of: dict[str, str] = {}  # incident id -> story id

    def tell(self, event: AlertEvent) -> AlertEvent:
        """``event`` with its story; remembers the story for the events after it."""
        known = self._of.get(event.incident_id)
        self.state, story = group(self.state, event, self.rules,
                                  self._by_id.get(known) if known else None)
        self._by_id[story.id] = story
        self._of[event.incident_id] = story.id
        return event.in_story(story)

    def story(self, story_id: str) -> Story | None:
        return self._by_id.get(story_id)
