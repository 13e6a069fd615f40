"""``firestorm console``: the duty officer's live board of open incidents (docs/console.md)."""

from __future__ import annotations

import argparse
import getpass
import socket
import sys
import time

from alerting.ack import AckAnswer
from alerting.action_store import open_action_store
from streams.acks import acknowledge
from streams.console import Console, Feed, Follower, run_curses, run_once, run_plain
from streams.errors import UsageError
from streams.officer import give_feedback
from streams.settings import Settings

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "console", help="the duty officer's live board: open incidents, evidence, acknowledge",
        description="Show every open incident from the Redis alert log, most severe first,"
                    " with why it fired, how big and how negative it is, sample posts and the"
                    " linked policy or partner; follow new events live; press 'a' to"
                    " acknowledge the selected incident (the worker's answer is shown; a"
                    " partner and its policy storming together are one story: 'a'"
                    " acknowledges both), 'f' to rate it. The header says whether the worker"
                    " is alive (its heartbeat); an empty board says 'no open incidents' only"
                    " when it is. Keys: up/down or j/k select, a acknowledge, f feedback"
                    " (u useful, x false alarm, t too late), r redraw, q quit.")
    p.add_argument("--by", default=getpass.getuser(),
                   help="who acknowledges from this console (default: your login name)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--plain", action="store_true",
                      help="no full screen: print the board, then each new event as lines"
                           " (the default when stdout is not a terminal)")
    mode.add_argument("--once", action="store_true",
                      help="print the current board and exit (scripts, cron, tests)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    by = args.by.strip()
    if not by:
        raise UsageError("say who is on duty: --by NAME")
    feed = Feed.open(settings.redis_url, settings.redis_ca)
    actions = open_action_store(settings.redis_url,
                                retention_seconds=int(settings.retention_days * 86_400),
                                **({"ssl_ca_certs": settings.redis_ca} if settings.redis_ca
                                   else {}))
    origin = f"host {socket.gethostname()}"

    def ack(incident_id: str) -> AckAnswer | None:
        return acknowledge(settings, incident_id, by, via="console", origin=origin,
                           actions=actions).answer

    def rate(incident_id: str, verdict: str) -> None:
        give_feedback(feed.store, actions, incident_id, verdict, by, "console", origin,
                      time.time())

    console = Console(by, ack=ack, where=_where(settings.redis_url), feedback=rate,
                      silent_after=settings.silent_after)
    try:
        if args.once:
            console.receive(("silences", actions.silences()))
            return run_once(console, feed, sys.stdout)
        follower = Follower(feed, console.inbox.put, silences=actions.silences)
        if args.plain or not (sys.stdout.isatty() and sys.stdin.isatty()):
            return run_plain(console, follower, sys.stdout, sys.stderr)
        return run_curses(console, follower)
    finally:
        feed.close()
        actions.close()


def _where(url: str) -> str:
    # Never show a password that may sit in the URL.
    return url.split("@")[-1] if "@" in url else url
