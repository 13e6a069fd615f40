"""The live stream and a replay of the same stream give the same alerts,
even when the worker is restarted in the middle (its baselines come back
from the table's changelog)."""

from __future__ import annotations

import json

import pytest
import redis

from tests.integration.support import firestorm, retimed_sample, wait_for


def drain(worker, received: int) -> dict:
    """Wait until the worker has taken in ``received`` messages and judged all it forwarded.

    A restarted worker may be handed again what its predecessor had not yet committed
    (Kafka is at-least-once): it takes those in again and skips them as redelivered.
    """
    return wait_for(lambda: (h := worker.health()) and h["received"] >= received
                    and h["judged"] + h["redelivered"] >= h["forwarded"] and h, 180,
                    f"the worker to process {received} messages")


def comparable(event: dict) -> str:
    """The per-entity event: without its wall-clock time and without its story.

    The story is grouped downstream, where events are stored, in the order they
    arrive there; with several partitions two entities' events can arrive in
    either order, so only the per-entity events must be equal event for event.
    """
    event = dict(event)
    event.pop("emitted_at")  # the only wall-clock field
    event.pop("story")
    return json.dumps(event, sort_keys=True)


def stories(events: list[dict]) -> set[frozenset[str]]:
    """The incidents told together: for each story, every incident its events named.

    Which incidents share a story does not depend on the order events arrive in; the
    story's id (its first incident) and the members an event lists (those stored
    before it) do: replay releases an entity's closed minutes a batch of 4,096 lines
    at a time, the worker a batch of up to FIRESTORM_BATCH_SIZE, so two entities'
    events interleave differently.
    """
    told: dict[str, set[str]] = {}
    for e in events:
        told.setdefault(e["story"]["id"], set()).update(
            m["incident_id"] for m in e["story"]["members"])
    return {frozenset(members) for members in told.values()}


# 3 partitions used to lose a mention in about 1 run in 10: events that reached the
# restarted worker while it was still starting were dropped from the agent's queue
# by faust's start-up (streams/flowfix.py has the story and the fix). offset_gaps
# (/health) is checked after each worker so such a loss fails here.
@pytest.mark.parametrize("partitions", [1, 3])
def test_stream_with_a_worker_restart_gives_the_replay_alerts(
        partitions, stream_env, start_worker, redis_url, tmp_path):
    # With 3 partitions the entities' state is spread over 3 table partitions and
    # must come back from the right ones. The mentions are sent with one key so
    # that they keep their event-time order, which replay assumes.
    stream_env = {**stream_env, "FIRESTORM_PARTITIONS": str(partitions)}
    lines = retimed_sample(tmp_path / "all.jsonl")
    cut = int(len(lines) * 0.8)  # the quiet day before, the storm after the restart
    (tmp_path / "first.jsonl").write_bytes(b"\n".join(lines[:cut]) + b"\n")
    (tmp_path / "second.jsonl").write_bytes(b"\n".join(lines[cut:]) + b"\n")
    subscriber = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe("firestorm:alerts")

    first = start_worker(stream_env)
    assert firestorm("produce", "-i", str(tmp_path / "first.jsonl"), "--key", "all",
                     env=stream_env).returncode == 0
    assert drain(first, cut)["offset_gaps"] == 0
    first.stop()

    second = start_worker(stream_env)  # same app id: resumes from the changelog
    assert firestorm("produce", "-i", str(tmp_path / "second.jsonl"), "--key", "all",
                     env=stream_env).returncode == 0
    assert drain(second, len(lines) - cut)["offset_gaps"] == 0  # no message skipped

    replayed = firestorm("replay", "-i", str(tmp_path / "all.jsonl"), "-o", "-", "--no-flush",
                         env=stream_env)
    assert replayed.returncode == 0, replayed.stderr.decode()
    replay_events = [json.loads(x) for x in replayed.stdout.splitlines()]
    expected = sorted(comparable(e) for e in replay_events)
    assert any('"event": "opened"' in e for e in expected)  # the sample has a storm

    live: list[str] = []
    live_events: list[dict] = []

    def all_arrived() -> bool:
        while message := subscriber.get_message(timeout=0.2):
            live_events.append(json.loads(message["data"]))
            live.append(comparable(live_events[-1]))
        return len(live) >= len(expected)

    wait_for(all_arrived, 30, f"{len(expected)} live alerts (got {len(live)})")
    if sorted(live) != expected:
        (tmp_path / "live.jsonl").write_text("\n".join(sorted(live)) + "\n")
        (tmp_path / "replay.jsonl").write_text("\n".join(expected) + "\n")
    assert sorted(live) == expected, f"differences: diff {tmp_path}/live.jsonl replay.jsonl"
    # The partner and its policy storm together in the sample: one story, in both.
    told = stories(replay_events)
    assert any(len(members) == 2 for members in told)
    assert stories(live_events) == told
