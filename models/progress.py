"""Event-time progress of the mentions partitions, and the minimum watermark over them.

Several workers read the mentions topic, each a few of its partitions, and each
partition runs at its own pace. An entity's minute may close only when *every*
partition has passed it: otherwise a worker whose partitions run ahead would
close the minute while another worker's mentions of it are still on their way.
This is the minimum watermark of Flink and Kafka Streams:

- each partition's mark is the newest event time read from it, less the
  lateness bound (mentions may arrive out of order within a partition by that
  much and still count in their own minute);
- the watermark is the lowest mark of the partitions that are not idle;
- a partition whose reader has caught up and has heard nothing for a while is
  idle, so one quiet partition does not hold every minute open; if all are
  idle, the highest mark stands (everything on Kafka has been read);
- when an idle partition speaks again, the other idle partitions count again
  until their readers say once more that they are idle: mentions are flowing
  again and theirs may be on the way (a burst written to every partition at
  once would otherwise close minutes before the slower readers had read it);
- a progress is taken once. The clock keeps where (observations partition,
  offset, item) the last one it took was read, and skips one read there or
  before: a redelivery. A worker that dies after writing an entity's state but
  before committing its observations offsets leaves the next reader a state
  newer than the messages it reads again. Taken again, an idle declaration read
  before the wake that revoked it made its partition idle once more, and the
  entity closed minutes before that partition's mentions came: they were
  counted late (tests/unit/test_progress_redelivery.py).

The intake sends a :class:`Progress` for a partition when its mark crosses a
minute; each entity keeps an :class:`EventClock` of them in its state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["At", "EventClock", "Progress"]


class At(NamedTuple):
    """Where an item was read on the observations topic; ordered as read."""

    partition: int
    offset: int
    index: int  # of the item in its message (a batch of items per entity)


@dataclass(frozen=True, slots=True)
class Progress:
    """Mentions partition ``partition`` (of ``partitions``) has passed event time ``mark``,
    or (``idle``) is caught up and quiet. Sent to every entity, on its partition.

    >>> Progress.from_dict(Progress("acme", 2, 6, 1.7e9).to_dict())
    Progress(entity_id='acme', partition=2, partitions=6, mark=1700000000.0, idle=False)
    """

    entity_id: str
    partition: int
    partitions: int
    mark: float
    idle: bool = False

    def to_dict(self) -> dict[str, Any]:
        mark = None if self.mark == -math.inf else self.mark  # idle before any mention
        return {"progress": mark, "entity_id": self.entity_id,
                "partition": self.partition, "partitions": self.partitions,
                "idle": self.idle}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Progress:
        mark = data["progress"]
        return cls(str(data["entity_id"]), int(data["partition"]), int(data["partitions"]),
                   -math.inf if mark is None else float(mark), bool(data.get("idle", False)))


@dataclass(frozen=True, slots=True)
class EventClock:
    """Per-partition marks; :meth:`watermark` is the event time every partition has passed.

    Two partitions: the minute closes only when the slower one passes it, or goes idle.

    >>> c = EventClock().advance(Progress("acme", 0, 2, 180.0))
    >>> c.watermark() is None       # partition 1 not heard from yet
    True
    >>> c = c.advance(Progress("acme", 1, 2, 120.0))
    >>> c.watermark()
    120.0
    >>> c.advance(Progress("acme", 1, 2, 120.0, idle=True)).watermark()
    180.0
    >>> EventClock.from_dict(c.to_dict()) == c
    True
    """

    partitions: int = 0
    marks: tuple[tuple[int, float, bool], ...] = ()  # (partition, mark, idle), by partition
    last: At | None = None  # where the last progress taken was read

    def advance(self, progress: Progress, at: At | None = None) -> EventClock:
        """Take one partition's progress, read at ``at`` on the observations topic (None:
        not read from Kafka, e.g. replay); marks only grow (a redelivery never moves back).

        >>> c = EventClock(2, ((0, 60.0, True), (1, 60.0, True)))
        >>> c.advance(Progress("acme", 0, 2, 600.0)).watermark()  # 1 must speak again
        60.0

        A progress read again (at or before the last one taken) is skipped, so an idle
        declaration read again cannot undo the wake that followed it:

        >>> quiet = Progress("acme", 1, 2, 60.0, idle=True)
        >>> c = EventClock().advance(Progress("acme", 0, 2, 600.0)).advance(quiet, At(3, 7, 0))
        >>> woke = c.advance(Progress("acme", 1, 2, 120.0), At(3, 8, 0))
        >>> woke.advance(quiet, At(3, 7, 0)) is woke
        True
        """
        last = self.last
        if at is not None and last is not None and at.partition == last.partition and (
                at.offset, at.index) <= (last.offset, last.index):
            return self  # taken before: the state already holds what followed it
        marks = dict((p, (m, i)) for p, m, i in self.marks)
        old, was_idle = marks.get(progress.partition, (-math.inf, False))
        if was_idle and not progress.idle:  # a partition woke: the others must re-declare
            marks = {p: (m, False) for p, (m, _) in marks.items()}
        marks[progress.partition] = (max(old, progress.mark), progress.idle)
        return EventClock(max(self.partitions, progress.partitions),
                          tuple(sorted((p, m, i) for p, (m, i) in marks.items())),
                          self.last if at is None else at)

    def watermark(self) -> float | None:
        """The lowest mark of the partitions not idle (the highest if all are idle);
        None while a partition has not been heard from."""
        if len(self.marks) < self.partitions or not self.marks:
            return None
        active = [m for _, m, idle in self.marks if not idle]
        mark = min(active) if active else max(m for _, m, _ in self.marks)
        return None if mark == -math.inf else mark

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "partitions": self.partitions,
            "marks": [[p, None if m == -math.inf else m, i] for p, m, i in self.marks]}
        if self.last is not None:
            data["last"] = list(self.last)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EventClock:
        """The clock back from :meth:`to_dict` (a state written before ``last`` was kept
        has none: it takes the next progress whatever it is)."""
        last = data.get("last")
        return cls(int(data["partitions"]), tuple(
            (int(p), -math.inf if m is None else float(m), bool(i)) for p, m, i in data["marks"]),
            None if last is None else At(*map(int, last)))
