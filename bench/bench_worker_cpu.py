"""CPU a stream worker spends per mention: the ceiling of one partition.

Needs the local stack (``make bench`` starts it, or deploy/local/with-stack.sh).
One worker on a one-partition topic takes in the demo sample (8,294 mentions, a
quiet day and a storm) sent as fast as Kafka takes it; the worker's CPU time
(user + system, from /proc, all threads) from the first mention to the last one
judged gives mentions per CPU-second. CPU time, not wall time: the figure holds
on a machine shared with other work. One partition is read by one worker, whose
agents run on one core, so this is about what one partition can carry.

    python bench/bench_worker_cpu.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import IO

from kafka import KafkaProducer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.bench_latency import mentions  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return json.loads(r.read())
    except OSError:
        return None


def caught_up(h: dict, sent: int) -> bool:
    """The worker's ``/health`` says it took in ``sent`` mentions and judged every item
    it forwarded (redelivered ones are skipped, so they count as judged)."""
    return (h.get("received", 0) >= sent
            and h.get("judged", 0) + h.get("redelivered", 0) >= h.get("forwarded", 1))


def worker_env(bootstrap: str, redis_url: str, prefix: str, run: str, port: int,
               watchlist: Path = REPO / "deploy" / "examples" / "watchlist.yaml",
               ) -> dict[str, str]:
    """A bench worker's environment: its own app id, topics and data dir (``run``), so
    runs never share state; nothing inherited from the caller's FIRESTORM_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRESTORM_")}
    env.update(FIRESTORM_KAFKA_BOOTSTRAP=bootstrap, FIRESTORM_REDIS_URL=redis_url,
               FIRESTORM_APP_ID=f"{prefix}-{run}", FIRESTORM_TOPIC_MENTIONS=f"mentions-{run}",
               FIRESTORM_TOPIC_DEAD=f"dead-{run}", FIRESTORM_TOPIC_OBSERVATIONS=f"obs-{run}",
               FIRESTORM_DATA_DIR=f"/tmp/firestorm-{prefix}-{run}", FIRESTORM_WEB_PORT=str(port),
               FIRESTORM_PSEUDONYM_KEY="bench", FIRESTORM_LOG_LEVEL="warning",
               FIRESTORM_IDLE_SECONDS="2", FIRESTORM_WATCHLIST=str(watchlist))
    return env


def spawn_worker(env: dict[str, str], log: IO[bytes], cwd: Path = REPO
                 ) -> subprocess.Popen[bytes]:
    """``firestorm worker`` of the checkout at ``cwd``, with ``env``, logging to ``log``."""
    return subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], env=env,
                            cwd=cwd, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(worker: subprocess.Popen[bytes], port: int, log_path: str) -> None:
    """Until the worker answers on /health (exit if it dies or takes over 180 s), then
    3 s more, so that start-up work (recovery, first timers) is not measured."""
    deadline = time.monotonic() + 180
    while health(port) is None:
        if worker.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"worker did not start (log {log_path})")
        time.sleep(0.2)
    time.sleep(3)


def run_once(bootstrap: str, redis_url: str) -> tuple[int, float, float]:
    run = uuid.uuid4().hex[:8]
    port = random.randrange(20_000, 30_000)
    env = worker_env(bootstrap, redis_url, "cpu", run, port)
    data = mentions(time.time() - 60 * random.randrange(1, 525_600))
    log_path = f"/tmp/firestorm-cpu-{run}.log"
    log = open(log_path, "wb")  # noqa: SIM115
    worker = spawn_worker(env, log)
    try:
        wait_ready(worker, port, log_path)
        before, started = cpu_seconds(worker.pid), time.monotonic()
        producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all")
        for m in data:
            producer.send(env["FIRESTORM_TOPIC_MENTIONS"], json.dumps(m).encode())
        producer.flush()
        producer.close()
        while True:
            if caught_up(health(port) or {}, len(data)):
                break
            if time.monotonic() - started > 600:
                sys.exit("worker did not finish in 600 s")
            time.sleep(0.2)
        return len(data), cpu_seconds(worker.pid) - before, time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bootstrap = os.environ.get("FIRESTORM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    redis_url = os.environ.get("FIRESTORM_REDIS_URL", "redis://127.0.0.1:6379/0")
    rates = []
    for i in range(args.repeat):
        n, cpu, wall = run_once(bootstrap, redis_url)
        rates.append(n / cpu)
        print(f"run {i + 1}: {n:,} mentions, worker CPU {cpu:.1f} s ({n / cpu:,.0f} per"
              f" CPU-second), wall {wall:.1f} s")
    rates.sort()
    print(f"mentions per worker CPU-second: median {rates[len(rates) // 2]:,.0f}"
          f" (min {rates[0]:,.0f}, max {rates[-1]:,.0f}, {len(rates)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
