"""The console without a terminal: keys in, screen text out, acks through an injected sender."""

from __future__ import annotations

import threading

import pytest

from alerting.ack import AckAnswer
from alerting.errors import AlertStoreUnavailable
from alerting.event import AlertEvent
from alerting.liveness import Heartbeat, History
from alerting.memory_store import MemoryAlertStore
from alerting.story import Stories, StoryRules
from models.verdict import Evidence, Sample
from streams.console import Console, Feed, Follower, screen_text
from streams.console.drivers import MORE_BELOW, layout

T0 = 1714566840.0
EVIDENCE = Evidence(top_hashtags=(("#boycottacme", 9),),
                    samples=(Sample("p1", "anon:7f3a", "boycott\x1b[2J acme <script>x</script>"),),
                    linked=(("work-programme", 0),))


def ev(entity: str, seq: int, kind: str, severity: str = "warning",
       by: str | None = None) -> AlertEvent:
    return AlertEvent(f"{entity}-20240501T123400Z", seq, kind, entity, entity.title(),
                      "partner", severity, T0 + 60 * seq, 90, 8.5, 0.8, 0.3, 9.1,
                      reasons=("90 mentions in a minute, 10.6x the recent mean",),
                      evidence=EVIDENCE, owner="DWP", acknowledged_by=by, window_seconds=300)


class Acks:
    """The ack seam's fake: records what was sent and answers like the worker would
    (``outcome=None``: no answer in time), or fails like Kafka being down."""

    def __init__(self, fail: str | None = None, outcome: str | None = "recorded",
                 reason: str = "acknowledged by sam") -> None:
        self.sent: list[str] = []
        self.fail, self.outcome, self.reason = fail, outcome, reason

    def __call__(self, incident_id: str) -> AckAnswer | None:
        if self.fail:
            raise RuntimeError(self.fail)
        self.sent.append(incident_id)
        if self.outcome is None:
            return None
        return AckAnswer("r1", incident_id, self.outcome, self.reason, "sam", T0)


def console(acks: Acks, *events: AlertEvent) -> Console:
    c = Console("sam", ack=acks, spawn=lambda fn: fn(), clock=lambda: T0 + 3600)
    c.receive(("reset", list(events)))
    return c


def text(c: Console) -> str:
    c.drain()
    return screen_text(c.screen(200)) + "\n".join(
        "".join(t for t, _ in line) for line in c.screen(200).footer)


def test_the_board_shows_what_why_how_big_and_the_evidence_of_the_selected_incident():
    out = text(console(Acks(), ev("acme", 1, "opened", "critical"), ev("dwp", 1, "opened")))
    assert out.index("CRITICAL") < out.index("WARNING")
    assert "NOT ACKNOWLEDGED  Acme (partner)  acme-20240501T123400Z" in out
    assert "90 mentions in 5 min, usually 8.5 (10.6x)" in out
    assert "80% of them negative, usually 30% | score 9.1 | opened" in out
    assert "why: 90 mentions in a minute" in out
    assert "linked: work-programme (watchlist link) | owner: DWP" in out
    assert "hashtags: #boycottacme (9)" in out
    assert "CRITICAL 1 WARNING 1 WATCH 0" in out
    assert out.count("> anon:7f3a") == 1  # only the selected incident is expanded


def test_post_text_is_escaped_never_obeyed():
    out = text(console(Acks(), ev("acme", 1, "opened")))
    assert "\x1b" not in out and "boycott\\x1b[2J acme <script>x</script>" in out


def test_a_then_y_sends_the_ack_for_the_selected_incident_and_waits_for_the_worker():
    acks = Acks()
    c = console(acks, ev("acme", 1, "opened", "critical"), ev("dwp", 1, "opened"))
    assert c.handle_key("down") and c.handle_key("a")
    assert "Acknowledge dwp-20240501T123400Z (Dwp (partner)) as sam? y/n" in text(c)
    assert acks.sent == []
    c.handle_key("y")
    assert acks.sent == ["dwp-20240501T123400Z"]
    out = text(c)
    # the worker's answer is shown; the badge changes only with the event everyone sees
    assert "recorded: acknowledged by sam" in out and "recorded by the worker, updating…" in out
    c.receive(("events", [ev("dwp", 2, "acknowledged", by="sam")]))
    out = text(c)
    assert "acknowledged by sam" in out and "updating" not in out


@pytest.mark.parametrize(("outcome", "reason", "shown"), [
    ("not_latest", "dwp-20240401T000000Z is not the latest incident of 'dwp': the latest is"
     " dwp-20240501T123400Z (open)", "ack refused (not latest): dwp-20240401T000000Z is not"),
    ("already_acknowledged", "dwp-20240501T123400Z was already acknowledged by kim",
     "ack refused (already acknowledged): dwp-20240501T123400Z was already acknowledged by kim"),
    ("unknown_incident", "no incident x", "ack refused (unknown incident): no incident x"),
])
def test_the_console_shows_the_workers_refusal_and_its_reason(outcome, reason, shown):
    c = console(Acks(outcome=outcome, reason=reason), ev("dwp", 1, "opened"))
    c.handle_key("a")
    c.handle_key("y")
    out = text(c)
    assert shown in out and "NOT ACKNOWLEDGED" in out and "waiting" not in out


def test_no_answer_from_a_worker_is_said_not_hidden():
    c = console(Acks(outcome=None), ev("dwp", 1, "opened"))
    c.handle_key("a")
    c.handle_key("y")
    out = text(c)
    assert "no answer from a worker about dwp-20240501T123400Z" in out
    assert "ack sent, no answer from a worker yet…" in out


def test_f_then_a_verdict_records_feedback_and_any_other_key_cancels():
    rated: list[tuple[str, str]] = []
    c = Console("sam", ack=Acks(), spawn=lambda fn: fn(), clock=lambda: T0 + 3600,
                feedback=lambda incident, verdict: rated.append((incident, verdict)))
    c.receive(("reset", [ev("acme", 1, "opened")]))
    c.handle_key("f")
    assert "Rate acme-20240501T123400Z: u useful, x false alarm, t too late" in text(c)
    c.handle_key("x")
    assert rated == [("acme-20240501T123400Z", "false_alarm")]
    assert "rated acme-20240501T123400Z: false alarm" in text(c)
    c.handle_key("f")
    c.handle_key("q")
    assert len(rated) == 1 and "not rated" in text(c)


def test_a_silence_in_force_shows_on_its_incident():
    from alerting.silence import Silence

    c = console(Acks(), ev("acme", 1, "opened"), ev("dwp", 1, "opened"))
    c.receive(("silences", [Silence("s1", "acme", "entity", ("acme",), T0 + 7200, "kim",
                                    "known campaign", T0)]))
    out = text(c)
    assert "silenced until 2024-05-01 14:34 UTC by kim: known campaign; critical still" in out
    assert out.count("silenced until") == 1  # only on acme's block


def test_any_key_but_y_cancels_the_acknowledgement():
    acks = Acks()
    c = console(acks, ev("acme", 1, "opened"))
    c.handle_key("a")
    c.handle_key("a")
    assert acks.sent == [] and "not acknowledged" in text(c)


def test_a_failed_ack_is_shown_not_swallowed():
    c = console(Acks(fail="no Kafka at 127.0.0.1:9092"), ev("acme", 1, "opened"))
    c.handle_key("a")
    c.handle_key("y")
    out = text(c)
    assert "ack NOT sent for acme-20240501T123400Z: no Kafka at 127.0.0.1:9092" in out
    assert "NOT ACKNOWLEDGED" in out


def test_an_acknowledged_incident_is_not_acknowledged_again():
    acks = Acks()
    c = console(acks, ev("acme", 1, "opened"), ev("acme", 2, "acknowledged", by="kim"))
    c.handle_key("a")
    c.handle_key("y")
    assert acks.sent == [] and "already acknowledged by kim" in text(c)


def test_selection_follows_the_incident_not_the_row_and_q_quits():
    c = console(Acks(), ev("acme", 1, "opened"), ev("dwp", 1, "opened"))
    c.handle_key("j")
    selected = c.selected
    c.receive(("events", [ev("zed", 1, "opened", "critical")]))
    c.screen()
    assert c.selected == selected
    assert c.handle_key("q") is False


def test_feed_catches_up_then_returns_only_new_events():
    store = MemoryAlertStore()
    store.publish(ev("acme", 1, "opened"))
    feed = Feed(store)
    assert [e.event_id for e in feed.catch_up()] == ["acme-20240501T123400Z:1"]
    assert feed.next(0.01) == []
    store.publish(ev("acme", 2, "escalated", "critical"))
    assert [e.seq for e in feed.next(0.01)] == [2]


class FlakyStore(MemoryAlertStore):
    """Unreachable for the first ``failures`` catch-ups, like Redis restarting."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def catch_up(self, last_id="0-0", count=None):
        if self.failures:
            self.failures -= 1
            raise AlertStoreUnavailable("Redis at redis://127.0.0.1:1 unavailable")
        return super().catch_up(last_id, count)


def test_follower_reports_unreachable_redis_and_recovers():
    store = FlakyStore(failures=1)
    store.publish(ev("acme", 1, "opened"))
    messages: list[tuple] = []
    got_board = threading.Event()

    def emit(message: tuple) -> None:
        messages.append(message)
        if message[0] == "reset":
            got_board.set()

    follower = Follower(Feed(store), emit, block=0.01)
    thread = threading.Thread(target=follower.run, daemon=True)
    thread.start()
    assert got_board.wait(10)
    follower.stop.set()
    thread.join(5)
    statuses = [m[2] for m in messages if m[0] == "status"]
    assert statuses[0] == "catching up…"
    assert statuses[1].startswith("Redis unreachable, retrying in 0.5s (Redis at")
    assert statuses[2:] == ["catching up…", "connected"]
    assert [e.seq for m in messages if m[0] == "reset" for e in m[1]] == [1]


# -- one story, one block ------------------------------------------------------------

NAMES = {"acme": ("Acme Stores", "partner"), "wp": ("Work Programme", "policy"),
         "dwp": ("Department for Work and Pensions", "department")}


def story_events() -> list[AlertEvent]:
    book = Stories(StoryRules.of({"acme": ("wp",)}, NAMES))

    def told(entity: str, seq: int, kind: str, severity: str, by: str | None = None):
        name, kind_ = NAMES[entity]
        return book.tell(AlertEvent(f"{entity}-20240501T123400Z", seq, kind, entity, name,
                                    kind_, severity, T0 + 60 * seq, 90, 8.5, 0.8, 0.3, 9.1,
                                    evidence=EVIDENCE, acknowledged_by=by,
                                    window_seconds=300))
    return [told("acme", 1, "opened", "warning"), told("wp", 1, "opened", "critical"),
            told("dwp", 1, "opened", "warning")]


def test_a_partner_and_its_policy_in_one_story_are_one_block_acknowledged_together():
    acks = Acks()
    c = console(acks, *story_events())
    out = text(c)
    head = next(line for line in out.splitlines() if "Acme Stores (partner) +" in line)
    assert "CRITICAL" in head and "NOT ACKNOWLEDGED" in head
    assert "Acme Stores (partner) + Work Programme (policy)" in head
    assert out.count("NOT ACKNOWLEDGED") == 2  # the story, and the department on its own
    c.handle_key("a")
    assert "Acknowledge story acme-20240501T123400Z (Acme Stores (partner) + Work" in text(c)
    c.handle_key("y")
    assert acks.sent == ["acme-20240501T123400Z", "wp-20240501T123400Z"]
    c.receive(("events", [AlertEvent("acme-20240501T123400Z", 2, "acknowledged", "acme",
                                     "Acme Stores", "partner", "warning", T0 + 300, 0, 0.0,
                                     0.0, 0.0, 0.0, acknowledged_by="sam")]))
    assert "PARTLY ACKNOWLEDGED" not in text(c)  # the other ack is still on its way
    assert "recorded by the worker, updating…" in text(c)


# -- 80 x 24 -----------------------------------------------------------------------

def test_at_80_columns_severity_and_ack_state_are_never_cut_and_long_fields_end_in_an_ellipsis():
    long = ev("acme", 1, "opened", "critical")
    long = AlertEvent(long.incident_id, 1, "opened", "acme",
                      "The Very Long Name Of A Partner Organisation Delivering Things Ltd",
                      "partner", "critical", T0, 1615, 79.1, 0.8, 0.3, 9.1,
                      reasons=("x" * 300,), evidence=EVIDENCE, window_seconds=3600)
    c = console(Acks(), long, ev("dwp", 1, "opened"))
    screen = c.screen(80)
    rows = ["".join(t for t, _ in line) for line in (*screen.header, *screen.body)]
    assert all(len(row) <= 80 for row in rows), [r for r in rows if len(r) > 80]
    head = next(r for r in rows if "CRITICAL" in r and "The Very" in r)
    assert "NOT ACKNOWLEDGED" in head and head.endswith("…")
    assert "    1615 mentions in 60 min, usually 79.1 (20.4x)" in rows
    assert any(r.startswith("    why: xxx") and r.endswith("…") for r in rows)
    c.handle_key("a")
    footer = "".join(t for t, _ in c.screen(80).footer[0])
    assert len(footer) <= 80 and footer.endswith("as sam? y/n")


def test_more_below_takes_its_own_row_and_the_footer_stays_on_the_last_rows():
    c = console(Acks(), *[ev(f"e{i}", 1, "opened") for i in range(8)])
    screen = c.screen(80)
    top, rows = layout(screen, height=24, top=0)
    used = [row for row, _ in rows]
    assert len(used) == len(set(used)) and max(used) == 23  # no row written twice
    marker = next(row for row, line in rows if line == MORE_BELOW)
    first = len(screen.header) + 1
    shown = [line for row, line in rows if first <= row < marker]
    assert shown == list(screen.body[top: top + len(shown)])  # every body row above it intact
    assert marker == first + len(shown) == 24 - len(screen.footer) - 1


# -- liveness: a dead worker is not a quiet day ---------------------------------------

def alive(at: float, **kw) -> Heartbeat:
    return Heartbeat("w1", at, event_time=at - 5, last_input_at=at - 1, lag=0, **kw)


def test_the_header_says_the_worker_is_silent_in_red():
    c = console(Acks())
    c.receive(("liveness", [alive(T0 + 3600 - 180)], History(T0)))
    header = c.screen(80).header
    assert (("worker silent for 3 min", "alarm")) in header[1]
    c.receive(("liveness", [alive(T0 + 3600 - 2)], History(T0)))
    assert any(t.startswith("worker ok (lag 0, data up to") for t, _ in c.screen(80).header[1])


def test_an_empty_board_is_an_all_clear_only_with_a_live_worker_and_an_intact_history():
    c = console(Acks())
    assert "No open incidents known yet." in text(c)  # heartbeats not read yet
    c.receive(("liveness", [alive(T0 + 3600)], History(T0)))
    assert "No open incidents. Watching for new alerts." in text(c)
    c.receive(("liveness", [alive(T0 + 3000)], History(T0)))
    assert "No open incidents known, but worker silent for 10 min: this is not an all-clear" \
        in text(c)
    c.receive(("liveness", [], None))
    assert "No incident history in Redis yet: waiting for the worker." in text(c)


def test_a_console_that_finds_its_history_gone_says_lost_and_rebuilding_never_no_incidents():
    c = console(Acks(), ev("acme", 1, "opened"))
    lost = 1714567440.0  # 12:44:00 UTC
    c.receive(("lost", lost))
    c.receive(("reset", []))
    c.receive(("liveness", [alive(T0 + 3600, open_incidents=1)], None))
    out = text(c)
    assert "History lost at 12:44:00 UTC, rebuilding…" in out
    assert "No open incidents" not in out
    # the worker has begun the history again, holding one open incident
    c.receive(("liveness", [alive(T0 + 3600, open_incidents=1)], History(lost + 5, lost + 5)))
    assert "History lost at 12:44:05 UTC, rebuilding… (1 open incidents held" in text(c)
    # ... and republished it: the board is whole again
    c.receive(("events", [ev("acme", 1, "restored")]))
    c.receive(("liveness", [alive(T0 + 3600, open_incidents=1)],
               History(lost + 5, lost + 5, lost + 6, 1)))
    out = text(c)
    assert "History lost" not in out and "Acme (partner)" in out
