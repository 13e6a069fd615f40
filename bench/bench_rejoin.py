"""Blind time: how long a restarted worker detects nothing after ``kill -9`` or SIGTERM.

Needs the local stack (``make bench`` starts it). A producer sends a mention
naming a watched entity every ``1/--rate`` seconds. A worker is stopped (SIGKILL
or SIGTERM) and a new one started at once with the same data dir, as a
supervisor would; the blind time runs from the signal to the first message the
new worker processes (its ``/health`` ``received`` leaves 0). Also shown: when
the new process answered ``/health`` (interpreter, imports and model loading),
the part of the blind time that is not the consumer group's. Wall-clock times
on purpose: waiting for a session to expire is the thing measured.

    python bench/bench_rejoin.py [--trials 3] [--repo PATH]

``--repo`` runs the workers from another checkout (e.g. an export of an older
commit), to measure before and after a change with the same driver.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.harness.poll import read_health as health  # noqa: E402
from bench.harness.poll import until  # noqa: E402


def produce(bootstrap: str, topic: str, rate: float, stop: threading.Event) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    n = 0
    while not stop.is_set():
        producer.send(topic, json.dumps({
            "id": f"r{n}", "ts": time.time(), "platform": "news", "author": f"@a{n % 97}",
            "text": f"queue at acme stores again {n}"}).encode())
        n += 1
        stop.wait(1 / rate)
    producer.close(timeout=10)


def start(repo: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], cwd=repo,
                            env={**env, "PYTHONPATH": str(repo)},
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3, help="restarts per signal")
    parser.add_argument("--rate", type=float, default=20, help="mentions a second")
    parser.add_argument("--repo", type=Path, default=REPO,
                        help="checkout whose worker to run (default: this one)")
    args = parser.parse_args()
    bootstrap = os.environ.get("FIRESTORM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    run = uuid.uuid4().hex[:8]
    port = random.randrange(40_000, 50_000)
    workdir = Path(tempfile.mkdtemp(prefix="bench-rejoin-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRESTORM_")}
    env.update(FIRESTORM_KAFKA_BOOTSTRAP=bootstrap,
               FIRESTORM_REDIS_URL=os.environ.get("FIRESTORM_REDIS_URL",
                                                  "redis://127.0.0.1:6379/0"),
               FIRESTORM_APP_ID=f"rejoin-{run}", FIRESTORM_TOPIC_MENTIONS=f"mentions-{run}",
               FIRESTORM_TOPIC_DEAD=f"dead-{run}", FIRESTORM_TOPIC_OBSERVATIONS=f"obs-{run}",
               FIRESTORM_DATA_DIR=str(workdir / "worker"), FIRESTORM_WEB_PORT=str(port),
               FIRESTORM_PSEUDONYM_KEY="bench", FIRESTORM_BATCH_WAIT="0.2",
               FIRESTORM_LOG_LEVEL="info")
    log = workdir / "worker.log"
    print(f"workers from {args.repo} (log {log})", flush=True)
    worker = start(args.repo, env, log)
    stop = threading.Event()
    feeder = threading.Thread(target=produce, daemon=True,
                              args=(bootstrap, env["FIRESTORM_TOPIC_MENTIONS"], args.rate, stop))
    feeder.start()
    rows: list[tuple[str, float, float]] = []
    try:
        until(lambda: (h := health(port)) and h["received"] > 0, 180, "the first worker")
        for name, sig in [("kill -9", signal.SIGKILL), ("SIGTERM", signal.SIGTERM)]:
            for trial in range(args.trials):
                # steady state: the running worker has processed (and committed) a while
                until(lambda: (h := health(port)) and h["received"] >= 3 * args.rate, 120,
                      "a steady worker", every=0.2)
                time.sleep(5)
                t0 = time.monotonic()
                worker.send_signal(sig)
                worker.wait(timeout=120)
                worker = start(args.repo, env, log)
                until(lambda: health(port) is not None, 180, "the new worker's /health",
                      every=0.05)
                up = time.monotonic() - t0
                until(lambda: (h := health(port)) and h["received"] > 0, 300,
                      "the new worker's first message", every=0.05)
                blind = time.monotonic() - t0
                rows.append((name, up, blind))
                print(f"{name:8} trial {trial + 1}: /health up {up:5.1f}s, first message"
                      f" processed {blind:5.1f}s after the signal", flush=True)
    finally:
        stop.set()
        worker.terminate()
        worker.wait(timeout=60)
    print("\n| stop | /health up (s) | blind time (s), median [min-max] |")
    print("|---|---|---|")
    for name in ("kill -9", "SIGTERM"):
        ups = [u for n, u, _ in rows if n == name]
        blinds = [b for n, _, b in rows if n == name]
        print(f"| {name} | {statistics.median(ups):.1f} | {statistics.median(blinds):.1f}"
              f" [{min(blinds):.1f}-{max(blinds):.1f}] |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
