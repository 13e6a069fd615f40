"""The ``firestorm`` command: one subcommand per job, each with a ``--help`` that helps.

Exit status: 0 done; 1 a runtime failure (a bad setting or file, Kafka or Redis
unreachable, an unreadable or unwritable file: the message names it and the
fix); 2 a usage error (an unknown flag, a missing or bad argument); 130
interrupted (Ctrl-C). A user error never ends in a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from alerting.errors import FirestormAlertError
from models.errors import FirestormModelError
from streams.errors import FirestormError, UsageError
from streams.settings import Settings

__all__ = ["main"]

_EPILOG = """\
Settings come from a TOML file (--config FILE or FIRESTORM_CONFIG), then from
FIRESTORM_* environment variables (README, 'Configuration'), then from flags:
  FIRESTORM_KAFKA_BOOTSTRAP (127.0.0.1:9092)  FIRESTORM_REDIS_URL (redis://127.0.0.1:6379/0)
  FIRESTORM_WATCHLIST (else ./watchlist.yaml)  FIRESTORM_TOPIC_MENTIONS (mentions)

Exit status: 0 done, 1 runtime failure, 2 usage error, 130 interrupted.
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("firestorm")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    from streams.commands import (
        ack,
        alerts,
        console,
        evaluate,
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
    parser.add_argument("--version", action="version", version=f"firestorm {_version()}")
    parser.add_argument("--config", metavar="FILE",
                        help="settings file (TOML; default: FIRESTORM_CONFIG)")
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
    evaluate.add_parser(sub)
    report.add_parser(sub)
    negativity.add_score_parser(sub)
    negativity.add_train_parser(sub)
    for command in sub.choices.values():  # --config also after the command's name
        command.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                             help="settings file (TOML; default: FIRESTORM_CONFIG)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors exit 2 here, with argparse's message
    try:
        args.settings = Settings.load(config=args.config)
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"firestorm {args.command}: {exc}\n"
              f"(firestorm {args.command} --help shows the options)", file=sys.stderr)
        return 2
    except (FirestormError, FirestormAlertError, FirestormModelError) as exc:
        print(f"firestorm {args.command}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file we did not foresee: still a message, not a traceback
        where = f" {exc.filename!r}" if exc.filename else ""
        print(f"firestorm {args.command}:{where} {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
