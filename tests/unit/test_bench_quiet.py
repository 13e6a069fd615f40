"""bench/bench_quiet.py counts the minutes it times, and refuses bad options."""

from __future__ import annotations

import json

import pytest

from bench import bench_quiet


def test_counts_every_entity_minute_it_times(capsys):
    assert bench_quiet.main(["--entities", "4", "--hours", "1", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])["quiet_result"]
    # Four entities, each mentioned at least once in the hour: each closes a minute for
    # every minute from its first mention to the end (replay flushes the last one).
    assert 4 <= result["minutes"] <= 4 * 61
    assert 0 <= result["quiet"] <= result["minutes"]
    assert result["us_per_minute"] > 0
    assert "target: µs per entity-minute" in out


@pytest.mark.parametrize("argv", [["--hours", "0"], ["--hours", "27"], ["--repeat", "0"]])
def test_refuses_bad_options(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        bench_quiet.main(argv)
    assert stop.value.code == 2
    assert "--hours must be" in capsys.readouterr().err
