"""Labelled history: what really happened to each entity, to score alerts against.

One JSON object a line (JSONL). The format is documented in docs/detection.md
("Labels"); in short::

    {"entity_id": "acme", "kind": "background", "onset": "2026-03-02T00:00:00Z",
     "end": "2026-03-16T00:00:00Z"}
    {"entity_id": "acme", "kind": "storm", "onset": "2026-03-05T09:30:00Z",
     "peak": "2026-03-05T14:00:00Z", "end": "2026-03-05T20:00:00Z", "label": "boycott"}
    {"entity_id": "acme", "kind": "benign", "onset": 1772874000, "end": 1772875800,
     "label": "bots"}

- ``storm``: must be found (a warning or critical between ``onset`` and ``end``);
- ``benign``: looks like a storm but is not (bots, a news spike): must not warn;
- ``background``: a span in which every storm is labelled, so any other alarm
  is false; false alarms per entity-week are counted only inside these spans;
- ``ignore``: a span whose alarms count neither way (a linked policy dragged
  into its partner's storm, an episode nobody could label).

Times are ISO-8601 with an offset (``Z`` or ``+01:00``) or epoch seconds.
Optional: ``peak`` (storms: for lead and "found before the peak"), ``label``
(a sub-kind reported on its own), ``id`` and ``attrs`` (an object of your own
fields, carried into the JSON report). A bad line raises :class:`LabelError`
naming the source, the line, the field and the fix.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from models.errors import LabelError

__all__ = ["KINDS", "Label", "format_time", "parse_labels", "parse_time"]

KINDS = ("storm", "benign", "background", "ignore")
_FIELDS = ("entity_id", "kind", "onset", "peak", "end", "label", "id", "attrs")
_EARLIEST = 946684800.0  # 2000-01-01: mentions before it are rejected too
_LATEST = 4102444800.0  # 2100-01-01


@dataclass(frozen=True, slots=True)
class Label:
    """One labelled span of one entity's history.

    >>> lab = Label("acme", "storm", onset=1772874000.0, end=1772895600.0,
    ...             peak=1772881200.0, label="sharp")
    >>> Label.from_dict(json.loads(lab.to_json())) == lab
    True
    >>> lab.to_dict()["peak"]
    '2026-03-07T11:00:00Z'
    """

    entity_id: str
    kind: str
    onset: float
    end: float
    peak: float | None = None
    label: str = ""
    id: str = ""
    attrs: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise LabelError(f"'kind': {self.kind!r} must be one of {', '.join(KINDS)}")
        if not self.onset <= self.end:
            raise LabelError("'end' is before 'onset': swap them or fix the times")
        if self.peak is not None and not self.onset <= self.peak <= self.end:
            raise LabelError("'peak' must lie between 'onset' and 'end'")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"entity_id": self.entity_id, "kind": self.kind,
                               "onset": format_time(self.onset)}
        if self.peak is not None:
            out["peak"] = format_time(self.peak)
        out["end"] = format_time(self.end)
        if self.label:
            out["label"] = self.label
        if self.id:
            out["id"] = self.id
        if self.attrs:
            out["attrs"] = dict(self.attrs)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Any) -> Label:
        """Check one decoded line; :class:`LabelError` names the field and the fix."""
        if not isinstance(data, dict):
            raise LabelError(f"a label is a JSON object, not {type(data).__name__};"
                             ' write e.g. {"entity_id": "acme", "kind": "storm", ...}')
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise LabelError(f"unknown field {unknown[0]!r}: the fields are"
                             f" {', '.join(_FIELDS)}; put your own fields under 'attrs'")
        for name in ("entity_id", "kind", "onset", "end"):
            if name not in data:
                raise LabelError(f"'{name}' is missing: every label needs entity_id, kind,"
                                 " onset and end")
        entity = data["entity_id"]
        if not isinstance(entity, str) or not entity.strip():
            raise LabelError(f"'entity_id': {entity!r} must be a non-empty string"
                             " (the entity's id in the watchlist)")
        kind = data["kind"]
        if kind not in KINDS:
            raise LabelError(f"'kind': {kind!r} must be one of {', '.join(KINDS)}")
        onset = parse_time(data["onset"], "onset")
        end = parse_time(data["end"], "end")
        peak = None if data.get("peak") is None else parse_time(data["peak"], "peak")
        for name in ("label", "id"):
            if not isinstance(data.get(name, ""), str):
                raise LabelError(f"'{name}': {data[name]!r} must be a string")
        attrs = data.get("attrs", {})
        if not isinstance(attrs, dict):
            raise LabelError(f"'attrs': must be a JSON object of your own fields,"
                             f" not {type(attrs).__name__}")
        return cls(entity, kind, onset, end, peak, data.get("label", ""), data.get("id", ""),
                   attrs)


def parse_labels(lines: Iterable[str | bytes], source: str = "labels") -> list[Label]:
    """Labels from JSONL lines (blank lines skipped); the first bad line raises.

    >>> try:
    ...     parse_labels(['{"entity_id": "a", "kind": "storm", "onset": 0, "end": 60}'])
    ... except LabelError as exc:
    ...     print(str(exc)[:46])
    labels line 1: 'onset': 0 is before 2000-01-01
    >>> [lab.kind for lab in parse_labels(['', '{"entity_id": "a", "kind": "storm",'
    ...     ' "onset": "2026-03-07T09:00:00Z", "end": "2026-03-07T10:00:00+01:00"}'])]
    ['storm']
    """
    out = []
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            raise LabelError(f"{source} line {number}: not UTF-8 text") from None
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LabelError(f"{source} line {number}: not valid JSON ({exc.msg} at column"
                             f" {exc.colno}); one JSON object a line") from None
        try:
            out.append(Label.from_dict(data))
        except LabelError as exc:
            raise LabelError(f"{source} line {number}: {exc}") from None
    return out


def parse_time(value: Any, name: str = "time") -> float:
    """Epoch seconds from epoch seconds or ISO-8601 with an offset.

    >>> parse_time("2026-03-07T09:00:00Z"), parse_time(1772874000)
    (1772874000.0, 1772874000.0)
    """
    fix = ("use epoch seconds (e.g. 1772874000) or ISO-8601 with an offset"
           " (e.g. 2026-03-07T09:00:00Z)")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise LabelError(f"'{name}': {value!r} is not a time; {fix}")
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise LabelError(f"'{name}': {value!r} is not an ISO-8601 time; {fix}") from None
        if parsed.tzinfo is None:
            raise LabelError(f"'{name}': {value!r} has no UTC offset; add one"
                             " (e.g. 2026-03-07T09:00:00Z)")
        ts = parsed.timestamp()
    else:
        ts = float(value)
        if not math.isfinite(ts):
            raise LabelError(f"'{name}': {value!r} is not a finite time; {fix}")
    if ts < _EARLIEST:
        raise LabelError(f"'{name}': {value!r} is before 2000-01-01; {fix}")
    if ts >= _LATEST:
        raise LabelError(f"'{name}': {value!r} is after 2100; epoch seconds, not"
                         " milliseconds? " + fix)
    return ts


def format_time(ts: float) -> str:
    """Epoch seconds as ISO-8601 UTC with a ``Z`` (whole seconds stay whole).

    >>> format_time(1772874000.0), format_time(1772874000.5)
    ('2026-03-07T09:00:00Z', '2026-03-07T09:00:00.500000Z')
    """
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
