"""Total decoding (issue 9): whatever a Kafka message carries is a mention every later
stage can handle, or a rejection with a reason; and hostile mentions go the whole way,
from the decoder to the alert store, without an exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from alerting.event import AlertEvent
from alerting.memory_store import MemoryAlertStore
from models.mention import (
    MAX_FIELD_CHARS,
    MAX_FOLLOWERS,
    TOMBSTONE_REASON,
    Mention,
    Rejection,
    decode,
)
from tests.hostile import NOW, full_path, hostile_mentions, kafka_values, storm

GOOD = {"id": "t1", "ts": NOW - 60, "platform": "twitter", "author": "@someone",
        "text": "Scrap #workfare now"}


def encode(**changes) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()  # ASCII: a surrogate stays an escape


def number(field: str, literal: bytes) -> bytes:
    """A mention whose ``field`` is the JSON number ``literal`` as written (1e400 is valid
    JSON; Python reads it as infinity, and would write it back as Infinity, which is not)."""
    return encode(**{field: 0}).replace(f'"{field}": 0'.encode(), f'"{field}": '.encode()
                                        + literal)


@pytest.mark.parametrize(("raw", "reason"), [
    (None, TOMBSTONE_REASON),
    (b"", "empty message: no bytes"),
    (b"\xef\xbb\xbf" + encode(), "not valid JSON: starts with a byte order mark (BOM)"),
    (encode(author="@u\ud800x").replace(b"\\ud800", b"\xed\xa0\x80"),  # raw, not escaped
     "not UTF-8: invalid byte at position"),
    (b'{"id": "1", "n": ' + b"9" * 5000 + b"}",
     "not valid JSON: a number of more than 4300 digits"),
    (encode(author_followers=10**400), "field 'author_followers' is over 10,000,000,000"),
    (encode(author_followers=MAX_FOLLOWERS + 1), "more than there are people"),
    (number("author_followers", b"1e400"), "must be an integer >= 0"),
    (number("ts", b"1e400"), "field 'ts' must be a finite number"),
    (number("ts", b"-1e400"), "field 'ts' must be a finite number"),
    (encode(ts=10**400), "field 'ts' is too large to be epoch seconds"),
    (encode(author="@" + "a" * MAX_FIELD_CHARS), "field 'author' is 2049 characters, over"),
    (encode(url="u" * (MAX_FIELD_CHARS + 1)), "field 'url' is 2049 characters"),
    (encode(id="i" * (MAX_FIELD_CHARS + 1)), "field 'id' is 2049 characters"),
])
def test_what_cannot_be_a_mention_is_rejected_with_its_reason_and_value(raw, reason):
    result = decode(raw, now=NOW)
    assert isinstance(result, Rejection)
    assert result.reason.startswith(reason) or reason in result.reason
    assert result.raw == raw  # untouched; None stays None (a tombstone)


@pytest.mark.parametrize(("changes", "field", "expected"), [
    ({"author": "@u\ud800x"}, "author", "@u\ufffdx"),  # issue 9's reproduction
    ({"author": "\udfff"}, "author", "\ufffd"),  # a lone low surrogate
    ({"text": "cut emoji \ud83d"}, "text", "cut emoji \ufffd"),  # cut in the middle of a pair
    ({"text": "nul\x00byte"}, "text", "nul\ufffdbyte"),
    ({"id": "\x00"}, "id", "\ufffd"),
    ({"lang": "e\udc00n"}, "lang", "e\ufffdn"),
])
def test_lone_surrogates_and_nul_are_replaced_and_the_mention_marked(changes, field,
                                                                      expected):
    mention = decode(encode(**changes), now=NOW)
    assert isinstance(mention, Mention)
    assert getattr(mention, field) == expected
    assert mention.repaired == (field,)


def test_a_surrogate_pair_is_a_character_not_a_repair():
    mention = decode(encode(text="\U0001f600 ok"), now=NOW)
    assert b"\\ud83d\\ude00" in encode(text="\U0001f600 ok")  # sent as a pair of escapes
    assert (mention.text, mention.repaired) == ("\U0001f600 ok", ())


def test_unknown_fields_are_repaired_too_keys_included():
    mention = decode(encode(**{"x\ud800": ["a\x00", {"b": "\udc00"}]}), now=NOW)
    assert mention.extra == {"x\ufffd": ["a\ufffd", {"b": "\ufffd"}]}
    assert mention.repaired == ("x\ufffd",)


def test_the_largest_plausible_follower_count_and_field_length_are_accepted():
    mention = decode(encode(author_followers=MAX_FOLLOWERS, author="a" * MAX_FIELD_CHARS),
                     now=NOW)
    assert isinstance(mention, Mention)


def _strings(mention: Mention) -> list[str]:
    out = [mention.id, mention.platform, mention.author, mention.text]
    out += [v for v in (mention.lang, mention.reshare_of, mention.reply_to, mention.url) if v]
    out += [json.dumps(mention.extra, ensure_ascii=False)]
    return out


@given(kafka_values)
@settings(max_examples=200, deadline=None)
def test_any_kafka_value_is_a_safe_mention_or_a_reasoned_rejection(raw):
    result = decode(raw, now=NOW)
    if isinstance(result, Rejection):
        assert result.reason and result.raw == raw
    else:
        for text in _strings(result):
            text.encode("utf-8")  # no lone surrogate left: every encoder takes it
            assert "\x00" not in text


@given(valid=st.lists(hostile_mentions(valid=True), min_size=1, max_size=6),
       odd=st.lists(hostile_mentions(), max_size=4), junk=st.lists(kafka_values, max_size=4))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
def test_a_storm_of_hostile_mentions_goes_the_whole_way_to_the_alert_store(
        valid, odd, junk, tmp_path_factory):
    # Tagging, scoring, pseudonyms, sketches, bucket close, evidence, the alert JSON and
    # the outbox: nothing raises, the storm is detected, and every event survives them.
    # A storm whose every post is a reshare or in a language without a model has no tone
    # to read: it is a burst of volume, whose detection depends on the entity's volume
    # tail (an 8-minute 8x burst on an entity watched for 2.5 hours is not rarer than its
    # budget allows). At least one kind of post must be one whose tone is read.
    assume(any(not m.get("reshare_of") and m.get("lang") in (None, "en") for m in valid))
    raws = [*storm(valid + odd), *junk]
    store = MemoryAlertStore()
    out = full_path(raws, store, tmp_path_factory.mktemp("outbox") / "outbox.jsonl")
    assert out.intake.accepted + len(out.intake.rejected) == len(raws)
    assert any(e.event == "opened" for e in out.events)  # the evidence was built
    logged = [event for _, event in store.catch_up("0-0")]
    assert logged == out.events
    for event in out.events:
        text = event.to_json()
        text.encode("utf-8")
        assert AlertEvent.from_json(text) == event
    assert out.delivered >= len(out.events)  # events and timeline points, none waiting
