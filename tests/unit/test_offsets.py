"""The intake's offset watch: every skipped offset is counted, repeats are not gaps."""

from hypothesis import given
from hypothesis import strategies as st

from streams.offsets import OffsetWatch


@given(st.lists(st.booleans(), min_size=1, max_size=200), st.integers(0, 10**9))
def test_gaps_count_exactly_the_offsets_never_seen(kept, start):
    kept[0] = True  # the first offset seen is where the watch starts
    w = OffsetWatch()
    seen = [start + i for i, keep in enumerate(kept) if keep]
    for offset in seen:
        w.see(3, offset)
    assert w.gaps == seen[-1] - seen[0] + 1 - len(seen)
    assert w.repeats == 0


def test_redelivery_is_a_repeat_and_partitions_are_independent():
    w = OffsetWatch()
    for partition, offset in [(0, 5), (1, 100), (0, 6), (0, 5), (0, 6), (0, 7), (1, 101)]:
        w.see(partition, offset)
    assert (w.gaps, w.repeats) == (0, 2)
