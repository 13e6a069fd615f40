"""Errors raised by the alerting package.

    FirestormAlertError
     ├── AlertEventError        an alert event does not match the contract (names the field)
     ├── LifecycleError         lifecycle misuse: bad parameters, a verdict for another entity
     │    └── UnknownIncidentError  acknowledging an incident that is not this entity's latest
     ├── LinkError              a signed link cannot be used (the page says why)
     │    ├── LinkForged          not signed by this deployment's key, or altered
     │    └── LinkExpired         signed, but past its expiry time
     ├── SilenceError           a silence request is wrong (names the field and the fix)
     └── AlertStoreError        the delivery/record layer failed
          ├── AlertStoreConfigError  bad store URL or TLS files: fix the configuration
          ├── AlertStoreAuthError    Redis refused the password/ACL user: fix the credentials
          └── AlertStoreUnavailable  Redis is unreachable or timed out: retry later

:class:`AlertStoreUnavailable` is the only retryable one: the outbox
(:class:`alerting.delivery.DurableDelivery`) keeps events while it is raised
and delivers them when Redis answers again.
"""

__all__ = [
    "AlertEventError",
    "AlertStoreAuthError",
    "AlertStoreConfigError",
    "AlertStoreError",
    "AlertStoreUnavailable",
    "FirestormAlertError",
    "LifecycleError",
    "LinkError",
    "LinkExpired",
    "LinkForged",
    "SilenceError",
    "UnknownIncidentError",
]


class FirestormAlertError(Exception):
    """Base of every error the alerting package raises."""


class AlertEventError(FirestormAlertError, ValueError):
    """An alert event (usually decoded JSON) breaks the contract in docs/alerts.md."""


class LifecycleError(FirestormAlertError, ValueError):
    """The lifecycle was given parameters or inputs it cannot work with."""


class UnknownIncidentError(LifecycleError, KeyError):
    """An acknowledgement names an incident this entity's state does not hold."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class LinkError(FirestormAlertError, ValueError):
    """A signed link (``/ack/<token>``) cannot be used; the message is shown to the officer."""


class LinkForged(LinkError):
    """The token was not made with this deployment's key, was altered, or is not a token."""


class LinkExpired(LinkError):
    """The token is genuine but its time is up."""

    def __init__(self, message: str, expired_at: float) -> None:
        super().__init__(message)
        self.expired_at = expired_at


class SilenceError(FirestormAlertError, ValueError):
    """A silence cannot be set as asked: a bad time, no reason given, too long."""


class AlertStoreError(FirestormAlertError):
    """The alert store (Redis or memory) could not do what was asked."""


class AlertStoreConfigError(AlertStoreError, ValueError):
    """The store URL or TLS options are wrong; the message says which."""


class AlertStoreAuthError(AlertStoreError):
    """Redis rejected the credentials (AUTH/ACL); retrying will not help."""


class AlertStoreUnavailable(AlertStoreError):
    """Redis did not answer in time; the event is kept and retried."""
