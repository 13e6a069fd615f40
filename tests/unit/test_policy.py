"""The escalation policy file: what parses, and errors that name the field and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting.notifiers.errors import PolicyError
from alerting.notifiers.policy import (
    DEFAULT_EVENTS,
    EmailChannel,
    QuietHours,
    Retry,
    WebhookChannel,
    parse_policy,
)

REPO = Path(__file__).resolve().parents[2]

BASE = """
channels:
  slack: {type: webhook, url: "https://hooks.example/T1"}
  mail: {type: email, to: [duty@dept.example], from: fs@dept.example}
routes:
  - {severities: [warning, critical], channels: [slack]}
  - {severities: [critical], channels: [mail]}
"""


def test_minimal_policy_has_documented_defaults() -> None:
    p = parse_policy(BASE, "p.yaml")
    assert p.channel("slack") == WebhookChannel("slack", "https://hooks.example/T1")
    assert p.channel("mail") == EmailChannel("mail", ("duty@dept.example",), "fs@dept.example")
    assert p.events == DEFAULT_EVENTS
    assert p.quiet_hours is None and p.renotify_critical_minutes == 0.0
    assert p.retry == Retry() and p.incident_url is None


def test_the_shipped_example_parses() -> None:
    path = REPO / "deploy" / "examples" / "notify-policy.yaml"
    p = parse_policy(path.read_text(), str(path))
    assert p.channels_for("critical") == ("duty-slack", "duty-email")
    assert p.channels_for("warning") == ("duty-slack",)
    assert p.channels_for("watch") == ()
    assert p.quiet_hours == QuietHours(22 * 60, 7 * 60, "Europe/London", ("critical",))
    assert p.renotify_critical_minutes == 15.0
    assert p.secrets() == ("FIRESTORM_SLACK_WEBHOOK", "FIRESTORM_SMTP_PASSWORD")


def test_quiet_hours_always_allow_critical_even_when_not_written() -> None:
    p = parse_policy(BASE + 'quiet_hours: {start: "22:00", end: "07:00", allow: [warning]}')
    assert p.quiet_hours is not None
    assert p.quiet_hours.allow == ("warning", "critical")
    assert p.quiet_hours.timezone == "UTC"


@pytest.mark.parametrize(("extra", "message"), [
    ("colour: red", "'colour': unknown field; allowed fields are channels, deadman"),
    ("deadman: {worker_silent_minutes: -1}", "'deadman' field 'worker_silent_minutes': must"),
    ("deadman: {channels: [pager]}", "'deadman' field 'channels': unknown channel 'pager'"),
    ("deadman: {silence: 5}", "'deadman' field 'silence': unknown field"),
    ("renotify_critical_minutes: -5", "'renotify_critical_minutes': must be a number"),
    ("renotify_critical_minutes: soon", "'renotify_critical_minutes'"),
    ("events: [opened, exploded]", "'events': a non-empty list of: opened"),
    ('quiet_hours: {start: "22:00", end: "07:00", timezone: Mars/Olympus}',
     "field 'timezone': 'Mars/Olympus' is not a known IANA time zone"),
    ("quiet_hours: {start: 22:00, end: \"07:00\"}", "field 'start': required, a quoted"),
    ('quiet_hours: {start: "07:00", end: "07:00"}', "start and end are equal"),
    ("quiet_hours: {start: \"22:00\", end: \"7am\"}", "field 'end'"),
    ("incident_url: https://fs.example/incidents", "must be an http(s) URL containing"),
    ("retry: {attempts: 0}", "'retry' field 'attempts': must be a whole number >= 1"),
    ("retry: {backoff_seconds: 10, max_backoff_seconds: 1}", "must be >= backoff_seconds"),
])
def test_top_level_errors_name_the_field(extra: str, message: str) -> None:
    with pytest.raises(PolicyError, match=r"^p\.yaml: ") as caught:
        parse_policy(BASE + extra, "p.yaml")
    assert message in str(caught.value)


@pytest.mark.parametrize(("text", "message"), [
    ("routes: []", "'channels': required"),
    ("channels: {a: {type: webhook, url: 'https://x.example'}}", "'routes': required"),
    ("channels: {a: {type: pager}}\nroutes: []", "channel 'a' field 'type': must be webhook"),
    ("channels: {a: {type: webhook}}\nroutes: []", "channel 'a' field 'url': required"),
    ("channels: {a: {type: webhook, url: 'ftp://x'}}\nroutes: []", "must be an http(s) URL"),
    ("channels: {a: {type: webhook, url: 'https://x', to: [b@c.d]}}\nroutes: []",
     "channel 'a' field 'to': unknown for a webhook channel"),
    ("channels: {a: {type: email, to: [nobody], from: a@b.c}}\nroutes: []",
     "channel 'a' field 'to': required: a list of email addresses"),
    ("channels: {a: {type: email, to: [x@y.z]}}\nroutes: []", "field 'from': required"),
    ("channels: {a: {type: email, to: [x@y.z], from: a@b.c, smtp: 'http://x'}}\nroutes: []",
     "field 'smtp': must be smtp://host:port"),
    ("channels: {a: {type: email, to: [x@y.z], from: a@b.c, smtp: 'smtps://x',"
     " starttls: true}}\nroutes: []", "smtps:// is already TLS"),
    ("channels: {Duty Slack: {type: webhook, url: 'https://x'}}\nroutes: []",
     "channel 'Duty Slack': name it with lower-case"),
    ("channels: {a: {type: webhook, url: 'https://x'}}\nroutes: [{severities: [high],"
     " channels: [a]}]", "route #1 field 'severities': a non-empty list of: watch"),
    ("channels: {a: {type: webhook, url: 'https://x'}}\nroutes: [{severities: [critical],"
     " channels: [b]}]", "route #1 field 'channels': unknown channel 'b'"),
    ("channels: [a\n", "p.yaml line 2: not valid YAML"),
    ("- just\n- a list", "expected a mapping"),
])
def test_channel_and_route_errors_name_the_field(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    assert message in str(caught.value)


def test_secrets_are_kept_as_written_and_resolved_from_a_mapping() -> None:
    text = BASE.replace("https://hooks.example/T1", "${SLACK_URL}").replace(
        "from: fs@dept.example}", "from: fs@dept.example, smtp: 'smtp://u:${PW}@mail:587'}")
    p = parse_policy(text, "p.yaml")
    assert p.channel("slack").url == "${SLACK_URL}"   # the parser reads no environment
    resolved = p.with_secrets({"SLACK_URL": "https://hooks.example/T9", "PW": "s3cret"})
    assert resolved.channel("slack").url == "https://hooks.example/T9"
    mail = resolved.channel("mail")
    assert isinstance(mail, EmailChannel) and mail.smtp == "smtp://u:s3cret@mail:587"


def test_a_missing_secret_names_the_channel_field_and_variable() -> None:
    p = parse_policy(BASE.replace("https://hooks.example/T1", "${SLACK_URL}"), "p.yaml")
    with pytest.raises(PolicyError, match=r"channel 'slack' field 'url': \$\{SLACK_URL\} is"
                                          " not set"):
        p.with_secrets({})


def test_a_resolved_secret_is_still_checked() -> None:
    p = parse_policy(BASE.replace("https://hooks.example/T1", "${SLACK_URL}"), "p.yaml")
    with pytest.raises(PolicyError, match="must be an http"):
        p.with_secrets({"SLACK_URL": "hooks.example/T1"})


def test_the_webhook_url_is_not_in_the_repr() -> None:
    assert "hooks.example" not in repr(parse_policy(BASE))


@pytest.mark.parametrize(("hhmm_utc", "quiet"), [
    ("2024-01-15T21:59:00Z", False),  # London is on GMT in January
    ("2024-01-15T22:00:00Z", True),
    ("2024-01-16T03:00:00Z", True),
    ("2024-01-16T06:59:00Z", True),
    ("2024-01-16T07:00:00Z", False),
    ("2024-07-15T21:30:00Z", True),   # 22:30 BST in July
    ("2024-07-16T06:30:00Z", False),  # 07:30 BST
])
def test_quiet_hours_wrap_midnight_in_local_time(hhmm_utc: str, quiet: bool) -> None:
    from alerting.event import parse_time

    q = QuietHours(22 * 60, 7 * 60, "Europe/London")
    assert q.is_quiet(parse_time(hhmm_utc)) is quiet


def test_a_daytime_window_does_not_wrap() -> None:
    from alerting.event import parse_time

    q = QuietHours(12 * 60, 14 * 60, "UTC")
    assert q.is_quiet(parse_time("2024-01-15T13:00:00Z"))
    assert not q.is_quiet(parse_time("2024-01-15T15:00:00Z"))


def test_the_dead_man_alert_goes_where_critical_goes_unless_told_otherwise() -> None:
    p = parse_policy(BASE, "p.yaml")
    assert p.deadman.channels == p.channels_for("critical")
    assert (p.deadman.worker_silent_minutes, p.deadman.feed_silent_minutes) == (5.0, 60.0)
    p = parse_policy(BASE + "deadman: {channels: [slack], feed_silent_minutes: 0}", "p.yaml")
    assert p.deadman.channels == ("slack",) and p.deadman.feed_silent_minutes == 0.0


@pytest.mark.parametrize(("extra", "message"), [
    ("escalation: {after_minutes: 5}", "'escalation': a list of tiers"),
    ("escalation: [{after_minutes: 0, channels: [mail]}]", "tier #1 field 'after_minutes'"),
    ("escalation: [{after_minutes: 5, channels: [pager]}]", "tier #1 field 'channels'"),
    ("escalation: [{after_minutes: 30, channels: [mail]}, {after_minutes: 10, channels: [mail]}]",
     "tiers must come later one after the other"),
    ("pages_url: ftp://x", r"'pages_url': must be the http\(s\) address"),
    ("link_minutes: 0", "'link_minutes': must be a number of minutes from 1"),
])
def test_escalation_tiers_and_link_settings_errors_name_the_field(extra: str,
                                                                   message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(BASE + extra + "\n", "p.yaml")


def test_tiers_and_links_parse() -> None:
    p = parse_policy(BASE + "escalation: [{after_minutes: 15, channels: [mail, mail]}]\n"
                     "pages_url: https://fs.example/\nlink_minutes: 60\n", "p.yaml")
    assert [(t.after_minutes, t.channels) for t in p.escalation] == [(15.0, ("mail",))]
    assert (p.pages_url, p.link_minutes) == ("https://fs.example", 60.0)
