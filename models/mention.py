"""The mention contract: one social-media post, decoded and validated.

Decoding is total: every value a Kafka message can carry (a null value, no
bytes, any bytes, any valid JSON) becomes either a :class:`Mention` that every
later stage can handle, or a :class:`Rejection` carrying a precise reason and
the original value, so the edge can route it to the dead-letter topic and lose
nothing.

Two things valid JSON can hold are unsafe downstream yet are no reason to lose
a post: a lone UTF-16 surrogate (``"\\ud800"``, what a producer that cuts a
text in the middle of an emoji sends), which no UTF-8 encoder accepts, and NUL
(``"\\u0000"``), which truncates strings in C-based tools. Each is replaced
by U+FFFD, the Unicode replacement character, and the mention is marked
(:attr:`Mention.repaired` names the fields). Numbers are bounded instead:
integers of more than 4,300 digits are not parsed, a follower count above
:data:`MAX_FOLLOWERS` or a string field over its length limit is absurd and
rejected, and ``1e400`` (read as infinity) is refused where a number is used.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "MAX_FIELD_CHARS",
    "MAX_FOLLOWERS",
    "MAX_FUTURE_SECONDS",
    "MAX_TEXT_CHARS",
    "Mention",
    "Rejection",
    "decode",
    "event_time",
    "parse_ts",
]

MAX_TEXT_CHARS = 10_000
# Ids, handles, platforms, languages and links: far longer is a broken producer, and
# every one of them is copied into state, alerts and pages.
MAX_FIELD_CHARS = 2_048
# More followers than there are people: a unit or overflow error upstream.
MAX_FOLLOWERS = 10_000_000_000
# A clock a day ahead is a broken producer, not a timezone slip.
MAX_FUTURE_SECONDS = 86_400.0
# Before 2000 there was no social media: an epoch that small is a unit error.
MIN_TS = 946_684_800.0

_REQUIRED_STR = ("id", "platform", "author", "text")
_OPTIONAL_STR = ("lang", "reshare_of", "reply_to", "url")
_KNOWN = frozenset((*_REQUIRED_STR, *_OPTIONAL_STR, "ts", "author_followers"))
_SHORT_STR = ("id", "platform", "author", *_OPTIONAL_STR)  # bounded by MAX_FIELD_CHARS

REPLACEMENT = "\ufffd"
# What a JSON text can only spell as an escape: a surrogate (lone, once the decoder
# has joined the pairs) or NUL. Raw control bytes are invalid JSON already.
_ESCAPED_UNSAFE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")
_UNSAFE = re.compile("[\ud800-\udfff\x00]")


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
    # Fields whose lone surrogates or NULs were replaced by U+FFFD (see the module doc).
    repaired: tuple[str, ...] = field(default=(), compare=False)
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
    """A message that is not a mention, with why, and its value untouched (None for a
    tombstone, a Kafka message with a null value)."""

    reason: str
    raw: bytes | None


TOMBSTONE_REASON = "null value (a Kafka tombstone): a mention is a JSON object"


def decode(raw: bytes | bytearray | memoryview | str | None, *, now: float
           ) -> Mention | Rejection:
    """Decode one message; ``now`` (epoch seconds) bounds future timestamps.

    >>> decode(b'{"id": "1"}', now=0).reason
    "missing required field 'ts'"
    >>> decode(b'[1]', now=0).reason
    'not a JSON object: got array'
    >>> decode(None, now=0).reason
    'null value (a Kafka tombstone): a mention is a JSON object'
    >>> m = decode(b'{"id": "1", "ts": 1.7e9, "platform": "x", "author": "@u\\\\ud800",'
    ...            b' "text": "hi"}', now=1.7e9)
    >>> m.author == "@u\ufffd", m.repaired
    (True, ('author',))
    """
    if type(raw) is bytes:
        raw_bytes = raw
    elif raw is None:
        return Rejection(TOMBSTONE_REASON, None)
    else:
        raw_bytes = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    if not raw_bytes:
        return Rejection("empty message: no bytes", raw_bytes)
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(f"not UTF-8: invalid byte at position {exc.start}", raw_bytes)
    try:
        data = _parse(text)
    except (ValueError, RecursionError) as exc:
        return Rejection(f"not valid JSON: {_short(exc)}", raw_bytes)
    if type(data) is not dict:
        return Rejection(f"not a JSON object: got {_json_type(data)}", raw_bytes)
    repaired: tuple[str, ...] = ()
    if "\\u" in text and _ESCAPED_UNSAFE.search(text):
        data, repaired = _repair(data)
    ts = _plainly_valid(data, now)
    if ts is not None:
        get = data.get
        return Mention(data["id"], ts, data["platform"], data["author"], data["text"],
                       get("author_followers"), get("lang"), get("reshare_of"),
                       get("reply_to"), get("url"), repaired)
    reason = _validate(data, now)
    if reason is not None:
        return Rejection(reason, raw_bytes)
    return _build(data, repaired)


def event_time(value: Any) -> float | str:
    """A time given outside a mention (``--start``, a watchlist's ``since``): epoch
    seconds, or the reason it is not one, without a mention's field name.

    >>> event_time("2026-03-01T00:00Z"), event_time("soon")
    (1772323200.0, "is not an ISO-8601 timestamp: 'soon'")
    """
    parsed = parse_ts(value)
    return parsed.replace("field 'ts' ", "") if isinstance(parsed, str) else parsed


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
            or len(text) > MAX_TEXT_CHARS or len(id_) > MAX_FIELD_CHARS
            or len(platform) > MAX_FIELD_CHARS or len(author) > MAX_FIELD_CHARS):
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
    if followers is not None and (type(followers) is not int
                                  or not 0 <= followers <= MAX_FOLLOWERS):
        return None
    for name in _OPTIONAL_STR:
        value = data.get(name)
        if value is not None and (type(value) is not str or len(value) > MAX_FIELD_CHARS):
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
    for name in _SHORT_STR:
        value = data.get(name)
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            return (f"field '{name}' is {len(value)} characters, over the {MAX_FIELD_CHARS}"
                    " limit")
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
    if followers is not None and followers > MAX_FOLLOWERS:
        return (f"field 'author_followers' is over {MAX_FOLLOWERS:,}, more than there are"
                " people")
    for name in _OPTIONAL_STR:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            return f"field '{name}' must be a string, got {_json_type(value)}"
    return None


def _build(data: dict[str, Any], repaired: tuple[str, ...]) -> Mention:
    ts = parse_ts(data["ts"])
    assert isinstance(ts, float)  # _validate has checked it
    return Mention(
        id=data["id"], ts=ts, platform=data["platform"], author=data["author"],
        text=data["text"], author_followers=data.get("author_followers"),
        lang=data.get("lang"), reshare_of=data.get("reshare_of"),
        reply_to=data.get("reply_to"), url=data.get("url"), repaired=repaired,
        extra={k: v for k, v in data.items() if k not in _KNOWN},
    )


def _repair(data: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``data`` with every lone surrogate and NUL (keys included, at any depth) replaced
    by U+FFFD, and the names of the top-level fields that changed."""
    out: dict[str, Any] = {}
    repaired: list[str] = []
    for key, value in data.items():
        clean_key, clean = _clean(key), _clean(value)
        if clean_key != key or clean is not value:
            repaired.append(clean_key)
        out[clean_key] = clean
    return out, tuple(repaired)


def _clean(value: Any) -> Any:
    """``value`` itself if it holds nothing unsafe, else a repaired copy."""
    if isinstance(value, str):
        return _UNSAFE.sub(REPLACEMENT, value) if _UNSAFE.search(value) else value
    if isinstance(value, list):
        items = [_clean(v) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, dict):
        fixed, changed = _repair(value)
        return fixed if changed else value
    return value


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
    text = str(exc)
    if "integer string conversion" in text:  # Python's guard against quadratic int parsing
        return f"a number of more than {sys.get_int_max_str_digits()} digits"
    if "BOM" in text:
        return "starts with a byte order mark (BOM): send UTF-8 without one"
    return text[:120]
