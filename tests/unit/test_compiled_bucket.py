"""The compiled bucket close (rust/src/bucket.rs, ``models._core.bucket_fold``) agrees
exactly with its Python specification, ``OpenBucket._close``: generated buckets (repeat
authors, colliding reach, reshares, unscored posts, markers, co-mentions, non-ASCII
names) close to equal Buckets, every field equal, not close. A record off the shape the
core reads is left to Python, with the same result. Also the compiled copy-paste
fingerprints (rust/src/fingerprint.rs) against ``models.coordination.fingerprint``."""

from __future__ import annotations

import zlib

from hypothesis import example, given, settings
from hypothesis import strategies as st

from models import coordination
from models import window as window_module
from models.coordination import _author_hash, _mix, fingerprint, fingerprints
from models.params import DetectorParams
from models.window import OpenBucket, Post

NAMES = ["@a", "@b", "@bot", "anon:7f3a", "anon:7f3b", "@zoë", "@ß", "@İ", "@日本", "@😀"]
ENTITIES = ["acme", "policy-x", "dept", "Ünïcode", "z"]


def test_the_compiled_fold_is_built_and_used():
    # A missing core would silently fall back to the Python close.
    assert window_module._compiled_fold is not None


@given(st.text(max_size=40))
def test_author_hash_is_pythons(author):
    from models._core import author_hash

    try:
        expected = _mix(zlib.crc32(author.encode("utf-8")))
    except UnicodeEncodeError:  # a lone surrogate: PyO3 refuses it as Python does
        return
    assert author_hash(author) == expected == _author_hash(author)


record = st.tuples(
    st.one_of(st.sampled_from(NAMES), st.text(min_size=1, max_size=8).filter(
        lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))),
    st.one_of(st.integers(0, 120_000), st.sampled_from([0, 49_999, 50_000, 2**62])),
    st.lists(st.sampled_from(ENTITIES), max_size=3).map(tuple),
    st.one_of(st.none(), st.none(), st.sampled_from(["m1", "m2", "m3", "m4", "m5"])),
    st.one_of(st.none(), st.floats(0.0, 1.0), st.sampled_from([0.0, 0.5, 0.4999999, 1.0])),
    st.integers(0, 15),
)


def opened(records) -> OpenBucket:
    b = OpenBucket(600.0)
    for i, (author, followers, others, root, h, markers) in enumerate(records):
        post = Post(f"m{i}", author, "text", followers, h, root, markers, 600.0 + i)
        b = b.add(author, followers, others, root, h, markers, post if i < 3 else None,
                  None if h is not None else "cy")
    return b


params = st.builds(
    DetectorParams,
    author_cap=st.integers(1, 4),
    negative_threshold=st.sampled_from([0.5, 0.23, 0.9]),
    high_reach=st.sampled_from([50_000, 1, 100_000]),
    top_authors=st.integers(0, 6),
    share_by=st.sampled_from(["threshold", "mean"]),
)


@given(st.lists(record, max_size=80), params, st.floats(0.0, 50.0))
@settings(max_examples=300, deadline=None)
@example([("@a", 10, ("acme",), None, 0.9, 9)] * 5 + [("@b", 60_000, (), "m1", 0.1, 0)],
         DetectorParams(), 3.5)
def test_compiled_close_equals_python(records, p, expected):
    b = opened(records)
    compiled = b.close(expected, p)
    python = b._close(expected, p)
    assert compiled == python
    # The same types, not only equal values: state is serialised and compared later.
    assert type(compiled.totals.mass) is float and type(compiled.counts) is type(python.counts)
    assert all(type(x) is tuple for x in (compiled.authors, compiled.posts,
                                          compiled.top_authors, compiled.others,
                                          compiled.roots))


def test_many_authors_keep_the_smallest_hashes():
    records = [(f"@u{i}", i, (), None, 0.6, 0) for i in range(200)]
    b = opened(records)
    compiled, python = b.close(1.0, DetectorParams()), b._close(1.0, DetectorParams())
    assert compiled == python and len(compiled.authors) == 32 and compiled.distinct == 200


def test_a_record_the_core_does_not_read_is_left_to_python():
    # An int tone (not a float) and a float follower count: read by Python, same result.
    b = OpenBucket(0.0).add("@a", 10, (), None, 1, 0, None).add("@b", 5.0, (), None, 0.2, 0,
                                                                   None)
    from models._core import bucket_fold

    assert bucket_fold(b.chain, 2, 0.5, 50_000, 32, 5, (1, 2, 4, 8)) is None
    assert b.close(0.0, DetectorParams()) == b._close(0.0, DetectorParams())


# Texts built to exercise the link pattern's edges: schemes with and without text after
# them, handles and hashtags mid-word, Unicode whitespace and letters that fold to a-z
# (ß -> ss, K -> k, ﬁ -> fi), digits, emoji.
PIECES = ["http://", "https://", "https:// ", "http:/x", "www.", "www. ", "@", "#", "@@a",
          "#a_b", "acme", "ACME", "Boycott", " ", "\u00a0", "\u2003", "\x1c", "\t", "\n",
          "ß", "\u212a", "ﬁ", "İ", "ǅ", "ς", "Σ", "é", "1", "_", "!", "😀", "🙄", "x.y/z",
          "wwwx", "httpx", "h", "w", "é#tag", "日本"]
texts = st.one_of(st.text(max_size=40),
                  st.lists(st.sampled_from(PIECES), max_size=14).map("".join))


@given(st.lists(texts, max_size=12))
@settings(max_examples=400, deadline=None)
@example(["Boycott ACME now!!! https://t.co/x1 @bob", "boycott acme now", "https:// x",
          "abchttp://x def", "#tag#tag2 end", "STRASSE straße", "www.\u00a0a", "", "!!!"])
def test_compiled_fingerprints_equal_python(batch):
    from models.compiled import fingerprinter

    compiled = fingerprinter().fingerprints(batch)
    assert compiled == [fingerprint(t) for t in batch]
    assert fingerprints(batch) == tuple(fingerprint(t) for t in batch)


def test_a_text_the_core_cannot_read_is_fingerprinted_by_python():
    from models.compiled import fingerprinter

    lone = "boycott \ud800 acme"
    assert fingerprinter().fingerprints([lone, "acme"])[0] is None
    assert fingerprints([lone, "acme"]) == (fingerprint(lone), fingerprint("acme"))


def test_the_compiled_fingerprints_are_used():
    assert coordination._fingerprinter() is not None
