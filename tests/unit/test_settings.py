"""Settings: read once from FIRESTORM_*; a bad value names the variable and the fix."""

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


@pytest.mark.parametrize(("env", "message"), [
    ({"FIRESTORM_PARTITIONS": "many"}, "FIRESTORM_PARTITIONS='many': must be an integer"),
    ({"FIRESTORM_PARTITIONS": "0"}, "FIRESTORM_PARTITIONS must be >= 1"),
    ({"FIRESTORM_BATCH_WAIT": "-1"}, "FIRESTORM_BATCH_WAIT must be > 0"),
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
