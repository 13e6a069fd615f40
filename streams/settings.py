"""All configuration, read once: a TOML file, then ``FIRESTORM_*`` environment variables.

This is the only module that reads the environment. Everything below the edge
gets plain values from the frozen :class:`Settings`.

Precedence, lowest first: the defaults here, the file (``--config FILE`` or
``FIRESTORM_CONFIG``), the environment, the command line. Both sources go
through the same typing and the same :meth:`Settings.validate`; an error names
where the bad value came from (``FIRESTORM_PARTITIONS`` or ``'partitions' in
firestorm.toml``) and the fix. No default points inside the installed package:
the watchlist is named, or found as ``watchlist.yaml`` in the working
directory or the config dir; data goes to ``data_dir`` or
``$XDG_STATE_HOME/firestorm``.
"""

from __future__ import annotations

import difflib
import logging
import os
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from streams.errors import ConfigError

__all__ = ["KAFKA_PROTOCOLS", "SASL_MECHANISMS", "Settings"]

KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")
# Settings that name files: in a config file they are relative to the file's folder.
_PATHS = frozenset({"watchlist", "negativity_model", "detector_params", "data_dir",
                    "notify_policy", "redis_ca", "kafka_ssl_cafile"})
_SECRET = frozenset({"pseudonym_key", "pages_token", "kafka_sasl_password", "link_key"})


@dataclass(frozen=True, slots=True)
class Settings:
    """Firestorm's settings; each field is ``FIRESTORM_<FIELD>`` in the environment
    and ``<field>`` in the config file."""

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_security_protocol: str = "PLAINTEXT"  # SSL, SASL_PLAINTEXT or SASL_SSL
    kafka_sasl_mechanism: str = "SCRAM-SHA-512"  # with SASL_*: SCRAM-SHA-256, PLAIN
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""  # a secret: environment (a Kubernetes Secret), not the file
    kafka_ssl_cafile: str = ""  # CA that signed the brokers' certificates (empty: system CAs)
    replication_factor: int = 1  # of the topics the worker creates, its changelog included
    topic_retention_hours: float = 24.0  # mentions, dead letters, observations (raw posts)
    redis_url: str = "redis://127.0.0.1:6379/0"  # rediss:// for TLS; password in the URL
    redis_ca: str = ""  # CA file to verify a rediss:// server (empty: system CAs)
    redis_stream_maxlen: int = 100_000  # events kept in firestorm:alerts:log for catch-up
    retention_days: float = 30.0  # incidents, timelines and sample posts expire after this
    app_id: str = "firestorm"
    topic_mentions: str = "mentions"
    topic_dead: str = "mentions-dead"
    topic_observations: str = "firestorm-observations"
    partitions: int = 1
    watchlist: str = ""  # empty: watchlist.yaml in the working dir, then in the config dir
    negativity_model: str = ""  # empty: the model shipped in models/artefacts
    detector_params: str = ""  # YAML file of detector parameters (empty: the defaults)
    pseudonym_key: str = ""  # empty: a development key, with a warning at start
    reach_threshold: int = 10_000  # followers at which an account is shown by name
    batch_size: int = 500
    batch_wait: float = 0.5  # seconds to wait for a batch to fill
    fetch_max_wait: float = 0.1  # seconds a Kafka fetch may wait for data (faust: 1.5)
    # Entity states judged by several detect batches are written to the changelog once,
    # about this long after the first of them (0: after every batch); their messages
    # are acked only then. Alerts go out with each batch whatever this is.
    state_flush_seconds: float = 1.0
    lateness_seconds: float = 5.0  # how far a mention may trail its partition's newest
    idle_seconds: float = 30.0  # a caught-up partition quiet this long stops holding minutes
    data_dir: str = ""  # empty: $XDG_STATE_HOME/firestorm (~/.local/state/firestorm)
    web_host: str = "127.0.0.1"  # the worker's Faust web server (health, metrics)
    web_port: int = 6066
    pages_host: str = "127.0.0.1"  # incident timeline pages (firestorm pages)
    pages_port: int = 8088
    pages_token: str = ""  # access token the pages require; pages refuse to start without
    notify_policy: str = ""  # escalation policy YAML for `firestorm notify`
    heartbeat_seconds: float = 5.0  # how often the worker writes its heartbeat to Redis
    silent_after: float = 30.0  # seconds without a heartbeat before readers say "silent"
    story_window: float = 1800.0  # seconds a calm incident still gathers linked ones
    link_key: str = ""  # signs /ack/ and /feedback/ links (notify) and checks them (pages)
    notify_host: str = "127.0.0.1"  # firestorm notify's health and metrics
    notify_port: int = 6067
    log_level: str = "info"
    log_format: str = "text"  # or json: one JSON object a line, for log collectors
    config_dir: str = ""  # where a watchlist.yaml is looked for (the config file's folder)
    # Fail-stop: how often a message may crash the worker before it is dead-lettered.
    max_attempts: int = 3
    # Consumer group: seconds before a silent worker's partitions go to another one, and
    # this worker's static member id (empty: one kept in the data dir, see instance_id_path).
    session_timeout: float = 10.0
    instance_id: str = ""
    test_poison: str = ""  # tests only: a marker that makes the pure steps raise (models/faults)
    # Where each value came from, for error messages: field -> "FIRESTORM_X" or "'x' in F".
    origins: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)

    def configure_logging(self) -> None:
        """key=value lines (or JSON objects) on stderr at the configured level."""
        from streams.logs import configure

        configure(self.log_level, self.log_format)

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

    def watchlist_path(self, explicit: str | None = None) -> Path:
        """The watchlist to use: ``explicit`` (a --watchlist flag), the setting, or a
        ``watchlist.yaml`` in the working directory, then in the config dir."""
        if explicit or self.watchlist:
            return Path(explicit or self.watchlist)
        candidates = [Path.cwd() / "watchlist.yaml"]
        if self.config_dir:
            candidates.append(Path(self.config_dir) / "watchlist.yaml")
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise ConfigError(
            "no watchlist: pass --watchlist FILE, set FIRESTORM_WATCHLIST (or 'watchlist' in"
            " the config file), or put a watchlist.yaml in "
            + " or ".join(str(c.parent) for c in candidates)
            + " (the format is in README.md, 'Watchlist')")

    def where(self, name: str) -> str:
        """How the user set ``name``: the variable, or the key and its file."""
        return dict(self.origins).get(name, f"FIRESTORM_{name.upper()}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment alone (and the file FIRESTORM_CONFIG names)."""
        return cls.load(env)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, config: str | None = None) -> Settings:
        """Defaults, then the TOML file (``config`` or FIRESTORM_CONFIG), then the environment.

        Bad values raise ConfigError naming the variable or the file's key.
        """
        env = os.environ if env is None else env
        defaults = cls()
        values: dict[str, Any] = {}
        origins: dict[str, str] = {}
        config = config or env.get("FIRESTORM_CONFIG") or None
        config_dir = ""
        if config is not None:
            path = Path(config).expanduser()
            config_dir = str(path.resolve().parent)
            for name, value in _read_toml(path, defaults).items():
                values[name] = value
                origins[name] = f"{name!r} in {path}"
        else:
            xdg = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")) / ".config")
            config_dir = str(Path(xdg).expanduser() / "firestorm")
        for f in _fields():
            var = f"FIRESTORM_{f.upper()}"
            if var in env:
                values[f] = _typed(var, env[var], getattr(defaults, f))
                origins[f] = var
        if not values.get("config_dir"):
            values["config_dir"] = config_dir
        if not values.get("data_dir"):
            state = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", "~")) / ".local"
                                                     / "state")
            values["data_dir"] = str(Path(state).expanduser() / "firestorm")
        settings = replace(defaults, **values, origins=tuple(origins.items()))
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ConfigError naming the variable (or config key) and the fix."""
        w = self.where
        if self.partitions < 1:
            raise ConfigError(f"{w('partitions')} must be >= 1")
        if self.replication_factor < 1:
            raise ConfigError(f"{w('replication_factor')} must be >= 1 (3 on a production"
                              " cluster, 1 on the local single broker)")
        if self.topic_retention_hours <= 0:
            raise ConfigError(f"{w('topic_retention_hours')} must be > 0 hours (try 24)")
        if self.batch_size < 1:
            raise ConfigError(f"{w('batch_size')} must be >= 1 (try 500)")
        if self.lateness_seconds < 0:
            raise ConfigError(f"{w('lateness_seconds')} must be >= 0 seconds (try 5)")
        if self.idle_seconds <= 0:
            raise ConfigError(f"{w('idle_seconds')} must be > 0 seconds (try 30)")
        if self.batch_wait <= 0:
            raise ConfigError(f"{w('batch_wait')} must be > 0 seconds (try 0.5)")
        if not 0 <= self.state_flush_seconds <= 60:
            raise ConfigError(f"{w('state_flush_seconds')} must be >= 0 and <= 60 seconds"
                              " (try 1; 0 writes the states after every batch)")
        if not 0 < self.fetch_max_wait <= 30:
            raise ConfigError(f"{w('fetch_max_wait')} must be > 0 and <= 30 seconds"
                              " (try 0.1)")
        if self.redis_stream_maxlen < 1:
            raise ConfigError(f"{w('redis_stream_maxlen')} must be >= 1 (try 100000)")
        if self.retention_days <= 0:
            raise ConfigError(f"{w('retention_days')} must be > 0 (try 30)")
        if self.reach_threshold < 0:
            raise ConfigError(f"{w('reach_threshold')} must be >= 0 followers")
        for name in ("web_port", "pages_port", "notify_port"):
            if not 0 < getattr(self, name) < 65536:
                raise ConfigError(f"{w(name)} must be a port, 1-65535")
        if not self.redis_url.startswith(("redis://", "rediss://", "unix://", "memory://")):
            raise ConfigError(
                f"{w('redis_url')} must start with redis://, rediss:// (TLS), unix://"
                f" or memory://, got {self.redis_url!r}")
        if ":" not in self.kafka_bootstrap:
            raise ConfigError(
                f"{w('kafka_bootstrap')} must be host:port[,host:port], got"
                f" {self.kafka_bootstrap!r}")
        if self.max_attempts < 1:
            raise ConfigError(f"{w('max_attempts')} must be >= 1 (try 3): a message that"
                              " crashes the worker this often is dead-lettered")
        if not 6 <= self.session_timeout <= 300:
            raise ConfigError(f"{w('session_timeout')} must be 6 to 300 seconds (try 10):"
                              " Kafka refuses less than 6 by default")
        for name in ("heartbeat_seconds", "silent_after"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{w(name)} must be > 0 seconds"
                                  f" (default {getattr(Settings(), name):g})")
        if self.silent_after < 2 * self.heartbeat_seconds:
            raise ConfigError(
                f"{w('silent_after')}={self.silent_after:g} must be at least twice"
                f" {w('heartbeat_seconds')}={self.heartbeat_seconds:g}, or one late beat"
                " reads as a dead worker (try 30 and 5)")
        if self.story_window < 0:
            raise ConfigError(f"{w('story_window')} must be >= 0 seconds (default 1800)")
        if self.kafka_security_protocol not in KAFKA_PROTOCOLS:
            raise ConfigError(f"{w('kafka_security_protocol')} must be one of"
                              f" {', '.join(KAFKA_PROTOCOLS)}, got"
                              f" {self.kafka_security_protocol!r}")
        if self.kafka_sasl_mechanism not in SASL_MECHANISMS:
            raise ConfigError(f"{w('kafka_sasl_mechanism')} must be one of"
                              f" {', '.join(SASL_MECHANISMS)}")
        # Credentials and the CA file are checked when a Kafka client is made
        # (streams.kafka_client): pages and notify never talk to Kafka.
        if self.log_level.lower() not in ("debug", "info", "warning", "error"):
            raise ConfigError(f"{w('log_level')} must be debug, info, warning or error")
        if self.log_format not in ("text", "json"):
            raise ConfigError(f"{w('log_format')} must be text or json")
        if self.link_key and len(self.link_key) < 32:
            raise ConfigError(
                f"{w('link_key')} is {len(self.link_key)} characters; use at least 32 random"
                " ones (python3 -c 'import secrets; print(secrets.token_urlsafe(32))'), the same"
                " for firestorm notify and firestorm pages")
        topics = (self.topic_mentions, self.topic_dead, self.topic_observations)
        if len(set(topics)) != len(topics):
            raise ConfigError("FIRESTORM_TOPIC_*: the mentions, dead-letter and observations"
                              " topics must be three different topics")

    def describe(self) -> dict[str, Any]:
        """Every setting with secrets masked: what ``firestorm config`` prints."""
        return {f: ("***" if f in _SECRET and getattr(self, f) else getattr(self, f))
                for f in _fields()}


def _fields() -> list[str]:
    return [f.name for f in fields(Settings) if f.name != "origins"]


def _typed(where: str, raw: str, default: object) -> object:
    """An environment string as the type of the field's default."""
    kind = type(default)
    if kind is str:
        return raw
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(
            f"{where}={raw!r}: must be {'an integer' if kind is int else 'a number'}"
            f" (default {default!r})") from None


def _read_toml(path: Path, defaults: Settings) -> dict[str, Any]:
    """The file's settings, typed like the defaults; paths made relative to its folder."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} not found: check --config or"
                          " FIRESTORM_CONFIG") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {str(path)!r} is not UTF-8 text: save it as UTF-8"
                          ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
    known = _fields()
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known or key in ("origins", "config_dir"):
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            if isinstance(value, dict):
                hint += "; settings are top-level keys, no [sections]"
            raise ConfigError(f"{path}: unknown setting {key!r}{hint}")
        default = getattr(defaults, key)
        if isinstance(default, bool) or not isinstance(value, (str, int, float)) or isinstance(
                value, bool):
            raise ConfigError(f"{key!r} in {path}: must be {_kind(default)}, got {value!r}")
        if isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{key!r} in {path}: must be a string (in quotes), got {value!r}")
        if isinstance(default, int) and not isinstance(value, int):
            raise ConfigError(f"{key!r} in {path}: must be an integer, got {value!r}")
        if isinstance(default, float) and isinstance(value, str):
            raise ConfigError(f"{key!r} in {path}: must be a number, got {value!r}")
        if isinstance(default, float):
            value = float(value)
        if key in _PATHS and value:
            value = str((path.parent / Path(value).expanduser()).resolve())
        if key in _SECRET and value:
            logging.getLogger("firestorm.settings").warning(
                "%s holds the secret %r: keep secrets in the environment (a Kubernetes"
                " Secret), not in a file", path, key)
        out[key] = value
    return out


def _kind(default: object) -> str:
    return {str: "a string", int: "an integer", float: "a number"}.get(type(default), "a value")
