"""What a worker writes to its state changelog, against what it reads, on the real broker.

Needs the local stack (``make bench`` starts it, or deploy/local/with-stack.sh).
One worker (one partition, a fresh app id and topics) takes in the first
``--lines`` lines of the bench stream (bench/bench_replay.py's 6-seed merged stream,
written once to the temp directory), sent as fast as Kafka takes them. Once every
observation is judged, the changelog topic is read back from its start, and the
figures are:

- input: the mentions topic, the sum of the record values' sizes (the producer sends
  no keys);
- changelog: every record written to ``<app id>-engine-state-changelog``, read by a
  consumer that follows the topic from its start while the worker writes it (after
  the run, compaction has already dropped older records): the sum of key and value
  sizes (a tombstone counts its key), and the number of records, tombstones among them;
- the same two topics' log segments on disk at the end (``*.log`` under the broker's
  data directory): Kafka's framing included, and the changelog *after* compaction,
  which is what a restarted worker reads back;
- the worker's CPU time (user + system, from /proc, all threads) from the first
  mention sent to the last observation judged: mentions per CPU-second;
- the alert events the worker raised (its ``/health`` counter), for comparing runs.

    python bench/bench_worker_changelog.py [--lines 120000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.bench_replay import dense_stream  # noqa: E402
from bench.bench_worker_cpu import (  # noqa: E402
    caught_up,
    cpu_seconds,
    health,
    spawn_worker,
    wait_ready,
    worker_env,
)


class Tail(threading.Thread):
    """Reads a topic from its start while it is written, counting every record.

    Read as it is written, not afterwards: the changelog is compacted (its segments
    roll every 5 minutes), so a read after the run sees only what compaction kept.
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.bootstrap, self.topic = bootstrap, topic
        self.records = self.tombstones = self.size = 0
        self.lag_seen = 0  # the most records the tail was ever behind (must stay small)
        self.stopping = threading.Event()

    def run(self) -> None:
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap.split(","),
                                 enable_auto_commit=False, max_partition_fetch_bytes=64 << 20,
                                 fetch_max_bytes=64 << 20)
        parts: list[TopicPartition] = []
        while not parts:
            parts = [TopicPartition(self.topic, p)
                     for p in sorted(consumer.partitions_for_topic(self.topic) or ())]
            if not parts:
                time.sleep(0.5)
                consumer.topics()  # refresh metadata until the worker has made the topic
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        while True:
            done = self.stopping.is_set()
            ends = consumer.end_offsets(parts)
            while any(consumer.position(tp) < ends[tp] for tp in parts):
                self.lag_seen = max(self.lag_seen, sum(ends[tp] - consumer.position(tp)
                                                       for tp in parts))
                for batch in consumer.poll(timeout_ms=1000, max_records=20_000).values():
                    for record in batch:
                        self.records += 1
                        self.size += len(record.key or b"") + len(record.value or b"")
                        self.tombstones += record.value is None
            if done:
                break
            time.sleep(0.5)
        consumer.close()


def disk_bytes(topic: str) -> int | None:
    """The topic's log segments on the local broker's disk (None if not found there)."""
    stack = os.environ.get("FIRESTORM_STACK_DIR")
    if not stack:
        return None
    data = Path(stack) / "kafka" / "data"
    dirs = list(data.glob(f"{topic}-*"))
    return sum(f.stat().st_size for d in dirs for f in d.glob("*.log")) if dirs else None


def run_once(bootstrap: str, redis_url: str, lines: list[bytes], watchlist: Path,
             port: int, extra_env: dict[str, str], repo: Path = REPO) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    env = {**worker_env(bootstrap, redis_url, "clog", run, port, watchlist), **extra_env}
    app_id = env["FIRESTORM_APP_ID"]
    log_path = f"/tmp/firestorm-clog-{run}.log"
    log = open(log_path, "wb")  # noqa: SIM115
    worker = spawn_worker(env, log, repo)
    try:
        wait_ready(worker, port, log_path)
        changelog = f"{app_id}-engine-state-changelog"
        tail = Tail(bootstrap, changelog)
        tail.start()
        before, started = cpu_seconds(worker.pid), time.monotonic()
        producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all",
                                 linger_ms=20, batch_size=256 * 1024)
        for line in lines:
            producer.send(env["FIRESTORM_TOPIC_MENTIONS"], line)
        producer.flush()
        producer.close()
        last = -1
        while True:
            h = health(port) or {}
            if caught_up(h, len(lines)):
                break
            if worker.poll() is not None:
                sys.exit(f"worker exited {worker.returncode} (log {log_path})")
            if time.monotonic() - started > 3600:
                sys.exit("worker did not finish in an hour")
            if h.get("judged", 0) // 100_000 != last:
                last = h.get("judged", 0) // 100_000
                print(f"  ... received {h.get('received', 0):,} judged {h.get('judged', 0):,}",
                      file=sys.stderr, flush=True)
            time.sleep(0.5)
        cpu, wall = cpu_seconds(worker.pid) - before, time.monotonic() - started
        alerts = h["alerts"]
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        log.close()
    tail.stopping.set()
    tail.join(600)
    records, tombstones, size = tail.records, tail.tombstones, tail.size
    return {"mentions": len(lines), "input": sum(map(len, lines)), "records": records,
            "tombstones": tombstones, "changelog": size, "cpu": cpu, "wall": wall,
            "alerts": alerts, "input_disk": disk_bytes(env["FIRESTORM_TOPIC_MENTIONS"]),
            "changelog_disk": disk_bytes(changelog)}


def mb(n: float | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:,.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=120_000,
                        help="how many lines of the bench stream to send (default 120,000,"
                             " about a day and a half; 0 for all 332,101)")
    parser.add_argument("--repeat", type=int, default=1, help="runs (default 1)")
    parser.add_argument("--compression", choices=("none", "gzip", "lz4", "zstd"),
                        help="FIRESTORM_KAFKA_COMPRESSION for the worker (default: its own)")
    kafka_port = int(os.environ.get("FIRESTORM_KAFKA_PORT", "9092"))
    parser.add_argument("--web-port", type=int,
                        default=int(os.environ.get("FIRESTORM_WEB_PORT", "0") or 0)
                        or kafka_port - 92 + 80,
                        help="the worker's web port (default FIRESTORM_WEB_PORT, else the"
                             " Kafka port's base + 80: 29080 under make bench)")
    parser.add_argument("--repo", type=Path, default=REPO,
                        help="run the worker from this checkout (e.g. an export of main, for"
                             " the figure before a change; default: this one)")
    args = parser.parse_args()
    if args.lines < 0 or args.repeat < 1:
        parser.error("--lines must be >= 0 and --repeat >= 1")
    bootstrap = os.environ.get("FIRESTORM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    redis_url = os.environ.get("FIRESTORM_REDIS_URL", "redis://127.0.0.1:6379/0")
    mentions, watchlist = dense_stream(6, 4, 1)
    lines = mentions.read_bytes().splitlines()
    lines = lines[:args.lines] if args.lines else lines
    extra = {} if args.compression is None else {"FIRESTORM_KAFKA_COMPRESSION": args.compression}
    for i in range(args.repeat):
        r = run_once(bootstrap, redis_url, lines, watchlist, args.web_port, extra,
                     args.repo.resolve())
        ratio = r["changelog"] / r["input"]
        print(f"run {i + 1}: {r['mentions']:,} mentions, {r['alerts']:,} alert events")
        print(f"  input topic (values read)      {mb(r['input']):>12}")
        print(f"  changelog (keys + values read) {mb(r['changelog']):>12}  in {r['records']:,}"
              f" records ({r['tombstones']:,} tombstones): {ratio:.2f}x input (target <= 1)")
        if r["changelog_disk"] is not None and r["input_disk"]:
            print(f"  on disk at the end (changelog compacted): input {mb(r['input_disk'])},"
                  f" changelog {mb(r['changelog_disk'])}:"
                  f" {r['changelog_disk'] / r['input_disk']:.2f}x input")
        print(f"  worker: {r['cpu']:.1f} CPU s ({r['mentions'] / r['cpu']:,.0f} mentions per"
              f" CPU-second), wall {r['wall']:.1f} s")
        print(json.dumps({"changelog_result": {**r, "ratio": round(ratio, 4)}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
