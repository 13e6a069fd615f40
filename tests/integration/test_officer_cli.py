"""`firestorm silence` and `firestorm report` as an officer runs them, on a Redis of their own."""

from __future__ import annotations

import json
import os
import time
from typing import NamedTuple

import pytest

from alerting.action_store import RedisActionStore
from alerting.event import AlertEvent
from alerting.feedback import Feedback
from alerting.store import open_store
from streams.cli import main
from tests.integration.support import REPO, RedisServers

pytestmark = pytest.mark.integration


class Ran(NamedTuple):
    returncode: int
    stdout: bytes
    stderr: bytes


@pytest.fixture
def env(redis_server_factory: RedisServers, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    server = redis_server_factory(persistent=False)
    for name in [k for k in os.environ if k.startswith("FIRESTORM_")]:
        monkeypatch.delenv(name)
    out = {"FIRESTORM_REDIS_URL": server.url,
           "FIRESTORM_WATCHLIST": str(REPO / "deploy" / "examples" / "watchlist.yaml")}
    for name, value in out.items():
        monkeypatch.setenv(name, value)
    return out


@pytest.fixture
def firestorm(capsysbinary: pytest.CaptureFixture[bytes]):
    """The command in this process (the same main() as the installed one): no start-up cost."""
    def run(*args: str, env: dict[str, str]) -> Ran:
        code = main(list(args))
        out, err = capsysbinary.readouterr()
        return Ran(code, out, err)
    return run


def test_silence_set_list_and_lift_with_who_why_and_the_audit(env, firestorm):
    store = open_store(env["FIRESTORM_REDIS_URL"])
    store.publish(AlertEvent("acme-stores-20240501T123400Z", 1, "opened", "acme-stores",
                             "Acme Stores", "partner", "warning", 1714566840.0, 40, 8.0, 0.7,
                             0.3, 5.0))
    done = firestorm("silence", "acme-stores", "--story", "--until", "2h", "--why",
                     "known campaign", "--by", "kim", env=env)
    assert done.returncode == 0, done.stderr.decode()
    assert "silenced (story: acme-stores, work-programme) until" in done.stdout.decode()
    listed = firestorm("silence", "--list", "--json", env=env)
    [silence] = [json.loads(line) for line in listed.stdout.decode().splitlines()]
    assert (silence["by"], silence["why"], silence["include_critical"]) == (
        "kim", "known campaign", False)
    actions = RedisActionStore(env["FIRESTORM_REDIS_URL"])
    [entry] = actions.audit("acme-stores-20240501T123400Z")
    assert (entry.action, entry.by, entry.via) == ("silence", "kim", "cli")
    lifted = firestorm("silence", "--lift", silence["id"], "--by", "kim", env=env)
    assert lifted.returncode == 0 and actions.silences() == []
    actions.close()
    store.close()


@pytest.mark.parametrize(("args", "code", "says"), [
    # What the officer typed: usage errors (exit 2); a state of the world: runtime (exit 1).
    (["nobody", "--until", "2h", "--why", "x"], 2, "'nobody' is not in the watchlist"),
    (["acme-stores", "--until", "2h"], 2, "say until when and why"),
    (["acme-stores", "--until", "8d", "--why", "x"], 2, "at most 7 days"),
    (["acme-stores", "--until", "whenever", "--why", "x"], 2, "give a duration"),
    (["--lift", "no-such-silence"], 1, "no silence 'no-such-silence' in force"),
])
def test_silence_mistakes_are_refused_with_the_fix(env, firestorm, args, code, says):
    done = firestorm("silence", *args, env=env)
    assert done.returncode == code and says in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()


def test_report_prints_precision_per_entity_and_severity(env, firestorm):
    actions = RedisActionStore(env["FIRESTORM_REDIS_URL"])
    now = time.time()
    for incident, entity, severity, verdict, days_ago in [
            ("a-1", "acme-stores", "critical", "useful", 2),
            ("a-2", "acme-stores", "warning", "false_alarm", 3),
            ("w-1", "work-programme", "critical", "too_late", 50)]:
        actions.add_feedback(Feedback(incident, entity, entity.title(), severity, verdict,
                                      "kim", now - days_ago * 86400))
    actions.close()
    done = firestorm("report", env=env)
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()
    assert "Last 30 days: precision 50% over 2 rated incidents" in out
    assert "Last 90 days: precision 67% over 3 rated incidents" in out
    assert "Work-Programme" in out.split("Last 90 days")[1]
    as_json = [json.loads(x) for x in firestorm("report", "--json", env=env).stdout.splitlines()]
    assert [r["days"] for r in as_json] == [30, 90]
    assert as_json[1]["by_severity"][0] == {
        "key": "critical", "label": "critical", "useful": 1, "false_alarm": 0, "too_late": 1,
        "rated": 2, "precision": 1.0, "too_late_share": 0.5}
