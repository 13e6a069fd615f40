"""Every figure carries its unit and window, and says the same in every channel."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from alerting.event import AlertEvent
from alerting.figures import Figures, window_text
from alerting.memory_store import MemoryAlertStore
from alerting.notifiers.message import chat_text, plain_text
from models.signals import usual as usual_share
from streams.console import Console, screen_text
from streams.pages import build_pages_app
from streams.render import format_alert

T0 = 1714566840.0
TOKEN = "test-token-0123456789abcdef"
EVENT = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme Stores", "partner",
                   "critical", T0, 322, 5.5, 0.81, 0.3, 9.1, reasons=("322 mentions",),
                   window_seconds=300.0, opened_at=T0).stamped(T0 + 2)
VOLUME = "322 mentions in 5 min, usually 5.5 (58.5x)"
NEGATIVE = "81% of them negative, usually 30%"


def page_and_exports() -> tuple[str, str, str]:
    store = MemoryAlertStore(clock=lambda: T0)
    store.publish(EVENT)

    async def main() -> tuple[str, str, str]:
        app = build_pages_app(store, TOKEN, clock=lambda: T0)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with TestClient(TestServer(app)) as client:
            page = await (await client.get(f"/incidents/{EVENT.incident_id}",
                                           headers=auth)).text()
            rows = await (await client.get(f"/incidents/{EVENT.incident_id}.csv?table=events",
                                           headers=auth)).text()
            data = await (await client.get(f"/incidents/{EVENT.incident_id}.json",
                                           headers=auth)).text()
            return page, rows, data

    return asyncio.run(main())


def test_one_event_is_told_with_the_same_figures_in_console_message_page_and_export():
    assert (EVENT.figures.volume_text(), EVENT.figures.negativity_text()) == (VOLUME, NEGATIVE)
    console = Console("sam", ack=lambda _: None, clock=lambda: T0 + 60)
    console.receive(("reset", [EVENT]))
    page, rows, data = page_and_exports()
    [row] = list(csv.DictReader(io.StringIO(rows)))
    exported = json.loads(data)["events"][0]
    renderings = {
        "console": screen_text(console.screen(80)),
        "console --plain": format_alert(EVENT.to_dict()),
        "chat": chat_text(EVENT),
        "email": plain_text(EVENT),
        "page": page,
        "csv": f"{row['how_big']} | {row['how_negative']}",
        "json": f"{exported['figures']['volume']} | {exported['figures']['negativity']}",
    }
    for channel, text in renderings.items():
        assert VOLUME in text, channel
        assert NEGATIVE in text, channel
    # and the numbers themselves, with the window, for machines
    assert row["window_seconds"] == "300" and exported["volume"]["window_seconds"] == 300.0


@pytest.mark.parametrize(("seconds", "said"), [
    (60, "1 min"), (300, "5 min"), (900, "15 min"), (3600, "60 min"), (3 * 3600, "3 h"),
    (24 * 3600, "24 h"), (90, "90 s"), (None, "an unrecorded window")])
def test_windows_are_said_as_people_say_them(seconds, said):
    assert window_text(seconds) == said


@given(volume=st.integers(0, 10**6), expected=st.floats(0, 1e5), share=st.floats(0, 1),
       usual=st.floats(0, 1), window=st.sampled_from([60.0, 300.0, 900.0, 3600.0, 86400.0]))
def test_a_figure_always_names_its_unit_its_window_and_its_usual_value(
        volume, expected, share, usual, window):
    f = Figures(volume, expected, share, usual, 1.0, window)
    assert f.volume_text().startswith(f"{volume} mention")
    assert f" in {window_text(window)}, usually {expected:.1f}" in f.volume_text()
    # The usual share as the reasons write it: a calm entity's keeps a decimal ("0.1%",
    # not "0%" beside "79% of them negative").
    assert f.negativity_text().endswith(f"negative, usually {usual_share(usual)}")
    if usual >= 0.01:
        assert f.negativity_text().endswith(f"negative, usually {usual:.0%}")
    elif usual > 0:
        assert not f.negativity_text().endswith("usually 0%")
