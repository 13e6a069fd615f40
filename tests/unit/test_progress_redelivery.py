"""Redelivered observations messages leave an entity's state as if read once.

The detect agent writes an entity's state to the changelog after each batch, and
Faust commits the observations offsets every few seconds. A worker killed between
the two (the scale-out test SIGKILLs one) leaves the next reader a state that
already holds the messages it reads again. Observations are recognised by their
mention's offset; progress must be too: an idle declaration read again after the
wake that revoked it made its partition idle once more, the minutes closed by the
other partitions' marks, and that partition's mentions were counted late (seen in
tests/integration/test_scale_out.py: ``health["late"] == 0`` failed).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from alerting.engine import Engine, EntityEngineState, Source
from models.observation import Observation
from models.progress import At, Progress
from models.watchlist import parse_watchlist

WATCHLIST = parse_watchlist("entities: [{id: acme, name: Acme, kind: partner, terms: [acme]}]")
ENGINE = Engine.for_watchlist(WATCHLIST)
OBS_PARTITION = 2  # the entity's partition of the observations topic
T0 = 1_700_000_040.0  # a minute boundary

Item = Observation | Progress
Message = list[tuple[Item, Source | None]]


def observation(ts: float, source: Source) -> tuple[Item, Source]:
    mention = f"m{source.partition}.{source.offset}"
    return Observation("acme", mention, ts, "x", "anon:1", "acme", 10, 0.2), source


def progress(partition: int, mark: float, idle: bool = False) -> tuple[Item, None]:
    return Progress("acme", partition, 2, mark, idle), None


def read(state: EntityEngineState | None, messages: list[Message], first: int, upto: int
         ) -> tuple[EntityEngineState | None, int]:
    """Messages ``first`` to ``upto`` (offsets on the entity's observations partition) into
    ``state`` as the detect agent judges them; the state and the late mentions."""
    late = 0
    for offset in range(first, upto):
        for index, (item, source) in enumerate(messages[offset]):
            state, stepped = ENGINE.step(state, item, source, At(OBS_PARTITION, offset, index))
            late += stepped.late
    return state, late


# Two mentions partitions, both quiet (idle), then a burst written to both: the one
# read first wakes the entity (partition 1 counts again), the other's share follows.
BURST: list[Message] = [
    [observation(T0 + 10, Source(0, 0)), progress(0, T0 + 60),
     observation(T0 + 12, Source(1, 0)), progress(1, T0 + 60)],
    [progress(1, T0 + 60, idle=True)],   # partition 1: caught up and quiet
    [progress(0, T0 + 60, idle=True)],   # partition 0 too: every partition idle
    [observation(T0 + 601, Source(0, 1)), progress(0, T0 + 600)],  # 0 wakes: 1 counts again
    [observation(T0 + 300, Source(1, 1)), progress(1, T0 + 600)],  # 1's share of the burst
]


def test_read_once_no_mention_is_late():
    _, late = read(None, BURST, 0, len(BURST))
    assert late == 0


def test_a_state_written_before_a_crash_takes_no_idle_declaration_twice():
    # The worker wrote the state after the wake (offset 3), then died before the commit
    # of offsets 1 to 3; the next one reads them again on that state.
    saved, _ = read(None, BURST, 0, 4)
    state, late = read(saved, BURST, 1, len(BURST))
    assert late == 0  # before: 1 (partition 1's mention at T0+300, its minute closed at T0+600)
    assert state == read(None, BURST, 0, len(BURST))[0]


def test_a_progress_read_again_is_reported_as_redelivered():
    saved, _ = read(None, BURST, 0, 3)
    item, _ = BURST[1][0]
    again, stepped = ENGINE.step(saved, item, None, At(OBS_PARTITION, 1, 0))
    assert stepped.redelivered and again is saved


def test_progress_without_a_position_is_taken_as_before():
    # Replay and the tests step items that were never on Kafka: nothing is skipped.
    state, _ = read(None, BURST, 0, 3)
    item, _ = BURST[1][0]
    _, stepped = ENGINE.step(state, item)
    assert not stepped.redelivered


def test_another_observations_partition_starts_its_own_count():
    # The observations topic was given more partitions: the entity's items come from
    # another partition, whose offsets say nothing about the old one's.
    saved, _ = read(None, BURST, 0, 3)
    item, _ = BURST[1][0]
    _, stepped = ENGINE.step(saved, item, None, At(OBS_PARTITION + 1, 0, 0))
    assert not stepped.redelivered


@st.composite
def streams(draw: st.DrawFn) -> list[Message]:
    """Messages of one entity: mentions of two partitions (event time rising on each, the
    partitions apart by up to ten minutes), their progress, and idle declarations."""
    newest = [T0, T0]
    offsets = [0, 0]
    messages: list[Message] = []
    for _ in range(draw(st.integers(1, 14))):
        partition = draw(st.integers(0, 1))
        if draw(st.booleans()):
            messages.append([progress(partition, newest[partition] - 5, idle=True)])
            continue
        message: Message = []
        for _ in range(draw(st.integers(1, 3))):
            newest[partition] = max(newest[partition] + draw(st.floats(0, 240)),
                                    newest[1 - partition] - 600)
            message.append(observation(newest[partition], Source(partition, offsets[partition])))
            offsets[partition] += 1
        mark = newest[partition] - 5
        message.append(progress(partition, mark - mark % 60))
        messages.append(message)
    return messages


@settings(max_examples=300, deadline=None)
@given(streams(), st.data())
def test_reading_again_from_any_committed_offset_gives_the_state_of_one_reading(
        messages: list[Message], data: st.DataObject):
    once, late_once = read(None, messages, 0, len(messages))
    crashed = data.draw(st.integers(1, len(messages)), "state written after this many")
    committed = data.draw(st.integers(0, crashed), "offsets committed")
    saved, late_before = read(None, messages, 0, crashed)
    again, late_after = read(saved, messages, committed, len(messages))
    assert again == once
    assert late_before + late_after == late_once
