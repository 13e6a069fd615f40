"""WebhookNotifier: POST a JSON message to an incoming webhook (Slack, Teams, generic).

The payload is ``{"text": "..."}``: the one shape that Slack incoming webhooks
and Microsoft Teams (Office 365 connector) incoming webhooks both accept, and
that any generic receiver can read. ``include_event: true`` on the channel
adds the whole alert event under ``"event"`` for receivers that want data.

Status handling: 2xx is delivered; 408, 429 and 5xx (and a Teams connector's
"200 but the endpoint returned HTTP error") are worth retrying; any other 4xx
means the URL or payload is wrong, so it is reported as permanent and kept
for a replay after the fix. The webhook URL is a secret: it never appears in
an error or a log line, only the channel name does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp

from alerting.notifiers.action_links import ActionLinks, extras_for
from alerting.notifiers.errors import DeliveryError, PermanentDeliveryError
from alerting.notifiers.message import chat_text, digest_chat
from alerting.notifiers.notification import Notification
from alerting.notifiers.policy import WebhookChannel

__all__ = ["WebhookNotifier"]

_RETRYABLE = frozenset((408, 425, 429))


class WebhookNotifier:
    """Deliver notifications to one webhook channel.

    >>> from alerting.event import AlertEvent
    >>> n = WebhookNotifier(WebhookChannel("duty", "https://hooks.example/x"),
    ...                     link=lambda i: f"https://fs.example/incidents/{i}")
    >>> e = AlertEvent("acme-20240501T123400Z", 1, "opened", "acme", "Acme", "partner",
    ...                "critical", 1714566840.0, 40, 8.0, 0.7, 0.3, 5.0)
    >>> body = n.payload(Notification("duty", e, 0.0))
    >>> body["text"].splitlines()[0]
    '*CRITICAL opened: Acme (partner)*  '
    >>> "https://fs.example/incidents/acme-20240501T123400Z" in body["text"]
    True
    """

    def __init__(self, channel: WebhookChannel, *,
                 link: Callable[[str], str | None] | None = None,
                 actions: ActionLinks | None = None) -> None:
        self.channel = channel
        self._link = link
        self._actions = actions

    def __repr__(self) -> str:  # the URL is a credential
        return f"WebhookNotifier(channel={self.channel.name!r})"

    def payload(self, notification: Notification) -> dict[str, Any]:
        event = notification.event
        if notification.digest:
            text = digest_chat(notification.digest, self._link or (lambda _: None))
        else:
            link = self._link(event.incident_id) if self._link is not None else None
            text = chat_text(event, notification.renotify, link,
                             extras_for(notification, self._actions))
        body: dict[str, Any] = {"text": text}
        if self.channel.include_event:
            body["event"] = event.to_dict()
            body["notification_id"] = notification.id
        return body

    async def send(self, notification: Notification) -> None:
        """POST once; raise :class:`DeliveryError` (retry) or :class:`PermanentDeliveryError`."""
        name = self.channel.name
        timeout = aiohttp.ClientTimeout(total=self.channel.timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, session.post(
                    self.channel.url, json=self.payload(notification),
                    headers={"X-Firestorm-Notification": notification.id}) as response:
                status = response.status
                text = (await response.text(errors="replace"))[:200]
        except TimeoutError:
            raise DeliveryError(f"webhook '{name}': no answer within"
                                f" {self.channel.timeout:g}s") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise DeliveryError(f"webhook '{name}': {exc.__class__.__name__}") from None
        if 200 <= status < 300:
            if "returned HTTP error" in text:  # Teams connectors wrap throttling in a 200
                raise DeliveryError(f"webhook '{name}': receiver said {text!r}")
            return
        if status >= 500 or status in _RETRYABLE:
            raise DeliveryError(f"webhook '{name}': HTTP {status}")
        raise PermanentDeliveryError(f"webhook '{name}': HTTP {status} {text!r}; check the"
                                     " channel's URL (was the webhook removed?)")
