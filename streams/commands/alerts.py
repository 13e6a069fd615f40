"""``firestorm alerts``: print each alert from Redis as it arrives."""

from __future__ import annotations

import argparse
import json
import sys
import time

from streams.errors import FirestormError
from streams.render import format_alert, safe
from streams.settings import Settings

__all__ = ["add_parser"]

CHANNEL = "firestorm:alerts"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "alerts", help="print alerts live from Redis",
        description=f"Subscribe to the Redis channel {CHANNEL} (or one entity's channel)"
                    " and print each alert event readably as it arrives. Ctrl-C stops.")
    p.add_argument("--entity", metavar="ID", help="only this entity's alerts")
    p.add_argument("--json", action="store_true", help="print the raw JSON events, one a line")
    p.add_argument("--count", type=int, default=0, metavar="N",
                   help="exit after N alerts (default: run until interrupted)")
    p.add_argument("--timeout", type=float, default=0.0, metavar="S",
                   help="exit with status 1 if no alert arrives for S seconds (default: wait)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    import redis

    channel = f"{CHANNEL}:{args.entity}" if args.entity else CHANNEL
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(channel)
    except redis.RedisError as exc:
        raise FirestormError(f"cannot subscribe at {_where(settings.redis_url)}: {exc};"
                             " is Redis up? try: deploy/local/stack.sh start") from None
    colour = sys.stdout.isatty()
    print(f"listening on {channel} at {_where(settings.redis_url)}", file=sys.stderr)
    seen = 0
    deadline = time.monotonic() + args.timeout
    try:
        while not args.count or seen < args.count:
            # None also comes back for the (ignored) subscribe confirmation: go by the clock.
            message = pubsub.get_message(timeout=1.0)
            if message is None:
                if args.timeout and time.monotonic() > deadline:
                    print(f"no alert within {args.timeout:g}s", file=sys.stderr)
                    return 1
                continue
            deadline = time.monotonic() + args.timeout
            seen += 1
            print(_show(message["data"], args.json, colour), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        pubsub.close()
    return 0


def _show(data: bytes, raw: bool, colour: bool) -> str:
    text = data.decode("utf-8", "replace")
    if raw:
        return text
    try:
        event = json.loads(text)
    except ValueError:
        return f"(not an alert event: {safe(text, 120)})"
    return format_alert(event, colour=colour) if isinstance(event, dict) else safe(text)


def _where(url: str) -> str:
    # Never print a password that may sit in the URL.
    return url.split("@")[-1] if "@" in url else url
