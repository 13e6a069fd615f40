"""``firestorm ack INCIDENT``: acknowledge an incident and report what the worker answered."""

from __future__ import annotations

import argparse
import getpass
import socket
import sys

from alerting.ack import ALREADY, INVALID, NOT_LATEST, RECORDED, UNKNOWN
from streams.acks import DEFAULT_WAIT, acknowledge, send_ack

__all__ = ["EXIT_CODES", "NO_ANSWER", "add_parser"]

NO_ANSWER = 6
# One exit code per answer, so a script (or a pager bot) can tell them apart.
EXIT_CODES = {RECORDED: 0, ALREADY: 3, UNKNOWN: 4, NOT_LATEST: 5, INVALID: 2}

_EPILOG = """\
exit status:
  0  recorded: the incident is now acknowledged by you
  3  already acknowledged (by whom and when is printed)
  4  unknown incident (no such id for a watched entity)
  5  not the latest incident of the entity (the latest is printed: acknowledge that one)
  6  no answer from a worker within --wait seconds (is a worker running with these
     FIRESTORM_TOPIC_* / FIRESTORM_KAFKA_BOOTSTRAP / FIRESTORM_REDIS_URL settings?)
  2  could not send it (Kafka or Redis unreachable, topic missing, bad arguments)
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ack", help="acknowledge an incident ('I have it') and wait for the worker's answer",
        description="Acknowledge an incident. The ack goes to the worker that owns the"
                    " entity; it records it, publishes an 'acknowledged' event that every"
                    " console, page and notifier sees (re-notifying stops), and answers."
                    " This command waits for that answer and prints it.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("incident", metavar="INCIDENT", help="incident id, e.g. acme-20260105T101500Z")
    p.add_argument("--by", default=getpass.getuser(),
                   help="who is acknowledging (default: your login name)")
    p.add_argument("--wait", type=float, default=DEFAULT_WAIT, metavar="S",
                   help=f"seconds to wait for the worker's answer (default {DEFAULT_WAIT:g})")
    p.add_argument("--no-wait", action="store_true",
                   help="only send it (exit 0 once Kafka has it; the outcome is not known)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    origin = f"host {socket.gethostname()}"
    if args.no_wait:
        ack = send_ack(args.settings, args.incident, args.by, via="cli", origin=origin)
        print(f"acknowledgement of {ack.incident_id} by {ack.by} sent (not waiting for the"
              " answer)", file=sys.stderr)
        return 0
    if args.wait <= 0:
        print("firestorm ack: --wait must be > 0 seconds (or use --no-wait)", file=sys.stderr)
        return 2
    result = acknowledge(args.settings, args.incident, args.by, via="cli", origin=origin,
                         wait=args.wait)
    answer = result.answer
    if answer is None and result.problem:
        print(f"SENT, ANSWER UNREADABLE: the acknowledgement of {result.ack.incident_id} reached"
              f" Kafka, but the worker's answer could not be read: {result.problem}",
              file=sys.stderr)
        return NO_ANSWER
    if answer is None:
        print(f"NO ANSWER: the acknowledgement of {result.ack.incident_id} reached Kafka but no"
              f" worker answered within {args.wait:g}s. Is a worker running with the same"
              " FIRESTORM_TOPIC_OBSERVATIONS, FIRESTORM_KAFKA_BOOTSTRAP and"
              " FIRESTORM_REDIS_URL? If one starts later it will still apply it.",
              file=sys.stderr)
        return NO_ANSWER
    label = answer.outcome.replace("_", " ").upper()
    print(f"{label}: {answer.reason}", file=sys.stderr if not answer.ok else sys.stdout)
    return EXIT_CODES[answer.outcome]
