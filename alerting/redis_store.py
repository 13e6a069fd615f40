"""The alert store on Redis: live PUBLISH, a capped stream for catch-up, records with a TTL.

One event is delivered by one Lua script, so it is all-or-nothing and
idempotent: the script first claims ``<prefix>:alerts:seen:<event_id>`` with
``SET NX``; only the first delivery of an event appends it to the stream,
updates the incident record and timeline and PUBLISHes it. A retry after a
lost reply, or a redelivery after a worker restart, does nothing.

Keys (prefix ``firestorm``; every incident key expires ``retention_seconds``
after its last write)::

    firestorm:alerts                    channel: every event
    firestorm:alerts:<entity_id>        channel: events of one entity
    firestorm:alerts:log                stream, MAXLEN ~stream_maxlen; field 'event' = JSON
    firestorm:alerts:seen:<event_id>    dedupe marker
    firestorm:incident:<id>             hash: the incident record
    firestorm:incident:<id>:events      list: its events (JSON), in order
    firestorm:incident:<id>:points      hash: per-minute points by event time
    firestorm:incidents:open            set: ids of open incidents
    firestorm:incidents:index           sorted set: every incident id, scored by the
                                        wall-clock time of its last write (no TTL)
    firestorm:incidents:index:ready     marker: the index holds every record (no TTL)
    firestorm:story:<story_id>          string: the story as its latest event left it (JSON)
    firestorm:stories:active            string: the stories that can still gather incidents
    firestorm:workers                   hash: worker id -> its latest heartbeat (JSON)
    firestorm:history                   hash: when this history began, was lost, was rebuilt

An event older (lower ``seq``) than what the incident's record already shows
is logged and listed but never rolls the record back: after a restore the
latest state can arrive before events that waited in the worker's outbox.

With :class:`alerting.story.StoryRules`, a publish is grouped into a story in
the same transaction: WATCH the active stories and the event's dedupe key,
read them, run :func:`alerting.story.group`, then MULTI: the publish script
(with the event carrying its ``story``), the new active stories and the
story's own key; EXEC, or try again if another publish got in between.

The index lets ``incidents()`` list without SCANning the keyspace. The script
trims ids scored more than ``retention_seconds`` ago, so the index never holds
more than the records that can still exist; a TTL on it would add nothing but
a way to lose it while its records live. A deployment upgraded from a version
without the index has records but no ``ready`` marker: the first listing
backfills the index from one SCAN and sets the marker.

Single-node Redis (or a primary behind Sentinel): the script touches keys of
several incidents' slots, so Redis Cluster is not supported.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.exceptions import (
    AuthenticationError,
    NoPermissionError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    WatchError,
)
from redis.retry import Retry

from alerting.errors import (
    AlertStoreAuthError,
    AlertStoreConfigError,
    AlertStoreError,
    AlertStoreUnavailable,
)
from alerting.event import AlertEvent
from alerting.liveness import Heartbeat, History
from alerting.store import DEFAULT_RETENTION, DEFAULT_STREAM_MAXLEN, Keys
from alerting.story import Story, StoryRules, StoryState, group
from alerting.timeline import IncidentRecord, Timeline, TimelinePoint, record_fields

__all__ = ["RedisAlertStore", "call_redis", "redact"]

# KEYS: seen, stream, record, events, open set, incident index
# ARGV: event json, maxlen, retention, channel, entity channel, incident id, status,
#       event id, entity id, now (epoch seconds), seq, then record field/value pairs
_PUBLISH = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then return false end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'event', ARGV[1],
                      'event_id', ARGV[8], 'incident_id', ARGV[6], 'entity_id', ARGV[9])
redis.call('RPUSH', KEYS[4], ARGV[1])
redis.call('EXPIRE', KEYS[4], ARGV[3])
if tonumber(ARGV[11]) >= tonumber(redis.call('HGET', KEYS[3], 'last_seq') or '0') then
  local fields = {}
  for i = 12, #ARGV do fields[#fields + 1] = ARGV[i] end
  redis.call('HSET', KEYS[3], unpack(fields))
  if ARGV[7] == 'open' then redis.call('SADD', KEYS[5], ARGV[6])
  elseif ARGV[7] == 'resolved' then redis.call('SREM', KEYS[5], ARGV[6]) end
end
redis.call('EXPIRE', KEYS[3], ARGV[3])
redis.call('ZADD', KEYS[6], ARGV[10], ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf',
           '(' .. (tonumber(ARGV[10]) - tonumber(ARGV[3])))
redis.call('PUBLISH', ARGV[4], ARGV[1])
redis.call('PUBLISH', ARGV[5], ARGV[1])
return id
"""

# KEYS: the index or open set, then the record key of each id; ARGV: ZREM or SREM,
# then the ids. Removes only ids whose record is still missing: a publish that
# re-created one since the caller looked must keep its entry.
_PRUNE = """
for i = 2, #ARGV do
  if redis.call('EXISTS', KEYS[i]) == 0 then redis.call(ARGV[1], KEYS[1], ARGV[i]) end
end
return true
"""


# KEYS: history; ARGV: now, lost ('1' or '0'). Creates the marker if missing.
_BEGIN_HISTORY = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, redis.call('HGETALL', KEYS[1])} end
redis.call('HSET', KEYS[1], 'since', ARGV[1], 'restored', '0')
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'lost_at', ARGV[1]) end
return {1, redis.call('HGETALL', KEYS[1])}
"""

# KEYS: history; ARGV: now, restored. Only into a history that still exists.
_REBUILT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'rebuilt_at', ARGV[1], 'restored', ARGV[2])
return true
"""

STALE_WORKER = 86_400.0  # a worker silent this long is forgotten (stopped or moved)
_WATCH_ATTEMPTS = 50  # concurrent publishes to stories: retry, they are short


class RedisConnected:
    """What every Redis store of this package shares: a client (``_redis``) for a URL
    (``_url``), and calls whose errors name the server (:func:`call_redis`)."""

    _redis: redis.Redis
    _url: str

    def ping(self) -> None:
        """Check reachability and credentials now (call at start-up to fail fast)."""
        self._call(self._redis.ping)

    def close(self) -> None:
        self._redis.close()

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return call_redis(self._url, fn, *args, **kwargs)


class RedisAlertStore(RedisConnected):
    """Alert delivery and incident records on a Redis server.

    ``url`` is ``redis://[[user]:password@]host:port/db``, ``rediss://...`` for
    TLS, or ``unix:///path.sock``; ``username``/``password`` override the URL's.
    Timeouts are short on purpose: a slow Redis must not stall the worker, the
    outbox (:class:`alerting.delivery.DurableDelivery`) retries later.

    >>> RedisAlertStore("redis://:s3cret@localhost:6379/0", stream_maxlen=10)
    RedisAlertStore(url='redis://:***@localhost:6379/0', prefix='firestorm')
    """

    def __init__(self, url: str, *, stream_maxlen: int = DEFAULT_STREAM_MAXLEN,
                 retention_seconds: int = DEFAULT_RETENTION, prefix: str = "firestorm",
                 username: str | None = None, password: str | None = None,
                 ssl_ca_certs: str | None = None, ssl_certfile: str | None = None,
                 ssl_keyfile: str | None = None, socket_timeout: float = 0.5,
                 connect_timeout: float = 0.5, client: redis.Redis | None = None,
                 clock: Callable[[], float] = time.time,
                 stories: StoryRules | None = None) -> None:
        if stream_maxlen < 1 or retention_seconds < 1:
            raise AlertStoreConfigError("stream_maxlen and retention_seconds must be 1 or more")
        tls_files = {"ssl_ca_certs": ssl_ca_certs, "ssl_certfile": ssl_certfile,
                     "ssl_keyfile": ssl_keyfile}
        given = {k: v for k, v in tls_files.items() if v is not None}
        if given and not url.lower().startswith("rediss://"):
            raise AlertStoreConfigError(
                f"{', '.join(given)} given but the URL is not TLS; use rediss://host:port")
        for name, path in given.items():
            if not os.path.isfile(path):
                raise AlertStoreConfigError(f"{name}: no such file {path!r}")
        self.keys = Keys(prefix)
        self.rules = stories
        self.stream_maxlen = stream_maxlen
        self.retention_seconds = retention_seconds
        self._url = url
        self._clock = clock
        options: dict[str, Any] = {
            "socket_timeout": socket_timeout, "socket_connect_timeout": connect_timeout,
            # One immediate retry reconnects a pooled socket that a Redis restart
            # closed; longer waits are the outbox's job, not the client's.
            "retry": Retry(NoBackoff(), 1), "health_check_interval": 30, **given,
        }
        if username is not None:
            options["username"] = username
        if password is not None:
            options["password"] = password
        try:
            self._redis = client or redis.Redis.from_url(url, **options)
        except ValueError as exc:
            raise AlertStoreConfigError(f"alert store URL {self!r}: {exc}") from None
        self._publish = self._redis.register_script(_PUBLISH)
        self._prune = self._redis.register_script(_PRUNE)
        self._begin_history = self._redis.register_script(_BEGIN_HISTORY)
        self._rebuilt = self._redis.register_script(_REBUILT)

    def __repr__(self) -> str:
        return f"RedisAlertStore(url={_redact(self._url)!r}, prefix={self.keys.prefix!r})"

    def publish(self, event: AlertEvent) -> str | None:
        """Deliver once: stream, record, story, timeline, PUBLISH; None if already delivered."""
        if self.rules is None:
            stream_id = self._call(self._publish, keys=self._publish_keys(event),
                                   args=self._publish_args(event))
        else:
            stream_id = self._call(self._publish_in_story, event, self.rules)
        return None if stream_id is None else _text(stream_id)

    def _publish_keys(self, event: AlertEvent) -> list[str]:
        k = self.keys
        return [k.seen(event.event_id), k.stream, k.incident(event.incident_id),
                k.events(event.incident_id), k.open_set, k.incident_index]

    def _publish_args(self, event: AlertEvent) -> list[str | int]:
        k = self.keys
        fields = record_fields(event)
        status = "" if event.event == "acknowledged" else fields["status"]
        args: list[str | int] = [
            event.to_json(), self.stream_maxlen, self.retention_seconds, k.channel(),
            k.channel(event.entity_id), event.incident_id, status, event.event_id,
            event.entity_id, repr(float(self._clock())), event.seq]
        for name, value in fields.items():
            args += [name, value]
        return args

    def _publish_in_story(self, event: AlertEvent, rules: StoryRules) -> Any:
        """Group and publish in one transaction (optimistic: WATCH, then MULTI/EXEC)."""
        k = self.keys
        with self._redis.pipeline(transaction=True) as pipe:
            for _ in range(_WATCH_ATTEMPTS):
                try:
                    pipe.watch(k.stories, k.seen(event.event_id))
                    if pipe.exists(k.seen(event.event_id)):
                        return None  # delivered before: its story was told then
                    raw = pipe.get(k.stories)
                    state = StoryState.from_dict(json.loads(raw)) if raw else StoryState()
                    story_id = pipe.hget(k.incident(event.incident_id), "story_id")
                    recorded = pipe.get(k.story(_text(story_id))) if story_id else None
                    state, story = group(state, event, rules, None if recorded is None
                                         else Story.from_dict(json.loads(recorded)))
                    told = event.in_story(story)
                    pipe.multi()
                    self._publish(keys=self._publish_keys(told), args=self._publish_args(told),
                                  client=pipe)
                    pipe.set(k.stories, json.dumps(state.to_dict(), separators=(",", ":")))
                    pipe.set(k.story(story.id), json.dumps(story.to_dict(), separators=(",", ":")),
                             ex=self.retention_seconds)
                    return pipe.execute()[0]
                except WatchError:
                    continue  # another publish changed the stories: group again
        raise AlertStoreUnavailable(f"Redis at {_redact(self._url)}: {_WATCH_ATTEMPTS} publishes"
                                    " in a row lost the race for the stories; retrying later")

    def record_points(self, incident_id: str, points: Iterable[TimelinePoint]) -> None:
        """Store per-minute points keyed by event time: writing one twice is harmless."""
        mapping = {repr(p.at): json.dumps(p.to_dict()) for p in points}
        if not mapping:
            return
        key = self.keys.points(incident_id)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, self.retention_seconds)
        self._call(pipe.execute)

    def catch_up(self, last_id: str = "0-0",
                 count: int | None = None) -> list[tuple[str, AlertEvent]]:
        """Events logged after stream id ``last_id`` (exclusive), oldest first.

        A console stores the id of the last entry it showed and passes it back
        after being offline. Entries older than the stream cap are gone.
        """
        low = "-" if last_id in ("0", "0-0") else f"({last_id}"
        entries = self._call(self._redis.xrange, self.keys.stream, min=low, max="+",
                             count=count)
        return [(_text(sid), AlertEvent.from_json(fields[b"event"])) for sid, fields in entries]

    def open_incidents(self) -> list[IncidentRecord]:
        ids = sorted(_text(i) for i in self._call(self._redis.smembers, self.keys.open_set))
        records = [self.incident(i) for i in ids]
        expired = [i for i, r in zip(ids, records, strict=True) if r is None]
        if expired:  # the record outlived its retention while still listed as open
            self._call(self._prune, keys=[self.keys.open_set, *map(self.keys.incident, expired)],
                       args=["SREM", *expired])
        live = [r for r in records if r is not None]
        return sorted(live, key=lambda r: (r.opened_at or r.last_at, r.incident_id))

    def incidents(self, entity_id: str | None = None) -> list[IncidentRecord]:
        """Every incident still within retention (open and resolved), newest first.

        Reads the incident index, not the keyspace: cost grows with the incidents
        kept, not with everything else in Redis. Ids whose record has expired
        since the last publish trimmed the index are dropped from it here.
        """
        k = self.keys
        pipe = self._redis.pipeline(transaction=False)
        pipe.exists(k.incident_index_ready)
        pipe.zrevrange(k.incident_index, 0, -1)
        ready, members = self._call(pipe.execute)
        if not ready:
            self._backfill_index()
            members = self._call(self._redis.zrevrange, k.incident_index, 0, -1)
        ids = [_text(m) for m in members]
        if entity_id:  # ids are '<entity_id>-<opened>': fetch only that entity's records
            ids = [i for i in ids if i.startswith(entity_id + "-")]
        if not ids:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for incident_id in ids:
            pipe.hgetall(k.incident(incident_id))
        raws = self._call(pipe.execute)
        expired = [i for i, raw in zip(ids, raws, strict=True) if not raw]
        if expired:
            self._call(self._prune, keys=[k.incident_index, *map(k.incident, expired)],
                       args=["ZREM", *expired])
        records = [IncidentRecord.from_fields({_text(f): _text(v) for f, v in raw.items()})
                   for raw in raws if raw]
        if entity_id:  # 'acme-' also starts the ids of an entity called 'acme-stores'
            records = [r for r in records if r.entity_id == entity_id]
        return sorted(records, key=lambda r: (r.opened_at or r.last_at, r.incident_id),
                      reverse=True)

    def _backfill_index(self) -> None:
        """Index the records written before the index existed: one SCAN, once.

        A record's TTL is renewed to ``retention_seconds`` on every write, so its
        last write was ``retention - ttl`` ago: scored like that, the publish
        script trims it when the record expires. ``ZADD NX`` never moves an entry
        a concurrent publish just scored; the marker is set only once all are in.
        """
        k = self.keys
        base = k.incident("")
        names = [_text(n) for n in self._call(lambda: list(self._redis.scan_iter(
            match=_glob_escape(base) + "*", count=1000, _type="hash")))]
        ids = sorted({n[len(base):] for n in names if ":" not in n[len(base):]})
        if ids:
            pipe = self._redis.pipeline(transaction=False)
            for incident_id in ids:
                pipe.pttl(k.incident(incident_id))
            ttls = self._call(pipe.execute)
            now = self._clock()
            # PTTL -2: expired since the SCAN; -1: no TTL (not written by this store)
            scores = {i: now - self.retention_seconds + ttl / 1000 if ttl >= 0 else now
                      for i, ttl in zip(ids, ttls, strict=True) if ttl != -2}
            if scores:
                self._call(self._redis.zadd, k.incident_index, scores, nx=True)
        self._call(self._redis.set, k.incident_index_ready, "1")

    def incident(self, incident_id: str) -> IncidentRecord | None:
        raw = self._call(self._redis.hgetall, self.keys.incident(incident_id))
        if not raw:
            return None
        return IncidentRecord.from_fields({_text(k): _text(v) for k, v in raw.items()})

    def timeline(self, incident_id: str) -> Timeline | None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.lrange(self.keys.events(incident_id), 0, -1)
        pipe.hgetall(self.keys.points(incident_id))
        events, points = self._call(pipe.execute)
        if not events and not points:
            return None
        decoded = sorted((TimelinePoint.from_dict(json.loads(v)) for v in points.values()),
                         key=lambda p: p.at)
        # In seq order: a restore can store the latest before events that waited for Redis.
        return Timeline(incident_id, tuple(decoded),
                        tuple(sorted((AlertEvent.from_json(e) for e in events),
                                     key=lambda e: e.seq)))

    def story(self, story_id: str) -> Story | None:
        raw = self._call(self._redis.get, self.keys.story(story_id))
        return None if raw is None else Story.from_dict(json.loads(raw))

    def beat(self, heartbeat: Heartbeat) -> None:
        """Record a worker's heartbeat; forget workers silent for a day."""
        k = self.keys
        self._call(self._redis.hset, k.workers, heartbeat.worker, heartbeat.to_json())
        stale = [h.worker for h in self.heartbeats() if heartbeat.at - h.at > STALE_WORKER]
        if stale:
            self._call(self._redis.hdel, k.workers, *stale)

    def heartbeats(self) -> list[Heartbeat]:
        raw = self._call(self._redis.hgetall, self.keys.workers)
        out = []
        for value in raw.values():
            try:
                out.append(Heartbeat.from_json(value))
            except (ValueError, KeyError, TypeError):
                continue  # not a heartbeat this version can read: ignore, never crash a reader
        return sorted(out, key=lambda h: h.worker)

    def history(self) -> History | None:
        raw = self._call(self._redis.hgetall, self.keys.history)
        return History.from_fields({_text(f): _text(v) for f, v in raw.items()}) if raw else None

    def begin_history(self, now: float, holding_open: bool) -> tuple[History, bool]:
        created, flat = self._call(self._begin_history, keys=[self.keys.history],
                                   args=[repr(now), "1" if holding_open else "0"])
        values = [_text(v) for v in flat]
        return History.from_fields(dict(zip(values[::2], values[1::2], strict=True))), \
            bool(created)

    def history_rebuilt(self, now: float, restored: int) -> None:
        self._call(self._rebuilt, keys=[self.keys.history], args=[repr(now), restored])



def call_redis(url: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with redis-py's errors turned into the store's, naming the server.

    Shared by every Redis store of this package (alerts, officers' actions).
    """
    try:
        return fn(*args, **kwargs)
    except (AuthenticationError, NoPermissionError) as exc:
        raise AlertStoreAuthError(
            f"Redis at {_redact(url)} refused the credentials ({exc}); check the"
            " password/ACL user in the store URL or the password option") from None
    except ReadOnlyError as exc:  # a failover is in progress: like unreachable
        raise AlertStoreUnavailable(f"Redis at {_redact(url)} is a read-only"
                                    f" replica now: {exc}") from None
    except ResponseError as exc:
        text = str(exc)
        if text.startswith(("NOAUTH", "WRONGPASS", "NOPERM")):
            raise AlertStoreAuthError(
                f"Redis at {_redact(url)} refused the credentials ({text}); check"
                " the password/ACL user in the store URL") from None
        raise AlertStoreError(f"Redis at {_redact(url)} answered an error: {text}") from exc
    except (RedisError, OSError) as exc:
        # Connection refused/reset, timeout, LOADING after a restart, READONLY replica.
        raise AlertStoreUnavailable(
            f"Redis at {_redact(url)} unavailable: {exc.__class__.__name__}: {exc}"
        ) from None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _glob_escape(text: str) -> str:
    """``text`` matched literally by SCAN's glob pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


redact = _redact  # the URL without its password, for other stores' messages
