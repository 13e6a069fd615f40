"""RedisAlertStore and the outbox against real redis-server processes that this module owns.

Each test starts its own throwaway server on a free port (so it can kill and
restart it mid-test) with AOF fsync on every write, as production should run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from alerting.delivery import DurableDelivery
from alerting.errors import AlertStoreAuthError, AlertStoreConfigError, AlertStoreUnavailable
from alerting.event import AlertEvent
from alerting.redis_store import RedisAlertStore
from alerting.store import open_store
from alerting.timeline import TimelinePoint
from tests.integration.support import RedisServer, RedisServers, free_port, wait_for

pytestmark = pytest.mark.integration

T0 = 1714566840.0
INCIDENT = "acme-20240501T123400Z"


def ev(seq: int, kind: str = "updated", entity: str = "acme", **kw) -> AlertEvent:
    return AlertEvent(f"{entity}-20240501T123400Z", seq, kind, entity, entity.title(),
                      "partner", "warning", T0 + 60 * seq, 40 + seq, 8.0, 0.7, 0.3, 5.0,
                      reasons=(f"minute {seq}",), **kw)


@pytest.fixture
def server(redis_server_factory: RedisServers) -> RedisServer:
    return redis_server_factory()


@pytest.fixture
def store(server: RedisServer) -> Iterator[RedisAlertStore]:
    s = RedisAlertStore(server.url, stream_maxlen=1000, retention_seconds=3600)
    yield s
    s.close()


def raw(server: RedisServer) -> redis.Redis:
    return redis.Redis(port=server.port, password=server.password, socket_timeout=2)


def test_subscribers_get_each_event_once_on_both_channels(server, store):
    client = raw(server)
    pubsub = client.pubsub()
    pubsub.subscribe("firestorm:alerts", "firestorm:alerts:acme", "firestorm:alerts:other")
    channels = ("firestorm:alerts", "firestorm:alerts:acme", "firestorm:alerts:other")
    wait_for(lambda: all(n == 1 for _, n in client.pubsub_numsub(*channels)), 5,
             "the server to register the subscriptions")
    events = [ev(1, "opened"), ev(2), ev(1, "opened")]  # the last is a redelivery
    results = [store.publish(e) for e in events]
    assert results[0] and results[1] and results[2] is None
    got: dict[str, list[AlertEvent]] = {}

    def received() -> bool:
        while (m := pubsub.get_message(timeout=0.05)) is not None:
            if m["type"] == "message":
                got.setdefault(m["channel"].decode(), []).append(AlertEvent.from_json(m["data"]))
        return all(len(got.get(c, [])) >= 2 for c in ("firestorm:alerts",
                                                      "firestorm:alerts:acme"))

    wait_for(received, 10, "events on both channels")
    time.sleep(0.2)  # a duplicate would have arrived by now; make sure none does
    received()
    assert got["firestorm:alerts"] == got["firestorm:alerts:acme"] == events[:2]
    assert "firestorm:alerts:other" not in got
    pubsub.close()
    client.close()


def test_offline_console_catches_up_with_exactly_what_it_missed(store):
    seen = [store.publish(ev(seq, "opened" if seq == 1 else "updated")) for seq in (1, 2, 3)]
    last_shown = seen[-1]
    # console goes offline; the worker keeps publishing
    missed = [ev(seq) for seq in (4, 5, 6, 7)]
    for e in missed:
        store.publish(e)
    caught = store.catch_up(last_shown)
    assert [e for _, e in caught] == missed
    assert store.catch_up(caught[-1][0]) == []
    assert [e.seq for _, e in store.catch_up(last_shown, count=2)] == [4, 5]
    assert [e.seq for _, e in store.catch_up()] == [1, 2, 3, 4, 5, 6, 7]


def test_incident_record_timeline_and_retention(server, store):
    store.publish(ev(1, "opened"))
    store.record_points(INCIDENT, [TimelinePoint(T0 + 60 * i, i, 8.0, 0.5, 0.3, 1.0, "warning")
                                   for i in range(3)])
    store.record_points(INCIDENT, [TimelinePoint(T0 + 120, 2, 8.0, 0.5, 0.3, 1.0, "warning")])
    assert [r.incident_id for r in store.open_incidents()] == [INCIDENT]
    store.publish(ev(2, "resolved"))
    store.publish(ev(3, "acknowledged", acknowledged_by="duty-officer"))
    record = store.incident(INCIDENT)
    assert (record.status, record.acknowledged_by, record.last_seq) == (
        "resolved", "duty-officer", 3)
    assert store.open_incidents() == []
    timeline = store.timeline(INCIDENT)
    assert [p.volume for p in timeline.points] == [0, 1, 2]
    assert [e.event for e in timeline.events] == ["opened", "resolved", "acknowledged"]
    client = raw(server)
    for key in (f"firestorm:incident:{INCIDENT}", f"firestorm:incident:{INCIDENT}:events",
                f"firestorm:incident:{INCIDENT}:points", f"firestorm:alerts:seen:{INCIDENT}:1"):
        assert 3500 < client.ttl(key) <= 3600, key
    client.close()


def test_stream_is_capped(server):
    capped = RedisAlertStore(server.url, stream_maxlen=10)
    for seq in range(1, 501):
        capped.publish(ev(seq))
    length = raw(server).xlen("firestorm:alerts:log")
    assert 10 <= length < 500  # MAXLEN ~ trims in whole nodes: at least the cap is kept
    assert capped.catch_up()[-1][1].seq == 500


def test_redis_restarted_mid_run_loses_no_event_and_duplicates_none(server):
    store = RedisAlertStore(server.url, socket_timeout=0.3, connect_timeout=0.3)
    outbox = DurableDelivery(store, min_backoff=0.1, max_backoff=0.5)
    events = [ev(seq, "opened" if seq == 1 else "updated") for seq in range(1, 13)]
    for e in events[:4]:
        outbox.publish(e)
    assert outbox.pending == 0
    server.crash()
    started = time.monotonic()
    for e in events[4:8]:
        outbox.publish(e)  # Redis is gone: kept, and the worker is not held up
    assert time.monotonic() - started < 5
    assert outbox.pending == 4 and not outbox.healthy
    with pytest.raises(AlertStoreUnavailable, match="unavailable"):
        store.catch_up()
    server.start()  # same port, same data dir: the AOF brings back events 1..4
    for e in events[8:]:
        outbox.publish(e)
    wait_for(lambda: outbox.flush() >= 0 and outbox.pending == 0, 20, "the outbox to drain")
    assert outbox.healthy
    logged = [e for _, e in store.catch_up()]
    assert logged == events  # every event, once, in order
    for e in events:  # a restarted worker redelivering everything changes nothing
        outbox.publish(e)
    assert [e for _, e in store.catch_up()] == events
    store.close()


def test_password_in_url_works_and_a_wrong_one_says_so(redis_server_factory):
    server = redis_server_factory("--requirepass", "s3cret-pw")
    good = open_store(server.url)
    good.publish(ev(1, "opened"))
    assert good.incident(INCIDENT) is not None
    explicit = RedisAlertStore(f"redis://127.0.0.1:{server.port}/0", password="s3cret-pw")
    explicit.ping()
    for url in (f"redis://:wrong@127.0.0.1:{server.port}/0", f"redis://127.0.0.1:{server.port}/0"):
        bad = RedisAlertStore(url)
        with pytest.raises(AlertStoreAuthError, match="refused the credentials") as info:
            bad.ping()
        assert "wrong" not in str(info.value) or ":***@" in str(info.value)
        # the outbox keeps events a misconfigured store refuses
        outbox = DurableDelivery(bad)
        outbox.publish(ev(2))
        assert outbox.pending == 1


def test_acl_user_in_url(server):
    admin = raw(server)
    from alerting.story import StoryRules

    # The categories docs/alerts.md gives an ACL user, nothing more.
    admin.execute_command("ACL", "SETUSER", "firestorm", "on", ">user-pw", "~firestorm:*",
                          "&firestorm:*", "+@read", "+@write", "+@stream", "+@pubsub",
                          "+@scripting", "+@transaction", "+@connection")
    store = RedisAlertStore(f"redis://firestorm:user-pw@127.0.0.1:{server.port}/0",
                            stories=StoryRules.of({}))
    assert store.publish(ev(1, "opened"))
    assert store.story(INCIDENT) is not None
    assert [e.seq for _, e in store.catch_up()] == [1]
    outsider = RedisAlertStore(f"redis://firestorm:user-pw@127.0.0.1:{server.port}/0",
                               prefix="elsewhere")
    with pytest.raises(AlertStoreAuthError):
        outsider.publish(ev(1, "opened"))
    admin.close()


def test_tls_with_a_private_ca(redis_server_factory, tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl not found: apt-get install openssl")
    certs = tmp_path / "tls"
    certs.mkdir()

    def ssl(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=certs, check=True, capture_output=True)

    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.crt")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
        "server.key", "-out", "server.csr")
    (certs / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", "server.crt")
    tls_port = free_port()
    server = redis_server_factory("--tls-port", str(tls_port), "--tls-cert-file",
                            str(certs / "server.crt"), "--tls-key-file",
                            str(certs / "server.key"), "--tls-ca-cert-file",
                            str(certs / "ca.crt"), "--tls-auth-clients", "no")
    assert server.port  # the plain port stays up for the fixture's health check
    store = RedisAlertStore(f"rediss://127.0.0.1:{tls_port}/0",
                            ssl_ca_certs=str(certs / "ca.crt"))
    assert store.publish(ev(1, "opened"))
    assert [e.seq for _, e in store.catch_up()] == [1]
    untrusting = RedisAlertStore(f"rediss://127.0.0.1:{tls_port}/0")  # system CAs only
    with pytest.raises(AlertStoreUnavailable):
        untrusting.ping()
    with pytest.raises(AlertStoreConfigError, match="use rediss://"):
        RedisAlertStore(f"redis://127.0.0.1:{tls_port}/0", ssl_ca_certs=str(certs / "ca.crt"))
    with pytest.raises(AlertStoreConfigError, match="no such file"):
        RedisAlertStore(f"rediss://127.0.0.1:{tls_port}/0", ssl_ca_certs=os.devnull + "x")


# ---------------------------------------------------------------- incident index

INDEX = "firestorm:incidents:index"


def opened(entity: str, day: int, seq: int = 1, kind: str = "opened") -> AlertEvent:
    """An event of ``entity``'s incident opened on 2024-05-``day`` at noon."""
    at = T0 + (day - 1) * 86400
    return AlertEvent(f"{entity}-202405{day:02d}T120000Z", seq, kind, entity, entity.title(),
                      "partner", "warning", at + 60 * (seq - 1), 40, 8.0, 0.7, 0.3, 5.0)


def scans(client: redis.Redis) -> int:
    """SCAN calls the server has answered since the last CONFIG RESETSTAT."""
    return client.info("commandstats").get("cmdstat_scan", {}).get("calls", 0)


def test_incident_list_reads_the_index_not_the_keyspace(server, store):
    client = raw(server)
    pipe = client.pipeline(transaction=False)
    for n in range(20_000):  # the rest of a busy Redis
        pipe.set(f"unrelated:{n}", "x")
    pipe.execute()
    # written out of opening order: the list is still newest opened first
    for e in [opened("acme", 3), opened("beta", 1), opened("acme", 2), opened("beta", 1, 2),
              opened("gamma", 5, kind="opened"), opened("gamma", 5, 2, "resolved")]:
        store.publish(e)
    store.incidents()  # a fresh deployment indexes its (empty) past once
    client.config_resetstat()
    expected = ["gamma-20240505T120000Z", "acme-20240503T120000Z", "acme-20240502T120000Z",
                "beta-20240501T120000Z"]
    for _ in range(3):
        assert [r.incident_id for r in store.incidents()] == expected
    assert scans(client) == 0
    assert {m.decode() for m in client.zrange(INDEX, 0, -1)} == set(expected)
    assert client.ttl(INDEX) == -1  # bounded by the trim, not by a TTL
    assert store.incidents()[0].status == "resolved"
    client.close()


def test_incident_list_by_entity(server, store):
    for e in [opened("acme", 1), opened("acme-stores", 2), opened("acme", 3), opened("beta", 4)]:
        store.publish(e)
    store.incidents()
    client = raw(server)
    client.config_resetstat()
    assert [r.incident_id for r in store.incidents("acme")] == [
        "acme-20240503T120000Z", "acme-20240501T120000Z"]
    assert [r.incident_id for r in store.incidents("acme-stores")] == [
        "acme-stores-20240502T120000Z"]
    assert store.incidents("nobody") == []
    assert scans(client) == 0
    client.close()


def test_expired_records_leave_the_list_and_the_index(server):
    client = raw(server)
    short = RedisAlertStore(server.url, retention_seconds=1)
    short.publish(opened("acme", 1))
    short.publish(opened("beta", 2))
    assert [r.incident_id for r in short.incidents()] == [
        "beta-20240502T120000Z", "acme-20240501T120000Z"]
    wait_for(lambda: not client.exists("firestorm:incident:acme-20240501T120000Z",
                                       "firestorm:incident:beta-20240502T120000Z"),
             10, "the records to expire")
    assert client.zcard(INDEX) == 2  # no publish since: nothing has trimmed it yet
    assert short.incidents() == []
    assert client.zcard(INDEX) == 0
    short.close()
    client.close()


def test_an_expired_open_incident_leaves_the_open_set_but_a_live_one_stays(server):
    client = raw(server)
    short = RedisAlertStore(server.url, retention_seconds=1)
    short.publish(opened("acme", 1))
    assert [r.incident_id for r in short.open_incidents()] == ["acme-20240501T120000Z"]
    wait_for(lambda: not client.exists("firestorm:incident:acme-20240501T120000Z"),
             10, "the record to expire")
    # Re-created between the read and the prune (a publish racing the console):
    # the prune must keep what exists again, and drop only what is still gone.
    client.sadd("firestorm:incidents:open", "beta-20240502T120000Z")
    client.hset("firestorm:incident:beta-20240502T120000Z", "status", "open")
    short._prune(keys=["firestorm:incidents:open", "firestorm:incident:acme-20240501T120000Z",
                       "firestorm:incident:beta-20240502T120000Z"],
                 args=["SREM", "acme-20240501T120000Z", "beta-20240502T120000Z"])
    assert client.smembers("firestorm:incidents:open") == {b"beta-20240502T120000Z"}
    client.srem("firestorm:incidents:open", "beta-20240502T120000Z")
    client.sadd("firestorm:incidents:open", "acme-20240501T120000Z")
    assert short.open_incidents() == []
    assert client.scard("firestorm:incidents:open") == 0
    short.close()
    client.close()


def test_publish_trims_index_entries_older_than_retention(server):
    client = raw(server)
    now = [T0]
    store = RedisAlertStore(server.url, retention_seconds=60, clock=lambda: now[0])
    store.publish(opened("acme", 1))
    now[0] += 30
    store.publish(opened("beta", 2))
    now[0] += 31  # acme's last write is now more than a retention ago; beta's is not
    store.publish(opened("gamma", 3))
    assert [(m.decode(), s) for m, s in client.zrange(INDEX, 0, -1, withscores=True)] == [
        ("beta-20240502T120000Z", T0 + 30), ("gamma-20240503T120000Z", T0 + 61)]
    now[0] += 30  # a later write of an incident moves it up: beta is kept
    store.publish(opened("beta", 2, 2))
    assert [m.decode() for m in client.zrange(INDEX, 0, -1)] == [
        "gamma-20240503T120000Z", "beta-20240502T120000Z"]
    store.close()
    client.close()


def test_upgrade_backfills_the_index_from_records_written_without_one(server, store):
    client = raw(server)
    for e in [opened("acme", 1), opened("beta", 2), opened("gamma", 3)]:
        store.publish(e)
    store.record_points("acme-20240501T120000Z",
                        [TimelinePoint(T0, 1, 8.0, 0.5, 0.3, 1.0, "warning")])
    # what the previous version left: the same records, no index, no marker
    client.delete(INDEX, "firestorm:incidents:index:ready")
    client.expire("firestorm:incident:beta-20240502T120000Z", 600)  # last written 50 min ago
    store.publish(opened("delta", 4))  # the upgraded worker writes before anyone lists
    assert [m.decode() for m in client.zrange(INDEX, 0, -1)] == ["delta-20240504T120000Z"]
    client.config_resetstat()
    expected = ["delta-20240504T120000Z", "gamma-20240503T120000Z", "beta-20240502T120000Z",
                "acme-20240501T120000Z"]
    assert [r.incident_id for r in store.incidents()] == expected
    assert scans(client) >= 1
    scores = {m.decode(): s for m, s in client.zrange(INDEX, 0, -1, withscores=True)}
    assert set(scores) == set(expected)
    now = time.time()
    assert abs(scores["beta-20240502T120000Z"] - (now - 3000)) < 30  # from its TTL
    assert abs(scores["acme-20240501T120000Z"] - now) < 30
    client.config_resetstat()  # backfilled once: from now on the index is kept up to date
    assert [r.incident_id for r in store.incidents()] == expected
    client.delete("firestorm:incident:gamma-20240503T120000Z")
    assert [r.incident_id for r in store.incidents()] == [
        i for i in expected if not i.startswith("gamma")]
    assert scans(client) == 0
    client.close()


# -- stories: grouped where events are stored, atomically --------------------------------

def test_redis_tells_the_stories_the_memory_store_and_replay_tell(server):
    from hypothesis import HealthCheck, given, settings

    from alerting.memory_store import MemoryAlertStore
    from alerting.story import Stories
    from tests.unit.test_story import RULES, histories

    client = raw(server)

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(histories())
    def check(events):
        client.flushdb()
        store = RedisAlertStore(server.url, stories=RULES)
        memory, book = MemoryAlertStore(stories=RULES), Stories(RULES)
        for e in events:
            store.publish(e)
            memory.publish(e)
        told = [book.tell(e).story for e in events]
        assert [e.story for _, e in store.catch_up()] == told
        assert [e.story for _, e in memory.catch_up()] == told
        for story in {s.id: s for s in told}.values():
            assert store.story(story.id) == memory.story(story.id)
        store.close()

    check()


def test_concurrent_publishers_never_split_or_double_a_story(server):
    import threading

    from alerting.story import StoryRules

    rules = StoryRules.of({f"p{i}": ("policy",) for i in range(8)})
    stores = [RedisAlertStore(server.url, stories=rules) for _ in range(4)]
    events = [AlertEvent(f"{entity}-1", 1, "opened", entity, entity, "partner", "warning",
                         T0, 40, 8.0, 0.7, 0.3, 5.0)
              for entity in ["policy", *(f"p{i}" for i in range(8))]]

    def publish(store: RedisAlertStore, mine: list[AlertEvent]) -> None:
        for e in mine:
            store.publish(e)

    threads = [threading.Thread(target=publish, args=(s, events[i::4]))
               for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    told = [e.story for _, e in stores[0].catch_up()]
    assert len(told) == 9
    # every incident is in exactly one story; a story's members are exactly those told in it
    ids = {e.incident_id: e.story.id for _, e in stores[0].catch_up()}
    for story_id in set(ids.values()):
        members = {m.incident_id for m in stores[0].story(story_id).members}
        assert members == {i for i, s in ids.items() if s == story_id}
    for s in stores:
        s.close()
