"""Firestorm installed as a package works outside the checkout: the wheel is built from
the sources alone, installed with its declared dependencies into a fresh virtualenv,
and run from an empty directory, with nothing pointing into site-packages.

Slow (pip resolves and installs every dependency, from pip's cache after `make install`),
so one test does it all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.integration.support import REPO, retimed_sample


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          timeout=timeout, check=False)


def test_the_wheel_installs_in_a_fresh_venv_and_runs_from_an_empty_directory(tmp_path):
    src = tmp_path / "src"  # only what the wheel is built from: no deploy/, no tests/
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for package in ("streams", "models", "alerting", "rust"):  # rust/: the compiled core
        shutil.copytree(REPO / package, src / package,
                        ignore=shutil.ignore_patterns("__pycache__", "target", "_core*.so"))
    # The wheel compiles models._core from rust/; the checkout's cargo build directory
    # lends it the compiled crates (cargo rebuilds only what differs).
    cargo = {**os.environ, "CARGO_TARGET_DIR": str(REPO / "rust" / "target")}
    built = run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                tmp_path / "dist", src, cwd=tmp_path, env=cargo)
    assert built.returncode == 0, built.stderr.decode()
    [wheel] = (tmp_path / "dist").glob("firestorm-*.whl")

    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", venv, cwd=tmp_path).returncode == 0
    installed = run(venv / "bin" / "pip", "install", "-q", "--no-compile",
                    "--disable-pip-version-check", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr.decode()
    checked = run(venv / "bin" / "pip", "check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout.decode()

    empty, home, config = tmp_path / "empty", tmp_path / "home", tmp_path / "config"
    empty.mkdir()
    home.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home),
           "XDG_CONFIG_HOME": str(config), "FIRESTORM_PSEUDONYM_KEY": "wheel-test"}
    firestorm = venv / "bin" / "firestorm"

    version = run(firestorm, "--version", cwd=empty, env=env)
    assert version.stdout.decode().strip() == f"firestorm {wheel.name.split('-')[1]}"
    helped = run(firestorm, "worker", "--help", cwd=empty, env=env)
    assert helped.returncode == 0 and b"--watchlist" in helped.stdout

    mentions = tmp_path / "mentions.jsonl"
    retimed_sample(mentions)
    # No watchlist anywhere: a clear message, and no path into site-packages.
    missing = run(firestorm, "replay", "-i", mentions, "-o", "alerts.jsonl", cwd=empty, env=env)
    assert missing.returncode == 1
    assert b"no watchlist" in missing.stderr and b"site-packages" not in missing.stderr
    # The watchlist in the config dir ($XDG_CONFIG_HOME/firestorm) is found.
    (config / "firestorm").mkdir(parents=True)
    shutil.copy(REPO / "deploy" / "examples" / "watchlist.yaml",
                config / "firestorm" / "watchlist.yaml")
    replayed = run(firestorm, "replay", "-i", mentions, "-o", "alerts.jsonl", cwd=empty,
                   env=env)
    assert replayed.returncode == 0, replayed.stderr.decode()
    events = [json.loads(x) for x in (empty / "alerts.jsonl").read_text().splitlines()]
    assert any(e["event"] == "opened" and e["entity_id"] == "acme-stores" for e in events)
    assert sorted(p.name for p in empty.iterdir()) == ["alerts.jsonl"]  # nothing else made
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert not (site / "deploy").exists() and not (site / ".stack").exists()
    assert list((site / "models").glob("_core*.so"))  # the compiled core is in the wheel
