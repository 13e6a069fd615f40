"""Delay from a mention's arrival on Kafka to its alert reaching the console.

Needs the local stack (``make bench`` starts it). A real worker warms up on the
sample's quiet day, then the storm is sent one event-time minute at a time. An
alert judges a minute when the first mention of the next minute arrives, so
the delay measured is from sending that mention to the alert appearing on the
Redis stream the console follows (``XREAD``, as ``firestorm console`` does).
Event-time bucketing adds up to one more minute on top: an alert speaks for
a whole minute only once the minute is over.

    python bench/bench_latency.py [--batch-wait 0.5]
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from pathlib import Path

import redis
from kafka import KafkaProducer

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "deploy" / "examples" / "sample-mentions.jsonl"
STREAM = "firestorm:alerts:log"


def mentions(end: float) -> list[dict]:
    """The sample's valid mentions, shifted to end at ``end``."""
    out = []
    for line in SAMPLE.read_bytes().splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("ts"), float | int):
            out.append(data)
    shift = end - max(m["ts"] for m in out)
    for m in out:
        m["ts"] = round(m["ts"] + shift, 3)
    return out


class Follower(threading.Thread):
    """Reads the alerts log as the console does; keeps (at, entity, arrival) per event."""

    def __init__(self, client: redis.Redis) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.last = (client.xinfo_stream(STREAM)["last-generated-id"]
                     if client.exists(STREAM) else "0-0")
        self.arrivals: list[tuple[float, str, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for _, entries in self.client.xread({STREAM: self.last}, block=100) or []:
                seen = time.monotonic()
                for entry_id, entry in entries:
                    self.last = entry_id
                    event = json.loads(entry[b"event"])
                    at = calendar.timegm(time.strptime(event["at"], "%Y-%m-%dT%H:%M:%SZ"))
                    self.arrivals.append((float(at), event["entity_id"], seen))


def wait_health(port: int, check, timeout: float, proc: subprocess.Popen) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"worker exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                health = json.loads(r.read())
            if check(health):
                return health
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"worker not ready within {timeout:.0f}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-wait", default="0.5",
                        help="FIRESTORM_BATCH_WAIT for the worker (seconds)")
    args = parser.parse_args()
    bootstrap = os.environ.get("FIRESTORM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    redis_url = os.environ.get("FIRESTORM_REDIS_URL", "redis://127.0.0.1:6379/0")
    run = uuid.uuid4().hex[:8]
    port = random.randrange(20_000, 30_000)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRESTORM_")}
    env.update(FIRESTORM_KAFKA_BOOTSTRAP=bootstrap, FIRESTORM_REDIS_URL=redis_url,
               FIRESTORM_APP_ID=f"bench-{run}", FIRESTORM_TOPIC_MENTIONS=f"mentions-{run}",
               FIRESTORM_TOPIC_DEAD=f"dead-{run}", FIRESTORM_TOPIC_OBSERVATIONS=f"obs-{run}",
               FIRESTORM_DATA_DIR=f"/tmp/firestorm-bench-{run}", FIRESTORM_WEB_PORT=str(port),
               FIRESTORM_PSEUDONYM_KEY="bench", FIRESTORM_BATCH_WAIT=args.batch_wait,
               FIRESTORM_LOG_LEVEL="warning",
               FIRESTORM_WATCHLIST=str(REPO / "deploy" / "examples" / "watchlist.yaml"))
    # A random past minute: incident ids come from event time, so runs never collide.
    data = mentions(time.time() - 60 * random.randrange(1, 525_600))
    storm_start = min(m["ts"] for m in data if m["author"].startswith("@activist"))
    quiet = [m for m in data if m["ts"] < storm_start - storm_start % 60]
    storm = [m for m in data if m["ts"] >= storm_start - storm_start % 60]

    log = open(f"/tmp/firestorm-bench-{run}.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], env=env,
                              cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_health(port, lambda h: True, 120, worker)
        producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all", linger_ms=0)
        topic = env["FIRESTORM_TOPIC_MENTIONS"]
        started = time.monotonic()
        for m in quiet:
            producer.send(topic, json.dumps(m).encode())
        producer.flush()
        wait_health(port, lambda h: h["received"] >= len(quiet)
                    and h["judged"] >= h["forwarded"], 600, worker)
        print(f"warm-up: {len(quiet):,} quiet mentions processed in"
              f" {time.monotonic() - started:.1f}s", file=sys.stderr)

        follower = Follower(redis.Redis.from_url(redis_url))
        follower.start()
        by_minute: dict[float, list[dict]] = defaultdict(list)
        for m in storm:
            by_minute[m["ts"] - m["ts"] % 60].append(m)
        sent_at: dict[float, float] = {}  # minute that the first mention of this group closes
        for minute in sorted(by_minute):
            sent_at[minute] = time.monotonic()
            for m in by_minute[minute]:
                producer.send(topic, json.dumps(m).encode())
            producer.flush()
            time.sleep(1.5)  # let the minute's alert (if any) land before the next
        time.sleep(3)
        follower.stop.set()
        follower.join()
        arrivals: dict[float, float] = {}  # minute judged (event time) -> first alert seen
        for at, _, seen in follower.arrivals:
            arrivals.setdefault(at, seen)
        delays = sorted(arrivals[minute] - sent_at[minute]
                        for minute in arrivals if minute in sent_at)
        if not delays:
            sys.exit("no alerts arrived: is the worker healthy? see the log in /tmp")
        print(f"mention-to-console delay over {len(delays)} alerting minutes:"
              f" median {statistics.median(delays) * 1000:.0f} ms,"
              f" min {delays[0] * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms"
              f" (FIRESTORM_BATCH_WAIT={args.batch_wait}s; plus up to 60 s of event time"
              " until the minute closes)")
        return 0
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
