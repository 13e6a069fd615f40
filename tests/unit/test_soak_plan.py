"""The soak's chaos plan (tests/integration/soak.py): every kill it asks for is placed
in the stream, whatever its length, and a soak whose chaos did not all happen fails."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from tests.integration.soak import CI_PLAN, Plan, SoakReport, chaos_missed, schedule


@given(total=st.integers(20, 2_000_000), kills=st.integers(0, 30),
       redis_down=st.sampled_from([0.0, 5.0, 60.0]), broker=st.booleans(),
       seed=st.integers(0, 2**32))
def test_every_planned_kill_is_placed_inside_the_stream(total, kills, redis_down, broker, seed):
    plan = Plan(kills=kills, redis_down=redis_down, broker_restart=broker)
    events = schedule(plan, total, random.Random(seed))
    at = [a for a, what in events if what == "kill -9"]
    assert len(at) == kills
    assert all(0.05 * total - 1 <= a <= 0.95 * total for a in at)
    assert sum(what == "redis down" for _, what in events) == (1 if redis_down else 0)
    assert sum(what == "broker restart" for _, what in events) == (1 if broker else 0)
    assert [a for a, _ in events] == sorted(a for a, _ in events)


def test_the_short_ci_stream_gets_its_kills():
    # The sample with 2,000 fuzzed messages is about 10,000 messages at 200/s: a plan by
    # the clock found no room for kills around the Redis outage and the broker restart.
    events = schedule(CI_PLAN, 10_294, random.Random(CI_PLAN.seed + 1))
    assert sum(what == "kill -9" for _, what in events) == CI_PLAN.kills == 2


def test_a_soak_whose_kills_did_not_all_happen_fails():
    plan = Plan(kills=3, redis_down=60.0, broker_restart=True)
    report = SoakReport(plan, kills=0, redis_down=60.0, broker_restarts=1)
    assert chaos_missed(plan, report) == ["0 of the 3 planned kill -9s happened"]
    report.kills = 3
    assert chaos_missed(plan, report) == []
    assert chaos_missed(plan, SoakReport(plan, kills=3)) == [
        "Redis was never stopped", "the broker was never restarted"]
