"""Errors raised by the notifiers package (a branch of :mod:`alerting.errors`).

    FirestormAlertError                (alerting.errors)
     └── NotifyError
          ├── PolicyError        the escalation policy file is wrong (names the field and the fix)
          └── DeliveryError      one attempt to deliver a notification failed
               └── PermanentDeliveryError  the receiver refused it (4xx, bad address):
                                           retrying now will not help; it is kept as failed

A :class:`DeliveryError` is never the end of a notification: the outbox
retries it with backoff and, when the attempts are used up (or at once for a
permanent one), keeps it in the journal's failed set, logs it at ERROR and
tries again on the next run.
"""

from alerting.errors import FirestormAlertError

__all__ = ["DeliveryError", "NotifyError", "PermanentDeliveryError", "PolicyError"]


class NotifyError(FirestormAlertError):
    """Base of every error the notifiers raise."""


class PolicyError(NotifyError, ValueError):
    """The escalation policy is invalid; the message says where and how to fix it."""


class DeliveryError(NotifyError):
    """A notifier could not hand a notification over; worth retrying."""


class PermanentDeliveryError(DeliveryError):
    """The receiver rejected the notification; retrying the same request will not help."""
