"""Settings: read once from FIRESTORM_*; a bad value names the variable and the fix."""

from pathlib import Path

import pytest

from streams.errors import ConfigError
from streams.settings import Settings


def test_defaults_need_no_environment():
    s = Settings.from_env({})
    assert (s.kafka_bootstrap, s.topic_mentions, s.topic_dead) == (
        "127.0.0.1:9092", "mentions", "mentions-dead")
    assert s.web_host == "127.0.0.1"  # never exposed beyond the host by default


def test_values_are_typed_from_the_environment():
    s = Settings.from_env({"FIRESTORM_PARTITIONS": "4", "FIRESTORM_BATCH_WAIT": "0.1",
                           "FIRESTORM_REDIS_URL": "rediss://:pw@redis.internal:6380/0"})
    assert (s.partitions, s.batch_wait, s.redis_url.startswith("rediss://")) == (4, 0.1, True)
    assert Settings.from_env({"FIRESTORM_STATE_FLUSH_SECONDS": "0"}).state_flush_seconds == 0.0


@pytest.mark.parametrize(("env", "message"), [
    ({"FIRESTORM_PARTITIONS": "many"}, "FIRESTORM_PARTITIONS='many': must be an integer"),
    ({"FIRESTORM_PARTITIONS": "0"}, "FIRESTORM_PARTITIONS must be >= 1"),
    ({"FIRESTORM_BATCH_WAIT": "-1"}, "FIRESTORM_BATCH_WAIT must be > 0"),
    ({"FIRESTORM_FETCH_MAX_WAIT": "0"}, "FIRESTORM_FETCH_MAX_WAIT must be > 0 and <= 30"),
    ({"FIRESTORM_STATE_FLUSH_SECONDS": "-0.5"},
     "FIRESTORM_STATE_FLUSH_SECONDS must be >= 0 and <= 60 seconds (try 1; 0 writes"),
    ({"FIRESTORM_STATE_FLUSH_SECONDS": "soon"}, "FIRESTORM_STATE_FLUSH_SECONDS='soon'"),
    ({"FIRESTORM_REDIS_URL": "localhost:6379"}, "FIRESTORM_REDIS_URL must start with"),
    ({"FIRESTORM_KAFKA_BOOTSTRAP": "localhost"}, "FIRESTORM_KAFKA_BOOTSTRAP must be host:port"),
    ({"FIRESTORM_LOG_LEVEL": "loud"}, "FIRESTORM_LOG_LEVEL must be"),
    ({"FIRESTORM_TOPIC_DEAD": "mentions"}, "must be three different topics"),
])
def test_bad_values_name_the_variable_and_the_fix(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        Settings.from_env(env)


def test_policy_secrets_are_read_by_name_and_only_when_present():
    env = {"SLACK_URL": "https://hooks.example/x", "OTHER": "y"}
    assert Settings.secrets(["SLACK_URL", "MISSING"], env) == {
        "SLACK_URL": "https://hooks.example/x"}


# ---------------------------------------------------------------- a config file

def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_a_config_file_sets_values_and_the_environment_overrides_it(tmp_path):
    config = write(tmp_path / "firestorm.toml",
                   'kafka_bootstrap = "kafka-0:9093,kafka-1:9093"\npartitions = 6\n'
                   'batch_wait = 1\nlog_format = "json"\n')
    s = Settings.load({"FIRESTORM_PARTITIONS": "12"}, config=str(config))
    assert (s.kafka_bootstrap, s.partitions, s.batch_wait, s.log_format) == (
        "kafka-0:9093,kafka-1:9093", 12, 1.0, "json")
    assert Settings.load({"FIRESTORM_CONFIG": str(config)}).partitions == 6


def test_paths_in_a_config_file_are_relative_to_the_file(tmp_path):
    (tmp_path / "conf").mkdir()
    config = write(tmp_path / "conf" / "firestorm.toml",
                   'watchlist = "lists/w.yaml"\ndata_dir = "../state"\n')
    s = Settings.load({}, config=str(config))
    assert s.watchlist == str(tmp_path / "conf" / "lists" / "w.yaml")
    assert s.data_dir == str(tmp_path / "state")


@pytest.mark.parametrize(("text", "message"), [
    ("partitons = 3\n", r"unknown setting 'partitons' \(did you mean 'partitions'\?\)"),
    ("[kafka]\nbootstrap = 'x:1'\n", "settings are top-level keys, no [sections]"),
    ('partitions = "3"\n', "'partitions' in .*: must be an integer, got '3'"),
    ("batch_wait = 'soon'\n", "'batch_wait' in .*: must be a number"),
    ("redis_url = 6379\n", "'redis_url' in .*: must be a string"),
    ("partitions = 0\n", "'partitions' in .*firestorm.toml must be >= 1"),
    ("partitions = \n", "is not valid TOML"),
])
def test_a_bad_config_file_names_the_file_the_key_and_the_fix(tmp_path, text, message):
    config = write(tmp_path / "firestorm.toml", text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        Settings.load({}, config=str(config))


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"config file .*nope.toml' not found"):
        Settings.load({"FIRESTORM_CONFIG": str(tmp_path / "nope.toml")})


# ---------------------------------------------------------------- nothing inside the package

def test_no_default_points_inside_the_package(tmp_path):
    s = Settings.load({"HOME": str(tmp_path / "home")})
    assert s.watchlist == ""
    assert s.data_dir == str(tmp_path / "home" / ".local" / "state" / "firestorm")
    assert Settings.load({"XDG_STATE_HOME": str(tmp_path / "st")}).data_dir == str(
        tmp_path / "st" / "firestorm")


def test_the_watchlist_is_found_in_the_working_dir_then_the_config_dir(tmp_path, monkeypatch):
    work, config_home = tmp_path / "work", tmp_path / "config"
    work.mkdir()
    (config_home / "firestorm").mkdir(parents=True)
    monkeypatch.chdir(work)
    s = Settings.load({"XDG_CONFIG_HOME": str(config_home)})
    with pytest.raises(ConfigError, match="no watchlist: pass --watchlist FILE"):
        s.watchlist_path()
    write(config_home / "firestorm" / "watchlist.yaml", "entities: []\n")
    assert s.watchlist_path() == config_home / "firestorm" / "watchlist.yaml"
    write(work / "watchlist.yaml", "entities: []\n")
    assert s.watchlist_path() == work / "watchlist.yaml"
    assert s.watchlist_path("other.yaml") == Path("other.yaml")  # a flag wins


# ---------------------------------------------------------------- a secure cluster

def test_sasl_needs_a_user_and_password_and_a_known_mechanism():
    from streams.kafka_client import kafka_python_options

    sasl = Settings.from_env({"FIRESTORM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"})  # pages: fine
    with pytest.raises(ConfigError, match="needs FIRESTORM_KAFKA_SASL_USERNAME"):
        kafka_python_options(sasl)  # a Kafka client: not without credentials
    with pytest.raises(ConfigError, match="FIRESTORM_KAFKA_SASL_MECHANISM must be one of"):
        Settings.from_env({"FIRESTORM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                           "FIRESTORM_KAFKA_SASL_MECHANISM": "MD5",
                           "FIRESTORM_KAFKA_SASL_USERNAME": "u",
                           "FIRESTORM_KAFKA_SASL_PASSWORD": "p"})
    with pytest.raises(ConfigError, match="FIRESTORM_KAFKA_SECURITY_PROTOCOL must be one of"):
        Settings.from_env({"FIRESTORM_KAFKA_SECURITY_PROTOCOL": "TLS"})


def test_kafka_client_options_carry_tls_and_scram():
    from streams.kafka_client import kafka_python_options

    s = Settings.from_env({"FIRESTORM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                           "FIRESTORM_KAFKA_SASL_USERNAME": "firestorm",
                           "FIRESTORM_KAFKA_SASL_PASSWORD": "pw",
                           "FIRESTORM_KAFKA_BOOTSTRAP": "a:9093,b:9093"})
    options = kafka_python_options(s)
    assert options["bootstrap_servers"] == ["a:9093", "b:9093"]
    assert (options["security_protocol"], options["sasl_mechanism"],
            options["sasl_plain_username"]) == ("SASL_SSL", "SCRAM-SHA-512", "firestorm")
    assert options["ssl_context"].check_hostname  # verifies the broker's name
    assert "ssl_context" not in kafka_python_options(Settings.from_env({}))


def test_topic_retention_and_replication_come_from_settings():
    from streams.topics import topic_configs

    s = Settings.from_env({"FIRESTORM_TOPIC_RETENTION_HOURS": "72",
                           "FIRESTORM_REPLICATION_FACTOR": "3"})
    assert topic_configs(s) == {"retention.ms": str(72 * 3_600_000),
                                "min.insync.replicas": "2"}
    with pytest.raises(ConfigError, match="FIRESTORM_REPLICATION_FACTOR must be >= 1"):
        Settings.from_env({"FIRESTORM_REPLICATION_FACTOR": "0"})


def test_secrets_are_masked_when_settings_are_shown():
    s = Settings.from_env({"FIRESTORM_PAGES_TOKEN": "x" * 20, "FIRESTORM_PARTITIONS": "2"})
    shown = s.describe()
    assert shown["pages_token"] == "***" and shown["partitions"] == 2
