"""Fixtures for tests against the real local Kafka broker and Redis server.

``make test`` starts both (deploy/local/with-stack.sh) and exports their
addresses. A missing service fails the test with the command that starts it:
integration tests are never silently skipped.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.support import REPO, RedisServers, Worker, free_port, wait_for


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


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


@pytest.fixture
def redis_server_factory(tmp_path: Path) -> Iterator[RedisServers]:
    """Throwaway redis-servers of this test's own, stopped when it ends.

    ``redis_server_factory()`` persists (AOF, fsync always);
    ``redis_server_factory(persistent=False)`` loses everything on restart.
    """
    servers = RedisServers(tmp_path)
    yield servers
    servers.stop_all()


@pytest.fixture(scope="module")
def module_redis_server_factory(
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServers]:
    """Like ``redis_server_factory``, for servers shared by a module's tests."""
    servers = RedisServers(tmp_path_factory.mktemp("redis"))
    yield servers
    servers.stop_all()


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
        FIRESTORM_IDLE_SECONDS="5",
        FIRESTORM_WATCHLIST=str(REPO / "deploy" / "examples" / "watchlist.yaml"),
    )
    return env


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
