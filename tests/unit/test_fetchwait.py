"""The fetch wait the worker's Kafka consumer gets (streams/fetchwait.py): faust fixes
it at 1.5 s, and a mention could wait that long behind a fetch for other topics."""

from __future__ import annotations

import asyncio

import faust

from streams import fetchwait
from streams.settings import Settings


async def _worker_consumer_wait() -> int:
    """The fetch wait of the consumer faust creates for a worker (no broker needed:
    the consumer is made, not started)."""
    app = faust.App("fetchwait-test", broker="kafka://127.0.0.1:1", store="memory://")
    consumer = app.consumer._thread._create_worker_consumer(app.transport)
    try:
        return consumer._fetch_max_wait_ms
    finally:
        await consumer.stop()


def test_the_worker_consumer_waits_as_configured_not_faust_s_fixed_1500_ms():
    try:
        fetchwait.apply(0.25)
        assert asyncio.run(_worker_consumer_wait()) == 250
        fetchwait.apply(Settings().fetch_max_wait)
        assert asyncio.run(_worker_consumer_wait()) == 100
    finally:
        fetchwait.apply(Settings().fetch_max_wait)  # what a worker in this process gets


def test_the_setting_is_read_from_the_environment():
    assert Settings.from_env({"FIRESTORM_FETCH_MAX_WAIT": "0.5"}).fetch_max_wait == 0.5
