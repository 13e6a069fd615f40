"""``firestorm ack INCIDENT``: acknowledge an incident from the command line."""

from __future__ import annotations

import argparse
import getpass
import sys

from streams.acks import send_ack

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ack", help="acknowledge an incident ('I have it')",
        description="Acknowledge an incident. The worker records it and publishes an"
                    " 'acknowledged' event that every console and notifier sees; re-notifying"
                    " of that incident stops.")
    p.add_argument("incident", metavar="INCIDENT", help="incident id, e.g. acme-20260105T101500Z")
    p.add_argument("--by", default=getpass.getuser(),
                   help="who is acknowledging (default: your login name)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ack = send_ack(args.settings, args.incident, args.by)
    print(f"acknowledgement of {ack.incident_id} by {ack.by} sent", file=sys.stderr)
    return 0
