"""Signed, expiring, single-incident links (``/ack/<token>``, ``/feedback/<token>``). Pure.

A link in a Slack message or an email lets the duty officer act from a phone
without the pages' access token, so the link itself is the credential: it
names one incident and one purpose, expires, and carries an HMAC-SHA256 over
all of that with a server key (``FIRESTORM_LINK_KEY``), so it cannot be
forged or bent to another incident. Single use is the store's job (the
``nonce`` is claimed once); this module only makes and checks tokens::

    v1.<base64url(JSON claim)>.<base64url(HMAC-SHA256(key, "v1." + claim))>

The nonce is derived from the notification id, so a retried message carries
the same link and a reminder carries a new one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from alerting.errors import LinkExpired, LinkForged
from alerting.event import format_time

__all__ = ["MIN_KEY_LENGTH", "PURPOSES", "LinkClaim", "LinkUse", "link_nonce", "sign_link",
           "verify_link"]

PURPOSES = ("ack", "feedback")
MIN_KEY_LENGTH = 32  # characters of FIRESTORM_LINK_KEY: whoever has it can make links
_VERSION = "v1"
_MAX_TOKEN = 1024  # longer is not ours: refuse before decoding anything


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """What a link allows: ``purpose`` on ``incident_id`` until ``expires_at``.

    >>> key = b"k" * 32
    >>> claim = LinkClaim("ack", "acme-20240501T123400Z", 1714570000.0, "n1", "duty-slack")
    >>> token = sign_link(key, claim)
    >>> verify_link(key, token, now=1714566900.0) == claim
    True
    >>> verify_link(key, token[:-2] + "xx", now=1714566900.0)
    Traceback (most recent call last):
    ...
    alerting.errors.LinkForged: this link is not valid: its signature does not match \
(altered, or not made by this Firestorm)
    """

    purpose: str
    incident_id: str
    expires_at: float
    nonce: str  # single-use marker for ack links
    channel: str = ""  # the notification channel it was sent to (audit: "from where")

    def to_dict(self) -> dict[str, Any]:
        return {"p": self.purpose, "i": self.incident_id, "e": int(self.expires_at),
                "n": self.nonce, "c": self.channel}


def link_nonce(key: bytes, seed: str) -> str:
    """A nonce derived from ``seed`` (a notification id): the same seed, the same link.

    >>> link_nonce(b"k" * 32, "acme-20240501T123400Z:1/duty") == link_nonce(b"k" * 32,
    ...     "acme-20240501T123400Z:1/duty")
    True
    """
    digest = hmac.new(key, b"firestorm-link-nonce:" + seed.encode(), hashlib.sha256).digest()
    return _b64(digest[:12])


def sign_link(key: bytes, claim: LinkClaim) -> str:
    """The token for ``claim``; ``key`` must be at least :data:`MIN_KEY_LENGTH` bytes."""
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(f"link key is {len(key)} bytes; use at least {MIN_KEY_LENGTH}")
    if claim.purpose not in PURPOSES:
        raise ValueError(f"link purpose {claim.purpose!r}: must be one of {', '.join(PURPOSES)}")
    body = _b64(json.dumps(claim.to_dict(), separators=(",", ":"), sort_keys=True).encode())
    signed = f"{_VERSION}.{body}"
    return f"{signed}.{_b64(_mac(key, signed))}"


def verify_link(key: bytes, token: str, now: float, purpose: str | None = None) -> LinkClaim:
    """The claim of a genuine, unexpired token; :class:`LinkForged` or :class:`LinkExpired`.

    The signature is checked (in constant time) before anything in the token is
    believed; only then its purpose and expiry.
    """
    forged = LinkForged("this link is not valid: its signature does not match (altered, or"
                        " not made by this Firestorm)")
    parts = token.split(".") if len(token) <= _MAX_TOKEN else []
    if len(parts) != 3 or parts[0] != _VERSION:
        raise LinkForged("this link is not valid: it is not a Firestorm link (cut short or"
                         " mangled when it was copied?)")
    signed = f"{parts[0]}.{parts[1]}"
    try:
        given = _unb64(parts[2])
    except ValueError:
        raise forged from None
    if not hmac.compare_digest(given, _mac(key, signed)):
        raise forged
    try:
        data = json.loads(_unb64(parts[1]))
        claim = LinkClaim(str(data["p"]), str(data["i"]), float(data["e"]), str(data["n"]),
                          str(data.get("c", "")))
    except (ValueError, KeyError, TypeError):
        raise forged from None  # signed by us but unreadable: treat as not ours
    if claim.purpose not in PURPOSES or (purpose is not None and claim.purpose != purpose):
        raise LinkForged(f"this link is not valid here: it is a {claim.purpose} link")
    if now >= claim.expires_at:
        raise LinkExpired(f"this link expired at {format_time(claim.expires_at)}",
                          claim.expires_at)
    return claim


def _mac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _ALPHABET for c in text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # only the canonical spelling: one link, one string
        raise ValueError("not canonical base64url")
    return data


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class LinkUse:
    """What became of a single-use link: kept so a second use can say who used it and when.

    >>> u = LinkUse(1714566900.0, "sam", "recorded", "10.0.0.7")
    >>> LinkUse.from_json(u.to_json()) == u
    True
    """

    at: float
    by: str
    outcome: str  # an ack outcome, or "pending" while the first use is being answered
    origin: str = ""

    def to_json(self) -> str:
        return json.dumps({"at": self.at, "by": self.by, "outcome": self.outcome,
                           "origin": self.origin}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> LinkUse:
        d = json.loads(text)
        return cls(float(d["at"]), str(d["by"]), str(d["outcome"]), str(d.get("origin", "")))
