"""RedisJournal: the notify process's durable state in Redis, and its reading of the alert log.

Keys (prefix ``firestorm``)::

    firestorm:alerts:log              the alert stream (written by the worker); read with
                                      the consumer group 'firestorm-notify'
    firestorm:notify:state            string: the planner state (JSON)
    firestorm:notify:pending          hash: notification id -> notification (JSON)
    firestorm:notify:failed           hash: notification id -> failure (JSON: error, attempts)

One step of the notify process is one MULTI/EXEC: save the planner state,
add the step's notifications to ``pending`` and XACK the alert-log entry. A
crash before it redoes the step (the entry is still pending in the group); a
crash after it has lost nothing (the notifications wait in ``pending`` and
are delivered on the next start). Delivery then moves each one out of
``pending``: deleted when delivered, into ``failed`` when its attempts run out.

The consumer group is created at the end of the log (``$``): the first start
notifies only alerts after it, not a month of history; every later start
resumes exactly where the last one stopped, first re-reading any entry it had
read but not acknowledged. Run one notify process per Redis.

If Redis loses the log and the group with it (a restart without persistence),
the next read finds no group: the group is made again at the *start* of the new
log, so every alert stored since then is read (the worker's 'restored' events
are among them; the planner does not notify those by default).

It also reads the workers' heartbeats and the history marker
(:mod:`alerting.liveness`) for the dead-man alert.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from alerting.errors import AlertEventError, AlertStoreUnavailable
from alerting.event import AlertEvent
from alerting.liveness import Heartbeat, History
from alerting.notifiers.journal import Failure
from alerting.notifiers.notification import Notification
from alerting.notifiers.planner import PlannerState
from alerting.store import Keys

__all__ = ["GROUP", "RedisJournal"]

log = logging.getLogger(__name__)

GROUP = "firestorm-notify"
# A blocking read waits at most this long; the socket waits longer still. redis-py 8
# gives every client a 5 s socket timeout by default, and a BLOCK longer than the
# socket timeout ends in a false "Timeout reading" (notify then backed off for up to
# 30 s with Redis healthy): the timeout must always be set above the longest block.
MAX_BLOCK_SECONDS = 10.0
SOCKET_TIMEOUT = MAX_BLOCK_SECONDS + 5.0


class RedisJournal:
    """The journal (see :mod:`alerting.notifiers.journal`) in Redis, plus the alert-log reader."""

    def __init__(self, url: str, *, prefix: str = "firestorm", group: str = GROUP,
                 consumer: str = "notify", client: aioredis.Redis | None = None,
                 **options: Any) -> None:
        """``options`` go to the Redis client, e.g. ``ssl_ca_certs`` for a private CA."""
        self.keys = Keys(prefix)
        self.group = group
        self.consumer = consumer
        self.state_key = f"{prefix}:notify:state"
        self.pending_key = f"{prefix}:notify:pending"
        self.failed_key = f"{prefix}:notify:failed"
        self._redis = client or aioredis.Redis.from_url(
            url, socket_connect_timeout=5, socket_timeout=SOCKET_TIMEOUT, **options)
        self._backlog = True  # first re-read entries delivered to us but never acked

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self.keys.stream, self.group, id="$", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        except (RedisError, OSError) as exc:
            raise AlertStoreUnavailable(f"Redis unavailable: {exc}") from None

    async def read(self, count: int = 100,
                   block_ms: int = 1000) -> list[tuple[str, AlertEvent | str]]:
        """Next alert-log entries as (stream id, event), or (stream id, reason) if undecodable.

        Waits up to ``block_ms`` (at most :data:`MAX_BLOCK_SECONDS`) for a new entry.
        """
        try:
            if self._backlog:
                got = await self._redis.xreadgroup(self.group, self.consumer,
                                                   {self.keys.stream: "0"}, count=count)
                entries = got[0][1] if got else []
                if entries:
                    return [_decode(sid, fields) for sid, fields in entries]
                self._backlog = False
            got = await self._redis.xreadgroup(self.group, self.consumer,
                                               {self.keys.stream: ">"}, count=count,
                                               block=_block(block_ms))
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise AlertStoreUnavailable(f"Redis unavailable: {exc}") from None
            await self._group_lost()
            return []
        except (RedisError, OSError) as exc:
            raise AlertStoreUnavailable(f"Redis unavailable: {exc}") from None
        return [_decode(sid, fields) for sid, fields in (got[0][1] if got else [])]

    async def _group_lost(self) -> None:
        """The log and its group are gone (Redis restarted empty): read the new log whole."""
        log.warning("alert log lost (Redis restarted empty?): consumer group made again at"
                    " the start of the new log")
        try:
            await self._redis.xgroup_create(self.keys.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise AlertStoreUnavailable(f"Redis unavailable: {exc}") from None
        except (RedisError, OSError) as exc:
            raise AlertStoreUnavailable(f"Redis unavailable: {exc}") from None
        self._backlog = True

    async def liveness(self) -> tuple[list[Heartbeat], History | None]:
        """The workers' latest heartbeats and the history marker."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(self.keys.workers)
        pipe.hgetall(self.keys.history)
        workers, history = await self._call(pipe.execute)
        beats = []
        for value in workers.values():
            try:
                beats.append(Heartbeat.from_json(value))
            except (ValueError, KeyError, TypeError):
                continue  # not a heartbeat this version reads: ignored, never fatal
        fields = {_text(k): _text(v) for k, v in history.items()}
        return beats, History.from_fields(fields) if fields else None

    def rewind(self) -> None:
        """After a failed step: re-read from the first entry read but never acknowledged."""
        self._backlog = True

    async def load_state(self) -> PlannerState:
        raw = await self._call(self._redis.get, self.state_key)
        return PlannerState() if raw is None else PlannerState.from_dict(json.loads(raw))

    async def commit(self, notifications: Sequence[Notification],
                     state: PlannerState | None = None, acks: Sequence[str] = ()) -> None:
        pipe = self._redis.pipeline(transaction=True)
        if state is not None:
            pipe.set(self.state_key, json.dumps(state.to_dict(), ensure_ascii=False))
        if notifications:
            pipe.hset(self.pending_key, mapping={n.id: _dump(n.to_dict()) for n in notifications})
        if acks:
            pipe.xack(self.keys.stream, self.group, *acks)
        await self._call(pipe.execute)

    async def pending(self) -> list[Notification]:
        raw = await self._call(self._redis.hvals, self.pending_key)
        out = [Notification.from_dict(json.loads(v)) for v in raw]
        return sorted(out, key=lambda n: (n.planned_at, n.id))

    async def done(self, notification: Notification) -> None:
        await self._call(self._redis.hdel, self.pending_key, notification.id)

    async def fail(self, notification: Notification, error: str, attempts: int,
                   at: float) -> None:
        failure = Failure(notification, error, attempts, at)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hdel(self.pending_key, notification.id)
        pipe.hset(self.failed_key, notification.id, _dump(failure.to_dict()))
        await self._call(pipe.execute)

    async def failed(self) -> list[Failure]:
        raw = await self._call(self._redis.hvals, self.failed_key)
        out = [Failure.from_dict(json.loads(v)) for v in raw]
        return sorted(out, key=lambda f: (f.failed_at, f.notification.id))

    async def requeue_failed(self) -> list[Notification]:
        failures = await self.failed()
        if not failures:
            return []
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(self.pending_key, mapping={f.notification.id: _dump(f.notification.to_dict())
                                             for f in failures})
        pipe.hdel(self.failed_key, *(f.notification.id for f in failures))
        await self._call(pipe.execute)
        return [f.notification for f in failures]

    async def close(self) -> None:
        await self._redis.aclose()

    async def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return await fn(*args)
        except (RedisError, OSError) as exc:
            raise AlertStoreUnavailable(f"Redis unavailable: {exc}") from None


def _block(block_ms: int) -> int:
    """The BLOCK of one read: at least 1 ms (0 would mean forever), below the socket timeout.

    >>> _block(0), _block(30_000)
    (1, 10000)
    """
    return max(1, min(int(block_ms), int(MAX_BLOCK_SECONDS * 1000)))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _decode(sid: bytes | str, fields: dict[bytes, bytes]) -> tuple[str, AlertEvent | str]:
    stream_id = sid.decode() if isinstance(sid, bytes) else sid
    raw = fields.get(b"event")
    if raw is None:
        return stream_id, "entry has no 'event' field"
    try:
        return stream_id, AlertEvent.from_json(raw)
    except AlertEventError as exc:
        return stream_id, str(exc)
