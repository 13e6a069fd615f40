"""The incident lifecycle, as a table of severity series and the events they must give."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerting.errors import LifecycleError, UnknownIncidentError
from alerting.lifecycle import Emit, IncidentState, Lifecycle, LifecycleParams
from models.verdict import Evidence, Sample, Verdict, severity_rank
from models.watchlist import Entity

T0 = 1714566840.0  # 2024-05-01T12:34:00Z
ACME = Entity("acme", "Acme Stores", "partner", terms=("acme",), owner="DWP",
              linked=("work-programme",))
N, W, R, C = None, "watch", "warning", "critical"


def verdict(minute: int, severity: str | None, volume: int = 40) -> Verdict:
    evidence = Evidence(samples=(Sample(f"m{minute}", "someone", "acme again"),),
                        linked=(("other-policy", 3),)) if severity else Evidence()
    return Verdict("acme", T0 + 60 * minute, severity, 5.0, volume, 8.0, 0.7, 0.3,
                   reasons=(f"minute {minute}",) if severity else (), evidence=evidence,
                   minute_volume=volume // 5, window_seconds=300.0)


def run(series, params=None, state=None, start=0):
    life, state = Lifecycle(params or LifecycleParams()), state or IncidentState()
    out = []
    for minute, severity in enumerate(series, start=start):
        state, emit = life.advance(state, verdict(minute, severity), ACME)
        out += [(minute, e.event, e.severity) for e in emit.events]
    return state, out


@pytest.mark.parametrize(("series", "expected"), [
    # opening: watch needs two minutes in a row, warning and critical one
    ([N, W, N, W, N], []),
    ([N, W, W], [(2, "opened", W)]),
    ([R], [(0, "opened", R)]),
    ([C], [(0, "opened", C)]),
    ([W, R], [(1, "opened", R)]),
    # escalation is immediate
    ([R, C], [(0, "opened", R), (1, "escalated", C)]),
    ([W, W, R, C], [(1, "opened", W), (2, "escalated", R), (3, "escalated", C)]),
    # flapping at the threshold: one incident, no resolve in between
    ([R, N] * 10, [(0, "opened", R), (16, "updated", R)]),
    ([W, W] + [N, W] * 10, [(1, "opened", W), (17, "updated", W)]),
    # warning/critical flapping: one escalation, de-escalation only after the 30-min hold
    ([R] + [C, R] * 5, [(0, "opened", R), (1, "escalated", C)]),
    ([C] + [R] * 30, [(0, "opened", C), (15, "updated", C), (30, "deescalated", R)]),
    ([C] + [W] * 29 + [R], [(0, "opened", C), (15, "updated", C), (30, "deescalated", R)]),
    ([R] + [W] * 30, [(0, "opened", R), (15, "updated", R), (30, "deescalated", W)]),
    # warning/watch flapping with lulls shorter than the hold: paged once, not once a wave
    ([R] + ([N] * 12 + [R]) * 4, [(0, "opened", R), (26, "updated", R), (52, "updated", R)]),
    ([R] + ([W] * 12 + [R]) * 4, [(0, "opened", R), (15, "updated", R), (30, "updated", R),
                                  (45, "updated", R)]),
    # resolve after 30 quiet minutes (the hold is as long: no de-escalation first)
    ([R] + [N] * 29, [(0, "opened", R)]),
    ([R] + [N] * 30, [(0, "opened", R), (30, "resolved", R)]),
    # an incident that never rose above watch waits two quiet hours: an entity in the
    # news has spikes all day, and each must not open an incident of its own
    ([W, W] + [N] * 30, [(1, "opened", W)]),
    ([W, W] + [N] * 119, [(1, "opened", W)]),
    ([W, W] + [N] * 120, [(1, "opened", W), (121, "resolved", W)]),
    ([W, W] + [N] * 90 + [W] + [N] * 120, [(1, "opened", W), (92, "updated", W),
                                           (212, "resolved", W)]),
    # ... one that warned resolves after 30 quiet minutes, whatever its level now
    ([W, W, R] + [N] * 30, [(1, "opened", W), (2, "escalated", R), (32, "resolved", R)]),
    # a new episode after resolving is a new incident
    ([C] + [N] * 30 + [C], [(0, "opened", C), (30, "resolved", C), (31, "opened", C)]),
    # cooldown: 'updated' at most every 15 minutes while it keeps alerting
    ([R] * 31, [(0, "opened", R), (15, "updated", R), (30, "updated", R)]),
    ([R] * 14, [(0, "opened", R)]),
    ([R, C] + [C] * 15, [(0, "opened", R), (1, "escalated", C), (16, "updated", C)]),
])
def test_events_for_severity_series(series, expected):
    assert run(series)[1] == expected


@pytest.mark.parametrize(("params", "series", "expected"), [
    (LifecycleParams(open_watch=1), [W], [(0, "opened", W)]),
    (LifecycleParams(open_warning=2), [R, W], [(1, "opened", W)]),
    (LifecycleParams(open_warning=2), [R, R], [(1, "opened", R)]),
    (LifecycleParams(resolve_quiet=300), [R, N, N, N, N, N],
     [(0, "opened", R), (5, "resolved", R)]),
    (LifecycleParams(watch_quiet=300), [W, W, N, N, N, N, N],
     [(1, "opened", W), (6, "resolved", W)]),
    (LifecycleParams(deescalate_hold=120), [C, R, R], [(0, "opened", C), (2, "deescalated", R)]),
    (LifecycleParams(renotify_cooldown=120), [R] * 5,
     [(0, "opened", R), (2, "updated", R), (4, "updated", R)]),
])
def test_parameters_change_the_rules(params, series, expected):
    assert run(series, params)[1] == expected


def test_events_carry_the_verdict_figures_evidence_and_entity():
    life = Lifecycle()
    _, ([opened], _) = life.advance(IncidentState(), verdict(0, R, volume=77), ACME)
    assert (opened.incident_id, opened.seq, opened.event_id) == (
        "acme-20240501T123400Z", 1, "acme-20240501T123400Z:1")
    assert (opened.entity_name, opened.entity_kind, opened.owner) == ("Acme Stores", "partner",
                                                                      "DWP")
    assert (opened.volume, opened.expected_volume, opened.score) == (77, 8.0, 5.0)
    assert opened.window_seconds == 300.0 and opened.opened_at == T0
    assert opened.figures.volume_text() == "77 mentions in 5 min, usually 8.0 (9.6x)"
    assert opened.reasons == ("minute 0",)
    assert opened.evidence.samples[0].id == "m0"
    # co-mentioned entities first, then the watchlist's links
    assert opened.evidence.linked == (("other-policy", 3), ("work-programme", 0))
    assert opened.at == T0 and opened.emitted_at is None


# A short hold, so that calm minutes cause a 'deescalated' before the 'resolved'.
SHORT_HOLD = LifecycleParams(deescalate_hold=600)


def test_calm_events_show_the_last_alerting_evidence():
    life = Lifecycle(SHORT_HOLD)
    state = IncidentState()
    out = []
    for minute, severity in enumerate([R] + [N] * 30):
        state, emit = life.advance(state, verdict(minute, severity), ACME)
        out += emit.events
    resolved = out[-1]
    assert resolved.event == "resolved" and resolved.evidence.samples[0].id == "m0"
    assert resolved.reasons == ("no alerting minute for 30 min",)
    assert [e.seq for e in out] == [1, 2, 3]


def test_calm_events_show_the_evidence_of_the_last_alerting_event():
    """Minutes 1-5 alert without notifying: their evidence is never worked out, so the
    resolution shows the opening's (the last alerting minute that emitted an event)."""
    life = Lifecycle(SHORT_HOLD)
    state, out = IncidentState(), []
    for minute, severity in enumerate([R] * 6 + [N] * 30):
        state, emit = life.advance(state, verdict(minute, severity), ACME)
        out += emit.events
    assert [e.event for e in out] == ["opened", "deescalated", "resolved"]
    assert out[-1].evidence.samples[0].id == "m0"


def _lazy(minute: int, severity: str | None, calls: list[int]) -> Verdict:
    def explain() -> Evidence:
        calls.append(minute)
        return verdict(minute, severity).evidence
    return replace(verdict(minute, severity), evidence=Evidence(), explain=explain)


def test_evidence_is_worked_out_only_for_the_minutes_that_emit_an_event():
    life, state, calls, out = Lifecycle(SHORT_HOLD), IncidentState(), [], []
    for minute, severity in enumerate([R] * 20 + [N] * 30):
        state, emit = life.advance(state, _lazy(minute, severity, calls), ACME)
        out += emit.events
    assert [(e.event, e.at) for e in out[:2]] == [("opened", T0), ("updated", T0 + 900)]
    assert calls == [0, 15]  # not the 18 alerting minutes that notified nobody
    assert [e.evidence.samples[0].id for e in out] == ["m0", "m15", "m15", "m15"]
    assert state.incident.evidence.samples[0].id == "m15"


@pytest.mark.parametrize("redelivered", [[0], [0, 1, 2], [2], [1, 2, 2, 2]])
def test_redelivery_makes_no_second_incident_or_event(redelivered):
    state, first = run([N, R, R])
    assert [event for _, event, _ in first] == ["opened"]
    life = Lifecycle()
    for minute in redelivered:
        state, again = life.advance(state, verdict(minute, [N, R, R][minute]), ACME)
        assert again == Emit()
    assert state.open_incident is not None


def test_restart_from_a_saved_state_gives_the_same_ids():
    series = [N, W, W, R, C] + [N] * 40 + [W, W]
    _, whole = run(series)
    state, head = run(series[:20])
    saved = IncidentState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert saved == state and pickle.loads(pickle.dumps(state)) == state
    # the restarted worker re-reads from minute 15: the overlap is ignored
    _, tail = run(series[15:], state=saved, start=15)
    assert head + tail == whole


def test_a_state_saved_before_peaks_were_kept_loads_with_its_severity_as_peak():
    state, _ = run([R, C, N])
    data = json.loads(json.dumps(state.to_dict()))
    assert data["incident"]["peak"] == C
    del data["incident"]["peak"]
    old = IncidentState.from_dict(data)
    assert old.incident.peak == old.incident.severity == C


def test_acknowledge_once_then_later_events_name_who():
    life = Lifecycle()
    state, ([opened], _) = life.advance(IncidentState(), verdict(0, R), ACME)
    state, ([ack], ()) = life.acknowledge(state, opened.incident_id, "duty-officer",
                                              T0 + 30, ACME)
    assert (ack.event, ack.seq, ack.acknowledged_by, ack.at) == (
        "acknowledged", 2, "duty-officer", T0 + 30)
    assert ack.reasons == ("acknowledged by duty-officer",)
    # the figures of the latest minute judged, with their window
    assert (ack.volume, ack.window_seconds, ack.opened_at) == (40, 300.0, T0)
    state, again = life.acknowledge(state, opened.incident_id, "someone-else", T0 + 40, ACME)
    assert again == Emit()
    state, ([escalated], _) = life.advance(state, verdict(1, C), ACME)
    assert escalated.seq == 3 and escalated.acknowledged_by == "duty-officer"


def test_a_resolved_incident_can_still_be_acknowledged():
    state, _ = run([R] + [N] * 30)
    assert state.open_incident is None
    _, ([ack], _) = Lifecycle().acknowledge(state, "acme-20240501T123400Z", "lead",
                                                T0 + 3600, ACME)
    assert ack.event == "acknowledged" and ack.seq == 3  # opened, resolved, acknowledged


@pytest.mark.parametrize("incident", ["acme-20240501T000000Z", "other-20240501T123400Z"])
def test_acknowledging_an_unknown_incident_says_which_one_is_held(incident):
    state, _ = run([R])
    with pytest.raises(UnknownIncidentError, match="acme-20240501T123400Z"):
        Lifecycle().acknowledge(state, incident, "duty", T0, ACME)
    with pytest.raises(UnknownIncidentError, match="holds none"):
        Lifecycle().acknowledge(IncidentState(), incident, "duty", T0, ACME)


def test_verdict_for_another_entity_is_a_bug():
    other = Verdict("other", T0, R, 1.0, 1, 1.0, 0.1, 0.1)
    with pytest.raises(LifecycleError, match="'other'"):
        Lifecycle().advance(IncidentState(), other, ACME)


@pytest.mark.parametrize("bad", [{"open_watch": 0}, {"resolve_quiet": -1}, {"watch_quiet": -1},
                                 {"lookback": 0}])
def test_bad_parameters_are_refused(bad):
    with pytest.raises(LifecycleError, match=next(iter(bad))):
        LifecycleParams(**bad)


def points_of(series, params=None):
    life, state, out = Lifecycle(params or LifecycleParams()), IncidentState(), []
    for minute, severity in enumerate(series):
        state, emit = life.advance(state, verdict(minute, severity), ACME)
        out.append([(p.incident_id, [(round((x.at - T0) / 60), x.severity) for x in p.points])
                    for p in emit.points])
    return state, out


def test_timeline_points_leave_as_output_the_build_up_with_the_opening_then_one_a_minute():
    state, out = points_of([N, N, W, W, R, N], LifecycleParams(lookback=3))
    incident = "acme-20240501T123700Z"
    assert out == [[], [], [], [(incident, [(1, N), (2, W), (3, W)])],
                   [(incident, [(4, R)])], [(incident, [(5, N)])]]
    # the state does not grow with the incident: it keeps only the build-up window
    assert len(state.recent) == 3 and "points" not in state.open_incident.to_dict()


def test_state_without_a_timeline_grows_no_bigger_with_a_long_incident():
    short, _ = run([R] * 20)
    long, _ = run([R] * 300)
    assert len(json.dumps(long.to_dict())) - len(json.dumps(short.to_dict())) < 100


def test_restore_republishes_the_open_incident_at_its_latest_seq_without_changing_state():
    state, _ = run([R, C, R], LifecycleParams(lookback=3))
    life = Lifecycle(LifecycleParams(lookback=3))
    state, ([ack], _) = life.acknowledge(state, "acme-20240501T123400Z", "sam", T0 + 200,
                                             ACME)
    emit = life.restore(state, ACME)
    [restored] = emit.events
    assert (restored.event, restored.seq, restored.event_id) == (
        "restored", ack.seq, ack.event_id)  # a store that still has it drops it
    assert (restored.severity, restored.acknowledged_by, restored.opened_at) == (C, "sam", T0)
    assert restored.reasons == ("minute 2",) and restored.volume == 40
    assert [p.at for p in emit.points[0].points] == [T0, T0 + 60, T0 + 120]
    resolved, _ = run([R] + [N] * 30)
    assert life.restore(resolved, ACME) == Emit() == life.restore(IncidentState(), ACME)


severities = st.sampled_from([None, None, None, "watch", "warning", "critical"])
steps = st.lists(st.tuples(severities, st.integers(min_value=1, max_value=40)), max_size=200)


@settings(max_examples=200, deadline=None)
@given(steps)
def test_any_verdict_sequence_obeys_the_state_machine(series):
    life, state, events, minute = Lifecycle(), IncidentState(), [], 0
    for severity, gap in series:
        minute += gap
        state, out = life.advance(state, verdict(minute, severity), ACME)
        assert len(out.events) <= 1
        events += out.events
    current: dict[str, str] = {}  # open incident id -> severity
    done: set[str] = set()
    for e in events:
        assert e.incident_id not in done, "nothing after 'resolved'"
        if e.event == "opened":
            assert not current, "one open incident per entity at a time"
            assert e.seq == 1
            current[e.incident_id] = e.severity
            continue
        assert e.incident_id in current, f"{e.event} before 'opened'"
        before = current[e.incident_id]
        if e.event == "escalated":
            assert severity_rank(e.severity) > severity_rank(before) == severity_rank(
                e.previous_severity)
        elif e.event == "deescalated":
            assert severity_rank(e.severity) < severity_rank(before)
        elif e.event == "resolved":
            del current[e.incident_id]
            done.add(e.incident_id)
            continue
        current[e.incident_id] = e.severity
    ids = [e.event_id for e in events]
    assert len(ids) == len(set(ids))


@settings(max_examples=100, deadline=None)
@given(steps, st.data())
def test_redelivered_verdicts_never_change_the_events(series, data):
    verdicts, minute = [], 0
    for severity, gap in series:
        minute += gap
        verdicts.append(verdict(minute, severity))
    life = Lifecycle()

    def events_of(sequence):
        state, out = IncidentState(), []
        for v in sequence:
            state, emit = life.advance(state, v, ACME)
            out += emit.events
        return out

    noisy = []
    for i, v in enumerate(verdicts):
        noisy.append(v)
        if i and data.draw(st.booleans()):
            noisy.append(verdicts[data.draw(st.integers(0, i))])  # an old one, again
    assert events_of(noisy) == events_of(verdicts)
