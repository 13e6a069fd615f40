"""``firestorm evaluate``: a labelled history scored from files, with clear errors, and the
same figures as the bench harness for the same stream."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from bench.harness.run import score_case
from bench.scenarios.entities import make_entity
from bench.scenarios.plan import CaseSpec, StormSpec
from bench.scenarios.streams import generate
from bench.scenarios.variants import VARIANTS
from streams.cli import main

REPO = Path(__file__).resolve().parents[2]
DAY, HOUR = 86400.0, 3600.0
T0 = 1772409600.0  # 2026-03-02 00:00 UTC


class Done(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def firestorm(capsys, monkeypatch):
    """The ``firestorm`` command in this process (the subprocess test below covers the rest)."""
    monkeypatch.setenv("FIRESTORM_PSEUDONYM_KEY", "k")

    def run(*args: str) -> Done:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Done(code, out, err)

    return run


def event(entity: str, at: str, name: str, severity: str, seq: int, previous=None) -> str:
    return json.dumps({
        "incident_id": f"{entity}-20260305T100000Z", "seq": seq, "entity_id": entity,
        "entity_name": entity.title(), "entity_kind": "partner", "event": name,
        "severity": severity, "previous_severity": previous, "at": at,
        "volume": {"current": 40, "expected": 5.0},
        "negativity": {"current": 0.6, "expected": 0.2}, "score": 6.0})


LABELS = [
    {"entity_id": "acme", "kind": "background", "onset": "2026-03-02T00:00:00Z",
     "end": "2026-03-09T00:00:00Z"},
    {"entity_id": "acme", "kind": "storm", "onset": "2026-03-05T09:30:00Z",
     "peak": "2026-03-05T12:00:00Z", "end": "2026-03-05T20:00:00Z", "label": "boycott"},
    {"entity_id": "acme", "kind": "benign", "onset": 1772877600, "end": 1772879400,
     "label": "bots"},
]
ALERTS = [
    event("acme", "2026-03-05T10:00:00Z", "opened", "watch", 1),
    event("acme", "2026-03-05T10:20:00Z", "escalated", "warning", 2, "watch"),
    event("acme", "2026-03-07T10:10:00Z", "opened", "warning", 1),  # the bots: a false page
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    labels, alerts = tmp_path / "labels.jsonl", tmp_path / "alerts.jsonl"
    labels.write_text("".join(json.dumps(x) + "\n" for x in LABELS))
    alerts.write_text("\n".join(ALERTS) + "\n")
    return labels, alerts


def test_a_labelled_history_is_scored_from_files(firestorm, files):
    labels, alerts = files
    done = firestorm("evaluate", "--labels", str(labels), "--alerts", str(alerts))
    assert done.returncode == 0, done.stderr
    assert "storms: 1, found (warning or critical): 1 (recall 1.00)" in done.stdout
    assert "median delay after onset: 50 min; median lead before peak: 100 min" in done.stdout
    assert "benign episodes: 1, reached warning: 1" in done.stdout
    assert "warning pages 1" in done.stdout and "warning pages inside benign episodes: bots 1" \
        in done.stdout


def test_json_output_holds_every_storm_and_the_summary(firestorm, files):
    labels, alerts = files
    done = firestorm("evaluate", "-l", str(labels), "-a", str(alerts), "--json")
    report = json.loads(done.stdout)
    assert report["summary"]["recall"] == 1.0 and report["summary"]["warning_pages"] == 1
    (storm,) = report["storms"]
    assert storm["delay_minutes"] == 50.0 and storm["first_notice"] == "2026-03-05T10:00:00Z"
    assert report["benign"][0]["reached_warning"] is True


def test_before_accepts_a_warning_ahead_of_a_rough_onset(firestorm, files, tmp_path):
    labels, _ = files
    early = tmp_path / "early.jsonl"
    early.write_text(event("acme", "2026-03-05T09:00:00Z", "opened", "warning", 1) + "\n")
    assert "recall 0.00" in firestorm("evaluate", "-l", str(labels), "-a", str(early)).stdout
    assert "recall 1.00" in firestorm("evaluate", "-l", str(labels), "-a", str(early),
                                      "--before", "60").stdout


@pytest.mark.parametrize(("label_line", "message"), [
    ('{"entity_id": "acme", "kind": "storm", "onset": "2026-03-05 09:30", "end": 1772744400}',
     "labels.jsonl line 2: 'onset': '2026-03-05 09:30' has no UTC offset; add one"),
    ('{"entity_id": "acme", "kind": "incident", "onset": 1772744400, "end": 1772744400}',
     "labels.jsonl line 2: 'kind': 'incident' must be one of storm, benign, background"),
    ("not json", "labels.jsonl line 2: not valid JSON"),
])
def test_a_bad_labels_file_names_line_field_and_fix_without_a_traceback(
        firestorm, files, label_line, message):
    labels, alerts = files
    labels.write_text(json.dumps(LABELS[0]) + "\n" + label_line + "\n")
    done = firestorm("evaluate", "--labels", str(labels), "--alerts", str(alerts))
    assert done.returncode == 1  # a bad file, not a bad flag
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_bad_alerts_file_names_its_line(firestorm, files):
    labels, alerts = files
    alerts.write_text(ALERTS[0] + "\n\n" + '{"entity_id": "acme"}\n')
    done = firestorm("evaluate", "--labels", str(labels), "--alerts", str(alerts))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "alerts.jsonl line 3: alert event lacks required field" in done.stderr


@pytest.mark.parametrize(("args", "status", "message"), [
    (["--labels", "nowhere.jsonl", "--alerts", "x"], 1, "'nowhere.jsonl' does not exist"),
    (["--labels", "L", "--alerts", "A", "--grace", "-5"], 2, "--grace must be minutes >= 0"),
])
def test_bad_arguments_get_a_clear_message(firestorm, args, status, message):
    done = firestorm("evaluate", *args)
    assert done.returncode == status and message in done.stderr
    assert "Traceback" not in done.stderr


def test_an_empty_labels_file_is_refused(firestorm, files):
    labels, alerts = files
    labels.write_text("\n")
    done = firestorm("evaluate", "--labels", str(labels), "--alerts", str(alerts))
    assert done.returncode == 1 and "has no labels" in done.stderr


def test_replay_then_evaluate_on_a_generated_case_reproduce_the_harness(firestorm, tmp_path):
    """The harness's figures are what a department would get from the two commands."""
    rng = np.random.default_rng(1)
    e = replace(make_entity(rng, VARIANTS["tuned"].vocabulary.names, "partner", 12.0, 0),
                hostile=0.1)
    onset = T0 + 1 * DAY + 14 * HOUR  # after the current detector's day of warm-up
    storm = StormSpec(e.id, onset, 1800.0, 2400.0, 25.0, 0.6, "linear", 0.5,
                      (1.0, 0.0, 0.0, 0.0, 0.0), 0.0, 0.0, own_post=False)
    spec = CaseSpec("tuned", "storm", 0, 3, T0, storm.end + 2 * HOUR, T0 + DAY, (e,), (storm,))
    case = generate(spec)
    harness, alarms, _ = score_case(case)
    assert alarms, "the case must give the detector something to say"
    paths = case.write(tmp_path)
    done = firestorm("replay", "-w", str(paths["watchlist"]), "-i", str(paths["mentions"]),
                     "-o", str(tmp_path / "alerts.jsonl"))
    assert done.returncode == 0, done.stderr
    done = firestorm("evaluate", "--labels", str(paths["labels"]),
                     "--alerts", str(tmp_path / "alerts.jsonl"), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(json.dumps(harness.to_dict()))


def test_the_installed_command_exits_1_with_the_message_and_no_traceback(files):
    labels, alerts = files
    labels.write_text('{"entity_id": "acme", "kind": "storm", "onset": 1, "end": 2}\n')
    done = subprocess.run([sys.executable, "-m", "streams.cli", "evaluate", "--labels",
                           str(labels), "--alerts", str(alerts)], cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=False,
                          env={"PATH": "/usr/bin:/bin", "FIRESTORM_PSEUDONYM_KEY": "k"})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("firestorm evaluate: ") and "line 1: 'onset'" in done.stderr


def test_a_gzipped_alerts_file_is_read_and_a_truncated_one_is_named(firestorm, files, tmp_path):
    import gzip

    labels, alerts = files
    packed = tmp_path / "alerts.jsonl.gz"
    packed.write_bytes(gzip.compress(alerts.read_bytes()))
    assert "recall 1.00" in firestorm("evaluate", "-l", str(labels), "-a", str(packed)).stdout
    packed.write_bytes(gzip.compress(alerts.read_bytes() * 50)[:-30])
    done = firestorm("evaluate", "-l", str(labels), "-a", str(packed))
    assert done.returncode == 1 and "is truncated" in done.stderr
