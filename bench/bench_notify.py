"""Delay from an alert stored in Redis to its webhook call by ``firestorm notify``.

Starts a throwaway ``redis-server`` (with its append-only file, as the local
stack runs it), a local webhook receiver and a real ``firestorm notify``
process, then publishes ``--events`` alerts through ``RedisAlertStore`` (as
the worker does), each after a random idle of 0 to ``--max-idle`` seconds so
that many arrive while notify sits in a blocking read. The delay of one alert
is the wall-clock time from just before its ``publish`` to the receiver reading
the webhook's POST. Wall clock, because that is what the duty officer waits
for; on a loaded machine it includes scheduling delays.

    python bench/bench_notify.py [--events 20] [--max-idle 12]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from alerting.event import AlertEvent  # noqa: E402
from alerting.store import open_store  # noqa: E402


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """The webhook: the time each notification id arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.arrived[self.headers["X-Firestorm-Notification"]] = time.time()
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--max-idle", type=float, default=12.0,
                        help="most seconds of silence before each alert (default 12)")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--repo", type=Path, default=REPO,
                        help="checkout whose `firestorm notify` to run (default: this one;"
                             " e.g. an export of an older commit, to compare)")
    args = parser.parse_args()
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server not found: deploy/local/redis.sh start installs it")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        port = free_port()
        redis_proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp, "--save", "",
             "--appendonly", "yes"], stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        receiver = Receiver()
        policy = Path(tmp) / "policy.yaml"
        policy.write_text(f"channels: {{duty: {{type: webhook, url: '{receiver.url}'}}}}\n"
                          "routes: [{severities: [watch, warning, critical], channels: [duty]}]\n"
                          + ("deadman: {worker_silent_minutes: 0}\n"
                             if (args.repo / "alerting/notifiers/deadman.py").exists() else ""))
        env = {**os.environ, "FIRESTORM_REDIS_URL": url, "FIRESTORM_LOG_LEVEL": "warning",
               "PYTHONPATH": str(args.repo)}
        notify = None
        try:
            client = redis.Redis(port=port)
            deadline = time.monotonic() + 20
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        sys.exit("redis-server did not start")
                    time.sleep(0.05)
            notify = subprocess.Popen([sys.executable, "-m", "streams.cli", "notify",
                                       "--policy", str(policy)], cwd=args.repo, env=env)
            while not any(g["name"] == b"firestorm-notify"
                          for g in _groups(client)):
                time.sleep(0.1)
            store = open_store(url)
            published: dict[str, float] = {}
            for i in range(args.events):
                idle = rng.uniform(0, args.max_idle)
                time.sleep(idle)
                event = AlertEvent(f"bench{i}-20240501T120000Z", 1, "opened", f"bench{i}",
                                   "Bench", "partner", "warning", time.time(), 40, 8.0, 0.7,
                                   0.3, 5.0, window_seconds=300.0)
                published[f"{event.event_id}/duty"] = time.time()  # from before the publish
                store.publish(event)
                print(f"  alert {i + 1:2d} after {idle:4.1f}s idle", flush=True)
            deadline = time.monotonic() + 60
            while len(receiver.arrived) < len(published) and time.monotonic() < deadline:
                time.sleep(0.05)
            missing = sorted(set(published) - set(receiver.arrived))
            delays = [receiver.arrived[n] - published[n] for n in published
                      if n in receiver.arrived]
            print(json.dumps({"events": len(published), "delivered": len(delays),
                              "median_s": round(statistics.median(delays), 3),
                              "max_s": round(max(delays), 3),
                              "min_s": round(min(delays), 3), "missing": missing}))
            return 1 if missing else 0
        finally:
            if notify is not None:
                notify.terminate()
                notify.wait(timeout=20)
            redis_proc.terminate()
            redis_proc.wait(timeout=20)


def _groups(client: redis.Redis) -> list[dict]:
    try:
        return client.xinfo_groups("firestorm:alerts:log")
    except redis.ResponseError:
        return []


if __name__ == "__main__":
    sys.exit(main())
