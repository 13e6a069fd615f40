"""Several workers sharing an app id give the alerts of one process, on the real broker.

Six partitions, mentions spread over all of them (no key), two workers, a third
added mid-stream (a rebalance), one of them killed with SIGKILL (its partitions and
table move to the others, its uncommitted work is redelivered). The alerts that reach
Redis are those of a single-process replay of the same file: none lost, none twice.
This needs the minimum watermark over partitions (models/progress.py): with each
worker closing minutes by its own partitions' clock, minutes close early and the
alerts differ.
"""

from __future__ import annotations

import json
import signal
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
import redis

from tests.integration.support import firestorm, free_port, retimed_sample, wait_for

PARTITIONS = 6


def comparable(event: dict) -> str:
    """The per-entity event: without its wall-clock time and its story (grouped where
    events are stored, in the order they arrive: with several workers, two entities'
    events arrive in either order; test_replay_equivalence.py checks the grouping)."""
    event = dict(event)
    event.pop("emitted_at")  # the only wall-clock field
    event.pop("story")
    return json.dumps(event, sort_keys=True)


@pytest.mark.timeout(900)  # about 3 minutes on an idle 2-core machine; more when shared
def test_three_workers_one_killed_give_the_alerts_of_a_single_replay(
        stream_env, start_worker, redis_url, tmp_path):
    # The product's idle bound (30 s), not the suite's 5 s: starting worker c between two
    # parts of the stream can take longer than 5 s, and then b's caught-up partitions are
    # idle when the next part comes. If a reads its partitions of that part first, its
    # marks close minutes that b's mentions then reach late (counted in the open minute,
    # so the alerts differ from replay's a little): a stream that pauses longer than the
    # idle bound does that in production too (docs/operations.md). This test is about
    # rebalances and a kill, so it pauses less than the bound.
    lines = retimed_sample(tmp_path / "all.jsonl")
    # Watched from six hours before the stream (the watchlist's watch_since): each worker
    # starts its entities there at whichever progress comes first, the replay at each
    # entity's first mention, and the minute must be the same (alerting/engine.py).
    first = min(t for line in lines if (t := stamp(line)) is not None)
    watchlist = tmp_path / "watchlist.yaml"
    watchlist.write_text(f"watch_since: {first - 6 * 3600}\n"
                         + Path(stream_env["FIRESTORM_WATCHLIST"]).read_text())
    env = {**stream_env, "FIRESTORM_PARTITIONS": str(PARTITIONS), "FIRESTORM_IDLE_SECONDS": "30",
           "FIRESTORM_WATCHLIST": str(watchlist)}
    cuts = [0, int(len(lines) * 0.45), int(len(lines) * 0.75), len(lines)]
    parts = []
    for i in range(3):
        part = tmp_path / f"part{i}.jsonl"
        part.write_bytes(b"\n".join(lines[cuts[i]:cuts[i + 1]]) + b"\n")
        parts.append(part)

    replayed = firestorm("replay", "-i", str(tmp_path / "all.jsonl"), "-o", "-", "--no-flush",
                         env=env)
    assert replayed.returncode == 0, replayed.stderr.decode()
    expected = sorted(comparable(json.loads(x)) for x in replayed.stdout.splitlines())
    assert any('"event": "opened"' in e for e in expected)  # the sample has a storm

    subscriber = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe("firestorm:alerts")

    def worker(n: int):
        return start_worker({**env, "FIRESTORM_WEB_PORT": str(free_port()),
                             "FIRESTORM_DATA_DIR": str(tmp_path / f"worker-{n}")})

    def produce(part) -> None:
        done = firestorm("produce", "-i", str(part), env=env)  # no key: every partition
        assert done.returncode == 0, done.stderr.decode()

    a, b = worker(0), worker(1)
    # Both in the group with partitions before the stream starts: else, on a busy machine,
    # a alone could take all of the first two parts before b joined, and b (killed below
    # to make the others redo its work) would have had nothing to do (seen once in CI).
    wait_for(lambda: all(assigned(w) for w in (a, b)), 180, "workers a and b to share",
             show=lambda: f"worker a:\n{a.tail(15)}\nworker b:\n{b.tail(15)}")
    produce(parts[0])
    c = worker(2)  # joins mid-stream: the group rebalances over three workers
    produce(parts[1])
    wait_for(lambda: (h := b.health()) and h["received"] > 0, 120, "worker b to take a share",
             show=lambda: f"worker b:\n{b.tail(20)}")
    b.proc.send_signal(signal.SIGKILL)  # no goodbye: its partitions move, work is redone
    b.proc.wait(timeout=30)
    produce(parts[2])

    live: list[dict] = []

    def all_arrived() -> bool:
        while message := subscriber.get_message(timeout=0.2):
            live.append(json.loads(message["data"]))
        return len(live) >= len(expected)

    wait_for(all_arrived, 600, f"{len(expected)} live alerts (got {len(live)});"
             f" worker a:\n{a.tail(15)}\nworker c:\n{c.tail(15)}")
    while message := subscriber.get_message(timeout=3):  # nothing more comes
        live.append(json.loads(message["data"]))
    twice = [k for k, n in Counter(e["event_id"] for e in live).items() if n > 1]
    assert not twice, f"published twice: {twice}"
    opened = Counter(e["incident_id"] for e in live if e["event"] == "opened")
    assert all(n == 1 for n in opened.values())  # no duplicate incident
    got = sorted(comparable(e) for e in live)
    if got != expected:
        (tmp_path / "live.jsonl").write_text("\n".join(got) + "\n")
        (tmp_path / "replay.jsonl").write_text("\n".join(expected) + "\n")
    only_live, only_replay = sorted(set(got) - set(expected)), sorted(set(expected) - set(got))
    assert got == expected, (
        f"{len(only_live)} events only live, {len(only_replay)} only in the replay"
        f" (diff {tmp_path}/live.jsonl replay.jsonl); first of each:\n"
        f"live:   {only_live[:1]}\nreplay: {only_replay[:1]}\n"
        f"health a={a.health()} c={c.health()}\nkilled worker b:\n{b.tail(30)}")
    for w in (a, c):
        health = w.health()
        # no message skipped; every mention counted in its own minute
        assert health["offset_gaps"] == 0 and health["late"] == 0, (
            f"health a={a.health()} c={c.health()}\nworker a:\n{a.tail(40)}\n"
            f"worker c:\n{c.tail(40)}\nkilled worker b:\n{b.tail(30)}")
        base = f"http://127.0.0.1:{w.env['FIRESTORM_WEB_PORT']}"
        with urllib.request.urlopen(f"{base}/ready", timeout=5) as response:
            assert json.loads(response.read())["ready"] is True
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
            scraped = response.read().decode()
        assert 'firestorm_consumer_lag{partition=' in scraped
        assert "firestorm_batch_seconds_bucket{agent=" in scraped
        assert "firestorm_heartbeat_age_seconds " in scraped
    received = sum(float(line.split()[-1]) for w in (a, c) for line in urllib.request.urlopen(
        f"http://127.0.0.1:{w.env['FIRESTORM_WEB_PORT']}/metrics", timeout=5).read().decode()
        .splitlines() if line.startswith("firestorm_mentions_received_total "))
    assert received > 0


def stamp(line: bytes) -> float | None:
    """A sample line's event time, if it has a numeric one."""
    try:
        ts = json.loads(line)["ts"]
    except (ValueError, KeyError, TypeError):
        return None
    return float(ts) if isinstance(ts, int | float) and not isinstance(ts, bool) else None


def assigned(w) -> int:
    """Partitions the worker holds once in the group and recovered (its /ready), else 0."""
    w.health()  # fails the test at once if the worker exited
    url = f"http://127.0.0.1:{w.env['FIRESTORM_WEB_PORT']}/ready"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(json.loads(response.read())["assigned"])
    except (OSError, ValueError, KeyError):  # 503 (joining, rebalancing) or not up yet
        return 0
