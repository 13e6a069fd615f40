"""Fixtures for tests against the real local Kafka broker and Redis server.

``make test`` starts both (deploy/local/with-stack.sh) and exports their
addresses. A missing service fails the test with the command that starts it:
integration tests are never silently skipped.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIRESTORM = [sys.executable, "-m", "streams.cli"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


def wait_for(check: Callable[[], object], timeout: float, what: str, every: float = 0.2):
    """Poll ``check`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def _reachable(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    address = os.environ.get("FIRESTORM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    if not _reachable(address):
        pytest.fail(f"no Kafka broker at {address}: run the tests with `make test`"
                    " (or start one with deploy/local/stack.sh start)")
    return address


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("FIRESTORM_REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"no Redis at {url} ({exc}): run the tests with `make test`")
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stream_env(kafka_bootstrap: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for one isolated worker: uuid app id and topic names."""
    run = uuid.uuid4().hex[:10]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRESTORM_")}
    env.update(
        FIRESTORM_KAFKA_BOOTSTRAP=kafka_bootstrap, FIRESTORM_REDIS_URL=redis_url,
        FIRESTORM_APP_ID=f"test-{run}", FIRESTORM_TOPIC_MENTIONS=f"mentions-{run}",
        FIRESTORM_TOPIC_DEAD=f"dead-{run}", FIRESTORM_TOPIC_OBSERVATIONS=f"obs-{run}",
        FIRESTORM_DATA_DIR=str(tmp_path / "worker"), FIRESTORM_WEB_PORT=str(free_port()),
        FIRESTORM_PSEUDONYM_KEY="test-key", FIRESTORM_BATCH_WAIT="0.2",
        FIRESTORM_WATCHLIST=str(REPO / "deploy" / "examples" / "watchlist.yaml"),
    )
    return env


class Worker:
    """A real ``firestorm worker`` process, with its health endpoint."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log_path = env, log
        self._log = log.open("wb")
        self.proc = subprocess.Popen([*FIRESTORM, "worker"], env=env, cwd=REPO,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def health(self) -> dict | None:
        import urllib.request

        if self.proc.poll() is not None:
            pytest.fail(f"worker exited with {self.proc.returncode}:\n{self.tail()}")
        url = f"http://127.0.0.1:{self.env['FIRESTORM_WEB_PORT']}/health"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            return None

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Worker]]:
    workers: list[Worker] = []

    def start(env: dict[str, str]) -> Worker:
        worker = Worker(env, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        wait_for(worker.health, 90, "the worker's health endpoint")
        return worker

    yield start
    for worker in workers:
        worker.stop()


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
    shift = end - max(t for t in stamps if t is not None and t < end + 86_400)
    out = []
    for line, ts in zip(lines, stamps, strict=True):
        if ts is not None and ts < end + 86_400 - shift:
            data = json.loads(line)
            data["ts"] = round(ts + shift, 3)
            line = json.dumps(data).encode()
        out.append(line)
    path.write_bytes(b"\n".join(out) + b"\n")
    return out
