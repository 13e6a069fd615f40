"""``firestorm replay`` end to end on files: alerts out, bad lines counted, clear errors."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "deploy" / "examples" / "sample-mentions.jsonl"
WATCHLIST = REPO / "deploy" / "examples" / "watchlist.yaml"


def replay(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "streams.cli", "replay", *args], cwd=REPO,
                          input=stdin, capture_output=True, timeout=300, check=False,
                          env={"PATH": "/usr/bin:/bin", "FIRESTORM_PSEUDONYM_KEY": "k"})


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, list[dict], Path]:
    out = tmp_path_factory.mktemp("replay")
    done = replay("-w", str(WATCHLIST), "-i", str(SAMPLE), "-o", str(out / "alerts.jsonl"),
                  "--dead", str(out / "dead.jsonl"))
    events = [json.loads(x) for x in (out / "alerts.jsonl").read_text().splitlines()]
    return done, events, out


def test_the_sample_storm_opens_an_incident_on_the_partner_and_its_policy(sample_run):
    done, events, _ = sample_run
    assert done.returncode == 0, done.stderr.decode()
    opened = {e["entity_id"] for e in events if e["event"] == "opened"}
    assert {"acme-stores", "work-programme"} <= opened
    assert any(e["severity"] == "critical" for e in events if e["entity_id"] == "acme-stores")
    assert not {"universal-credit", "dwp"} & {e["entity_id"] for e in events}  # quiet ones


def test_malformed_lines_are_counted_reported_and_kept_with_their_reason(sample_run):
    done, _, out = sample_run
    assert b"5 rejected" in done.stderr
    assert b"not valid JSON" in done.stderr
    dead = [json.loads(x) for x in (out / "dead.jsonl").read_text().splitlines()]
    assert len(dead) == 5
    assert {"reason", "line"} <= set(dead[0]) and dead[0]["line"] == "this is not json"


def test_gzip_and_stdin_give_the_same_alerts(sample_run, tmp_path):
    _, events, _ = sample_run
    gz = tmp_path / "in.jsonl.gz"
    gz.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    from_gz = replay("-w", str(WATCHLIST), "-i", str(gz), "-o", "-")
    from_stdin = replay("-w", str(WATCHLIST), "-i", "-", "-o", "-", stdin=SAMPLE.read_bytes())

    def strip(out: bytes) -> list[dict]:
        return [{k: v for k, v in json.loads(x).items() if k != "emitted_at"}
                for x in out.splitlines()]

    expected = [{k: v for k, v in e.items() if k != "emitted_at"} for e in events]
    assert strip(from_gz.stdout) == expected
    assert strip(from_stdin.stdout) == expected


@pytest.mark.parametrize(("args", "message"), [
    (["-w", str(WATCHLIST), "-i", "/nonexistent.jsonl", "-o", "-"],
     b"input '/nonexistent.jsonl' does not exist"),
    (["-w", "/nonexistent.yaml", "-i", str(SAMPLE), "-o", "-"], b"watchlist '/nonexistent.yaml'"
                                                                b" not found"),
])
def test_a_missing_file_gets_a_clear_message_and_exit_1(args, message):
    done = replay(*args)
    assert done.returncode == 1
    assert message in done.stderr
    assert b"Traceback" not in done.stderr


def test_an_invalid_watchlist_names_the_entity_field_and_fix(tmp_path):
    bad = tmp_path / "w.yaml"
    bad.write_text("entities:\n  - {id: acme, name: Acme, kind: shop, terms: [acme]}\n")
    done = replay("-w", str(bad), "-i", str(SAMPLE), "-o", "-")
    assert done.returncode == 1
    assert b"entity 'acme' field 'kind': must be one of policy, partner" in done.stderr


@pytest.mark.parametrize("value", ["yesterday", "2026-01-05T06:00", "12", "nan"])
def test_a_bad_start_names_the_flag_and_the_forms_it_takes(value):
    done = replay("-w", str(WATCHLIST), "-i", str(SAMPLE), "-o", "-", "--start", value)
    assert done.returncode == 2
    assert b"argument --start" in done.stderr and b"epoch seconds" in done.stderr
    assert b"Traceback" not in done.stderr


def test_start_watches_every_entity_from_then(tmp_path):
    # A day before the sample's first mention: each entity has learned that quiet day.
    first = json.loads(SAMPLE.open().readline())["ts"]
    runs = {}
    for name, extra in (("default", []), ("start", ["--start", str(first - 86_400)])):
        state = tmp_path / f"{name}.json"
        done = replay("-w", str(WATCHLIST), "-i", str(SAMPLE), "-o", str(tmp_path / "a"),
                      "--state-out", str(state), *extra)
        assert done.returncode == 0, done.stderr.decode()
        runs[name] = {k: v["baseline"]["n"]
                      for k, v in json.loads(state.read_text())["entities"].items()}
    assert runs["start"].keys() == runs["default"].keys()
    for entity, n in runs["default"].items():
        assert runs["start"][entity] >= n + 1440 - 60, entity


def test_backfill_start_seeds_the_quiet_time_before_the_history_too():
    first = json.loads(SAMPLE.open().readline())["ts"]

    def learned(*extra: str) -> dict[str, int]:
        done = subprocess.run(
            [sys.executable, "-m", "streams.cli", "backfill", "-w", str(WATCHLIST), "-i",
             str(SAMPLE), "--dry-run", *extra], cwd=REPO, capture_output=True, timeout=300,
            check=False, env={"PATH": "/usr/bin:/bin", "FIRESTORM_PSEUDONYM_KEY": "k"})
        assert done.returncode == 0, done.stderr.decode()
        pairs = (line.split(": ") for line in done.stdout.decode().splitlines())
        return {entity: int(text.split()[0].replace(",", "")) for entity, text in pairs}
    default, started = learned(), learned("--start", str(first - 86_400))
    assert default.keys() == started.keys() and default
    assert all(started[e] >= n + 1440 - 60 for e, n in default.items())


def test_backfill_refuses_start_with_a_states_file(tmp_path):
    states = tmp_path / "states.json"
    states.write_text(json.dumps({"firestorm_states": 1, "entities": {}}))
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "backfill", "-w", str(WATCHLIST), "--state",
         str(states), "--start", "2026-01-01T00:00Z", "--dry-run"], cwd=REPO,
        capture_output=True, timeout=300, check=False,
        env={"PATH": "/usr/bin:/bin", "FIRESTORM_PSEUDONYM_KEY": "k"})
    assert done.returncode == 1
    assert b"--start applies to --input" in done.stderr and b"Traceback" not in done.stderr
