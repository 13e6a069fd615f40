"""The soak: a long stream through a worker that is killed, starved of Redis and cut off
from its broker, checked against an uninterrupted run of the same messages.

``make soak`` (outside CI, its own stack) runs the full plan: a million synthetic
mentions with storms, 100,000 fuzzed messages mixed in (tombstones, lone surrogates,
NUL, huge numbers, broken JSON...), two posts that crash the pure code (the test-only
hook, ``FIRESTORM_TEST_POISON``), ten ``kill -9``s of the worker at random moments,
Redis down for 60 s and a broker restart. A supervisor restarts the worker whenever
it exits, as systemd or Kubernetes would. ``tests/integration/test_soak.py`` runs a
short plan in CI.

Chaos follows the worker's progress, not the clock (:func:`schedule`): each kill is
planned at a random message and happens a random moment after the worker, rejoined
and working, has processed it; a worker that exits by itself first is not counted,
its successor is killed once it has made progress. Each kill is logged with the
offset reached, and the soak fails unless every planned kill, the Redis outage and
the broker restart happened.

It passes when:

- the alerts on Redis are the alerts of ``firestorm replay`` over the same messages
  (an uninterrupted run: replay and the stream agree, tests/integration/
  test_replay_equivalence.py), event for event, ``emitted_at`` and ``story``
  aside (see :func:`_comparable`);
- no event id is in the alert log twice, no incident is missing or extra;
- the group's committed offsets reach the end of the mentions and observations
  topics, and no worker ever logged an offset gap (nothing skipped, nothing lost);
- every message the decoder rejects is in ``mentions-dead`` with its original value
  and reason, and so is each poison post with the exception that crashed the worker;
- every planned ``kill -9``, the Redis outage and the broker restart happened.

    python -m tests.integration.soak [--mentions 1000000] [--fuzz 100000] [--kills 10]
        [--redis-down 60] [--no-broker-restart] [--rate 2000] [--seed 9]
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from models.mention import MAX_TEXT_CHARS, Rejection, decode
from models.watchlist import parse_watchlist
from tests.integration.support import (
    FIRESTORM,
    REPO,
    RedisServers,
    create_topics,
    end_offsets,
    free_port,
    group_offsets,
    read_health,
    retimed_sample,
    stop_process,
)

POISON = "P0ison-soak"
SOAK_KEY = b"soak"  # every message on one partition, in order: replay assumes event order


@dataclass(frozen=True)
class Plan:
    """What the soak throws at the worker."""

    stream: str = "synthetic"  # "synthetic": generated storms; "sample": the demo sample
    mentions: int = 1_000_000  # synthetic mentions (the sample has its own 8,294 lines)
    fuzz: int = 100_000
    kills: int = 10
    redis_down: float = 60.0
    broker_restart: bool = True
    poison: bool = True  # one post that crashes intake, one that crashes detection
    max_attempts: int = 2
    rate: float = 2_000.0  # messages a second from the producer
    jitter: float = 3.0  # seconds: a kill falls this long at most after its message
    batch_size: int = 500  # FIRESTORM_BATCH_SIZE of the worker
    seed: int = 9
    timeout: float = 4 * 3600.0  # the whole soak, bounded


CI_PLAN = Plan(stream="sample", fuzz=2_000, kills=2, redis_down=5.0, broker_restart=True,
               poison=False, rate=200.0, jitter=2.0, timeout=600.0)


# ------------------------------------------------------------------ the messages

def synthetic_mentions(count: int, workdir: Path) -> tuple[list[bytes], Path]:
    """``count`` generated mentions in event-time order (several seeded streams merged,
    as bench/bench_replay.py does), and their watchlist file."""
    from bench.scenarios.legacy import generate

    streams, total, seed = [], 0, 0
    while total < count:
        seed += 1
        stream = generate(seed=seed, days=4, warmup_days=1)
        streams.append(stream.mentions)
        total += len(stream.mentions)
        watchlist = stream.watchlist
    merged = heapq.merge(*streams, key=lambda m: (m["ts"], m["id"]))
    lines = [json.dumps(m).encode() for _, m in zip(range(count), merged, strict=False)]
    path = workdir / "watchlist.yaml"
    path.write_text(watchlist, encoding="utf-8")
    return lines, path


class Fuzzer:
    """Hostile messages of every kind the decoder meets; seeded, so a soak can be rerun.

    Some are mentions it must accept (repaired): they name a watched entity and carry
    the event time of their place in the stream, so they travel on to detection.
    """

    def __init__(self, rng: random.Random, term: str) -> None:
        self.rng, self.term = rng, term
        self.kinds: list[Callable[[float, int], bytes | None]] = [
            lambda ts, n: None,  # a tombstone
            lambda ts, n: b"",
            lambda ts, n: bytes(self.rng.getrandbits(8) for _ in range(self.rng.randrange(1, 80))),
            lambda ts, n: b"\xef\xbb\xbf" + self.mention(ts, n),
            lambda ts, n: self.mention(ts, n).replace(b"\\ud800", b"\xed\xa0\x80"),
            lambda ts, n: b"{not json" + str(n).encode(),
            lambda ts, n: json.dumps(self.rng.choice([[1, 2], "text", 3.5, None, True])).encode(),
            lambda ts, n: json.dumps({"id": f"f{n}", "platform": "x"}).encode(),
            lambda ts, n: self.mention(ts, n, author_followers=-3),
            lambda ts, n: self.mention(ts, n).replace(b'"ts": ', b'"ts": 1e400, "x": '),
            lambda ts, n: self.mention(ts, n, author_followers=10**400),
            lambda ts, n: b'{"id": "' + str(n).encode() + b'", "n": ' + b"7" * 5000 + b"}",
            lambda ts, n: b"[" * 2_000 + b"]" * 2_000,  # deeper than the decoder recurses
            lambda ts, n: self.mention(ts, n, text="x" * (MAX_TEXT_CHARS + 1)),
            lambda ts, n: self.mention(ts, n, ts="2999-01-01T00:00:00Z"),
            lambda ts, n: self.mention(ts, n, id=""),
            # accepted after repair: the lone surrogate in a named author, NUL
            lambda ts, n: self.mention(ts, n, author=f"@u\ud800x{n}", author_followers=50_000),
            lambda ts, n: self.mention(ts, n, text=f"{self.term} nul\x00 {n} \udc00"),
            lambda ts, n: self.mention(ts, n, **{"extra\ud800": ["\x00", {"k": "\udfff"}]}),
        ]

    def mention(self, at: float, n: int, **fields: Any) -> bytes:
        data = {"id": f"fuzz-{n}", "ts": at, "platform": "forum", "author": f"@fuzz{n}",
                "author_followers": 12, "text": f"{self.term} again \ud800 {n}"}
        data.update(fields)
        return json.dumps(data).encode()  # ASCII: lone surrogates stay escapes

    def __call__(self, ts: float, n: int) -> bytes | None:
        return self.rng.choice(self.kinds)(ts, n)


def messages(plan: Plan, workdir: Path) -> tuple[list[bytes | None], Path]:
    """The whole input in order: mentions, fuzz mixed in at random places, poison."""
    if plan.stream == "sample":
        lines = retimed_sample(workdir / "sample.jsonl")
        watchlist = REPO / "deploy" / "examples" / "watchlist.yaml"
    else:
        lines, watchlist = synthetic_mentions(plan.mentions, workdir)
    term = parse_watchlist(watchlist.read_text()).entities[0].terms[0]
    rng = random.Random(plan.seed)
    fuzz = Fuzzer(rng, term)
    at = sorted(rng.randrange(len(lines) + 1) for _ in range(plan.fuzz))
    out: list[bytes | None] = []
    last_ts, cursor = _ts(lines[0]) or 1.7e9, 0
    for n, where in enumerate(at):
        while cursor < where:
            out.append(lines[cursor])
            last_ts = _ts(lines[cursor]) or last_ts
            cursor += 1
        out.append(fuzz(last_ts, n))
    out.extend(lines[cursor:])
    if plan.poison:
        for share, stage in ((0.35, "intake"), (0.45, "detect")):
            i = int(len(out) * share)
            ts = next(t for t in map(_ts, reversed(out[:i])) if t is not None)
            out.insert(i, json.dumps({"id": f"poison-{stage}", "ts": ts, "platform": "forum",
                                      "author": "@p", "text": f"{term} {POISON}:{stage}"
                                      }).encode())
    return out, watchlist


def _ts(line: bytes | None) -> float | None:
    try:
        data = json.loads(line) if line else None
    except ValueError:
        return None
    ts = data.get("ts") if isinstance(data, dict) else None
    return float(ts) if isinstance(ts, float | int) and not isinstance(ts, bool) else None


# ------------------------------------------------------------------ the run

@dataclass
class Incarnation:
    """One worker process."""

    proc: subprocess.Popen
    log: Path
    started: float
    first: float | None = None  # when it first processed a message
    exit_code: int | None = None
    killed_at: float | None = None


class Supervisor:
    """Keeps one worker running, like systemd's ``Restart=always``: when it exits (a
    fail-stop, a crash, a failed start while the broker is away) it is started again."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env, self.workdir = env, workdir
        self.port = int(env["FIRESTORM_WEB_PORT"])
        self.runs: list[Incarnation] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def _spawn(self) -> None:
        log = self.workdir / f"worker-{len(self.runs)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([*FIRESTORM, "worker"], env=self.env, cwd=REPO,
                                    stdout=out, stderr=subprocess.STDOUT)
        self.runs.append(Incarnation(proc, log, time.monotonic()))

    @property
    def current(self) -> Incarnation:
        return self.runs[-1]

    def kill(self, worker: int) -> bool:
        """``kill -9`` the running worker if it is still incarnation number ``worker``
        (from 1; the watcher starts the next one); False if that one has exited."""
        with self._lock:
            run = self.current
            if len(self.runs) != worker or run.proc.poll() is not None:
                return False
            run.killed_at = time.monotonic()
            run.proc.send_signal(signal.SIGKILL)
            return True

    def _watch(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                run = self.current
                code = run.proc.poll()
                if code is not None:
                    run.exit_code = code
                    if code not in (-signal.SIGKILL, 70):  # a failed start: broker away
                        self._stop.wait(1.0)
                    self._spawn()
                    continue
            if run.first is None:
                h = read_health(self.port)
                if h and h.get("received", 0) > 0:
                    run.first = time.monotonic()
            self._stop.wait(0.1)

    def health(self) -> dict | None:
        return read_health(self.port)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        run = self.current
        stop_process(run.proc, 60)
        run.exit_code = run.proc.returncode


class Producer:
    """Sends the messages in order at ``rate``, on one partition; keeps every offset.

    Idempotent with unbounded retries, so a broker restart delays messages but never
    drops or reorders them; anything that still fails ends the soak (the input must be
    whole for the comparison to mean anything)."""

    def __init__(self, bootstrap: str, topic: str, values: list[bytes | None],
                 rate: float) -> None:
        self.bootstrap, self.topic, self.values, self.rate = bootstrap, topic, values, rate
        self.offsets: list[int] = [-1] * len(values)
        self.sent = 0
        self.errors: list[str] = []
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        from kafka import KafkaProducer

        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                 enable_idempotence=True, linger_ms=20,
                                 max_in_flight_requests_per_connection=1,
                                 delivery_timeout_ms=600_000, max_block_ms=600_000,
                                 max_request_size=4 * 1024 * 1024)
        started = time.monotonic()
        try:
            for index, value in enumerate(self.values):
                future = producer.send(self.topic, value=value, key=SOAK_KEY)
                future.add_callback(self._sent, index)
                future.add_errback(lambda exc: self.errors.append(repr(exc)))
                if index % 100 == 0:
                    delay = started + index / self.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
            producer.flush(timeout=900)
        except Exception as exc:  # the soak's own failure, reported as such
            self.errors.append(repr(exc))
        finally:
            producer.close(timeout=30)
            self.done.set()

    def _sent(self, index: int, metadata: Any) -> None:
        self.offsets[index] = metadata.offset
        self.sent += 1


def run_soak(plan: Plan, bootstrap: str, workdir: Path,
             say: Callable[[str], None] = print) -> SoakReport:
    """Run ``plan`` against the broker at ``bootstrap``; its own Redis in ``workdir``."""
    started = time.monotonic()
    report = SoakReport(plan)
    say(f"soak: building the input ({plan.stream}, {plan.fuzz:,} fuzzed)")
    values, watchlist = messages(plan, workdir)
    now = time.time()
    expected: list[str | None] = []  # each message's rejection reason, None if accepted
    for value in values:
        verdict = decode(value, now=now)
        if isinstance(verdict, Rejection):
            expected.append(verdict.reason)
            report.rejected += 1
        else:
            expected.append(None)
            report.repaired += bool(verdict.repaired)
    report.messages = len(values)

    servers = RedisServers(workdir)
    redis_server = servers()
    try:
        return _run(plan, bootstrap, workdir, say, report, values, watchlist, expected,
                    redis_server, started)
    finally:
        servers.stop_all()


def _run(plan: Plan, bootstrap: str, workdir: Path, say: Callable[[str], None],
         report: SoakReport, values: list[bytes | None], watchlist: Path,
         expected: list[str | None], redis_server: Any, started: float) -> SoakReport:
    """The soak proper, once the input is built and Redis is up."""
    run = uuid.uuid4().hex[:8]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRESTORM_")}
    env.update(
        FIRESTORM_KAFKA_BOOTSTRAP=bootstrap, FIRESTORM_REDIS_URL=redis_server.url,
        FIRESTORM_APP_ID=f"soak-{run}", FIRESTORM_TOPIC_MENTIONS=f"mentions-{run}",
        FIRESTORM_TOPIC_DEAD=f"dead-{run}", FIRESTORM_TOPIC_OBSERVATIONS=f"obs-{run}",
        FIRESTORM_DATA_DIR=str(workdir / "worker"), FIRESTORM_WEB_PORT=str(free_port()),
        FIRESTORM_PSEUDONYM_KEY="soak-key", FIRESTORM_WATCHLIST=str(watchlist),
        FIRESTORM_MAX_ATTEMPTS=str(plan.max_attempts), FIRESTORM_LOG_LEVEL="info",
        FIRESTORM_BATCH_SIZE=str(plan.batch_size))
    if plan.poison:
        env["FIRESTORM_TEST_POISON"] = POISON
    # The reference: an uninterrupted run (replay) of every message a line can carry.
    reference_file = workdir / "reference.jsonl"
    with reference_file.open("wb") as out:
        for value, outcome in zip(values, expected, strict=True):
            if value is not None and b"\n" not in value:
                out.write(value + b"\n")
            elif outcome is None:
                raise AssertionError("an accepted mention cannot go in a line")

    supervisor = Supervisor(env, workdir)
    producer = Producer(bootstrap, env["FIRESTORM_TOPIC_MENTIONS"], values, plan.rate)
    create_topics(env)
    supervisor.start()
    producer.start()
    window = len(values) / plan.rate
    chaos = schedule(plan, len(values), random.Random(plan.seed + 1))
    deadline = started + plan.timeout
    say(f"soak: producing {len(values):,} messages at {plan.rate:,.0f}/s (~{window:.0f}s);"
        f" chaos when the worker has processed message: "
        + ", ".join(f"{what}@{at:,}" for at, what in chaos))
    try:
        try:
            _chaos(plan, report, chaos, supervisor, producer, redis_server,
                   env["FIRESTORM_TOPIC_MENTIONS"], deadline, say)
        except TimeoutError as exc:  # fails the soak, which carries on to its checks
            report.problems.append(str(exc))
        while not producer.done.is_set():
            _progress(producer, supervisor, say)
            if time.monotonic() > deadline:
                raise TimeoutError("the producer did not finish in time")
            producer.done.wait(60)
        if producer.errors:
            report.problems.append(f"producer failed (the soak's fault): {producer.errors[:3]}")
            return report
        say("soak: all produced; waiting for the worker to catch up")
        replayed = subprocess.run(
            [*FIRESTORM, "replay", "-i", str(reference_file), "-o", str(workdir / "ref.jsonl"),
             "--no-flush"], env=env, cwd=REPO, capture_output=True, check=False)
        if replayed.returncode != 0:
            report.problems.append(f"reference replay failed: {replayed.stderr[-500:]!r}")
            return report
        reference = [json.loads(x) for x in (workdir / "ref.jsonl").read_text().splitlines()]
        report.expected_alerts = len(reference)
        while not _caught_up(env, bootstrap, redis_server.url, len(reference)):
            if time.monotonic() > deadline:
                report.problems.append("timed out waiting for the worker to catch up")
                break
            if int(time.monotonic()) % 60 < 5:
                _progress(producer, supervisor, say)
            time.sleep(5)
        report.final_health = supervisor.health() or {}
    finally:
        supervisor.stop()
        report.duration = time.monotonic() - started
    _check(report, plan, env, bootstrap, redis_server.url, values, expected, producer,
           reference, supervisor)
    return report


def _chaos(plan: Plan, report: SoakReport, chaos: list[tuple[int, str]],
           supervisor: Supervisor, producer: Producer, redis_server: Any, topic: str,
           deadline: float, say: Callable[[str], None]) -> None:
    """Each chaos event in turn, when the worker has processed its message."""
    jitter = random.Random(plan.seed + 2)
    for at, what in chaos:
        _await_progress(supervisor, topic, at, deadline, producer, say)
        if what == "kill -9":
            _kill(plan, report, supervisor, topic, at, deadline, jitter, producer, say)
        elif what == "redis down":
            redis_server.stop()
            say(f"soak: redis down for {plan.redis_down:.0f}s")
            time.sleep(plan.redis_down)
            redis_server.start()
            report.redis_down = plan.redis_down
        elif what == "broker restart":
            say("soak: restarting the broker")
            stopped = time.monotonic()
            _kafka("stop")
            _kafka("start")
            report.broker_restarts += 1
            report.broker_down = time.monotonic() - stopped


def schedule(plan: Plan, total: int, rng: random.Random) -> list[tuple[int, str]]:
    """Chaos by progress, not by the clock: each event fires when the worker has
    processed that message (its offset on the one mentions partition). Kills land at
    random messages between 5% and 95% of the stream, so each one falls while the
    worker has work, whatever its speed; Redis goes down at 30%, the broker restarts
    at 60%. (Times in the production window skipped kills when the stream was short:
    none of three happened in an earlier run.)"""
    events = [(int(0.3 * total), "redis down")] if plan.redis_down else []
    if plan.broker_restart:
        events.append((int(0.6 * total), "broker restart"))
    events += [(rng.randrange(int(0.05 * total), int(0.95 * total) + 1), "kill -9")
               for _ in range(plan.kills)]
    return sorted(events)


class Progress(NamedTuple):
    """Where the running worker is, from its /health."""

    worker: int  # its place among the supervisor's incarnations, from 1
    received: int  # mentions this process took in (0 until it has rejoined and worked)
    offset: int  # the mentions partition's processed offset (-1 before it reports one)


def _where(supervisor: Supervisor, topic: str) -> Progress:
    worker = len(supervisor.runs)
    h = supervisor.health() or {}
    processed = h.get("partitions", {}).get(f"{topic}/0", {}).get("processed")
    return Progress(worker, int(h.get("received") or 0),
                    -1 if processed is None else int(processed))


def _await_progress(supervisor: Supervisor, topic: str, offset: int, deadline: float,
                    producer: Producer, say: Callable[[str], None]) -> Progress:
    """Wait until the running worker has rejoined, taken in mentions itself, and
    processed the stream up to ``offset``."""
    shown = time.monotonic()
    while True:
        where = _where(supervisor, topic)
        if where.received > 0 and where.offset >= offset:
            return where
        if time.monotonic() > deadline:
            raise TimeoutError(f"the worker did not reach message {offset:,} in time ({where})")
        if time.monotonic() - shown > 60:
            _progress(producer, supervisor, say)
            shown = time.monotonic()
        time.sleep(0.25)


def _kill(plan: Plan, report: SoakReport, supervisor: Supervisor, topic: str, at: int,
          deadline: float, rng: random.Random, producer: Producer,
          say: Callable[[str], None]) -> None:
    """``kill -9`` the worker at a random moment once it works past message ``at``; if it
    exits by itself first (a fail-stop on a poison post), wait for the next one to rejoin
    and make progress, and kill that one: every planned kill happens."""
    while True:
        before = _await_progress(supervisor, topic, at, deadline, producer, say)
        time.sleep(rng.uniform(0.0, plan.jitter))
        where = _where(supervisor, topic)
        if where.worker == before.worker and supervisor.kill(where.worker):
            report.kills += 1
            report.kill_offsets.append(max(where.offset, before.offset))
            say(f"soak: kill -9 {report.kills}/{plan.kills} of worker #{where.worker} at"
                f" mentions offset {report.kill_offsets[-1]:,} (planned from {at:,};"
                f" it had taken in {max(where.received, before.received):,})")
            return
        say(f"soak: worker #{before.worker} exited before its kill -9; waiting for the next")


def _progress(producer: Producer, supervisor: Supervisor, say: Callable[[str], None]) -> None:
    h = supervisor.health() or {}
    processed = {k: v["processed"] for k, v in h.get("partitions", {}).items()}
    say(f"soak: produced {producer.sent:,}/{len(producer.values):,};"
        f" worker #{len(supervisor.runs)} {h.get('status', 'down')}; processed {processed}")


def _kafka(command: str) -> None:
    subprocess.run([str(REPO / "deploy" / "local" / "kafka.sh"), command], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=300)


def _caught_up(env: dict[str, str], bootstrap: str, redis_url: str, alerts: int) -> bool:
    import redis

    try:
        committed = group_offsets(bootstrap, env["FIRESTORM_APP_ID"])
        for topic in (env["FIRESTORM_TOPIC_MENTIONS"], env["FIRESTORM_TOPIC_OBSERVATIONS"]):
            if any(committed.get(tp) != end for tp, end in end_offsets(bootstrap, topic).items()):
                return False
        return redis.Redis.from_url(redis_url).xlen("firestorm:alerts:log") >= alerts
    except Exception:  # the broker or Redis between restarts: not yet
        return False


# ------------------------------------------------------------------ the verdict

@dataclass
class SoakReport:
    """The figures of one soak and whether it passed."""

    plan: Plan
    messages: int = 0
    rejected: int = 0
    repaired: int = 0
    kills: int = 0
    kill_offsets: list[int] = field(default_factory=list)
    redis_down: float = 0.0
    broker_restarts: int = 0
    broker_down: float = 0.0
    duration: float = 0.0
    expected_alerts: int = 0
    live_alerts: int = 0
    missing_alerts: int = 0
    extra_alerts: int = 0
    duplicate_events: int = 0
    incidents: int = 0
    offset_gaps: int = 0
    committed_to_end: bool = False
    dead_expected: int = 0
    dead_found: int = 0
    dead_wrong: int = 0
    dead_repeated: int = 0
    poison_dead: list[str] = field(default_factory=list)
    exits: Counter = field(default_factory=Counter)
    blind: list[float] = field(default_factory=list)
    final_health: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def table(self) -> str:
        p = self.plan
        blind = (f"median {statistics.median(self.blind):.1f}s, max {max(self.blind):.1f}s"
                 if self.blind else "n/a")
        rows = [
            ("stream", f"{p.stream}: {self.messages - p.fuzz:,} mentions"
                       f" + {p.fuzz:,} fuzzed = {self.messages:,} messages at {p.rate:,.0f}/s;"
                       f" worker batches of {p.batch_size}"),
            ("decoder verdicts", f"{self.rejected:,} rejected, {self.repaired:,} accepted"
                                 " after repair (lone surrogates, NUL)"),
            ("chaos", f"{self.kills} of {p.kills} kill -9, Redis down {self.redis_down:.0f}s,"
                      f" {self.broker_restarts} broker restart"
                      + (f" ({self.broker_down:.0f}s)" if self.broker_restarts else "")
                      + (", 2 poison posts" if p.poison else "")),
            ("kill -9 at mentions offset", ", ".join(f"{o:,}" for o in self.kill_offsets)
             or "none"),
            ("worker exits", ", ".join(f"{_exit_name(c)} x{n}"
                                       for c, n in sorted(self.exits.items(), key=str))),
            ("blind time after kill -9", blind),
            ("alerts: replay / live", f"{self.expected_alerts} / {self.live_alerts}"
                                       f" (missing {self.missing_alerts},"
                                       f" extra {self.extra_alerts})"),
            ("events twice / incidents", f"{self.duplicate_events} / {self.incidents}"
                                         " (the incident ids of the uninterrupted run"
                                         " are checked equal)"),
            ("offsets committed to the end", "yes" if self.committed_to_end else "NO"),
            ("offset gaps (every worker)", f"{self.offset_gaps}"),
            ("bad messages in mentions-dead", f"{self.dead_found:,} of {self.dead_expected:,}"
                                              f" with their reason ({self.dead_wrong} wrong;"
                                              f" {self.dead_repeated} sent twice after a"
                                              " crash)"),
            ("poison dead-lettered", "; ".join(self.poison_dead) or "n/a"),
            ("duration", f"{self.duration / 60:.1f} min"),
            ("result", "PASS" if self.passed else "FAIL: " + "; ".join(self.problems)),
        ]
        return "\n".join(["| | |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)])


def _exit_name(code: int | None) -> str:
    return {-signal.SIGKILL: "kill -9", 70: "fail-stop (70)", 0: "clean stop"}.get(
        code, f"exit {code}")


def _comparable(event: dict) -> str:
    """The per-entity event: ``emitted_at`` (wall clock) and ``story`` aside. A story is
    grouped where events are stored, in the order they arrive there: after a crash the
    restarted worker's events can arrive in another order than replay writes them, so
    a story may gather its members' states at another moment (docs/operations.md)."""
    return json.dumps({k: v for k, v in event.items() if k not in ("emitted_at", "story")},
                      sort_keys=True)


def _norm(reason: str) -> str:
    return re.sub(r"\d+(\.\d+)?", "#", reason)  # "631945.9 hours in the future" moves on


def chaos_missed(plan: Plan, report: SoakReport) -> list[str]:
    """The chaos the plan asked for that did not happen: a soak without its kills has
    not shown crash safety, whatever else it found."""
    missed = []
    if report.kills < plan.kills:
        missed.append(f"{report.kills} of the {plan.kills} planned kill -9s happened")
    if plan.redis_down and not report.redis_down:
        missed.append("Redis was never stopped")
    if plan.broker_restart and not report.broker_restarts:
        missed.append("the broker was never restarted")
    return missed


def _check(report: SoakReport, plan: Plan, env: dict[str, str], bootstrap: str,
           redis_url: str, values: list[bytes | None], expected: list[str | None],
           producer: Producer,
           reference: list[dict], supervisor: Supervisor) -> None:
    import redis

    problems = report.problems
    problems += chaos_missed(plan, report)
    # Alerts: the live log against the uninterrupted run.
    client = redis.Redis.from_url(redis_url)
    logged = [json.loads(f[b"event"]) for _, f in client.xrange("firestorm:alerts:log")]
    report.live_alerts = len(logged)
    live, ref = Counter(map(_comparable, logged)), Counter(map(_comparable, reference))
    report.missing_alerts = sum((ref - live).values())
    report.extra_alerts = sum((live - ref).values())
    ids = Counter(e["event_id"] for e in logged)
    report.duplicate_events = sum(n - 1 for n in ids.values() if n > 1)
    report.incidents = len({e["incident_id"] for e in logged})
    if {e["incident_id"] for e in logged} != {e["incident_id"] for e in reference}:
        problems.append("the incidents differ from the uninterrupted run")
    if report.missing_alerts or report.extra_alerts:
        problems.append(f"alerts differ: {report.missing_alerts} missing,"
                        f" {report.extra_alerts} extra")
    if report.duplicate_events:
        problems.append(f"{report.duplicate_events} events delivered twice")
    if not reference:
        problems.append("the stream raised no alert: nothing was compared")
    # Nothing skipped: offsets committed to the end, no gap in any worker's log.
    committed = group_offsets(bootstrap, env["FIRESTORM_APP_ID"])
    ends = {**end_offsets(bootstrap, env["FIRESTORM_TOPIC_MENTIONS"]),
            **end_offsets(bootstrap, env["FIRESTORM_TOPIC_OBSERVATIONS"])}
    report.committed_to_end = all(committed.get(tp) == end for tp, end in ends.items())
    if not report.committed_to_end:
        problems.append(f"committed {committed} short of the end {ends}")
    for run in supervisor.runs:
        text = run.log.read_text(errors="replace")
        report.offset_gaps += sum(int(m) for m in re.findall(r"offset gap .*?missing=(\d+)", text))
        report.exits[run.exit_code] += 1
        if run.killed_at is not None:
            nxt = supervisor.runs[supervisor.runs.index(run) + 1]
            if nxt.first is not None:
                report.blind.append(nxt.first - run.killed_at)
    if report.offset_gaps:
        problems.append(f"{report.offset_gaps} offsets skipped")
    # Every rejection in mentions-dead, by source, with its value and reason.
    dead = _read_all(bootstrap, env["FIRESTORM_TOPIC_DEAD"])
    by_source: dict[str, list[tuple[str, bytes | None]]] = {}
    for message in dead:
        headers = dict(message.headers)
        by_source.setdefault(headers["firestorm-source"].decode(), []).append(
            (headers["firestorm-reason"].decode(), message.value))
    topic = env["FIRESTORM_TOPIC_MENTIONS"]
    for index, (value, outcome) in enumerate(zip(values, expected, strict=True)):
        poison = value is not None and POISON.encode() in value
        if poison and b":detect" in value:
            # Its mention is dead-lettered too if a restart read it again after the last
            # crash (not yet committed): with the reason of its crashes in detection.
            for reason, dead_value in by_source.pop(f"{topic}/0/{producer.offsets[index]}",
                                                    []):
                if dead_value != value or " in detect " not in reason:
                    report.dead_wrong += 1
            continue
        if outcome is None and not (poison and b":intake" in value):
            continue
        report.dead_expected += 1
        got = by_source.pop(f"{topic}/0/{producer.offsets[index]}", [])
        if not got:
            continue
        report.dead_found += 1
        report.dead_repeated += len(got) - 1
        reason, dead_value = got[0]
        want = "crashed the worker" if poison else _norm(outcome or "")
        if dead_value != value or not (_norm(reason) == want or reason.startswith(want)):
            report.dead_wrong += 1
        if poison:
            report.poison_dead.append(f"intake: {reason}")
    for source, got in list(by_source.items()):
        if source.startswith(env["FIRESTORM_TOPIC_OBSERVATIONS"]) and got[0][0].startswith(
                "crashed the worker"):
            report.poison_dead.append(f"detect: {got[0][0]}")
            del by_source[source]
    if report.dead_found != report.dead_expected or report.dead_wrong:
        problems.append(f"mentions-dead holds {report.dead_found} of {report.dead_expected}"
                        f" bad messages ({report.dead_wrong} with a wrong value or reason)")
    if by_source:
        problems.append(f"{len(by_source)} unexpected dead letters, e.g. {next(iter(by_source))}")
    if plan.poison and len(report.poison_dead) != 2:
        problems.append(f"poison posts dead-lettered: {report.poison_dead}")


def _read_all(bootstrap: str, topic: str) -> list:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             max_partition_fetch_bytes=8 * 1024 * 1024)
    try:
        ends = end_offsets(bootstrap, topic)
        partitions = [TopicPartition(t, p) for t, p in ends]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        out = []
        while any(consumer.position(tp) < ends[(tp.topic, tp.partition)] for tp in partitions):
            for batch in consumer.poll(timeout_ms=1000).values():
                out.extend(batch)
        return out
    finally:
        consumer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make soak", description=__doc__.split("\n\n")[0])
    d = Plan()
    parser.add_argument("--stream", choices=("synthetic", "sample"), default=d.stream)
    parser.add_argument("--mentions", type=int, default=d.mentions)
    parser.add_argument("--fuzz", type=int, default=d.fuzz)
    parser.add_argument("--kills", type=int, default=d.kills)
    parser.add_argument("--redis-down", type=float, default=d.redis_down, metavar="SECONDS")
    parser.add_argument("--no-broker-restart", action="store_true")
    parser.add_argument("--no-poison", action="store_true")
    parser.add_argument("--rate", type=float, default=d.rate, help="messages a second")
    parser.add_argument("--batch-size", type=int, default=d.batch_size,
                        help="the worker's FIRESTORM_BATCH_SIZE (larger batches amortise the"
                             " per-batch state reads and writes on a busy machine)")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--timeout", type=float, default=d.timeout, metavar="SECONDS")
    parser.add_argument("--workdir", type=Path, help="where logs and files go (kept)")
    args = parser.parse_args(argv)
    if (args.rate <= 0 or args.mentions < 1 or args.batch_size < 1 or args.fuzz < 0
            or args.kills < 0):
        parser.error("--rate, --mentions and --batch-size must be positive, --fuzz and"
                     " --kills >= 0")
    plan = Plan(stream=args.stream, mentions=args.mentions, fuzz=args.fuzz, kills=args.kills,
                redis_down=args.redis_down, broker_restart=not args.no_broker_restart,
                poison=not args.no_poison, rate=args.rate, batch_size=args.batch_size,
                seed=args.seed, timeout=args.timeout)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="firestorm-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    bootstrap = os.environ.get("FIRESTORM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")

    def say(text: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)

    say(f"soak: workdir {workdir}")
    report = run_soak(plan, bootstrap, workdir, say)
    print(report.table(), flush=True)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
