"""The incident pages over an in-memory store, through aiohttp's own test client."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alerting.event import AlertEvent
from alerting.liveness import Heartbeat, History
from alerting.memory_store import MemoryAlertStore
from alerting.story import StoryRules
from alerting.timeline import TimelinePoint
from models.verdict import Evidence, Sample
from streams.commands import pages as pages_command
from streams.errors import ConfigError
from streams.pages import build_pages_app
from streams.pages.app import COOKIE
from streams.pages.feed import QueueFeed
from streams.pages.views import merge_evidence
from streams.settings import Settings

TOKEN = "test-token-0123456789abcdef"
T0 = 1714566840.0  # 2024-05-01 12:34 UTC
ACME = "acme-20240501T123400Z"
WP = "work-programme-20240503T090000Z"
STORES = "acme-stores-20240502T080000Z"
XSS_POST = "<script>alert(1)</script> boycott acme"
XSS_HANDLE = "<img src=x onerror=alert(1)>"
HTML = {"Accept": "text/html,application/xhtml+xml"}
BEARER = {"Authorization": f"Bearer {TOKEN}"}

EVIDENCE = Evidence(
    top_terms=(("boycott", 30), ("workfare", 12)), top_hashtags=(("#boycottacme", 9),),
    samples=(Sample("p1", XSS_HANDLE, XSS_POST, followers=52000, negativity=0.93),
             Sample("p2", "user-7f3a", "acme & the work programme: shameful", followers=120)),
    top_authors=((XSS_HANDLE, 52000), ("user-7f3a", 120)), linked=(("work-programme", 4),),
    coordinated_share=0.25)


def ev(incident: str, seq: int, kind: str, minute: float, severity: str = "warning",
       entity: tuple[str, str, str] = ("acme", "Acme Stores", "partner"), **kw) -> AlertEvent:
    start = {ACME: T0, WP: T0 + 2 * 86400 + 20 * 3600 + 26 * 60, STORES: T0 + 86400}[incident]
    kw.setdefault("evidence", EVIDENCE)
    return AlertEvent(incident, seq, kind, *entity, severity, start + 60 * minute, 40 + seq,
                      8.0, 0.7, 0.3, 5.0 + seq, reasons=(f"{40 + seq} mentions, 5x the mean",),
                      **kw).stamped(start + 60 * minute + 2)


def filled_store() -> MemoryAlertStore:
    store = MemoryAlertStore(clock=lambda: T0)
    for event in [
        ev(ACME, 1, "opened", 0),
        ev(ACME, 2, "escalated", 1, "critical", previous_severity="warning"),
        ev(ACME, 3, "acknowledged", 2, "critical", acknowledged_by="duty-officer"),
        ev(ACME, 4, "resolved", 40, "critical", acknowledged_by="duty-officer"),
        ev(WP, 1, "opened", 0, "watch", entity=("work-programme", "Work Programme", "policy")),
        ev(STORES, 1, "opened", 0, "warning", entity=("acme-stores", "Acme Shops", "partner")),
    ]:
        store.publish(event)
    store.record_points(ACME, [TimelinePoint(T0 + 60 * i, v, 8.0, 0.3 + i / 100, 0.3, 1.0,
                                             None) for i, v in enumerate([9, 41, 90, 60, 12])])
    return store


Body = Callable[[TestClient, MemoryAlertStore, QueueFeed], Awaitable[None]]


def run(body: Body, store: MemoryAlertStore | None = None) -> None:
    store = store or filled_store()
    feed = QueueFeed()

    async def main() -> None:
        app = build_pages_app(store, TOKEN, feed=feed, tick=0.2,
                              entities={"work-programme": ("Work Programme", "policy")},
                              clock=lambda: T0)
        async with TestClient(TestServer(app)) as client:
            await body(client, store, feed)

    asyncio.run(main())


async def login(client: TestClient) -> None:
    r = await client.post("/login", data={"token": TOKEN, "next": "/"}, allow_redirects=False)
    assert r.status == 303


# ---------------------------------------------------------------- access

def test_unauthenticated_browser_is_sent_to_login_and_everything_else_gets_401():
    async def body(client, store, feed):
        r = await client.get(f"/incidents/{ACME}?x=1", headers=HTML, allow_redirects=False)
        assert r.status == 303
        location = urlsplit(r.headers["Location"])
        assert location.path == "/login"
        assert parse_qs(location.query) == {"next": [f"/incidents/{ACME}?x=1"]}
        for path in ("/", f"/incidents/{ACME}.json", f"/incidents/{ACME}.csv", "/live/events"):
            r = await client.get(path, allow_redirects=False)
            assert r.status == 401, path
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
            assert "Acme" not in await r.text()
        r = await client.get("/login", headers=HTML)
        assert r.status == 200 and 'name="token"' in await r.text()

    run(body)


def test_wrong_token_is_refused_by_header_and_by_form():
    async def body(client, store, feed):
        r = await client.get("/", headers={"Authorization": "Bearer not-the-token", **HTML},
                             allow_redirects=False)
        assert r.status == 401
        r = await client.post("/login", data={"token": "not-the-token"}, allow_redirects=False)
        assert r.status == 401 and COOKIE not in r.cookies
        assert "not right" in await r.text()
        client.session.cookie_jar.update_cookies({COOKIE: "forged"})
        r = await client.get("/", headers=HTML, allow_redirects=False)
        assert r.status == 303

    run(body)


def test_login_sets_a_strict_httponly_cookie_and_returns_to_the_page_asked_for():
    async def body(client, store, feed):
        r = await client.post("/login", data={"token": TOKEN, "next": f"/incidents/{ACME}"},
                              allow_redirects=False)
        assert r.status == 303 and r.headers["Location"] == f"/incidents/{ACME}"
        cookie = r.cookies[COOKIE]
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        assert TOKEN not in cookie.value  # an HMAC of the token, not the token
        assert (await client.get("/", headers=HTML)).status == 200
        await client.post("/logout", allow_redirects=False)
        assert (await client.get("/", headers=HTML, allow_redirects=False)).status == 303

    run(body)


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_site(target):
    async def body(client, store, feed):
        r = await client.post("/login", data={"token": TOKEN, "next": target},
                              allow_redirects=False)
        assert r.headers["Location"] == "/"

    run(body)


def test_bearer_token_works_without_a_cookie():
    async def body(client, store, feed):
        r = await client.get(f"/incidents/{ACME}.json", headers=BEARER)
        assert r.status == 200

    run(body)


def test_security_headers_on_every_response():
    async def body(client, store, feed):
        await login(client)
        for path in ("/", f"/incidents/{ACME}", "/live", "/login", "/static/live.js",
                     "/incidents/nope"):
            r = await client.get(path, headers=HTML)
            csp = r.headers["Content-Security-Policy"]
            assert "default-src 'self'" in csp and "script-src 'self'" in csp, path
            assert "unsafe-inline" not in csp
            assert r.headers["X-Content-Type-Options"] == "nosniff"

    run(body)


@pytest.mark.parametrize(("token", "problem"), [("", "FIRESTORM_PAGES_TOKEN"),
                                               ("short", "at least 16")])
def test_refuses_to_start_without_a_usable_token(token, problem):
    with pytest.raises(ConfigError, match=problem):
        build_pages_app(MemoryAlertStore(), token)


def test_pages_command_refuses_to_start_without_a_token():
    args = argparse.Namespace(settings=Settings(redis_url="memory://"), host=None, port=None)
    with pytest.raises(ConfigError, match="FIRESTORM_PAGES_TOKEN"):
        pages_command.run(args)


# ---------------------------------------------------------------- list and filters

@pytest.mark.parametrize(("query", "shown"), [
    ("", [WP, STORES, ACME]),                              # newest first
    ("?entity=acme", [ACME]),                              # not acme-stores
    ("?severity=watch", [WP]),
    ("?state=resolved", [ACME]),
    ("?state=open", [WP, STORES]),
    ("?state=acknowledged", [ACME]),
    ("?state=unacknowledged", [WP, STORES]),
    ("?from=2024-05-02&to=2024-05-02", [STORES]),
    ("?to=2024-05-01", [ACME]),
    ("?from=2024-05-03", [WP]),
    ("?entity=acme&state=open", []),
])
def test_incident_list_filters(query, shown):
    async def body(client, store, feed):
        await login(client)
        r = await client.get("/" + query, headers=HTML)
        assert r.status == 200
        text = await r.text()
        listed = [i for i in (WP, STORES, ACME) if f'href="/incidents/{i}"' in text]
        assert sorted(listed) == sorted(shown)
        positions = [text.index(f'href="/incidents/{i}"') for i in shown]
        assert positions == sorted(positions)

    run(body)


@pytest.mark.parametrize("query", ["?severity=bad", "?state=closed", "?from=yesterday",
                                   "?from=2024-05-03&to=2024-05-01", "?severity=%3Cb%3E"])
def test_bad_filter_is_a_400_with_the_accepted_values(query):
    async def body(client, store, feed):
        await login(client)
        r = await client.get("/" + query, headers=HTML)
        assert r.status == 400
        text = await r.text()
        assert 'class="error"' in text and "<b>" not in text

    run(body)


def test_memory_store_lists_every_incident_newest_first_and_by_entity():
    store = filled_store()
    assert [r.incident_id for r in store.incidents()] == [WP, STORES, ACME]
    assert [r.incident_id for r in store.incidents("acme")] == [ACME]
    assert [r.incident_id for r in store.incidents("nobody")] == []


# ---------------------------------------------------------------- incident page

def test_incident_page_escapes_posts_and_handles():
    async def body(client, store, feed):
        await login(client)
        r = await client.get(f"/incidents/{ACME}", headers=HTML)
        assert r.status == 200
        text = await r.text()
        assert "&lt;script&gt;alert(1)&lt;/script&gt; boycott acme" in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
        assert "<script>alert" not in text and "<img" not in text
        assert "acme &amp; the work programme" in text
        # the only script tags are files from this site (none on this page)
        assert "<script" not in text

    run(body)


def test_incident_page_shows_chart_evidence_and_history():
    async def body(client, store, feed):
        await login(client)
        text = await (await client.get(f"/incidents/{ACME}", headers=HTML)).text()
        assert '<svg xmlns="http://www.w3.org/2000/svg"' in text
        assert 'data-series="volume"' in text and 'data-series="band"' in text
        for kind in ("opened", "escalated", "acknowledged", "resolved"):
            assert f'data-event="{kind}"' in text
        for shown in ("boycott", "#boycottacme", "52,000", "Work Programme (policy)",
                      "named together in 4 posts", "by duty-officer at 2024-05-01 12:36 UTC",
                      "90 mentions in 1 min, usually 8.0 (11.2x) at 2024-05-01 12:36 UTC",
                      "warning → critical",
                      "Notification and acknowledgement history", "25%",
                      'Highest severity</dt><dd><span class="sev sev-critical">'):
            assert shown in text, shown
        for link in (f"/incidents/{ACME}.json", f"/incidents/{ACME}.csv",
                     f"/incidents/{ACME}.csv?table=events"):
            assert f'href="{link}"' in text

    run(body)


def test_unknown_incident_is_404():
    async def body(client, store, feed):
        await login(client)
        r = await client.get("/incidents/nope-20240101T000000Z", headers=HTML)
        assert r.status == 404

    run(body)


def test_store_down_is_a_503_page_not_a_crash():
    async def body(client, store, feed):
        await login(client)
        store.available = False
        r = await client.get("/", headers=HTML)
        assert r.status == 503 and "Incident store unavailable" in await r.text()

    run(body)


# ---------------------------------------------------------------- exports

def test_json_export_has_record_points_and_events():
    async def body(client, store, feed):
        r = await client.get(f"/incidents/{ACME}.json", headers=BEARER)
        assert r.headers["Content-Type"].startswith("application/json")
        assert f'filename="{ACME}.json"' in r.headers["Content-Disposition"]
        data = json.loads(await r.text())
        assert data["incident"]["status"] == "resolved"
        assert data["incident"]["acknowledged_by"] == "duty-officer"
        assert [p["volume"] for p in data["points"]] == [9, 41, 90, 60, 12]
        assert data["points"][0]["at"] == "2024-05-01T12:34:00Z"
        assert [e["event"] for e in data["events"]] == ["opened", "escalated", "acknowledged",
                                                        "resolved"]
        assert data["events"][0]["evidence"]["samples"][0]["text"] == XSS_POST
        assert AlertEvent.from_dict(data["events"][1]) == store.timeline(ACME).events[1]

    run(body)


def test_csv_exports_per_minute_and_per_event():
    async def body(client, store, feed):
        r = await client.get(f"/incidents/{ACME}.csv", headers=BEARER)
        assert r.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(await r.text())))
        assert [int(row["volume"]) for row in rows] == [9, 41, 90, 60, 12]
        assert rows[0]["events"] == "opened" and rows[1]["events"] == "escalated"
        r = await client.get(f"/incidents/{ACME}.csv?table=events", headers=BEARER)
        rows = list(csv.DictReader(io.StringIO(await r.text())))
        assert [row["event"] for row in rows] == ["opened", "escalated", "acknowledged",
                                                  "resolved"]
        assert rows[2]["acknowledged_by"] == "duty-officer"
        r = await client.get(f"/incidents/{ACME}.csv?table=posts", headers=BEARER)
        assert r.status == 400

    run(body)


def test_csv_neutralises_spreadsheet_formulas():
    store = filled_store()
    store.publish(ev(WP, 2, "acknowledged", 1, "watch", acknowledged_by="=HYPERLINK(1)",
                     entity=("work-programme", "Work Programme", "policy")))

    async def body(client, store, feed):
        r = await client.get(f"/incidents/{WP}.csv?table=events", headers=BEARER)
        rows = list(csv.DictReader(io.StringIO(await r.text())))
        assert rows[-1]["acknowledged_by"] == "'=HYPERLINK(1)"

    run(body, store)


# ---------------------------------------------------------------- live

async def read_event(response, kind: str, timeout: float = 5.0) -> str:
    """The data line of the next server-sent event of ``kind``."""
    async def scan() -> str:
        current = None
        while True:
            line = (await response.content.readline()).decode()
            if line.startswith("event: "):
                current = line[7:].strip()
            elif line.startswith("data: ") and current == kind:
                return line[6:].strip()

    return await asyncio.wait_for(scan(), timeout)


def test_live_events_stream_each_published_alert():
    async def body(client, store, feed):
        r = await client.get("/live/events", headers=BEARER)
        assert r.headers["Content-Type"].startswith("text/event-stream")
        await read_event(r, "ready")
        hostile = ev(STORES, 2, "escalated", 3, "critical", previous_severity="warning",
                     entity=("acme-stores", XSS_HANDLE, "partner"))
        assert feed.publish("not json") == 1  # ignored, the stream goes on
        feed.publish(hostile.to_json())
        data = json.loads(await read_event(r, "alert"))
        assert data["entity_name"] == XSS_HANDLE  # JSON text; live.js renders it as text
        assert data["href"] == f"/incidents/{STORES}" and data["severity"] == "critical"
        r.close()

    run(body)


def test_live_page_loads_its_script_from_the_site():
    async def body(client, store, feed):
        await login(client)
        text = await (await client.get("/live", headers=HTML)).text()
        assert '<script src="/static/live.js" defer></script>' in text
        assert 'id="alerts"' in text and f'href="/incidents/{WP}"' in text
        js = await client.get("/static/live.js")
        assert js.status == 200 and "innerHTML" not in await js.text()

    run(body)


# ---------------------------------------------------------------- liveness

def beat(at: float) -> Heartbeat:
    return Heartbeat("w1", at, event_time=at - 10, last_input_at=at - 2, lag=0)


@pytest.mark.parametrize(("heartbeats", "history", "banner"), [
    ([], None, '<p id="liveness" class="liveness liveness-alarm" role="alert">'
               "no worker heartbeat</p>"),
    ([beat(T0 - 180)], History(T0 - 3600),
     'class="liveness liveness-alarm" role="alert">worker silent for 3 min</p>'),
    ([beat(T0 - 2)], History(T0 - 3600),
     'class="liveness liveness-ok" role="status">worker ok (lag 0, data up to 12:33:48 UTC)'),
    ([beat(T0 - 2)], History(T0 - 60, lost_at=T0 - 60),
     'class="liveness liveness-alarm" role="alert">History lost at 12:33:00 UTC,'
     " rebuilding…"),
])
def test_every_page_says_whether_the_worker_is_alive_in_red_when_it_is_not(
        heartbeats, history, banner):
    store = filled_store()
    for h in heartbeats:
        store.beat(h)
    if history is not None:
        store.begin_history(history.since, holding_open=history.lost_at is not None)

    async def body(client, store, feed):
        await login(client)
        for path in ("/", f"/incidents/{ACME}", "/live"):
            text = await (await client.get(path, headers=HTML)).text()
            assert banner in text, (path, text[:600])

    run(body, store)


def test_the_live_page_banner_follows_the_heartbeat_over_the_event_stream():
    store = filled_store()
    store.beat(beat(T0 - 180))
    store.begin_history(T0 - 3600, holding_open=False)

    async def body(client, store, feed):
        r = await client.get("/live/events", headers=BEARER)
        await read_event(r, "ready")
        assert json.loads(await read_event(r, "liveness")) == {
            "text": "worker silent for 3 min", "alarm": True}
        r.close()

    run(body, store)


def test_the_live_page_table_of_open_incidents_comes_from_live_open():
    async def body(client, store, feed):
        await login(client)
        data = await (await client.get("/live/open", headers=HTML)).json()
        assert [i["incident_id"] for i in data["incidents"]] == [WP, STORES]  # newest first
        assert data["incidents"][1]["href"] == f"/incidents/{STORES}"
        text = await (await client.get("/live", headers=HTML)).text()
        assert 'id="open-incidents"' in text
        js = await (await client.get("/static/live.js")).text()
        assert 'fetch("/live/open"' in js and "refreshOpen();" in js

    run(body)


# ---------------------------------------------------------------- one story, one page

PARTNER = ("acme", "Acme Stores", "partner")
POLICY = ("work-programme", "Work Programme", "policy")


def story_store() -> MemoryAlertStore:
    rules = StoryRules.of({"acme": ("work-programme",)},
                          {"acme": PARTNER[1:], "work-programme": POLICY[1:]})
    store = MemoryAlertStore(clock=lambda: T0, stories=rules)
    viral = Sample("v1", "@bignews", "acme profits from #workfare", followers=250_000,
                   ts=T0 + 30, url="https://social.example/bignews/v1", reshares=42)
    evidence = Evidence(samples=EVIDENCE.samples, centre=viral, high_reach=(viral,),
                        linked=(("work-programme", 4),))
    for e in [ev(ACME, 1, "opened", 0, evidence=evidence, window_seconds=300),
              AlertEvent(WP, 1, "opened", *POLICY, "critical", T0 + 120, 322, 5.5, 0.8, 0.3,
                         9.1, reasons=("322 mentions in 5 min", "hostile share tripled"),
                         window_seconds=300)]:
        store.publish(e)
    return store


def test_a_partner_and_its_policy_storming_together_are_one_page():
    async def body(client, store, feed):
        await login(client)
        pages = [await (await client.get(f"/incidents/{i}", headers=HTML)).text()
                 for i in (ACME, WP)]
        for text in pages:
            assert "<h1>Acme Stores (partner) + Work Programme (policy)</h1>" in text
            assert f"story {ACME}" in text and "notified once" in text
            assert text.count('data-series="volume"') == 2  # a chart per incident
            # reasons as a list, and the figures with unit and window
            assert "<li>hostile share tripled</li>" in text
            assert "322 mentions in 5 min, usually 5.5 (58.5x)" in text
        listing = await (await client.get("/", headers=HTML)).text()
        assert "one story with Acme Stores (partner)" in listing
        data = json.loads(await (await client.get(f"/incidents/{WP}.json",
                                                  headers=BEARER)).text())
        assert data["story"]["id"] == ACME and len(data["story"]["members"]) == 2

    run(body, story_store())


def test_the_page_shows_the_post_at_the_centre_and_high_reach_posts_with_time_and_link():
    async def body(client, store, feed):
        await login(client)
        text = await (await client.get(f"/incidents/{ACME}", headers=HTML)).text()
        centre = text[text.index("At the centre of the storm"):]
        assert "acme profits from #workfare" in centre and "reshared 42 times" in centre
        assert "posted 2024-05-01 12:34 UTC" in centre
        assert 'href="https://social.example/bignews/v1" rel="noopener noreferrer' in centre
        assert "Posts by high-reach accounts" in text and "250,000" in text

    run(body, story_store())


def test_a_link_that_is_not_http_is_never_made_a_link():
    from streams.pages.views import _post_link

    assert _post_link(Sample("x", "a", "t", url="javascript:alert(1)")) == "—"


def test_a_sample_carrying_reshares_is_shown_as_the_centre_when_evidence_names_none():
    # The detector may mark the centre as the first sample, with its reshares.
    shared = Sample("root", "@outlet", "the post everyone shares", followers=90_000,
                    reshares=17)
    event = ev(ACME, 1, "opened", 0, evidence=Evidence(samples=(shared,)))
    assert merge_evidence([event]).centre == shared


# ---------------------------------------------------------------- probes and metrics

def test_health_ready_and_metrics_answer_without_the_token_and_show_no_incident():
    async def body(client, store, feed):
        await login(client)
        assert (await client.get(f"/incidents/{ACME}")).status == 200
        client.session.cookie_jar.clear()
        r = await client.get("/health")
        assert r.status == 200 and await r.json() == {"status": "ok", "component": "pages"}
        assert (await client.get("/ready")).status == 200
        r = await client.get("/metrics")
        text = await r.text()
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
        # Requests are counted by route pattern, never by incident id.
        assert ('firestorm_http_requests_total{route="/incidents/{incident_id}",status="200"}'
                ' 1.0') in text
        assert 'firestorm_up{component="pages"} 1.0' in text
        assert "Acme" not in text and ACME not in text
        store.available = False
        r = await client.get("/ready")
        assert r.status == 503 and (await r.json())["ready"] is False
        assert (await client.get("/health")).status == 200  # alive, only not ready

    run(body)
