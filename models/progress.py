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
- a partition is idle only on its reader's *second* declaration in a row (they
  come ``idle_seconds`` apart while it stays quiet). A declaration is worked out
  from the partition's end offset, then sent: one worked out just before a burst
  reached the partition can arrive just after another partition woke with the
  same burst, and would close minutes before the burst's share of this partition
  is read (the likeliest cause of a scale-out run, on a loaded machine, whose
  alerts differed from a replay). The second declaration was worked out after
  the first was sent, so after the burst (if sending took less than idle_seconds).

The intake sends a :class:`Progress` for a partition when its mark crosses a
minute; each entity keeps an :class:`EventClock` of them in its state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["IDLE", "EventClock", "Progress"]

IDLE = 2  # idle declarations in a row that make a quiet partition idle


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
    >>> quiet = Progress("acme", 1, 2, 120.0, idle=True)
    >>> c.advance(quiet).watermark()  # declared once: maybe worked out before a burst
    120.0
    >>> c.advance(quiet).advance(quiet).watermark()  # twice in a row: idle
    180.0
    >>> EventClock.from_dict(c.to_dict()) == c
    True
    """

    partitions: int = 0
    # (partition, mark, quiet), by partition; quiet counts the reader's idle declarations
    # since the partition last spoke or was woken, up to IDLE: idle at IDLE.
    marks: tuple[tuple[int, float, int], ...] = ()

    def advance(self, progress: Progress) -> EventClock:
        """Take one partition's progress; marks only grow (a redelivery never moves back).

        >>> c = EventClock(2, ((0, 60.0, IDLE), (1, 60.0, IDLE)))
        >>> c.advance(Progress("acme", 0, 2, 600.0)).watermark()  # 1 must speak again
        60.0
        """
        marks = dict((p, (m, q)) for p, m, q in self.marks)
        old, quiet = marks.get(progress.partition, (-math.inf, 0))
        if quiet >= IDLE and not progress.idle:  # a partition woke: the others re-declare
            marks = {p: (m, 0) for p, (m, _) in marks.items()}
        marks[progress.partition] = (max(old, progress.mark),
                                     min(quiet + 1, IDLE) if progress.idle else 0)
        return EventClock(max(self.partitions, progress.partitions),
                          tuple(sorted((p, m, q) for p, (m, q) in marks.items())))

    def watermark(self) -> float | None:
        """The lowest mark of the partitions not idle (the highest if all are idle);
        None while a partition has not been heard from."""
        if len(self.marks) < self.partitions or not self.marks:
            return None
        active = [m for _, m, quiet in self.marks if quiet < IDLE]
        mark = min(active) if active else max(m for _, m, _ in self.marks)
        return None if mark == -math.inf else mark

    def to_dict(self) -> dict[str, Any]:
        return {"partitions": self.partitions,
                "marks": [[p, None if m == -math.inf else m, q] for p, m, q in self.marks]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EventClock:
        """The clock back from :meth:`to_dict`; a state written when ``quiet`` was a flag
        reads ``true`` as one declaration (the next one makes it idle again)."""
        return cls(int(data["partitions"]), tuple(
            (int(p), -math.inf if m is None else float(m), int(q)) for p, m, q in data["marks"]))
