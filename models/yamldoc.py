"""YAML documents people write (watchlists, escalation policies): errors say where.

A config mistake at 2am must name the file and line, not print a parser trace.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["load_yaml"]


def load_yaml(text: str, source: str, error: type[Exception]) -> Any:
    """``yaml.safe_load(text)``; a syntax error is raised as ``error`` naming source and line.

    >>> load_yaml("a: [1", "w.yaml", ValueError)
    Traceback (most recent call last):
    ...
    ValueError: w.yaml line 1: not valid YAML (expected ',' or ']', but got '<stream end>')
    """
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = str(getattr(exc, "problem", None) or exc).strip()
        raise error(f"{source}{where}: not valid YAML ({problem})") from None
