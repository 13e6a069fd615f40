"""No message lost, ever: on the real broker, what reaches the worker is processed or
dead-lettered with its reason, and nothing is committed that was not (issue 9)."""

from __future__ import annotations

import json
import uuid

from kafka import KafkaConsumer, KafkaProducer

from tests.integration.support import firestorm, group_offsets, wait_for

TS0 = 1_767_600_000.0  # 2026-01-05T08:00:00Z, a minute boundary


def mention(i: int, **fields) -> bytes:
    """A valid mention naming Acme Stores, one a second from TS0."""
    data = {"id": f"m{i}", "ts": TS0 + i, "platform": "twitter", "author": f"@user{i % 50}",
            "author_followers": 10 + i % 7, "text": f"picked up bread at acme stores {i}"}
    return json.dumps({**data, **fields}).encode()


def send(bootstrap: str, topic: str, values: list[bytes | None], key: bytes | None = None):
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    for value in values:
        producer.send(topic, value=value, key=key)
    producer.flush(timeout=60)
    producer.close()


def dead_letters(bootstrap: str, topic: str, count: int) -> list:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap,
                             group_id=f"dead-reader-{uuid.uuid4().hex}",
                             auto_offset_reset="earliest", consumer_timeout_ms=2000)
    got: list = []
    wait_for(lambda: got.extend(consumer) or len(got) >= count, 60, f"{count} dead letters")
    consumer.close()
    return got


def settled(worker, received: int):
    """Health once ``received`` messages are in and every forwarded item is judged."""
    return wait_for(lambda: (h := worker.health()) and h["received"] >= received
                    and h["judged"] + h["redelivered"] >= h["forwarded"] and h, 180,
                    f"the worker to take in {received} messages")


def test_a_tombstone_among_mentions_is_dead_lettered_and_nothing_is_skipped(
        stream_env, start_worker, kafka_bootstrap):
    # Issue 9, reproduction 1: a null value used to crash the intake agent, and faust
    # then committed the batch and everything queued behind it, unprocessed.
    topic = stream_env["FIRESTORM_TOPIC_MENTIONS"]
    send(kafka_bootstrap, topic, [mention(i) for i in range(1000)])
    send(kafka_bootstrap, topic, [None], key=b"k")
    send(kafka_bootstrap, topic, [mention(i) for i in range(1000, 2000)])
    worker = start_worker(stream_env)

    health = settled(worker, 2001)
    assert (health["received"], health["accepted"], health["dead"]) == (2001, 2000, 1)
    assert health["offset_gaps"] == 0
    [tombstone] = dead_letters(kafka_bootstrap, stream_env["FIRESTORM_TOPIC_DEAD"], 1)
    assert (tombstone.key, tombstone.value) == (b"k", None)  # untouched: still a tombstone
    assert "tombstone" in dict(tombstone.headers)["firestorm-reason"].decode()
    assert dict(tombstone.headers)["firestorm-source"] == f"{topic}/0/1000".encode()
    wait_for(lambda: group_offsets(kafka_bootstrap, stream_env["FIRESTORM_APP_ID"]).get(
        (topic, 0)) == 2001, 60, "the offsets to be committed")


def test_a_lone_surrogate_in_a_named_author_is_judged_in_the_stream_and_in_replay(
        stream_env, start_worker, kafka_bootstrap, tmp_path):
    # Issue 9, reproduction 2: '@u\ud800x' with followers over the reach threshold is
    # kept by name, and the minute's close used to raise UnicodeEncodeError in the
    # author sketch: the detect agent restarted and its observations were committed unjudged.
    lines = [mention(i) for i in range(400)]
    lines[7] = mention(7, author="@u\ud800x", author_followers=50_000)
    lines += [mention(i) for i in range(400, 405)]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    assert b"\\ud800" in lines[7]  # valid JSON: the surrogate is an escape

    replayed = firestorm("replay", "-i", str(tmp_path / "in.jsonl"), "-o", "-",
                         env=stream_env)
    assert replayed.returncode == 0, replayed.stderr.decode()
    assert b"405 accepted, 0 rejected" in replayed.stderr

    worker = start_worker(stream_env)
    assert firestorm("produce", "-i", str(tmp_path / "in.jsonl"), env=stream_env).returncode == 0
    health = settled(worker, len(lines))
    assert (health["accepted"], health["dead"], health["repaired"]) == (405, 0, 1)
    assert health["judged"] == health["forwarded"]  # every observation and tick judged
    assert health["status"] == "ok", health
