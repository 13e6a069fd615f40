"""The engine's event-time order: observations wait until every input partition has
passed their minute, so any interleaving of the partitions gives the alerts of the
single ordered stream; a redelivered observation counts once; a late one is reported."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from alerting.engine import Engine, Source
from alerting.lifecycle import Lifecycle
from models.detector import Detector, DetectorParams
from models.observation import Observation, Tick
from models.progress import Progress
from models.watchlist import parse_watchlist

WATCHLIST = parse_watchlist("entities: [{id: acme, name: Acme, kind: partner, terms: [acme]}]")
ENGINE = Engine(WATCHLIST, Detector(DetectorParams()), Lifecycle())
T0 = 1_700_000_000.0 - 1_700_000_000 % 60


def post(i: int, ts: float, negativity: float = 0.1) -> Observation:
    word = "".join(chr(97 + (i // 26**k) % 26) for k in range(3))
    return Observation("acme", f"m{i:05d}", ts, "x", f"u{i}", f"acme {word}", 10, negativity)


def storm() -> list[Observation]:
    """An hour of four mentions a minute, then ten minutes of a negative surge."""
    out, i = [], 0
    for minute in range(70):
        n = 4 if minute < 60 else 40
        for k in range(n):
            negativity = 0.9 if minute >= 60 and k % 5 else 0.1
            out.append(post(i, T0 + 60 * minute + (60 * k) / n, negativity))
            i += 1
    return out


def run(items: list) -> tuple[list[str], int]:
    state, events, late = None, [], 0
    for item, source in items:
        state, stepped = ENGINE.step(state, item, source)
        events += [f"{e.event}:{e.severity}:{e.at}" for e in stepped.events]
        late += stepped.late
    return events, late


def partitioned(stream: list[Observation], partitions: int, rng: random.Random) -> list:
    """The stream spread over partitions (each in order, with its progress after each
    mention, as the intake sends it), then interleaved at random."""
    queues: list[list] = [[] for _ in range(partitions)]
    for offset, observation in enumerate(stream):
        p = rng.randrange(partitions)
        mark = observation.ts - observation.ts % 60
        queues[p] += [(observation, Source(p, offset)),
                      (Progress("acme", p, partitions, mark), None)]
    for p, queue in enumerate(queues):  # the end of input: every partition goes idle
        queue.append((Progress("acme", p, partitions, queue[-2][0].ts - queue[-2][0].ts % 60
                               if queue else float("-inf"), idle=True), None))
    merged = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        merged.append(queue.pop(0))
    return merged


ORDERED = run(partitioned(storm(), 1, random.Random(0)))


def test_the_ordered_stream_alerts():
    events, late = ORDERED
    assert events and events[0].startswith("opened:")
    assert late == 0


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 6), st.integers(0, 2**32))
def test_any_interleaving_of_partitions_gives_the_alerts_of_the_ordered_stream(p, seed):
    assert run(partitioned(storm(), p, random.Random(seed))) == ORDERED


def test_a_minute_closes_only_when_every_partition_has_passed_it():
    state, _ = ENGINE.step(None, post(1, T0 + 10), Source(0, 1))
    state, stepped = ENGINE.step(state, Progress("acme", 0, 2, T0 + 120))
    assert state.pending and not stepped.events and state.released == float("-inf")
    state, _ = ENGINE.step(state, Progress("acme", 1, 2, T0 + 60))
    assert not state.pending and state.released == T0 + 60  # the slower partition decides
    assert state.detector.ring[-1].n == 1  # the mention counted in its minute


def test_an_idle_partition_does_not_hold_minutes_open():
    state, _ = ENGINE.step(None, post(1, T0 + 10), Source(0, 1))
    state, _ = ENGINE.step(state, Progress("acme", 0, 2, T0 + 120))
    state, _ = ENGINE.step(state, Progress("acme", 1, 2, float("-inf"), idle=True))
    assert state.released == T0 + 120


def test_a_redelivered_observation_counts_once():
    state, _ = ENGINE.step(None, post(1, T0 + 10), Source(2, 41))
    again, stepped = ENGINE.step(state, post(1, T0 + 10), Source(2, 41))
    assert stepped.redelivered and again == state
    older, stepped = ENGINE.step(state, post(0, T0 + 5), Source(2, 40))
    assert stepped.redelivered and older == state
    other, stepped = ENGINE.step(state, post(9, T0 + 5), Source(3, 40))  # another partition
    assert not stepped.redelivered and len(other.pending) == 2


def test_a_dead_lettered_observation_is_passed_over_and_its_copies_are_redelivered():
    # The stream dead-letters an observation that keeps crashing detection; a restart
    # that reads its mention again makes a copy, which must not be tried again.
    state, _ = ENGINE.step(None, post(1, T0 + 10), Source(2, 41))
    passed = ENGINE.pass_over(state, Source(2, 42))
    assert passed is not None and passed.pending == state.pending
    copy, stepped = ENGINE.step(passed, post(2, T0 + 11), Source(2, 42))
    assert stepped.redelivered and copy == passed
    assert ENGINE.pass_over(passed, Source(2, 42)) is None  # passed over already
    after, stepped = ENGINE.step(passed, post(3, T0 + 12), Source(2, 43))
    assert not stepped.redelivered and len(after.pending) == 2


def test_a_late_observation_counts_in_the_open_minute_and_is_reported():
    state, _ = ENGINE.step(None, post(1, T0 + 70), Source(0, 1))
    state, _ = ENGINE.step(state, Progress("acme", 0, 1, T0 + 120))
    state, stepped = ENGINE.step(state, post(2, T0 + 30), Source(0, 2))  # minute T0 is closed
    assert stepped.late == 1
    assert state.detector.open is not None and state.detector.open.n == 1


def test_a_tick_closes_everything_before_it():
    state, _ = ENGINE.step(None, post(1, T0 + 10), Source(0, 1))
    state, _ = ENGINE.step(state, Tick("acme", T0 + 60))
    assert not state.pending and state.released == T0 + 60


def test_a_partition_that_wakes_makes_the_other_idle_ones_count_again():
    # Every partition idle after a pause; a burst reaches partition 0's reader first:
    # partition 1's share of it must not become late.
    state, _ = ENGINE.step(None, post(1, T0 + 10), Source(0, 1))
    for p in (0, 1):
        state, _ = ENGINE.step(state, Progress("acme", p, 2, T0 + 60, idle=True))
    state, _ = ENGINE.step(state, post(2, T0 + 300), Source(0, 2))
    state, _ = ENGINE.step(state, Progress("acme", 0, 2, T0 + 300))  # woke
    state, stepped = ENGINE.step(state, post(3, T0 + 200), Source(1, 1))  # partition 1's
    assert stepped.late == 0 and state.released == T0 + 60
    state, _ = ENGINE.step(state, Progress("acme", 1, 2, T0 + 240))
    assert state.released == T0 + 240


OFFICIAL = parse_watchlist(
    "entities: [{id: jo, name: Jo Bloggs, kind: person, terms: [jo bloggs]}]")
OFFICIAL_ENGINE = Engine.for_watchlist(OFFICIAL)
WORDS = ("must resign", "is a disgrace", "has to go", "should be sacked", "lied to us",
         "is shameful", "must answer for this")


def word(i: int) -> str:
    return "".join(chr(97 + (i // 26**k) % 26) for k in range(3))


def quiet_then_storm(quiet_minutes: int, engine: Engine = OFFICIAL_ENGINE,
                     watch: bool = True, progress: bool = True) -> tuple[list[str], int]:
    """``quiet_minutes`` with nobody mentioning the official (a progress each minute
    unless not ``progress``), then a pile-on: four hostile mentions a minute from new
    authors. Watched from the first of those minutes if ``watch`` (replay --start). The
    alerts, and the baseline's buckets learned when the storm began."""
    state = engine.watch(None, T0) if watch and quiet_minutes else None
    events: list[str] = []
    for minute in range(quiet_minutes if progress else 0):
        state, stepped = engine.step(state, Progress("jo", 0, 1, T0 + 60 * minute))
        events += [f"{e.event}:{e.severity}" for e in stepped.events]
    start = T0 + 60 * quiet_minutes
    learned = 0
    for minute in range(30):
        for k in range(4):
            i = minute * 4 + k
            ts = start + 60 * minute + 15 * k
            state, _ = engine.step(state, Observation(
                "jo", f"m{i}", ts, "x", f"u{i}", f"jo bloggs {WORDS[i % 7]} {word(i)}", 10, 0.9))
        state, stepped = engine.step(state, Progress("jo", 0, 1, ts - ts % 60 + 60))
        if minute == 0:  # the storm's first minute is closed: what came before is learned
            learned = max(state.detector.baseline.n - 1, 0)
        events += [f"{e.event}:{e.severity}:{(e.at - start) / 60:.0f}" for e in stepped.events]
    return events, learned


def test_an_entity_watched_from_a_start_learns_its_quiet_minutes():
    # Watched from a start (replay --start), three quiet days before the first mention
    # are three days learned: started at its first mention instead, the official meets
    # the storm as a newly watched entity, learning its first minutes as its normal.
    events, learned = quiet_then_storm(3 * 1440)
    assert 3 * 1440 - 60 <= learned < 3 * 1440  # every closed minute (learned lagged)
    warned = [e for e in events if e.split(":")[1] in ("warning", "critical")]
    assert warned and int(warned[0].split(":")[2]) <= 20, events


def test_a_watched_entity_quiet_until_a_storm_is_warned_sooner_than_a_new_one():
    watched, _ = quiet_then_storm(3 * 1440)
    new, learned = quiet_then_storm(0)
    assert learned == 0

    def first_warning(events: list[str]) -> float:
        return min((int(e.split(":")[2]) for e in events
                    if e.split(":")[1] in ("warning", "critical")), default=float("inf"))
    assert first_warning(watched) < first_warning(new)


def since_engine(since: float) -> Engine:
    return Engine.for_watchlist(parse_watchlist(
        f"watch_since: {since}\nentities: [{{id: jo, name: Jo Bloggs, kind: person,"
        " terms: [jo bloggs]}]"))


def test_the_watchlists_watch_since_starts_an_entity_before_its_first_mention():
    # No progress at all before the storm (a replay: only the official's own mentions):
    # the watchlist's start alone makes the three quiet days learned, as replay --start.
    engine = since_engine(T0)
    events, learned = quiet_then_storm(3 * 1440, engine, watch=False, progress=False)
    assert learned == quiet_then_storm(3 * 1440)[1]
    assert events == [e for e in quiet_then_storm(3 * 1440)[0] if e.count(":") == 2]
    new, _ = quiet_then_storm(0)
    assert events != new


def test_a_watch_since_after_the_first_mention_leaves_the_entity_started_there():
    # Named before the watch began (a history older than the watchlist's start): the
    # entity starts at its first mention, as with no start at all.
    engine = since_engine(T0 + 3600)
    assert quiet_then_storm(0, engine) == quiet_then_storm(0)


@settings(max_examples=30, deadline=None)
@given(since=st.integers(0, 40), first=st.integers(0, 40),
       marks=st.lists(st.integers(0, 80), max_size=12))
def test_where_progress_falls_never_moves_the_start(since, first, marks):
    # A worker's progress falls where its batches end; a replay's, elsewhere. The
    # minute an entity is watched from must not depend on it, or several workers and
    # a replay of one stream give different alerts.
    engine = since_engine(T0 + 60 * since)
    posts = [Observation("jo", f"m{i:03d}", T0 + 60 * (first + i // 3) + 20 * (i % 3), "x",
                         f"u{i}", f"jo bloggs {WORDS[i % 7]} {word(i)}", 10, 0.9)
             for i in range(90)]

    def run(progress_at: list[int]) -> tuple[list[str], float | None]:
        state, events = None, []
        marks_left = sorted(set(progress_at))
        for obs in posts:
            while marks_left and T0 + 60 * marks_left[0] <= obs.ts:
                mark = T0 + 60 * marks_left.pop(0)
                state, stepped = engine.step(state, Progress("jo", 0, 1, mark))
                events += [f"{e.event}:{e.severity}:{e.at}" for e in stepped.events]
            state, _ = engine.step(state, obs)
        state, stepped = engine.step(state, Tick("jo", T0 + 60 * 90))
        events += [f"{e.event}:{e.severity}:{e.at}" for e in stepped.events]
        return events, state.detector.baseline.n

    assert run(marks) == run([])
