"""``firestorm produce``: retiming for demos, and clear errors before touching Kafka."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from streams.commands.produce import _retime_shift, _shifted

REPO = Path(__file__).resolve().parents[2]


def test_retime_moves_the_newest_valid_timestamp_to_now_and_leaves_bad_lines_alone(tmp_path):
    lines = [json.dumps({"id": "a", "ts": 1.7e9}).encode(), b"not json",
             json.dumps({"id": "b", "ts": 1.7e9 + 60}).encode(),
             json.dumps({"id": "c", "ts": "2999-01-01T00:00:00Z"}).encode()]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines))
    shift = _retime_shift(str(path))
    assert abs(1.7e9 + 60 + shift - time.time()) < 5
    assert json.loads(_shifted(lines[2], shift))["ts"] - json.loads(_shifted(lines[0], shift))[
        "ts"] == 60  # spacing kept
    assert _shifted(lines[1], shift) == b"not json"
    assert _shifted(lines[3], shift) == lines[3]  # a future timestamp stays invalid


def test_bad_flags_are_refused_with_a_message():
    done = subprocess.run([sys.executable, "-m", "streams.cli", "produce", "-i", "-",
                           "--rate", "-3"], cwd=REPO, capture_output=True, timeout=60,
                          check=False, input=b"")
    assert done.returncode == 2
    assert b"--rate must be >= 0" in done.stderr
    missing = subprocess.run([sys.executable, "-m", "streams.cli", "produce"], cwd=REPO,
                             capture_output=True, timeout=60, check=False)
    assert missing.returncode == 2 and b"--input" in missing.stderr
