"""The notification planner: routes, quiet hours, dedupe and re-notify, with time passed in."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerting.event import AlertEvent, parse_time
from alerting.notifiers.notification import Notification
from alerting.notifiers.planner import NotificationPlanner, PlannerState
from alerting.notifiers.policy import parse_policy
from models.verdict import SEVERITIES

POLICY = parse_policy("""
channels:
  slack: {type: webhook, url: "https://hooks.example/T1"}
  mail: {type: email, to: [duty@dept.example], from: fs@dept.example}
routes:
  - {severities: [warning, critical], channels: [slack]}
  - {severities: [critical], channels: [mail]}
quiet_hours: {start: "22:00", end: "07:00", timezone: Europe/London}
renotify_critical_minutes: 15
""", "test-policy")

DAY = parse_time("2024-01-15T12:00:00Z")    # midday in London
NIGHT = parse_time("2024-01-16T02:00:00Z")  # 2am in London: quiet hours
INCIDENT = "acme-20240115T120000Z"


def ev(seq: int, kind: str, severity: str, incident: str = INCIDENT,
       acknowledged_by: str | None = None) -> AlertEvent:
    return AlertEvent(incident, seq, kind, incident.rsplit("-", 1)[0], "Acme", "partner",
                      severity, DAY + 60 * seq, 40, 8.0, 0.7, 0.3, 5.0,
                      acknowledged_by=acknowledged_by)


def run(steps: list[tuple[str, float, AlertEvent | None]],
        planner: NotificationPlanner | None = None) -> list[str]:
    """Feed ('event', now, event) and ('timer', now, None) steps; the ids planned, in order."""
    planner = planner or NotificationPlanner(POLICY)
    state, out = PlannerState(), []
    for kind, now, event in steps:
        if kind == "event":
            assert event is not None
            state, planned = planner.on_event(state, event, now)
        else:
            state, planned = planner.on_timer(state, now)
        out += [n.id for n in planned]
    return out


INC = INCIDENT


@pytest.mark.parametrize(("steps", "expected"), [
    # routes: warning to slack only; critical to slack and mail
    ([("event", DAY, ev(1, "opened", "warning"))], [f"{INC}:1/slack"]),
    ([("event", DAY, ev(1, "opened", "critical"))], [f"{INC}:1/slack", f"{INC}:1/mail"]),
    ([("event", DAY, ev(1, "opened", "watch"))], []),                  # no route for watch
    ([("event", DAY, ev(2, "updated", "critical"))], []),              # not in default events
    # quiet hours: warning is held back, critical never is
    ([("event", NIGHT, ev(1, "opened", "warning"))], []),
    ([("event", NIGHT, ev(1, "opened", "critical"))], [f"{INC}:1/slack", f"{INC}:1/mail"]),
    # a redelivered event notifies once
    ([("event", DAY, ev(1, "opened", "warning")), ("event", DAY + 5, ev(1, "opened", "warning"))],
     [f"{INC}:1/slack"]),
    # an unacknowledged critical is re-notified every 15 minutes, not before
    ([("event", DAY, ev(1, "opened", "critical")), ("timer", DAY + 899, None),
      ("timer", DAY + 900, None), ("timer", DAY + 1000, None), ("timer", DAY + 1800, None)],
     [f"{INC}:1/slack", f"{INC}:1/mail", f"{INC}:1/slack/r1", f"{INC}:1/mail/r1",
      f"{INC}:1/slack/r2", f"{INC}:1/mail/r2"]),
    # ... also at night
    ([("event", NIGHT, ev(1, "opened", "critical")), ("timer", NIGHT + 900, None)],
     [f"{INC}:1/slack", f"{INC}:1/mail", f"{INC}:1/slack/r1", f"{INC}:1/mail/r1"]),
    # acknowledged stops it (and is itself notified)
    ([("event", DAY, ev(1, "opened", "critical")),
      ("event", DAY + 60, ev(2, "acknowledged", "critical", acknowledged_by="jo")),
      ("timer", DAY + 3600, None)],
     [f"{INC}:1/slack", f"{INC}:1/mail", f"{INC}:2/slack", f"{INC}:2/mail"]),
    # resolved stops it
    ([("event", DAY, ev(1, "opened", "critical")), ("event", DAY + 60, ev(2, "resolved",
                                                                          "critical")),
      ("timer", DAY + 3600, None)],
     [f"{INC}:1/slack", f"{INC}:1/mail", f"{INC}:2/slack", f"{INC}:2/mail"]),
    # de-escalated below critical: no more reminders
    ([("event", DAY, ev(1, "opened", "critical")),
      ("event", DAY + 60, ev(2, "deescalated", "warning")), ("timer", DAY + 3600, None)],
     [f"{INC}:1/slack", f"{INC}:1/mail"]),
    # escalated to critical starts the reminders from the escalation
    ([("event", DAY, ev(1, "opened", "warning")),
      ("event", DAY + 600, ev(2, "escalated", "critical")), ("timer", DAY + 900, None),
      ("timer", DAY + 1500, None)],
     [f"{INC}:1/slack", f"{INC}:2/slack", f"{INC}:2/mail", f"{INC}:2/slack/r1",
      f"{INC}:2/mail/r1"]),
    # a silent 'updated' keeps the incident's figures fresh but not the reminder clock
    ([("event", DAY, ev(1, "opened", "critical")), ("event", DAY + 600, ev(2, "updated",
                                                                           "critical")),
      ("timer", DAY + 900, None)],
     [f"{INC}:1/slack", f"{INC}:1/mail", f"{INC}:2/slack/r1", f"{INC}:2/mail/r1"]),
    # a late, redelivered older event of an acknowledged incident does not restart reminders
    ([("event", DAY, ev(1, "opened", "critical")),
      ("event", DAY + 60, ev(2, "acknowledged", "critical", acknowledged_by="jo")),
      ("event", DAY + 61, ev(3, "updated", "critical")), ("timer", DAY + 3600, None)],
     [f"{INC}:1/slack", f"{INC}:1/mail", f"{INC}:2/slack", f"{INC}:2/mail"]),
])
def test_notifications_for_event_sequences(steps, expected) -> None:
    assert run(steps) == expected


def test_renotify_off_tracks_nothing() -> None:
    planner = NotificationPlanner(parse_policy(
        "channels: {s: {type: webhook, url: 'https://x.example'}}\n"
        "routes: [{severities: [critical], channels: [s]}]\n"))
    state, _ = planner.on_event(PlannerState(), ev(1, "opened", "critical"), DAY)
    assert state.watching == () and planner.next_due(state) is None
    assert planner.on_timer(state, DAY + 10**6)[1] == []


def test_events_setting_adds_updated() -> None:
    policy = parse_policy(
        "channels: {s: {type: webhook, url: 'https://x.example'}}\n"
        "routes: [{severities: [warning], channels: [s]}]\nevents: [updated]\n")
    assert run([("event", DAY, ev(1, "opened", "warning")),
                ("event", DAY, ev(2, "updated", "warning"))],
               NotificationPlanner(policy)) == [f"{INC}:2/s"]


def test_dedupe_memory_is_bounded() -> None:
    planner = NotificationPlanner(POLICY, memory=3)
    state = PlannerState()
    for seq in range(1, 10):
        state, _ = planner.on_event(state, ev(seq, "updated", "warning"), DAY)
    assert state.seen == (f"{INC}:7", f"{INC}:8", f"{INC}:9")


def test_state_round_trips_through_json() -> None:
    planner = NotificationPlanner(POLICY)
    state = PlannerState()
    for i, inc in enumerate(["a-20240115T120000Z", "b-20240115T120000Z"]):
        state, _ = planner.on_event(state, ev(1, "opened", "critical", inc), DAY + i)
    state, _ = planner.on_event(state, ev(2, "resolved", "critical", "a-20240115T120000Z"), DAY)
    state, _ = planner.on_timer(state, DAY + 2000)
    assert PlannerState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    assert [w.event.incident_id for w in state.watching] == ["b-20240115T120000Z"]
    assert state.watching[0].renotified == 1


def test_notification_round_trips_through_json() -> None:
    n = Notification("mail", ev(3, "escalated", "critical"), DAY, renotify=2)
    assert Notification.from_dict(json.loads(json.dumps(n.to_dict()))) == n


# -- properties -------------------------------------------------------------------------

times = st.floats(min_value=DAY - 86_400 * 400, max_value=DAY + 86_400 * 400)


@given(now=times, kind=st.sampled_from(["opened", "escalated", "acknowledged", "resolved"]))
def test_quiet_hours_never_suppress_critical(now: float, kind: str) -> None:
    planner = NotificationPlanner(POLICY)
    seq, prev = (2, "warning") if kind == "escalated" else (1, None)
    event = AlertEvent(INC, seq, kind, "acme", "Acme", "partner", "critical", DAY, 40, 8.0,
                       0.7, 0.3, 5.0, previous_severity=prev)
    _, planned = planner.on_event(PlannerState(), event, now)
    assert {n.channel for n in planned} == {"slack", "mail"}


@given(now=times, severity=st.sampled_from(SEVERITIES))
def test_quiet_hours_hold_back_only_what_they_should(now: float, severity: str) -> None:
    planner = NotificationPlanner(POLICY)
    _, planned = planner.on_event(PlannerState(), ev(1, "opened", severity), now)
    quiet = POLICY.quiet_hours is not None and POLICY.quiet_hours.is_quiet(now)
    expected = set(POLICY.channels_for(severity))
    if quiet and severity != "critical":
        expected = set()
    assert {n.channel for n in planned} == expected


step = st.one_of(
    st.tuples(st.just("event"), st.sampled_from(["updated", "escalated", "deescalated",
                                                 "acknowledged", "resolved"]),
              st.sampled_from(SEVERITIES), st.floats(0, 3600)),
    st.tuples(st.just("timer"), st.just(""), st.just(""), st.floats(0, 7200)),
    st.tuples(st.just("redeliver"), st.just(""), st.just(""), st.floats(0, 60)),
)


@settings(max_examples=300)
@given(steps=st.lists(step, max_size=30))
def test_an_acknowledged_incident_is_never_renotified(steps) -> None:
    planner = NotificationPlanner(POLICY)
    now = DAY
    history = [ev(1, "opened", "critical")]
    state, _ = planner.on_event(PlannerState(), history[0], now)
    acked = False
    for kind, event_kind, severity, dt in steps:
        now += dt
        if kind == "timer":
            state, planned = planner.on_timer(state, now)
            planned = [n for n in planned if not n.digest]  # quiet hours' digest: news, not nagging
            if acked:
                assert planned == []
            assert all(n.renotify > 0 and n.event.severity == "critical" for n in planned)
            continue
        if kind == "redeliver":  # an older event turns up again
            state, planned = planner.on_event(state, history[int(dt) % len(history)], now)
            assert planned == []
            continue
        if acked and event_kind == "acknowledged":
            continue  # the lifecycle emits one acknowledgement per incident
        event = ev(len(history) + 1, event_kind, severity,
                   acknowledged_by="jo" if acked or event_kind == "acknowledged" else None)
        history.append(event)
        acked = acked or event_kind == "acknowledged"
        state, planned = planner.on_event(state, event, now)
        assert all(n.renotify == 0 for n in planned)
    if acked:
        assert state.watching == ()
        assert [n for n in planner.on_timer(state, now + 10**6)[1] if not n.digest] == []


# -- one storm, one message -----------------------------------------------------------

def story_of(*steps: tuple[str, str, int, str] | tuple[str, str, int, str, str]):
    """(entity, kind, seq, severity[, acknowledged_by]) told as the store would tell them."""
    from alerting.story import Stories, StoryRules

    book = Stories(StoryRules.of({"acme": ("wp",)}, {"acme": ("Acme", "partner"),
                                                     "wp": ("Work Programme", "policy")}))
    out = []
    for i, (entity, kind, seq, severity, *by) in enumerate(steps):
        name = {"acme": "Acme", "wp": "Work Programme"}[entity]
        out.append(book.tell(AlertEvent(f"{entity}-20240115T120000Z", seq, kind, entity, name,
                                        "partner", severity, DAY + 60 * i, 40, 8.0, 0.7, 0.3,
                                        5.0, acknowledged_by=by[0] if by else None)))
    return out


def test_a_partner_and_its_policy_storming_together_page_once():
    events = story_of(("acme", "opened", 1, "critical"),
                      ("wp", "opened", 1, "warning"),        # joins the storm: not news
                      ("wp", "escalated", 2, "critical"),    # the storm was already critical
                      ("acme", "acknowledged", 2, "critical", "jo"),
                      ("wp", "acknowledged", 3, "critical", "jo"),  # the story is in hand
                      ("acme", "resolved", 3, "critical", "jo"),    # wp still storms
                      ("wp", "resolved", 4, "critical", "jo"))      # now it is over
    ids = run([("event", DAY + i, e) for i, e in enumerate(events)])
    acme, wp = "acme-20240115T120000Z", "wp-20240115T120000Z"
    assert ids == [f"{acme}:1/slack", f"{acme}:1/mail", f"{acme}:2/slack", f"{acme}:2/mail",
                   f"{wp}:4/slack", f"{wp}:4/mail"]


def test_a_story_that_gets_worse_pages_again_and_reminders_are_per_story():
    events = story_of(("acme", "opened", 1, "warning"), ("wp", "opened", 1, "critical"),
                      ("acme", "escalated", 2, "critical"))
    ids = run([("event", DAY, events[0]), ("event", DAY + 1, events[1]),
               ("event", DAY + 2, events[2]), ("timer", DAY + 901, None)])
    acme, wp = "acme-20240115T120000Z", "wp-20240115T120000Z"
    assert ids == [f"{acme}:1/slack", f"{wp}:1/slack", f"{wp}:1/mail",
                   f"{acme}:2/slack/r1", f"{acme}:2/mail/r1"]  # one reminder, of the story


# -- a dead worker is not a quiet night ---------------------------------------------------

def test_a_silent_worker_pages_once_where_critical_goes_and_again_when_it_is_back():
    from alerting.liveness import Heartbeat, judge
    from alerting.notifiers.message import chat_text

    planner = NotificationPlanner(POLICY)
    beat = Heartbeat("w", NIGHT, last_input_at=NIGHT)
    state = PlannerState()
    plan = []
    for now in (NIGHT + 60, NIGHT + 301, NIGHT + 600):  # silent from NIGHT: 5 min is the limit
        state, out = planner.on_liveness(state, judge([beat], None, now), now, started=0.0)
        plan.append([n.id for n in out])
    assert plan == [[], ["deadman:worker:1705370400:silent/slack",
                         "deadman:worker:1705370400:silent/mail"], []]  # told once, at night
    state = PlannerState.from_dict(json.loads(json.dumps(state.to_dict())))  # survives restart
    alive = Heartbeat("w", NIGHT + 900, last_input_at=NIGHT + 899)
    state, out = planner.on_liveness(state, judge([alive], None, NIGHT + 901), NIGHT + 901, 0.0)
    assert [n.event.event for n in out] == ["worker back", "worker back"]
    assert Notification.from_dict(out[0].to_dict()) == out[0]  # the journal keeps it whole
    text = chat_text(out[0].event)
    assert text.startswith("*WATCH worker back: the Firestorm worker is alive again after 15 min")


def test_no_heartbeat_at_all_counts_from_when_notify_started_and_a_dead_feed_pages_too():
    from alerting.liveness import Heartbeat, judge
    from alerting.notifiers.message import chat_text, subject

    planner = NotificationPlanner(POLICY)
    state, out = planner.on_liveness(PlannerState(), judge([], None, DAY + 299), DAY + 299, DAY)
    assert out == []
    state, out = planner.on_liveness(state, judge([], None, DAY + 300), DAY + 300, DAY)
    assert {n.event.event for n in out} == {"worker silent"}
    text = chat_text(out[0].event)
    assert "worker silent for 5 min" in text and "NOT a quiet night" in text
    # a live worker that takes in nothing for an hour: the feed is dead
    beat = Heartbeat("w", DAY + 3700, last_input_at=DAY + 90)
    _, out = planner.on_liveness(state, judge([beat], None, DAY + 3701), DAY + 3701, DAY)
    assert {n.event.event for n in out} == {"worker back", "feed silent"}
    feed = next(n.event for n in out if n.event.event == "feed silent")
    assert subject(feed).startswith("[Firestorm] CRITICAL feed silent for 60 min")


# ---------------------------------------------------------------- silences, tiers, digest

def _silence(include_critical: bool = False, until: float = DAY + 7200):
    from alerting.silence import Silence

    return Silence("s1", "acme", "entity", ("acme",), until, "kim", "known campaign",
                   DAY - 60, include_critical)


def test_a_silence_holds_back_a_warning_but_a_critical_goes_out_naming_it():
    planner = NotificationPlanner(POLICY)
    state, out = planner.on_event(PlannerState(), ev(1, "opened", "warning"), DAY, [_silence()])
    assert out == []
    state, out = planner.on_event(state, ev(2, "escalated", "critical"), DAY + 60, [_silence()])
    assert [n.channel for n in out] == ["slack", "mail"]
    assert out[0].notes == ("silenced until 2024-01-15 14:00 UTC by kim: known campaign;"
                            " critical still notified",)


def test_a_silence_that_covers_critical_holds_back_reminders_until_it_ends():
    planner = NotificationPlanner(POLICY)
    silences = [_silence(include_critical=True, until=DAY + 3600)]
    state, out = planner.on_event(PlannerState(), ev(1, "opened", "critical"), DAY, silences)
    assert out == []
    state, out = planner.on_timer(state, DAY + 1800, silences)
    assert out == []
    state, out = planner.on_timer(state, DAY + 3600, silences)  # ended: reminders resume
    assert [n.renotify for n in out] == [1, 1]


TIERED = parse_policy("""
channels:
  slack: {type: webhook, url: "https://hooks.example/T1"}
  manager: {type: email, to: [manager@dept.example], from: fs@dept.example}
  head: {type: email, to: [head@dept.example], from: fs@dept.example}
routes: [{severities: [critical], channels: [slack]}]
escalation:
  - {after_minutes: 10, channels: [manager]}
  - {after_minutes: 30, channels: [head, manager]}
""", "tiers")


def test_an_unacknowledged_critical_goes_up_the_tiers_at_their_minutes():
    ids = run([("event", DAY, ev(1, "opened", "critical")),
               ("timer", DAY + 9 * 60, None),
               ("timer", DAY + 10 * 60, None),
               ("timer", DAY + 29 * 60, None),
               ("timer", DAY + 30 * 60, None),
               ("timer", DAY + 90 * 60, None)], NotificationPlanner(TIERED))
    assert ids == [f"{INC}:1/slack", f"{INC}:1/manager/t1", f"{INC}:1/head/t2",
                   f"{INC}:1/manager/t2"]


def test_an_acknowledgement_stops_the_escalation_and_next_due_knows_the_tiers():
    planner = NotificationPlanner(TIERED)
    state, _ = planner.on_event(PlannerState(), ev(1, "opened", "critical"), DAY)
    assert planner.next_due(state) == DAY + 600
    state, _ = planner.on_event(state, ev(2, "acknowledged", "critical", acknowledged_by="jo"),
                                DAY + 300)
    assert planner.on_timer(state, DAY + 3600)[1] == [] and planner.next_due(state) is None


def test_quiet_hours_hold_back_into_one_morning_digest_per_channel():
    planner = NotificationPlanner(POLICY)
    state, out = planner.on_event(PlannerState(), ev(1, "opened", "warning"), NIGHT)
    state, more = planner.on_event(state, ev(2, "resolved", "warning"), NIGHT + 600)
    assert out == more == [] and len(state.held) == 2
    assert planner.on_timer(state, NIGHT + 3600)[1] == []  # still night in London
    morning = parse_time("2024-01-16T07:00:00Z")
    state, digest = planner.on_timer(state, morning)
    assert [(n.channel, len(n.digest)) for n in digest] == [("slack", 2)]
    assert digest[0].id == f"digest-{int(morning)}/slack" and state.held == ()
    assert PlannerState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


def test_planner_state_with_tiers_and_held_events_round_trips():
    planner = NotificationPlanner(TIERED)
    state, _ = planner.on_event(PlannerState(), ev(1, "opened", "critical"), DAY)
    state, _ = planner.on_timer(state, DAY + 600)
    state = PlannerState(state.seen, state.closed, state.watching, (ev(3, "opened", "watch"),))
    assert PlannerState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    n = Notification("head", ev(1, "opened", "critical"), DAY, tier=2, notes=("x",),
                     digest=(ev(3, "opened", "watch"),))
    assert Notification.from_dict(json.loads(json.dumps(n.to_dict()))) == n
