"""An alert event as a short message: what, why, how big, how negative, where to look.

A partner and its policy storming together are one story: the message names
every incident of it (and the watchlist links not storming), so one message
tells the whole storm. The figures are written as every channel writes them
(:mod:`alerting.figures`): a count with its window and its usual value.

Pure. Every string that came from the data (post text, authors, terms,
reasons, entity names) passes through one escape function before it joins
our own words: for chat, Slack's control characters ``& < >`` are escaped and
``@here``/``@channel``/``@everyone`` are broken with a zero-width space so a
post cannot ping a whole channel or forge a link; for both chat and email,
line breaks are collapsed so a post cannot forge extra lines of the summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from alerting.event import AlertEvent
from alerting.notifiers.deadman import SystemAlert

__all__ = ["Extras", "chat_text", "digest_chat", "digest_plain", "digest_subject", "escape_chat",
           "plain_text", "subject"]

_MENTION = re.compile(r"([@!])(here|channel|everyone)\b", re.IGNORECASE)
_SAMPLE_CHARS = 200  # enough to judge tone; the incident page has the rest
_ZWSP = "\u200b"


def escape_chat(text: str, limit: int = _SAMPLE_CHARS) -> str:
    """Untrusted text made safe for a Slack or Teams message.

    >>> escape_chat("<!channel> boycott & @here\\nSeverity: resolved")
    '&lt;!\u200bchannel&gt; boycott &amp; @\u200bhere Severity: resolved'
    """
    text = _flat(text, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MENTION.sub(lambda m: f"{m.group(1)}{_ZWSP}{m.group(2)}", text)
    return text.replace("](", f"]{_ZWSP}(")  # a markdown link needs ']('; Teams renders it


def _flat(text: str, limit: int = _SAMPLE_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Extras:
    """What a message carries beyond the event: escalation tier, silence notes, action links.

    Links are ours (signed by notify), never data; notes come from a silence, which a
    person typed, so they are escaped like everything else.

    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "critical", 1714566840.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> subject(e, extras=Extras(tier=1))
    '[Firestorm] CRITICAL ESCALATED TO TIER 1, still unacknowledged: Acme (partner)'
    """

    tier: int = 0
    notes: tuple[str, ...] = ()
    ack_link: str | None = None
    feedback_link: str | None = None


def subject(event: AlertEvent | SystemAlert, renotify: int = 0,
            extras: Extras | None = None) -> str:
    """One line for an email subject (no line breaks, whatever the entity is called).

    >>> e = AlertEvent("acme-20240501T123400Z", 2, "escalated", "acme", "Acme\\nStores",
    ...                "partner", "critical", 1714566840.0, 90, 8.5, 0.8, 0.3, 9.1,
    ...                previous_severity="warning")
    >>> subject(e)
    '[Firestorm] CRITICAL escalated: Acme Stores (partner)'
    """
    if isinstance(event, SystemAlert):
        return f"[Firestorm] {event.severity.upper()} {event.headline()}"
    tier = extras.tier if extras else 0
    return f"[Firestorm] {_headline(event, renotify, lambda s: _flat(s, 80), tier)}"


def chat_text(event: AlertEvent | SystemAlert, renotify: int = 0, link: str | None = None,
              extras: Extras | None = None) -> str:
    """The message for a Slack/Teams incoming webhook (markdown both accept)."""
    if isinstance(event, SystemAlert):
        return "  \n".join([f"*{event.severity.upper()} {event.headline()}*", *event.lines()])
    head, lines = _summary(event, renotify, link, escape_chat, extras or Extras())
    return "  \n".join([f"*{head}*", *lines])


def plain_text(event: AlertEvent | SystemAlert, renotify: int = 0, link: str | None = None,
               extras: Extras | None = None) -> str:
    """The body of a text/plain email: the same summary, unescaped, nothing rendered."""
    if isinstance(event, SystemAlert):
        head, lines = f"{event.severity.upper()} {event.headline()}", event.lines()
    else:
        head, lines = _summary(event, renotify, link, _flat, extras or Extras())
    return "\n".join([head, "", *lines, "", "-- Firestorm early warning"]) + "\n"


def digest_subject(events: Sequence[AlertEvent]) -> str:
    """Subject of the morning digest.

    >>> e = AlertEvent("acme-20240501T233400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "warning", 1714606440.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> digest_subject([e])
    '[Firestorm] Morning digest: 1 incident held back by quiet hours'
    """
    n = len({e.incident_id for e in events})
    return f"[Firestorm] Morning digest: {n} incident{'s' if n != 1 else ''} held back by quiet" \
           " hours"


def digest_chat(events: Sequence[AlertEvent], link: Callable[[str], str | None]) -> str:
    """The morning digest for a chat webhook: one line per incident, its events in order."""
    return "  \n".join([f"*{digest_subject(events)[12:]}*",
                        *_digest_lines(events, link, escape_chat)])


def digest_plain(events: Sequence[AlertEvent], link: Callable[[str], str | None]) -> str:
    """The morning digest as a text/plain email body."""
    return "\n".join([digest_subject(events)[12:], "", *_digest_lines(events, link, _flat), "",
                      "-- Firestorm early warning"]) + "\n"


def _digest_lines(events: Sequence[AlertEvent], link: Callable[[str], str | None],
                  esc: Callable[[str], str]) -> list[str]:
    incidents: dict[str, list[AlertEvent]] = {}
    for e in events:
        incidents.setdefault(e.incident_id, []).append(e)
    lines = []
    for incident_id, held in incidents.items():
        last = held[-1]
        steps = ", ".join(f"{e.event} {_when(e.at)[11:16]} ({e.severity})" for e in held)
        who = f"; acknowledged by {esc(last.acknowledged_by)}" if last.acknowledged_by else ""
        lines.append(f"- {esc(last.entity_name)} ({esc(last.entity_kind)}): {steps}{who}."
                     f" {link(incident_id) or incident_id}")
    lines.append("Held back overnight by the policy's quiet hours (critical is never held"
                 " back). The console and the incident pages have the details.")
    return lines


def _headline(event: AlertEvent, renotify: int, esc: Callable[[str], str],
              tier: int = 0) -> str:
    what = event.event
    if tier:
        what = f"ESCALATED TO TIER {tier}, still unacknowledged"
    elif renotify:
        what = f"REMINDER {renotify}, still unacknowledged"
    elif event.event == "acknowledged" and event.acknowledged_by:
        what = f"acknowledged by {esc(event.acknowledged_by)}"
    story = event.story
    if story is not None and story.is_group:  # the storm, not one of its incidents
        return f"{story.severity.upper()} {what}: {esc(story.title())}"
    return f"{event.severity.upper()} {what}: {esc(event.entity_name)} ({esc(event.entity_kind)})"


def _summary(event: AlertEvent, renotify: int, link: str | None,
             esc: Callable[[str], str], extras: Extras) -> tuple[str, list[str]]:
    ev = event.evidence
    what = f"{event.event} at {_when(event.at)}, severity {event.severity}"
    if event.previous_severity:
        what += f" (was {event.previous_severity})"
    story = event.story
    lines = []
    if story is not None and story.is_group:
        lines.append(f"What: {esc(event.entity_name)} ({esc(event.entity_kind)}) {what}")
        lines.append("Story: " + "; ".join(
            f"{esc(m.entity_name)} ({esc(m.entity_kind)}) {m.severity}, {m.status}"
            + (f", acknowledged by {esc(m.acknowledged_by)}" if m.acknowledged_by else "")
            for m in story.members))
    else:
        lines.append(f"What: {what}")
    if event.reasons:
        lines.append("Why:")
        lines += [f"- {esc(r)}" for r in event.reasons[:3]]
    lines.append(f"How big: {event.figures.volume_text()}")
    lines.append(f"How negative: {event.figures.negativity_text()}")
    linked = _linked(event)
    if linked:
        lines.append("Linked: " + ", ".join(esc(x) for x in linked))
    if ev.top_terms or ev.top_hashtags:
        tops = [t for t, _ in ev.top_hashtags[:3]] + [t for t, _ in ev.top_terms[:3]]
        lines.append("Driven by: " + ", ".join(esc(t) for t in tops))
    c = ev.centre or next((s for s in ev.samples if s.reshares), None)
    if c is not None:
        lines.append(f"At the centre: {esc(c.author)}: \"{esc(c.text)}\" (reshared"
                     f" {c.reshares or 0} times{', ' + _when(c.ts) if c.ts else ''})"
                     + (f" {c.url}" if c.url and c.url.startswith(("https://", "http://"))
                        else ""))
    for sample in ev.samples[:2]:
        lines.append(f"Post by {esc(sample.author)}: \"{esc(sample.text)}\"")
    if event.owner:
        lines.append(f"Owner: {esc(event.owner)}")
    if event.acknowledged_by and event.event != "acknowledged":
        lines.append(f"Acknowledged by: {esc(event.acknowledged_by)}")
    lines += [f"Silence: {esc(note)}" for note in extras.notes]
    lines.append(f"Incident: {link or event.incident_id}")
    if event.event not in ("acknowledged", "resolved") and not event.acknowledged_by:
        if extras.ack_link:
            lines.append(f"Acknowledge: {extras.ack_link} (or firestorm ack {event.incident_id})")
        else:
            lines.append(f"Acknowledge: firestorm ack {event.incident_id}")
    if extras.feedback_link:
        lines.append(f"Was it useful? {extras.feedback_link}")
    return _headline(event, renotify, esc, extras.tier), lines


def _linked(event: AlertEvent) -> list[str]:
    """Linked entities outside the story, by name where the story names them."""
    story = event.story
    inside = {m.entity_id for m in story.members} if story is not None else {event.entity_id}
    names = {eid: f"{name} ({kind})" for eid, name, kind in (story.linked if story else ())}
    counts = dict(event.evidence.linked)
    ids = [eid for eid, _ in event.evidence.linked if eid not in inside]
    ids += [eid for eid in names if eid not in ids and eid not in inside]
    return [names.get(eid, eid) + (f", named together in {counts[eid]} posts"
                                   if counts.get(eid) else ", linked in the watchlist")
            for eid in ids[:4]]


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")
