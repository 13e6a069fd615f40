"""CLI conventions: --version; exit 2 for usage errors only, 1 for runtime failures;
no traceback for a user's mistake with a file, and a message naming the file and the fix."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from streams.cli import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "deploy" / "examples" / "sample-mentions.jsonl"
WATCHLIST = REPO / "deploy" / "examples" / "watchlist.yaml"
MENTION = (b'{"id": "m1", "ts": 1700000000, "platform": "x", "author": "@a",'
           b' "text": "boycott acme stores"}')


@pytest.fixture
def firestorm(monkeypatch, capsysbinary):
    """Run ``firestorm ARGS`` in this process; (returncode, stdout, stderr) like subprocess."""
    monkeypatch.setenv("FIRESTORM_PSEUDONYM_KEY", "k")

    def run(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None):
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(sys, "stdin", SimpleNamespace(
            buffer=io.BufferedReader(io.BytesIO(stdin))))  # type: ignore[arg-type]
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: usage errors and --version
            code = exc.code
        out, err = capsysbinary.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return run


def test_version_is_printed_by_the_installed_command():
    done = subprocess.run([sys.executable, "-m", "streams.cli", "--version"], cwd=REPO,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0
    assert done.stdout.decode().startswith("firestorm 0.")


@pytest.mark.parametrize("args", [
    ["replay", "--no-such-flag"],                       # unknown flag
    ["replay", "-o", "-"],                              # a required flag missing
    ["no-such-command"],
    ["produce", "-i", "-", "--rate", "-3"],             # a flag's value refused by the command
    ["pages", "--port", "70000"],
])
def test_usage_errors_exit_2(firestorm, args):
    done = firestorm(*args)
    assert done.returncode == 2, done.stderr
    assert b"Traceback" not in done.stderr


def test_a_bad_setting_is_a_runtime_failure_exit_1(firestorm):
    done = firestorm("replay", "-w", str(WATCHLIST), "-i", str(SAMPLE), "-o", "-",
                     env={"FIRESTORM_PARTITIONS": "0"})
    assert done.returncode == 1
    assert b"FIRESTORM_PARTITIONS must be >= 1" in done.stderr


@pytest.mark.parametrize("command", ["replay", "score"])
@pytest.mark.parametrize(("output", "fix"), [
    ("/no/such/dir/x.jsonl", b"create '/no/such/dir' first"),
    ("/", b"name a file, not a directory"),
])
def test_an_unwritable_output_names_the_file_and_the_fix(firestorm, command, output, fix):
    args = (["replay", "-w", str(WATCHLIST), "-i", str(SAMPLE), "-o", output]
            if command == "replay" else ["score", "-i", str(SAMPLE), "-o", output])
    done = firestorm(*args)
    assert done.returncode == 1
    assert output.encode() in done.stderr and fix in done.stderr
    assert b"Traceback" not in done.stderr


def test_a_truncated_gzip_names_the_file_and_the_fix(firestorm, tmp_path):
    whole = gzip.compress(SAMPLE.read_bytes())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    for args in (["replay", "-w", str(WATCHLIST), "-o", "-"], ["score", "-o", "-"]):
        done = firestorm(*args, "-i", str(cut))
        assert done.returncode == 1, done.stderr
        assert str(cut).encode() in done.stderr and b"is truncated" in done.stderr
        assert b"copy or download the file again" in done.stderr
        assert b"Traceback" not in done.stderr


def test_a_gzip_file_without_gz_names_the_file_and_the_fix(firestorm, tmp_path):
    hidden = tmp_path / "mentions.jsonl"
    hidden.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    done = firestorm("replay", "-w", str(WATCHLIST), "-i", str(hidden), "-o", "-")
    assert done.returncode == 1
    assert b"is gzip-compressed but its name does not end in .gz" in done.stderr
    assert b"rename it to mentions.jsonl.gz" in done.stderr
    piped = firestorm("replay", "-w", str(WATCHLIST), "-i", "-", "-o", "-",
                      stdin=gzip.compress(SAMPLE.read_bytes()))
    assert piped.returncode == 1 and b"gunzip -c" in piped.stderr


def test_a_gz_name_on_plain_text_names_the_fix(firestorm, tmp_path):
    plain = tmp_path / "mentions.jsonl.gz"
    plain.write_bytes(SAMPLE.read_bytes())
    done = firestorm("replay", "-w", str(WATCHLIST), "-i", str(plain), "-o", "-")
    assert done.returncode == 1 and b"rename it without .gz" in done.stderr


def test_a_utf8_bom_is_skipped_with_a_note_and_the_first_mention_counts(firestorm, tmp_path):
    bom = tmp_path / "excel.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + MENTION + b"\n")
    done = firestorm("replay", "-w", str(WATCHLIST), "-i", str(bom), "-o", "-")
    assert done.returncode == 0, done.stderr
    assert b"1 accepted, 0 rejected" in done.stderr
    assert b"byte-order mark" in done.stderr and str(bom).encode() in done.stderr
    scored = firestorm("score", "-i", str(bom))
    assert json.loads(scored.stdout.splitlines()[0])["negativity"] is not None


def test_utf16_names_the_file_and_the_conversion(firestorm, tmp_path):
    wide = tmp_path / "wide.jsonl"
    wide.write_bytes(MENTION.decode().encode("utf-16"))
    done = firestorm("replay", "-w", str(WATCHLIST), "-i", str(wide), "-o", "-")
    assert done.returncode == 1
    assert b"is UTF-16 text" in done.stderr and b"iconv" in done.stderr


def test_every_command_parses_alone_as_in_the_whole_parser():
    """A command line that names a command builds only that command's parser: it must
    parse exactly as the whole one does, and the whole one lists every command."""
    from streams.cli import COMMANDS, build_parser

    whole = build_parser()
    sub = next(a for a in whole._actions if a.dest == "command")
    assert list(sub.choices) == list(COMMANDS)
    for name in COMMANDS:
        alone = next(a for a in build_parser(name)._actions if a.dest == "command")
        assert list(alone.choices) == [name]
        mine, theirs = alone.choices[name], sub.choices[name]
        assert ([a.option_strings or a.dest for a in mine._actions]
                == [a.option_strings or a.dest for a in theirs._actions])
        assert mine.format_help() == theirs.format_help()


@pytest.mark.parametrize(("argv", "named"), [
    (["replay", "-i", "x"], "replay"),
    (["--config", "f.toml", "ack", "i1"], "ack"),
    (["--config=f.toml", "train-negativity"], "train-negativity"),
    (["--help"], None),
    (["--version"], None),
    (["--config"], None),
    (["no-such-command"], None),
    ([], None),
])
def test_the_command_a_line_names(argv, named):
    from streams.cli import command_named

    assert command_named(argv) == named


def test_replay_does_not_import_what_only_other_commands_need():
    """`firestorm replay` (and the officer's `score`) should not pay at start-up for
    scipy (training only), redis, Kafka or Faust (the live commands)."""
    probe = ("import sys, tempfile, os\n"
             "from streams.cli import main\n"
             "out = os.path.join(tempfile.mkdtemp(), 'events.jsonl')\n"
             f"code = main(['replay', '-w', {str(WATCHLIST)!r}, '-i', {str(SAMPLE)!r},"
             " '-o', out])\n"
             "heavy = {'scipy', 'sklearn', 'redis', 'faust', 'aiokafka', 'kafka'}\n"
             "print(code, sorted({m.split('.')[0] for m in sys.modules} & heavy))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                          timeout=300, check=False,
                          env={**os.environ, "FIRESTORM_PSEUDONYM_KEY": "k"})
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split("\n")[-2] == "0 []"
