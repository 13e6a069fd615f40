"""Officer actions on the pages, over the in-memory stores, through aiohttp's test client.

The ack sender is the seam: a fake that answers like the worker (and publishes the
'acknowledged' event when it records one). The real path (Kafka, worker) is tested in
tests/integration/test_officer_actions.py.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alerting.ack import AckAnswer
from alerting.event import AlertEvent
from alerting.links import LinkClaim, sign_link
from alerting.memory_actions import MemoryActionStore
from alerting.memory_store import MemoryAlertStore
from streams.errors import FirestormError
from streams.pages import build_pages_app
from streams.pages.actions import Actions

TOKEN = "test-token-0123456789abcdef"
KEY = b"unit-test-link-key-0123456789abcdefgh"
T0 = 1714566840.0
NOW = T0 + 600
ACME = "acme-20240501T123400Z"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


class Worker:
    """Answers acks like the worker: records the first, refuses what it is told to."""

    def __init__(self, alerts: MemoryAlertStore) -> None:
        self.alerts, self.calls = alerts, []
        self.outcome: str | None = "recorded"
        self.fail: str | None = None

    def __call__(self, incident_id: str, by: str, via: str, origin: str) -> AckAnswer | None:
        if self.fail:
            raise FirestormError(self.fail)
        self.calls.append((incident_id, by, via, origin))
        if self.outcome is None:
            return None
        if self.outcome == "recorded":
            self.alerts.publish(AlertEvent(incident_id, 2, "acknowledged", "acme", "Acme Stores",
                                           "partner", "critical", NOW, 40, 8.0, 0.7, 0.3, 5.0,
                                           acknowledged_by=by))
        return AckAnswer("r", incident_id, self.outcome, f"{incident_id} said {self.outcome}",
                         by, NOW)


Body = Callable[[TestClient, Worker, MemoryActionStore], Awaitable[None]]


def run(body: Body, link_key: bytes = KEY) -> None:
    alerts = MemoryAlertStore(clock=lambda: T0)
    alerts.publish(AlertEvent(ACME, 1, "opened", "acme", "Acme Stores", "partner", "critical",
                              T0, 40, 8.0, 0.7, 0.3, 5.0))
    store = MemoryActionStore(clock=lambda: NOW)
    worker = Worker(alerts)
    actions = Actions(store, alerts, worker, link_key=link_key,
                      links={"acme": ("work-programme",)}, clock=lambda: NOW)

    async def main() -> None:
        app = build_pages_app(alerts, TOKEN, actions=actions)
        async with TestClient(TestServer(app)) as client:
            await body(client, worker, store)

    asyncio.run(main())


async def login(client: TestClient) -> str:
    await client.post("/login", data={"token": TOKEN, "next": "/"}, allow_redirects=False)
    page = await (await client.get(f"/incidents/{ACME}")).text()
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def link(expires: float = NOW + 3600, nonce: str = "n1", purpose: str = "ack") -> str:
    return sign_link(KEY, LinkClaim(purpose, ACME, expires, nonce, "duty-slack"))


# ---------------------------------------------------------------- signed in

def test_the_ack_button_needs_the_form_token_and_shows_the_workers_answer():
    async def body(client, worker, store):
        csrf = await login(client)
        r = await client.post(f"/incidents/{ACME}/ack", data={"by": "sam"})
        assert r.status == 403 and worker.calls == []
        r = await client.post(f"/incidents/{ACME}/ack", data={"by": " sam ", "csrf": csrf})
        assert r.status == 200 and "Recorded:" in await r.text()
        assert worker.calls == [(ACME, "sam", "page", "127.0.0.1")]
        page = await (await client.get(f"/incidents/{ACME}")).text()
        assert "Acknowledged by sam" in page and 'class="action ack"' not in page

    run(body)


@pytest.mark.parametrize(("outcome", "fail", "status", "says"), [
    ("not_latest", None, 409, "Not latest:"),
    ("already_acknowledged", None, 409, "Already acknowledged:"),
    ("unknown_incident", None, 409, "Unknown incident:"),
    (None, None, 202, "no worker answered in time"),
    ("recorded", "cannot reach Kafka at 127.0.0.1:9", 503, "Nothing was sent"),
])
def test_every_answer_has_its_own_page(outcome, fail, status, says):
    async def body(client, worker, store):
        csrf = await login(client)
        worker.outcome, worker.fail = outcome, fail
        r = await client.post(f"/incidents/{ACME}/ack", data={"by": "sam", "csrf": csrf})
        assert r.status == status and says in await r.text()

    run(body)


def test_a_script_with_the_bearer_token_needs_no_form_token():
    async def body(client, worker, store):
        r = await client.post(f"/incidents/{ACME}/ack", data={"by": "bot"}, headers=BEARER)
        assert r.status == 200 and worker.calls[0][2] == "page"

    run(body)


def test_silence_and_feedback_forms_write_with_who_and_from_where():
    async def body(client, worker, store):
        csrf = await login(client)
        r = await client.post(f"/incidents/{ACME}/silence", allow_redirects=False, data={
            "by": "kim", "until": "2h", "why": "known", "scope": "story", "csrf": csrf})
        assert r.status == 303
        [s] = store.silences()
        assert (s.entities, s.until - NOW, s.via, s.origin) == (
            ("acme", "work-programme"), 7200.0, "page", "127.0.0.1")
        r = await client.post(f"/incidents/{ACME}/silence", data={
            "by": "kim", "until": "later", "why": "x", "csrf": csrf})
        assert r.status == 400 and "give a duration" in await r.text()
        r = await client.post(f"/incidents/{ACME}/feedback", allow_redirects=False,
                              data={"by": "kim", "verdict": "too_late", "csrf": csrf})
        assert r.status == 303
        [f] = store.feedback()
        assert (f.verdict, f.severity, f.by) == ("too_late", "critical", "kim")
        r = await client.post(f"/incidents/{ACME}/feedback", data={"by": "kim",
                                                                   "verdict": "meh", "csrf": csrf})
        assert r.status == 400
        report = await (await client.get("/report")).text()
        assert "precision 100% over 1 rated incident<" in report
        assert [e.action for e in store.audit(ACME)] == ["silence", "feedback"]

    run(body)


# ---------------------------------------------------------------- signed links

async def confirm(client: TestClient, token: str, by: str = "sam") -> tuple[int, str]:
    page = await (await client.get(f"/ack/{token}")).text()
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    r = await client.post(f"/ack/{token}", data={"by": by, "csrf": csrf})
    return r.status, await r.text()


def test_a_link_needs_no_sign_in_works_once_and_says_who_used_it():
    async def body(client, worker, store):
        token = link()
        status, text = await confirm(client, token)
        assert status == 200 and "Recorded:" in text
        assert worker.calls == [(ACME, "sam", "link", "127.0.0.1 via duty-slack")]
        r = await client.get(f"/ack/{token}")
        assert r.status == 409 and "already used by sam" in await r.text()
        r = await client.post(f"/ack/{token}", data={"by": "eve", "csrf": "x"})
        assert r.status == 409 and len(worker.calls) == 1

    run(body)


def test_forged_expired_and_unconfirmed_links_are_refused_each_with_its_page():
    async def body(client, worker, store):
        r = await client.get(f"/ack/{link()[:-4]}AAAA")
        assert r.status == 403 and "not valid" in await r.text()
        r = await client.get(f"/ack/{link(expires=NOW - 1)}")
        assert r.status == 410 and "expired at" in await r.text()
        r = await client.get(f"/ack/{link(purpose='feedback')}")
        assert r.status == 403
        r = await client.post(f"/ack/{link()}", data={"by": "eve", "csrf": "0" * 64})
        assert r.status == 403 and "Confirmation not valid" in await r.text()
        assert worker.calls == []
        assert [e.outcome for e in store.audit(ACME)] == ["expired", "csrf"]

    run(body)


def test_a_link_whose_ack_could_not_be_sent_can_be_used_again():
    async def body(client, worker, store):
        worker.fail = "cannot reach Kafka"
        status, _ = await confirm(client, link())
        assert status == 503
        worker.fail = None
        status, text = await confirm(client, link())
        assert status == 200 and "Recorded:" in text

    run(body)


def test_links_are_off_without_a_key():
    async def body(client, worker, store):
        assert (await client.get(f"/ack/{link()}")).status == 404

    run(body, link_key=b"")


def test_a_feedback_link_records_a_verdict_and_may_be_answered_again():
    async def body(client, worker, store):
        token = link(purpose="feedback", nonce="f1")
        for verdict in ("false_alarm", "useful"):
            page = await (await client.get(f"/feedback/{token}")).text()
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
            r = await client.post(f"/feedback/{token}",
                                  data={"by": "sam", "verdict": verdict, "csrf": csrf})
            assert r.status == 200
        assert [f.verdict for f in store.feedback()] == ["false_alarm", "useful"]
        assert all(f.via == "link" for f in store.feedback())

    run(body)
