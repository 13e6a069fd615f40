"""/health tells the truth: agents' states, processed against committed offsets, and
every skipped message counted."""

from __future__ import annotations

from streams.health import Health

T = "mentions"


def running() -> Health:
    h = Health(("intake", "detect"))
    h.agent_started("intake")
    h.agent_started("detect")
    return h


def test_a_worker_that_processed_what_it_committed_is_ok():
    h = running()
    for offset in range(10):
        h.see(T, 0, offset)
    h.processed(T, 0, 10)
    report = h.report({(T, 0): 8})  # a commit trails processing: normal
    assert (report["status"], report["problems"], report["offset_gaps"]) == ("ok", [], 0)
    assert report["partitions"]["mentions/0"] == {"processed": 10, "committed": 8,
                                                  "skipped": 0}


def test_issue_9_commit_past_a_crash_is_a_gap_of_every_skipped_message():
    # 1,000 processed, then the batch and everything behind it committed unprocessed.
    h = running()
    for offset in range(1000):
        h.see(T, 0, offset)
    h.processed(T, 0, 1000)
    report = h.report({(T, 0): 2001})
    assert report["status"] == "failing"
    assert report["offset_gaps"] == 1001
    assert report["partitions"]["mentions/0"]["skipped"] == 1001


def test_gaps_inside_the_stream_count_every_offset_not_only_the_first_gap():
    h = running()
    for offset in (0, 1, 5, 6, 10):  # 2-4 and 7-9 never handed over
        h.see(T, 0, offset)
    h.processed(T, 0, 11)
    assert h.report({(T, 0): 11})["offset_gaps"] == 6


def test_the_first_offset_handed_over_must_be_the_committed_one():
    h = running()
    assert h.see(T, 0, 105, committed=100) == 5  # 100-104 dropped at start-up
    assert h.report({})["offset_gaps"] == 5


def test_a_committed_offset_that_moves_before_anything_is_processed_is_a_skip():
    h = running()
    h.report({(T, 0): 100})  # given the partition at 100
    assert h.report({(T, 0): 130})["offset_gaps"] == 30


def test_a_partition_taken_away_in_a_rebalance_is_nobody_s_gap():
    h = running()
    h.see(T, 0, 0)
    h.processed(T, 0, 1)
    h.forget([(T, 0)])
    assert h.see(T, 0, 500, committed=500) == 0  # back again, further on: not a gap
    assert h.report({(T, 0): 500})["status"] == "ok"


def test_agent_states():
    h = Health(("intake", "detect"))
    assert h.report({})["status"] == "starting"
    h.agent_started("intake")
    h.agent_started("detect")
    h.agent_stopped("detect", "detect raised KeyError: 'x'")
    report = h.report({})
    assert report["status"] == "failing"
    assert report["agents"]["detect"] == {"state": "crashed", "restarts": 0,
                                          "last_crash": "detect raised KeyError: 'x'"}
    assert report["problems"] == ["agent detect crashed: detect raised KeyError: 'x'"]
    h.agent_started("detect")  # faust's supervisor restarted it
    assert h.report({})["agents"]["detect"]["restarts"] == 1
    assert h.report({})["status"] == "ok"
    h.agent_stopped("intake")  # cancelled for a rebalance
    assert h.report({})["agents"]["intake"]["state"] == "restarting"
