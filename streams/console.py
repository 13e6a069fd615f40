"""The duty officer's console: the alert log folded into a board, shown and acted on.

Three parts, so that everything but the terminal is testable without one:

- :class:`Feed` reads the Redis stream log ``firestorm:alerts:log``: all of it
  at start (catch-up), then every new entry with ``XREAD BLOCK`` from the last
  id seen, so nothing falls between catch-up and live (pub/sub would drop what
  arrives while nobody listens). :class:`Follower` runs it with reconnection
  and backoff and reports what happens as messages.
- :class:`Console` holds the board (:mod:`alerting.board`), the selection and
  the acknowledgement dialogue; keys go in as names (``"up"``, ``"a"``, ``"y"``),
  the screen comes out as styled lines. The ack sender is injected.
- :func:`run_curses` and :func:`run_plain` drive it on a terminal or as lines.

Every string that came from a post, a handle or an event goes through
:func:`streams.render.safe`: a post cannot move the cursor or clear the screen.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from alerting.board import Board, Entry, fold
from alerting.errors import (
    AlertEventError,
    AlertStoreAuthError,
    AlertStoreError,
    AlertStoreUnavailable,
)
from alerting.event import AlertEvent
from streams.render import format_age, format_alert, format_figures, safe

__all__ = ["Console", "Feed", "Follower", "run_curses", "run_once", "run_plain",
           "screen_text"]

BLOCK_SECONDS = 1.0  # XREAD BLOCK per call: also how fast the follower notices 'quit'
BACKOFF_START, BACKOFF_MAX = 0.5, 30.0  # like the outbox: reconnect fast, then politely
PAGE = 1000  # stream entries per catch-up read

Segment = tuple[str, str]  # (text, style)
Line = tuple[Segment, ...]
Message = tuple[Any, ...]  # ("reset", events) | ("events", events) | ("status", ok, text)
#                            | ("ack_sent", id) | ("ack_failed", id, text)


class Feed:
    """Every event of the alert log once, in log order: :meth:`catch_up`, then :meth:`next`.

    ``store`` is an alert store (``alerting.store.open_store``); ``client`` a
    ``redis.Redis`` for blocking reads with a socket timeout longer than the
    block. Without a client (``memory://``) :meth:`next` polls ``catch_up``.
    """

    def __init__(self, store: Any, client: Any = None, page: int = PAGE) -> None:
        self.store, self._client, self.page = store, client, page
        self.last_id = "0-0"
        self.skipped = 0  # log entries that were not alert events (shown in the header)

    @classmethod
    def open(cls, redis_url: str, redis_ca: str = "") -> Feed:
        from alerting.store import open_store

        tls = {"ssl_ca_certs": redis_ca} if redis_ca else {}
        store = open_store(redis_url, **tls)
        client = None
        if not redis_url.startswith("memory://"):
            import redis

            client = redis.Redis.from_url(redis_url, socket_timeout=BLOCK_SECONDS + 5,
                                          socket_connect_timeout=2, **tls)
        return cls(store, client)

    def catch_up(self) -> list[AlertEvent]:
        """The whole log from the start, plus open incidents the log no longer holds."""
        self.last_id, events = "0-0", []
        while True:
            page = self.store.catch_up(self.last_id, count=self.page)
            events += [event for _, event in page]
            if page:
                self.last_id = page[-1][0]
            if len(page) < self.page:
                break
        # The log is capped: an incident open for days may have lost its early
        # events from it, but its own event list (kept for the retention) has them.
        logged = {event.incident_id for event in events}
        for record in self.store.open_incidents():
            if record.incident_id not in logged:
                timeline = self.store.timeline(record.incident_id)
                events += list(timeline.events) if timeline else []
        return events

    def next(self, block: float = BLOCK_SECONDS) -> list[AlertEvent]:
        """Events logged after the last one returned, waiting up to ``block`` seconds."""
        if self._client is None:
            page = self.store.catch_up(self.last_id)
            if page:
                self.last_id = page[-1][0]
            else:
                time.sleep(min(block, 0.2))
            return [event for _, event in page]
        reply = self._redis(self._client.xread, {self.store.keys.stream: self.last_id},
                            count=self.page, block=max(1, int(block * 1000)))
        events = []
        for _stream, entries in reply or ():
            for stream_id, fields in entries:
                self.last_id = _text(stream_id)
                try:
                    events.append(AlertEvent.from_json(fields[b"event"]))
                except (AlertEventError, KeyError):
                    self.skipped += 1  # not ours to judge; the worker writes the log
        return events

    def rewound(self) -> bool:
        """True if the log now ends before the last id seen (Redis lost it in a restart)."""
        if self._client is None or self.last_id == "0-0":
            return False
        top = self._redis(self._client.xrevrange, self.store.keys.stream, count=1)
        return not top or _id(_text(top[0][0])) < _id(self.last_id)

    def close(self) -> None:
        self.store.close()
        if self._client is not None:
            self._client.close()

    def _redis(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            return fn(*args, **kwargs)
        except redis.AuthenticationError as exc:
            raise AlertStoreAuthError(f"Redis refused the credentials ({exc}); check"
                                      " FIRESTORM_REDIS_URL") from None
        except redis.ResponseError as exc:
            if str(exc).startswith(("NOAUTH", "WRONGPASS", "NOPERM")):
                raise AlertStoreAuthError(f"Redis refused the credentials ({exc}); check"
                                          " FIRESTORM_REDIS_URL") from None
            raise AlertStoreError(f"Redis answered an error: {exc}") from None
        except (redis.RedisError, OSError) as exc:
            raise AlertStoreUnavailable(f"{exc.__class__.__name__}: {exc}") from None


class Follower:
    """Runs a :class:`Feed` until stopped, reconnecting with backoff; reports as messages.

    Messages: ``("reset", events)`` (build the board from these: at start and
    after Redis lost its log), ``("events", events)`` (live), and
    ``("status", ok, text)`` whenever the connection changes.
    """

    def __init__(self, feed: Feed, emit: Callable[[Message], None],
                 block: float = BLOCK_SECONDS) -> None:
        self.feed, self.emit, self.block = feed, emit, block
        self.stop = threading.Event()

    def run(self) -> None:
        delay, fresh, failed = BACKOFF_START, True, False
        while not self.stop.is_set():
            try:
                if failed and self.feed.rewound():
                    fresh = True
                if fresh:
                    self.emit(("status", True, "catching up…"))
                    events = self.feed.catch_up()
                    self.emit(("status", True, "connected"))
                    self.emit(("reset", events))
                    fresh = False
                elif failed:
                    self.emit(("status", True, "connected"))
                failed, delay = False, BACKOFF_START
                while not self.stop.is_set():
                    events = self.feed.next(self.block)
                    if events:
                        self.emit(("events", events))
            except AlertStoreAuthError as exc:
                failed = self._wait(f"Redis refused the credentials, retrying in {delay:g}s"
                                    f" ({exc})", delay)
                delay = min(delay * 2, BACKOFF_MAX)
            except AlertStoreError as exc:
                failed = self._wait(f"Redis unreachable, retrying in {delay:g}s ({exc})", delay)
                delay = min(delay * 2, BACKOFF_MAX)

    def _wait(self, text: str, delay: float) -> bool:
        self.emit(("status", False, text))
        self.stop.wait(delay)
        return True


def _spawn(fn: Callable[[], None]) -> None:
    threading.Thread(target=fn, name="firestorm-ack", daemon=True).start()


@dataclass(frozen=True, slots=True)
class Screen:
    """What to draw: a fixed header, a scrollable body, and the body lines to keep in view."""

    header: tuple[Line, ...]
    body: tuple[Line, ...]
    focus: tuple[int, int]  # body lines [start, end) of the selected incident
    footer: tuple[Line, ...]


class Console:
    """The console's state and behaviour, without a terminal.

    ``ack(incident_id)`` sends an acknowledgement (``streams.acks.send_ack`` in
    production) and raises if it cannot; ``spawn`` runs it off the UI thread.
    Nothing on the board changes when the ack is sent: the incident shows
    "acknowledged by NAME" only when the worker's 'acknowledged' event arrives,
    so what every officer sees is what the system recorded.
    """

    def __init__(self, by: str, ack: Callable[[str], object],
                 spawn: Callable[[Callable[[], None]], None] = _spawn,
                 clock: Callable[[], float] = time.time, where: str = "") -> None:
        self.by, self._ack, self._spawn, self._clock, self.where = by, ack, spawn, clock, where
        self.board = Board()
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.status: tuple[bool, str] = (True, "connecting…")
        self.selected: str | None = None
        self.confirm: str | None = None  # incident id awaiting y/n
        self.pending: dict[str, str] = {}  # incident id -> ack progress
        self.message: tuple[str, str] = ("", "normal")

    # -- input ---------------------------------------------------------------

    def drain(self) -> bool:
        """Apply every waiting message; True if anything changed."""
        changed = False
        while True:
            try:
                message = self.inbox.get_nowait()
            except queue.Empty:
                return changed
            self.receive(message)
            changed = True

    def receive(self, message: Message) -> None:
        kind = message[0]
        if kind == "reset":
            self._fold(message[1], Board())
        elif kind == "events":
            self._fold(message[1], self.board)
        elif kind == "status":
            self.status = (message[1], message[2])
        elif kind == "ack_sent" and message[1] in self.pending:
            self.pending[message[1]] = "ack sent, waiting for the worker…"
        elif kind == "ack_failed":
            self.pending.pop(message[1], None)
            self.message = (f"ack NOT sent for {message[1]}: {message[2]}", "alert")

    def handle_key(self, key: str) -> bool:
        """Act on one key (``up``, ``down``, ``j``, ``k``, ``a``, ``y``, ``r``, ``q``, ...).

        Returns False when the console should quit. While a confirmation is
        asked, any key but ``y`` cancels it: a stray key never acknowledges.
        """
        if self.confirm is not None:
            incident_id, self.confirm = self.confirm, None
            if key in ("y", "Y"):
                self._send(incident_id)
            else:
                self.message = (f"not acknowledged: {incident_id}", "normal")
            return True
        if key in ("up", "k"):
            self._move(-1)
        elif key in ("down", "j"):
            self._move(+1)
        elif key == "a":
            self._ask()
        elif key in ("q", "Q"):
            return False
        return True

    # -- output --------------------------------------------------------------

    def screen(self, width: int = 100, expand_all: bool = False) -> Screen:
        """The screen to draw; ``expand_all`` shows every incident's evidence (printing)."""
        now = self._clock()
        ok, status = self.status
        counts = self.board.counts()
        header: list[Line] = [(
            ("FIRESTORM duty console", "title"),
            (f"  {time.strftime('%H:%M:%S %Z', time.localtime(now))}", "normal"),
            ("  Redis: ", "normal"),
            (safe(status, 120), "normal" if ok else "alert"),
            *(("  " + " ".join(f"{s.upper()} {n}" for s, n in counts.items()), "normal"),),
        ), ((f"open {len(self.board.open)}  you: {safe(self.by, 40)}"
             + (f"  at {self.where}" if self.where else ""), "dim"),)]
        body: list[Line] = []
        focus = (0, 0)
        selected = self._current()
        if not self.board.open:
            body.append(((("No open incidents. Watching for new alerts." if ok
                            else "No open incidents known."), "dim"),))
        for entry in self.board.open:
            start = len(body)
            expanded = expand_all or entry.incident_id == selected
            body += self._block(entry, now, width, expanded=expanded)
            body.append(())
            if entry.incident_id == selected:
                focus = (start, len(body))
        if self.board.resolved:
            body.append((("Recently resolved", "dim"),))
            for entry in self.board.resolved:
                ack = f", acknowledged by {safe(entry.acknowledged_by, 40)}" \
                    if entry.acknowledged_by else ""
                body.append(((f"  {safe(entry.event.entity_name, 60)}"
                              f"  {safe(entry.incident_id, 80)}"
                              f"  resolved {format_age(now - entry.event.at)} ago{ack}",
                              "dim"),))
        footer: list[Line] = [(self.message,) if self.message[0] else (),
                              (("↑/↓ j/k select   a acknowledge   r redraw   q quit", "keys"),)]
        return Screen(tuple(header), tuple(body), focus, tuple(footer))

    def _block(self, entry: Entry, now: float, width: int, expanded: bool) -> list[Line]:
        e = entry.event
        marker = "▶ " if entry.incident_id == self.selected else "  "
        if entry.acknowledged_by:
            ack: Segment = (f"acknowledged by {safe(entry.acknowledged_by, 40)}", "ok")
        elif entry.incident_id in self.pending:
            ack = (self.pending[entry.incident_id], "pending")
        else:
            ack = ("NOT ACKNOWLEDGED", "alert")
        lines: list[Line] = [
            ((marker, "normal"), (f" {e.severity.upper():8} ", e.severity),
             (f" {safe(e.entity_name, 60)} ({safe(e.entity_kind, 20)})", "name"),
             (f"  {safe(e.incident_id, 80)}  ", "dim"), ack),
            (("    " + format_figures(e.volume, e.expected_volume, e.negativity,
                                    e.expected_negativity, e.score)
              + f" | opened {format_age(now - entry.opened_at)} ago, last"
              f" {safe(entry.last_event, 20)} {format_age(now - entry.last_at)} ago",
              "normal"),),
        ]
        if not expanded:
            return lines
        room = max(40, width - 12)
        lines += [((f"    why: {safe(reason, room)}", "normal"),) for reason in e.reasons]
        about = []
        if e.evidence.linked:
            about.append("linked: " + ", ".join(
                f"{safe(eid, 60)}" + (f" ({n} co-mentions)" if n else " (watchlist link)")
                for eid, n in e.evidence.linked[:4]))
        if e.owner:
            about.append(f"owner: {safe(e.owner, 40)}")
        if about:
            lines.append(((f"    {' | '.join(about)}", "normal"),))
        tags = e.evidence.top_hashtags or e.evidence.top_terms
        if tags:
            lines.append(((f"    {'hashtags' if e.evidence.top_hashtags else 'terms'}: "
                           + ", ".join(f"{safe(t, 40)} ({n})" for t, n in tags[:5]), "normal"),))
        lines += [((f"    > {safe(s.author, 40)}: ", "dim"), (safe(s.text, room), "normal"))
                  for s in e.evidence.samples[:3]]
        return lines

    # -- internals -----------------------------------------------------------

    def _fold(self, events: Iterable[AlertEvent], board: Board) -> None:
        self.board = fold(events, board)
        for incident_id in list(self.pending):
            entry = self.board.find(incident_id)
            if entry is None or entry.acknowledged_by:
                del self.pending[incident_id]
                if entry is not None:
                    self.message = (f"{incident_id} acknowledged by {entry.acknowledged_by}",
                                    "ok")

    def _current(self) -> str | None:
        ids = [e.incident_id for e in self.board.open]
        if self.selected not in ids:
            self.selected = ids[0] if ids else None
        return self.selected

    def _move(self, step: int) -> None:
        ids = [e.incident_id for e in self.board.open]
        current = self._current()
        if current is not None:
            index = min(max(ids.index(current) + step, 0), len(ids) - 1)
            self.selected = ids[index]

    def _ask(self) -> None:
        entry = self.board.find(self._current() or "")
        if entry is None:
            self.message = ("nothing to acknowledge", "normal")
        elif entry.acknowledged_by:
            self.message = (f"already acknowledged by {entry.acknowledged_by}", "normal")
        elif entry.incident_id in self.pending:
            self.message = (self.pending[entry.incident_id], "pending")
        else:
            self.confirm = entry.incident_id
            self.message = (f"Acknowledge {entry.incident_id} ({safe(entry.event.entity_name, 60)})"
                            f" as {self.by}? y/n", "ask")

    def _send(self, incident_id: str) -> None:
        self.pending[incident_id] = "sending ack…"
        self.message = ("", "normal")

        def send() -> None:
            try:
                self._ack(incident_id)
            except Exception as exc:  # shown to the officer: a silent failed ack is the worst case
                self.inbox.put(("ack_failed", incident_id, safe(exc, 200)))
            else:
                self.inbox.put(("ack_sent", incident_id))

        self._spawn(send)


def screen_text(screen: Screen) -> str:
    """The whole screen as plain lines (``--once``, ``--plain``, tests)."""
    lines = [*screen.header, (), *screen.body]
    return "\n".join("".join(text for text, _ in line) for line in lines).rstrip() + "\n"


# -- drivers -------------------------------------------------------------------


def run_once(console: Console, feed: Feed, out: TextIO) -> int:
    """Print the board as the log has it now, and return (``--once``: tests, cron)."""
    console.receive(("reset", feed.catch_up()))
    console.receive(("status", True, "connected"))
    out.write(screen_text(console.screen(width=10_000, expand_all=True)))
    return 0


def run_plain(console: Console, follower: Follower, out: TextIO, err: TextIO) -> int:
    """Print the board once, then each new event as lines, until Ctrl-C (``--plain``)."""
    first = True

    def emit(message: Message) -> None:
        nonlocal first
        console.receive(message)
        kind = message[0]
        if kind == "reset":
            if not first:
                out.write("-- the alert log was reloaded --\n")
            out.write(screen_text(console.screen(width=10_000, expand_all=True)))
            first = False
        elif kind == "events":
            for event in message[1]:
                out.write(format_alert(event.to_dict()) + "\n\n")
        elif kind == "status":
            err.write(f"redis: {message[2]}\n")
            err.flush()
        out.flush()

    follower.emit = emit
    with contextlib.suppress(KeyboardInterrupt):
        follower.run()
    return 0


_STYLES = {"critical": (1, "bold"), "warning": (2, "bold"), "watch": (3, ""),
           "alert": (1, "bold"), "ok": (4, ""), "pending": (2, ""), "ask": (2, "bold"),
           "title": (0, "bold"), "name": (0, "bold"), "dim": (0, "dim"), "keys": (0, "reverse")}


def run_curses(console: Console, follower: Follower) -> int:
    """Full-screen view until ``q``; the follower reads Redis on its own thread."""
    import curses
    import locale

    locale.setlocale(locale.LC_ALL, "")  # so curses writes UTF-8 (⏎, …, ▶) correctly
    follower.emit = console.inbox.put
    thread = threading.Thread(target=follower.run, name="firestorm-follow", daemon=True)
    thread.start()
    try:
        curses.wrapper(_loop, console)
    except KeyboardInterrupt:
        pass
    finally:
        follower.stop.set()
        thread.join(timeout=BLOCK_SECONDS + 1)
    return 0


def _loop(scr: Any, console: Console) -> None:
    import curses

    styles = _curses_styles(curses)
    scr.keypad(True)
    scr.timeout(200)  # wake five times a second for new events and the clock
    with contextlib.suppress(curses.error):  # some terminals cannot hide the cursor
        curses.curs_set(0)
    _fit(curses, scr)
    top, last_draw = 0, 0.0
    keys = {curses.KEY_UP: "up", curses.KEY_DOWN: "down", curses.KEY_RESIZE: "resize"}
    while True:
        changed = console.drain()
        if changed or time.monotonic() - last_draw >= 1.0:
            top = _draw(scr, console, styles, top)
            last_draw = time.monotonic()
        key = scr.getch()
        if key == -1:
            continue
        name = keys.get(key) or (chr(key) if 0 <= key < 256 else "")
        if name == "resize":
            _fit(curses, scr)
        if name == "r":
            scr.clearok(True)
        if not console.handle_key(name):
            return
        top = _draw(scr, console, styles, top)
        last_draw = time.monotonic()


def _fit(curses: Any, scr: Any) -> None:
    # ncurses believes LINES/COLUMNS variables (often stale, exported by a shell
    # or a test runner) over the terminal: ask the terminal itself.
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())
    except (OSError, AttributeError, ValueError):
        return
    if (size.lines, size.columns) != scr.getmaxyx():
        curses.resizeterm(size.lines, size.columns)


def _curses_styles(curses: Any) -> dict[str, int]:
    colours = {1: curses.COLOR_RED, 2: curses.COLOR_YELLOW, 3: curses.COLOR_CYAN,
               4: curses.COLOR_GREEN}
    has_colour = curses.has_colors()
    if has_colour:
        curses.start_color()
        try:
            curses.use_default_colors()
            background = -1
        except curses.error:
            background = curses.COLOR_BLACK
        for pair, fg in colours.items():
            curses.init_pair(pair, fg, background)
    attrs = {"bold": curses.A_BOLD, "dim": curses.A_DIM, "reverse": curses.A_REVERSE, "": 0}
    out = {"normal": 0}
    for style, (pair, attr) in _STYLES.items():
        out[style] = attrs[attr] | (curses.color_pair(pair) if has_colour and pair else 0)
    out["critical"] |= curses.A_REVERSE  # the one badge that must shout
    return out


def _draw(scr: Any, console: Console, styles: dict[str, int], top: int) -> int:
    height, width = scr.getmaxyx()
    screen = console.screen(width)
    scr.erase()
    rows = max(1, height - len(screen.header) - len(screen.footer) - 1)
    start, end = screen.focus
    if start < top:
        top = start
    elif end > top + rows:
        top = max(0, min(start, end - rows))
    top = max(0, min(top, max(0, len(screen.body) - rows)))
    _put(scr, 0, screen.header, width, styles)
    _put(scr, len(screen.header) + 1, screen.body[top: top + rows], width, styles)
    if top + rows < len(screen.body):
        _put(scr, height - len(screen.footer) - 1,
             ((("  … more below (↓)", "dim"),),), width, styles)
    _put(scr, height - len(screen.footer), screen.footer, width, styles)
    scr.noutrefresh()
    import curses

    curses.doupdate()
    return top


def _put(scr: Any, y: int, lines: Sequence[Line], width: int, styles: dict[str, int]) -> None:
    import curses

    for row, line in enumerate(lines, start=y):
        x = 0
        for text, style in line:
            room = width - 1 - x
            if room <= 0:
                break
            # curses.error: the last cell of the screen, or a row beyond a shrunk window
            with contextlib.suppress(curses.error):
                scr.addnstr(row, x, text, room, styles.get(style, 0))
            x += min(len(text), room)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _id(stream_id: str) -> tuple[int, int]:
    ms, _, n = stream_id.partition("-")
    return int(ms), int(n or 0)
