"""The ``firestorm`` command: one subcommand per job, each with a ``--help`` that helps."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from alerting.errors import FirestormAlertError
from models.errors import FirestormModelError
from streams.errors import FirestormError
from streams.settings import Settings

__all__ = ["main"]

_EPILOG = """\
Configuration comes from FIRESTORM_* environment variables (see README):
  FIRESTORM_KAFKA_BOOTSTRAP (127.0.0.1:9092)  FIRESTORM_REDIS_URL (redis://127.0.0.1:6379/0)
  FIRESTORM_WATCHLIST  FIRESTORM_TOPIC_MENTIONS (mentions)  FIRESTORM_TOPIC_DEAD (mentions-dead)
"""


def build_parser() -> argparse.ArgumentParser:
    from streams.commands import (
        ack,
        alerts,
        console,
        negativity,
        notify,
        pages,
        produce,
        replay,
        report,
        silence,
        worker,
    )

    parser = argparse.ArgumentParser(
        prog="firestorm", description="Early warning of social-media firestorms.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    worker.add_parser(sub)
    produce.add_parser(sub)
    alerts.add_parser(sub)
    ack.add_parser(sub)
    silence.add_parser(sub)
    console.add_parser(sub)
    notify.add_parser(sub)
    pages.add_parser(sub)
    replay.add_parser(sub)
    report.add_parser(sub)
    negativity.add_score_parser(sub)
    negativity.add_train_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.settings = Settings.from_env()
        return int(args.func(args) or 0)
    except (FirestormError, FirestormAlertError, FirestormModelError) as exc:
        print(f"firestorm {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
