"""streams.drain: faust's drain loop hands a message to its channel without a task when
the channel takes it at once, and exactly as faust does (the same coroutine, abandoned on
a rebalance) when it has to wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any

from faust.transport.consumer import Consumer
from hypothesis import given, settings
from hypothesis import strategies as st
from mode import Service
from mode.utils.locks import Event

from streams import drain


class _Consumer(Service):
    """What ``_hand_over`` and the drain loop read of faust's Consumer, and a real
    ``wait_first`` (mode's Service)."""

    def __init__(self, callback: Callable[[Any], Awaitable[None]],
                 fetches: list[list[SimpleNamespace]]) -> None:
        super().__init__()
        self.callback = callback
        self.suspend_flow = Event()
        self._fetches = fetches
        self.timeouts: list[float] = []
        self._read_offset: dict[str, int | None] = {"tp": None}
        self._buffered_partitions: set[str] = set()
        self._commit_every = None
        self._n_acked = 0
        self.diag = SimpleNamespace(set_flag=lambda flag: None, unset_flag=lambda flag: None)
        self.app = SimpleNamespace(topics=SimpleNamespace(acks_enabled_for=lambda t: True))
        self.consumer_stopped_errors = ()

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[str, Any]]:
        self.timeouts.append(timeout)
        if not self._fetches:
            self._stopped.set()  # the drain loop ends after the last fetch
            return
        for message in self._fetches.pop(0):
            yield "tp", message


def _message(offset: int) -> SimpleNamespace:
    return SimpleNamespace(offset=offset, topic="mentions", key=None, value=b"")


def _run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    """``scenario()`` on a fresh loop, with how many tasks were created while it ran."""
    async def counted() -> tuple[Any, int]:
        loop = asyncio.get_running_loop()
        made = [0]

        def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kw: Any) -> asyncio.Task:
            made[0] += 1
            return asyncio.Task(coro, loop=loop, **kw)

        loop.set_task_factory(factory)
        result = await scenario()
        return result, made[0]

    return asyncio.run(counted())


def test_a_message_the_channel_takes_at_once_makes_no_task():
    taken: list[int] = []

    async def callback(message: Any) -> None:
        taken.append(message.offset)

    async def scenario() -> None:
        consumer = _Consumer(callback, [])
        await drain._hand_over(consumer, _message(7), callback)

    (_, tasks) = _run(scenario)
    assert taken == [7]
    assert tasks == 0  # faust's wait_first makes four for every message


def test_a_message_that_must_wait_is_finished_by_the_same_coroutine():
    steps: list[str] = []

    async def scenario() -> list[str]:
        room = asyncio.get_running_loop().create_future()

        async def callback(message: Any) -> None:
            steps.append("decoded")
            got = await room  # a full queue: waits for a slot
            steps.append(f"put {got}")

        consumer = _Consumer(callback, [])
        asyncio.get_running_loop().call_later(0.01, room.set_result, "slot")
        await drain._hand_over(consumer, _message(1), callback)
        return steps

    (steps_seen, _) = _run(scenario)
    assert steps_seen == ["decoded", "put slot"]  # decoded once, then put: one coroutine


def test_an_error_after_the_wait_reaches_the_drain_loop():
    async def scenario() -> str:
        room = asyncio.get_running_loop().create_future()

        async def callback(message: Any) -> None:
            await room
            raise ValueError("cannot decode")

        consumer = _Consumer(callback, [])
        asyncio.get_running_loop().call_later(0.01, room.set_result, None)
        try:
            await drain._hand_over(consumer, _message(1), callback)
        except ValueError as exc:
            return str(exc)
        return "no error"

    assert _run(scenario)[0] == "cannot decode"


def test_a_rebalance_abandons_a_message_stuck_on_a_full_queue():
    """As faust's ``wait_first`` with ``suspend_flow`` does: the drain loop goes on, and
    the waiting coroutine is cancelled (its message is not put on the queue)."""
    steps: list[str] = []

    async def scenario() -> None:
        never = asyncio.get_running_loop().create_future()

        async def callback(message: Any) -> None:
            try:
                await never
                steps.append("put")
            except asyncio.CancelledError:
                steps.append("cancelled")
                raise

        consumer = _Consumer(callback, [])
        asyncio.get_running_loop().call_later(0.01, consumer.suspend_flow.set)
        await asyncio.wait_for(drain._hand_over(consumer, _message(1), callback), 5)
        await asyncio.sleep(0)  # the cancellation reaches the coroutine

    _run(scenario)
    assert steps == ["cancelled"]


def test_while_flow_is_suspended_a_message_takes_faust_s_own_path():
    async def scenario() -> None:
        async def callback(message: Any) -> None:
            return None

        consumer = _Consumer(callback, [])
        consumer.suspend_flow.set()
        await drain._hand_over(consumer, _message(1), callback)

    assert _run(scenario)[1] >= 2  # wait_first's tasks, as in faust


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.booleans(), max_size=8), min_size=1, max_size=5))
def test_the_drain_loop_hands_every_message_over_once_in_order(fetches: list[list[bool]]):
    """Whichever messages have to wait, each is handed over once, in offset order, and
    the read offset ends at the last one."""
    offsets = iter(range(1_000))
    batches = [[SimpleNamespace(offset=next(offsets), topic="mentions", key=None, value=b"",
                                waits=w) for w in fetch] for fetch in fetches]
    expected = [m.offset for batch in batches for m in batch]

    async def scenario() -> tuple[list[int], int | None]:
        taken: list[int] = []

        async def callback(message: Any) -> None:
            if message.waits:
                await asyncio.sleep(0.001)
            taken.append(message.offset)

        consumer = _Consumer(callback, [list(b) for b in batches])
        fetcher = SimpleNamespace(_stopped=Event())
        await drain._drain_messages(consumer, fetcher)  # type: ignore[arg-type]
        return taken, consumer._read_offset["tp"]

    (taken, last), _ = _run(scenario)
    assert taken == expected
    assert last == (expected[-1] if expected else None)


def test_a_fetch_waits_briefly_while_a_partition_is_paused_for_a_full_queue():
    """faust pauses a partition whose queue is nearly full and waits up to a second for
    the others' records: its own records would wait that long once the queue drained."""
    async def scenario() -> list[float]:
        async def callback(message: Any) -> None:
            consumer._buffered_partitions.add("tp")  # the queue filled with this one

        consumer = _Consumer(callback, [[_message(0)], []])
        await drain._drain_messages(consumer, SimpleNamespace(_stopped=Event()))  # type: ignore[arg-type]
        return consumer.timeouts

    assert _run(scenario)[0] == [1.0, drain.PAUSED_WAIT, drain.PAUSED_WAIT]


def test_apply_installs_the_drain_loop():
    drain.apply()
    drain.apply()
    assert Consumer._drain_messages is drain._drain_messages
