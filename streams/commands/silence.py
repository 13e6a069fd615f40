"""``firestorm silence``: hold back notifications about an entity (or its story) until a time."""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import time
from datetime import datetime

from alerting.action_store import open_action_store
from alerting.audit import AuditEntry
from alerting.errors import SilenceError
from alerting.silence import Silence, parse_until
from alerting.store import open_store
from streams.components import load_watchlist
from streams.errors import FirestormError, UsageError
from streams.settings import Settings

__all__ = ["add_parser"]

_EPILOG = """\
examples:
  firestorm silence acme-stores --until 07:00 --why "known campaign, statement out at 9"
  firestorm silence acme-stores --story --until 2h --why "one storm: Acme and the Work Programme"
  firestorm silence --list
  firestorm silence --lift acme-stores-entity-1714566840500

A silenced critical is still notified unless --include-critical is given.
Silences end on their own at --until (at most 7 days); the console, the
incident pages and every message that still goes out show them.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "silence", help="hold back notifications about an entity or story until a time",
        description="Silence an entity (or its story: the entity and the policy or partner"
                    " the watchlist links to it) until a time, with who and why. While it"
                    " lasts, `firestorm notify` holds back its notifications, except critical"
                    " ones unless --include-critical. Nothing is hidden: the console and the"
                    " pages show the incident and the silence.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("entity", nargs="?", metavar="ENTITY", help="watchlist entity id to silence")
    p.add_argument("--until", metavar="WHEN",
                   help="2h, 90m, 1d, 07:00 (next, your local time) or an ISO-8601 time")
    p.add_argument("--why", metavar="TEXT", help="the reason (shown to whoever is on duty)")
    p.add_argument("--story", action="store_true",
                   help="also silence the entities linked to it in the watchlist")
    p.add_argument("--include-critical", action="store_true",
                   help="hold back critical notifications too (default: critical still goes out)")
    p.add_argument("--by", default=getpass.getuser(),
                   help="who is silencing it (default: your login name)")
    p.add_argument("--list", action="store_true", help="list the silences in force and exit")
    p.add_argument("--lift", metavar="ID", help="end the silence with this id now")
    p.add_argument("--json", action="store_true", help="with --list: one JSON object a line")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    tls = {"ssl_ca_certs": settings.redis_ca} if settings.redis_ca else {}
    store = open_action_store(settings.redis_url,
                              retention_seconds=int(settings.retention_days * 86_400), **tls)
    try:
        if args.list:
            return _list(store.silences(), args.json)
        if args.lift:
            lifted = store.lift_silence(args.lift)
            if lifted is None:
                raise FirestormError(f"no silence {args.lift!r} in force (it may have ended);"
                                     " see: firestorm silence --list")
            _audit(settings, store, lifted.entity_id, "lift-silence", args.by, "lifted",
                   lifted.describe())
            print(f"lifted: {lifted.describe()}")
            return 0
        return _set(args, settings, store)
    finally:
        store.close()


def _set(args: argparse.Namespace, settings: Settings, store: object) -> int:
    if not args.entity:
        raise UsageError("which entity? e.g. firestorm silence acme-stores --until 2h"
                         " --why TEXT (or --list, --lift ID)")
    if not args.until or not args.why:
        raise UsageError("say until when and why: --until 2h --why \"known campaign\"")
    path = settings.watchlist_path()
    watchlist = load_watchlist(str(path))
    ids = [e.id for e in watchlist.entities]
    if args.entity not in ids:
        raise UsageError(f"{args.entity!r} is not in the watchlist {path};"
                         f" entities: {', '.join(ids)}")
    now = time.time()
    local = datetime.now().astimezone().tzinfo  # "07:00" means 07:00 where the officer is
    try:  # what the officer typed: a mistake here is a usage error (exit 2)
        silence = Silence.make(
            args.entity, scope="story" if args.story else "entity",
            linked=watchlist.linked_to(args.entity),
            until=parse_until(args.until, now, local), by=args.by, why=args.why, now=now,
            include_critical=args.include_critical, via="cli",
            origin=f"host {socket.gethostname()}")
    except SilenceError as exc:
        raise UsageError(str(exc)) from None
    store.add_silence(silence)  # type: ignore[attr-defined]
    _audit(settings, store, args.entity, "silence", silence.by, "set", silence.describe())
    print(f"{silence.id}: {silence.describe()}")
    return 0


def _audit(settings: Settings, store: object, entity_id: str, action: str, by: str,
           outcome: str, detail: str) -> None:
    """Keep the action with the entity's latest incident, where a reviewer will look."""
    alerts = open_store(settings.redis_url,
                        **({"ssl_ca_certs": settings.redis_ca} if settings.redis_ca else {}))
    try:
        latest = alerts.incidents(entity_id)
    finally:
        alerts.close()
    if latest:
        store.add_audit(AuditEntry(  # type: ignore[attr-defined]
            time.time(), latest[0].incident_id, action, by, "cli",
            f"host {socket.gethostname()}", outcome, detail))


def _list(silences: list[Silence], as_json: bool) -> int:
    if as_json:
        for s in silences:
            print(json.dumps(s.to_dict(), ensure_ascii=False))
        return 0
    if not silences:
        print("no silences in force")
    for s in silences:
        print(f"{s.id}  {s.describe()}")
    return 0
