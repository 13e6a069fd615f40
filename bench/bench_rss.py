"""Memory of a worker watching many entities: resident set size against the < 500 MB target.

Needs the local stack (``make bench`` starts it, or deploy/local/with-stack.sh).
A generated watchlist (policies, partners, departments and persons, each named by a
made-up word of its own so every mention tags to exactly one entity) and a stream
that gives every entity ``--hours`` of event-time history at its kind's rate are
sent to a fresh topic; one real worker (``firestorm worker``, one partition) takes
it all in. Each entity's state then holds full windows: the hour's ring of minute
buckets with their kept texts, the coarse buckets of the 3/12/24 h windows, the
baseline and the tails. The worker's RSS (VmRSS of it and any child process, from
/proc) is sampled throughout: peak, the idle worker before any mention, and the
steady figure once everything is judged. Each entity's state as the worker last
wrote it is read back from the table's changelog: its JSON size is the cross-check,
and its largest fields say where the memory goes.

    python bench/bench_rss.py [--entities 1000] [--hours 26] [--rate 6]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.bench_worker_cpu import (  # noqa: E402
    caught_up,
    health,
    spawn_worker,
    wait_ready,
    worker_env,
)

TARGET_MB = 500.0
# Share of the watchlist per kind, and the kind's mentions an hour relative to the mean
# (the ratios of the kinds' priors in models/params.py: departments busiest, persons
# quietest).
KINDS = (("policy", 0.3, 1.5), ("partner", 0.3, 0.75), ("department", 0.1, 2.5),
         ("person", 0.3, 0.15))
_SYLLABLES = ("ka", "lo", "mi", "ru", "te", "vo", "sa", "ne", "di", "po", "fu", "ze", "bi",
              "ga", "hu", "jo")
MAX_ENTITIES = len(_SYLLABLES) ** 4
_CALM = ("Anyone know how {t} works this year?", "Read the latest update on {t} today",
         "My appointment about {t} is on Thursday", "Good to see {t} sorting things out",
         "Picked up the leaflet on {t} at the library", "{t} came through on time, thanks")
_HOSTILE = ("{t} is a disgrace, absolutely furious", "Sick of {t} failing people again",
            "Utterly shameful how {t} treats us", "{t} lied again, resign now")
_FILLER = ("", " tbh", " again", " this week", " honestly", " today", " lol", " fyi")


class Generated(NamedTuple):
    """A watchlist (as the YAML document's data) and the terms that name each entity."""

    entities: list[dict[str, Any]]
    rates: dict[str, float]  # entity id -> mentions an hour


def word(i: int) -> str:
    """A made-up word of four syllables, distinct for each ``i`` below MAX_ENTITIES.

    >>> word(0), word(1), word(MAX_ENTITIES - 1)
    ('kakakaka', 'kakakalo', 'jojojojo')
    """
    if not 0 <= i < MAX_ENTITIES:
        raise ValueError(f"entity index {i} out of range 0..{MAX_ENTITIES - 1}")
    n = len(_SYLLABLES)
    return "".join(_SYLLABLES[i // n ** k % n] for k in (3, 2, 1, 0))


def watchlist(n: int, rate: float) -> Generated:
    """``n`` entities in the proportions of KINDS, ``rate`` mentions an hour on average.

    >>> g = watchlist(10, 6.0)
    >>> [e["kind"] for e in g.entities][:4], round(sum(g.rates.values()) / 10, 1)
    (['policy', 'partner', 'department', 'person'], 6.0)
    """
    entities, rates = [], {}
    counts = dict.fromkeys((k for k, _, _ in KINDS), 0)
    for i in range(n):
        # Interleaved: next is the kind furthest behind its share (ties in KINDS order).
        kind, _, factor = min(KINDS, key=lambda k: counts[k[0]] / k[1])
        counts[kind] += 1
        w = word(i)
        entity_id = f"{kind}-{w}"
        entities.append({"id": entity_id, "name": w.capitalize(), "kind": kind,
                         "terms": [w], "hashtags": [f"#{w}"]})
        rates[entity_id] = factor
    # Scaled to the exact mean: a small watchlist's kinds are not quite in proportion.
    scale = rate * n / sum(rates.values()) if n else 1.0
    return Generated(entities, {e: r * scale for e, r in rates.items()})


def stream(generated: Generated, hours: float, end: float, seed: int = 1) -> list[dict]:
    """Mentions giving every entity ``hours`` of history before ``end``, in time order.

    Each entity gets a Poisson number of mentions (mean: its rate times ``hours``) at
    uniform times, at least one in every hour, from a pool of authors; a fifth of
    them hostile in tone.
    """
    rng = random.Random(seed)
    start = end - hours * 3600
    out = []
    for entity in generated.entities:
        w, rate = entity["terms"][0], generated.rates[entity["id"]]
        count = max(int(hours) + 1, _poisson(rng, rate * hours))
        times = [start + (h % max(hours, 1)) * 3600 + rng.random() * 3600
                 for h in range(int(hours))]  # one per hour: no entity goes silent
        times += [start + rng.random() * hours * 3600 for _ in range(count - len(times))]
        for ts in times:
            text = rng.choice(_HOSTILE if rng.random() < 0.2 else _CALM).format(
                t=f"#{w}" if rng.random() < 0.1 else w.capitalize()) + rng.choice(_FILLER)
            out.append({"ts": round(min(ts, end), 3), "platform": "twitter",
                        "author": f"@resident{rng.randrange(50_000)}",
                        "author_followers": int(rng.lognormvariate(5, 1.5)),
                        "text": text, "lang": "en"})
    out.sort(key=lambda m: m["ts"])
    for i, m in enumerate(out):
        m["id"] = f"r{i}"
        m["url"] = f"https://social.example/{m['author'][1:]}/{i}"
    return out


def _poisson(rng: random.Random, mean: float) -> int:
    # Normal approximation above 30 (plenty for counts of mentions), exact below.
    if mean > 30:
        return max(0, round(rng.gauss(mean, mean ** 0.5)))
    limit, k, p = pow(2.718281828459045, -mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def tree_rss_kb(pid: int) -> tuple[int, int]:
    """(VmRSS summed over ``pid`` and its descendants, VmHWM of ``pid``) in kB."""
    rss = hwm = 0
    for p in [pid, *_descendants(pid)]:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:  # the child ended between listing and reading
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
            elif line.startswith("VmHWM:") and p == pid:
                hwm = int(line.split()[1])
    return rss, hwm


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            out += kids
            todo += kids
    return out


class Sampler(threading.Thread):
    """Samples a process tree's RSS every ``every`` seconds until stopped."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, int]] = []  # (monotonic, kB)
        self.hwm = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            rss, hwm = tree_rss_kb(self.pid)
            self.samples.append((time.monotonic(), rss))
            self.hwm = max(self.hwm, hwm)
            self.halt.wait(self.every)

    def since(self, t: float) -> list[int]:
        return [kb for at, kb in self.samples if at >= t]

    @property
    def peak(self) -> int:
        return max((kb for _, kb in self.samples), default=0)


def changelog_states(bootstrap: str, topic: str) -> dict[bytes, bytes]:
    """The last value written per key of a table's changelog (the states as stored)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not parts:
            sys.exit(f"no changelog topic {topic}: did the worker write its table?")
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        latest: dict[bytes, bytes] = {}
        while any(consumer.position(p) < ends[p] for p in parts):
            for records in consumer.poll(timeout_ms=1000).values():
                for r in records:
                    if r.value is None:
                        latest.pop(r.key, None)
                    else:
                        latest[r.key] = r.value
        return latest
    finally:
        consumer.close()


class Stored(NamedTuple):
    """One entity's state as the changelog holds it."""

    records: int  # bytes of its latest records (keys and values, parts compressed)
    state: dict[str, Any]  # the whole state, EntityEngineState.to_dict()

    @property
    def json_bytes(self) -> int:
        return len(json.dumps(self.state, separators=(",", ":")))


def stored_states(latest: dict[bytes, bytes]) -> dict[str, Stored]:
    """Each entity's state from the latest changelog records (streams/statestore.py)."""
    from alerting.stored import split_key
    from streams import statestore

    records: dict[str, int] = {}
    for key, value in latest.items():
        entity_id = split_key(key.decode("utf-8"))[0]
        records[entity_id] = records.get(entity_id, 0) + len(key) + len(value)
    out = {}
    for entity_id, size in records.items():
        loaded = statestore.read(latest, entity_id)
        if loaded.state is not None:
            out[entity_id] = Stored(size, loaded.state.to_dict())
    return out


def field_sizes(value: Any, prefix: str = "", depth: int = 2) -> dict[str, int]:
    """JSON bytes of each field of a state, nested ``depth`` levels.

    >>> field_sizes({"a": [1, 2], "b": {"c": "xy"}})
    {'a': 5, 'b': 10, 'b.c': 4}
    """
    out: dict[str, int] = {}
    if isinstance(value, dict) and depth:
        for k, v in value.items():
            out[prefix + k] = len(json.dumps(v, separators=(",", ":")))
            if isinstance(v, dict):
                out.update(field_sizes(v, f"{prefix}{k}.", depth - 1))
    return out


def progress(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-9)
    print(f"\r{label}: {done:,}/{total:,} ({rate:,.0f}/s)", end="", file=sys.stderr,
          flush=True)


def _stack_up(bootstrap: str, redis_url: str) -> None:
    import redis
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    try:
        KafkaProducer(bootstrap_servers=bootstrap.split(","), request_timeout_ms=5000,
                      max_block_ms=5000).close()
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except (KafkaError, redis.RedisError, OSError) as exc:
        sys.exit(f"error: the local stack is not up (Kafka {bootstrap}, Redis {redis_url}):"
                 f" {exc}. Run `make bench`, or this under deploy/local/with-stack.sh.")


def measure(args: argparse.Namespace, bootstrap: str, redis_url: str) -> int:
    run = uuid.uuid4().hex[:8]
    port = random.randrange(20_000, 30_000)
    generated = watchlist(args.entities, args.rate)
    # Event time ends a random number of days ago: incident ids come from it.
    data = stream(generated, args.hours, time.time() - 86_400 * random.randrange(2, 365),
                  args.seed)
    wl = Path(f"/tmp/firestorm-rss-{run}.json")  # JSON is YAML: the watchlist as written
    wl.write_text(json.dumps({"entities": generated.entities}))
    env = worker_env(bootstrap, redis_url, "rss", run, port, wl)
    env["FIRESTORM_BATCH_SIZE"] = str(args.batch_size)
    span = (data[-1]["ts"] - data[0]["ts"]) / 3600
    kinds = Counter(e["kind"] for e in generated.entities)
    print(f"{len(generated.entities):,} entities"
          f" ({', '.join(f'{kinds[k]} {k}' for k, _, _ in KINDS)}),"
          f" {len(data):,} mentions over {span:.1f} h of event time"
          f" ({args.rate:g} an hour per entity on average; worker batches of"
          f" {args.batch_size:,})", flush=True)
    log_path = f"/tmp/firestorm-rss-{run}.log"
    log = open(log_path, "wb")  # noqa: SIM115
    worker = spawn_worker(env, log)
    sampler = Sampler(worker.pid, args.every)
    sampler.start()
    try:
        wait_ready(worker, port, log_path)
        idle = statistics.median(sampler.since(time.monotonic() - 2) or [sampler.peak])

        from kafka import KafkaProducer

        producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all",
                                 linger_ms=20, batch_size=256 * 1024)
        started = time.monotonic()
        for i, m in enumerate(data, 1):
            producer.send(env["FIRESTORM_TOPIC_MENTIONS"], json.dumps(m).encode())
            if i % 20_000 == 0 or i == len(data):
                progress("sent", i, len(data), started)
        producer.flush()
        producer.close()
        print(file=sys.stderr)
        started, last, h = time.monotonic(), 0.0, {}
        while True:
            if worker.poll() is not None:
                sys.exit(f"worker exited with {worker.returncode} (log {log_path})")
            h = health(port) or h
            if time.monotonic() - last > 2:
                last = time.monotonic()
                progress(f"worker: RSS {sampler.samples[-1][1] / 1024:,.0f} MB, items judged"
                         f" {h.get('judged', 0):,} of {h.get('forwarded', 0):,}; mentions"
                         " received", h.get("received", 0), len(data), started)
            if caught_up(h, len(data)):
                break
            if time.monotonic() - started > args.timeout:
                # What was reached is still a measurement: reported, marked partial.
                print(f"\nPARTIAL: the worker did not finish in {args.timeout:.0f} s"
                      f" ({h.get('received', 0):,} of {len(data):,} mentions received,"
                      f" {h.get('judged', 0):,} of {h.get('forwarded', 0):,} items judged;"
                      f" log {log_path})", flush=True)
                break
            time.sleep(0.5)
        took = time.monotonic() - started
        print(file=sys.stderr)
        settled = time.monotonic()
        time.sleep(args.settle)
        steady = statistics.median(sampler.since(settled))
    finally:
        sampler.halt.set()
        worker.terminate()
        worker.wait(timeout=60)
        log.close()
    sampler.join()
    states = stored_states(changelog_states(
        bootstrap, f"{env['FIRESTORM_APP_ID']}-engine-state-changelog"))
    partial = took > args.timeout
    received = min(max(h.get("received", 0), 1), len(data))
    reached = (data[received - 1]["ts"] - data[0]["ts"]) / 3600 if partial else span
    report(generated, data, reached, took, idle, steady, sampler, states, partial)
    wl.unlink()
    return 0 if took <= args.timeout else 3


def report(generated: Generated, data: list[dict], span: float, took: float, idle: float,
           steady: float, sampler: Sampler, states: dict[str, Stored],
           partial: bool = False) -> None:
    n = len(generated.entities)
    mb = 1024.0
    peak = max(sampler.peak, sampler.hwm)
    coarse = statistics.median(len(s.state["detector"]["horizon"]["coarse"])
                               for s in states.values()) if states else 0
    print(f"worker {'received' if partial else 'took in'} mentions in {took:.0f} s wall"
          f" ({len(sampler.samples):,} RSS samples)")
    print(f"history judged into each state: {coarse:g} coarse buckets of the long windows"
          " (median; 96 of 15 minutes fill the 24 h window), the hour's ring beside them")
    print(f"RSS idle (watchlist loaded, no state): {idle / mb:,.0f} MB")
    print(f"RSS steady ({'PARTIAL, mentions received up to' if partial else 'all judged,'}"
          f" {n:,} entities with {span:.1f} h of history):"
          f" {steady / mb:,.0f} MB (target < {TARGET_MB:.0f} MB:"
          f" {'met' if steady / mb < TARGET_MB else 'NOT met'})")
    print(f"RSS peak: {peak / mb:,.0f} MB (VmHWM of the worker {sampler.hwm / mb:,.0f} MB;"
          f" target < {TARGET_MB:.0f} MB: {'met' if peak / mb < TARGET_MB else 'NOT met'})")
    print(f"RSS per entity, (steady - idle) / {n:,}: {(steady - idle) / n:,.1f} kB")
    if states:
        for what, sizes in (
                ("as JSON (EntityEngineState.to_dict)",
                 sorted(s.json_bytes for s in states.values())),
                ("as the changelog stores it (records, parts compressed)",
                 sorted(s.records for s in states.values()))):
            print(f"state per entity {what}, {len(sizes):,} entities:"
                  f" median {statistics.median(sizes) / 1024:,.1f} kB,"
                  f" max {sizes[-1] / 1024:,.1f} kB, total {sum(sizes) / mb / 1024:,.1f} MB")
        median_key = sorted(states, key=lambda k: states[k].json_bytes)[len(states) // 2]
        fields = field_sizes({"engine": states[median_key].state}, depth=4)
        top = sorted(((k, v) for k, v in fields.items() if k.count(".") >= 2),
                     key=lambda kv: -kv[1])[:6]
        print(f"largest fields of the median entity's state ({median_key}):"
              f" {', '.join(f'{k} {v / 1024:.1f} kB' for k, v in top)}")


def main(argv: list[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Needs Kafka and Redis (FIRESTORM_KAFKA_BOOTSTRAP, FIRESTORM_REDIS_URL;"
               " `make bench` starts them). Mentions per entity: about rate x hours.")
    parser.add_argument("--entities", type=int, default=1000,
                        help=f"watched entities, 1..{MAX_ENTITIES} (default 1000)")
    parser.add_argument("--hours", type=float, default=26.0,
                        help="event time of history per entity (default 26: the 24 h window"
                             " full, with the hour's ring beside it)")
    parser.add_argument("--rate", type=float, default=6.0,
                        help="mean mentions an hour per entity; departments get more,"
                             " persons fewer (default 6)")
    parser.add_argument("--batch-size", type=int, default=5000,
                        help="FIRESTORM_BATCH_SIZE of the worker (default 5000: at the"
                             " default 500, every batch rewrites the state of every entity"
                             " it touches to the changelog, and a day of history for 1,000"
                             " entities takes hours to take in)")
    parser.add_argument("--seed", type=int, default=1, help="stream seed (default 1)")
    parser.add_argument("--settle", type=float, default=10.0,
                        help="seconds of RSS samples after the last mention is judged that"
                             " make the steady figure (default 10)")
    parser.add_argument("--every", type=float, default=0.5,
                        help="seconds between RSS samples (default 0.5)")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="stop waiting for the worker after this many seconds and report"
                             " what it reached, marked PARTIAL, exit 3 (default 3600)")
    args = parser.parse_args(argv)
    if not 1 <= args.entities <= MAX_ENTITIES:
        parser.error(f"--entities must be 1..{MAX_ENTITIES}, got {args.entities}")
    if not 1 <= args.hours <= 24 * 30:
        parser.error(f"--hours must be 1..720, got {args.hours:g}")
    if not 0 < args.rate <= 3600:
        parser.error(f"--rate must be above 0 and at most 3600, got {args.rate:g}")
    if args.batch_size < 1:
        parser.error(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.settle < 1 or args.every <= 0 or args.timeout <= 0:
        parser.error("--settle must be >= 1, --every and --timeout above 0")
    bootstrap = os.environ.get("FIRESTORM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    redis_url = os.environ.get("FIRESTORM_REDIS_URL", "redis://127.0.0.1:6379/0")
    _stack_up(bootstrap, redis_url)
    try:
        return measure(args, bootstrap, redis_url)
    except KeyboardInterrupt:  # the worker was stopped on the way out (measure's finally)
        print("\ninterrupted: no figures", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
