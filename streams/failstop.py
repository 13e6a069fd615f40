"""Fail-stop, never skip: an agent that fails mid-batch stops the worker before its
offsets can be committed, and a message that keeps failing is dead-lettered.

Why the worker stops instead of carrying on: faust acks every event of a batch
when the agent's ``take_events`` loop is left, whatever the reason, and
commits acked offsets when an agent crashes (``App._on_agent_error``). An
exception or a cancellation escaping an agent therefore commits a batch that was
never processed, and the supervisor's restart carries on past it. So
:meth:`FailStop.guard` turns anything that escapes a batch into a hard exit
(:data:`EXIT_CRASHED`, like ``kill -9``: nothing more is acked or committed), and
Kafka hands the batch out again after the restart.

Who is to blame: an exception raised by the pure steps (decoding, tagging,
scoring, detection) is charged to the mention that causes it, found by trying
the batch's messages one at a time (:func:`culprits`). A crash in detection is
charged to the mention the observation came from, not to the observation: until
that mention's offset is committed, a restart reads it again and makes a new
copy of the observation at a new offset, which must not start a new count. Each
charge is written to the :class:`AttemptLedger`, a small JSON file in the data
dir, fsynced before the exit. When a mention comes back with ``max_attempts``
charges, in whichever stage, it is not tried again: it goes to the dead-letter
topic with the exception as its reason, and the partition moves on. A failure of
Kafka or Redis is charged to no message: the worker stops and tries again after
the restart.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

__all__ = ["EXIT_CRASHED", "AttemptLedger", "Charge", "FailStop", "Position", "culprits",
           "describe"]

log = logging.getLogger("firestorm.worker")

EXIT_CRASHED = 70  # EX_SOFTWARE: the worker stopped itself; restart it


class Position(NamedTuple):
    """Where a message is on Kafka."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass(frozen=True, slots=True)
class Charge:
    """How often a message crashed the worker, in which stage, and the last exception.

    ``held`` are the positions where it crashed (the mention itself, or the
    observations made from it): the charge is kept until Kafka has a commit past
    every one of them, since until then a restart hands the crashing message out again.
    """

    attempts: int
    stage: str
    error: str
    at: float  # wall clock of the last crash
    held: tuple[Position, ...] = ()

    def reason(self, max_attempts: int) -> str:
        """The dead letter's reason once the attempts are used up."""
        return (f"crashed the worker {self.attempts} times in {self.stage}"
                f" (FIRESTORM_MAX_ATTEMPTS={max_attempts}): {self.error}")


def describe(exc: BaseException, limit: int = 300) -> str:
    """``Type: message``, one line, safe to put in a Kafka header."""
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AttemptLedger:
    """Charges per mention, kept in a JSON file that survives a crash of the worker.

    The file is rewritten whole (to a temporary file, fsynced, renamed) on every
    change; it holds only messages that crashed the worker recently, so it stays
    tiny. It lives in the worker's data dir: a partition that moves to a worker on
    another machine starts that worker's count from zero, so a poison message may
    crash each machine ``max_attempts`` times, never more.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "attempts.json"
    >>> ledger = AttemptLedger(path, max_attempts=2)
    >>> m = Position("mentions", 0, 41)
    >>> ledger.charge(m, "intake", "KeyError: 'x'", at=0.0).attempts
    1
    >>> ledger.exhausted(m) is None       # one more try left
    True
    >>> _ = AttemptLedger(path, 2).charge(m, "intake", "KeyError: 'x'", at=1.0)  # restarted
    >>> AttemptLedger(path, 2).exhausted(m).reason(2)
    "crashed the worker 2 times in intake (FIRESTORM_MAX_ATTEMPTS=2): KeyError: 'x'"

    A crash in detection is charged to the mention, held by the observation:

    >>> n, obs = Position("mentions", 0, 42), Position("observations", 3, 7)
    >>> _ = ledger.charge(n, "detect", "E", at=2.0, where=obs)
    >>> ledger.settle({("mentions", 0): 100})  # the mention committed: still held
    >>> ledger.exhausted(n) is None, len(ledger)
    (True, 1)
    >>> ledger.settle({("observations", 3): 8})
    >>> len(ledger)
    0
    """

    def __init__(self, path: str | os.PathLike[str] | None, max_attempts: int) -> None:
        self.path = Path(path) if path is not None else None
        self.max_attempts = max_attempts
        self._charges: dict[Position, Charge] = {}
        if self.path is not None and self.path.exists():
            self._load()

    def __len__(self) -> int:
        return len(self._charges)

    def exhausted(self, source: Position) -> Charge | None:
        """The charge of a message that must not be tried again, else None."""
        charge = self._charges.get(source) if self._charges else None
        return charge if charge is not None and charge.attempts >= self.max_attempts else None

    def charge(self, source: Position, stage: str, error: str, at: float,
               where: Position | None = None) -> Charge:
        """Record one more crash caused by ``source``, durably, before the worker exits.

        ``where`` is the message that crashed, when it is not ``source`` itself (an
        observation made from the mention ``source``).
        """
        return self.charge_many([source], stage, error, at, where)[0]

    def charge_many(self, sources: Iterable[Position], stage: str, error: str,
                    at: float, where: Position | None = None) -> list[Charge]:
        charged = []
        for source in sources:
            before = self._charges.get(source)
            held = {*(before.held if before else ()), where or source}
            charge = Charge((before.attempts if before else 0) + 1, stage, error, at,
                            tuple(sorted(held)))
            self._charges[source] = charge
            charged.append(charge)
        self._save()
        return charged

    def settle(self, committed: Mapping[tuple[str, int], int | None]) -> None:
        """Forget the charges that Kafka can no longer hand out again: ``committed`` is
        the next offset to read per (topic, partition), and a charge goes once every
        position it is held by lies below it (processed or dead-lettered)."""
        if not self._charges:
            return
        done = [source for source, charge in self._charges.items()
                if all((below := committed.get((p.topic, p.partition))) is not None
                       and p.offset < below for p in charge.held or (source,))]
        if done:
            for source in done:
                del self._charges[source]
            self._save()

    def _load(self) -> None:
        assert self.path is not None
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
            for entry in entries:
                source = Position(entry["topic"], int(entry["partition"]), int(entry["offset"]))
                held = tuple(Position(str(t), int(p), int(o))
                             for t, p, o in entry.get("held", ())) or (source,)
                self._charges[source] = Charge(int(entry["attempts"]), entry["stage"],
                                               entry["error"], float(entry["at"]), held)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Written by rename, so never torn; unreadable means edited by hand. Start
            # again rather than refuse to run: the worst case is more tries, not a loss.
            log.error("attempt ledger unreadable, starting it afresh path=%s error=%s",
                      self.path, exc)
            self._charges.clear()

    def _save(self) -> None:
        if self.path is None:
            return
        entries = [{"topic": s.topic, "partition": s.partition, "offset": s.offset,
                    "attempts": c.attempts, "stage": c.stage, "error": c.error, "at": c.at,
                    "held": [list(h) for h in c.held]}
                   for s, c in sorted(self._charges.items())]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            json.dump(entries, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a power cut
        finally:
            os.close(directory)


def culprits(step: Callable[[Sequence[Any]], object], values: Sequence[Any]) -> list[int]:
    """Indexes of the values on which ``step`` raises when given that value alone.

    >>> def step(batch):
    ...     if any(v is None for v in batch):
    ...         raise TypeError("None")
    >>> culprits(step, [b"a", None, b"b", None])
    [1, 3]
    """
    found = []
    for index, value in enumerate(values):
        try:
            step([value])
        except Exception:
            found.append(index)
    return found


class FailStop:
    """The agents' side of fail-stop: guard a batch, charge a poison message, exit.

    ``exit`` is :func:`os._exit` in the worker: no ``finally`` of faust's runs, so
    nothing more is acked or committed (the same as ``kill -9``). ``on_stop`` runs
    first (the health page marks the agent crashed).
    """

    def __init__(self, ledger: AttemptLedger, *,
                 exit: Callable[[int], Any] = os._exit,
                 clock: Callable[[], float] = time.time) -> None:
        self.ledger = ledger
        self._exit = exit
        self._clock = clock
        self.on_stop: Callable[[str, str], object] = lambda agent, why: None

    @contextmanager
    def guard(self, agent: str, what: str) -> Iterator[None]:
        """Anything that escapes the block (an exception, a cancellation) stops the worker."""
        try:
            yield
        except SystemExit:
            raise
        except BaseException as exc:  # CancelledError too: the batch is in flight
            self.stop(agent, f"{what} failed: {describe(exc)}")

    def poisoned(self, agent: str, stage: str, exc: BaseException,
                 sources: Sequence[Position], where: Position | None = None) -> NoReturn:
        """A pure step raised on ``sources`` (on ``where``, made from them): charge
        them, then stop the worker."""
        error = describe(exc)
        charges = self.ledger.charge_many(sources, stage, error, self._clock(), where)
        worst = max(c.attempts for c in charges) if charges else 0
        log.critical("%s crashed on %s: %s; attempt %d of %d recorded in %s",
                     agent, (f"{where} made from " if where and where not in sources else "")
                     + ", ".join(map(str, sources[:5]))
                     + (f" and {len(sources) - 5} more" if len(sources) > 5 else ""),
                     error, worst, self.ledger.max_attempts, self.ledger.path,
                     exc_info=exc)
        self.stop(agent, f"{stage} raised {error}")

    def stop(self, agent: str, why: str) -> NoReturn:
        self.on_stop(agent, why)
        log.critical("fail-stop agent=%s: %s; exiting %d without committing the batch, so"
                     " it is processed again after the restart", agent, why, EXIT_CRASHED)
        for handler in logging.getLogger().handlers:
            handler.flush()
        self._exit(EXIT_CRASHED)
        raise SystemExit(EXIT_CRASHED)  # only reached with a test's exit function
