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
from importlib import import_module

from alerting.errors import FirestormAlertError
from models.errors import FirestormModelError
from streams.errors import FirestormError, UsageError
from streams.settings import Settings

__all__ = ["COMMANDS", "build_parser", "command_named", "main"]

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


# Each subcommand's module and the function that adds its parser, in `--help` order.
# Only the named command's module is imported when a command is given: the others
# bring numpy, scipy, redis, Faust..., and an officer's `firestorm ack` at 2am or a
# replay should not wait for them.
COMMANDS: dict[str, tuple[str, str]] = {
    "worker": ("worker", "add_parser"),
    "produce": ("produce", "add_parser"),
    "alerts": ("alerts", "add_parser"),
    "ack": ("ack", "add_parser"),
    "silence": ("silence", "add_parser"),
    "console": ("console", "add_parser"),
    "notify": ("notify", "add_parser"),
    "pages": ("pages", "add_parser"),
    "replay": ("replay", "add_parser"),
    "backfill": ("backfill", "add_parser"),
    "evaluate": ("evaluate", "add_parser"),
    "report": ("report", "add_parser"),
    "score": ("negativity", "add_score_parser"),
    "train-negativity": ("negativity", "add_train_parser"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or (``only``, a name in :data:`COMMANDS`) the top level
    and that one command: what parses a command line that names it."""
    parser = argparse.ArgumentParser(
        prog="firestorm", description="Early warning of social-media firestorms.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"firestorm {_version()}")
    parser.add_argument("--config", metavar="FILE",
                        help="settings file (TOML; default: FIRESTORM_CONFIG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, adder) in COMMANDS.items():
        if only is None or name == only:
            getattr(import_module(f"streams.commands.{module}"), adder)(sub)
    for command in sub.choices.values():  # --config also after the command's name
        command.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                             help="settings file (TOML; default: FIRESTORM_CONFIG)")
    return parser


def command_named(argv: Sequence[str]) -> str | None:
    """The subcommand a command line names, if it names one of :data:`COMMANDS` before
    anything the top level would have to parse (else None: parse with every command).

    >>> command_named(["--config", "f.toml", "replay", "-i", "x"])
    'replay'
    >>> command_named(["--help"]) is None, command_named(["nonsense"]) is None
    (True, True)
    """
    args = iter(argv)
    for arg in args:
        if arg == "--config":
            next(args, None)
        elif arg.startswith("--config="):
            continue
        else:
            return arg if arg in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_named(argv))
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
