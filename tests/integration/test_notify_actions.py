"""`firestorm notify` on a real Redis with the officer's actions: signed ack links in the
message, a silence holding back what it covers (and naming itself where a critical still
goes out), and an unacknowledged critical escalated to the policy's next tier."""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from alerting.action_store import RedisActionStore
from alerting.links import verify_link
from alerting.silence import Silence
from alerting.store import open_store
from streams.commands import notify
from streams.settings import Settings
from tests.integration.support import RedisServer, RedisServers, wait_for
from tests.integration.test_notifiers import HookServer, event, group_ready, hooks  # noqa: F401

pytestmark = pytest.mark.integration

KEY = "notify-actions-test-key-0123456789abcdef"


@pytest.fixture
def redis_server(redis_server_factory: RedisServers) -> RedisServer:
    return redis_server_factory(persistent=False)


def start(policy: Path, url: str) -> tuple[threading.Thread, list[int]]:
    parser = argparse.ArgumentParser()
    notify.add_parser(parser.add_subparsers())
    args = parser.parse_args(["notify", "--policy", str(policy), "--max-seconds", "12"])
    args.settings = Settings.from_env({"FIRESTORM_REDIS_URL": url, "FIRESTORM_LINK_KEY": KEY})
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(args.func(args)), daemon=True)
    thread.start()
    return thread, result


def test_links_silences_and_the_next_tier(redis_server: RedisServer, hooks,  # noqa: F811
                                          tmp_path: Path) -> None:
    duty, manager = HookServer(), HookServer()
    hooks += [duty, manager]
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"""
channels:
  duty: {{type: webhook, url: "{duty.url}", timeout: 2}}
  manager: {{type: webhook, url: "{manager.url}", timeout: 2}}
routes: [{{severities: [warning, critical], channels: [duty]}}]
escalation: [{{after_minutes: 0.05, channels: [manager]}}]   # 3 s
pages_url: "https://firestorm.example"
retry: {{attempts: 2, backoff_seconds: 0.05}}
""")
    actions = RedisActionStore(redis_server.url)
    now = time.time()
    actions.add_silence(Silence.make("acme", scope="entity", linked=(), until=now + 600,
                                     by="kim", why="known campaign", now=now))
    client = redis.Redis.from_url(redis_server.url)
    thread, result = start(policy, redis_server.url)
    wait_for(lambda: group_ready(client), 10, "the notify consumer group")
    store = open_store(redis_server.url)
    store.publish(event(severity="warning", entity="acme", stamp="20240501T110000"))  # silenced
    critical = event(severity="critical", entity="acme", stamp="20240501T120000")
    store.publish(critical)
    wait_for(lambda: manager.texts(), 10, "the escalation to the next tier")
    thread.join(timeout=30)
    assert result == [0]

    [told] = duty.texts()  # the warning was held back by the silence; the critical went out
    assert "CRITICAL opened" in told
    assert "Silence: silenced until" in told and "by kim: known campaign; critical still" in told
    url = next(w for w in told.split() if w.startswith("https://firestorm.example/ack/"))
    claim = verify_link(KEY.encode(), urlsplit(url).path.rsplit("/", 1)[1], time.time(), "ack")
    assert (claim.incident_id, claim.channel) == (critical.incident_id, "duty")
    [escalated] = manager.texts()
    assert escalated.startswith("*CRITICAL ESCALATED TO TIER 1, still unacknowledged: Acme")
    store.close()
    actions.close()
