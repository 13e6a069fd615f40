"""A fix for a message loss in faust-streaming's start-up: resume must not clear live queues.

faust-streaming 0.15.3 (with mode-streaming 0.7.1) can lose messages that arrive
while a worker starts:

1. ``Recovery.on_recovery_completed`` (faust/tables/recovery.py) resumes the
   stream partitions and only then awaits ``Consumer.perform_seek()``. The
   fetcher is already running, so records fetched from the committed offset are
   handed to the agents' channel queues while the seek is in flight.
2. ``perform_seek`` resets each partition's read offset, but the drain loop
   (``Consumer._drain_messages``) goes on through the batch it holds and sets
   the read offset to the last record it delivered, so the same records
   fetched again after the seek are dropped ("DROPPED MESSAGE ROFF").
3. Then ``app.flow_control.resume()`` runs, and mode's
   ``FlowControlEvent.resume`` *always* clears every channel queue (they are
   made with ``clear_on_resume=True``), though flow was never suspended. The
   one or two events still queued at that instant are thrown away and never
   fetched again; faust's ``Consumer._new_offset`` then commits past a
   single missing offset (its head-gap check is ``> 1``, faust #606), so the
   message is lost for good.

Clearing on resume exists to drop what was queued before a rebalance, while
flow was suspended. Clearing when flow was not suspended drops live,
current-generation events, which nothing fetches again. :func:`apply` makes
``resume`` clear only when it ends a suspension. Without this, the restart
test loses a message in about 1 of 10 runs with 3 partitions (see
docs/operations-local.md).
"""

from __future__ import annotations

from mode.utils.queues import FlowControlEvent

__all__ = ["apply"]


def _resume(self: FlowControlEvent) -> None:
    """Resume production into the queues; clear them only if flow was suspended."""
    was_suspended = not self.is_active()
    self._suspend.clear()
    self._resume.set()
    if was_suspended:
        self.clear()


def apply() -> None:
    """Install the fix (idempotent). Call before the Faust app starts."""
    probe = FlowControlEvent(initially_suspended=True)
    if not all(hasattr(probe, name) for name in ("_suspend", "_resume", "clear")):
        raise RuntimeError("mode's FlowControlEvent changed shape: re-check streams/flowfix.py"
                           " against this mode-streaming version before running a worker")
    if FlowControlEvent.resume is not _resume:
        FlowControlEvent.resume = _resume  # type: ignore[method-assign]
