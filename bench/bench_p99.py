"""Alert latency under load: p99 from the mention that closes a minute to its alert.

Needs the local stack (``make bench`` starts it, or deploy/local/with-stack.sh).
Issue 13's target: at 80 % of the highest rate a worker sustains, 99 % of alerts
reach Redis within 1 s of the mention that closes their minute.

1. **Saturate.** A fresh worker (one partition, the bench stream's watchlist) takes
   the first ``--warm`` lines of the bench stream as fast as Kafka takes them: the
   entities' history, so the paced part raises real alerts. It then takes the next
   ``--probe`` lines as fast: those lines over the seconds from their first send to
   the last item judged is the sustainable rate of a warm worker on this stream
   (``--rate`` gives one instead, e.g. from an earlier run).
2. **Pace.** The next ``--lines`` lines are sent at ``--load`` (0.8) times that rate,
   in event-time order. A minute closes, for every entity, when the first mention at
   least the lateness bound (5 s of event time, ``FIRESTORM_LATENESS_SECONDS``) past
   its end is read: the send time of each such mention is recorded.
3. **Measure.** A thread follows ``firestorm:alerts:log`` (the Redis stream the
   console reads, ``XREAD``). An alert judging the minute that ends at ``at`` took
   arrival - (send time of the mention that closed it).

The event times of the bench stream are moved back a random number of minutes, so
incident ids (which come from event time) never repeat an earlier run's, which the
alert store would drop as duplicates.

    python bench/bench_p99.py [--warm 20000] [--probe 20000] [--lines 100000] [--load 0.8]
                              [--batch-wait 0.5]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import fields
from pathlib import Path

import redis
from kafka import KafkaProducer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.bench_latency import STREAM, Follower  # noqa: E402
from bench.bench_replay import dense_stream  # noqa: E402
from bench.bench_worker_cpu import (  # noqa: E402
    caught_up,
    health,
    spawn_worker,
    wait_ready,
    worker_env,
)
from streams.settings import Settings  # noqa: E402

# A minute closes once a mention this much (event time) past its end is read.
LATENESS = next(f.default for f in fields(Settings) if f.name == "lateness_seconds")
TARGET_SECONDS = 1.0


def shifted(lines: list[bytes], minutes: int) -> list[tuple[float, bytes]]:
    """Each line's event time and the line itself, moved ``minutes`` earlier (never
    later: a mention from the future is refused)."""
    out = []
    for line in lines:
        data = json.loads(line)
        data["ts"] = round(data["ts"] - 60 * minutes, 3)
        out.append((data["ts"], json.dumps(data).encode()))
    return out


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile of sorted ``values``: the smallest value with at least
    ``q`` of them at or below it.

    >>> percentile([float(i) for i in range(1, 101)], 0.99), percentile([3.0], 0.99)
    (99.0, 3.0)
    """
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def wait_judged(port: int, sent: int, timeout: float,
                worker: subprocess.Popen[bytes] | None = None) -> float:
    """Until the worker has taken in ``sent`` mentions and judged all it forwarded;
    returns when (monotonic). Exits if it takes longer than ``timeout``, or if
    ``worker`` (when given) exits first."""
    deadline = time.monotonic() + timeout
    while True:
        h = health(port) or {}
        if caught_up(h, sent):
            return time.monotonic()
        if worker is not None and worker.poll() is not None:
            sys.exit(f"the worker exited ({worker.returncode}) before judging {sent:,}"
                     " mentions")
        if time.monotonic() > deadline:
            sys.exit(f"the worker had not judged {sent:,} mentions within {timeout:.0f} s"
                     f" (health: {h})")
        time.sleep(0.05)


def batch_totals(port: int, metric: str = "firestorm_batch_seconds",
                 label: str = "agent") -> dict[str, tuple[float, float]]:
    """Per value of ``label`` (an agent, a detect phase), (count, seconds) so far of the
    histogram ``metric``, from the worker's ``/metrics``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    return totals(text, metric, label)


def totals(text: str, metric: str, label: str) -> dict[str, tuple[float, float]]:
    """(count, sum) per label value of a histogram in Prometheus text.

    >>> totals('x_count{agent="detect"} 4.0\\nx_sum{agent="detect"} 1.5\\n', "x", "agent")
    {'detect': (4.0, 1.5)}
    """
    out: dict[str, list[float]] = {}
    for line in text.splitlines():
        for suffix, i in (("_count", 0), ("_sum", 1)):
            head = f"{metric}{suffix}{{{label}=\""
            if line.startswith(head):
                value, number = line[len(head):].split("\"}", 1)
                out.setdefault(value, [0.0, 0.0])[i] = float(number)
    return {value: (n, secs) for value, (n, secs) in out.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=20_000,
                        help="lines sent as fast as possible first: the entities' history"
                             " (default 20,000)")
    parser.add_argument("--probe", type=int, default=20_000,
                        help="lines then sent as fast as possible to measure the rate"
                             " (default 20,000)")
    parser.add_argument("--lines", type=int, default=100_000,
                        help="lines sent paced after them (default 100,000)")
    parser.add_argument("--load", type=float, default=0.8,
                        help="the paced rate as a fraction of the sustainable one (default 0.8)")
    parser.add_argument("--batch-wait", type=float,
                        help="FIRESTORM_BATCH_WAIT for the worker, seconds (default: its own,"
                             " 0.5)")
    parser.add_argument("--rate", type=float,
                        help="the sustainable rate, mentions/s (default: measured on"
                             " --probe)")
    kafka_port = int(os.environ.get("FIRESTORM_KAFKA_PORT", "9092"))
    parser.add_argument("--web-port", type=int, default=kafka_port - 92 + 81,
                        help="the worker's web port (default the Kafka port's base + 81)")
    args = parser.parse_args()
    if min(args.warm, args.probe, args.lines) < 1:
        parser.error("--warm, --probe and --lines must be at least 1")
    if not 0.0 < args.load <= 2.0:
        parser.error("--load must be in (0, 2]")
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    if args.batch_wait is not None and args.batch_wait <= 0:
        parser.error("--batch-wait must be positive")
    bootstrap = os.environ.get("FIRESTORM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    redis_url = os.environ.get("FIRESTORM_REDIS_URL", "redis://127.0.0.1:6379/0")
    mentions, watchlist = dense_stream(6, 4, 1)
    raw = mentions.read_bytes().splitlines()
    total = args.warm + args.probe + args.lines
    if len(raw) < total:
        parser.error(f"the bench stream has {len(raw):,} lines; --warm + --probe + --lines"
                     f" asks for {total:,}")
    lines = shifted(raw[:total], random.randrange(1, 525_600))
    warm, probe = lines[:args.warm], lines[args.warm:args.warm + args.probe]
    paced = lines[args.warm + args.probe:]

    run = uuid.uuid4().hex[:8]
    env = worker_env(bootstrap, redis_url, "p99", run, args.web_port, watchlist)
    if args.batch_wait is not None:
        env["FIRESTORM_BATCH_WAIT"] = str(args.batch_wait)
    topic = env["FIRESTORM_TOPIC_MENTIONS"]
    log_path = f"/tmp/firestorm-p99-{run}.log"
    log = open(log_path, "wb")  # noqa: SIM115
    worker = spawn_worker(env, log)
    follower = Follower(redis.Redis.from_url(redis_url))
    try:
        wait_ready(worker, args.web_port, log_path)
        follower.start()
        producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all",
                                 linger_ms=0)
        started = time.monotonic()
        for _, line in warm:
            producer.send(topic, line)
        producer.flush()
        done = wait_judged(args.web_port, len(warm), 1800)
        print(f"history: {len(warm):,} lines judged in {done - started:.1f} s")
        started = time.monotonic()
        for _, line in probe:
            producer.send(topic, line)
        producer.flush()
        done = wait_judged(args.web_port, len(warm) + len(probe), 1800)
        measured = len(probe) / (done - started)
        rate = args.rate or measured
        print(f"saturated: the next {len(probe):,} lines judged in {done - started:.1f} s:"
              f" {measured:,.0f} mentions/s" + ("" if args.rate is None
                                                 else f" (--rate {args.rate:,.0f} used)"))

        pace = args.load * rate
        before = batch_totals(args.web_port)
        phases_before = batch_totals(args.web_port, "firestorm_detect_phase_seconds", "phase")
        closes: dict[float, float] = {}  # minute start -> when the mention closing the
        # minute before it was sent (the first at or past the start + LATENESS)
        t0 = time.monotonic()
        for i, (ts, line) in enumerate(paced):
            due = t0 + i / pace
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            mark = ts - LATENESS
            minute = mark - mark % 60
            if minute not in closes:
                closes[minute] = time.monotonic()
            producer.send(topic, line)
        producer.flush()
        sent_for = time.monotonic() - t0
        done = wait_judged(args.web_port, len(lines), 1800)
        time.sleep(2.0)  # alerts of the last batch on their way to Redis
        after = batch_totals(args.web_port)
        phases = batch_totals(args.web_port, "firestorm_detect_phase_seconds", "phase")
        follower.stop.set()
        follower.join()
        first = min(closes)
        delays = sorted(seen - closes[at] for at, _, seen in follower.arrivals
                        if at >= first and at in closes)
        print(f"paced: {len(paced):,} lines in {sent_for:.1f} s ({len(paced) / sent_for:,.0f}"
              f" mentions/s, {args.load:.0%} of {rate:,.0f}); the worker finished"
              f" {done - t0 - sent_for:.1f} s after the last send")
        for agent in sorted(after):
            n = after[agent][0] - before.get(agent, (0.0, 0.0))[0]
            secs = after[agent][1] - before.get(agent, (0.0, 0.0))[1]
            print(f"  {agent} agent: {n:,.0f} batches, {secs:.1f} s busy"
                  f" ({secs / sent_for:.0%} of the paced time),"
                  f" {1000 * secs / max(n, 1):,.0f} ms a batch on average")
        spent = {phase: (n - phases_before.get(phase, (0.0, 0.0))[0],
                         secs - phases_before.get(phase, (0.0, 0.0))[1])
                 for phase, (n, secs) in phases.items()}
        # judge and deliver are counted per batch; write and changelog per state flush.
        print("  detect agent by phase: " + ", ".join(
            f"{phase} {secs:.1f} s ({n:,.0f}x)" for phase, (n, secs) in spent.items()))
        print(f"alert events on {STREAM}: {len(follower.arrivals):,} in all,"
              f" {len(delays):,} judging a minute of the paced part")
        if len(delays) < 100:
            print(f"only {len(delays)} alert events in the paced part: a p99 needs 100 or"
                  " more (raise --lines)", file=sys.stderr)
            if not delays:
                return 1
        p99 = percentile(delays, 0.99)
        print(f"closing mention to alert in Redis, {len(delays)} alert events:"
              f" p50 {percentile(delays, 0.5) * 1000:,.0f} ms,"
              f" p90 {percentile(delays, 0.9) * 1000:,.0f} ms,"
              f" p99 {p99 * 1000:,.0f} ms, max {delays[-1] * 1000:,.0f} ms"
              f" (target p99 <= {TARGET_SECONDS * 1000:,.0f} ms:"
              f" {'met' if p99 <= TARGET_SECONDS else 'not met'})")
        print(json.dumps({"p99_result": {
            "saturated_rate": round(measured, 1), "rate": round(rate, 1), "load": args.load,
            "paced_rate": round(len(paced) / sent_for, 1), "alerts": len(delays),
            "p50": round(percentile(delays, 0.5), 4), "p90": round(percentile(delays, 0.9), 4),
            "p99": round(p99, 4), "max": round(delays[-1], 4)}}), flush=True)
        return 0
    finally:
        follower.stop.set()
        worker.terminate()
        worker.wait(timeout=60)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
