"""A dead worker is not a quiet day, and an emptied Redis is not an all-clear.

A real worker on the real broker writes its heartbeat into a redis-server of
this test's own, which runs without persistence: crashing and restarting it
loses everything, as the local stack did before it kept an append-only file.
The worker must notice, republish its open incidents and mark the history
rebuilt; the console must say what is going on at every step.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from alerting.liveness import judge
from alerting.store import open_store
from tests.integration.support import REPO, firestorm, retimed_sample, wait_for

pytestmark = pytest.mark.integration


def console_once(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "streams.cli", "console", "--once"],
                          env=env, cwd=REPO, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def test_heartbeat_redis_restart_rebuild_and_a_killed_worker_shown_silent(
        stream_env, start_worker, redis_server_factory, tmp_path):
    redis = redis_server_factory(persistent=False)
    env = {**stream_env, "FIRESTORM_REDIS_URL": redis.url, "FIRESTORM_HEARTBEAT_SECONDS": "1",
           "FIRESTORM_SILENT_AFTER": "4"}
    store = open_store(redis.url)
    worker = start_worker(env)

    # The heartbeat: the worker says it is alive, how far the data has got, its lag.
    beats = wait_for(store.heartbeats, 30, "the worker's first heartbeat")
    assert beats[0].worker.startswith(env["FIRESTORM_APP_ID"] + "@")
    history = store.history()
    assert history is not None and history.lost_at is None  # a new history, nothing lost

    retimed_sample(tmp_path / "sample.jsonl", end=time.time() - 120)
    assert firestorm("produce", "-i", str(tmp_path / "sample.jsonl"), "--key", "all",
                     env=env).returncode == 0
    before = wait_for(lambda: len(store.open_incidents()) >= 2 and store.open_incidents(),
                      180, "the sample storm's incidents", show=worker.tail)
    # Once the worker has read everything, its heartbeat says so: no lag, the data's time.
    beat = wait_for(lambda: (h := store.heartbeats()) and h[0].open_incidents >= 2
                    and h[0].lag == 0 and h[0], 120, "a heartbeat with no lag holding the open"
                    " incidents", show=lambda: f"{store.heartbeats()}")
    assert beat.event_time is not None and beat.last_input_at is not None
    def quiet() -> bool:  # no new alert for two seconds: nothing waits in the outbox either
        n = len(store.catch_up())
        time.sleep(2)
        return len(store.catch_up()) == n and store.heartbeats()[0].pending == 0

    wait_for(quiet, 60, "the worker to finish publishing")
    before = store.open_incidents()  # as they stand once everything is read
    story = store.story(before[0].story_id)
    assert story is not None and story.is_group  # partner and policy: one story

    # Redis restarts empty: the worker republishes its open incidents, and says so.
    redis.crash()
    redis.start()
    rebuilt = wait_for(lambda: (h := store.history()) and h.rebuilt_at and h, 60,
                       "the history rebuilt", show=worker.tail)
    assert rebuilt.lost_at is not None and rebuilt.restored == len(before)
    after = store.open_incidents()
    assert [(r.incident_id, r.severity, r.opened_at) for r in after] == [
        (r.incident_id, r.severity, r.opened_at) for r in before]
    assert {r.last_event for r in after} == {"restored"}
    assert store.story(after[0].story_id).is_group  # the story formed again
    out = console_once(env)
    assert "No open incidents" not in out, out
    # One block for the story; its entities in the order they joined it, which is the
    # order the store heard them (two partitions of observations: either may come first).
    assert any(" + " in line and "Acme Stores (partner)" in line
               and "Work Programme (policy)" in line for line in out.splitlines()), out

    # A killed worker: its heartbeat stops, and every reader says so in so many words.
    worker.proc.send_signal(signal.SIGKILL)
    worker.proc.wait(timeout=10)
    live = wait_for(lambda: (v := judge(store.heartbeats(), store.history(), time.time(),
                                        silent_after=4)) and not v.alive and v, 30,
                    "the worker to count as silent")
    assert live.text().startswith("worker silent for")
    assert "worker silent for" in console_once(env)
    store.close()
