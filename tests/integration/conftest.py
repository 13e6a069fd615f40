"""Fixtures for tests against the real local Kafka broker and Redis server.

``make test`` starts both (deploy/local/with-stack.sh) and exports their
addresses. A missing service fails the test with the command that starts it:
integration tests are never silently skipped.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    RedisServers,
    Worker,
    wait_for,
    worker_env,
)


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
    return worker_env(kafka_bootstrap, redis_url, tmp_path / "worker")


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


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """A fresh headless Chromium context (its own profile dir), from Debian, not Playwright."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: run deploy/local/test-tools.sh (apt-get install"
                    " chromium); these tests never download a browser")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, accept_downloads=True)
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()
