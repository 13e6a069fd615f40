"""The messages between the agents: every kind round-trips through encode/decode, and a
malformed one is a MessageError, never a crash of some other kind."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerting.ack import Ack
from alerting.engine import Source
from models.observation import Observation, Tick
from models.progress import Progress
from streams.messages import (
    Envelope,
    MessageError,
    batches,
    decode,
    decode_all,
    detect_take,
    encode,
    encode_bytes,
)

text = st.text(max_size=30)
observations = st.builds(
    Observation, entity_id=text, mention_id=text,
    ts=st.floats(0, 4e9, allow_nan=False), platform=text, author=text, text=text,
    followers=st.none() | st.integers(0, 10**9), negativity=st.none() | st.floats(0, 1),
    others=st.lists(text, max_size=3).map(tuple), reshare_of=st.none() | text,
    lang=st.none() | st.sampled_from(["en", "cy"]), url=st.none() | text)
items = st.one_of(
    st.tuples(observations, st.none() | st.builds(Source, st.integers(0, 99),
                                                   st.integers(0, 2**40))),
    st.tuples(st.builds(Progress, text, st.integers(0, 99), st.integers(1, 100),
                        st.floats(0, 4e9) | st.just(-math.inf), st.booleans()), st.none()),
    st.tuples(st.builds(Tick, text, st.floats(0, 4e9)), st.none()),
    st.tuples(st.builds(Ack, text, text, text, st.floats(0, 4e9)), st.none()),
)


@given(items)
def test_every_message_round_trips_through_json(pair):
    item, source = pair
    wire = json.loads(json.dumps(encode(item, source)))  # what Kafka carries
    assert decode(wire) == Envelope(item, source)
    assert decode(encode_bytes(item, source)) == Envelope(item, source)


def test_an_observation_carries_where_its_mention_was_read():
    o = Observation("acme", "m1", 1.7e9, "x", "anon:1", "boycott acme", 10, 0.9)
    assert encode(o, Source(3, 1234))["source"] == [3, 1234]
    assert "source" not in encode(o)


@pytest.mark.parametrize("bad", [
    b"not json", b"[1, 2]", {"progress": 1.0}, {"tick": "soon", "entity_id": "a"},
    {"entity_id": "a"}, {"ack": "x"}, {"entity_id": "a", "mention_id": "m", "ts": 1,
                                       "platform": "x", "author": "a", "text": "t",
                                       "followers": None, "negativity": 0.1,
                                       "source": [1]},
])
def test_a_malformed_message_is_a_message_error(bad):
    with pytest.raises(MessageError):
        decode(bad)


entity_items = st.lists(items, max_size=40).map(
    lambda pairs: [(_with_entity(item, "acme"), source) for item, source in pairs])


def _with_entity(item, entity_id):
    return replace(item, entity_id=entity_id)


@given(entity_items, st.integers(256, 20_000))
def test_batches_carry_every_item_in_order_within_the_limit(pairs, limit):
    messages = list(batches(pairs, limit))  # the bytes Kafka carries
    assert [e for m in messages for e in decode_all(m)] == [Envelope(i, s) for i, s in pairs]
    for m in messages:
        value = json.loads(m)
        assert value["entity_id"] == "acme" and value["batch"]
        assert m == json.dumps(value).encode("ascii")  # as Faust's json serializer writes it
        # Within the limit, unless one item alone is over.
        if len(value["batch"]) > 1:
            assert len(m) <= limit
    # Full: each message but the last would have gone over with the next one's first item.
    for m, after in pairwise(messages):
        first = json.dumps(json.loads(after)["batch"][0]).encode()
        assert len(m) + 2 + len(first) > limit


def test_an_entity_s_batch_of_mentions_is_one_message():
    obs = [(Observation("acme", f"m{i}", 60.0 + i, "x", "anon:1", "boycott acme", 10, 0.9),
            Source(0, i)) for i in range(300)]
    assert len(list(batches(obs))) == 1
    # Texts at the contract's limit (10,000 characters) go 20 or so to a message.
    long = [(replace(o, text="\U0001F621" * 10_000), s) for o, s in obs[:50]]
    sizes = [len(json.loads(m)["batch"]) for m in batches(long)]
    assert sum(sizes) == 50 and max(sizes) <= 3
    assert all(len(m) < 1_000_000 for m in batches(long))


@pytest.mark.parametrize("bad", [{"batch": "no", "entity_id": "a"},
                                 {"batch": [{"tick": "soon", "entity_id": "a"}]},
                                 {"batch": [[1]], "entity_id": "a"}])
def test_a_malformed_batch_is_a_message_error(bad):
    with pytest.raises(MessageError):
        decode_all(bad)


@given(items)
def test_a_single_message_still_reads_as_one_item(pair):
    item, source = pair
    assert decode_all(encode_bytes(item, source)) == [Envelope(item, source)]



@given(st.integers(1, 600), st.integers(1, 50), st.data())
def test_an_intake_batch_s_messages_fit_one_detect_take(batch_size, entities, data):
    # An intake batch of short posts about some of the watched entities: the messages
    # it makes are one detect batch, as its items were when each was a message.
    n = data.draw(st.integers(1, batch_size))
    about = data.draw(st.lists(st.integers(0, entities - 1), min_size=n, max_size=n))
    per_entity: dict[str, list] = {}
    for i, e in enumerate(about):
        o = Observation(f"e{e}", f"m{i}", 60.0 + i, "x", "anon:1", "boycott them", 10, 0.5)
        per_entity.setdefault(o.entity_id, []).append((o, Source(0, i)))
    messages = [m for pairs in per_entity.values() for m in batches(pairs)]
    assert len(messages) <= detect_take(batch_size, entities)
