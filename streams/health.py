"""What ``GET /health`` says: the agents' states, and per partition the offsets processed
against the offsets committed, so that a skipped message cannot hide.

A committed offset tells Kafka "everything before this is done". If it is ahead
of what the agent has processed, the messages in between were never processed
by this worker and will never be handed to another one: they are skipped, and
counted in ``offset_gaps`` with the gaps the offset watch sees inside the
stream (:mod:`streams.offsets`). Offsets are Kafka's "next offset": processed
``n`` means offsets below ``n`` are done.

A committed offset that stands still while later offsets are processed is a
stall (:meth:`Health.stalls`): a message handed over and never acked holds every
later commit back. Nothing is lost, but the status says so.

The status is ``ok`` only when every agent runs, nothing was skipped and no
commit is stuck;
``starting`` until every agent has started; ``failing`` otherwise, with the
problems spelled out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from streams.offsets import OffsetWatch

__all__ = ["AgentHealth", "Health", "TopicPartition"]

AgentState = Literal["starting", "running", "restarting", "crashed"]
TopicPartition = tuple[str, int]


@dataclass(slots=True)
class AgentHealth:
    """One agent: its state, how often it was restarted, and the last crash."""

    state: AgentState = "starting"
    restarts: int = 0
    last_crash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "restarts": self.restarts, "last_crash": self.last_crash}


class Health:
    """The worker's health, fed by the agents and read by the ``/health`` page.

    >>> h = Health(("intake",))
    >>> h.agent_started("intake")
    >>> h.see("mentions", 0, 0)  # offsets skipped before it
    0
    >>> h.processed("mentions", 0, 1)
    >>> r = h.report({("mentions", 0): 1})
    >>> r["status"], r["offset_gaps"], r["partitions"]["mentions/0"]
    ('ok', 0, {'processed': 1, 'committed': 1, 'skipped': 0})
    >>> h.report({("mentions", 0): 5})["problems"]  # committed past what was processed
    ['mentions/0: 4 messages committed but never processed (offsets 1 to 4)']
    """

    __slots__ = ("_processed", "_start", "_still", "agents", "watches")

    def __init__(self, agents: Iterable[str]) -> None:
        self.agents = {name: AgentHealth() for name in agents}
        self.watches: dict[str, OffsetWatch] = {}  # per source topic
        self._processed: dict[TopicPartition, int] = {}
        # The committed offset of a partition when first seen, before anything processed.
        self._start: dict[TopicPartition, int] = {}
        # A partition's committed offset, and since when it has not moved while later
        # offsets were processed (see stalls).
        self._still: dict[TopicPartition, tuple[int, float]] = {}

    def agent_started(self, name: str) -> None:
        """The agent's body is running (again, after a crash or a rebalance)."""
        agent = self.agents[name]
        if agent.state != "starting":
            agent.restarts += 1
        agent.state = "running"

    def agent_stopped(self, name: str, crash: str | None = None) -> None:
        """The agent's body has ended: ``crash`` says why if it raised. A name that is
        not an agent (the commit watch stopping the worker) changes nothing here."""
        agent = self.agents.get(name)
        if agent is None:
            return
        agent.state = "crashed" if crash else "restarting"
        if crash:
            agent.last_crash = crash

    def see(self, topic: str, partition: int, offset: int, committed: int | None = None) -> int:
        """An offset handed to an agent; returns how many offsets before it were skipped.

        ``committed`` is where the partition was committed when it was given to this
        worker: the first offset handed over should be that one.
        """
        watch = self.watches.setdefault(topic, OffsetWatch())
        if committed is not None:
            watch.expect(partition, committed)
        return watch.see(partition, offset)

    def next_offset(self, topic: str, partition: int) -> int | None:
        """The offset after the last one handed over on this partition (None: none yet)."""
        watch = self.watches.get(topic)
        return watch.next_offset(partition) if watch is not None else None

    def processed(self, topic: str, partition: int, next_offset: int) -> None:
        """Offsets below ``next_offset`` on this partition are done (outputs confirmed)."""
        key = (topic, partition)
        if next_offset > self._processed.get(key, -1):
            self._processed[key] = next_offset

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Partitions taken away in a rebalance: whoever gets them next carries on."""
        for topic, partition in partitions:
            self._processed.pop((topic, partition), None)
            self._start.pop((topic, partition), None)
            self._still.pop((topic, partition), None)
            watch = self.watches.get(topic)
            if watch is not None:
                watch.forget(partition)

    def stalls(self, committed: Mapping[TopicPartition, int | None], now: float,
               after: float) -> list[str]:
        """Partitions whose committed offset has not moved for ``after`` seconds while
        later offsets were processed. Kafka commits only up to the first message not
        acked, so a handed message that is never acked holds every later commit back:
        nothing is lost, but a restart would read it all again. ``now`` is monotonic.

        >>> h = Health(("detect",))
        >>> h.processed("obs", 0, 900)
        >>> h.stalls({("obs", 0): 500}, now=0.0, after=60)
        []
        >>> h.stalls({("obs", 0): 500}, now=61.0, after=60)
        ['obs/0: commit stuck at 500 for 61s while offsets up to 899 were processed']
        >>> h.stalls({("obs", 0): 900}, now=62.0, after=60)  # caught up: no stall
        []
        """
        stuck: list[str] = []
        for key, upto in committed.items():
            done = self._processed.get(key)
            if upto is None or done is None or done <= upto:
                self._still.pop(key, None)
                continue
            was = self._still.get(key)
            if was is None or was[0] != upto:
                self._still[key] = (upto, now)
            elif now - was[1] >= after:
                stuck.append(f"{key[0]}/{key[1]}: commit stuck at {upto} for"
                             f" {now - was[1]:.0f}s while offsets up to {done - 1} were"
                             " processed")
        return stuck

    def report(self, committed: Mapping[TopicPartition, int | None],
               counters: Mapping[str, Any] | None = None,
               stalls: Iterable[str] = ()) -> dict[str, Any]:
        """The ``/health`` document; ``committed`` as the consumer last committed them,
        ``stalls`` from :meth:`stalls`."""
        problems: list[str] = list(stalls)
        partitions: dict[str, dict[str, int | None]] = {}
        tail = 0
        for key in sorted(set(committed) | set(self._processed)):
            done, upto = self._processed.get(key), committed.get(key)
            if upto is not None and done is None:
                done = self._start.setdefault(key, upto)  # nothing processed here yet
            skipped = max(0, upto - done) if upto is not None and done is not None else 0
            if skipped:
                tail += skipped
                problems.append(f"{key[0]}/{key[1]}: {skipped} messages committed but never"
                                f" processed (offsets {done} to {upto - 1})")
            partitions[f"{key[0]}/{key[1]}"] = {
                "processed": self._processed.get(key), "committed": upto, "skipped": skipped}
        seen_gaps = sum(w.gaps for w in self.watches.values())
        if seen_gaps:
            problems.append(f"{seen_gaps} offsets never handed to an agent (gaps in the stream)")
        for name, agent in self.agents.items():
            if agent.state in ("crashed", "restarting"):
                problems.append(f"agent {name} {agent.state}"
                                + (f": {agent.last_crash}" if agent.state == "crashed" else ""))
        starting = any(a.state == "starting" for a in self.agents.values())
        status = "failing" if problems else "starting" if starting else "ok"
        return {"status": status, "problems": problems,
                "agents": {name: a.to_dict() for name, a in self.agents.items()},
                "partitions": partitions, "offset_gaps": seen_gaps + tail,
                "offset_repeats": sum(w.repeats for w in self.watches.values()),
                **(counters or {})}
