"""Helpers shared by the integration tests: polling, free ports, throwaway redis-servers,
``firestorm`` processes and the retimed demo sample.

Fixtures live in conftest.py; tests import helpers from here (never from conftest).
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIRESTORM = [sys.executable, "-m", "streams.cli"]
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google on a closed
# network (refused or slow); --disable-quic keeps it off UDP entirely.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def wait_for(check: Callable[[], object], timeout: float, what: str, every: float = 0.2,
             show: Callable[[], str] | None = None):
    """Poll ``check`` until it returns something truthy, or fail after ``timeout`` seconds.

    ``show``, if given, is called on failure and its text appended to the message.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            detail = f"\n{show()}" if show is not None else ""
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- redis-server

def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server not found: run `deploy/local/redis.sh start` (installs it)"
                    " or `apt-get install redis-server`")
    return binary


class RedisServer:
    """One redis-server process on a fixed port and data dir; can be crashed and restarted.

    ``persistent`` (the default) runs with AOF fsync on every write, as production should,
    so a restart brings the data back; ``persistent=False`` runs without any persistence,
    so a restart loses all. ``extra`` are more redis-server arguments (``--requirepass``
    is honoured by :attr:`url` and the health check).
    """

    def __init__(self, binary: str, workdir: Path, *extra: str, persistent: bool = True) -> None:
        self.binary, self.workdir, self.extra = binary, workdir, extra
        self.persistent = persistent
        self.port = free_port()
        self.password = next((extra[i + 1] for i, a in enumerate(extra)
                              if a == "--requirepass"), None)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        persistence = (["--appendonly", "yes", "--appendfsync", "always"] if self.persistent
                       else ["--appendonly", "no"])
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.workdir), *persistence,
                "--save", "", "--daemonize", "no", "--logfile", "redis.log", *self.extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        client = redis.Redis(port=self.port, password=self.password, socket_timeout=1)

        def answers() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail(f"redis-server exited {self.proc.returncode}:"
                            f" {self.proc.stderr.read().decode() if self.proc.stderr else ''}"
                            f" {self.log()}")
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False
            except redis.ResponseError as exc:  # LOADING the AOF after a restart
                return not str(exc).startswith("LOADING")

        try:
            wait_for(answers, 20, f"redis-server on port {self.port}", every=0.05)
        finally:
            client.close()

    def crash(self) -> None:
        """SIGKILL: no shutdown save, like a crashed or OOM-killed server."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def log(self) -> str:
        path = self.workdir / "redis.log"
        return path.read_text()[-2000:] if path.exists() else ""


class RedisServers:
    """Starts :class:`RedisServer` instances, each in its own dir under ``root``.

    Call it like ``RedisServer`` minus binary and dir: ``servers("--requirepass", "pw")``
    or ``servers(persistent=False)``. :meth:`stop_all` at teardown.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.servers: list[RedisServer] = []

    def __call__(self, *extra: str, persistent: bool = True) -> RedisServer:
        workdir = self.root / f"redis-{len(self.servers)}"
        workdir.mkdir()
        server = RedisServer(redis_binary(), workdir, *extra, persistent=persistent)
        self.servers.append(server)
        server.start()
        return server

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()


# ---------------------------------------------------------------- firestorm processes

class Worker:
    """A real ``firestorm worker`` process, with its health endpoint."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log_path = env, log
        self._log = log.open("wb")
        self.proc = subprocess.Popen([*FIRESTORM, "worker"], env=env, cwd=REPO,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def health(self) -> dict | None:
        """The /health document (also when it says 503, failing); None while it is down."""
        if self.proc.poll() is not None:
            pytest.fail(f"worker exited with {self.proc.returncode}:\n{self.tail()}")
        return self.health_or_none()

    def health_or_none(self) -> dict | None:
        return read_health(int(self.env["FIRESTORM_WEB_PORT"]))

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        stop_process(self.proc, 30)
        self._log.close()


def read_health(port: int) -> dict | None:
    """A worker's /health document (also when it says 503, failing); None while it is down."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())
    except (OSError, ValueError):
        return None


def stop_process(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def create_topics(env: dict[str, str]) -> None:
    """The topics a worker with ``env`` creates at start, made now (``firestorm produce``
    refuses a topic that does not exist)."""
    from streams.settings import Settings
    from streams.topics import ensure_topics

    ensure_topics(Settings.from_env(env))


def create_topic(bootstrap: str, name: str, partitions: int = 1,
                 configs: dict[str, str] | None = None) -> None:
    """One topic on the broker, made now (a test that needs it before any worker runs)."""
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                      topic_configs=configs or {})])
    finally:
        admin.close()


def group_offsets(bootstrap: str, group: str) -> dict[tuple[str, int], int]:
    """The consumer group's committed offsets, as the broker has them.

    A fresh broker makes its offsets topic on the first group lookup and answers
    "coordinator not available" until it has: that is retried, not a test failure.
    """
    from kafka import KafkaAdminClient
    from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        for attempt in range(30):
            try:
                offsets = admin.list_group_offsets(group).get(group, {})
                break
            except (CoordinatorNotAvailableError, CoordinatorLoadInProgressError):
                if attempt == 29:
                    raise
                time.sleep(1.0)
    finally:
        admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}


def end_offsets(bootstrap: str, topic: str) -> dict[tuple[str, int], int]:
    """The next offset of every partition of ``topic`` (what a caught-up group commits)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return {(tp.topic, tp.partition): o for tp, o in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


def worker_env(kafka_bootstrap: str, redis_url: str, data_dir: Path) -> dict[str, str]:
    """Environment for one isolated worker (and its CLI): uuid app id and topic names."""
    import os
    import uuid

    run = uuid.uuid4().hex[:10]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRESTORM_")}
    env.update(
        FIRESTORM_KAFKA_BOOTSTRAP=kafka_bootstrap, FIRESTORM_REDIS_URL=redis_url,
        FIRESTORM_APP_ID=f"test-{run}", FIRESTORM_TOPIC_MENTIONS=f"mentions-{run}",
        FIRESTORM_TOPIC_DEAD=f"dead-{run}", FIRESTORM_TOPIC_OBSERVATIONS=f"obs-{run}",
        FIRESTORM_DATA_DIR=str(data_dir), FIRESTORM_WEB_PORT=str(free_port()),
        FIRESTORM_PSEUDONYM_KEY="test-key", FIRESTORM_BATCH_WAIT="0.2",
        FIRESTORM_IDLE_SECONDS="5",
        FIRESTORM_WATCHLIST=str(REPO / "deploy" / "examples" / "watchlist.yaml"),
    )
    return env


class Pages:
    """A real ``firestorm pages`` process on a free port, up once /login answers."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        import urllib.request

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen([*FIRESTORM, "pages"], cwd=REPO,
                                         env={**env, "FIRESTORM_PAGES_PORT": str(self.port)},
                                         stdout=out, stderr=subprocess.STDOUT)

        def up() -> bool:
            if self.proc.poll() is not None:
                text = log.read_text(errors="replace")
                pytest.fail(f"`firestorm pages` exited with {self.proc.returncode}:"
                            f"\n{text[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/login", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        try:
            wait_for(up, 30, f"`firestorm pages` on {self.url}", every=0.1)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def firestorm(*args: str, env: dict[str, str], stdin: bytes | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*FIRESTORM, *args], env=env, cwd=REPO, input=stdin,
                          capture_output=True, timeout=timeout, check=False)


def retimed_sample(path: Path, end: float | None = None) -> list[bytes]:
    """The demo sample with valid timestamps shifted to end at ``end``.

    By default the end is a random minute of the past year: incident ids come
    from event time, so every run gets its own and runs never collide in Redis.
    """
    lines = (REPO / "deploy" / "examples" / "sample-mentions.jsonl").read_bytes().splitlines()
    if end is None:
        end = time.time() - 60 * random.randrange(1, 525_600)
    stamps = []
    for line in lines:
        try:
            data = json.loads(line)
            stamps.append(float(data["ts"]) if isinstance(data, dict) else None)
        except (ValueError, KeyError, TypeError):
            stamps.append(None)
    # The sample's deliberately-future line stays in the future, so still rejected.
    plausible = time.time() + 86_400
    shift = end - max(t for t in stamps if t is not None and t < plausible)
    out = []
    for line, ts in zip(lines, stamps, strict=True):
        if ts is not None and ts < plausible:
            data = json.loads(line)
            data["ts"] = round(ts + shift, 3)
            line = json.dumps(data).encode()
        out.append(line)
    path.write_bytes(b"\n".join(out) + b"\n")
    return out
