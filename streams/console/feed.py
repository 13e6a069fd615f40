"""The alert log as a live feed: every event once, in log order, across reconnections.

:class:`Feed` reads the Redis stream log ``firestorm:alerts:log``: all of it
at start (catch-up), then every new entry with ``XREAD BLOCK`` from the last
id seen, so nothing falls between catch-up and live (pub/sub would drop what
arrives while nobody listens). :class:`Follower` runs it with reconnection
and backoff and reports what happens as messages, including the workers'
heartbeats and the store's history marker every :data:`LIVENESS_SECONDS`, and
the moment it finds the log gone (a Redis restart without persistence).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from alerting.errors import (
    AlertEventError,
    AlertStoreAuthError,
    AlertStoreError,
    AlertStoreUnavailable,
)
from alerting.event import AlertEvent
from alerting.liveness import Heartbeat, History

__all__ = ["BLOCK_SECONDS", "LIVENESS_SECONDS", "PAGE", "SILENCE_POLL", "Feed", "Follower",
           "Message"]

BLOCK_SECONDS = 1.0  # XREAD BLOCK per call: also how fast the follower notices 'quit'
LIVENESS_SECONDS = 2.0  # how often heartbeats and the history marker are read
SILENCE_POLL = 5.0  # seconds between reads of the silences in force
BACKOFF_START, BACKOFF_MAX = 0.5, 30.0  # like the outbox: reconnect fast, then politely
PAGE = 1000  # stream entries per catch-up read

Message = tuple[Any, ...]  # ("reset", events) | ("events", events) | ("status", ok, text)
#                            | ("liveness", heartbeats, history) | ("lost", when)
#                            | ("ack_sent", id) | ("ack_failed", id, text)
#                            | ("ack_answer", id, outcome, reason) | ("ack_no_answer", id)
#                            | ("silences", silences) | ("rated", id, verdict)
#                            | ("rate_failed", id, text)


class Feed:
    """Every event of the alert log once, in log order: :meth:`catch_up`, then :meth:`next`.

    ``store`` is an alert store (``alerting.store.open_store``); ``client`` a
    ``redis.Redis`` for blocking reads with a socket timeout longer than the
    block. Without a client (``memory://``) :meth:`next` polls ``catch_up``.
    """

    def __init__(self, store: Any, client: Any = None, page: int = PAGE) -> None:
        self.store, self._client, self.page = store, client, page
        self.last_id = "0-0"
        self.skipped = 0  # log entries that were not alert events (shown in the header)

    @classmethod
    def open(cls, redis_url: str, redis_ca: str = "") -> Feed:
        from alerting.store import open_store

        tls = {"ssl_ca_certs": redis_ca} if redis_ca else {}
        store = open_store(redis_url, **tls)
        client = None
        if not redis_url.startswith("memory://"):
            import redis

            client = redis.Redis.from_url(redis_url, socket_timeout=BLOCK_SECONDS + 5,
                                          socket_connect_timeout=2, **tls)
        return cls(store, client)

    def catch_up(self) -> list[AlertEvent]:
        """The whole log from the start, plus open incidents the log no longer holds."""
        self.last_id, events = "0-0", []
        while True:
            page = self.store.catch_up(self.last_id, count=self.page)
            events += [event for _, event in page]
            if page:
                self.last_id = page[-1][0]
            if len(page) < self.page:
                break
        # The log is capped: an incident open for days may have lost its early
        # events from it, but its own event list (kept for the retention) has them.
        logged = {event.incident_id for event in events}
        for record in self.store.open_incidents():
            if record.incident_id not in logged:
                timeline = self.store.timeline(record.incident_id)
                events += list(timeline.events) if timeline else []
        return events

    def next(self, block: float = BLOCK_SECONDS) -> list[AlertEvent]:
        """Events logged after the last one returned, waiting up to ``block`` seconds."""
        if self._client is None:
            page = self.store.catch_up(self.last_id)
            if page:
                self.last_id = page[-1][0]
            else:
                time.sleep(min(block, 0.2))
            return [event for _, event in page]
        reply = self._redis(self._client.xread, {self.store.keys.stream: self.last_id},
                            count=self.page, block=max(1, int(block * 1000)))
        events = []
        for _stream, entries in reply or ():
            for stream_id, fields in entries:
                self.last_id = _text(stream_id)
                try:
                    events.append(AlertEvent.from_json(fields[b"event"]))
                except (AlertEventError, KeyError):
                    self.skipped += 1  # not ours to judge; the worker writes the log
        return events

    def liveness(self) -> tuple[list[Heartbeat], History | None]:
        """The workers' latest heartbeats and the store's history marker."""
        return self.store.heartbeats(), self.store.history()

    def rewound(self) -> bool:
        """True if the log now ends before the last id seen (Redis lost it in a restart)."""
        if self._client is None or self.last_id == "0-0":
            return False
        top = self._redis(self._client.xrevrange, self.store.keys.stream, count=1)
        return not top or _id(_text(top[0][0])) < _id(self.last_id)

    def close(self) -> None:
        self.store.close()
        if self._client is not None:
            self._client.close()

    def _redis(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            return fn(*args, **kwargs)
        except redis.AuthenticationError as exc:
            raise AlertStoreAuthError(f"Redis refused the credentials ({exc}); check"
                                      " FIRESTORM_REDIS_URL") from None
        except redis.ResponseError as exc:
            if str(exc).startswith(("NOAUTH", "WRONGPASS", "NOPERM")):
                raise AlertStoreAuthError(f"Redis refused the credentials ({exc}); check"
                                          " FIRESTORM_REDIS_URL") from None
            raise AlertStoreError(f"Redis answered an error: {exc}") from None
        except (redis.RedisError, OSError) as exc:
            raise AlertStoreUnavailable(f"{exc.__class__.__name__}: {exc}") from None


class Follower:
    """Runs a :class:`Feed` until stopped, reconnecting with backoff; reports as messages.

    Messages: ``("reset", events)`` (build the board from these: at start and
    after Redis lost its log), ``("events", events)`` (live),
    ``("status", ok, text)`` whenever the connection changes, and
    ``("silences", silences)`` when the silences in force change (read every
    :data:`SILENCE_POLL` seconds through ``silences()``, if given).
    """

    def __init__(self, feed: Feed, emit: Callable[[Message], None],
                 block: float = BLOCK_SECONDS,
                 silences: Callable[[], list[Any]] | None = None,
                 clock: Callable[[], float] = time.time,
                 liveness_every: float = LIVENESS_SECONDS) -> None:
        self.feed, self.emit, self.block = feed, emit, block
        self.stop = threading.Event()
        self.silences = silences
        self._silences_read, self._silences_shown = -SILENCE_POLL, None
        self._clock, self._every = clock, liveness_every

    def run(self) -> None:
        delay, fresh, failed = BACKOFF_START, True, False
        while not self.stop.is_set():
            try:
                if failed and self.feed.rewound():
                    # Redis came back without the log: say so, never "no incidents".
                    self.emit(("lost", self._clock()))
                    fresh = True
                if fresh:
                    self.emit(("status", True, "catching up…"))
                    events = self.feed.catch_up()
                    self.emit(("status", True, "connected"))
                    self.emit(("liveness", *self.feed.liveness()))
                    self.emit(("reset", events))
                    fresh = False
                elif failed:
                    self.emit(("status", True, "connected"))
                failed, delay = False, BACKOFF_START
                looked = time.monotonic()
                while not self.stop.is_set():
                    self._poll_silences()
                    events = self.feed.next(self.block)
                    if events:
                        self.emit(("events", events))
                    if time.monotonic() - looked >= self._every:
                        self.emit(("liveness", *self.feed.liveness()))
                        looked = time.monotonic()
            except AlertStoreAuthError as exc:
                failed = self._wait(f"Redis refused the credentials, retrying in {delay:g}s"
                                    f" ({exc})", delay)
                delay = min(delay * 2, BACKOFF_MAX)
            except AlertStoreError as exc:
                failed = self._wait(f"Redis unreachable, retrying in {delay:g}s ({exc})", delay)
                delay = min(delay * 2, BACKOFF_MAX)

    def _poll_silences(self) -> None:
        if self.silences is None or time.monotonic() - self._silences_read < SILENCE_POLL:
            return
        self._silences_read = time.monotonic()
        current = self.silences()
        if current != self._silences_shown:
            self._silences_shown = current
            self.emit(("silences", current))

    def _wait(self, text: str, delay: float) -> bool:
        self.emit(("status", False, text))
        self.stop.wait(delay)
        return True


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _id(stream_id: str) -> tuple[int, int]:
    ms, _, n = stream_id.partition("-")
    return int(ms), int(n or 0)
