"""Drivers for a :class:`~streams.console.screen.Console`: full screen, lines, or once.

:func:`run_curses` and :func:`run_plain` drive it on a terminal or as lines;
:func:`run_once` prints the board once. Only this module touches curses.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from streams.console.feed import BLOCK_SECONDS, Feed, Follower, Message
from streams.console.screen import Console, Line, Screen, screen_text
from streams.render import format_alert

__all__ = ["MORE_BELOW", "layout", "run_curses", "run_once", "run_plain"]

MORE_BELOW: Line = (("  … more below (↓)", "dim"),)


def run_once(console: Console, feed: Feed, out: TextIO) -> int:
    """Print the board as the log has it now, and return (``--once``: tests, cron)."""
    console.receive(("reset", feed.catch_up()))
    console.receive(("liveness", *feed.liveness()))
    console.receive(("status", True, "connected"))
    out.write(screen_text(console.screen(width=10_000, expand_all=True)))
    return 0


def layout(screen: Screen, height: int, top: int) -> tuple[int, list[tuple[int, Line]]]:
    """Which line goes on which row of a ``height``-row terminal, scrolled from ``top``.

    The header, a blank row, as much of the body as fits with the selected story in
    view, then, on a row of its own, "more below" when the body goes on, and the
    footer on the last rows. Returns the (possibly moved) ``top`` and the rows.

    >>> s = Screen(header=((("H", ""),),), body=tuple(((f"b{i}", ""),) for i in range(9)),
    ...            focus=(0, 1), footer=((("F", ""),),))
    >>> top, rows = layout(s, height=6, top=0)
    >>> [(row, line[0][0]) for row, line in rows]
    [(0, 'H'), (2, 'b0'), (3, 'b1'), (4, '  … more below (↓)'), (5, 'F')]
    """
    fixed = len(screen.header) + 1 + len(screen.footer)
    rows = max(1, height - fixed)
    if len(screen.body) > rows:
        rows = max(1, rows - 1)  # the marker takes a row of its own, never a body line's
    start, end = screen.focus
    if start < top:
        top = start
    elif end > top + rows:
        top = max(0, min(start, end - rows))
    top = max(0, min(top, max(0, len(screen.body) - rows)))
    placed = list(enumerate(screen.header))
    first = len(screen.header) + 1
    placed += [(first + i, line) for i, line in enumerate(screen.body[top: top + rows])]
    if top + rows < len(screen.body):
        placed.append((first + rows, MORE_BELOW))
    placed += [(height - len(screen.footer) + i, line) for i, line in enumerate(screen.footer)]
    return top, placed


def run_plain(console: Console, follower: Follower, out: TextIO, err: TextIO) -> int:
    """Print the board once, then each new event as lines, until Ctrl-C (``--plain``)."""
    first = True
    said = [""]  # the last liveness line written

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
        elif kind == "lost":
            err.write("redis: the alert log is gone (restarted empty?): rebuilding\n")
        elif kind == "liveness":
            live = console.liveness()
            text = live.text() if live is not None else ""
            if text != said[0]:  # only changes: a line every 2 s would drown the events
                err.write(f"worker: {text}\n")
                err.flush()
                said[0] = text
        out.flush()

    follower.emit = emit
    with contextlib.suppress(KeyboardInterrupt):
        follower.run()
    return 0


_STYLES = {"critical": (1, "bold"), "warning": (2, "bold"), "watch": (3, ""),
           "alert": (1, "bold"), "alarm": (1, "bold"), "ok": (4, ""), "pending": (2, ""),
           "ask": (2, "bold"), "question": (2, "bold"),
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
    # Lines are fitted one column short: curses cannot write the last cell of a row.
    top, rows = layout(console.screen(width - 1), height, top)
    scr.erase()
    for row, line in rows:
        _put(scr, row, (line,), width, styles)
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

