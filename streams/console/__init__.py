"""The duty officer's console: the alert log folded into a board, shown and acted on.

Three parts, so that everything but the terminal is testable without one:

- :mod:`~streams.console.feed`: :class:`Feed` reads the Redis alert log
  (catch-up, then live) and :class:`Follower` runs it with reconnection.
- :mod:`~streams.console.screen`: :class:`Console` holds the board, the
  selection and the acknowledgement dialogue; keys in, styled lines out.
- :mod:`~streams.console.drivers`: :func:`run_curses`, :func:`run_plain` and
  :func:`run_once` drive it on a terminal or as lines.
"""

from streams.console.drivers import run_curses, run_once, run_plain
from streams.console.feed import Feed, Follower
from streams.console.screen import Console, screen_text

__all__ = ["Console", "Feed", "Follower", "run_curses", "run_once", "run_plain",
           "screen_text"]
