"""Notifiers: tell the duty press officer, by webhook (Slack, Teams) and email.

The modules, from pure to I/O::

    policy.py     the escalation policy YAML: channels, routes, quiet hours, re-notify (pure)
    planner.py    (state, event, now) -> (state, notifications), and the re-notify timer (pure)
    message.py    an alert event as a short summary, escaped for chat or as plain text (pure)
    webhook.py    WebhookNotifier: POST JSON that Slack and Teams incoming webhooks accept
    email.py      EmailNotifier: text/plain mail over SMTP (smtplib in a thread)
    memory.py     RecordingNotifier: the same seam in memory, can be told to fail
    outbox.py     retries with backoff and jitter; a delivery that exhausts them is kept
    journal.py    MemoryJournal: pending/failed notifications and planner state in memory
    redis_journal.py  RedisJournal: the same in Redis, plus the consumer group on the alert log

The format and the operations story are in ``docs/notifications.md``. Nothing
is imported here, so importing the pure modules never pulls in aiohttp.
"""
