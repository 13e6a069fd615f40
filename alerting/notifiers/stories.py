"""One storm, one message: which events of a story tell the duty officer something new. Pure.

A partner and its policy storming together are one story (:mod:`alerting.story`);
each has its own incident, so each sends 'opened', 'escalated', 'resolved' and
'acknowledged'. The officer should be paged once for the storm, again when the
storm gets worse or calmer, and told once when it is over or in hand:

- 'opened', 'escalated', 'updated': only if the story's severity (the highest of
  its open incidents) is above what was last told about it; 'updated' (the
  periodic "still alerting") only from the story's worst open incident;
- 'deescalated': only if the story's severity fell below what was last told;
- 'resolved': only when the last open incident of the story resolves;
- 'acknowledged': only the first acknowledgement of the story.

For an incident alone in its story (or an event stored without a story) this
is exactly the rule of one incident: every lifecycle event tells something.
"""

from __future__ import annotations

from alerting.event import AlertEvent
from models.verdict import severity_rank

__all__ = ["closes_story", "story_key", "tells"]


def story_key(event: AlertEvent) -> str:
    """What reminders and dedupe are kept by: the story, or the incident when it has none."""
    return event.story.id if event.story is not None else event.incident_id


def tells(event: AlertEvent, told: int) -> tuple[bool, int]:
    """Does ``event`` tell something new, given the story severity ``told`` so far (a rank,
    0 for nothing yet)? Returns the answer and the rank now told.

    >>> from alerting.story import Stories, StoryRules
    >>> book = Stories(StoryRules.of({"acme": ("wp",)}))
    >>> def ev(entity, kind, severity, seq=1):
    ...     return book.tell(AlertEvent(f"{entity}-1", seq, kind, entity, entity, "partner",
    ...                                 severity, 60.0 * seq, 40, 8.0, 0.7, 0.3, 5.0))
    >>> tells(ev("acme", "opened", "warning"), 0)
    (True, 2)
    >>> tells(ev("wp", "opened", "warning"), 2)     # joins a storm already told
    (False, 2)
    >>> tells(ev("wp", "escalated", "critical", 2), 2)   # the storm got worse
    (True, 3)
    """
    story = event.story
    if story is None:
        return True, told
    rank = severity_rank(story.severity)
    kind = event.event
    if kind in ("opened", "escalated"):
        return (rank > told, max(rank, told))
    if kind == "updated":
        worst = next((m for m in story.members if m.is_open and m.severity == story.severity),
                     None)
        return (worst is not None and worst.incident_id == event.incident_id, max(rank, told))
    if kind == "deescalated":
        return (rank < told, rank) if story.status == "open" else (False, told)
    if kind == "resolved":
        return (story.status == "resolved", 0 if story.status == "resolved" else told)
    if kind == "acknowledged":
        others = [m for m in story.members
                  if m.incident_id != event.incident_id and m.acknowledged_by]
        return (not others, told)
    return True, told  # 'restored' and anything newer: the policy's events decide


def closes_story(event: AlertEvent) -> bool:
    """Is the storm over or in hand: no reminder about it any more?

    Alone: resolved or acknowledged. In a story: every incident resolved, or every
    open one acknowledged.
    """
    story = event.story
    if story is None or not story.is_group:
        return event.event in ("acknowledged", "resolved") or event.acknowledged_by is not None
    open_ = [m for m in story.members if m.is_open]
    return not open_ or all(m.acknowledged_by for m in open_)
