"""streams.flowfix: resuming flow that was never suspended keeps the queued events, and a
commit never passes an offset that was not acked."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from types import SimpleNamespace

from faust.transport.consumer import Consumer
from faust.types import TP as TopicPartition
from hypothesis import given
from hypothesis import strategies as st
from mode.utils.queues import FlowControlEvent, FlowControlQueue

from streams import flowfix

TP = TopicPartition("obs", 0)


def _queue(flow: FlowControlEvent, *items: str) -> FlowControlQueue:
    queue: FlowControlQueue = FlowControlQueue(flow_control=flow, clear_on_resume=True)
    for item in items:
        queue.put_nowait(item)
    return queue


def test_resume_while_active_keeps_queued_events():
    async def scenario() -> int:
        flowfix.apply()
        flow = FlowControlEvent(initially_suspended=False)
        queue = _queue(flow, "a", "b")
        flow.resume()  # recovery resumes flow that is already on (worker start-up)
        return queue.qsize()

    assert asyncio.run(scenario()) == 2


def test_resume_after_suspend_still_clears_what_was_queued_before():
    async def scenario() -> tuple[int, bool]:
        flowfix.apply()
        flow = FlowControlEvent(initially_suspended=False)
        queue = _queue(flow, "before-rebalance")
        flow.suspend()
        flow.resume()  # end of a rebalance: drop the stale events, as mode intends
        return queue.qsize(), flow.is_active()

    assert asyncio.run(scenario()) == (0, True)


def test_apply_is_idempotent():
    flowfix.apply()
    patched = FlowControlEvent.resume
    flowfix.apply()
    assert FlowControlEvent.resume is patched


def _consumer(committed: int | None, acked: list[int]) -> SimpleNamespace:
    """The fields faust's Consumer._new_offset reads, for one partition."""
    return SimpleNamespace(_acked={TP: list(acked)}, _acked_index={TP: set(acked)},
                           _committed_offset=defaultdict(lambda: None, {TP: committed}),
                           _gap={TP: None})


def test_one_missing_offset_at_the_head_is_not_committed_over():
    # faust's own check (> 1) commits 501 and up with offset 500 never acked (faust #606).
    flowfix.apply()
    assert Consumer._new_offset(_consumer(500, [501, 502]), TP) is None
    assert Consumer._new_offset(_consumer(500, [500, 501, 503]), TP) == 502


def test_a_jump_in_the_fetched_offsets_is_not_counted_as_acked():
    async def scenario() -> int | None:
        flowfix.apply()
        consumer = _consumer(4878, [4878])
        consumer._gap = {}
        await Consumer._add_gap(consumer, TP, 4879, 5185)  # what the drain loop calls
        return Consumer._new_offset(consumer, TP)

    assert asyncio.run(scenario()) == 4879


@given(committed=st.one_of(st.none(), st.integers(0, 50)),
       acked=st.lists(st.integers(0, 80), unique=True, max_size=40))
def test_a_commit_never_passes_an_offset_that_was_not_acked(committed, acked):
    flowfix.apply()
    acked = [a for a in acked if committed is None or a >= committed]
    new = Consumer._new_offset(_consumer(committed, acked), TP)
    if new is not None:
        start = min(acked) if committed is None else committed
        assert set(range(start, new)) <= set(acked)


def test_a_hole_is_an_unacked_next_offset_with_later_ones_acked():
    held = _consumer(500, [501, 502])  # 500 handed over, never acked: restart reads it
    waiting = _consumer(500, [500, 501])  # all acked, the commit waits (broker away)
    assert flowfix.holes(held) == {("obs", 0, 500)}
    assert flowfix.holes(waiting) == set()
