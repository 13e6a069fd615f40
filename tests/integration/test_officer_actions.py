"""Acting on an incident from anywhere, end to end: real Kafka, worker, Redis, pages, Chromium.

One worker takes the retimed demo sample (a boycott storm on Acme Stores that
also opens its linked Work Programme). Then:

- the incident page's Acknowledge button in Chromium: through the pages, Kafka
  and the worker, and back with the worker's answer;
- a signed ``/ack/<token>`` link: forged, tampered, expired, confirmed without
  the page's form token, used, replayed and reused; each gets its own page;
- ``firestorm ack`` answers with its own exit code per outcome; a topic that
  does not exist is refused and stays absent; nobody reading gives "no answer";
- the audit of who acknowledged, from where.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from alerting.action_store import RedisActionStore
from alerting.links import LinkClaim, sign_link
from alerting.redis_store import RedisAlertStore
from tests.integration.support import (
    Pages,
    Worker,
    create_topic,
    firestorm,
    retimed_sample,
    wait_for,
    worker_env,
)

pytestmark = pytest.mark.integration

TOKEN = "officer-test-pages-token-5e1d"
LINK_KEY = "officer-test-link-key-0123456789abcdef-xyz"


@pytest.fixture(scope="module")
def env(kafka_bootstrap: str, redis_url: str,
        tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**worker_env(kafka_bootstrap, redis_url, tmp_path_factory.mktemp("worker")),
            "FIRESTORM_PAGES_TOKEN": TOKEN, "FIRESTORM_LINK_KEY": LINK_KEY}


@pytest.fixture(scope="module")
def incidents(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory,
              redis_url: str) -> Iterator[dict[str, str]]:
    """A running worker that has opened the storm's incidents: entity id -> incident id."""
    tmp = tmp_path_factory.mktemp("storm")
    worker = Worker(env, tmp / "worker.log")
    store = RedisAlertStore(redis_url)
    try:
        wait_for(worker.health, 90, "the worker's health endpoint")
        lines = retimed_sample(tmp / "sample.jsonl")
        produced = firestorm("produce", "--input", str(tmp / "sample.jsonl"), env=env)
        assert produced.returncode == 0, produced.stderr.decode()
        wait_for(lambda: (h := worker.health()) and h["received"] == len(lines), 120,
                 "the worker to take in the sample")

        first, last = _span(lines)

        def opened() -> dict[str, str] | None:  # this run's: Redis is shared with other tests
            found = {r.entity_id: r.incident_id for r in store.open_incidents()
                     if r.opened_at is not None and first <= r.opened_at <= last + 60}
            return found if {"acme-stores", "work-programme"} <= set(found) else None

        yield wait_for(opened, 90, "the storm's incidents", show=worker.tail)
    finally:
        store.close()
        worker.stop()


def _span(lines: list[bytes]) -> tuple[float, float]:
    """The event-time span of the retimed sample (its future-dated bad line left out)."""
    stamps = []
    for line in lines:
        try:
            stamps.append(float(json.loads(line)["ts"]))
        except (ValueError, KeyError, TypeError):
            continue
    plausible = [t for t in stamps if t < time.time() + 3600]
    return min(plausible), max(plausible)


@pytest.fixture(scope="module")
def pages_url(env: dict[str, str], incidents: dict[str, str],
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pages = Pages(env, tmp_path_factory.mktemp("pages") / "pages.log")
    try:
        yield pages.url
    finally:
        pages.stop()


def _token(incident_id: str, *, expires_in: float = 3600.0, nonce: str | None = None,
           key: str = LINK_KEY) -> str:
    claim = LinkClaim("ack", incident_id, time.time() + expires_in, nonce or uuid.uuid4().hex,
                      "duty-slack")
    return sign_link(key.encode(), claim)


class Browserless:
    """A cookie-keeping HTTP client: what a phone's browser does with a link, minus drawing."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, url: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(url))

    def post(self, url: str, form: dict[str, str]) -> tuple[int, str]:
        return self._open(urllib.request.Request(
            url, data=urllib.parse.urlencode(form).encode(), method="POST"))

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert match, page
    return match.group(1)


def test_the_acknowledge_button_on_the_incident_page_goes_through_the_worker(
        browser, pages_url, incidents, redis_url):
    incident = incidents["work-programme"]
    tab = browser.new_page()
    tab.goto(f"{pages_url}/incidents/{incident}")
    tab.fill("input[name=token]", TOKEN)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"**/incidents/{incident}")
    form = tab.locator("form.ack")
    form.locator("input[name=by]").fill("duty-officer")
    form.locator("button.ack").click()
    answer = tab.locator("[data-outcome]")
    assert answer.get_attribute("data-outcome") == "recorded", tab.inner_text("main")
    assert f"Recorded: {incident} acknowledged by duty-officer" in answer.inner_text()
    # Everyone sees it: the record, the page, and the audit says who and from where.
    record = RedisAlertStore(redis_url).incident(incident)
    assert record is not None and record.acknowledged_by == "duty-officer"
    tab.click("text=Back to the incident")
    assert "Acknowledged by duty-officer" in tab.inner_text("section.actions")
    assert "acknowledge by duty-officer via page from 127.0.0.1: recorded" in \
        tab.inner_text("ul.audit")
    # A second press from another tab is answered "already acknowledged", not repeated.
    status, page = _ack_from_page(pages_url, incident)
    assert status == 409 and f"{incident} was already acknowledged by duty-officer" in page
    tab.close()


def _ack_from_page(pages_url: str, incident: str) -> tuple[int, str]:
    client = Browserless()
    client.post(f"{pages_url}/login", {"token": TOKEN, "next": "/"})
    _, page = client.get(f"{pages_url}/incidents/{incident}")
    return client.post(f"{pages_url}/incidents/{incident}/ack",
                       {"by": "someone-else", "csrf": _csrf(page)})


def test_a_signed_link_acknowledges_once_and_refuses_forgery_expiry_replay_and_reuse(
        pages_url, incidents, redis_url):
    incident = incidents["acme-stores"]
    base = f"{pages_url}/ack/"
    token = _token(incident)

    # Forged: another key, a flipped signature, a tampered incident: 403, nothing shown.
    for bad in (_token(incident, key="not-our-key-but-long-enough-0123456789"),
                token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
                token.replace(token.split(".")[1], _token("universal-credit-20240101T000000Z")
                              .split(".")[1])):
        status, page = Browserless().get(base + bad)
        assert status == 403 and "This link is not valid" in page.replace("this link", "This link")
        assert "Acme" not in page
    # Expired: 410, says when, points at the other ways.
    status, page = Browserless().get(base + _token(incident, expires_in=-60))
    assert status == 410 and "Link expired" in page and f"firestorm ack {incident}" in page

    # A confirmation that did not come from the link's own page (no cookie, no form token).
    status, page = Browserless().post(base + token, {"by": "mallory", "csrf": "0" * 64})
    assert status == 403 and "Confirmation not valid" in page

    # The real thing: open the link (no sign-in), confirm with a name.
    phone = Browserless()
    status, page = phone.get(base + token)
    assert status == 200 and "Acknowledge this incident?" in page and "Acme Stores" in page
    form = {"by": "duty-officer", "csrf": _csrf(page)}
    status, page = phone.post(base + token, form)
    assert status == 200 and "Recorded:" in page, page
    assert f"{incident} acknowledged by duty-officer" in page
    record = RedisAlertStore(redis_url).incident(incident)
    assert record is not None and record.acknowledged_by == "duty-officer"

    # Replayed: the same confirmation sent again.
    status, page = phone.post(base + token, form)
    assert status == 409 and "already used by duty-officer" in page
    # Reused: the link opened again, on another phone.
    status, page = Browserless().get(base + token)
    assert status == 409 and "already used by duty-officer" in page and "works once" in page

    # The audit: who, via the link, from which address and channel; the refusals too.
    audit = RedisActionStore(redis_url).audit(incident)
    acks = [e for e in audit if e.action == "acknowledge"]
    assert [(e.by, e.via, e.origin, e.outcome) for e in acks] == [
        ("duty-officer", "link", "127.0.0.1 via duty-slack", "recorded")]
    refused = {e.outcome for e in audit if e.action == "link-refused"}
    assert refused == {"expired", "csrf"}


@pytest.fixture
def ack(monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]):
    """`firestorm ack` in this process (the installed command's main()): no start-up cost."""
    from streams.cli import main

    def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
        with monkeypatch.context() as m:
            for name in [k for k in os.environ if k.startswith("FIRESTORM_")]:
                m.delenv(name)
            for name, value in env.items():
                if name.startswith("FIRESTORM_"):
                    m.setenv(name, value)
            code = main(["ack", *args])
        out, err = capsysbinary.readouterr()
        return subprocess.CompletedProcess(["firestorm", "ack", *args], code, out, err)
    return run


def test_firestorm_ack_answers_each_outcome_with_its_own_exit_code(env, incidents, ack):
    incident = incidents["acme-stores"]
    wait_for(lambda: ack(incident, "--by", "kim", env=env).returncode in (0, 3), 60,
             "the incident to be acknowledged")
    cases = [
        (incident, 3, "already acknowledged by"),
        ("acme-stores-20000101T000000Z", 5, "is not the latest incident of 'acme-stores'"),
        ("acme-stores-29990101T000000Z", 4, "no incident acme-stores-29990101T000000Z"),
        ("nobody-20240101T000000Z", 4, "'nobody' is not an entity of the worker's watchlist"),
    ]
    for asked, code, says in cases:
        done = ack(asked, "--by", "kim", env=env)
        assert done.returncode == code, (asked, done.stdout, done.stderr)
        assert says in (done.stdout + done.stderr).decode(), (asked, done.stderr)


def test_a_topic_that_does_not_exist_is_refused_and_never_created(env, kafka_bootstrap, ack):
    from kafka.admin import KafkaAdminClient

    missing = f"firestorm-observations-{uuid.uuid4().hex[:8]}"
    done = ack("acme-stores-20240101T000000Z", env={
        **env, "FIRESTORM_TOPIC_OBSERVATIONS": missing})
    assert done.returncode == 1  # a runtime failure (the cluster lacks it), not a usage error
    err = done.stderr.decode()
    assert f"topic '{missing}' does not exist" in err and "source .stack/demo/env" in err
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        assert missing not in admin.list_topics()
    finally:
        admin.close()


def test_an_ack_nobody_reads_says_no_answer(env, kafka_bootstrap, ack):
    unread = f"obs-unread-{uuid.uuid4().hex[:8]}"
    create_topic(kafka_bootstrap, unread)
    done = ack("acme-stores-20240101T000000Z", "--wait", "3",
               env={**env, "FIRESTORM_TOPIC_OBSERVATIONS": unread})
    assert done.returncode == 6, done.stderr
    assert "no worker answered within 3s" in done.stderr.decode()
