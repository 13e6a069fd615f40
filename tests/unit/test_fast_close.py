"""The unusual minute's close, made cheaper, reads exactly what its plain form did.

The close of a minute that may be unusual reads its windows' top authors, call
hashtags, co-mentions, reshared posts and copy-paste, and each bucket's author
sketch. These reads now skip what cannot change a signal, reuse what an earlier
read of the same minute (or of the same coarse buckets) found, or hash each author
once. A replay must give the same alerts and states bit for bit as before, so each
shortcut is checked here against the plain form it replaced, on generated inputs.
"""

from __future__ import annotations

import functools
import zlib
from operator import itemgetter

from hypothesis import given, settings
from hypothesis import strategies as st

from models.coordination import _mix, kmv_counts
from models.detector import (
    Detector,
    Horizon,
    _co_mentions,
    _coordinated_kind,
    _copies_read,
    _hashtags,
    _merge_top,
    _top_author,
)
from models.horizon import Coarse
from models.hostility import CALL, DEMAND, SARCASM
from models.params import DetectorParams
from models.signals import (
    calls_to_action,
    centre,
    coordination,
    linkage,
    markers,
    reach,
    unscored,
    velocity,
    viral,
)
from models.window import Bucket, OpenBucket, Post, Totals, ranked, window

TEXTS = ("Boycott Acme now #BoycottAcme", "acme statement in full", "Awful #acme",
         "sign the petition #ScrapWorkfare #acme", "fine by me", "acme statement in full!")


def plain_ranked(counts):
    return tuple(sorted(sorted(counts.items()), key=itemgetter(1), reverse=True))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=3), st.integers(0, 5), max_size=4))
def test_ranked_of_few_items_is_the_sort(counts):
    assert ranked(counts) == plain_ranked(counts)


def plain_kmv_counts(per_author, k):
    hashed = sorted((_mix(zlib.crc32(a.encode("utf-8"))), n) for a, n in per_author.items())
    hashed = hashed[:k]
    return tuple(h for h, _ in hashed), tuple(n for _, n in hashed)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
                       st.integers(1, 9), max_size=50), st.sampled_from([0, 1, 3, 32]))
def test_kmv_counts_hashes_each_author_as_before(per_author, k):
    assert kmv_counts(per_author, k) == plain_kmv_counts(per_author, k)


tops = st.lists(st.tuples(st.sampled_from(["@a", "@b", "@c", "@d"]),
                          st.sampled_from([0, 5, 90, 50_000])), max_size=5)


@settings(max_examples=200, deadline=None)
@given(st.lists(tops, max_size=6))
def test_top_author_is_the_first_of_the_merge(per_bucket):
    buckets = tuple(Bucket(60.0 * i, top_authors=tuple(t)) for i, t in enumerate(per_bucket))
    assert _top_author(buckets) == _merge_top(buckets, 5)[:1]


# One post: author, followers, co-mentioned entities, reshared root, hostility, markers,
# text. High-reach followers, calls to action, reshares of one root: enough of each
# for every signal of a window to speak in some examples and not in others.
posts = st.tuples(st.integers(0, 6), st.sampled_from([10, 400, 60_000, 200_000]),
                  st.sampled_from([(), ("work-programme",), ("work-programme", "dwp")]),
                  st.sampled_from([None, None, "r1", "r1", "r2", "r3", "r4"]),
                  st.sampled_from([None, 0.1, 0.6, 0.9]),
                  st.sampled_from([0, 0, CALL, CALL | DEMAND, SARCASM]),
                  st.sampled_from(TEXTS))


def closed(minute, items, p):
    b = OpenBucket(60.0 * minute)
    for i, (author, followers, others, root, h, flags, text) in enumerate(items):
        post = None
        if len(b.texts) < p.keep_texts:
            post = Post(f"m{minute}-{i}", f"u{author}", text, followers, h, root, flags,
                        60.0 * minute + i)
        b = b.add(f"u{author}", followers, others, root, h, flags, post,
                  None if h is not None else "cy")
    return b.close(2.0, p)


def eager_extras(d, windows, scales, entity_id, p, reads):
    """``Detector._extras`` as it was: every read made, whether its signal speaks or not."""
    short, mid, long = scales[0], scales[min(1, len(scales) - 1)], scales[-1]
    w = windows[min(1, len(windows) - 1)]
    tops = _merge_top(w.buckets, p.top_authors)
    hashtags = _hashtags(w.buckets, call_only=True)
    others = _co_mentions(w.buckets)
    coordinated, cw = max(zip(scales, windows, strict=True), key=lambda sw: (
        sw[0].coordinated_share if sw[0].volume >= 10 else 0.0))
    t = w.totals
    c = w.counts()
    found = [
        velocity(short, long),
        reach(c.high_reach, tops, p.high_reach),
        calls_to_action(c.calls / t.volume if t.volume else 0.0, hashtags, p.call_share),
        linkage(others, d.linked_to(entity_id), mid.volume, p.linked_share),
        centre(w.centre(), t.volume, mid.span, p.centre_reshares, p.centre_share),
        viral(w.centre(), t.volume, mid.span, p.viral_reshares, p.centre_share),
        *markers({"demands": c.demands, "sarcasm": c.sarcasm, "questions": c.questions},
                 t.scored, {}, p.marker_share),
        coordination(coordinated, p.coordination_reason,
                     functools.partial(_coordinated_kind, cw, p, reads)),
        unscored(t.volume, c.unscored, mid.span, w.unscored_langs),
    ]
    return [x for x in found if x is not None]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(posts, max_size=30), min_size=1, max_size=20),
       st.sampled_from([2, 20]), st.sampled_from([0.05, 0.15]), st.sampled_from([0, 1, 5]),
       st.booleans(), st.sampled_from([0, 3, 10]))
def test_extras_read_only_what_can_speak_and_say_what_the_eager_reads_did(
        minutes, centre_reshares, call_share, top_authors, linked, viral_reshares):
    p = DetectorParams(centre_reshares=centre_reshares, call_share=call_share,
                       top_authors=top_authors, keep_texts=8, viral_reshares=viral_reshares)
    d = Detector(p, linked={"acme": ("work-programme",)} if linked else None)
    ring = tuple(closed(i, items, p) for i, items in enumerate(minutes))
    windows = [window(ring, m) for m in p.scales]
    scales = []
    for w in windows:
        scales.append(d._scale(w, 0.2, 1.5, 0.0, p, scales[-1] if scales else None, {}))
    assert d._extras(windows, scales, "acme", p, {}) == eager_extras(d, windows, scales,
                                                                     "acme", p, {})


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(posts, max_size=30), min_size=1, max_size=15))
def test_a_window_reshares_its_top_post_at_most_as_often_as_it_reshares(minutes):
    """What lets ``_extras`` skip the centre: a bucket counts every reshare in
    ``Counts.reshares`` and keeps its top three roots, so no root of a window is
    reshared more often than the window's reshares."""
    p = DetectorParams()
    w = window(tuple(closed(i, items, p) for i, items in enumerate(minutes)), 15)
    top = w.centre()
    assert top is None or top[1] <= w.counts().reshares


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from(TEXTS[:3]), st.sampled_from([None, 0.2, 0.9])),
                         max_size=6), min_size=1, max_size=25),
       st.integers(0, 25), st.booleans())
def test_copy_reads_of_a_minute_are_each_windows_own(texts, stripped, longest_first):
    """The close reads the longest window's copy-paste first; a shorter window, which
    keeps some of its texts, is then known to have no copies where it had none."""
    p = DetectorParams()
    ring = tuple(Bucket(60.0 * i, Totals(volume=len(kept) + 1), texts=tuple(
        Post(f"m{i}-{j}", f"u{j}", text, 1, h) for j, (text, h) in enumerate(kept)))
        for i, kept in enumerate(texts))
    ring = tuple(b.stripped() if i < stripped else b for i, b in enumerate(ring))
    windows = [window(ring, m) for m in p.scales]
    reads: dict[int, tuple[float, float]] = {}
    if longest_first:
        _copies_read(windows[-1], p, reads)
    for w in windows:
        assert _copies_read(w, p, reads) == w.duplicates(p.duplicate_min, p.negative_threshold)


def test_long_windows_sum_the_authors_of_the_coarse_buckets_they_hold():
    """The authors of each long window are summed once per set of coarse buckets (a
    memo of that very tuple): a new tuple, even as long, is summed afresh."""
    p = DetectorParams(long_scales=(30, 60), quiet_start=0)
    partial = Totals(volume=4, scored=4, mass=1.0, hostile=1, expected=2.0)
    long = (Totals(volume=40, scored=40, mass=9.0, hostile=9, expected=30.0),) * 2

    def horizon(authors):
        return Horizon(coarse=tuple(Coarse(900.0 * i, partial, a) for i, a in enumerate(authors)),
                       long=long)

    first, second = horizon([3.5, 7.25, 1.0, 2.0]), horizon([1.0, 2.0, 3.5, 7.25])
    warm = Detector(p)
    for h in (first, second, first, first):
        got = warm._long_scales(h, partial, 0.2, 0.0, p, 0.1, 10**6, "acme")
        assert got == Detector(p)._long_scales(h, partial, 0.2, 0.0, p, 0.1, 10**6, "acme")
        assert [s.authors for s in got] == [sum(c.authors for c in h.coarse[-2:]),
                                            sum(c.authors for c in h.coarse[-4:])]
