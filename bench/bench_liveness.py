"""Time from a killed worker to the red "worker silent" banner in the duty officer's console.

Needs Kafka (the local stack: ``deploy/local/stack.sh start``, or ``make
bench``); starts its own ``redis-server``. One ``firestorm console`` runs in a
tmux terminal of 80x24 for the whole benchmark. Each run starts a real worker
with the default heartbeat settings (``FIRESTORM_HEARTBEAT_SECONDS`` 5,
``FIRESTORM_SILENT_AFTER`` 30), waits until the console shows it alive, kills
it with SIGKILL and measures, by wall clock, until the console's header shows
``worker silent`` in red. Expected: the silence threshold, plus up to one
heartbeat interval (the last beat may be that old when the worker dies), plus
up to the console's 2 s reading interval.

    FIRESTORM_KAFKA_BOOTSTRAP=127.0.0.1:9092 python bench/bench_liveness.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.harness.poll import until  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tmux(sock: str, *args: str) -> str:
    return subprocess.run(["tmux", "-u", "-L", sock, *args], capture_output=True, text=True,
                          timeout=10, check=True).stdout


def red_silent(sock: str) -> bool:
    for line in tmux(sock, "capture-pane", "-p", "-e", "-t", "console").splitlines():
        if "worker silent" in line and "31m" in line.split("worker silent")[0]:
            return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    kafka = os.environ.get("FIRESTORM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    for tool in ("redis-server", "tmux"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: deploy/local/test-tools.sh installs the test tools")
    with tempfile.TemporaryDirectory(prefix="bench-liveness-") as tmp:
        port = free_port()
        redis_proc = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
             "--dir", tmp, "--save", "", "--appendonly", "yes"], stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        base = {k: v for k, v in os.environ.items() if not k.startswith("FIRESTORM_")}
        base.update(FIRESTORM_KAFKA_BOOTSTRAP=kafka, FIRESTORM_REDIS_URL=url,
                    FIRESTORM_PSEUDONYM_KEY="bench", FIRESTORM_LOG_LEVEL="warning")
        sock = f"bench-liveness-{uuid.uuid4().hex[:8]}"
        console_env = " ".join(f"{k}={shlex.quote(v)}" for k, v in {
            **base, "TERM": "screen-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "PYTHONPATH": str(REPO)}.items() if k in (
            "PATH", "TERM", "LANG", "LC_ALL", "PYTHONPATH", "FIRESTORM_REDIS_URL",
            "FIRESTORM_KAFKA_BOOTSTRAP"))
        time.sleep(0.5)
        tmux(sock, "new-session", "-d", "-s", "console", "-x", "80", "-y", "24",
             f"cd {shlex.quote(str(REPO))} && env {console_env}"
             f" {shlex.quote(sys.executable)} -m streams.cli console --by bench; sleep 600")
        delays = []
        try:
            for run in range(args.runs):
                tag = uuid.uuid4().hex[:8]
                env = {**base, "FIRESTORM_APP_ID": f"bench-{tag}",
                       "FIRESTORM_TOPIC_MENTIONS": f"mentions-{tag}",
                       "FIRESTORM_TOPIC_DEAD": f"dead-{tag}",
                       "FIRESTORM_TOPIC_OBSERVATIONS": f"obs-{tag}",
                       "FIRESTORM_DATA_DIR": str(Path(tmp) / tag),
                       "FIRESTORM_WEB_PORT": str(free_port())}
                log = open(Path(tmp) / f"worker-{tag}.log", "wb")  # noqa: SIM115
                worker = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"],
                                          cwd=REPO, env=env, stdout=log,
                                          stderr=subprocess.STDOUT)
                until(lambda: "worker ok" in tmux(sock, "capture-pane", "-p", "-t", "console"),
                      120, "the console to show the worker alive", every=0.5)
                time.sleep(1 + (run * 1.7) % 5)  # die at different points of the beat
                worker.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                worker.wait(timeout=10)
                log.close()
                until(lambda: red_silent(sock), 120, "the red banner", every=0.05)
                delays.append(time.monotonic() - killed)
                print(f"  run {run + 1}: red 'worker silent' {delays[-1]:.1f} s after SIGKILL",
                      flush=True)
        finally:
            subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True,
                           check=False)
            redis_proc.terminate()
            redis_proc.wait(timeout=20)
        print(json.dumps({"runs": len(delays), "median_s": round(statistics.median(delays), 1),
                          "max_s": round(max(delays), 1), "min_s": round(min(delays), 1),
                          "heartbeat_s": 5, "silent_after_s": 30}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
