"""The mention contract: one social-media post, decoded and validated.

Decoding never raises on bad input. A message that is not valid JSON, is not
an object, lacks a required field, has a wrong type or is absurd becomes a
:class:`Rejection` carrying a precise reason and the original bytes, so the
edge can route it to the dead-letter topic and lose nothing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "MAX_FUTURE_SECONDS",
    "MAX_TEXT_CHARS",
    "Mention",
    "Rejection",
    "decode",
    "parse_ts",
]

MAX_TEXT_CHARS = 10_000
# A clock a day ahead is a broken producer, not a timezone slip.
MAX_FUTURE_SECONDS = 86_400.0
# Before 2000 there was no social media: an epoch that small is a unit error.
MIN_TS = 946_684_800.0

_REQUIRED_STR = ("id", "platform", "author", "text")
_OPTIONAL_STR = ("lang", "reshare_of", "reply_to", "url")
_KNOWN = frozenset((*_REQUIRED_STR, *_OPTIONAL_STR, "ts", "author_followers"))


@dataclass(frozen=True, slots=True)
class Mention:
    """One accepted post. ``ts`` is event time in epoch seconds (UTC).

    >>> m = decode(b'{"id": "1", "ts": "2026-01-05T09:00:00Z", "platform": "twitter",'
    ...            b' "author": "@a", "text": "Scrap #workfare"}', now=1.8e9)
    >>> m.ts, m.text
    (1767603600.0, 'Scrap #workfare')
    """

    id: str
    ts: float
    platform: str
    author: str
    text: str
    author_followers: int | None = None
    lang: str | None = None
    reshare_of: str | None = None
    reply_to: str | None = None
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON shape; unknown fields kept as they came."""
        out: dict[str, Any] = dict(self.extra)
        out.update(id=self.id, ts=self.ts, platform=self.platform, author=self.author,
                   text=self.text)
        for name in ("author_followers", *_OPTIONAL_STR):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mention:
        """Inverse of :meth:`to_dict` for data already validated."""
        extra = {k: v for k, v in data.items() if k not in _KNOWN}
        known = {k: v for k, v in data.items() if k in _KNOWN}
        return cls(**known, extra=extra)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A message that is not a mention, with why, and its bytes untouched."""

    reason: str
    raw: bytes


def decode(raw: bytes | str, *, now: float) -> Mention | Rejection:
    """Decode one message; ``now`` (epoch seconds) bounds future timestamps.

    >>> decode(b'{"id": "1"}', now=0).reason
    "missing required field 'ts'"
    >>> decode(b'[1]', now=0).reason
    'not a JSON object: got array'
    """
    if type(raw) is bytes:
        raw_bytes = raw
    else:
        raw_bytes = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(f"not UTF-8: invalid byte at position {exc.start}", raw_bytes)
    try:
        data = _parse(text)
    except (ValueError, RecursionError) as exc:
        return Rejection(f"not valid JSON: {_short(exc)}", raw_bytes)
    if type(data) is dict:
        ts = _plainly_valid(data, now)
        if ts is not None:
            get = data.get
            return Mention(data["id"], ts, data["platform"], data["author"], data["text"],
                           get("author_followers"), get("lang"), get("reshare_of"),
                           get("reply_to"), get("url"))
    else:
        return Rejection(f"not a JSON object: got {_json_type(data)}", raw_bytes)
    reason = _validate(data, now)
    if reason is not None:
        return Rejection(reason, raw_bytes)
    return _build(data)


def parse_ts(value: Any) -> float | str:
    """Event time as epoch seconds, or the reason it is not one."""
    if isinstance(value, bool):
        return "field 'ts' must be an ISO-8601 string or epoch seconds, got bool"
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            return "field 'ts' is too large to be epoch seconds"
        if not math.isfinite(seconds):
            return "field 'ts' must be a finite number"
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return f"field 'ts' is not an ISO-8601 timestamp: {value[:40]!r}"
        if parsed.tzinfo is None:
            return "field 'ts' has no UTC offset: add 'Z' or '+01:00'"
        try:
            seconds = parsed.timestamp()
        except (OverflowError, ValueError):
            return f"field 'ts' is out of range: {value[:40]!r}"
    else:
        return f"field 'ts' must be an ISO-8601 string or epoch seconds, got {_json_type(value)}"
    if seconds < MIN_TS:
        return f"field 'ts' is before 2000-01-01 ({seconds:.0f}): milliseconds sent as seconds?"
    return seconds


_PLAIN = _KNOWN


def _plainly_valid(data: dict[str, Any], now: float) -> float | None:
    """Event time of a valid mention of the common shape (known fields only, epoch
    ``ts``), else None: :func:`_validate` then works out why, or accepts a rarer
    shape. A fast path, never a second opinion.
    """
    if not data.keys() <= _PLAIN:
        return None
    try:
        id_, ts, platform = data["id"], data["ts"], data["platform"]
        author, text = data["author"], data["text"]
    except KeyError:
        return None
    if (type(id_) is not str or not id_ or type(platform) is not str
            or type(author) is not str or type(text) is not str
            or len(text) > MAX_TEXT_CHARS):
        return None
    if type(ts) is float:
        seconds = ts
    elif type(ts) is int and -(2**53) < ts < 2**53:
        seconds = float(ts)
    else:
        return None
    if not MIN_TS <= seconds <= now + MAX_FUTURE_SECONDS:  # NaN fails too
        return None
    followers = data.get("author_followers")
    if followers is not None and (type(followers) is not int or followers < 0):
        return None
    for name in _OPTIONAL_STR:
        value = data.get(name)
        if value is not None and type(value) is not str:
            return None
    return seconds


def _validate(data: dict[str, Any], now: float) -> str | None:
    for name in (*_REQUIRED_STR[:1], "ts", *_REQUIRED_STR[1:]):
        if name not in data:
            return f"missing required field '{name}'"
    for name in _REQUIRED_STR:
        if not isinstance(data[name], str):
            return f"field '{name}' must be a string, got {_json_type(data[name])}"
    if not data["id"]:
        return "field 'id' must not be empty"
    if len(data["text"]) > MAX_TEXT_CHARS:
        return f"field 'text' is {len(data['text'])} characters, over the {MAX_TEXT_CHARS} limit"
    ts = parse_ts(data["ts"])
    if isinstance(ts, str):
        return ts
    if ts > now + MAX_FUTURE_SECONDS:
        return f"field 'ts' is {(ts - now) / 3600:.1f} hours in the future (limit 24)"
    followers = data.get("author_followers")
    if followers is not None and (
        isinstance(followers, bool) or not isinstance(followers, int) or followers < 0
    ):
        return "field 'author_followers' must be an integer >= 0"
    for name in _OPTIONAL_STR:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            return f"field '{name}' must be a string, got {_json_type(value)}"
    return None


def _build(data: dict[str, Any]) -> Mention:
    ts = parse_ts(data["ts"])
    assert isinstance(ts, float)  # _validate has checked it
    return Mention(
        id=data["id"], ts=ts, platform=data["platform"], author=data["author"],
        text=data["text"], author_followers=data.get("author_followers"),
        lang=data.get("lang"), reshare_of=data.get("reshare_of"),
        reply_to=data.get("reply_to"), url=data.get("url"),
        extra={k: v for k, v in data.items() if k not in _KNOWN},
    )


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


# One decoder for every message (json.loads with an argument builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _parse(text: str) -> Any:
    """``json.loads(text, parse_constant=_reject_constant)``, same errors, shared decoder."""
    if text.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    try:  # the common case, a bare object: skips decode()'s two whitespace scans
        data, end = _DECODER.raw_decode(text)
        if end == len(text):
            return data
    except ValueError:
        pass
    return _DECODER.decode(text)  # padded, trailing data or broken: its exact error


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _short(exc: Exception) -> str:
    return str(exc)[:120]
