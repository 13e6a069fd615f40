"""Mention in, alert out, on the real broker and Redis: the walking skeleton's promise."""

from __future__ import annotations

import json
import uuid

import redis
from kafka import KafkaConsumer

from tests.integration.support import firestorm, retimed_sample, wait_for

CONTRACT_FIELDS = {"incident_id", "entity_id", "entity_name", "entity_kind", "event",
                   "severity", "at", "emitted_at", "volume", "negativity", "score",
                   "reasons", "evidence"}


def test_a_storm_fed_with_produce_raises_an_alert_and_bad_lines_go_dead(
        stream_env, start_worker, redis_url, kafka_bootstrap, tmp_path):
    sample = tmp_path / "sample.jsonl"
    lines = retimed_sample(sample)
    subscriber = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe("firestorm:alerts", "firestorm:alerts:acme-stores")
    worker = start_worker(stream_env)

    produced = firestorm("produce", "--input", str(sample), env=stream_env)
    assert produced.returncode == 0, produced.stderr.decode()
    assert f"sent {len(lines)} messages".encode() in produced.stderr

    # Nothing is lost: every message is either accepted or dead.
    health = wait_for(lambda: (h := worker.health()) and h["received"] == len(lines) and h,
                      120, f"the worker to take in all {len(lines)} messages")
    assert health["accepted"] + health["dead"] == len(lines)
    assert health["dead"] == 5

    alerts: dict[str, list[dict]] = {"firestorm:alerts": [], "firestorm:alerts:acme-stores": []}

    def opened_on_both_channels() -> bool:
        while message := subscriber.get_message(timeout=0.2):
            alerts[message["channel"].decode()].append(json.loads(message["data"]))
        return all(any(a["event"] == "opened" for a in got) for got in alerts.values())

    wait_for(opened_on_both_channels, 60, f"an 'opened' alert (worker log:\n{worker.tail()})")
    opened = next(a for a in alerts["firestorm:alerts:acme-stores"] if a["event"] == "opened")
    assert opened in alerts["firestorm:alerts"]  # the same event on the all-alerts channel
    assert set(opened) >= CONTRACT_FIELDS
    assert (opened["entity_id"], opened["entity_kind"]) == ("acme-stores", "partner")
    assert opened["severity"] in ("watch", "warning", "critical")
    assert opened["volume"]["current"] > opened["volume"]["expected"]
    assert opened["reasons"] and opened["evidence"]["samples"]

    # The duty officer says "I have it": the worker records it, answers, and everyone sees it.
    acked = firestorm("ack", opened["incident_id"], "--by", "duty-officer", env=stream_env)
    assert acked.returncode == 0, acked.stderr.decode()
    assert acked.stdout.decode().startswith("RECORDED:")

    def acknowledged() -> dict | None:
        while message := subscriber.get_message(timeout=0.2):
            event = json.loads(message["data"])
            if event["event"] == "acknowledged":
                return event
        return None

    ack = wait_for(acknowledged, 60, "the 'acknowledged' event")
    assert (ack["incident_id"], ack["acknowledged_by"]) == (opened["incident_id"],
                                                            "duty-officer")
    again = firestorm("ack", opened["incident_id"], "--by", "someone-else", env=stream_env)
    assert again.returncode == 3  # already acknowledged: said so, nothing new published
    assert "already acknowledged by duty-officer" in again.stderr.decode()
    refused = firestorm("ack", "acme-stores-20000101T000000Z", env=stream_env)
    assert refused.returncode == 5  # an older incident of the entity: refused, with why
    assert "is not the latest incident of 'acme-stores'" in refused.stderr.decode()
    assert worker.health()["received"] == len(lines)  # and it is still running


def test_every_malformed_message_is_in_the_dead_letter_topic_with_its_reason(
        stream_env, start_worker, kafka_bootstrap, tmp_path):
    bad = [b"not json", b"[1]", b'{"id": "x"}', b'{"id": "y", "ts": 1.8e9, "platform": "p",'
           b' "author": "a", "text": ' + json.dumps("z" * 10_001).encode() + b"}",
           b"\xff\xfe\x00", b'{"id": "z", "ts": "2999-01-01T00:00:00Z", "platform": "p",'
           b' "author": "a", "text": "t"}']
    good = [json.dumps({"id": f"g{i}", "ts": 1.767e9 + i, "platform": "news", "author": "a",
                        "text": "acme stores opens"}).encode() for i in range(20)]
    stream = [*bad[:3], *good[:10], *bad[3:], *good[10:]]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(stream) + b"\n")
    worker = start_worker(stream_env)
    produced = firestorm("produce", "--input", str(tmp_path / "in.jsonl"), env=stream_env)
    assert produced.returncode == 0, produced.stderr.decode()
    wait_for(lambda: (h := worker.health()) and h["received"] == len(stream), 120,
             "the worker to take in every message")

    consumer = KafkaConsumer(stream_env["FIRESTORM_TOPIC_DEAD"], bootstrap_servers=kafka_bootstrap,
                             group_id=f"dead-reader-{uuid.uuid4().hex}",
                             auto_offset_reset="earliest", consumer_timeout_ms=2000)
    dead: list = []
    wait_for(lambda: dead.extend(consumer) or len(dead) >= len(bad), 60, "the dead letters")
    consumer.close()
    assert [m.value for m in dead] == bad  # original bytes, in order, none missing
    reasons = [dict(m.headers)["firestorm-reason"].decode() for m in dead]
    assert reasons[0].startswith("not valid JSON")
    assert reasons[1] == "not a JSON object: got array"
    assert reasons[2] == "missing required field 'ts'"
    assert "over the 10000 limit" in reasons[3]
    assert reasons[4].startswith("not UTF-8")
    assert "in the future" in reasons[5]
    assert all(dict(m.headers)["firestorm-source"].startswith(b"mentions-") for m in dead)
    health = worker.health()
    assert (health["accepted"], health["dead"]) == (len(good), len(bad))
