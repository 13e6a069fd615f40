"""Both action stores behave alike: answers wait and are taken once, links are claimed once,
silences end on their own, feedback is kept by time. Real Redis, throwaway prefix."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from alerting.ack import AckAnswer
from alerting.action_store import RedisActionStore
from alerting.audit import AuditEntry
from alerting.feedback import Feedback
from alerting.links import LinkUse
from alerting.memory_actions import MemoryActionStore
from alerting.silence import Silence


@pytest.fixture(params=["memory", "redis"])
def store(request, redis_url):
    if request.param == "memory":
        yield MemoryActionStore()
        return
    s = RedisActionStore(redis_url, prefix=f"test-{uuid.uuid4().hex[:8]}")
    yield s
    s.close()


def test_an_answer_reaches_whoever_waits_for_it_once(store):
    answer = AckAnswer(uuid.uuid4().hex, "acme-20240501T123400Z", "recorded", "ok", "sam",
                       1714566900.0)
    later = threading.Timer(0.3, store.answer, (answer, AuditEntry(
        1714566900.0, answer.incident_id, "acknowledge", "sam", "cli", "host x", "recorded")))
    later.start()
    started = time.monotonic()
    assert store.wait_answer(answer.request_id, timeout=10) == answer
    assert time.monotonic() - started < 5
    assert store.wait_answer(answer.request_id, timeout=0.2) is None
    assert [e.outcome for e in store.audit(answer.incident_id)] == ["recorded"]


def test_a_link_is_claimed_once_and_can_be_given_back(store):
    use = LinkUse(time.time(), "sam", "pending", "10.0.0.7")
    assert store.claim_link("n1", 60, use) and not store.claim_link("n1", 60, use)
    store.release_link("n1")
    assert store.claim_link("n1", 60, use)
    store.finish_link("n1", LinkUse(use.at, "sam", "recorded", "10.0.0.7"), 60)
    assert store.link_use("n1").outcome == "recorded"


def test_silences_end_on_their_own_and_can_be_lifted(store):
    now = time.time()
    short = Silence.make("acme", scope="entity", linked=(), until=now + 1.0, by="sam",
                         why="x", now=now)
    long = Silence.make("wp", scope="entity", linked=(), until=now + 3600, by="sam",
                        why="y", now=now)
    store.add_silence(short)
    store.add_silence(long)
    assert [s.entity_id for s in store.silences()] == ["wp", "acme"]
    time.sleep(2.1)  # ends are whole seconds
    assert [s.entity_id for s in store.silences()] == ["wp"]
    assert store.lift_silence(long.id) == long and store.silences() == []


def test_feedback_is_kept_by_time(store):
    now = time.time()
    for i, at in enumerate((now - 40 * 86400, now - 86400)):
        store.add_feedback(Feedback(f"a-{i}", "acme", "Acme", "warning", "useful", "sam", at))
    assert [f.incident_id for f in store.feedback(now - 30 * 86400)] == ["a-1"]
    assert len(store.feedback()) == 2
