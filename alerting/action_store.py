"""What officers do, kept in Redis: ack answers, the audit, link uses, silences, feedback.

Two implementations of one seam, chosen by URL like the alert store:
:class:`RedisActionStore` here and :class:`alerting.memory_actions.MemoryActionStore`.
Both have::

    answer(answer, audit)                 # the worker: answer an ack, audit it
    wait_answer(request_id, timeout)      # the sender: the answer, or None in time
    audit(incident_id) / add_audit(entry)
    claim_link(nonce, ttl) / link_use(nonce) / finish_link(nonce, use, ttl) / release_link(nonce)
    add_silence(s) / lift_silence(id) / silences(now)
    add_feedback(f) / feedback(since)
    ping(); close()

Keys (prefix ``firestorm``)::

    firestorm:ack:answer:<request_id>    list: the worker's answer (JSON), for 5 minutes
    firestorm:incident:<id>:audit        list: audit entries (JSON), for the retention
    firestorm:link:used:<nonce>          string: how a single-use link was used (JSON)
    firestorm:silence:<id>               string: one silence (JSON), expiring at its end
    firestorm:silences                   set: ids of silences (pruned as they expire)
    firestorm:feedback                   sorted set: feedback (JSON) by time, 100 days
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alerting.ack import AckAnswer
from alerting.audit import AuditEntry
from alerting.errors import AlertStoreConfigError
from alerting.feedback import Feedback
from alerting.links import LinkUse
from alerting.redis_store import RedisConnected
from alerting.redis_store import redact as _redact
from alerting.silence import Silence
from alerting.store import DEFAULT_RETENTION

if TYPE_CHECKING:
    from alerting.memory_actions import MemoryActionStore

__all__ = ["ANSWER_TTL", "FEEDBACK_DAYS", "ActionKeys", "RedisActionStore",
           "open_action_store"]

ANSWER_TTL = 300  # seconds an unread ack answer is kept (the sender waits far less)
FEEDBACK_DAYS = 100  # feedback outlives incidents: the 90-day precision needs it


@dataclass(frozen=True, slots=True)
class ActionKeys:
    """Redis key names of officers' actions, under the alert store's prefix.

    >>> k = ActionKeys()
    >>> k.answer("r1"), k.audit("acme-20240501T123400Z"), k.silence("s1")
    ('firestorm:ack:answer:r1', 'firestorm:incident:acme-20240501T123400Z:audit', \
'firestorm:silence:s1')
    """

    prefix: str = "firestorm"

    def answer(self, request_id: str) -> str:
        return f"{self.prefix}:ack:answer:{request_id}"

    def audit(self, incident_id: str) -> str:
        return f"{self.prefix}:incident:{incident_id}:audit"

    def link(self, nonce: str) -> str:
        return f"{self.prefix}:link:used:{nonce}"

    def silence(self, silence_id: str) -> str:
        return f"{self.prefix}:silence:{silence_id}"

    @property
    def silences(self) -> str:
        return f"{self.prefix}:silences"

    @property
    def feedback(self) -> str:
        return f"{self.prefix}:feedback"


def open_action_store(url: str, **options: Any) -> RedisActionStore | MemoryActionStore:
    """The action store a URL names (``memory://`` or a Redis URL)."""
    if url.startswith("memory://"):
        from alerting.memory_actions import MemoryActionStore

        return MemoryActionStore(**{k: v for k, v in options.items()
                                    if k in ("retention_seconds", "prefix", "clock")})
    return RedisActionStore(url, **options)


class RedisActionStore(RedisConnected):
    """Officers' actions on a Redis server (the same one as the alert store).

    >>> RedisActionStore("redis://:pw@localhost:6379/0")
    RedisActionStore(url='redis://:***@localhost:6379/0')
    """

    def __init__(self, url: str, *, retention_seconds: int = DEFAULT_RETENTION,
                 prefix: str = "firestorm", socket_timeout: float = 5.0,
                 ssl_ca_certs: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        import redis

        self.keys = ActionKeys(prefix)
        self.retention_seconds = retention_seconds
        self._url, self._clock = url, clock
        options: dict[str, Any] = {"socket_timeout": socket_timeout,
                                   "socket_connect_timeout": 2.0}
        if ssl_ca_certs:
            options["ssl_ca_certs"] = ssl_ca_certs
        try:
            self._redis = redis.Redis.from_url(url, **options)
        except ValueError as exc:
            raise AlertStoreConfigError(f"action store URL {_redact(url)!r}: {exc}") from None

    def __repr__(self) -> str:
        return f"RedisActionStore(url={_redact(self._url)!r})"

    # -- acknowledgements --------------------------------------------------------

    def answer(self, answer: AckAnswer, audit: AuditEntry | None = None) -> None:
        """Hand the answer to whoever waits for it, and keep the audit entry with the incident."""
        pipe = self._redis.pipeline(transaction=True)
        if answer.request_id:
            key = self.keys.answer(answer.request_id)
            pipe.rpush(key, answer.to_json())
            pipe.expire(key, ANSWER_TTL)
        if audit is not None:
            self._audit_into(pipe, audit)
        self._call(pipe.execute)

    def wait_answer(self, request_id: str, timeout: float) -> AckAnswer | None:
        """The worker's answer to ``request_id``, or None if none came within ``timeout``."""
        deadline = time.monotonic() + timeout
        key = self.keys.answer(request_id)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            # Short blocks, each well inside the socket timeout: a long BLPOP on a socket
            # with a shorter timeout is read as a dead connection.
            got = self._call(self._redis.blpop, [key], timeout=max(0.1, min(1.0, left)))
            if got:
                return AckAnswer.from_json(got[1])

    # -- audit ---------------------------------------------------------------------

    def add_audit(self, entry: AuditEntry) -> None:
        pipe = self._redis.pipeline(transaction=True)
        self._audit_into(pipe, entry)
        self._call(pipe.execute)

    def audit(self, incident_id: str) -> list[AuditEntry]:
        raw = self._call(self._redis.lrange, self.keys.audit(incident_id), 0, -1)
        return [AuditEntry.from_json(r) for r in raw]

    def _audit_into(self, pipe: Any, entry: AuditEntry) -> None:
        key = self.keys.audit(entry.incident_id)
        pipe.rpush(key, entry.to_json())
        pipe.ltrim(key, -500, -1)  # an incident's audit is short; a flood must not grow it
        pipe.expire(key, self.retention_seconds)

    # -- single-use links -------------------------------------------------------------

    def claim_link(self, nonce: str, ttl: float, use: LinkUse) -> bool:
        """Take the link for this use; False if it was used (or is being used) already."""
        return bool(self._call(self._redis.set, self.keys.link(nonce), use.to_json(), nx=True,
                               ex=max(1, int(ttl))))

    def link_use(self, nonce: str) -> LinkUse | None:
        raw = self._call(self._redis.get, self.keys.link(nonce))
        return None if raw is None else LinkUse.from_json(raw)

    def finish_link(self, nonce: str, use: LinkUse, ttl: float) -> None:
        self._call(self._redis.set, self.keys.link(nonce), use.to_json(), ex=max(1, int(ttl)))

    def release_link(self, nonce: str) -> None:
        """Give the link back (its use failed before anything was sent)."""
        self._call(self._redis.delete, self.keys.link(nonce))

    # -- silences ----------------------------------------------------------------------

    def add_silence(self, silence: Silence) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self.keys.silence(silence.id), silence.to_json(),
                 pxat=int(silence.until * 1000))  # ends on its own, nobody has to lift it
        pipe.sadd(self.keys.silences, silence.id)
        self._call(pipe.execute)

    def lift_silence(self, silence_id: str) -> Silence | None:
        raw = self._call(self._redis.get, self.keys.silence(silence_id))
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self.keys.silence(silence_id))
        pipe.srem(self.keys.silences, silence_id)
        self._call(pipe.execute)
        return None if raw is None else Silence.from_json(raw)

    def silences(self, now: float | None = None) -> list[Silence]:
        """Silences in force now, longest-lasting first; expired ids are pruned."""
        now = self._clock() if now is None else now
        ids = sorted(_text(i) for i in self._call(self._redis.smembers, self.keys.silences))
        if not ids:
            return []
        raws = self._call(self._redis.mget, [self.keys.silence(i) for i in ids])
        gone = [i for i, raw in zip(ids, raws, strict=True) if raw is None]
        if gone:
            self._call(self._redis.srem, self.keys.silences, *gone)
        found = [Silence.from_json(raw) for raw in raws if raw is not None]
        return sorted((s for s in found if s.active(now)), key=lambda s: (-s.until, s.id))

    # -- feedback ------------------------------------------------------------------------

    def add_feedback(self, feedback: Feedback) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.zadd(self.keys.feedback, {feedback.to_json(): feedback.at})
        pipe.zremrangebyscore(self.keys.feedback, "-inf",
                              f"({feedback.at - FEEDBACK_DAYS * 86400.0}")
        self._call(pipe.execute)

    def feedback(self, since: float = 0.0) -> list[Feedback]:
        raw = self._call(self._redis.zrangebyscore, self.keys.feedback, since, "+inf")
        return [Feedback.from_json(r) for r in raw]



def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
