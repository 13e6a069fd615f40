"""The compiled window reads (rust/src/window.rs) agree exactly with their Python
specification in models/window.py and models/coordination.py: generated windows, with
realistic sketches, repeated and colliding values, buckets stored before posts were
counted and posts with no tone, go through both, and every figure must be equal, not
close. Also the bounded merge in models.coordination against its plain definition."""

from __future__ import annotations

import zlib
from collections import Counter
from contextlib import contextmanager
from itertools import chain

from hypothesis import example, given, settings
from hypothesis import strategies as st

from models import window as window_module
from models.coordination import KMV_K, _mix, kmv_counts, kmv_merge, repeat_sample
from models.window import Bucket, Post, Totals, Window

ZERO_T = Totals()


@contextmanager
def python_reads():
    """The Python reads, the compiled ones set aside for the block."""
    saved = window_module._compiled_voices, window_module._compiled_duplicates
    window_module._compiled_voices = window_module._compiled_duplicates = None
    try:
        yield
    finally:
        window_module._compiled_voices, window_module._compiled_duplicates = saved


def test_the_compiled_reads_are_built_and_used():
    # A missing core would silently fall back to the Python reads: both must be there.
    assert window_module._compiled_voices is not None
    assert window_module._compiled_duplicates is not None


authors = st.dictionaries(st.sampled_from([f"@u{i}" for i in range(90)]),
                          st.integers(1, 9), max_size=60)
hashes = st.lists(st.integers(0, 2**32 - 1), max_size=2 * KMV_K).map(sorted).map(tuple)


@st.composite
def sampled_bucket(draw) -> Bucket:
    """A bucket as the detector closes it (``kmv_counts`` of its authors), or one read
    back from older state: authors without posts, or raw sorted values that may repeat."""
    kind = draw(st.sampled_from(["counted", "counted", "counted", "legacy", "raw"]))
    if kind == "raw":
        sketch = draw(hashes)
        posts = tuple(draw(st.lists(st.integers(0, 9), min_size=len(sketch),
                                    max_size=len(sketch))))
        distinct = len(set(sketch))
    else:
        per_author = draw(authors)
        sketch, posts = kmv_counts(per_author)
        distinct = len(per_author)
        if kind == "legacy":
            posts = ()
    volume = sum(posts) + draw(st.integers(0, 5))
    return Bucket(0.0, Totals(volume=volume), authors=sketch, posts=posts, distinct=distinct)


@given(st.lists(sampled_bucket(), max_size=70), st.integers(0, 400), st.integers(1, 12))
@settings(max_examples=200, deadline=None)
def test_voices_compiled_equal_python(buckets, extra, cap):
    volume = sum(b.totals.volume for b in buckets) + extra
    w = Window(len(buckets), Totals(volume=volume), tuple(buckets))
    compiled = w.voices(cap)
    with python_reads():
        python = w.voices(cap)
    assert compiled == python
    assert all(type(x) is float for x in compiled)


def test_voices_of_a_bot_and_a_crowd():
    bot = kmv_counts({"@bot": 30, **{f"@p{i}": 1 for i in range(10)}})
    b = Bucket(0.0, Totals(volume=40), authors=bot[0], posts=bot[1], distinct=11)
    w = Window(2, Totals(volume=80), (b, b))
    # 11 authors; the bot's 60 posts of the 80 sampled; 1 author in 11 repeats.
    assert w.voices(5) == (11.0, 60 / 80, 1 / 11)


tones = st.one_of(st.none(), st.floats(0.0, 1.0), st.sampled_from([0.5, 0.49999]))


@st.composite
def texted_bucket(draw) -> Bucket:
    """A bucket with kept posts from a small vocabulary (so copies are common), some of
    them reshares (not originals), some without a tone."""
    posts = draw(st.lists(st.tuples(st.sampled_from(["boycott acme", "Acme statement",
                                                     "awful", "sack them", "fine"]),
                                    tones, st.booleans()), max_size=12))
    texts = tuple(Post(f"m{i}", "a", text, 1, tone, "root" if reshare else None)
                  for i, (text, tone, reshare) in enumerate(posts))
    return Bucket(0.0, Totals(volume=len(texts)), texts=texts)


@given(st.lists(texted_bucket(), max_size=20), st.integers(0, 8), st.floats(0.0, 1.0))
@settings(max_examples=200, deadline=None)
@example([Bucket(0.0)], 3, 0.5)
def test_duplicates_compiled_equal_python(buckets, at_least, threshold):
    # Fresh buckets each way: the fingerprints are a memo on the bucket.
    fresh = [Bucket(0.0, b.totals, texts=b.texts) for b in buckets]
    compiled = Window(len(buckets), ZERO_T, tuple(buckets)).duplicates(at_least, threshold)
    with python_reads():
        python = Window(len(fresh), ZERO_T, tuple(fresh)).duplicates(at_least, threshold)
    assert compiled == python



def test_duplicates_of_a_headline_and_a_slogan():
    headline = Post("m", "a", "Acme statement in full", 1, 0.1)
    slogan = Post("s", "b", "Boycott Acme!", 1, 0.9)
    texts = (headline,) * 3 + (slogan,) * 3 + (Post("x", "c", "awful", 1, 0.8),)
    w = Window(1, ZERO_T, (Bucket(0.0, Totals(volume=7), texts=texts),))
    assert w.duplicates(3, 0.5) == (6 / 7, 0.5)


@given(st.lists(hashes, max_size=70), st.integers(1, 40))
@settings(max_examples=200, deadline=None)
@example([(1, 1, 2), (1, 3)], 2)  # a sketch that repeats a value bounds nothing
def test_kmv_merge_is_the_k_smallest_distinct_values(sketches, k):
    assert kmv_merge(sketches, k) == tuple(sorted(set(chain.from_iterable(sketches)))[:k])


def _repeat_sample_by_definition(sketches, cap, k=KMV_K):
    union = set(sorted(set(chain.from_iterable(s for s, _ in sketches)))[:k])
    counts: Counter[int] = Counter()
    for s, posts in sketches:
        for h, n in zip(s, posts, strict=False):
            if h in union:
                counts[h] += n
    total = sum(counts.values())
    if not total:
        return 0.0, 0.0
    heavy = [n for n in counts.values() if n > cap]
    return sum(heavy) / total, len(heavy) / len(counts)


@given(st.lists(authors.map(kmv_counts), max_size=70), st.integers(1, 12))
@settings(max_examples=200, deadline=None)
def test_repeat_sample_reads_only_the_union(sketches, cap):
    assert repeat_sample(sketches, cap) == _repeat_sample_by_definition(sketches, cap)


def test_a_hash_collision_within_a_bucket_counts_both_authors():
    # Two authors whose hashes collide are one value of the sketch, counted twice.
    h = _mix(zlib.crc32(b"@a"))
    sketch, posts = (h, h), (2, 3)
    b = Bucket(0.0, Totals(volume=5), authors=sketch, posts=posts, distinct=2)
    w = Window(1, Totals(volume=5), (b,))
    with python_reads():
        python = w.voices(4)
    assert w.voices(4) == python == (2.0, 1.0, 1.0)


def test_a_sketch_value_no_u64_holds_is_read_by_python():
    # Packed samples hold u64s: a negative value (state edited by hand) is Python's.
    b = Bucket(0.0, Totals(volume=3), authors=(-5, 7), posts=(1, 2), distinct=2)
    w = Window(2, Totals(volume=6), (b, b))
    compiled = w.voices(1)
    with python_reads():
        assert compiled == w.voices(1)
