"""All configuration, read once from ``FIRESTORM_*`` environment variables.

This is the only module that reads the environment. Everything below the edge
gets plain values from the frozen :class:`Settings`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from streams.errors import ConfigError

__all__ = ["Settings"]

_REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Settings:
    """Firestorm's settings; each field is ``FIRESTORM_<FIELD>`` in the environment."""

    kafka_bootstrap: str = "127.0.0.1:9092"
    redis_url: str = "redis://127.0.0.1:6379/0"  # rediss:// for TLS; password in the URL
    redis_ca: str = ""  # CA file to verify a rediss:// server (empty: system CAs)
    redis_stream_maxlen: int = 100_000  # events kept in firestorm:alerts:log for catch-up
    retention_days: float = 30.0  # incidents, timelines and sample posts expire after this
    app_id: str = "firestorm"
    topic_mentions: str = "mentions"
    topic_dead: str = "mentions-dead"
    topic_observations: str = "firestorm-observations"
    partitions: int = 1
    watchlist: str = str(_REPO / "deploy" / "examples" / "watchlist.yaml")
    negativity_model: str = ""  # empty: the model shipped in models/artefacts
    pseudonym_key: str = ""  # empty: a development key, with a warning at start
    reach_threshold: int = 10_000  # followers at which an account is shown by name
    batch_size: int = 500
    batch_wait: float = 0.5  # seconds to wait for a batch to fill
    data_dir: str = str(_REPO / ".stack" / "worker")
    web_host: str = "127.0.0.1"  # the worker's Faust web server (health)
    web_port: int = 6066
    pages_host: str = "127.0.0.1"  # incident timeline pages (firestorm pages)
    pages_port: int = 8088
    pages_token: str = ""  # access token the pages require; pages refuse to start without
    notify_policy: str = ""  # escalation policy YAML for `firestorm notify`
    link_key: str = ""  # signs /ack/ and /feedback/ links (notify) and checks them (pages)
    log_level: str = "info"
    # Fail-stop: how often a message may crash the worker before it is dead-lettered.
    max_attempts: int = 3
    # Consumer group: seconds before a silent worker's partitions go to another one, and
    # this worker's static member id (empty: one kept in the data dir, see instance_id_path).
    session_timeout: float = 10.0
    instance_id: str = ""
    test_poison: str = ""  # tests only: a marker that makes the pure steps raise (models/faults)

    def configure_logging(self) -> None:
        """key=value lines on stderr at the configured level, for every long-running command."""
        logging.basicConfig(level=self.log_level.upper(), stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s %(message)s")

    @staticmethod
    def secrets(names: Collection[str], env: Mapping[str, str] | None = None) -> dict[str, str]:
        """Values of the ``${NAME}`` secrets a policy file names (webhook URLs, SMTP passwords).

        Secrets stay out of files and out of this object; they are read here, on demand.
        """
        env = os.environ if env is None else env
        return {name: env[name] for name in names if name in env}

    @property
    def attempts_path(self) -> str:
        """Where the worker records messages that crashed it (and how often), durably."""
        return str(Path(self.data_dir) / "attempts.json")

    @property
    def instance_id_path(self) -> str:
        """Where a worker keeps its static group member id when none is configured."""
        return str(Path(self.data_dir) / "instance-id")

    @property
    def outbox_path(self) -> str:
        """Where undelivered alert events wait (and survive a restart) while Redis is down."""
        return str(Path(self.data_dir) / "outbox.jsonl")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); bad values raise ConfigError."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            name = f"FIRESTORM_{f.name.upper()}"
            if name not in env:
                continue
            raw = env[name]
            kind = type(getattr(cls(), f.name))
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise ConfigError(
                    f"{name}={raw!r}: must be {'an integer' if kind is int else 'a number'}"
                    f" (default {getattr(cls(), f.name)!r})") from None
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ConfigError naming the variable and the fix."""
        if self.partitions < 1:
            raise ConfigError("FIRESTORM_PARTITIONS must be >= 1")
        if self.batch_size < 1:
            raise ConfigError("FIRESTORM_BATCH_SIZE must be >= 1 (try 500)")
        if self.batch_wait <= 0:
            raise ConfigError("FIRESTORM_BATCH_WAIT must be > 0 seconds (try 0.5)")
        if self.redis_stream_maxlen < 1:
            raise ConfigError("FIRESTORM_REDIS_STREAM_MAXLEN must be >= 1 (try 100000)")
        if self.retention_days <= 0:
            raise ConfigError("FIRESTORM_RETENTION_DAYS must be > 0 (try 30)")
        if self.reach_threshold < 0:
            raise ConfigError("FIRESTORM_REACH_THRESHOLD must be >= 0 followers")
        if not self.redis_url.startswith(("redis://", "rediss://", "unix://", "memory://")):
            raise ConfigError(
                "FIRESTORM_REDIS_URL must start with redis://, rediss:// (TLS), unix://"
                f" or memory://, got {self.redis_url!r}")
        if ":" not in self.kafka_bootstrap:
            raise ConfigError(
                f"FIRESTORM_KAFKA_BOOTSTRAP must be host:port[,host:port], got"
                f" {self.kafka_bootstrap!r}")
        if self.max_attempts < 1:
            raise ConfigError("FIRESTORM_MAX_ATTEMPTS must be >= 1 (try 3): a message that"
                              " crashes the worker this often is dead-lettered")
        if not 6 <= self.session_timeout <= 300:
            raise ConfigError("FIRESTORM_SESSION_TIMEOUT must be 6 to 300 seconds (try 10):"
                              " Kafka refuses less than 6 by default")
        if self.log_level.lower() not in ("debug", "info", "warning", "error"):
            raise ConfigError("FIRESTORM_LOG_LEVEL must be debug, info, warning or error")
        if self.link_key and len(self.link_key) < 32:
            raise ConfigError(
                f"FIRESTORM_LINK_KEY is {len(self.link_key)} characters; use at least 32 random"
                " ones (python3 -c 'import secrets; print(secrets.token_urlsafe(32))'), the same"
                " for firestorm notify and firestorm pages")
        topics = (self.topic_mentions, self.topic_dead, self.topic_observations)
        if len(set(topics)) != len(topics):
            raise ConfigError("FIRESTORM_TOPIC_*: the mentions, dead-letter and observations"
                              " topics must be three different topics")
