"""Messages carry the officer's actions: a signed ack link, a feedback link, silences, tiers."""

from __future__ import annotations

from urllib.parse import urlsplit

from alerting.event import AlertEvent
from alerting.links import verify_link
from alerting.notifiers.action_links import ActionLinks
from alerting.notifiers.email import EmailNotifier
from alerting.notifiers.message import Extras, chat_text, digest_chat, plain_text
from alerting.notifiers.notification import Notification
from alerting.notifiers.policy import EmailChannel, WebhookChannel
from alerting.notifiers.webhook import WebhookNotifier

KEY = b"message-test-key-0123456789abcdefghij"
LINKS = ActionLinks(KEY, "https://fs.example", 60.0)
T0 = 1714566840.0


def ev(kind: str = "opened", severity: str = "critical", seq: int = 1, name: str = "Acme",
       by: str | None = None) -> AlertEvent:
    return AlertEvent("acme-20240501T123400Z", seq, kind, "acme", name, "partner", severity,
                      T0 + 60 * seq, 90, 8.5, 0.8, 0.3, 9.1, acknowledged_by=by)


def line(text: str, start: str) -> str:
    return next(x for x in text.replace("  \n", "\n").splitlines() if x.startswith(start))


def test_an_unacknowledged_alert_carries_a_signed_single_incident_ack_link():
    n = Notification("duty-slack", ev(), T0 + 5)
    text = WebhookNotifier(WebhookChannel("duty-slack", "https://hooks.example/x"),
                           actions=LINKS).payload(n)["text"]
    ack = line(text, "Acknowledge: ")
    url = ack.split()[1]
    assert url.startswith("https://fs.example/ack/") and "(or firestorm ack" in ack
    claim = verify_link(KEY, urlsplit(url).path.rsplit("/", 1)[1], T0 + 60, "ack")
    assert (claim.incident_id, claim.channel, claim.expires_at) == (
        "acme-20240501T123400Z", "duty-slack", T0 + 5 + 3600)
    # the same notification retried: the same link; a reminder: a new one
    again = WebhookNotifier(WebhookChannel("duty-slack", "https://hooks.example/x"),
                            actions=LINKS).payload(n)["text"]
    assert url in again
    reminder = Notification("duty-slack", ev(), T0 + 905, renotify=1)
    assert url not in plain_text(ev(), 1, None, Extras(ack_link=LINKS.url("ack", reminder)))


def test_acknowledged_and_resolved_alerts_carry_no_ack_link_and_resolved_asks_for_feedback():
    acked = Notification("duty", ev("acknowledged", by="sam", seq=2), T0)
    resolved = Notification("duty", ev("resolved", "warning", seq=3, by="sam"), T0)
    notifier = WebhookNotifier(WebhookChannel("duty", "https://hooks.example/x"), actions=LINKS)
    assert "/ack/" not in notifier.payload(acked)["text"]
    text = notifier.payload(resolved)["text"]
    assert "/ack/" not in text and line(text, "Was it useful? ").startswith(
        "Was it useful? https://fs.example/feedback/v1.")


def test_a_silence_note_and_an_escalation_tier_are_in_the_message_escaped():
    extras = Extras(tier=2, notes=("silenced until 14:00 by <!channel> kim: known",))
    text = chat_text(ev(), 0, None, extras)
    assert text.startswith("*CRITICAL ESCALATED TO TIER 2, still unacknowledged: Acme (partner)*")
    assert "Silence: silenced until 14:00 by &lt;!\u200bchannel&gt; kim: known" in text
    assert "Acknowledge: firestorm ack acme-20240501T123400Z" in text  # no links configured


def test_the_morning_digest_lists_each_incident_once_with_its_events():
    held = (ev("opened", "warning", 1), ev("resolved", "warning", 2, name="Acme <b>"),
            AlertEvent("wp-20240501T123400Z", 1, "opened", "wp", "Work Programme", "policy",
                       "watch", T0, 20, 8.0, 0.5, 0.3, 2.0))
    text = digest_chat(held, lambda i: f"https://fs.example/incidents/{i}")
    assert text.startswith("*Morning digest: 2 incidents held back by quiet hours*")
    assert "- Acme &lt;b&gt; (partner): opened 12:35 (warning), resolved 12:36 (warning)." in text
    assert "https://fs.example/incidents/wp-20240501T123400Z" in text
    mail = EmailNotifier(EmailChannel("duty", ("d@dept.example",), "fs@dept.example"))
    message = mail.message(Notification("duty", held[-1], T0 + 3600, digest=held))
    assert message["Subject"] == "[Firestorm] Morning digest: 2 incidents held back by quiet hours"
    assert "critical is never held back" in message.get_content()
