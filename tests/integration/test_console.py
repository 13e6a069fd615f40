"""``firestorm console`` in a real terminal (tmux) against a real redis-server this module owns.

The worker is not running here: events are published straight into the store,
as the worker would, and the 'acknowledged' event that the worker would emit
after an ack is published by the test. That the console calls the ack sender
on ``a`` ``y`` is tested in tests/unit/test_console.py.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from alerting.event import AlertEvent
from alerting.store import open_store
from models.verdict import Evidence, Sample
from tests.integration.support import REPO, RedisServer, RedisServers, free_port, wait_for

pytestmark = pytest.mark.integration

T0 = time.time() - 600  # ten minutes ago: ages read like a real night


def ev(entity: str, seq: int, kind: str, severity: str, *, by: str | None = None,
       text: str = "boycott them", volume: int = 90, at: float | None = None) -> AlertEvent:
    evidence = Evidence(top_hashtags=((f"#boycott{entity}", 9),),
                        samples=(Sample(f"{entity}-p1", "anon:7f3a", text),
                                 Sample(f"{entity}-p2", "bigaccount", "shameful")),
                        linked=(("work-programme", 4),))
    at = T0 + 60 * seq if at is None else at
    return AlertEvent(f"{entity}-20240501T123400Z", seq, kind, entity, entity.title() + " Ltd",
                      "partner", severity, at, volume, 8.5, 0.8, 0.3, 9.1,
                      reasons=(f"{volume} mentions in a minute, 10.6x the recent mean of 8.5",),
                      evidence=evidence, owner="DWP", acknowledged_by=by, window_seconds=300)


def row(screen: str, text: str) -> tuple[int, str]:
    """The first line of the screen holding ``text``: its number and content."""
    for number, line in enumerate(screen.splitlines()):
        if text in line:
            return number, line
    pytest.fail(f"{text!r} is not on the screen:\n{screen}")


@pytest.fixture
def server(redis_server_factory: RedisServers) -> RedisServer:
    """Without persistence: a restart loses all."""
    return redis_server_factory(persistent=False)


@pytest.fixture
def server_url(server: RedisServer) -> str:
    return server.url


class Terminal:
    """A tmux session of its own (own socket): type keys, read the screen."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path,
                 size: tuple[int, int] = (150, 48)) -> None:
        if shutil.which("tmux") is None:
            pytest.fail("tmux is needed for the console's terminal test: apt-get install -y tmux")
        self.socket, self.log = f"firestorm-test-{uuid.uuid4().hex[:8]}", log
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # Keep the pane after the console exits, with its stderr, for the failure message.
        shell = (f"cd {shlex.quote(str(REPO))} && env {exports} {shlex.join(command)}"
                 f" 2>{shlex.quote(str(log))}; echo CONSOLE EXITED $?; sleep 600")
        self._tmux("new-session", "-d", "-s", "console", "-x", str(size[0]), "-y", str(size[1]),
                   shell)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-u", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=10, check=True)
        return done.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "console")

    def coloured(self) -> str:
        """The screen with its colours, as SGR escape sequences."""
        return self._tmux("capture-pane", "-p", "-e", "-t", "console")

    def press(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "console", *keys)

    def wait_for(self, check: Callable[[str], object], what: str, timeout: float = 15) -> str:
        def ready() -> str:
            screen = self.screen()
            if check(screen):
                return screen
            if "CONSOLE EXITED" in screen:  # fail now, with why, not after the deadline
                pytest.fail(f"the console exited while waiting for {what}:\n{screen}\n"
                            f"{self.log.read_text(errors='replace')}")
            return ""

        return wait_for(ready, timeout, what, every=0.1, show=self.screen)

    def close(self) -> None:
        path = self._tmux("display-message", "-p", "#{socket_path}").strip()
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       timeout=10, check=False)
        Path(path).unlink(missing_ok=True)  # kill-server leaves the socket file behind


@pytest.fixture
def console_env(server_url: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "screen-256color",
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           "FIRESTORM_REDIS_URL": server_url,
           # An ack from this test must fail fast, never reach a real broker.
           "FIRESTORM_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}"}
    return env


def test_console_catches_up_shows_live_events_escaped_and_the_acknowledgement(
        server_url: str, console_env: dict[str, str], tmp_path: Path) -> None:
    store = open_store(server_url)
    # Before the console starts: one warning, one critical, one already resolved.
    store.publish(ev("acme", 1, "opened", "warning"))
    store.publish(ev("tesco", 1, "opened", "watch"))
    store.publish(ev("tesco", 2, "escalated", "critical", volume=240))
    store.publish(ev("oldco", 1, "opened", "warning"))
    store.publish(ev("oldco", 2, "resolved", "warning"))

    term = Terminal([sys.executable, "-m", "streams.cli", "console", "--by", "sam"],
                    console_env, tmp_path / "console.err")
    try:
        screen = term.wait_for(lambda s: "Acme Ltd" in s and "Tesco Ltd" in s,
                               "the caught-up board")
        assert "Redis: connected" in screen
        tesco, acme = row(screen, "Tesco Ltd (partner)"), row(screen, "Acme Ltd (partner)")
        assert "CRITICAL" in tesco[1] and "WARNING" in acme[1] and tesco[0] < acme[0]
        assert "CRITICAL 1 WARNING 1 WATCH 0" in screen
        assert "240 mentions in 5 min, usually 8.5 (28.2x)" in screen
        assert "80% of them negative, usually 30% | score 9.1" in screen
        assert "why: 240 mentions in a minute" in screen  # the selected (top) one is expanded
        assert "linked: work-programme (4 co-mentions) | owner: DWP" in screen
        assert "> anon:7f3a: boycott them" in screen
        assert "Recently resolved" in screen and "Oldco Ltd" in screen
        assert "↑/↓ j/k select   a acknowledge   f feedback   r redraw   q quit" in screen

        # Live: a new critical incident, whose sample post tries to clear the screen.
        store.publish(ev("argos", 1, "opened", "critical", volume=500, at=time.time(),
                         text="RT\x1b[2J\x1b[31m<script>alert(1)</script> boycott"))
        screen = term.wait_for(lambda s: "Argos Ltd" in s, "the live event")
        assert "CRITICAL 2 WARNING 1" in screen
        # The newest critical on top; the selection stays on the incident, not the row.
        assert row(screen, "Argos Ltd (partner)")[0] < row(screen, "Tesco Ltd (partner)")[0]
        assert row(screen, "Tesco Ltd (partner)")[1].startswith("▶")
        term.press("k")
        screen = term.wait_for(lambda s: "\\x1b[2J" in s, "the escaped sample post")
        assert "RT\\x1b[2J\\x1b[31m<script>alert(1)</script> boycott" in screen
        assert "Tesco Ltd" in screen  # the screen was not cleared by the post

        # Acknowledge the warning: select it, a, confirm.
        term.press("j", "j")
        term.wait_for(lambda s: "why: 90 mentions" in s, "Acme selected")
        term.press("a")
        term.wait_for(lambda s: "Acknowledge acme-20240501T123400Z (Acme Ltd (partner)) as sam? y/n"
                      in s, "the confirmation question")
        term.press("y")
        # No broker: the sender fails, and says so (or is still trying).
        term.wait_for(lambda s: "sending ack" in s or "ack NOT sent" in s, "the ack attempt")
        # The worker's 'acknowledged' event, as every console would receive it.
        store.publish(ev("acme", 2, "acknowledged", "warning", by="sam"))
        screen = term.wait_for(lambda s: "acknowledged by sam" in s, "the acknowledgement")
        assert "Acme Ltd" in row(screen, "acknowledged by sam")[1]

        term.press("q")
        term.wait_for(lambda s: "CONSOLE EXITED 0" in s, "the console to quit")
    except BaseException:
        print((tmp_path / "console.err").read_text(errors="replace"), file=sys.stderr)
        raise
    finally:
        term.close()
        store.close()


def test_once_prints_the_board_and_exits(server_url: str, console_env: dict[str, str]):
    store = open_store(server_url)
    store.publish(ev("acme", 1, "opened", "warning",
                     text="evil\x1b]0;pwned\x07 title \u202egnp.exe"))
    store.publish(ev("tesco", 1, "opened", "critical"))
    done = subprocess.run([sys.executable, "-m", "streams.cli", "console", "--once"],
                          env=console_env, cwd=REPO, capture_output=True, timeout=60,
                          check=False)
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()
    tesco, acme = row(out, "Tesco Ltd (partner)"), row(out, "Acme Ltd (partner)")
    assert "CRITICAL" in tesco[1] and "WARNING" in acme[1] and tesco[0] < acme[0]
    assert "evil\\x1b]0;pwned\\x07 title \\u202egnp.exe" in out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    store.close()


def test_plain_prints_the_board_then_new_events_as_lines(server_url: str,
                                                          console_env: dict[str, str]):
    store = open_store(server_url)
    store.publish(ev("acme", 1, "opened", "warning"))
    proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "console", "--plain"],
                            env=console_env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        os.set_blocking(proc.stdout.fileno(), False)
        seen = bytearray()

        def read() -> str:
            seen.extend(proc.stdout.read() or b"")
            return seen.decode(errors="replace")

        wait_for(lambda: "Acme Ltd (partner)" in read(), 20, "the board", every=0.1,
                 show=read)
        assert "Redis: connected" in read() and "why: 90 mentions in a minute" in read()
        store.publish(ev("acme", 2, "escalated", "critical"))
        wait_for(lambda: "CRITICAL escalated" in read(), 20, "the live line", every=0.1,
                 show=read)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        store.close()


def test_console_says_redis_is_unreachable_and_recovers_when_it_returns(
        server: RedisServer, console_env: dict[str, str], tmp_path: Path) -> None:
    store = open_store(server.url)
    store.publish(ev("acme", 1, "opened", "warning"))
    term = Terminal([sys.executable, "-m", "streams.cli", "console", "--by", "sam"],
                    console_env, tmp_path / "console.err")
    try:
        term.wait_for(lambda s: "Acme Ltd (partner)" in s, "the board")
        server.stop()
        term.wait_for(lambda s: "Redis unreachable, retrying" in s, "the outage in the header")
        server.start()  # no persistence: the log is gone, and the board must say so
        screen = term.wait_for(lambda s: "Redis: connected" in s and "History lost at" in s,
                               "the reconnection and the lost history", timeout=60)
        assert "rebuilding" in screen and "No open incidents" not in screen
        store.publish(ev("argos", 1, "opened", "critical"))
        term.wait_for(lambda s: "Argos Ltd (partner)" in s, "a live event after the outage")
    finally:
        term.close()
        store.close()


def test_at_80x24_severity_and_ack_state_are_whole_long_names_end_in_an_ellipsis_and_a_silent_worker_is_red(  # noqa: E501
        server_url: str, console_env: dict[str, str], tmp_path: Path) -> None:
    from alerting.liveness import Heartbeat
    from alerting.story import Stories, StoryRules

    store = open_store(server_url)
    store.begin_history(time.time() - 3600, holding_open=False)
    store.beat(Heartbeat("firestorm@host:1", time.time() - 200, lag=0))  # silent 3 min
    book = Stories(StoryRules.of({"acme": ("work-programme",)}))
    long_name = "Acme Stores and Distribution Services for the Greater Metropolitan Area Ltd"
    for entity, name, severity in [("acme", long_name, "critical"),
                                   ("work-programme", "Work Programme", "warning")]:
        event = ev(entity, 1, "opened", severity)
        store.publish(book.tell(AlertEvent(
            event.incident_id, 1, "opened", entity, name, "partner", severity, event.at,
            1615, 79.1, 0.8, 0.3, 9.1, reasons=("x" * 200,), evidence=event.evidence,
            window_seconds=3600)))
    for i in range(6):
        store.publish(ev(f"other{i}", 1, "opened", "warning"))
    term = Terminal([sys.executable, "-m", "streams.cli", "console", "--by", "sam"],
                    console_env, tmp_path / "console.err", size=(80, 24))
    try:
        screen = term.wait_for(lambda s: "Acme Stores and" in s and "worker silent" in s,
                               "the board at 80x24")
        lines = screen.splitlines()
        assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
        head = next(line for line in lines if "Acme Stores and" in line)
        # the story's block: severity and acknowledgement whole, the long title cut with …
        assert "CRITICAL" in head and "NOT ACKNOWLEDGED" in head and head.rstrip().endswith("…")
        assert "1615 mentions in 60 min, usually 79.1 (20.4x)" in screen
        # "more below" has a row of its own, above the intact footer
        more = next(i for i, line in enumerate(lines) if "more below" in line)
        assert "↑/↓ j/k select   a acknowledge   f feedback   r redraw   q quit" in lines[-1]
        assert more == len(lines) - 3 and lines[more].strip() == "… more below (↓)"
        # the silent worker, in red, in the header
        header = next(line for line in term.coloured().splitlines() if "worker silent" in line)
        assert "31m" in header.split("worker silent")[0]
        term.press("a")
        screen = term.wait_for(lambda s: "y/n" in s, "the question")
        question = next(line for line in screen.splitlines() if "y/n" in line)
        assert question.startswith("Acknowledge story") and question.rstrip().endswith(
            "as sam? y/n")
        term.press("n")
    finally:
        term.close()
        store.close()
