"""Fail-stop, never skip: what escapes a batch stops the worker; a message that keeps
crashing it is charged durably and dead-lettered after its attempts."""

from __future__ import annotations

import asyncio
import json

import pytest

from models.faults import InjectedFault
from streams.failstop import EXIT_CRASHED, AttemptLedger, FailStop, Position, culprits, describe

M = Position("mentions", 0, 41)


class Exited(Exception):
    """What the test's exit function raises instead of ending the process."""


def failstop(tmp_path, max_attempts: int = 3) -> tuple[FailStop, list[int], list]:
    codes: list[int] = []
    stops: list = []

    def exit_(code: int) -> None:
        codes.append(code)
        raise Exited

    fs = FailStop(AttemptLedger(tmp_path / "attempts.json", max_attempts), exit=exit_,
                  clock=lambda: 1.0)
    fs.on_stop = lambda agent, why: stops.append((agent, why))
    return fs, codes, stops


def test_charges_survive_a_restart_and_the_last_one_dead_letters(tmp_path):
    path = tmp_path / "attempts.json"
    for attempt in (1, 2, 3):
        ledger = AttemptLedger(path, max_attempts=3)  # a new worker process each time
        assert ledger.exhausted(M) is None
        assert ledger.charge(M, "intake", "TypeError: x", at=attempt).attempts == attempt
    charge = AttemptLedger(path, max_attempts=3).exhausted(M)
    assert charge is not None
    assert charge.reason(3) == ("crashed the worker 3 times in intake"
                                " (FIRESTORM_MAX_ATTEMPTS=3): TypeError: x")


def test_settled_offsets_are_forgotten_others_kept(tmp_path):
    ledger = AttemptLedger(tmp_path / "attempts.json", max_attempts=2)
    ledger.charge_many([M, Position("mentions", 0, 50), Position("mentions", 1, 3)], "intake",
                       "E", at=0)
    ledger.settle({("mentions", 0): 42, ("mentions", 1): None})  # 41 committed past
    assert len(AttemptLedger(tmp_path / "attempts.json", max_attempts=2)) == 2
    assert {(e["partition"], e["offset"]) for e in json.loads(
        (tmp_path / "attempts.json").read_text())} == {(0, 50), (1, 3)}


def test_a_crash_in_detection_is_charged_to_the_mention_whichever_copy_crashed(tmp_path):
    # The worker stops on the observation at 7; the restart reads the mention again
    # (not yet committed) and makes a copy at 12. Both crashes are the mention's.
    path = tmp_path / "attempts.json"
    AttemptLedger(path, 2).charge(M, "detect", "E", at=1.0, where=Position("obs", 3, 7))
    second = AttemptLedger(path, 2).charge(M, "detect", "E", at=2.0,
                                           where=Position("obs", 3, 12))
    assert second.attempts == 2
    charge = AttemptLedger(path, 2).exhausted(M)
    assert charge is not None
    assert charge.reason(2).startswith("crashed the worker 2 times in detect")


def test_a_crash_in_detection_is_kept_until_the_observation_is_committed_past(tmp_path):
    # The mention may be committed before detection crashes on its observation: that
    # commit must not forget the charge, or the observation crashes the worker forever.
    path = tmp_path / "attempts.json"
    where = Position("obs", 3, 7)
    AttemptLedger(path, 2).charge(M, "detect", "E", at=1.0, where=where)
    ledger = AttemptLedger(path, 2)
    ledger.settle({("mentions", 0): 500, ("obs", 3): 7})  # 7 not yet committed past
    assert ledger.charge(M, "detect", "E", at=2.0, where=where).attempts == 2
    ledger.settle({("mentions", 0): 500, ("obs", 3): 8})
    assert len(AttemptLedger(path, 2)) == 0


def test_a_mention_crashing_in_intake_then_in_detection_has_one_count(tmp_path):
    ledger = AttemptLedger(tmp_path / "attempts.json", 2)
    ledger.charge(M, "intake", "E", at=1.0)
    ledger.charge(M, "detect", "E", at=2.0, where=Position("obs", 0, 3))
    assert ledger.exhausted(M) is not None
    ledger.settle({("obs", 0): 4})  # the mention itself is not committed past yet
    assert len(ledger) == 1
    ledger.settle({("obs", 0): 4, ("mentions", 0): 42})
    assert len(ledger) == 0


def test_an_unreadable_ledger_starts_afresh_rather_than_stopping_the_worker(tmp_path):
    (tmp_path / "attempts.json").write_text("{torn")
    assert len(AttemptLedger(tmp_path / "attempts.json", max_attempts=3)) == 0


def test_culprits_are_the_values_that_fail_alone():
    def step(batch):
        if any(b"bad" in v for v in batch):
            raise ValueError("bad")
    assert culprits(step, [b"ok", b"bad1", b"ok", b"bad2"]) == [1, 3]
    assert culprits(step, [b"ok"]) == []


def test_a_poisoned_step_charges_the_message_then_exits_like_kill_9(tmp_path):
    fs, codes, stops = failstop(tmp_path)
    with pytest.raises(Exited):
        fs.poisoned("intake", "intake", InjectedFault("boom"), [M])
    assert codes == [EXIT_CRASHED]
    assert stops == [("intake", "intake raised InjectedFault: boom")]
    assert AttemptLedger(tmp_path / "attempts.json", 3)._charges[M].attempts == 1


@pytest.mark.parametrize("escape", [RuntimeError("kafka send failed"),
                                    asyncio.CancelledError()])
def test_whatever_escapes_a_batch_stops_the_worker_without_charging_a_message(
        tmp_path, escape):
    fs, codes, stops = failstop(tmp_path)
    with pytest.raises(Exited), fs.guard("detect", "a batch of 3"):
        raise escape
    assert codes == [EXIT_CRASHED]
    assert stops[0][0] == "detect" and stops[0][1].startswith("a batch of 3 failed")
    assert len(AttemptLedger(tmp_path / "attempts.json", 3)) == 0


def test_describe_is_one_safe_line():
    text = describe(UnicodeEncodeError("utf-8", "a\ud800", 1, 2, "surrogates not allowed"))
    assert "\n" not in text and text.startswith("UnicodeEncodeError: ")
    text.encode("utf-8")
    assert len(describe(ValueError("x" * 1000))) == 300
