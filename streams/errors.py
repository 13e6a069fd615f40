"""Errors of the I/O edge.

    FirestormError        a runtime failure: the command exits 1 with the message
     └── ConfigError      a setting or file is wrong (names it and the fix)
          └── UsageError  a flag's value is wrong: exits 2, like argparse's own errors

Errors of the pure core live in :mod:`models.errors` and :mod:`alerting.errors`.
"""

__all__ = ["ConfigError", "FirestormError", "UsageError"]


class FirestormError(Exception):
    """Base of the edge's errors; the CLI prints these without a traceback."""


class ConfigError(FirestormError, ValueError):
    """A configuration value is invalid."""


class UsageError(ConfigError):
    """A command-line flag or argument is invalid (exit status 2)."""
