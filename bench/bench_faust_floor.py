"""Faust's floor: what a bare agent costs per message, with faust's drain loop and ours.

Needs the local stack (``make bench`` starts it, or deploy/local/with-stack.sh).
Issue 13 asks for a worker that takes in 20,000 mentions a second on one core. Before
any of Firestorm's work, every mention passes through faust's consumer, conductor and
stream. This measures that floor: the first ``--lines`` lines of the bench stream on a
topic of one partition, read by a Faust app whose agent takes batches of raw events
(``take_events(500, within=0.5)``, as the intake agent does) and does nothing else.
The app has the worker's consumer fixes (streams/flowfix.py, streams/fetchwait.py) and
a second, empty topic with an agent of its own, as the worker reads the observations
topic beside the mentions. It runs twice, each in a fresh process and consumer group:

1. with faust-streaming's own drain loop (``Consumer._drain_messages``);
2. with streams/drain.py's, which the worker installs.

Each rate runs from the first batch the agent takes to the last message, over wall
time and over the process's CPU time (all threads). Prints both side by side, and a
JSON line (``faust_floor_result``).

    python bench/bench_faust_floor.py [--lines 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BATCH = 500  # the intake agent's default batch (streams/settings.py batch_size)


def child(bootstrap: str, topic: str, count: int, ours: bool) -> None:
    """One floor run, printing a JSON line with its rate; exits when all are taken."""
    import faust

    from streams import drain, fetchwait, flowfix
    from streams.settings import Settings

    flowfix.apply((topic,))
    fetchwait.apply(Settings().fetch_max_wait)
    if ours:
        drain.apply()
    # Faust's data dir defaults to "<app id>-data" in the working directory.
    app = faust.App(f"floor-{uuid.uuid4().hex[:8]}", broker=f"kafka://{bootstrap}",
                    store="memory://", web_enabled=False,
                    datadir=tempfile.mkdtemp(prefix="firestorm-floor-"),
                    consumer_auto_offset_reset="earliest")
    source = app.topic(topic, value_type=bytes, value_serializer="raw")
    other = app.topic(f"{topic}-other", value_type=bytes, value_serializer="raw",
                      partitions=1)
    seen = {"n": 0, "wall": 0.0, "cpu": 0.0}

    @app.agent(other)
    async def idle(stream: faust.StreamT) -> None:
        async for _ in stream:
            pass

    @app.agent(source)
    async def take(stream: faust.StreamT) -> None:
        async for batch in stream.take_events(BATCH, within=0.5):
            if not seen["n"]:
                seen["wall"], seen["cpu"] = time.monotonic(), time.process_time()
            seen["n"] += len(batch)
            if seen["n"] >= count:
                print(json.dumps({"floor": {
                    "count": seen["n"], "wall": time.monotonic() - seen["wall"],
                    "cpu": time.process_time() - seen["cpu"]}}), flush=True)
                os._exit(0)

    sys.argv = ["floor", "worker", "-l", "warn", "--without-web"]
    app.main()


def fill(bootstrap: str, topic: str, lines: list[bytes]) -> None:
    from kafka import KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1), NewTopic(f"{topic}-other", 1, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), linger_ms=5)
    for line in lines:
        producer.send(topic, line)
    producer.flush()
    producer.close()


def run(bootstrap: str, topic: str, count: int, ours: bool) -> dict[str, float]:
    argv = [sys.executable, __file__, "--child", topic, "--lines", str(count)]
    done = subprocess.run([*argv, "--ours"] if ours else argv, cwd=REPO,
                          capture_output=True, timeout=600,
                          env={**os.environ, "FIRESTORM_KAFKA_BOOTSTRAP": bootstrap})
    # Faust's worker sends what the app prints to its log: find the line anywhere.
    for line in (done.stdout + done.stderr).decode().splitlines():
        if '{"floor"' in line:
            return json.loads(line[line.index('{"floor"'):])["floor"]
    sys.exit(f"the floor run ({'ours' if ours else 'faust'}) gave no figure:"
             f" {done.stderr.decode()[-2000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000,
                        help="lines of the bench stream (default 100,000; it has 332,101)")
    parser.add_argument("--child", metavar="TOPIC", help=argparse.SUPPRESS)
    parser.add_argument("--ours", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    bootstrap = os.environ.get("FIRESTORM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    if args.child:
        child(bootstrap, args.child, args.lines, args.ours)
        return 0
    from bench.bench_replay import dense_stream

    mentions, _ = dense_stream(6, 4, 1)
    raw = mentions.read_bytes().splitlines()
    if not 1 <= args.lines <= len(raw):
        parser.error(f"--lines must be between 1 and {len(raw):,} (the bench stream)")
    topic = f"floor-{uuid.uuid4().hex[:8]}"
    from kafka.errors import KafkaError

    try:
        fill(bootstrap, topic, raw[:args.lines])
    except KafkaError as exc:
        sys.exit(f"no Kafka at {bootstrap} ({type(exc).__name__}): start the stack first"
                 " (make bench does, or deploy/local/with-stack.sh)")
    print(f"{args.lines:,} lines of the bench stream on {topic}, one partition", flush=True)
    rows = [("faust's drain loop", run(bootstrap, topic, args.lines, ours=False)),
            ("streams/drain.py (the worker's)", run(bootstrap, topic, args.lines, ours=True))]
    width = max(len(what) for what, _ in rows)
    print(f"{'bare agent, raw batches of 500':{width}}  {'per second':>12}"
          f"  {'per CPU-second':>15}  {'µs CPU a message':>17}")
    for what, r in rows:
        print(f"{what:{width}}  {r['count'] / r['wall']:12,.0f}  {r['count'] / r['cpu']:15,.0f}"
              f"  {1e6 * r['cpu'] / r['count']:17.1f}")
    print(json.dumps({"faust_floor_result": {"lines": args.lines, "runs": [
        {"what": what, **r} for what, r in rows]}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
