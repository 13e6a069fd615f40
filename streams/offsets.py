"""Watch each partition's offsets for gaps: a message Kafka holds but the worker never saw.

Kafka delivers at least once, so a repeated offset is normal after a restart. A
skipped offset is not: faust-streaming used to drop events that arrived while a
worker started and then commit past them (fixed by :mod:`streams.flowfix`, see
docs/operations-local.md). Nothing downstream can notice a message that never
arrived, so the intake still counts and logs every gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["OffsetWatch"]


@dataclass(slots=True)
class OffsetWatch:
    """Next expected offset per partition; counts skipped and repeated offsets.

    >>> w = OffsetWatch()
    >>> [w.see(0, o) for o in (10, 11, 13, 13, 14)]
    [0, 0, 1, 0, 0]
    >>> w.gaps, w.repeats
    (1, 1)
    """

    gaps: int = 0  # offsets skipped, in all
    repeats: int = 0  # offsets seen again (redelivery)
    _next: dict[int, int] = field(default_factory=dict)

    def forget(self, partition: int) -> None:
        """The partition went to another worker: when it comes back, others will have
        read on from where this worker stopped, which is no gap."""
        self._next.pop(partition, None)

    def next_offset(self, partition: int) -> int | None:
        """The offset after the last one seen on ``partition`` (None: nothing seen yet)."""
        return self._next.get(partition)

    def see(self, partition: int, offset: int) -> int:
        """Record one offset; return how many offsets before it were skipped."""
        expected = self._next.get(partition)
        missing = 0
        if expected is not None and offset > expected:
            missing = offset - expected
            self.gaps += missing
        elif expected is not None and offset < expected:
            self.repeats += 1
        self._next[partition] = max(offset + 1, expected or 0)
        return missing

    def expect(self, partition: int, offset: int) -> None:
        """Where a partition starts (its committed offset), unless already under watch."""
        self._next.setdefault(partition, offset)
