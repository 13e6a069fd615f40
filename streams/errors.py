"""Errors of the I/O edge.

    FirestormError
     └── ConfigError   a setting or command-line value is wrong (names it and the fix)

Errors of the pure core live in :mod:`models.errors` and :mod:`alerting.errors`.
"""

__all__ = ["ConfigError", "FirestormError"]


class FirestormError(Exception):
    """Base of the edge's errors; the CLI prints these without a traceback."""


class ConfigError(FirestormError, ValueError):
    """A configuration value is invalid."""
