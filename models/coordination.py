"""Author diversity and near-duplicate texts: how much of a burst looks coordinated.

A storm is many people; a bot burst is a few accounts posting a lot, and a
copy-paste campaign is many accounts posting the same words. Both can be loud
and negative, so volume from them is discounted before the detector decides on
warning or critical, and the verdict says how much of the volume it set aside.

Texts are compared by a fingerprint of their normalised words (case, links,
handles, digits and punctuation removed), hashed with CRC-32 so the value is
the same in every process (Python's ``hash`` of a str is salted per process).
Distinct authors across buckets are counted with a k-minimum-values sketch:
exact up to ``k`` authors, a small bounded state beyond.
"""

from __future__ import annotations

import re
import zlib
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from itertools import chain
from typing import Any

__all__ = ["KMV_K", "distinct_estimate", "duplicated", "fingerprint", "fingerprints", "kmv_counts",
           "kmv_merge", "kmv_sketch", "repeat_sample"]

KMV_K = 32
_LINKS = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")
_NOT_LETTERS = re.compile(r"[^a-z]+")
_MAX_HASH = float(2**32)


def fingerprint(text: str) -> int:
    """A fingerprint equal for texts that differ only in noise.

    >>> fingerprint("Boycott ACME now!!! https://t.co/x1 @bob") == fingerprint("boycott acme now")
    True
    >>> fingerprint("boycott acme now") == fingerprint("boycott acme later")
    False
    """
    low = text.casefold()
    if "http" in low or "www." in low or "@" in low or "#" in low:
        low = _LINKS.sub(" ", low)
    words = _NOT_LETTERS.sub(" ", low).strip()
    return zlib.crc32(words.encode("utf-8"))


def fingerprints(texts: list[str]) -> tuple[int, ...]:
    """:func:`fingerprint` of each text: by the compiled core when it is built
    (``models._core.Fingerprinter``, an exact port; a text it cannot read, such as one
    with a lone surrogate, is left to Python), else by Python, remembering recent texts
    (copy-paste repeats them).

    >>> fingerprints(["Boycott ACME now!!!", "boycott acme now"]) == (fingerprint("boycott acme"
    ...     " now"),) * 2
    True
    """
    compiled = _fingerprinter()
    if compiled is None:
        return tuple(map(_remembered, texts))
    return tuple(_remembered(t) if fp is None else fp
                 for t, fp in zip(texts, compiled.fingerprints(texts), strict=True))


@cache
def _fingerprinter() -> Any:
    try:  # (imported here: models.compiled builds on the intake, which is not pure)
        from models.compiled import fingerprinter
    except ImportError:  # pragma: no cover - `make install` builds the core
        return None
    return fingerprinter()


# Copy-paste repeats a text verbatim: Python fingerprints it once.
_remembered = lru_cache(maxsize=16_384)(fingerprint)


def duplicated(fingerprints: Iterable[int], at_least: int = 3) -> int:
    """How many posts share their fingerprint with at least ``at_least - 1`` others.

    >>> duplicated([1, 1, 1, 2, 3, 3])
    3
    """
    return sum(c for c in Counter(fingerprints).values() if c >= at_least)


def kmv_sketch(authors: Iterable[str], k: int = KMV_K) -> tuple[int, ...]:
    """The ``k`` smallest author hashes: a mergeable sketch of the distinct authors.

    >>> len(kmv_sketch(["a", "b", "a"]))
    2
    """
    # surrogatepass: any str hashes (intake repairs lone surrogates, but the pure core
    # must not fall over on a value that slipped through); valid text hashes as UTF-8.
    return tuple(sorted({_mix(zlib.crc32(a.encode("utf-8", "surrogatepass")))
                         for a in authors})[:k])


def kmv_counts(per_author: Mapping[str, int], k: int = KMV_K) -> tuple[tuple[int, ...],
                                                                      tuple[int, ...]]:
    """The KMV sketch of ``per_author``'s authors and, aligned with it, each sampled
    author's posts: a uniform sample of the distinct authors with their exact counts,
    which merges across buckets (an author in the window's sample is in the sample of
    every bucket it posted in).

    >>> sketch, posts = kmv_counts({"a": 3, "b": 1})
    >>> sorted(posts), len(sketch)
    ([1, 3], 2)
    """
    hashed = sorted(zip(map(_author_hash, per_author), per_author.values(), strict=True))[:k]
    if not hashed:
        return (), ()
    sketch, posts = zip(*hashed, strict=True)
    return sketch, posts


# An author posts in many buckets (four in five of the bench stream's hashes were of an
# author hashed before): hash each once. A pure function of the name.
@lru_cache(maxsize=32_768)
def _author_hash(author: str) -> int:
    return _mix(zlib.crc32(author.encode("utf-8")))


def repeat_sample(sketches: Iterable[tuple[tuple[int, ...], tuple[int, ...]]], cap: int,
                  k: int = KMV_K, merged: tuple[int, ...] | None = None) -> tuple[float, float]:
    """From counted sketches of buckets: the share of the sampled authors' posts written
    by authors with more than ``cap`` posts in all, and the share of the sampled
    authors who are such repeaters (both 0.0 without a sample). A bot posting once a
    minute never repeats within a minute but does within a window. ``merged``: the
    sketches' :func:`kmv_merge`, when the caller has it already.

    >>> b1, b2 = kmv_counts({"bot": 2, "x": 1}), kmv_counts({"bot": 3, "y": 1})
    >>> repeat_sample([b1, b2], cap=3)
    (0.7142857142857143, 0.3333333333333333)
    """
    sketches = list(sketches)
    if merged is None:
        merged = kmv_merge((s for s, _ in sketches), k)
    if not merged:
        return 0.0, 0.0
    union, top = set(merged), merged[-1]
    counts: dict[int, int] = {}
    for hashes, posts in sketches:
        # Sorted: the values past the union's largest cannot be in it.
        for h, n in zip(hashes[:bisect_right(hashes, top)], posts, strict=False):
            if h in union:
                counts[h] = counts.get(h, 0) + n
    total = sum(counts.values())
    if not total:
        return 0.0, 0.0
    heavy = [n for n in counts.values() if n > cap]
    return sum(heavy) / total, len(heavy) / len(counts)


def kmv_merge(sketches: Iterable[tuple[int, ...]], k: int = KMV_K) -> tuple[int, ...]:
    """Sketch of the union of the sets the sketches describe: its ``k`` smallest values.

    Sketches are sorted, and a sketch of ``k`` values bounds the union's ``k``-th
    smallest, so only the values up to the smallest such bound are pooled and sorted
    (in C): an hour of a busy entity's buckets holds thousands of hashes, and this
    runs for every window that may be escalating.

    >>> kmv_merge([(1, 5, 9), (2, 5, 7)], k=4)
    (1, 2, 5, 7)
    >>> kmv_merge([(1, 2, 3), (2, 4, 6)], k=3)
    (1, 2, 3)
    """
    sketches = [s for s in sketches if s]
    bound = min((s[k - 1] for s in sketches if len(s) >= k), default=None)
    if bound is not None:
        pool = set(chain.from_iterable(s[:bisect_right(s, bound)] for s in sketches))
        if len(pool) >= k:  # else a sketch repeated a value: pool them all
            return tuple(sorted(pool)[:k])
    return tuple(sorted(set(chain.from_iterable(sketches)))[:k])


def distinct_estimate(sketch: tuple[int, ...], k: int = KMV_K) -> float:
    """Estimated number of distinct authors (exact below ``k``).

    >>> distinct_estimate(kmv_sketch(["a", "b", "c"]))
    3.0
    >>> 600 < distinct_estimate(kmv_sketch(str(i) for i in range(1000))) < 1500
    True
    """
    if len(sketch) < k:
        return float(len(sketch))
    return (k - 1) / ((sketch[-1] + 1) / _MAX_HASH)


def _mix(h: int) -> int:
    # MurmurHash3's finaliser: CRC-32 of similar short ids is far from uniform.
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)
