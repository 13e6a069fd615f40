"""Notifiers against real receivers: a local HTTP server, a local SMTP server, a real Redis.

Everything listens on 127.0.0.1 at a free port; nothing leaves the machine.
The HTTP receiver can be told to answer 500 a few times, or not be running at
all, to show retries and the failed set; ``firestorm notify`` runs in-process
against a throwaway redis-server of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller

from alerting.event import AlertEvent
from alerting.notifiers.email import EmailNotifier
from alerting.notifiers.journal import MemoryJournal
from alerting.notifiers.notification import Notification
from alerting.notifiers.outbox import Outbox
from alerting.notifiers.policy import EmailChannel, Retry, WebhookChannel
from alerting.notifiers.redis_journal import GROUP
from alerting.notifiers.webhook import WebhookNotifier
from alerting.store import open_store
from models.verdict import Evidence, Sample
from streams.commands import notify
from streams.settings import Settings
from tests.integration.support import RedisServer, RedisServers, free_port, wait_for

pytestmark = pytest.mark.integration

FAST = Retry(attempts=3, backoff_seconds=0.05, max_backoff_seconds=0.2)
HOSTILE = "<!channel> @here boycott <script>alert(1)</script> & [click](http://evil.example)"


def event(kind: str = "opened", severity: str = "critical", seq: int = 1,
          entity: str = "acme", stamp: str | None = None, **kw) -> AlertEvent:
    stamp = stamp or time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return AlertEvent(f"{entity}-{stamp}Z", seq, kind, entity, "Acme Stores", "partner",
                      severity, time.time(), 90, 8.5, 0.8, 0.3, 9.1,
                      reasons=("90 mentions in a minute, 10.6x the recent mean of 8.5",),
                      evidence=Evidence(samples=(Sample("p1", "user-1", HOSTILE),),
                                        top_hashtags=(("#boycottacme", 9),)),
                      owner="DWP", **kw)


class HookServer:
    """A webhook receiver: records each POST; answers from ``statuses`` first, then 200."""

    def __init__(self, port: int = 0, statuses: tuple[int, ...] = ()) -> None:
        self.attempts: list[int] = []
        self.received: list[dict] = []
        self.arrived: list[float] = []  # wall clock of each accepted POST
        self.statuses = list(statuses)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    status = server.statuses.pop(0) if server.statuses else 200
                    server.attempts.append(status)
                    if status == 200:
                        server.received.append(body)
                        server.arrived.append(time.time())
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"error")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def texts(self) -> list[str]:
        with self._lock:
            return [b["text"] for b in self.received]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def hooks() -> Iterator[list[HookServer]]:
    started: list[HookServer] = []
    yield started
    for server in started:
        server.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def deliver(outbox: Outbox, *notifications: Notification) -> list[bool]:
    async def go() -> list[bool]:
        await outbox.journal.commit(notifications)
        return [await outbox.deliver(n) for n in notifications]
    return asyncio.run(go())


# -- webhook ----------------------------------------------------------------------------

def test_webhook_posts_text_with_severity_entity_and_link(hooks) -> None:
    hook = HookServer()
    hooks.append(hook)
    notifier = WebhookNotifier(WebhookChannel("duty", hook.url),
                               link=lambda i: f"https://fs.example/incidents/{i}")
    journal = MemoryJournal()
    e = replace(event(), window_seconds=300.0)
    assert deliver(Outbox({"duty": notifier}, journal, FAST), Notification("duty", e, 0.0)) \
        == [True]
    [body] = hook.received
    assert set(body) == {"text"}  # the shape Slack and Teams incoming webhooks both take
    text = body["text"]
    assert "CRITICAL opened: Acme Stores (partner)" in text
    assert "How big: 90 mentions in 5 min, usually 8.5 (10.6x)" in text
    assert "How negative: 80% of them negative, usually 30%" in text
    assert f"https://fs.example/incidents/{e.incident_id}" in text
    assert asyncio.run(journal.pending()) == []


def test_webhook_escapes_post_text_so_it_cannot_ping_or_inject(hooks) -> None:
    hook = HookServer()
    hooks.append(hook)
    notifier = WebhookNotifier(WebhookChannel("duty", hook.url))
    deliver(Outbox({"duty": notifier}, MemoryJournal(), FAST), Notification("duty", event(),
                                                                            0.0))
    text = hook.texts()[0]
    assert "<!channel>" not in text and "@here" not in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "](http" not in text
    assert "&lt;!\u200bchannel&gt;" in text and "@\u200bhere" in text


def test_webhook_500_twice_then_200_is_delivered_after_retries(hooks) -> None:
    hook = HookServer(statuses=(500, 500))
    hooks.append(hook)
    journal = MemoryJournal()
    outbox = Outbox({"duty": WebhookNotifier(WebhookChannel("duty", hook.url))}, journal,
                    FAST, rng=random.Random(1))
    assert deliver(outbox, Notification("duty", event(), 0.0)) == [True]
    assert hook.attempts == [500, 500, 200]
    assert len(hook.received) == 1
    assert asyncio.run(journal.pending()) == [] and asyncio.run(journal.failed()) == []


def test_webhook_down_is_reported_failed_kept_and_delivered_when_it_is_back(
        hooks, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens here yet
    journal = MemoryJournal()
    channel = WebhookChannel("duty", f"http://127.0.0.1:{port}/hook", timeout=2.0)
    outbox = Outbox({"duty": WebhookNotifier(channel)}, journal, FAST)
    n = Notification("duty", event(), 0.0)
    assert deliver(outbox, n) == [False]
    [failure] = asyncio.run(journal.failed())
    assert failure.notification == n and failure.attempts == 3
    assert "webhook 'duty'" in failure.error and str(port) not in failure.error  # URL is secret
    assert any(r.levelname == "ERROR" and f"id={n.id}" in r.getMessage()
               for r in caplog.records)

    hook = HookServer(port=port)
    hooks.append(hook)
    assert asyncio.run(outbox.replay_failed()) == (1, 0)
    assert len(hook.received) == 1
    assert asyncio.run(journal.failed()) == [] and asyncio.run(journal.pending()) == []


def test_webhook_404_is_not_retried_but_kept(hooks) -> None:
    hook = HookServer(statuses=(404,))
    hooks.append(hook)
    journal = MemoryJournal()
    outbox = Outbox({"duty": WebhookNotifier(WebhookChannel("duty", hook.url))}, journal, FAST)
    assert deliver(outbox, Notification("duty", event(), 0.0)) == [False]
    assert hook.attempts == [404]
    assert "HTTP 404" in asyncio.run(journal.failed())[0].error


# -- email ------------------------------------------------------------------------------

def test_email_arrives_as_plain_text_with_severity_and_entity_in_the_subject(smtp) -> None:
    inbox, port = smtp
    channel = EmailChannel("duty-email", ("duty@dept.example",), "firestorm@dept.example",
                           smtp=f"smtp://127.0.0.1:{port}")
    e = event()
    outbox = Outbox({"duty-email": EmailNotifier(channel)}, MemoryJournal(), FAST)
    assert deliver(outbox, Notification("duty-email", e, 0.0)) == [True]
    [msg] = inbox.messages
    assert msg["Subject"] == "[Firestorm] CRITICAL opened: Acme Stores (partner)"
    assert msg["To"] == "duty@dept.example"
    assert inbox.envelopes[0].rcpt_tos == ["duty@dept.example"]
    assert not msg.is_multipart() and msg.get_content_type() == "text/plain"
    body = msg.get_content()
    assert "<script>alert(1)</script>" in body  # shown as the text it is, never rendered
    assert "Owner: DWP" in body and f"firestorm ack {e.incident_id}" in body
    assert e.incident_id.replace(":", ".") in msg["Message-ID"]


def test_email_to_a_server_that_is_down_is_kept_then_sent(smtp) -> None:
    inbox, _ = smtp
    port = free_port()
    channel = EmailChannel("duty-email", ("duty@dept.example",), "firestorm@dept.example",
                           smtp=f"smtp://127.0.0.1:{port}", timeout=2.0)
    journal = MemoryJournal()
    outbox = Outbox({"duty-email": EmailNotifier(channel)}, journal, FAST)
    assert deliver(outbox, Notification("duty-email", event(), 0.0)) == [False]
    assert len(asyncio.run(journal.failed())) == 1
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert asyncio.run(outbox.replay_failed()) == (1, 0)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


# -- firestorm notify against a real Redis ---------------------------------------------

@pytest.fixture
def redis_server(redis_server_factory: RedisServers) -> RedisServer:
    return redis_server_factory()


def start_notify(policy: Path, url: str, *flags: str,
                 port: int = 0) -> tuple[threading.Thread, list[int]]:
    parser = argparse.ArgumentParser()
    notify.add_parser(parser.add_subparsers())
    args = parser.parse_args(["notify", "--policy", str(policy), *flags])
    args.settings = Settings.from_env({"FIRESTORM_REDIS_URL": url,
                                       "FIRESTORM_NOTIFY_PORT": str(port or free_port())})
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(args.func(args)), daemon=True)
    thread.start()
    return thread, result


def get(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def scrape(port: int) -> dict[str, float]:
    """GET /metrics, parsed into {'name{labels}': value} (comments dropped)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


def write_policy(path: Path, hook_url: str) -> Path:
    path.write_text(f"""
channels:
  duty: {{type: webhook, url: "{hook_url}", timeout: 2}}
routes:
  - {{severities: [warning, critical], channels: [duty]}}
renotify_critical_minutes: 0.05     # 3 s
retry: {{attempts: 2, backoff_seconds: 0.05}}
""")
    return path


def group_ready(client: redis.Redis) -> bool:
    try:
        return any(g["name"] == GROUP.encode() for g in client.xinfo_groups("firestorm:alerts:log"))
    except redis.ResponseError:
        return False


def test_notify_delivers_from_the_alert_log_and_renotifies_until_acknowledged(
        redis_server: RedisServer, hooks, tmp_path: Path) -> None:
    hook = HookServer()
    hooks.append(hook)
    client = redis.Redis.from_url(redis_server.url)
    port = free_port()
    thread, result = start_notify(write_policy(tmp_path / "policy.yaml", hook.url),
                                  redis_server.url, "--max-seconds", "10", port=port)
    wait_for(lambda: group_ready(client), 10, "the notify consumer group")
    assert get(port, "/health") == (200, {"status": "ok", "component": "notify"})
    assert wait_for(lambda: get(port, "/ready")[0] == 200, 5, "notify to be ready")
    store = open_store(redis_server.url)
    opened = event(stamp="20240501T120000")
    store.publish(opened)
    store.publish(event(severity="watch", entity="other"))  # no route for watch

    wait_for(lambda: any("REMINDER 1" in t for t in hook.texts()), 8, "a re-notification")
    texts = hook.texts()
    assert "CRITICAL opened: Acme Stores" in texts[0]
    assert sum("CRITICAL opened" in t for t in texts) == 1

    store.publish(event("acknowledged", seq=2, stamp="20240501T120000", acknowledged_by="jo"))
    wait_for(lambda: any("acknowledged by jo" in t for t in hook.texts()), 8, "the ack notice")
    seen = len(hook.texts())
    delivered = 'firestorm_notifications_total{channel="duty",outcome="delivered"}'
    # The deliveries so far, as Prometheus sees them: the outbox counts one once the hook
    # has answered, a moment after the hook holds its text (a CI run under load scraped
    # in between and saw 2).
    scraped = wait_for(lambda: (lambda m: m if m.get(delivered, 0) >= 3 else None)(
        scrape(port)), 8, "the third delivery counted")
    alerts = 'firestorm_alerts_total{component="notify",event="%s",severity="critical"}'
    assert scraped[alerts % "opened"] == 1 and scraped[alerts % "acknowledged"] == 1
    assert scraped["firestorm_outbox_depth"] == 0
    thread.join(timeout=20)
    assert result == [0]
    assert len(hook.texts()) == seen  # no reminder after the acknowledgement
    state = json.loads(client.get("firestorm:notify:state"))
    assert state["watching"] == [] and opened.incident_id in state["closed"]
    assert client.xpending("firestorm:alerts:log", GROUP)["pending"] == 0  # all acked
    assert client.hlen("firestorm:notify:pending") == 0
    store.close()


def test_notify_keeps_failed_deliveries_in_redis_and_sends_them_on_the_next_run(
        redis_server: RedisServer, hooks, tmp_path: Path) -> None:
    port = free_port()  # the webhook receiver is down for the first run
    policy = write_policy(tmp_path / "policy.yaml", f"http://127.0.0.1:{port}/hook")
    client = redis.Redis.from_url(redis_server.url)
    metrics_port = free_port()
    thread, result = start_notify(policy, redis_server.url, "--max-seconds", "5",
                                  port=metrics_port)
    wait_for(lambda: group_ready(client), 10, "the notify consumer group")
    store = open_store(redis_server.url)
    store.publish(event(severity="warning"))
    wait_for(lambda: client.hlen("firestorm:notify:failed") == 1, 10, "a failed notification")
    failed = 'firestorm_notifications_total{channel="duty",outcome="failed"}'
    wait_for(lambda: scrape(metrics_port).get(failed) == 1, 5, "the failure in /metrics")
    thread.join(timeout=20)
    assert result == [0]
    [failure] = [json.loads(v) for v in client.hvals("firestorm:notify:failed")]
    assert failure["attempts"] == 2 and "webhook 'duty'" in failure["error"]

    hook = HookServer(port=port)
    hooks.append(hook)
    thread, result = start_notify(policy, redis_server.url, "--once")
    thread.join(timeout=20)
    assert result == [0]
    assert len(hook.texts()) == 1 and "WARNING opened: Acme Stores" in hook.texts()[0]
    assert client.hlen("firestorm:notify:failed") == 0
    assert client.hlen("firestorm:notify:pending") == 0
    store.close()


def test_an_event_published_while_notify_idles_for_a_minute_reaches_the_webhook_in_2s(
        redis_server: RedisServer, hooks, tmp_path: Path, caplog) -> None:
    # The blocking read of the alert log must not outlast the Redis client's socket
    # timeout: when it did (redis-py 8 defaults to 5 s), every idle read ended in a
    # false "Timeout reading", notify backed off for up to 30 s, and a new alert
    # waited for the backoff to end.
    hook = HookServer()
    hooks.append(hook)
    client = redis.Redis.from_url(redis_server.url)
    thread, result = start_notify(write_policy(tmp_path / "policy.yaml", hook.url),
                                  redis_server.url, "--max-seconds", "75")
    wait_for(lambda: group_ready(client), 10, "the notify consumer group")
    time.sleep(60)  # idle: nothing in the log for a minute (the point of the test)
    # With Redis healthy, an idle minute is not a failure: no backoff was started.
    failing = [r.getMessage() for r in caplog.records if "redis failing" in r.getMessage()]
    assert not failing, f"notify backed off while idle: {failing[:2]}"
    store = open_store(redis_server.url)
    published = time.time()
    store.publish(event(severity="warning"))
    wait_for(lambda: hook.arrived, 30, "the webhook call")
    delay = hook.arrived[0] - published
    assert delay < 2.0, f"the alert reached the webhook {delay:.1f}s after it was published"
    thread.join(timeout=30)
    assert result == [0]
    store.close()



def test_notify_pages_when_the_worker_goes_silent_and_again_when_it_is_back(
        redis_server: RedisServer, hooks, tmp_path: Path, monkeypatch) -> None:
    from alerting.liveness import Heartbeat

    monkeypatch.setattr(notify, "LIVENESS_SECONDS", 0.5)  # judge often: this test is short
    hook = HookServer()
    hooks.append(hook)
    policy = write_policy(tmp_path / "policy.yaml", hook.url)
    policy.write_text(policy.read_text() + "deadman: {worker_silent_minutes: 0.05}\n")  # 3 s
    store = open_store(redis_server.url)
    store.beat(Heartbeat("firestorm@host:1", time.time(), last_input_at=time.time()))
    thread, result = start_notify(policy, redis_server.url, "--max-seconds", "15")
    wait_for(lambda: any("worker silent for" in t for t in hook.texts()), 12,
             "the dead-man alert")
    [silent] = [t for t in hook.texts() if "worker silent" in t]
    assert silent.startswith("*CRITICAL worker silent for") and "NOT a quiet night" in silent
    store.beat(Heartbeat("firestorm@host:2", time.time(), last_input_at=time.time()))
    wait_for(lambda: any("worker back" in t for t in hook.texts()), 12, "the all-clear")
    assert sum("worker silent" in t for t in hook.texts()) == 1  # told once
    thread.join(timeout=30)
    assert result == [0]
    store.close()


def test_notify_reads_the_new_log_after_redis_lost_the_old_one(hooks, tmp_path: Path,
                                                                redis_server_factory) -> None:
    server = redis_server_factory(persistent=False)
    hook = HookServer()
    hooks.append(hook)
    client = redis.Redis.from_url(server.url)
    thread, result = start_notify(write_policy(tmp_path / "policy.yaml", hook.url),
                                  server.url, "--max-seconds", "20")
    wait_for(lambda: group_ready(client), 10, "the notify consumer group")
    server.crash()
    server.start()  # empty: no log, no group
    store = open_store(server.url)
    store.publish(event(severity="warning"))
    wait_for(lambda: hook.texts(), 15, "the alert stored after the restart")
    assert "WARNING opened: Acme Stores" in hook.texts()[0]
    thread.join(timeout=30)
    assert result == [0]
    store.close()


def test_notify_waits_for_redis_at_start_up_and_delivers_what_the_last_run_left(
        redis_server_factory) -> None:
    # Seen under load: Redis went away just after notify created its consumer group,
    # while it read the last run's state and hand-over; notify died with a traceback and
    # the notification the last run had not delivered waited for a restart. It now
    # waits for Redis, as its main loop does, and finds the hand-over.
    from alerting.notifiers.redis_journal import RedisJournal

    server = redis_server_factory()  # persistent: the hand-over survives the crash
    handed_over = Notification("duty", event(), 0.0)

    async def scenario() -> tuple[object, list[Notification], list[Notification]]:
        journal = RedisJournal(server.url)
        try:
            await journal.ensure_group()
            await journal.commit([handed_over])
            server.crash()
            restart = threading.Timer(1.5, server.start)
            restart.start()
            try:
                return await asyncio.wait_for(notify.recover(journal, max_backoff=0.5), 30)
            finally:
                restart.join()
        finally:
            await journal.close()

    _state, waiting, failed = asyncio.run(scenario())
    assert [n.id for n in waiting] == [handed_over.id] and failed == []
