"""The mention contract: every rejection reason, and the decoder never raises."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.mention import (
    MAX_TEXT_CHARS,
    Mention,
    Rejection,
    _plainly_valid,
    _repair,
    _validate,
    decode,
    parse_ts,
)

NOW = 1_767_600_000.0  # 2026-01-05
GOOD = {"id": "t1", "ts": "2026-01-05T08:00:00Z", "platform": "twitter",
        "author": "@someone", "text": "Scrap #workfare now"}


def encode(**changes):
    data = {**GOOD, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...}).encode()


def test_a_good_mention_decodes_with_event_time_and_keeps_unknown_fields():
    m = decode(encode(author_followers=12, lang="en", colour="blue"), now=NOW)
    assert isinstance(m, Mention)
    assert m.ts == NOW
    assert (m.author_followers, m.lang, m.extra) == (12, "en", {"colour": "blue"})
    assert Mention.from_dict(m.to_dict()) == m


@pytest.mark.parametrize(("raw", "reason"), [
    (b"\xff\xfe{}", "not UTF-8: invalid byte at position 0"),
    (b"{not json", "not valid JSON"),
    (b'{"id": NaN}', "not valid JSON"),
    (b"[1, 2]", "not a JSON object: got array"),
    (b'"text"', "not a JSON object: got str"),
    (b"null", "not a JSON object: got null"),
    (encode(id=...), "missing required field 'id'"),
    (encode(ts=...), "missing required field 'ts'"),
    (encode(platform=...), "missing required field 'platform'"),
    (encode(author=...), "missing required field 'author'"),
    (encode(text=...), "missing required field 'text'"),
    (encode(id=7), "field 'id' must be a string, got int"),
    (encode(id=""), "field 'id' must not be empty"),
    (encode(text=None), "field 'text' must be a string, got null"),
    (encode(author=["a"]), "field 'author' must be a string, got array"),
    (encode(text="x" * (MAX_TEXT_CHARS + 1)), "over the 10000 limit"),
    (encode(ts="yesterday"), "field 'ts' is not an ISO-8601 timestamp"),
    (encode(ts="2026-01-05T08:00:00"), "field 'ts' has no UTC offset"),
    (encode(ts=True), "field 'ts' must be an ISO-8601 string or epoch seconds, got bool"),
    (encode(ts={"s": 1}), "got object"),
    (encode(ts=NOW * 1000), "hours in the future"),
    (encode(ts=NOW + 86_400 + 60), "hours in the future (limit 24)"),
    (encode(ts=12), "before 2000-01-01"),
    (encode(author_followers=-1), "field 'author_followers' must be an integer >= 0"),
    (encode(author_followers=1.5), "field 'author_followers' must be an integer >= 0"),
    (encode(author_followers=True), "field 'author_followers' must be an integer >= 0"),
    (encode(url=5), "field 'url' must be a string, got int"),
    (encode(reshare_of=[]), "field 'reshare_of' must be a string, got array"),
])
def test_each_rejection_names_its_reason_and_keeps_the_bytes(raw, reason):
    result = decode(raw, now=NOW)
    assert isinstance(result, Rejection)
    assert reason in result.reason
    assert result.raw == raw


def test_timestamps_accept_offsets_and_epoch_seconds():
    assert decode(encode(ts="2026-01-05T09:00:00+01:00"), now=NOW).ts == NOW
    assert decode(encode(ts=NOW - 5), now=NOW).ts == NOW - 5
    assert isinstance(decode(encode(ts=NOW + 86_000), now=NOW), Mention)  # within a day


@given(st.binary(max_size=300))
def test_decoder_never_raises_on_arbitrary_bytes(raw):
    assert isinstance(decode(raw, now=NOW), Mention | Rejection)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=8)


@given(st.dictionaries(st.sampled_from([*GOOD, "author_followers", "url", "x"]), json_values))
def test_decoder_never_raises_on_arbitrary_objects(data):
    raw = json.dumps(data).encode()
    result = decode(raw, now=NOW)
    assert isinstance(result, Mention | Rejection)
    if isinstance(result, Rejection):
        assert result.reason and result.raw == raw


@pytest.mark.parametrize("ts", [10**400, -(10**400), "0001-01-01T00:00:00+01:00",
                                "9999-12-31T23:59:59-01:00", 1e308])
def test_out_of_range_timestamps_are_rejected_not_raised(ts):
    assert isinstance(decode(encode(ts=ts), now=NOW), Rejection)


PLAIN = {"id": "t1", "ts": NOW - 60.0, "platform": "twitter", "author": "@a", "text": "hi",
         "author_followers": 3}
EDGES = [NOW, NOW + 86_400.0, NOW + 86_400.5, 946_684_800.0, 946_684_799.9, 2**53, 2**53 + 1,
         -1, 0, True, None, "", "2026-01-05T09:00:00Z", "x" * 10_001]
_ODD = st.sampled_from(EDGES) | st.integers() | st.floats() | st.text(max_size=12)


@pytest.mark.parametrize("field", ["ts", "id", "text", "author_followers", "author",
                                   "reply_to"])
@pytest.mark.parametrize("value", EDGES)
@given(st.dictionaries(st.sampled_from([*PLAIN, "lang", "reshare_of", "url", "x"]), _ODD,
                       max_size=2),
       st.sets(st.sampled_from(list(PLAIN)), max_size=1))
@settings(max_examples=10)
def test_the_fast_path_only_accepts_what_the_full_check_accepts(field, value, changes,
                                                                dropped):
    data = {k: v for k, v in {**PLAIN, **changes, field: value}.items() if k not in dropped}
    fast = _plainly_valid(data, NOW)
    if fast is not None:
        assert _validate(data, NOW) is None
        assert fast == parse_ts(data["ts"])
        # A NUL or lone surrogate is repaired to U+FFFD on both paths (module doc).
        assert decode(json.dumps(data).encode(), now=NOW) == Mention.from_dict(
            _repair({**data, "ts": fast})[0])


def test_the_fast_path_takes_the_common_shape():
    assert _plainly_valid(PLAIN, NOW) == NOW - 60.0
