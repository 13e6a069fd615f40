"""The worker logs at the level asked for: Faust's start-up spinner would set the root
logger to DEBUG, so that every debug line of aiokafka and Faust built a record for
nothing (streams.commands.worker.faust_worker)."""

from __future__ import annotations

import logging

import faust
import pytest

from streams.commands.worker import faust_worker


@pytest.mark.parametrize("level", ["warning", "info"])
def test_the_root_logger_keeps_the_level_asked_for(level):
    app = faust.App("test-worker-logging", broker="kafka://127.0.0.1:1")
    worker = faust_worker(app, level, "text")
    worker.redirect_stdouts = False  # (pytest holds stdout)
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, root.handlers[:]
    try:
        worker._setup_logging()  # what the worker does first on start
        assert root.level == logging.getLevelName(level.upper())
        assert not root.isEnabledFor(logging.DEBUG)
        assert not [h for h in root.handlers if type(h).__name__ == "SpinnerHandler"]
    finally:
        root.setLevel(saved_level)
        root.handlers[:] = saved_handlers
