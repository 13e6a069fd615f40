"""Faust's drain loop without four asyncio tasks for every message it hands over.

faust-streaming's ``Consumer._drain_messages`` hands each fetched message to its
channel with ``await self.wait_first(callback(message), self.suspend_flow.wait())``.
mode's ``wait_first`` wraps each of those two coroutines, and the consumer's
``stopped`` and ``crashed`` events, in a task of its own, waits on all four with
``asyncio.wait`` and cancels the three that lost: four tasks, a wait and three
cancellations for every message, though the channel callback almost never has to
wait (it decodes the message and puts an event on a queue with room). A bare agent
taking raw batches spends most of its CPU there (docs/benchmarks.md, "Faust's floor").

Here the callback's first step runs at once, in the drain loop. If it finishes there
(the queue had room), the message is handed over with no task at all. If it has to
wait (a full queue, flow control), the rest of the *same* coroutine goes to
``wait_first`` beside ``suspend_flow`` exactly as faust does it, so a rebalance still
abandons a message stuck on a full queue. While flow is suspended, or the consumer is
stopping or crashed, a message takes faust's own path from the start. Nothing else
in the loop changes (read offsets, gaps, commits, the yield every 100 messages) but
the fetch's wait while a partition is paused for a full queue (``PAUSED_WAIT``).
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Coroutine, Generator
from typing import Any, cast

from faust.transport.consumer import CONSUMER_FETCHING, Consumer
from mode import Service

__all__ = ["PAUSED_WAIT", "apply"]

# How long a fetch waits for records while a partition is paused for a full queue.
PAUSED_WAIT = 0.05


@types.coroutine
def _rest(coro: Coroutine[Any, Any, Any], waiting: Any) -> Generator[Any, Any, Any]:
    """Drive ``coro`` on from where its first step stopped (``waiting``, the future it
    yielded), as ``await`` would have: what the task sends or throws goes to it."""
    while True:
        try:
            sent = yield waiting
        except BaseException as exc:  # cancellation included: passed on to the coroutine
            try:
                waiting = coro.throw(exc)
            except StopIteration as done:
                return done.value
        else:
            try:
                waiting = coro.send(sent)
            except StopIteration as done:
                return done.value


async def _continue(coro: Coroutine[Any, Any, Any], waiting: Any) -> Any:
    return await _rest(coro, waiting)


async def _hand_over(self: Consumer, message: Any, callback: Any) -> None:
    """``callback(message)``, as faust's ``wait_first`` with ``suspend_flow`` would."""
    service = cast(Service, self)
    if self.suspend_flow.is_set() or service._stopped.is_set() or service._crashed.is_set():
        await service.wait_first(callback(message), self.suspend_flow.wait())
        return
    coro = callback(message)
    try:
        waiting = coro.send(None)
    except StopIteration:
        return  # handed over without waiting: the usual case
    await service.wait_first(_continue(coro, waiting), self.suspend_flow.wait())


async def _drain_messages(self: Consumer, fetcher: Any) -> None:
    """faust-streaming 0.15.3's ``Consumer._drain_messages`` with two changes: each
    message is handed over with :func:`_hand_over`, and a fetch waits ``PAUSED_WAIT``
    while a partition is paused for a full queue. The rest (error handling included)
    is faust's."""
    callback = self.callback
    getmany = self.getmany
    consumer_should_stop = cast(Service, self)._stopped.is_set
    fetcher_should_stop = cast(Service, fetcher)._stopped.is_set
    get_read_offset = self._read_offset.__getitem__
    set_read_offset = self._read_offset.__setitem__
    set_flag = self.diag.set_flag
    unset_flag = self.diag.unset_flag
    commit_every = self._commit_every
    acks_enabled_for = self.app.topics.acks_enabled_for
    yield_every = 100
    num_since_yield = 0
    sleep = asyncio.sleep
    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            set_flag(CONSUMER_FETCHING)
            # A partition paused because its queue filled is taken up again as soon as
            # its queue drains; the fetch must not wait a whole second for the others.
            ait = getmany(timeout=PAUSED_WAIT if self._buffered_partitions else 1.0)
            await self.sleep(0)
            if not self.should_stop:
                async for tp, message in ait:
                    num_since_yield += 1
                    if num_since_yield > yield_every:
                        await sleep(0)
                        num_since_yield = 0
                    offset = message.offset
                    r_offset = get_read_offset(tp)
                    if r_offset is None or offset >= r_offset:
                        gap = offset - (r_offset or 0)
                        if gap > 1 and r_offset and acks_enabled_for(message.topic):
                            await self._add_gap(tp, r_offset + 1, offset)
                        if commit_every is not None and self._n_acked >= commit_every:
                            self._n_acked = 0
                            await self.commit()
                        await _hand_over(self, message, callback)
                        set_read_offset(tp, offset)
                    else:
                        self.log.dev("DROPPED MESSAGE ROFF %r: k=%r v=%r", offset,
                                     message.key, message.value)
                unset_flag(CONSUMER_FETCHING)
    except self.consumer_stopped_errors:
        if self.transport.app.should_stop:
            self.log.info("Broker stopped consumer, shutting down...")
            return
        raise
    except asyncio.CancelledError:
        if self.transport.app.should_stop:
            self.log.info("Consumer shutting down for user cancel.")
            return
        raise
    except Exception as exc:
        self.log.exception("Drain messages raised: %r", exc)
        raise
    finally:
        unset_flag(CONSUMER_FETCHING)


def apply() -> None:
    """Install the drain loop (idempotent). Call before the Faust app starts."""
    if not hasattr(Consumer, "_drain_messages"):
        raise RuntimeError("faust's Consumer._drain_messages is gone: re-check"
                           " streams/drain.py against this faust-streaming version")
    Consumer._drain_messages = _drain_messages  # type: ignore[method-assign]
