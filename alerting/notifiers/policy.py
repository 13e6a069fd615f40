"""The escalation policy: which severities go to which channel, quiet hours, re-notify.

Parsed from YAML text by :func:`parse_policy`; pure (no I/O, no clock: time is
passed in). Errors name the field and the fix, because the person editing the
policy at 2am is not the person who wrote this parser.

Secrets (a Slack webhook URL is a credential; so is an SMTP password) may be
written as ``${ENV_NAME}`` in ``url``, ``smtp``, ``username`` and
``password``. The parser keeps them as written; the edge resolves them with
:meth:`EscalationPolicy.with_secrets` and a mapping it was given, so this
module never reads the environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerting.event import EVENTS
from alerting.notifiers.errors import PolicyError
from models.verdict import SEVERITIES
from models.yamldoc import Fields, load_yaml

__all__ = [
    "DEFAULT_EVENTS",
    "Channel",
    "Deadman",
    "EmailChannel",
    "EscalationPolicy",
    "QuietHours",
    "Retry",
    "Route",
    "Tier",
    "WebhookChannel",
    "parse_policy",
]

# 'updated' and 'deescalated' are off by default: they are the console's job,
# and a phone that buzzes every 15 minutes for the same incident gets muted.
DEFAULT_EVENTS = ("opened", "escalated", "acknowledged", "resolved")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_SECRET = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_TOP = frozenset(("channels", "routes", "quiet_hours", "renotify_critical_minutes", "events",
                  "incident_url", "retry", "escalation", "pages_url", "link_minutes",
                  "deadman"))


@dataclass(frozen=True, slots=True)
class WebhookChannel:
    """POST a JSON ``{"text": ...}`` to an incoming-webhook URL (Slack, Teams, generic)."""

    name: str
    url: str = field(repr=False)  # a credential: whoever has it can post to the channel
    timeout: float = 10.0  # seconds for one attempt; the outbox retries after it
    include_event: bool = False  # add the whole alert event under "event" (generic receivers)


@dataclass(frozen=True, slots=True)
class EmailChannel:
    """A text/plain email over SMTP; ``smtp`` is ``smtp://[user:pass@]host[:port]`` or smtps://."""

    name: str
    to: tuple[str, ...]
    sender: str
    smtp: str = field(default="smtp://localhost:25", repr=False)  # may hold user:pass
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0


Channel = WebhookChannel | EmailChannel


@dataclass(frozen=True, slots=True)
class Route:
    """Events of these severities go to these channels."""

    severities: tuple[str, ...]
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Tier:
    """The next people to tell: a critical still unacknowledged ``after_minutes`` after it
    was first notified goes to these channels too (the duty manager, then the head of news).

    >>> p = parse_policy('''
    ... channels: {duty: {type: webhook, url: "https://hooks.example/x"},
    ...            boss: {type: webhook, url: "https://hooks.example/y"}}
    ... routes: [{severities: [critical], channels: [duty]}]
    ... escalation: [{after_minutes: 15, channels: [boss]}]
    ... ''')
    >>> p.escalation
    (Tier(after_minutes=15.0, channels=('boss',)),)
    """

    after_minutes: float
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A nightly window in which only ``allow`` severities notify; critical always does.

    Times are minutes after local midnight; a window may wrap midnight.

    >>> q = QuietHours(start=22 * 60, end=7 * 60, timezone="Europe/London")
    >>> q.allows("warning", 1714604400.0)   # 2024-05-02 00:00 in London: quiet
    False
    >>> q.allows("critical", 1714604400.0), q.allows("warning", 1714564800.0)  # 13:00 in London
    (True, True)
    """

    start: int
    end: int
    timezone: str
    allow: tuple[str, ...] = ("critical",)

    def is_quiet(self, now: float) -> bool:
        local = datetime.fromtimestamp(now, ZoneInfo(self.timezone))
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def allows(self, severity: str, now: float) -> bool:
        # Critical is checked first, by name: no configuration can silence it.
        return severity == "critical" or severity in self.allow or not self.is_quiet(now)


@dataclass(frozen=True, slots=True)
class Retry:
    """Attempts per delivery and the exponential backoff between them (seconds).

    >>> r = Retry(attempts=5, backoff_seconds=2.0, max_backoff_seconds=10.0)
    >>> [r.delay(n, jitter=1.0) for n in (1, 2, 3, 4)], r.delay(2, jitter=0.5)
    ([2.0, 4.0, 8.0, 10.0], 2.0)
    """

    attempts: int = 5
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 300.0

    def delay(self, attempt: int, jitter: float) -> float:
        """Wait after failed attempt ``attempt`` (1-based); ``jitter`` in [0.5, 1] spreads
        retries so a receiver that comes back is not hit by every sender at once."""
        base = min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds)
        return base * jitter


@dataclass(frozen=True, slots=True)
class Deadman:
    """When a silent pipeline pages: no worker heartbeat, or no mention taken in, for this
    long (minutes; 0 turns that check off), to these channels (default: where critical goes).

    >>> Deadman().worker_silent_minutes, Deadman().feed_silent_minutes
    (5.0, 60.0)
    """

    worker_silent_minutes: float = 5.0
    feed_silent_minutes: float = 60.0
    channels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Channels, routes by severity, quiet hours, re-notify interval and retry settings.

    >>> p = parse_policy('''
    ... channels:
    ...   duty-slack: {type: webhook, url: "${SLACK_URL}"}
    ...   duty-email: {type: email, to: [duty@dept.example], from: fs@dept.example}
    ... routes:
    ...   - {severities: [warning, critical], channels: [duty-slack]}
    ...   - {severities: [critical], channels: [duty-email]}
    ... renotify_critical_minutes: 15
    ... ''', "policy.yaml")
    >>> p.channels_for("critical"), p.channels_for("watch")
    (('duty-slack', 'duty-email'), ())
    >>> p.with_secrets({"SLACK_URL": "https://hooks.example/T1"}).channel("duty-slack").url
    'https://hooks.example/T1'
    """

    channels: tuple[Channel, ...]
    routes: tuple[Route, ...]
    quiet_hours: QuietHours | None = None
    renotify_critical_minutes: float = 0.0  # 0: never re-notify
    events: tuple[str, ...] = DEFAULT_EVENTS
    incident_url: str | None = None  # e.g. https://firestorm.dept.example/incidents/{incident_id}
    retry: Retry = field(default_factory=Retry)
    escalation: tuple[Tier, ...] = ()  # ordered by after_minutes
    pages_url: str | None = None  # base of the signed /ack/ and /feedback/ links
    link_minutes: float = 240.0  # how long a signed link in a message works
    deadman: Deadman = field(default_factory=Deadman)
    source: str = field(default="policy", compare=False)

    def channel(self, name: str) -> Channel:
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(name)

    def channels_for(self, severity: str) -> tuple[str, ...]:
        """Every channel a route sends this severity to, in policy order, once each."""
        out: list[str] = []
        for route in self.routes:
            if severity in route.severities:
                out += [c for c in route.channels if c not in out]
        return tuple(out)

    def link(self, incident_id: str) -> str | None:
        return None if self.incident_url is None else self.incident_url.replace(
            "{incident_id}", incident_id)

    def secrets(self) -> tuple[str, ...]:
        """Names of the ``${ENV_NAME}`` placeholders the policy uses."""
        names: list[str] = []
        for channel in self.channels:
            for _, value in _secret_fields(channel):
                names += [n for n in _SECRET.findall(value or "") if n not in names]
        return tuple(names)

    def with_secrets(self, values: Mapping[str, str]) -> EscalationPolicy:
        """The policy with every ``${ENV_NAME}`` replaced from ``values``; a missing one
        raises :class:`PolicyError` naming the channel, the field and the variable."""
        resolved: list[Channel] = []
        for channel in self.channels:
            changes: dict[str, str] = {}
            for name, value in _secret_fields(channel):
                if value is None or not _SECRET.search(value):
                    continue

                def sub(match: re.Match[str], field_name: str = name,
                        ch: Channel = channel) -> str:
                    if match.group(1) not in values:
                        raise PolicyError(
                            f"{self.source}: channel '{ch.name}' field '{field_name}':"
                            f" ${{{match.group(1)}}} is not set; set that environment"
                            " variable for `firestorm notify`")
                    return values[match.group(1)]

                changes[name] = _SECRET.sub(sub, value)
            fixed = replace(channel, **changes) if changes else channel
            _check_channel_urls(fixed, Fields(self.source, f"channel '{fixed.name}'",
                                              PolicyError))
            resolved.append(fixed)
        return replace(self, channels=tuple(resolved))


def parse_policy(text: str, source: str = "policy") -> EscalationPolicy:
    """Parse and validate policy YAML; raise :class:`PolicyError` with the fix."""
    doc = load_yaml(text, source, PolicyError)
    if not isinstance(doc, dict):
        raise PolicyError(f"{source}: expected a mapping with 'channels:' and 'routes:'")
    top = Fields(source, "", PolicyError)
    top.only(doc, _TOP)
    raw_channels = doc.get("channels")
    if not isinstance(raw_channels, dict) or not raw_channels:
        raise top.fail("channels", "required: a mapping of channel name to {type:"
                       " webhook|email, ...}")
    channels = tuple(_channel(str(name), spec, top.at(f"channel '{name}'"))
                     for name, spec in raw_channels.items())
    names = [c.name for c in channels]
    raw_routes = doc.get("routes")
    if not isinstance(raw_routes, list) or not raw_routes:
        raise top.fail("routes", "required: a list of {severities: [...], channels: [...]}")
    routes = tuple(_route(r, names, top.at(f"route #{i}"))
                   for i, r in enumerate(raw_routes, start=1))
    quiet = None if doc.get("quiet_hours") is None else _quiet(doc["quiet_hours"],
                                                                top.at("'quiet_hours'"))
    renotify = top.number(doc, "renotify_critical_minutes", 0, at_least=0,
                          fix="must be a number of minutes >= 0 (0 turns re-notifying off;"
                              " try 15)")
    events = top.choices(doc, "events", EVENTS, DEFAULT_EVENTS)
    url = doc.get("incident_url")
    if url is not None and (not isinstance(url, str) or "{incident_id}" not in url
                            or not url.startswith(("http://", "https://"))):
        raise top.fail("incident_url", "must be an http(s) URL containing {incident_id}, e.g."
                       " https://firestorm.dept.example/incidents/{incident_id}")
    pages_url = doc.get("pages_url")
    if pages_url is not None and (not isinstance(pages_url, str)
                                  or not pages_url.startswith(("http://", "https://"))
                                  or "{" in pages_url):
        raise top.fail("pages_url", "must be the http(s) address of `firestorm pages` as the"
                       " officer's phone reaches it, e.g. https://firestorm.dept.example.gov.uk")
    minutes = top.number(doc, "link_minutes", 240, at_least=1,
                         fix="must be a number of minutes from 1 to 10080 (a week); links in"
                             " messages stop working after it (try 240)")
    if minutes > 7 * 24 * 60:
        raise top.fail("link_minutes", "must be a number of minutes from 1 to 10080 (a week);"
                       " links in messages stop working after it (try 240)")
    deadman = _deadman(doc.get("deadman", {}), names, routes, top.at("'deadman'"))
    return EscalationPolicy(channels=channels, routes=routes, quiet_hours=quiet,
                            renotify_critical_minutes=renotify, events=events,
                            incident_url=url, retry=_retry(doc.get("retry", {}),
                                                           top.at("'retry'")),
                            escalation=_tiers(doc.get("escalation", []), names,
                                              top.at("'escalation'")),
                            pages_url=pages_url.rstrip("/") if pages_url else None,
                            link_minutes=minutes, deadman=deadman, source=source)


def _channel(name: str, spec: Any, f: Fields) -> Channel:
    if not _SLUG.match(name):
        raise f.fail(None, "name it with lower-case letters, digits, '-' or '_' (duty-slack)")
    if not isinstance(spec, dict):
        raise f.fail(None, "expected a mapping such as {type: webhook, url: ...}")
    kind = spec.get("type")
    allowed = {"webhook": {"type", "url", "timeout", "include_event"},
               "email": {"type", "to", "from", "smtp", "starttls", "username", "password",
                         "timeout"}}
    if kind not in allowed:
        raise f.fail("type", "must be webhook or email")
    unknown = sorted(set(spec) - allowed[kind])
    if unknown:
        raise f.fail(unknown[0], f"unknown for a {kind} channel; allowed:"
                                 f" {', '.join(sorted(allowed[kind]))}")
    timeout = f.number(spec, "timeout", 10.0 if kind == "webhook" else 30.0, above=0,
                       fix="must be a number of seconds > 0")
    channel: Channel
    if kind == "webhook":
        url = f.text(spec, "url", "required: the incoming-webhook URL, or ${ENV_NAME} to take"
                                  " it from the environment")
        channel = WebhookChannel(name, url, timeout, f.flag(spec, "include_event"))
    else:
        to = spec.get("to")
        if isinstance(to, str):
            to = [to]
        if (not isinstance(to, list) or not to
                or not all(isinstance(a, str) and _is_address(a) for a in to)):
            raise f.fail("to", "required: a list of email addresses, e.g."
                               " [duty-press@dept.example]")
        sender = spec.get("from")
        if not isinstance(sender, str) or not _is_address(sender):
            raise f.fail("from", "required: the sender address, e.g. firestorm@dept.example")
        for key in ("smtp", "username", "password"):
            f.optional_text(spec, key, "must be a string")
        channel = EmailChannel(name, tuple(a.strip() for a in to), sender.strip(),
                               spec.get("smtp", "smtp://localhost:25"),
                               f.flag(spec, "starttls"), spec.get("username"),
                               spec.get("password"), timeout)
    _check_channel_urls(channel, f)
    return channel


def _check_channel_urls(channel: Channel, f: Fields) -> None:
    """Check URL schemes once no ``${...}`` placeholder is left in them."""
    if isinstance(channel, WebhookChannel):
        if not _SECRET.search(channel.url) and not channel.url.startswith(
                ("http://", "https://")):
            raise f.fail("url", "must be an http(s) URL (https://hooks.slack.com/services/...,"
                                " or the Teams incoming-webhook URL)")
        return
    if not _SECRET.search(channel.smtp):
        if not channel.smtp.startswith(("smtp://", "smtps://")):
            raise f.fail("smtp", "must be smtp://host:port or smtps://host:port (implicit TLS)")
        if channel.starttls and channel.smtp.startswith("smtps://"):
            raise f.fail("starttls", "smtps:// is already TLS; use smtp://host:587 with"
                                     " starttls: true, or smtps:// without it")


def _route(item: Any, names: list[str], f: Fields) -> Route:
    if not isinstance(item, dict) or set(item) - {"severities", "channels"}:
        raise f.fail(None, "expected {severities: [warning, critical], channels: [name, ...]}")
    severities = f.choices(item, "severities", SEVERITIES)
    channels = _channel_names(item, names, f)
    return Route(severities, channels)


def _channel_names(item: dict[str, Any], names: list[str], f: Fields) -> tuple[str, ...]:
    channels = item.get("channels")
    if not isinstance(channels, list) or not channels or not all(
            isinstance(c, str) for c in channels):
        raise f.fail("channels", "a non-empty list of channel names")
    for name in channels:
        if name not in names:
            raise f.fail("channels", f"unknown channel '{name}'; define it under 'channels:'"
                                     f" or use one of {', '.join(names)}")
    return tuple(dict.fromkeys(channels))


def _tiers(items: Any, names: list[str], f: Fields) -> tuple[Tier, ...]:
    if not isinstance(items, list):
        raise f.fail(None, "a list of tiers: [{after_minutes: 15, channels: [duty-manager]}]")
    tiers: list[Tier] = []
    for index, item in enumerate(items, start=1):
        at = f.at(f"{f.where} tier #{index}")
        if not isinstance(item, dict) or set(item) - {"after_minutes", "channels"}:
            raise at.fail(None, "expected {after_minutes: 15, channels: [name, ...]}")
        after = at.number(item, "after_minutes", 0, above=0,
                          fix="must be minutes > 0 after the first notification of the"
                              " critical incident")
        channels = item.get("channels")
        if not isinstance(channels, list) or not channels or not all(
                isinstance(c, str) and c in names for c in channels):
            raise at.fail("channels", f"a non-empty list of channel names defined under"
                                      f" 'channels:' ({', '.join(names)})")
        if tiers and after <= tiers[-1].after_minutes:
            raise at.fail("after_minutes", "tiers must come later one after the other"
                          f" (tier #{index - 1} is at {tiers[-1].after_minutes:g} min)")
        tiers.append(Tier(after, tuple(dict.fromkeys(channels))))
    return tuple(tiers)


def _quiet(item: Any, f: Fields) -> QuietHours:
    if not isinstance(item, dict) or set(item) - {"start", "end", "timezone", "allow"}:
        raise f.fail(None, "expected {start: \"22:00\", end: \"07:00\", timezone:"
                           " Europe/London, allow: [critical]}")
    minutes = {}
    for key in ("start", "end"):
        value = item.get(key)
        match = _CLOCK.match(value) if isinstance(value, str) else None
        if match is None:
            raise f.fail(key, "required, a quoted 24-hour time such as \"22:00\" (unquoted"
                              " 22:00 is read by YAML as a number)")
        minutes[key] = int(match.group(1)) * 60 + int(match.group(2))
    if minutes["start"] == minutes["end"]:
        raise f.fail(None, "start and end are equal: an empty window; remove quiet_hours")
    tz = item.get("timezone", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise f.fail("timezone", f"{tz!r} is not a known IANA time zone; use e.g."
                                 " Europe/London") from None
    allow = f.choices(item, "allow", SEVERITIES, (), empty_ok=True)
    if "critical" not in allow:
        allow = (*allow, "critical")  # critical always passes, written or not
    return QuietHours(minutes["start"], minutes["end"], tz, allow)


def _retry(item: Any, f: Fields) -> Retry:
    if not isinstance(item, dict) or set(item) - {"attempts", "backoff_seconds",
                                                   "max_backoff_seconds"}:
        raise f.fail(None, "expected {attempts: 5, backoff_seconds: 2, max_backoff_seconds:"
                           " 300}")
    default = Retry()
    attempts = f.number(item, "attempts", default.attempts, at_least=1, whole=True,
                        fix="must be a whole number >= 1 (try 5)")
    numbers = {key: f.number(item, key, getattr(default, key), above=0,
                             fix="must be a number of seconds > 0")
               for key in ("backoff_seconds", "max_backoff_seconds")}
    if numbers["max_backoff_seconds"] < numbers["backoff_seconds"]:
        raise f.fail("max_backoff_seconds", "must be >= backoff_seconds")
    return Retry(int(attempts), numbers["backoff_seconds"], numbers["max_backoff_seconds"])


def _deadman(item: Any, names: list[str], routes: tuple[Route, ...], f: Fields) -> Deadman:
    if not isinstance(item, dict):
        raise f.fail(None, "expected {worker_silent_minutes: 5, feed_silent_minutes: 60,"
                           " channels: [name, ...]}")
    f.only(item, {"worker_silent_minutes", "feed_silent_minutes", "channels"})
    default = Deadman()
    minutes = {key: f.number(item, key, getattr(default, key), at_least=0,
                             fix="must be a number of minutes >= 0 (0 turns it off)")
               for key in ("worker_silent_minutes", "feed_silent_minutes")}
    if "channels" in item:
        channels = _channel_names(item, names, f)
    else:  # where a critical alert goes: a silent pipeline is as urgent as a storm
        channels = tuple(dict.fromkeys(c for r in routes if "critical" in r.severities
                                       for c in r.channels))
    return Deadman(minutes["worker_silent_minutes"], minutes["feed_silent_minutes"], channels)


def _is_address(text: str) -> bool:
    local, at, domain = text.strip().rpartition("@")
    return bool(at and local and "." in domain and not any(c in text for c in "\r\n<>,; "))


def _secret_fields(channel: Channel) -> list[tuple[str, str | None]]:
    if isinstance(channel, WebhookChannel):
        return [("url", channel.url)]
    return [("smtp", channel.smtp), ("username", channel.username),
            ("password", channel.password)]
