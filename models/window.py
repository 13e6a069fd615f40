"""Time buckets of one entity and the multi-scale windows made of them.

Per mention, :meth:`OpenBucket.add` does O(1) work: counters, and a link
prepended to an immutable chain of ``(author, followers, others)`` records
(a tuple cons list: sharing its tail, so the old state stays valid). The text
of only the first ``keep_texts`` posts of a bucket is kept: enough to find
copy-paste, calls to action, top terms and samples without storing a storm.

When event time passes the bucket's end, :meth:`OpenBucket.close` turns it into
a :class:`Bucket` summary; a :class:`Window` then sums the last 5, 15 or 60
summaries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any

from models.calls_to_action import call_hashtags, is_call_to_action
from models.coordination import (
    distinct_estimate,
    duplicated,
    fingerprint,
    kmv_merge,
    kmv_sketch,
)
from models.matcher import tokens

__all__ = ["Bucket", "OpenBucket", "Totals", "Window", "ranked", "slide", "totals", "window"]

# A kept post: (mention id, author, text, followers, negativity, is a reshare,
#               event time, url or None, id of the post it reshares or None).
# The last three show the officer when and where a post was made, and which post
# a storm reshares; state written before they were kept reads them as None.
Post = tuple[str, str, str, int, float | None, bool, float | None, str | None, str | None]


@dataclass(frozen=True, slots=True)
class OpenBucket:
    """The bucket event time is in: counts so far and a chain of post records.

    >>> b = OpenBucket(0.0).add("u1", 10, (), True,
    ...                         ("m1", "u1", "Awful", 10, 0.9, False, 1.0, None, None))
    >>> b = b.add("u2", 5, (), False, ("m2", "u2", "Fine", 5, 0.1, True, 2.0, None, "m1"))
    >>> b.n, b.negative, len(b.texts)
    (2, 1, 2)
    >>> OpenBucket.from_dict(b.to_dict()) == b
    True
    """

    start: float
    n: int = 0
    negative: int = 0
    chain: tuple | None = None  # (author, followers, others, rest)
    texts: tuple[Post, ...] = ()

    def add(self, author: str, followers: int, others: tuple[str, ...], negative: bool,
            post: Post | None) -> OpenBucket:
        """Count one post; ``post`` is its kept record, or None once enough are kept."""
        texts = self.texts if post is None else (*self.texts, post)
        return OpenBucket(self.start, self.n + 1, self.negative + negative,
                          (author, followers, others, self.chain), texts)

    def records(self) -> list[tuple[str, int, tuple[str, ...]]]:
        """The ``(author, followers, others)`` of every post, newest first."""
        out, link = [], self.chain
        while link is not None:
            out.append(link[:3])
            link = link[3]
        return out

    def close(self, expected: float, params: Any) -> Bucket:
        """Summarise this bucket; ``params`` is the detector's parameters."""
        if self.n == 0:
            return Bucket(self.start, expected=expected)
        records = self.records()
        per_author = Counter(r[0] for r in records)
        excess = sum(c - params.author_cap for c in per_author.values() if c > params.author_cap)
        reach: dict[str, int] = {}
        high = 0
        for author, followers, _ in records:
            if followers >= params.high_reach:
                high += 1
            if followers > reach.get(author, -1):
                reach[author] = followers
        others = Counter(chain.from_iterable(r[2] for r in records))
        top = ranked(reach)[: params.top_authors]
        fps = tuple(fingerprint(p[2]) for p in self.texts if not p[5])
        calls = sum(1 for p in self.texts if is_call_to_action(p[2]))
        return Bucket(
            start=self.start, n=self.n, negative=self.negative, expected=expected,
            excess=excess, authors=kmv_sketch(per_author), fingerprints=fps,
            sampled=len(self.texts), calls=calls, high_reach=high, top_authors=tuple(top),
            others=tuple(sorted(others.items())), texts=self.texts,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "n": self.n, "negative": self.negative,
                "records": [[a, f, list(o)] for a, f, o in reversed(self.records())],
                "texts": [list(p) for p in self.texts]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OpenBucket:
        chain = None
        for author, followers, others in data["records"]:
            chain = (author, int(followers), tuple(others), chain)
        return cls(float(data["start"]), int(data["n"]), int(data["negative"]), chain,
                   tuple(_post(p) for p in data["texts"]))

    def __reduce__(self) -> tuple[Any, ...]:
        # The chain nests one tuple per post: pickle it flat, not recursively.
        return (OpenBucket.from_dict, (self.to_dict(),))


@dataclass(frozen=True, slots=True)
class Bucket:
    """A closed bucket: counts, what it was expected to hold, and its evidence.

    >>> b = Bucket(60.0, n=3, negative=2, expected=1.5)
    >>> Bucket.from_dict(b.to_dict()) == b
    True
    """

    start: float
    n: int = 0
    negative: int = 0
    expected: float = 0.0
    excess: int = 0  # posts beyond the per-author cap within the bucket
    authors: tuple[int, ...] = ()  # KMV sketch of distinct authors
    fingerprints: tuple[int, ...] = ()  # of the kept original (non-reshare) posts
    sampled: int = 0  # posts whose text was kept
    calls: int = 0  # kept posts that are calls to action
    high_reach: int = 0  # posts by authors at or above the high-reach threshold
    top_authors: tuple[tuple[str, int], ...] = ()
    others: tuple[tuple[str, int], ...] = ()  # co-mentioned entities
    texts: tuple[Post, ...] = ()  # dropped once the bucket is older than the evidence horizon
    # Hashtag counts of ``texts``, worked out on first use: evidence reads the same
    # buckets every minute of a storm. A memo, not state: never compared or stored.
    _tags: dict[bool, Counter[str]] | None = field(default=None, compare=False, repr=False)

    def hashtags(self, calls_only: bool) -> Counter[str]:
        """Kept posts carrying each hashtag (only calls to action, if ``calls_only``).

        >>> Bucket(0.0, texts=(("m", "a", "#Boycott #acme", 1, 0.9, False),)).hashtags(True)
        Counter({'#boycott': 1})
        """
        memo = self._tags
        if memo is None:
            memo = {}
            object.__setattr__(self, "_tags", memo)
        counts = memo.get(calls_only)
        if counts is None:
            counts = memo[calls_only] = Counter()
            tags_of = _call_tags if calls_only else _tags_of
            for post in self.texts:
                if "#" in post[2]:
                    counts.update(tags_of(post[2]))
        return counts

    def stripped(self) -> Bucket:
        """This bucket without its kept texts (past the evidence horizon)."""
        if not self.texts:
            return self
        # Built directly: dataclasses.replace costs more than the rest of a quiet close.
        return Bucket(self.start, self.n, self.negative, self.expected, self.excess,
                      self.authors, self.fingerprints, self.sampled, self.calls,
                      self.high_reach, self.top_authors, self.others)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "n": self.n, "negative": self.negative,
                "expected": self.expected, "excess": self.excess,
                "authors": list(self.authors), "fingerprints": list(self.fingerprints),
                "sampled": self.sampled, "calls": self.calls, "high_reach": self.high_reach,
                "top_authors": [list(p) for p in self.top_authors],
                "others": [list(p) for p in self.others],
                "texts": [list(p) for p in self.texts]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bucket:
        return cls(
            start=float(data["start"]), n=int(data["n"]), negative=int(data["negative"]),
            expected=float(data["expected"]), excess=int(data["excess"]),
            authors=tuple(data["authors"]), fingerprints=tuple(data["fingerprints"]),
            sampled=int(data["sampled"]), calls=int(data["calls"]),
            high_reach=int(data["high_reach"]),
            top_authors=tuple((a, int(f)) for a, f in data["top_authors"]),
            others=tuple((e, int(c)) for e, c in data["others"]),
            texts=tuple(_post(p) for p in data["texts"]),
        )


@dataclass(frozen=True, slots=True)
class Window:
    """The last ``minutes`` buckets, summed.

    >>> w = window((Bucket(0.0, n=4, negative=1, expected=2.0),
    ...             Bucket(60.0, n=6, negative=5, expected=2.0)), 2)
    >>> w.volume, w.negative, w.expected, w.minutes
    (10, 6, 4.0, 2)
    """

    minutes: int
    volume: int
    negative: int
    expected: float
    excess: int
    high_reach: int
    buckets: tuple[Bucket, ...]

    def distinct_authors(self) -> float:
        return distinct_estimate(kmv_merge(b.authors for b in self.buckets))

    def duplicate_share(self, at_least: int) -> float:
        """Share of kept original posts whose text at least ``at_least`` posts share."""
        sampled = sum(b.sampled for b in self.buckets)
        if not sampled:
            return 0.0
        return duplicated(chain.from_iterable(b.fingerprints for b in self.buckets),
                          at_least) / sampled

    def call_share(self) -> float:
        sampled = sum(b.sampled for b in self.buckets)
        return sum(b.calls for b in self.buckets) / sampled if sampled else 0.0

    def busiest(self) -> int:
        return max((b.n for b in self.buckets), default=0)


def window(ring: tuple[Bucket, ...], minutes: int) -> Window:
    """Sum the last ``minutes`` buckets of ``ring`` (fewer if the ring is shorter)."""
    buckets = ring[-minutes:]
    return Window(minutes, *totals(buckets), buckets)


Totals = tuple[int, int, float, int, int]  # volume, negative, expected, excess, high reach


def totals(buckets: tuple[Bucket, ...]) -> Totals:
    """The sums a :class:`Window` carries, over ``buckets``."""
    volume = negative = excess = high = 0
    expected = 0.0
    for b in buckets:
        volume += b.n
        negative += b.negative
        expected += b.expected
        excess += b.excess
        high += b.high_reach
    return volume, negative, expected, excess, high


def slide(old: Totals, ring: tuple[Bucket, ...], minutes: int) -> Totals:
    """Totals of the last ``minutes`` of ``ring`` from those one bucket earlier: O(1).

    ``ring`` already ends with the new bucket; the one leaving is ``ring[-minutes - 1]``.

    >>> ring = tuple(Bucket(60.0 * i, n=i, expected=1.0) for i in range(5))
    >>> slide(totals(ring[1:4]), ring, 3) == totals(ring[2:])
    True
    """
    new = ring[-1]
    v, k, e, x, h = old
    v, k, e, x, h = (v + new.n, k + new.negative, e + new.expected, x + new.excess,
                     h + new.high_reach)
    if len(ring) > minutes:
        gone = ring[-minutes - 1]
        v, k, e, x, h = (v - gone.n, k - gone.negative, e - gone.expected, x - gone.excess,
                         h - gone.high_reach)
    return v, k, max(e, 0.0), x, h


def ranked(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """Items by value, largest first, ties by key: a sort by key, then a stable one by
    value (two C sorts, no key function: this runs every minute of every entity).

    >>> ranked({"b": 2, "c": 5, "a": 2})
    (('c', 5), ('a', 2), ('b', 2))
    """
    return tuple(sorted(sorted(counts.items()), key=itemgetter(1), reverse=True))


# Reshares and copy-paste repeat a text verbatim: tag it once.
@lru_cache(maxsize=16_384)
def _tags_of(text: str) -> frozenset[str]:
    return frozenset(t for t in tokens(text) if t.startswith("#"))


@lru_cache(maxsize=16_384)
def _call_tags(text: str) -> frozenset[str]:
    return frozenset(call_hashtags(text))


def _post(p: list[Any]) -> Post:
    ts, url, of = [*p[6:9], None, None, None][:3]
    # Negativity is None for a post in a language the scorer does not read.
    return (str(p[0]), str(p[1]), str(p[2]), int(p[3]), None if p[4] is None else float(p[4]),
            bool(p[5]), None if ts is None else float(ts), url, of)
