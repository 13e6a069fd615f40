"""Readiness and smoke checks for the local Kafka broker (deploy/local).

Used by kafka.sh; needs only kafka-python. Not part of the firestorm package.

    python kafka_check.py ready --bootstrap 127.0.0.1:9092
        one real metadata call (DescribeCluster); exit 0 when it answers.
    python kafka_check.py smoke --bootstrap 127.0.0.1:9092
        produce one message to a fresh topic and consume it back.
    python kafka_check.py scram --bootstrap 127.0.0.1:9092 --client-env tls/client.env
        give the SCRAM user of client.env its password (through the plain listener),
        then make one metadata call over SASL_SSL with client.env's settings.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import uuid


def _ready(bootstrap: str, timeout_s: float) -> int:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="firestorm-local-ready",
        request_timeout_ms=int(timeout_s * 1000),
    )
    try:
        info = admin.describe_cluster()
    finally:
        admin.close()
    # kafka-python 2.x names the id "node_id", 3.x "broker_id".
    brokers = ",".join(
        f"{b.get('broker_id', b.get('node_id'))}@{b['host']}:{b['port']}" for b in info["brokers"]
    )
    if not info["brokers"]:
        print("no brokers in metadata yet", file=sys.stderr)
        return 1
    print(f"cluster_id={info['cluster_id']} controller={info['controller_id']} brokers={brokers}")
    return 0


def _smoke(bootstrap: str, timeout_s: float) -> int:
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

    topic = f"firestorm-smoke-{uuid.uuid4().hex[:8]}"
    payload = f"hello {time.time()}".encode()
    started = time.monotonic()
    # auto.create.topics.enable=false: the topic is made explicitly, as the worker does.
    admin = KafkaAdminClient(bootstrap_servers=bootstrap,
                             request_timeout_ms=int(timeout_s * 1000))
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    try:
        meta = producer.send(topic, key=b"k", value=payload).get(timeout=timeout_s)
    finally:
        producer.close()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"{topic}-group",
        auto_offset_reset="earliest",
        enable_auto_commit=True,
        consumer_timeout_ms=int(timeout_s * 1000),
    )
    try:
        for msg in consumer:
            if msg.value == payload:
                took = time.monotonic() - started
                print(
                    f"smoke ok: topic={topic} partition={meta.partition} "
                    f"offset={meta.offset} round-trip={took:.2f}s"
                )
                return 0
    finally:
        consumer.close()
    print(f"smoke FAILED: nothing read back from {topic} in {timeout_s}s", file=sys.stderr)
    return 1


def _scram(bootstrap: str, client_env: str, timeout_s: float) -> int:
    import ssl

    from kafka import KafkaAdminClient
    from kafka.admin import ScramMechanism, UserScramCredentialUpsertion

    with open(client_env) as lines:
        env = dict(line.rstrip("\n").split("=", 1) for line in lines
                   if line.strip() and not line.startswith("#"))
    user, password = env["FIRESTORM_KAFKA_SASL_USERNAME"], env["FIRESTORM_KAFKA_SASL_PASSWORD"]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="firestorm-local-scram",
                             request_timeout_ms=int(timeout_s * 1000))
    errors = {}
    try:
        for mechanism in (ScramMechanism.SCRAM_SHA_512, ScramMechanism.SCRAM_SHA_256):
            # One credential per request: Kafka refuses two alterations of a user at once.
            errors.update({k: v for k, v in admin.alter_user_scram_credentials([
                UserScramCredentialUpsertion(user, mechanism, password, iterations=4096)
            ]).items() if v})
    finally:
        admin.close()
    if errors:
        print(f"setting the SCRAM password of {user!r} failed: {errors}", file=sys.stderr)
        return 1
    context = ssl.create_default_context(cafile=env["FIRESTORM_KAFKA_SSL_CAFILE"])
    # SCRAM credentials reach the listener through the metadata log: retry briefly.
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            secure = KafkaAdminClient(
                bootstrap_servers=env["FIRESTORM_KAFKA_BOOTSTRAP"],
                security_protocol="SASL_SSL", ssl_context=context,
                sasl_mechanism=env["FIRESTORM_KAFKA_SASL_MECHANISM"],
                sasl_plain_username=user, sasl_plain_password=password,
                client_id="firestorm-local-sasl-check", request_timeout_ms=5000)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        info = secure.describe_cluster()
    finally:
        secure.close()
    print(f"user {user} logged in with {env['FIRESTORM_KAFKA_SASL_MECHANISM']} over TLS,"
          f" cluster_id={info['cluster_id']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["ready", "smoke", "scram"])
    parser.add_argument("--client-env", help="scram: the client settings file kafka.sh wrote")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per call")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)  # kafka-python is noisy while connecting
    try:
        if args.mode == "ready":
            return _ready(args.bootstrap, args.timeout)
        if args.mode == "scram":
            return _scram(args.bootstrap, args.client_env, args.timeout)
        return _smoke(args.bootstrap, args.timeout)
    except Exception as exc:  # report any client error as "not ready"
        print(f"{args.mode} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
