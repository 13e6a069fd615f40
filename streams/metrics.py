"""Prometheus metrics of the worker, ``notify`` and ``pages`` (docs/operations.md, "Metrics").

Each process builds its own :class:`Metrics` on its own registry (no global state
shared by agents and web views) and serves it at ``/metrics``. Names and labels
are a contract with the Grafana dashboard in deploy/grafana: a test checks that
every series the dashboard queries is one of these.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import (
    PlatformCollector as _Platform,
)
from prometheus_client import (
    ProcessCollector as _Process,
)

__all__ = ["CONTENT_TYPE", "Metrics", "reason_class"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Batches take milliseconds when quiet and seconds in a storm (the scorer batches).
_BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def reason_class(reason: str) -> str:
    """A dead letter's reason as a small, fixed label set (the reason itself is free text).

    >>> reason_class("not valid JSON: Expecting value at line 1 column 1")
    'not_json'
    >>> reason_class("field 'text' is 12000 characters, over the 10000 limit")
    'too_long'
    """
    if reason.startswith("not UTF-8"):
        return "not_utf8"
    if reason.startswith("not valid JSON"):
        return "not_json"
    if reason.startswith("not a JSON object"):
        return "not_object"
    if reason.startswith("missing required field"):
        return "missing_field"
    if reason.startswith("field 'ts'"):
        return "bad_timestamp"
    if reason.startswith("field 'text' is") and "characters" in reason:
        return "too_long"
    if reason.startswith("field '"):
        return "wrong_type"
    return "other"


class Metrics:
    """Every series a Firestorm process may export; each process updates its own part.

    >>> m = Metrics("worker")
    >>> m.mentions_received.inc(3)
    >>> b"firestorm_mentions_received_total 3.0" in m.exposition()
    True
    """

    def __init__(self, component: str) -> None:
        self.component = component
        self.registry = r = CollectorRegistry()
        _Process(registry=r)
        _Platform(registry=r)
        self.info = Gauge("firestorm_up", "1 while this Firestorm process runs",
                          ["component"], registry=r)
        self.info.labels(self.component).set(1)
        # Worker: intake.
        self.mentions_received = Counter(
            "firestorm_mentions_received", "Messages taken from the mentions topic",
            registry=r)
        self.mentions_accepted = Counter(
            "firestorm_mentions_accepted", "Mentions that decoded and validated", registry=r)
        self.mentions_dead = Counter(
            "firestorm_mentions_dead", "Messages sent to the dead-letter topic, by reason class",
            ["reason"], registry=r)
        self.late_mentions = Counter(
            "firestorm_late_mentions",
            "Observations that arrived after every partition had passed their minute"
            " (counted in the open minute instead)", registry=r)
        self.consumer_lag = Gauge(
            "firestorm_consumer_lag", "Messages on Kafka not yet read by this worker",
            ["topic", "partition"], registry=r)
        self.watermark = Gauge(
            "firestorm_watermark_seconds",
            "Event time (epoch s) every mentions partition has passed, per input partition"
            " this worker reads", ["partition"], registry=r)
        self.batch_seconds = Histogram(
            "firestorm_batch_seconds", "Time to process one batch, by agent", ["agent"],
            buckets=_BATCH_BUCKETS, registry=r)
        self.detect_phase_seconds = Histogram(
            "firestorm_detect_phase_seconds",
            "Time of one detect batch by phase: judge (decode and judge the items), deliver"
            " (the outbox: write-ahead and Redis), write (the state records into the table),"
            " changelog (until Kafka has the state and any dead letters)", ["phase"],
            buckets=_BATCH_BUCKETS, registry=r)
        self.redelivered = Counter(
            "firestorm_redelivered",
            "Observations and progress seen again after a restart and skipped", registry=r)
        # Worker: alerts and the outbox.
        self.alerts = Counter(
            "firestorm_alerts", "Alert events made (worker) or read (notify), by lifecycle"
            " event and severity", ["component", "event", "severity"], registry=r)
        self.outbox_depth = Gauge(
            "firestorm_outbox_depth",
            "Alert events (worker) or notifications (notify) waiting to be delivered",
            registry=r)
        self.watchlist_reloads = Counter(
            "firestorm_watchlist_reloads", "Watchlist reloads, by outcome", ["outcome"],
            registry=r)
        # notify.
        self.notifications = Counter(
            "firestorm_notifications", "Notification deliveries, by channel and outcome"
            " (delivered, failed)", ["channel", "outcome"], registry=r)
        # How old the worker's newest sign of life is (only the worker knows it: notify and
        # pages do not export a value they cannot measure).
        self.heartbeat_age = Gauge(
            "firestorm_heartbeat_age_seconds",
            "Seconds since the worker's agents or timers last ran", registry=r
        ) if component == "worker" else None
        # pages.
        self.requests = Counter(
            "firestorm_http_requests", "HTTP requests served, by route and status",
            ["route", "status"], registry=r)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
