"""YAML documents people write (watchlists, escalation policies): errors say where.

A config mistake at 2am must name the file and line, not print a parser trace.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

__all__ = ["Fields", "load_yaml"]


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


@dataclass(frozen=True, slots=True)
class Fields:
    """The field checks of one place in a YAML document, each error naming file, place,
    field and fix: shared by the watchlist and the escalation policy parsers.

    ``where`` is the place (``"entity 'acme'"``, ``"route #2"``); empty at the top
    level, where a field is named on its own (``'events'``).

    >>> f = Fields("w.yaml", "entity 'acme'", ValueError)
    >>> f.choices({"kind": ["shop"]}, "kind", ("policy", "partner"))
    Traceback (most recent call last):
    ...
    ValueError: w.yaml: entity 'acme' field 'kind': a non-empty list of: policy, partner
    >>> Fields("p.yaml", "", ValueError).number({"minutes": 15}, "minutes", 0, at_least=0)
    15.0
    """

    source: str
    where: str
    error: type[Exception]

    def at(self, where: str) -> Fields:
        """The same document, another place in it."""
        return Fields(self.source, where, self.error)

    def fail(self, field: str | None, fix: str) -> Exception:
        """The error to raise: ``source: where field 'name': fix``."""
        if field is None:
            at = self.where
        else:
            at = f"{self.where} field '{field}'" if self.where else f"'{field}'"
        return self.error(f"{self.source}: {at}: {fix}")

    def only(self, data: Mapping[str, Any], allowed: Collection[str]) -> None:
        """Refuse a field the format does not have (a typo must not be ignored)."""
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise self.fail(unknown[0], "unknown field; allowed fields are"
                                        f" {', '.join(sorted(allowed))}")

    def text(self, data: Mapping[str, Any], name: str,
             fix: str = "required, a non-empty string") -> str:
        """A required non-empty string, stripped."""
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, fix)
        return value.strip()

    def optional_text(self, data: Mapping[str, Any], name: str, fix: str) -> str | None:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise self.fail(name, fix)
        return value

    def texts(self, data: Mapping[str, Any], name: str,
              fix: str = 'must be a list of non-empty strings, e.g. ["workfare"]'
              ) -> tuple[str, ...]:
        """A list of non-empty strings (default empty), each stripped."""
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                  for v in value):
            raise self.fail(name, fix)
        return tuple(v.strip() for v in value)

    def number(self, data: Mapping[str, Any], name: str, default: float, *,
               above: float | None = None, at_least: float | None = None,
               whole: bool = False, fix: str = "") -> float:
        """A finite number (not a YAML boolean), ``> above`` / ``>= at_least`` if given."""
        value = data.get(name, default)
        ok = (not isinstance(value, bool) and isinstance(value, int | float)
              and math.isfinite(value) and (not whole or isinstance(value, int))
              and (above is None or value > above) and (at_least is None or value >= at_least))
        if not ok:
            bound = (f" > {above:g}" if above is not None else "") + (
                f" >= {at_least:g}" if at_least is not None else "")
            raise self.fail(name, fix or f"must be a {'whole ' if whole else ''}number{bound}")
        return float(value)

    def flag(self, data: Mapping[str, Any], name: str, default: bool = False) -> bool:
        value = data.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, "must be true or false")
        return value

    def choices(self, data: Mapping[str, Any], name: str, allowed: Sequence[str],
                default: Sequence[str] | None = None, *,
                empty_ok: bool = False) -> tuple[str, ...]:
        """A list of values from ``allowed``, each once, in the order written."""
        value = data.get(name, None if default is None else list(default))
        if (not isinstance(value, list) or (not value and not empty_ok)
                or not all(isinstance(v, str) and v in allowed for v in value)):
            raise self.fail(name, f"a {'' if empty_ok else 'non-empty '}list of:"
                                  f" {', '.join(allowed)}")
        return tuple(dict.fromkeys(value))
