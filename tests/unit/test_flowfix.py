"""streams.flowfix: resuming flow that was never suspended keeps the queued events."""

from __future__ import annotations

import asyncio

from mode.utils.queues import FlowControlEvent, FlowControlQueue

from streams import flowfix


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
