"""A fetch waiting while faust pauses every partition takes no records (streams/flowfix.py).

At the end of recovery faust pauses the changelog partitions while the stream partitions
are still paused. A fetch already waiting then saw an empty set of active partitions,
which aiokafka reads as "every partition": it took the stream partitions' records, faust
dropped them, and the seek to the committed offsets had already run, so they were lost
(the 3-partition restart test's stall). Here, on the real broker, a paused partition's
records must stay where they are.
"""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from streams import flowfix
from tests.integration.support import create_topic

WAITING = 20  # records on the paused stream partition


def test_a_fetch_waiting_while_every_partition_is_paused_takes_nothing(kafka_bootstrap):
    flowfix.apply()
    topic = f"paused-{uuid.uuid4().hex[:10]}"
    create_topic(kafka_bootstrap, topic, partitions=2)
    changelog, stream = TopicPartition(topic, 0), TopicPartition(topic, 1)

    async def scenario() -> tuple[set[TopicPartition], int]:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap,
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        await producer.start()
        await consumer.start()
        try:
            for i in range(WAITING):
                await producer.send_and_wait(topic, b"mention %d" % i, partition=1)
            consumer.assign([changelog, stream])
            await consumer.seek_to_beginning(changelog, stream)
            for _ in range(200):  # the client prefetches the stream partition's records
                if stream in consumer._fetcher._records:
                    break
                await asyncio.sleep(0.05)
            live = {changelog}  # faust's active partitions: only the changelog recovers
            thread = SimpleNamespace(consumer=SimpleNamespace(flow_active=True))
            fetch = asyncio.ensure_future(AIOKafkaConsumerThread._fetch_records(
                thread, consumer, live, timeout=2.0))
            await asyncio.sleep(0.3)  # the fetch waits for changelog records
            live.clear()  # recovery done: faust pauses the changelog partition too
            await producer.send_and_wait(topic, b"a state record", partition=0)  # a wake-up
            records = await fetch
            return set(records), await consumer.position(stream)
        finally:
            await consumer.stop()
            await producer.stop()

    taken, position = asyncio.run(scenario())
    assert stream not in taken
    assert position == 0  # nothing of the paused partition was handed over, or lost
