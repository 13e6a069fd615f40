"""The in-memory store and the outbox in front of it: dedupe, catch-up, records, no loss."""

from __future__ import annotations

import itertools

import pytest

from alerting.delivery import DurableDelivery
from alerting.errors import AlertStoreConfigError, AlertStoreUnavailable
from alerting.event import AlertEvent
from alerting.lifecycle import Emit, IncidentState, Lifecycle
from alerting.memory_store import MemoryAlertStore
from alerting.store import open_store
from alerting.timeline import IncidentPoints, TimelinePoint
from models.verdict import Verdict
from models.watchlist import Entity

T0 = 1714566840.0
ACME = Entity("acme", "Acme Stores", "partner", terms=("acme",))
INCIDENT = "acme-20240501T123400Z"


def ev(seq: int, kind: str = "updated", severity: str = "warning", **kw) -> AlertEvent:
    return AlertEvent(INCIDENT, seq, kind, "acme", "Acme Stores", "partner", severity,
                      T0 + 60 * seq, 40, 8.0, 0.7, 0.3, 5.0, **kw)


def ticking(start: float = T0):
    counter = itertools.count()
    return lambda: start + next(counter) * 0.001


def test_publish_once_per_event_id_on_both_channels():
    store = MemoryAlertStore(clock=ticking())
    assert store.publish(ev(1, "opened")) is not None
    assert store.publish(ev(1, "opened")) is None
    for channel in ("firestorm:alerts", "firestorm:alerts:acme"):
        assert [e.seq for e in store.channel_messages(channel)] == [1]


def test_catch_up_returns_exactly_what_was_missed():
    store = MemoryAlertStore(clock=ticking())
    ids = [store.publish(ev(seq, "opened" if seq == 1 else "updated")) for seq in (1, 2, 3, 4)]
    assert [e.seq for _, e in store.catch_up()] == [1, 2, 3, 4]
    assert [e.seq for _, e in store.catch_up(ids[1])] == [3, 4]
    assert [e.seq for _, e in store.catch_up(ids[1], count=1)] == [3]
    assert store.catch_up(ids[-1]) == []


def test_stream_is_capped():
    store = MemoryAlertStore(stream_maxlen=2, clock=ticking())
    for seq in (1, 2, 3):
        store.publish(ev(seq))
    assert [e.seq for _, e in store.catch_up()] == [2, 3]


def test_records_follow_the_incident_and_a_late_ack_keeps_it_resolved():
    store = MemoryAlertStore(clock=ticking())
    store.publish(ev(1, "opened"))
    assert [r.incident_id for r in store.open_incidents()] == [INCIDENT]
    store.publish(ev(2, "resolved"))
    store.publish(ev(3, "acknowledged", acknowledged_by="duty"))
    record = store.incident(INCIDENT)
    assert (record.status, record.acknowledged_by, record.opened_at, record.resolved_at) == (
        "resolved", "duty", T0 + 60, T0 + 120)
    assert store.open_incidents() == []
    assert store.incident("nope") is None and store.timeline("nope") is None


def test_timeline_keeps_points_once_per_minute_and_events_in_order():
    store = MemoryAlertStore(clock=ticking())
    p = [TimelinePoint(T0 + 60 * i, 10 * i, 8.0, 0.5, 0.3, 1.0, None) for i in range(3)]
    store.record_points(INCIDENT, p[:2])
    store.record_points(INCIDENT, p[1:])
    store.publish(ev(1, "opened"))
    timeline = store.timeline(INCIDENT)
    assert timeline.points == tuple(p) and [e.seq for e in timeline.events] == [1]


def test_store_is_chosen_by_url():
    assert isinstance(open_store("memory://", stream_maxlen=5), MemoryAlertStore)
    with pytest.raises(AlertStoreConfigError, match="scheme must be"):
        open_store("http://localhost:6379")


def test_outbox_keeps_everything_while_down_and_delivers_in_order():
    store = MemoryAlertStore(clock=ticking())
    now = [0.0]
    outbox = DurableDelivery(store, clock=lambda: T0, monotonic=lambda: now[0])
    assert outbox.deliver([ev(1, "opened")]) == 1
    store.available = False
    for seq in range(2, 7):
        now[0] += 1
        outbox.deliver([ev(seq)])
    assert outbox.pending == 5 and not outbox.healthy
    with pytest.raises(AlertStoreUnavailable):
        store.catch_up()
    store.available = True
    now[0] += 60  # past the backoff
    assert outbox.flush() == 5 and outbox.pending == 0 and outbox.healthy
    assert [e.seq for _, e in store.catch_up()] == [1, 2, 3, 4, 5, 6]
    assert all(e.emitted_at == T0 for _, e in store.catch_up())


def test_outbox_waits_out_its_backoff_instead_of_hammering_a_dead_store():
    store, now = MemoryAlertStore(), [0.0]
    outbox = DurableDelivery(store, monotonic=lambda: now[0], min_backoff=0.5)
    store.available = False
    outbox.deliver([ev(1, "opened")])
    store.available = True
    assert outbox.deliver([ev(2)]) == 0 and outbox.pending == 2  # still backing off
    now[0] = 1.0
    assert outbox.flush() == 2


def test_outbox_records_each_new_timeline_point_once():
    store, life = MemoryAlertStore(clock=ticking()), Lifecycle()
    outbox = DurableDelivery(store)
    state = IncidentState()
    for minute, severity in enumerate([None, "warning", "warning", None]):
        v = Verdict("acme", T0 + 60 * minute, severity, 2.0, 20, 8.0, 0.5, 0.3)
        state, emit = life.advance(state, v, ACME)
        outbox.deliver(*emit)
    timeline = store.timeline(INCIDENT.replace("1234", "1235"))
    assert [p.severity for p in timeline.points] == [None, "warning", "warning", None]
    assert [e.event for e in timeline.events] == ["opened"]


def test_a_batch_of_steps_is_written_ahead_once_and_delivered_as_step_by_step(tmp_path):
    # The worker hands the outbox a whole batch: one fsync, one flush, the same store.
    steps, state, life = [], IncidentState(), Lifecycle()
    for minute, severity in enumerate([None, "warning", "warning", "warning", None]):
        v = Verdict("acme", T0 + 60 * minute, severity, 2.0, 20, 8.0, 0.5, 0.3)
        state, emit = life.advance(state, v, ACME)
        steps.append((emit.events, emit.points))
    one_by_one = MemoryAlertStore(clock=ticking())
    outbox = DurableDelivery(one_by_one, clock=lambda: T0)
    for events, points in steps:
        outbox.deliver(events, points)
    batched, spill = MemoryAlertStore(clock=ticking()), tmp_path / "outbox.jsonl"
    writes = []
    outbox = DurableDelivery(batched, clock=lambda: T0, spill_path=spill)
    outbox._write_ahead = writes.append  # count the write-aheads (each is one fsync)
    # The points of the minutes after the opening are one write: one item, not three.
    assert outbox.deliver_steps(steps) == 2 and outbox.pending == 0
    assert len(writes) == 1 and [kind for kind, _ in writes[0]] == ["event", "points"]
    incident = INCIDENT.replace("1234", "1235")
    assert batched.timeline(incident) == one_by_one.timeline(incident)
    assert [e.to_dict() for _, e in batched.catch_up()] == [
        e.to_dict() for _, e in one_by_one.catch_up()]


def test_a_batch_waits_whole_in_the_outbox_while_the_store_is_down(tmp_path):
    store, spill = MemoryAlertStore(clock=ticking()), tmp_path / "outbox.jsonl"
    store.available = False
    outbox = DurableDelivery(store, spill_path=spill)
    point = TimelinePoint(T0, 9, 3.0, 0.4, 0.2, 1.0, "watch")
    assert outbox.deliver_steps([([ev(1, "opened")], ()), ([ev(2)], ())]) == 0
    assert outbox.pending == 2
    outbox.deliver_steps([([], (IncidentPoints(INCIDENT, (point,)),))])
    store.available = True
    restarted = DurableDelivery(store, spill_path=spill)  # written ahead: survives a crash
    assert restarted.pending == 3 and restarted.flush(force=True) == 3
    assert [e.seq for _, e in store.catch_up()] == [1, 2]
    assert [p.at for p in store.timeline(INCIDENT).points] == [T0]


def test_spilled_outbox_survives_a_worker_restart(tmp_path):
    spill = tmp_path / "outbox.jsonl"
    store = MemoryAlertStore(clock=ticking())
    store.available = False
    DurableDelivery(store, spill_path=spill).deliver([ev(1, "opened"), ev(2)])
    with spill.open("a") as out:
        out.write('{"kind": "event", "event": {"torn')  # crash mid-write
    store.available = True
    restarted = DurableDelivery(store, spill_path=spill)
    assert restarted.pending == 2
    assert restarted.flush(force=True) == 2
    assert [e.seq for _, e in store.catch_up()] == [1, 2]
    assert spill.read_text() == ""
    # replaying the spill again (crash before truncation) delivers nothing twice
    again = DurableDelivery(store, spill_path=spill)
    assert again.deliver([ev(1, "opened")]) == 1
    assert len(store.catch_up()) == 2


def test_a_restore_goes_ahead_of_what_waits_and_an_older_event_never_rolls_back_the_record():
    store = MemoryAlertStore(clock=ticking())
    outbox = DurableDelivery(store)
    store.available = False
    outbox.deliver([ev(1, "opened"), ev(2, "escalated")])  # waiting while Redis is down
    store.available = True
    restored = AlertEvent(INCIDENT, 3, "restored", "acme", "Acme Stores", "partner",
                          "critical", T0 + 300, 90, 8.0, 0.8, 0.3, 9.0, opened_at=T0)
    assert outbox.restore(Emit((restored,))) == 3 and not outbox.restoring
    assert [e.event for _, e in store.catch_up()] == ["restored", "opened", "escalated"]
    record = store.incident(INCIDENT)
    assert (record.last_event, record.last_seq, record.severity) == ("restored", 3, "critical")
    assert [e.seq for e in store.timeline(INCIDENT).events] == [1, 2, 3]  # in seq order


def test_a_restore_leaves_out_the_state_an_event_still_waiting_will_deliver():
    # A worker started while Redis was down: its outbox holds the incident's latest event
    # (seq 2) when its first heartbeat republishes the incident at that seq. The real
    # 'escalated' is delivered, not a 'restored' copy that would take its event id.
    store = MemoryAlertStore(clock=ticking())
    outbox = DurableDelivery(store)
    store.available = False
    outbox.deliver([ev(1, "opened"), ev(2, "escalated", "critical")])
    store.available = True
    restored = AlertEvent(INCIDENT, 2, "restored", "acme", "Acme Stores", "partner",
                          "critical", T0 + 300, 90, 8.0, 0.8, 0.3, 9.0, opened_at=T0)
    assert outbox.restore(Emit((restored,))) == 2 and not outbox.restoring
    assert [(e.seq, e.event) for _, e in store.catch_up()] == [(1, "opened"), (2, "escalated")]
