"""The worker's end-to-end rate beside a raw Kafka consumer and replay, on one topic.

Needs the local stack (``make bench`` starts it, or deploy/local/with-stack.sh).
Issue 13 asks for a worker that takes in at least 20,000 mentions a second on one core
and at least half of replay's rate on the same stream, reported beside what a raw
aiokafka consumer reads from the same topic. One run does all of it, in this order:

1. **Worker.** A fresh worker (one partition, the bench stream's watchlist, default
   settings) is started on an empty topic. The first ``--lines`` lines of the bench
   stream (docs/benchmarks.md, "Replay throughput"; event times moved back a random
   number of minutes, so that incident ids never repeat an earlier run's) are then
   sent as fast as Kafka takes them. The worker's time runs from the first send until
   it has judged every item it forwarded *and* every alert event it made is on the
   Redis alerts log. Its CPU is read from /proc over the same span (user + system,
   all threads).
2. **Raw consumers**, on the topic the worker read, now full: an aiokafka consumer
   (``getmany``, nothing done per message) and a kafka-python consumer, each reading
   every line from the start. CPU is this process's over the read.
3. **Replay**: ``firestorm replay`` of the same lines from a file, as a subprocess
   (start-up and model load included), to ``/dev/null``.

Each rate is mentions (messages) per second of wall time and per CPU-second, printed
side by side with the targets, then as one JSON line (``worker_rate_result``).

    python bench/bench_worker_rate.py [--lines 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import redis
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.bench_latency import STREAM  # noqa: E402
from bench.bench_p99 import shifted, wait_judged  # noqa: E402
from bench.bench_replay import dense_stream  # noqa: E402
from bench.bench_worker_cpu import (  # noqa: E402
    cpu_seconds,
    health,
    spawn_worker,
    wait_ready,
    worker_env,
)

WORKER_TARGET = 20_000.0  # mentions a second on one core (issue 13)
REPLAY_SHARE_TARGET = 0.5  # the worker at least half of replay's rate


@dataclass(frozen=True)
class Rate:
    """How fast one reader went through ``count`` messages."""

    what: str
    count: int
    wall: float  # seconds
    cpu: float  # CPU-seconds

    @property
    def per_second(self) -> float:
        return self.count / self.wall if self.wall > 0 else 0.0

    @property
    def per_cpu_second(self) -> float:
        return self.count / self.cpu if self.cpu > 0 else 0.0


def verdicts(worker: Rate, replay: Rate) -> list[tuple[str, str, str, bool]]:
    """(figure, measured, target, met) for issue 13's two worker targets.

    >>> w, r = Rate("worker", 1000, 1.0, 1.0), Rate("replay", 1000, 0.25, 0.2)
    >>> [(f, m, met) for f, m, _, met in verdicts(w, r)]
    [('worker, mentions per second', '1,000', False), ('worker / replay', '0.25', False)]
    """
    share = worker.per_second / replay.per_second if replay.per_second else 0.0
    return [
        ("worker, mentions per second", f"{worker.per_second:,.0f}",
         f">= {WORKER_TARGET:,.0f}", worker.per_second >= WORKER_TARGET),
        ("worker / replay", f"{share:.2f}", f">= {REPLAY_SHARE_TARGET}",
         share >= REPLAY_SHARE_TARGET),
    ]


def run_worker(bootstrap: str, redis_url: str, lines: list[bytes], watchlist: Path,
               run: str) -> tuple[Rate, str, int]:
    """The worker's rate over ``lines`` and the topic it read (left full), with the
    alert events it made."""
    port = random.randrange(20_000, 30_000)
    env = worker_env(bootstrap, redis_url, "rate", run, port, watchlist)
    topic = env["FIRESTORM_TOPIC_MENTIONS"]
    log_path = f"/tmp/firestorm-rate-{run}.log"
    client = redis.Redis.from_url(redis_url)
    with open(log_path, "wb") as log:
        worker = spawn_worker(env, log)
        try:
            wait_ready(worker, port, log_path)
            last = (client.xinfo_stream(STREAM)["last-generated-id"].decode()
                    if client.exists(STREAM) else "0-0")
            before, started = cpu_seconds(worker.pid), time.monotonic()
            producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all",
                                     linger_ms=5)
            for line in lines:
                producer.send(topic, line)
            producer.flush()
            producer.close()
            wait_judged(port, len(lines), 3600, worker)
            alerts = int((health(port) or {}).get("alerts", 0))
            # Every alert event it made is on the alerts log (the outbox may still hold
            # the last batch's): count the entries added since it started.
            judged = time.monotonic()
            while len(client.xrange(STREAM, min=f"({last}", max="+")) < alerts:
                if time.monotonic() - judged > 120:
                    sys.exit(f"{alerts} alert events made, fewer on {STREAM} two minutes"
                             f" later (log {log_path})")
                time.sleep(0.05)
            wall = time.monotonic() - started
            cpu = cpu_seconds(worker.pid) - before
            return Rate("worker end to end", len(lines), wall, cpu), topic, alerts
        finally:
            worker.terminate()
            worker.wait(timeout=60)


async def _aiokafka_read(bootstrap: str, topic: str, count: int) -> int:
    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition as AioPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        partition = AioPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        seen, deadline = 0, time.monotonic() + 600
        while seen < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            seen += sum(len(records) for records in batch.values())
        return seen
    finally:
        await consumer.stop()


def run_aiokafka(bootstrap: str, topic: str, count: int) -> Rate:
    cpu0, started = time.process_time(), time.monotonic()
    seen = asyncio.run(_aiokafka_read(bootstrap, topic, count))
    rate = Rate("raw aiokafka consumer", seen, time.monotonic() - started,
                time.process_time() - cpu0)
    if seen < count:
        sys.exit(f"aiokafka read {seen:,} of {count:,} messages in 600 s")
    return rate


def run_kafka_python(bootstrap: str, topic: str, count: int) -> Rate:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","),
                             enable_auto_commit=False, consumer_timeout_ms=10_000)
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    cpu0, started, seen = time.process_time(), time.monotonic(), 0
    for _ in consumer:
        seen += 1
        if seen >= count:
            break
    rate = Rate("kafka-python consumer", seen, time.monotonic() - started,
                time.process_time() - cpu0)
    consumer.close()
    if seen < count:
        sys.exit(f"kafka-python read {seen:,} of {count:,} messages")
    return rate


def run_replay(lines: list[bytes], watchlist: Path) -> Rate:
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as f:
        f.write(b"\n".join(lines) + b"\n")
        path = f.name
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRESTORM_")}
    env["FIRESTORM_PSEUDONYM_KEY"] = "bench"
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "streams.cli", "replay", "-w",
                               str(watchlist), "-i", path, "-o", os.devnull], cwd=REPO,
                              env=env, capture_output=True)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        os.unlink(path)
    if done.returncode:
        sys.exit(f"firestorm replay failed: {done.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Rate("firestorm replay (CLI, start-up included)", len(lines), wall, cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000,
                        help="lines of the bench stream (default 100,000; it has 332,101)")
    args = parser.parse_args()
    mentions, watchlist = dense_stream(6, 4, 1)
    raw = mentions.read_bytes().splitlines()
    if not 1 <= args.lines <= len(raw):
        parser.error(f"--lines must be between 1 and {len(raw):,} (the bench stream)")
    # Event times moved back a random number of minutes: incident ids (from event time)
    # never repeat an earlier run's, which the alert store would drop as duplicates.
    lines = [line for _, line in shifted(raw[:args.lines], random.randrange(1, 525_600))]
    bootstrap = os.environ.get("FIRESTORM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    redis_url = os.environ.get("FIRESTORM_REDIS_URL", "redis://127.0.0.1:6379/0")
    run = uuid.uuid4().hex[:8]

    print(f"{len(lines):,} lines of the bench stream, one partition", flush=True)
    worker, topic, alerts = run_worker(bootstrap, redis_url, lines, watchlist, run)
    print(f"worker: done in {worker.wall:.1f} s, {alerts:,} alert events in Redis",
          flush=True)
    rates = [run_aiokafka(bootstrap, topic, len(lines)),
             run_kafka_python(bootstrap, topic, len(lines)),
             run_replay(lines, watchlist), worker]
    width = max(len(r.what) for r in rates)
    print(f"{'':{width}}  {'per second':>12}  {'per CPU-second':>15}  {'wall s':>8}")
    for r in rates:
        print(f"{r.what:{width}}  {r.per_second:12,.0f}  {r.per_cpu_second:15,.0f}"
              f"  {r.wall:8.1f}")
    for figure, measured, target, met in verdicts(worker, rates[2]):
        print(f"target: {figure} {measured} (target {target}: {'met' if met else 'not met'})")
    print(json.dumps({"worker_rate_result": {
        "lines": len(lines), "alerts": alerts,
        "rates": [{**asdict(r), "per_second": round(r.per_second, 1),
                   "per_cpu_second": round(r.per_cpu_second, 1)} for r in rates]}}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
