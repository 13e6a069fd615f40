"""The incident pages end to end: real Redis, real `firestorm pages` process, real Chromium.

This module owns a throwaway redis-server on a free port, fills it through
RedisAlertStore (as the worker does), starts ``python -m streams.cli pages``
against it and drives Debian's chromium (``deploy/local/test-tools.sh``
installs it) with Playwright. Playwright never downloads a browser here.
Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerting.event import AlertEvent
from alerting.redis_store import RedisAlertStore
from alerting.timeline import TimelinePoint
from models.verdict import Evidence, Sample
from tests.integration.support import REPO, Pages, RedisServers

pytestmark = pytest.mark.integration

TOKEN = "browser-test-token-4f9c2e7a1b"
T0 = 1714564800.0  # 2024-05-01 12:00 UTC
INCIDENT = "acme-stores-20240501T123000Z"
XSS_POST = "<script>alert(1)</script> Acme profits from workfare #boycottacme"
XSS_HANDLE = "<img src=x onerror=alert(1)>"


# ---------------------------------------------------------------- the incident

EVIDENCE = Evidence(
    top_terms=(("boycott", 48), ("workfare", 31), ("unpaid", 17)),
    top_hashtags=(("#boycottacme", 40), ("#workfare", 22)),
    samples=(Sample("p1", XSS_HANDLE, XSS_POST, followers=82000, negativity=0.94),
             Sample("p2", "user-5d1e9a", "Shop elsewhere until Acme quits the scheme.",
                    followers=310, negativity=0.81),
             Sample("p3", "campaignhq", "Tell @acmestores: no more unpaid placements",
                    followers=12500, negativity=0.77)),
    top_authors=((XSS_HANDLE, 82000), ("campaignhq", 12500), ("user-5d1e9a", 310)),
    linked=(("work-programme", 23),), coordinated_share=0.18)

VOLUMES = [8, 9, 7, 10, 8, 9, 11, 8, 7, 9, 10, 8, 9, 7, 8, 10, 9, 8, 11, 9,
           8, 10, 9, 8, 9, 11, 10, 9, 12, 14, 38, 52, 96, 140, 171, 150, 122, 98, 75, 61,
           44, 33, 27, 20, 16, 13, 12, 10, 9, 11, 9, 8, 10, 9, 8, 9, 10, 8, 9, 8]


def event(seq: int, kind: str, minute: int, severity: str, **kw) -> AlertEvent:
    v = VOLUMES[min(minute, len(VOLUMES) - 1)]
    return AlertEvent(INCIDENT, seq, kind, "acme-stores", "Acme Stores", "partner", severity,
                      T0 + 60 * minute, v, 9.1, 0.82, 0.31, round(v / 9.1, 1),
                      reasons=(f"{v} mentions in a minute, {v / 9.1:.1f}x the recent mean",),
                      evidence=EVIDENCE, owner="DWP", **kw).stamped(T0 + 60 * minute + 1.5)


def fill(store: RedisAlertStore) -> None:
    for e in [event(1, "opened", 30, "warning"),
              event(2, "escalated", 32, "critical", previous_severity="warning"),
              event(3, "acknowledged", 36, "critical", acknowledged_by="duty-officer"),
              event(4, "deescalated", 42, "warning", previous_severity="critical",
                    acknowledged_by="duty-officer"),
              event(5, "resolved", 59, "warning", acknowledged_by="duty-officer")]:
        assert store.publish(e) is not None
    store.record_points(INCIDENT, [
        TimelinePoint(T0 + 60 * i, v, 9.1, 0.3 + 0.5 * (v > 20) + 0.01 * (i % 3), 0.31,
                      round(v / 9.1, 1), "critical" if v > 90 else "warning" if v > 30 else None)
        for i, v in enumerate(VOLUMES)])


# ---------------------------------------------------------------- processes

@pytest.fixture(scope="module")
def pages_redis_url(module_redis_server_factory: RedisServers) -> str:
    """A redis-server of this module's own (not the shared stack's), without persistence."""
    return module_redis_server_factory(persistent=False).url


@pytest.fixture(scope="module")
def store(pages_redis_url: str) -> Iterator[RedisAlertStore]:
    s = RedisAlertStore(pages_redis_url, retention_seconds=3600)
    fill(s)
    yield s
    s.close()


@pytest.fixture(scope="module")
def pages_url(store: RedisAlertStore, pages_redis_url: str,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRESTORM_")}
    env.update(FIRESTORM_REDIS_URL=pages_redis_url, FIRESTORM_PAGES_TOKEN=TOKEN,
               FIRESTORM_WATCHLIST=str(REPO / "deploy" / "examples" / "watchlist.yaml"))
    pages = Pages(env, tmp_path_factory.mktemp("pages") / "pages.log")
    try:
        yield pages.url
    finally:
        pages.stop()


@pytest.fixture
def page(browser):
    """A tab that fails the test on any dialog (an XSS would alert) or CSP violation."""
    tab = browser.new_page()
    dialogs: list[str] = []
    problems: list[str] = []
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    tab.on("console", lambda m: problems.append(m.text)
           if m.type == "error" and "Content Security Policy" in m.text else None)
    yield tab
    tab.close()
    assert dialogs == [], f"a script ran on the page: {dialogs}"
    assert problems == [], f"CSP blocked something on the page: {problems}"


def sign_in(page, pages_url: str) -> None:
    page.context.clear_cookies()  # every test signs in from scratch
    page.goto(f"{pages_url}/login")
    page.fill("input[name=token]", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{pages_url}/")


# ---------------------------------------------------------------- the tests

def test_unauthenticated_visit_goes_to_login_and_data_stays_closed(browser, pages_url):
    browser.clear_cookies()
    tab = browser.new_page()
    tab.goto(f"{pages_url}/incidents/{INCIDENT}")
    assert tab.url.startswith(f"{pages_url}/login?next=")
    assert tab.locator("input[name=token]").is_visible()
    assert "Acme" not in tab.content()
    tab.close()
    for path in ("/", f"/incidents/{INCIDENT}.json", "/live/events"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{pages_url}{path}", timeout=5)
        assert refused.value.code == 401, path


def test_wrong_token_is_refused_in_the_browser(page, pages_url):
    page.context.clear_cookies()
    page.goto(f"{pages_url}/login")
    page.fill("input[name=token]", "not-the-token-at-all")
    page.click("button[type=submit]")
    assert "That token is not right" in page.inner_text("main")
    page.goto(f"{pages_url}/")
    assert page.url.startswith(f"{pages_url}/login")


def test_list_shows_the_incident_after_login(page, pages_url):
    sign_in(page, pages_url)
    row = page.locator("table.incidents tbody tr", has_text="Acme Stores")
    assert row.count() == 1
    assert "duty-officer" in row.inner_text() and "resolved" in row.inner_text().lower()
    page.select_option("select[name=state]", "open")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/?*state=open*")
    assert page.locator("table.incidents tbody tr", has_text="Acme Stores").count() == 0


def test_incident_page_chart_escaped_posts_and_exports(page, pages_url, tmp_path):
    sign_in(page, pages_url)
    page.click(f"a[href='/incidents/{INCIDENT}']")
    page.wait_for_url(f"**/incidents/{INCIDENT}")
    chart = page.locator("section.chart svg")
    assert chart.count() == 1 and chart.is_visible()
    volume = chart.locator("path[data-series=volume]").get_attribute("d")
    assert volume.count("L") == len(VOLUMES) - 1
    assert chart.locator("g.event").count() == 5
    # the hostile post and handle are shown as text and nothing ran
    posts = page.locator("table.posts").inner_text()
    assert "<script>alert(1)</script> Acme profits from workfare" in posts
    assert XSS_HANDLE in posts
    assert page.locator("main img").count() == 0
    assert page.locator("main script").count() == 0
    body = page.inner_text("main")
    for shown in ("Work Programme", "#boycottacme", "82,000", "duty-officer",
                  "Notification and acknowledgement history", "critical → warning"):
        assert shown in body, shown
    page.screenshot(path=str(tmp_path / "incident.png"), full_page=True)
    # exports: follow the page's own links
    with page.expect_download() as got:
        page.click("a:text('JSON')")
    data = Path(got.value.path()).read_text()
    assert f'"incident_id": "{INCIDENT}"' in data and "<script>alert(1)</script>" in data
    with page.expect_download() as got:
        page.click("a:text('CSV per minute')")
    lines = Path(got.value.path()).read_text().splitlines()
    assert lines[0].startswith("at,volume,expected_volume") and len(lines) == len(VOLUMES) + 1
    with page.expect_download() as got:
        page.click("a:text('CSV of events')")
    assert "acknowledged" in Path(got.value.path()).read_text()


def test_live_page_shows_a_new_alert_as_it_arrives(page, pages_url, store):
    sign_in(page, pages_url)
    page.goto(f"{pages_url}/live")
    page.wait_for_selector("#live-status[data-state=live]")  # subscribed: safe to publish
    fresh = AlertEvent("work-programme-20240501T140000Z", 1, "opened", "work-programme",
                       "Work Programme <b>policy</b>", "policy", "critical", T0 + 7200, 120,
                       10.0, 0.9, 0.3, 12.0, reasons=("<i>120</i> mentions in a minute",))
    assert store.publish(fresh) is not None
    item = page.wait_for_selector("#alerts li[data-incident='work-programme-20240501T140000Z']",
                                  timeout=10_000)
    text = item.inner_text()
    assert "Work Programme <b>policy</b>" in text and "<i>120</i> mentions" in text
    assert page.locator("#alerts b, #alerts i").count() == 0
    item.query_selector("a").click()
    page.wait_for_url("**/incidents/work-programme-20240501T140000Z")


def test_redis_store_lists_every_incident_newest_first_and_by_entity(pages_redis_url):
    s = RedisAlertStore(pages_redis_url, retention_seconds=600, prefix="list-test")
    try:
        for incident, entity, at in [("acme-20240501T120000Z", "acme", T0),
                                     ("acme-stores-20240502T120000Z", "acme-stores", T0 + 86400),
                                     ("acme-20240503T120000Z", "acme", T0 + 2 * 86400)]:
            s.publish(AlertEvent(incident, 1, "opened", entity, entity, "partner", "watch", at,
                                 20, 8.0, 0.5, 0.3, 2.0))
        s.record_points("acme-20240501T120000Z",
                        [TimelinePoint(T0, 20, 8.0, 0.5, 0.3, 2.0, "watch")])
        assert [r.incident_id for r in s.incidents()] == [
            "acme-20240503T120000Z", "acme-stores-20240502T120000Z", "acme-20240501T120000Z"]
        assert [r.incident_id for r in s.incidents("acme")] == [
            "acme-20240503T120000Z", "acme-20240501T120000Z"]
        assert s.incidents("nobody") == []
    finally:
        s.close()


# ---------------------------------------------------------------- officer actions

def test_silence_form_sets_a_story_silence_shown_everywhere_and_lift_ends_it(
        page, pages_url, pages_redis_url):
    from alerting.action_store import RedisActionStore

    actions = RedisActionStore(pages_redis_url)
    sign_in(page, pages_url)
    page.goto(f"{pages_url}/incidents/{INCIDENT}")
    assert "None in force" in page.inner_text("section.actions")
    form = page.locator("form.silence")
    form.locator("input[name=by]").fill("kim")
    form.locator("input[name=until]").fill("2h")
    form.locator("input[name=why]").fill("known campaign <b>statement at 9</b>")
    form.locator("select[name=scope]").select_option("story")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/incidents/{INCIDENT}#silences")
    banner = page.locator("li.silence").inner_text()
    assert "silenced (story: acme-stores, work-programme) until" in banner
    assert "by kim: known campaign <b>statement at 9</b>; critical still notified" in banner
    assert page.locator("main b").count() == 0  # typed by a person: shown, not rendered
    [silence] = actions.silences()
    assert (silence.by, silence.entities, silence.include_critical) == (
        "kim", ("acme-stores", "work-programme"), False)
    assert 7199 <= silence.until - silence.created_at <= 7201  # whole seconds
    page.goto(f"{pages_url}/")
    assert "Silences in force" in page.inner_text("main")
    # The audit keeps who did it, from where.
    page.goto(f"{pages_url}/incidents/{INCIDENT}")
    assert "silence by kim via page from 127.0.0.1: set" in page.inner_text("ul.audit")
    page.locator("li.silence button").click()
    page.wait_for_url(f"**/incidents/{INCIDENT}#silences")
    assert page.locator("li.silence").count() == 0 and actions.silences() == []
    actions.close()


def test_a_bad_silence_time_is_refused_with_the_fix(page, pages_url):
    sign_in(page, pages_url)
    page.goto(f"{pages_url}/incidents/{INCIDENT}")
    form = page.locator("form.silence")
    form.locator("input[name=by]").fill("kim")
    form.locator("input[name=until]").fill("soonish")
    form.locator("input[name=why]").fill("x")
    form.locator("button[type=submit]").click()
    assert "give a duration (2h, 90m, 1d)" in page.inner_text("main")


def test_feedback_buttons_record_a_verdict_the_precision_page_counts(page, pages_url):
    sign_in(page, pages_url)
    page.goto(f"{pages_url}/incidents/{INCIDENT}")
    assert "Acknowledged by duty-officer" in page.inner_text("section.actions")
    assert page.locator("form.ack").count() == 0  # already acknowledged: no button
    form = page.locator("form.feedback")
    form.locator("input[name=by]").fill("kim")
    form.locator("button[value=false_alarm]").click()
    page.wait_for_url(f"**/incidents/{INCIDENT}#feedback")
    assert "Rated false alarm by kim" in page.inner_text("section.actions")
    page.locator("form.feedback button[value=useful]").click()  # the name is remembered
    page.wait_for_url(f"**/incidents/{INCIDENT}#feedback")
    assert "Rated useful by kim" in page.inner_text("section.actions")
    page.click("a[href='/report']")
    page.wait_for_url("**/report")
    month = page.locator("section[data-days='30']")
    assert "precision 100% over 1 rated incident" in month.locator("h2").inner_text()
    assert "Acme Stores" in month.locator("table.precision").first.inner_text()
    # The timeline fixture's incident reached critical: counted there.
    assert "critical" in month.locator("table.precision").nth(1).inner_text()
