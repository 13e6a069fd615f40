"""An entity's state stored as records (alerting/stored.py, streams/statestore.py).

The changelog is modelled by a dict that counts what is written to it; the states
come from the real engine over the demo sample, so they have full rings, stripped
texts, coarse buckets, timeline points, incidents and waiting observations.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from alerting.engine import EntityEngineState, Source
from alerting.stored import NOTHING, SEP, load, plan
from models.observation import Observation
from streams import statestore
from streams.components import build_engine, build_intake, load_params, load_scorer, load_watchlist
from streams.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "deploy" / "examples" / "sample-mentions.jsonl"
WATCHLIST = REPO / "deploy" / "examples" / "watchlist.yaml"


class Changelog(dict):
    """A table that counts the bytes written to it (tombstones count their key)."""

    written = 0

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.written += len(key) + len(value)
        super().__setitem__(key, bytes(value))  # as read back from Kafka

    def __delitem__(self, key: bytes) -> None:
        self.written += len(key)
        super().__delitem__(key)


@cache
def pipeline():
    settings = Settings()
    watchlist = load_watchlist(str(WATCHLIST))
    scorer = load_scorer(settings, "")
    return (build_intake(settings, watchlist, scorer=scorer),
            build_engine(watchlist, load_params(settings, "", scorer), settings.test_poison))


def run(sizes: list[int], limit: int, check) -> None:
    """Feed the sample in batches of ``sizes`` (cycled); after each batch call
    ``check(entity, before_written, state)`` for each touched entity."""
    intake, engine = pipeline()
    intake = intake.with_watchlist(engine.watchlist)
    lines = SAMPLE.read_bytes().splitlines()[:limit]
    states: dict[str, EntityEngineState] = {}
    at, turn = 0, 0
    while at < len(lines):
        batch = lines[at:at + sizes[turn % len(sizes)]]
        result = intake.accept_many(batch, now=2e9, partitions=[0] * len(batch), of=1)
        touched = []
        for item, origin in zip(result.items, result.origins, strict=True):
            source = Source(0, at + origin) if isinstance(item, Observation) else None
            after, stepped = engine.step(states.get(item.entity_id), item, source)
            if not stepped.redelivered:
                states[item.entity_id] = after
                touched.append(item.entity_id)
        for entity in dict.fromkeys(touched):
            check(entity, states[entity])
        at, turn = at + len(batch), turn + 1


def applied(table: dict, entity: str, records: list[tuple[str, object]]) -> dict:
    """``table`` with ``records`` written to it in order (a value of None: a tombstone)."""
    for suffix, value in records:
        key = statestore.key_of(entity, suffix)
        if value is None:
            table.pop(key, None)
        else:
            table[key] = statestore.encode(suffix, value)
    return table


def test_after_every_batch_the_changelog_loads_as_the_state_and_holds_nothing_else():
    table, written = Changelog(), {}
    whole = [0]

    def check(entity: str, state: EntityEngineState) -> None:
        written[entity] = statestore.write(table, entity, written.get(entity, NOTHING), state)
        assert statestore.read(table, entity).state == state
        whole[0] += len(json.dumps({"engine": state.to_dict()}).encode())

    run([300], 8_294, check)
    # Every key is the head or a part the head names: nothing left behind to grow.
    for entity, w in written.items():
        mine = {k for k in table if k.split(SEP.encode())[0] == entity.encode()}
        named = {statestore.key_of(entity, s) for s in (*w.parts, *(f"p{i}" for i, _ in w.chunks),
                                                        f"k{w.head['core']}", "")}
        assert named <= mine and mine - named <= {statestore.key_of(entity, "k0"),
                                                  statestore.key_of(entity, "k1")}
    # A fraction of the whole state written every batch (docs/benchmarks.md).
    assert table.written < whole[0] / 3, (table.written, whole[0])


@settings(max_examples=5, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=6), st.integers(0, 10**6))
def test_a_crash_part_way_through_a_write_loads_the_old_state_or_the_new(sizes, seed):
    table: dict[bytes, object] = {}
    written: dict = {}
    rounds = [0]

    def check(entity: str, state: EntityEngineState) -> None:
        rounds[0] += 1
        before = statestore.read(table, entity).state
        steps = plan(written.get(entity, NOTHING), state)
        records = [(s, v) for s, v in steps.writes] + [(s, None) for s in steps.deletes]
        cut = (seed + rounds[0]) % (len(records) + 1)  # the records Kafka has at the crash
        crashed = applied(dict(table), entity, records[:cut])
        assert statestore.read(crashed, entity).state in (before, state)
        applied(table, entity, records)
        written[entity] = steps.written

    run(sizes, 1_500, check)


@cache
def sample_states() -> tuple[EntityEngineState, ...]:
    states: list[EntityEngineState] = []
    run([250], 3_000, lambda entity, state: states.append(state))
    return tuple(states)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_split_then_join_gives_the_same_state(data):
    state = data.draw(st.sampled_from(sample_states()))
    extra = data.draw(st.lists(st.builds(
        Observation, entity_id=st.just("x"), mention_id=st.text(max_size=5),
        ts=st.floats(0, 2e9), platform=st.sampled_from(["twitter", "bsky"]),
        author=st.text(max_size=8), text=st.text(max_size=40),
        followers=st.none() | st.integers(0, 10**7),
        negativity=st.none() | st.floats(0, 1), others=st.lists(st.text(max_size=4)).map(tuple),
        reshare_of=st.none() | st.text(max_size=5), lang=st.none() | st.just("en"),
        markers=st.integers(0, 255), url=st.none() | st.text(max_size=10)), max_size=5))
    state = replace(state, pending=(*state.pending, *extra))
    records = {s: json.loads(json.dumps(v)) for s, v in plan(NOTHING, state).writes}
    back, written = load(records[""], records.get)
    assert back == state
    assert plan(written, back).writes == []  # loaded: nothing to write again


def test_a_whole_state_written_before_the_split_still_loads_and_is_then_replaced():
    state = sample_states()[-1]
    entity = state.incident.incident.entity_id if state.incident.incident else "acme"
    # What 0.2 to 0.4 wrote (faust's JSON serializer): the whole state under "engine".
    old = {statestore.key_of(entity): json.dumps({"engine": state.to_dict()}).encode()}
    loaded = statestore.read(old, entity)
    assert loaded.state == state
    statestore.write(old, entity, loaded.written, state)
    assert statestore.read(old, entity).state == state
    # The head replaced the old record.
    assert "engine" not in statestore.decode(old[statestore.key_of(entity)])


def test_an_incidents_evidence_is_written_when_it_changes_not_with_every_core():
    table, written = Changelog(), {}
    cores, evidence_writes, changes = [0], [0], [0]
    last: dict[str, object] = {}

    def check(entity: str, state: EntityEngineState) -> None:
        steps = plan(written.get(entity, NOTHING), state)
        incident = state.incident.incident
        if incident is not None and last.get(entity) != incident.evidence:
            changes[0] += 1
            last[entity] = incident.evidence
        for suffix, value in steps.writes:
            cores[0] += suffix.startswith("k")
            evidence_writes[0] += suffix.startswith("e")
            if suffix.startswith("k") and value["incident"]["incident"] is not None:
                # The core names the evidence part; the sample posts are not in it.
                assert value["evidence"].startswith("e")
                assert value["incident"]["incident"]["evidence"]["samples"] == []
        written[entity] = statestore.write(table, entity, written.get(entity, NOTHING), state)
        assert statestore.read(table, entity).state == state

    run([40], 8_294, check)
    assert changes[0] > 0  # the sample's incidents have evidence
    # One write per new evidence (and per event that only moved the incident's seq),
    # far fewer than the cores written while an incident was held.
    assert changes[0] <= evidence_writes[0] < cores[0] / 4, (changes, evidence_writes, cores)


def test_records_written_by_the_previous_format_still_load():
    """Parts compressed with the first dictionary and heads in plain JSON (as written
    before the second dictionary) read back as the same state."""
    import zlib

    state = sample_states()[-1]
    entity = "acme"
    table: dict[bytes, bytes] = {}
    for suffix, value in plan(NOTHING, state).writes:
        raw = json.dumps(value, separators=(",", ":")).encode()
        if suffix:
            z = zlib.compressobj(6, zdict=statestore.ZDICT_V1)
            raw = b"\x01" + z.compress(raw) + z.flush()
        table[statestore.key_of(entity, suffix)] = raw
    assert statestore.read(table, entity).state == state


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
                    max_leaves=20), st.sampled_from(["", "k0", "m60.0", "e1.0.2", "p3"]))
def test_any_record_decodes_as_it_was_encoded(value, suffix):
    assert statestore.decode(statestore.encode(suffix, value)) == value


def test_a_minutes_timeline_point_is_written_in_its_bucket_record():
    table, written, suffixes = Changelog(), {}, []

    def check(entity: str, state: EntityEngineState) -> None:
        steps = plan(written.get(entity, NOTHING), state)
        suffixes.extend(s for s, _ in steps.writes)
        written[entity] = statestore.write(table, entity, written.get(entity, NOTHING), state)
        assert statestore.read(table, entity).state == state

    run([40], 8_294, check)
    assert sum(s.startswith("m") for s in suffixes) > 1000
    assert not [s for s in suffixes if s.startswith("r")]  # no record of its own


def test_points_written_as_records_of_their_own_still_load_and_move_into_buckets():
    """The format before: a point per ``r<at>`` record and buckets without points. It
    loads as the same state; the next write puts the points in their buckets and
    deletes the old records, and a crash part way through loads as the same state."""
    state = next(s for s in reversed(sample_states()) if len(s.incident.recent) >= 5)
    entity = "acme"
    table: dict[bytes, bytes] = {}
    moved = 0
    for suffix, value in plan(NOTHING, state).writes:
        if suffix.startswith("m") and "point" in value:
            point = value.pop("point")
            table[statestore.key_of(entity, f"r{point['at']!r}")] = statestore.encode("r", point)
            moved += 1
        table[statestore.key_of(entity, suffix)] = statestore.encode(suffix, value)
    assert moved >= 5
    loaded = statestore.read(table, entity)
    assert loaded.state == state
    steps = plan(loaded.written, state)
    records = [(s, v) for s, v in steps.writes] + [(s, None) for s in steps.deletes]
    assert sum(s.startswith("r") for s in steps.deletes) == moved
    for cut in range(len(records) + 1):
        crashed = applied(dict(table), entity, records[:cut])
        assert statestore.read(crashed, entity).state == state


def test_the_profile_slot_learning_now_is_kept_in_the_core_not_rewritten_each_minute():
    table, written = Changelog(), {}
    slot_writes, minute_writes = [0], [0]

    def check(entity: str, state: EntityEngineState) -> None:
        before = written.get(entity, NOTHING)
        steps = plan(before, state)
        if before is not NOTHING:  # the first write stores every slot
            slot_writes[0] += sum(s.startswith("s") for s, _ in steps.writes)
        minute_writes[0] += sum(s.startswith("m") for s, _ in steps.writes)
        core = next((v for s, v in steps.writes if s.startswith("k")), None)
        if core is not None and "slot" in core:
            i, value, count = core["slot"]
            assert (value, count) == (state.detector.baseline.profile[i],
                                      state.detector.baseline.seen[i])
        written[entity] = statestore.write(table, entity, before, state)
        assert statestore.read(table, entity).state == state

    run([40], 8_294, check)
    # A slot learns every minute; its record is written about once an hour, when the
    # next slot takes over (and where a batch spans the change).
    assert minute_writes[0] > 2000
    assert slot_writes[0] < minute_writes[0] / 20, (slot_writes, minute_writes)
