"""EmailNotifier: a text/plain email over SMTP, sent by smtplib in a worker thread.

The body is plain text, never HTML, so a post quoted in it cannot inject
markup or links that render; headers are built by :mod:`email.message`,
which refuses line breaks, so an entity name cannot inject headers either.
The Message-ID is derived from the notification id, so a retry after a lost
reply is recognisable as the same message.

``smtp://host:25`` (plain; ``starttls: true`` upgrades it, e.g. port 587) or
``smtps://host:465`` (implicit TLS). Credentials come from the channel's
``username``/``password`` or from the URL (``smtp://user:pass@host:587``).
SMTP 5xx answers are permanent (kept as failed at once); 4xx, disconnects
and timeouts are retried.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from alerting.notifiers.action_links import ActionLinks, extras_for
from alerting.notifiers.errors import DeliveryError, PermanentDeliveryError
from alerting.notifiers.message import digest_plain, digest_subject, plain_text, subject
from alerting.notifiers.notification import Notification
from alerting.notifiers.policy import EmailChannel

__all__ = ["EmailNotifier"]


class EmailNotifier:
    """Deliver notifications to one email channel.

    >>> from alerting.event import AlertEvent
    >>> n = EmailNotifier(EmailChannel("duty", ("duty@dept.example",), "fs@dept.example"))
    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "critical", 1714566840.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> msg = n.message(Notification("duty", e, 0.0))
    >>> msg["Subject"], msg["To"], msg.get_content_type()
    ('[Firestorm] CRITICAL opened: Acme (partner)', 'duty@dept.example', 'text/plain')
    """

    def __init__(self, channel: EmailChannel, *,
                 link: Callable[[str], str | None] | None = None,
                 actions: ActionLinks | None = None) -> None:
        self.channel = channel
        self._link = link
        self._actions = actions
        url = urlsplit(channel.smtp)
        self._tls = url.scheme == "smtps"
        self._host = url.hostname or "localhost"
        self._port = url.port or (465 if self._tls else 25)
        self._username = channel.username or (unquote(url.username) if url.username else None)
        self._password = channel.password or (unquote(url.password) if url.password else None)

    def __repr__(self) -> str:
        return f"EmailNotifier(channel={self.channel.name!r}, host={self._host!r})"

    def message(self, notification: Notification) -> EmailMessage:
        event = notification.event
        link = self._link(event.incident_id) if self._link is not None else None
        extras = extras_for(notification, self._actions)
        msg = EmailMessage()
        msg["Subject"] = digest_subject(notification.digest) if notification.digest \
            else subject(event, notification.renotify, extras)
        msg["From"] = self.channel.sender
        msg["To"] = ", ".join(self.channel.to)
        msg["Date"] = formatdate(notification.planned_at, usegmt=True)
        domain = self.channel.sender.rpartition("@")[2]
        msg["Message-ID"] = f"<{re.sub(r'[^A-Za-z0-9.-]', '.', notification.id)}@{domain}>"
        msg["X-Firestorm-Incident"] = event.incident_id
        msg.set_content(
            digest_plain(notification.digest, self._link or (lambda _: None))
            if notification.digest else plain_text(event, notification.renotify, link, extras))
        return msg

    async def send(self, notification: Notification) -> None:
        """Send once (in a thread: smtplib blocks); raise DeliveryError to be retried."""
        await asyncio.to_thread(self._send, self.message(notification))

    def _send(self, msg: EmailMessage) -> None:
        name, timeout = self.channel.name, self.channel.timeout
        try:
            smtp: smtplib.SMTP
            if self._tls:
                smtp = smtplib.SMTP_SSL(self._host, self._port, timeout=timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self._host, self._port, timeout=timeout)
            with smtp:
                if self.channel.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentDeliveryError(f"email '{name}': recipients refused"
                                         f" {sorted(exc.recipients)}") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentDeliveryError(f"email '{name}': login refused ({exc.smtp_code});"
                                         " check the channel's username/password") from None
        except smtplib.SMTPResponseException as exc:
            kind = PermanentDeliveryError if exc.smtp_code >= 500 else DeliveryError
            raise kind(f"email '{name}': SMTP {exc.smtp_code} {exc.smtp_error!r}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"email '{name}' via {self._host}:{self._port}:"
                                f" {exc.__class__.__name__}: {exc}") from None
