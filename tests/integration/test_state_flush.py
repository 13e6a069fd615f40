"""The detect agent writes its states once for several batches, and acks them only then.

On the real broker: a worker with small batches and a long state flush judges the
sample in many detect batches, writes the states far fewer times, holds the last
batches' observations uncommitted until their flush, then commits them all; and a
worker stopped before its flush writes and commits them as it stops, at once.
"""

from __future__ import annotations

import time
import urllib.request

from tests.integration.support import (
    end_offsets,
    firestorm,
    group_offsets,
    retimed_sample,
    wait_for,
)

FLUSH_SECONDS = 12.0


def scrape(port: str) -> dict[str, float]:
    """GET /metrics, parsed into {'name{labels}': value} (comments dropped)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


def judge_sample(env, start_worker, tmp_path):
    """A worker with ``env`` that has judged every observation of the retimed sample."""
    sample = tmp_path / "sample.jsonl"
    lines = retimed_sample(sample)
    worker = start_worker(env)
    produced = firestorm("produce", "--input", str(sample), env=env)
    assert produced.returncode == 0, produced.stderr.decode()
    health = wait_for(
        lambda: (h := worker.health()) and h["received"] == len(lines)
        and h["judged"] + h["redelivered"] >= h["forwarded"] and h,
        180, "the worker to judge every observation", show=worker.tail)
    return worker, health


def test_several_detect_batches_share_one_state_write_and_are_acked_after_it(
        stream_env, start_worker, kafka_bootstrap, tmp_path):
    env = {**stream_env, "FIRESTORM_STATE_FLUSH_SECONDS": str(FLUSH_SECONDS),
           "FIRESTORM_BATCH_SIZE": "100"}
    worker, health = judge_sample(env, start_worker, tmp_path)
    # Judged, its alerts delivered, its state not written yet: the last batches are
    # not acked until their flush (and faust commits acked offsets every few seconds),
    # so the group has not committed them.
    observations = env["FIRESTORM_TOPIC_OBSERVATIONS"]
    end = end_offsets(kafka_bootstrap, observations)
    committed = group_offsets(kafka_bootstrap, env["FIRESTORM_APP_ID"])
    assert committed.get((observations, 0), 0) < end[(observations, 0)], (committed, end)

    # The flush comes without another batch, and then everything is committed.
    # (Idle-partition marks keep coming after them: the commit may pass ``end``.)
    wait_for(lambda: group_offsets(kafka_bootstrap, env["FIRESTORM_APP_ID"]).get(
        (observations, 0), 0) >= end[(observations, 0)], 3 * FLUSH_SECONDS + 30,
        "the observations to be committed after the state flush", show=worker.tail)

    metrics = scrape(env["FIRESTORM_WEB_PORT"])
    batches = metrics['firestorm_batch_seconds_count{agent="detect"}']
    writes = metrics['firestorm_detect_phase_seconds_count{phase="write"}']
    flushes = worker.health()["flushes"]
    assert writes == flushes >= 1
    assert batches >= 3 * writes, (batches, writes)
    assert health["dead"] == 5  # the sample's bad lines, nothing else


def test_a_worker_stopped_before_its_state_flush_writes_it_and_stops_at_once(
        stream_env, start_worker, kafka_bootstrap, tmp_path):
    # faust waits, as it stops, for every message it handed over to be acked: those of
    # batches not flushed are acked only by their flush, and its timer is stopped by then.
    env = {**stream_env, "FIRESTORM_STATE_FLUSH_SECONDS": "60", "FIRESTORM_BATCH_SIZE": "100"}
    worker, _ = judge_sample(env, start_worker, tmp_path)
    observations = env["FIRESTORM_TOPIC_OBSERVATIONS"]
    end = end_offsets(kafka_bootstrap, observations)[(observations, 0)]

    worker.proc.terminate()
    started = time.monotonic()
    code = worker.proc.wait(timeout=120)
    assert code == 0, worker.tail()
    assert time.monotonic() - started < 30, worker.tail()  # not a minute of wait_empty
    committed = group_offsets(kafka_bootstrap, env["FIRESTORM_APP_ID"])
    assert committed.get((observations, 0), 0) >= end, (committed, end, worker.tail())


def test_a_worker_stopped_while_busy_flushes_the_batches_it_finishes_and_stops(
        stream_env, start_worker, kafka_bootstrap, tmp_path):
    # Stopped mid-stream, the detect agent may finish batches after the stop's first
    # flush; faust then waited for their acks until its broker went away (seen by
    # bench_rss.py under load). Every batch finished before the worker stops is flushed.
    env = {**stream_env, "FIRESTORM_STATE_FLUSH_SECONDS": "60", "FIRESTORM_BATCH_SIZE": "50"}
    sample = tmp_path / "sample.jsonl"
    lines = retimed_sample(sample)
    worker = start_worker(env)
    produced = firestorm("produce", "--input", str(sample), env=env)
    assert produced.returncode == 0, produced.stderr.decode()
    wait_for(lambda: (h := worker.health()) and h["judged"] > 0, 120,
             "the worker to judge its first observations", show=worker.tail)
    health = worker.health()
    assert health["received"] < len(lines) or health["judged"] < health["forwarded"], (
        "the worker finished before it could be stopped busy", health)

    worker.proc.terminate()
    started = time.monotonic()
    code = worker.proc.wait(timeout=180)
    assert code == 0, worker.tail()
    assert time.monotonic() - started < 45, worker.tail()
