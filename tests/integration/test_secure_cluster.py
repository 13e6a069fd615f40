"""The whole path over TLS with SCRAM logins: the local broker's SASL_SSL listener
(deploy/local/kafka.sh, FIRESTORM_KAFKA_SASL_SSL_PORT; `make test` turns it on).

The worker, ``firestorm produce`` and ``firestorm ack`` connect only to the secure
port; the topics the worker creates get the retention and replication of the settings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from streams.kafka_client import kafka_python_options
from streams.settings import Settings
from tests.integration.support import firestorm, wait_for


@pytest.fixture
def secure_env(stream_env: dict[str, str]) -> dict[str, str]:
    """stream_env, with the client settings kafka.sh wrote for its SASL_SSL listener."""
    client_env = Path(os.environ.get("FIRESTORM_STACK_DIR", ".stack")) / "kafka/tls/client.env"
    if not client_env.is_file():
        pytest.fail(f"no SASL_SSL listener ({client_env} missing): run the tests with `make"
                    " test`, or start the stack with FIRESTORM_KAFKA_SASL_SSL_PORT set")
    settings = dict(line.split("=", 1) for line in client_env.read_text().splitlines()
                    if line and not line.startswith("#"))
    assert settings["FIRESTORM_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    return {**stream_env, **settings, "FIRESTORM_TOPIC_RETENTION_HOURS": "6"}


def test_worker_produce_and_ack_over_sasl_ssl(secure_env, start_worker, tmp_path):
    good = [json.dumps({"id": f"s{i}", "ts": 1.767e9 + i, "platform": "news", "author": "a",
                        "text": "acme stores opens"}).encode() for i in range(30)]
    stream = [b"not json", *good, b"[1]"]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(stream) + b"\n")
    worker = start_worker(secure_env)  # joins its group and creates its topics over SASL_SSL

    produced = firestorm("produce", "-i", str(tmp_path / "in.jsonl"), env=secure_env)
    assert produced.returncode == 0, produced.stderr.decode()
    assert secure_env["FIRESTORM_KAFKA_BOOTSTRAP"].encode() in produced.stderr
    health = wait_for(lambda: (h := worker.health()) and h["received"] == len(stream) and h,
                      120, f"the worker to take in {len(stream)} messages over SASL_SSL")
    assert (health["accepted"], health["dead"]) == (len(good), 2)

    # The ack goes to the worker over SASL_SSL and its answer comes back (through Redis):
    # no such incident (exit 4, as docs/alerts.md says).
    acked = firestorm("ack", "acme-stores-20000101T000000Z", "--by", "duty",
                      env=secure_env)
    assert acked.returncode == 4, acked.stderr.decode()
    assert b"UNKNOWN INCIDENT" in acked.stdout + acked.stderr

    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    settings = Settings.from_env(secure_env)
    admin = KafkaAdminClient(**kafka_python_options(settings))
    try:
        described = admin.describe_configs([ConfigResource(
            ConfigResourceType.TOPIC, settings.topic_mentions, ["retention.ms"])])
    finally:
        admin.close()
    # kafka-python 3: {"topic": {name: {config: {"value": ...}}}}
    retention = described["topic"][settings.topic_mentions]["retention.ms"]["value"]
    assert retention == str(6 * 3_600_000)


def test_a_wrong_password_is_refused_with_what_to_check(secure_env, tmp_path):
    (tmp_path / "in.jsonl").write_bytes(b'{"id": "x"}\n')
    done = firestorm("produce", "-i", str(tmp_path / "in.jsonl"),
                     env={**secure_env, "FIRESTORM_KAFKA_SASL_PASSWORD": "not-the-password"},
                     timeout=120)
    assert done.returncode == 1
    assert b"FIRESTORM_KAFKA_SASL_PASSWORD" in done.stderr
    assert b"Traceback" not in done.stderr
