"""The console without a terminal: keys in, screen text out, acks through an injected sender."""

from __future__ import annotations

import threading

import pytest

from alerting.ack import AckAnswer
from alerting.errors import AlertStoreUnavailable
from alerting.event import AlertEvent
from alerting.memory_store import MemoryAlertStore
from models.verdict import Evidence, Sample
from streams.console import Console, Feed, Follower, screen_text

T0 = 1714566840.0
EVIDENCE = Evidence(top_hashtags=(("#boycottacme", 9),),
                    samples=(Sample("p1", "anon:7f3a", "boycott\x1b[2J acme <script>x</script>"),),
                    linked=(("work-programme", 0),))


def ev(entity: str, seq: int, kind: str, severity: str = "warning",
       by: str | None = None) -> AlertEvent:
    return AlertEvent(f"{entity}-20240501T123400Z", seq, kind, entity, entity.title(),
                      "partner", severity, T0 + 60 * seq, 90, 8.5, 0.8, 0.3, 9.1,
                      reasons=("90 mentions in a minute, 10.6x the recent mean",),
                      evidence=EVIDENCE, owner="DWP", acknowledged_by=by)


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
    assert "Acme (partner)  acme-20240501T123400Z" in out and "NOT ACKNOWLEDGED" in out
    assert "volume 90 vs expected 8.5 | negative 80% vs 30% | score 9.1" in out
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
    assert "Acknowledge dwp-20240501T123400Z (Dwp) as sam? y/n" in text(c)
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
