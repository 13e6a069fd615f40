"""How long a Kafka fetch may wait for data: faust-streaming fixes it at 1.5 s.

faust-streaming's aiokafka driver creates every worker consumer with
``fetch_max_wait_ms=1500``. aiokafka sends one fetch at a time to a broker, for the
partitions that have no records waiting to be consumed. While the agents still hold
records of the mentions topic, the fetch in flight asks only for the others (the
observations, the acks): if none of them has data, the broker holds it for the whole
1.5 s, and the mentions that arrive meanwhile wait for it to come back. Measured with
``bench/bench_p99.py --load 0.5 --probe 5000 --lines 25000`` (docs/benchmarks.md,
"Alert latency under load"): a mention's alert reached Redis after 3.6 s at the
median with 1.5 s, and after 1.5 s with 0.1 s. A shorter wait costs an empty fetch
a tenth of a second on a quiet broker, which it does not notice.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

__all__ = ["apply"]

_CREATE = AIOKafkaConsumerThread._create_worker_consumer
_WAIT_MS = [1500]  # what the next worker consumer gets (faust's own until apply)


def _create_worker_consumer(self: AIOKafkaConsumerThread, transport: Any) -> Any:
    consumer = _CREATE(self, transport)
    # Read when the consumer starts its fetcher (aiokafka AIOKafkaConsumer.start).
    consumer._fetch_max_wait_ms = _WAIT_MS[0]
    return consumer


def apply(seconds: float) -> None:
    """Worker consumers created from now on wait at most ``seconds`` for fetched data."""
    if not hasattr(AIOKafkaConsumerThread, "_create_worker_consumer"):
        raise RuntimeError("faust's AIOKafkaConsumerThread._create_worker_consumer is gone:"
                           " re-check streams/fetchwait.py against this faust-streaming")
    _WAIT_MS[0] = max(1, round(seconds * 1000))
    AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]
