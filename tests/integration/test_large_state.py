"""An entity's state over 1 MB is written and read back, on the real broker.

An entity's state holds the observations waiting for every partition's mark. With
the mentions on one partition and another partition quiet but not yet idle, they
all wait, and in a storm the state passed the producer's default 1 MB request size:
the worker stopped (MessageSizeTooLargeError, exit 70) and met the same batch on
every restart. Here 6,000 mentions of one entity wait behind a partition that is
never declared idle, so the state grows past 1 MB; the worker must keep going,
and a worker started after a ``kill -9`` must recover that state.
"""

from __future__ import annotations

import json
import random
import signal
import time
import urllib.error
import urllib.request

import pytest
from kafka import KafkaConsumer, TopicPartition

from streams import statestore
from tests.integration.support import firestorm, wait_for

MENTIONS = 6000  # stored compactly (streams/statestore.py), 4,000 no longer reach 1 MB


def storm(path, count: int, first: int = 0) -> None:
    """``count`` long, distinct mentions of Acme Stores, one a second, numbered from
    ``first``."""
    start = time.time() - 86_400 * random.randrange(30, 300)
    words = ("boycott", "disgraceful", "workfare", "unpaid", "placements", "shame", "profit")
    with path.open("w") as out:
        for i in range(first, first + count):
            text = (f"Acme Stores post {i}: " + " ".join(random.choice(words)
                                                          for _ in range(30)))[:280]
            out.write(json.dumps({"id": f"big{i}", "ts": start + i, "platform": "twitter",
                                  "author": f"@voice{i % 900}", "author_followers": 50,
                                  "text": text, "lang": "en"}) + "\n")


def latest_state_size(bootstrap: str, topic: str, key: bytes) -> int:
    """The size of an entity's state as Kafka holds it, as JSON once decompressed: the
    newest record of its head (``key``) and of each of its parts (``key + b"\\x00" +
    suffix``, streams/statestore.py) not deleted since."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             max_partition_fetch_bytes=64 * 1024 * 1024)
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends, sizes = consumer.end_offsets(tps), {}
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for records in consumer.poll(timeout_ms=2000).values():
                for record in records:
                    if record.key == key or record.key.startswith(key + b"\x00"):
                        sizes[record.key] = 0 if record.value is None else len(
                            json.dumps(statestore.decode(record.value)))
        return sum(sizes.values())
    finally:
        consumer.close()


def ready(worker) -> bool:
    """/ready says 200 once partitions are assigned and the table recovered (else 503)."""
    try:
        with urllib.request.urlopen(
                f"http://127.0.0.1:{worker.env['FIRESTORM_WEB_PORT']}/ready", timeout=2) as r:
            return json.load(r)["ready"]
    except urllib.error.HTTPError:
        return False


@pytest.mark.timeout(600)
def test_a_state_over_a_megabyte_is_written_and_recovered(
        stream_env, start_worker, kafka_bootstrap, tmp_path):
    # Two partitions, every mention on one (a fixed key), the other never idle.
    env = {**stream_env, "FIRESTORM_PARTITIONS": "2", "FIRESTORM_IDLE_SECONDS": "3600"}
    storm(tmp_path / "storm.jsonl", MENTIONS)
    worker = start_worker(env)
    produced = firestorm("produce", "-i", str(tmp_path / "storm.jsonl"), "--key", "all",
                         env=env)
    assert produced.returncode == 0, produced.stderr.decode()

    def judged() -> bool:  # health() fails the test at once if the worker exits
        health = worker.health()
        return bool(health) and health["judged"] >= MENTIONS and health["status"] == "ok"

    wait_for(judged, 300, f"all {MENTIONS} observations judged (worker log:\n{worker.tail()})")
    changelog = f"{env['FIRESTORM_APP_ID']}-engine-state-changelog"
    # "judged" counts a step before its state is written (FIRESTORM_STATE_FLUSH_SECONDS):
    # the last batches' state reaches the changelog within a second or so.
    read = [0]

    def over_a_megabyte() -> bool:
        read[0] = latest_state_size(kafka_bootstrap, changelog, b"acme-stores")
        return read[0] > 1_048_576

    wait_for(over_a_megabyte, 60, "the state on the changelog to pass 1 MB", every=2,
             show=lambda: f"the state is only {read[0]:,} bytes: the test did not reach 1 MB")
    size = read[0]

    worker.proc.send_signal(signal.SIGKILL)
    worker.proc.wait(timeout=30)
    again = start_worker(env)
    wait_for(lambda: again.health() and ready(again), 120,
             f"the restarted worker to recover the {size:,}-byte state:\n{again.tail()}")
    # Ten more mentions: the state written now is the recovered one plus ten, not ten.
    storm(tmp_path / "more.jsonl", 10, first=MENTIONS)
    assert firestorm("produce", "-i", str(tmp_path / "more.jsonl"), "--key", "all",
                     env=env).returncode == 0
    wait_for(lambda: (h := again.health()) and h["judged"] >= 10, 120,
             f"the ten new mentions judged:\n{again.tail()}")
    # "judged" counts a step before its batch's state is written: poll the changelog.
    sizes = [size]

    def grown() -> bool:
        sizes.append(latest_state_size(kafka_bootstrap, changelog, b"acme-stores"))
        return sizes[-1] > size

    wait_for(grown, 60, f"the state to grow past {size:,} bytes after the restart",
             every=2, show=lambda: f"last read {sizes[-1]:,} bytes\n{again.tail()}")
    assert again.health()["status"] == "ok"
