"""Time buckets of one entity and the multi-scale windows made of them.

Per mention, :meth:`OpenBucket.add` does O(1) work: a link prepended to an
immutable chain of per-post records (a tuple cons list: sharing its tail, so
the old state stays valid), and the post itself while fewer than
``keep_texts`` are kept: enough to find copy-paste, calls to action, top
terms and samples without storing a storm.

When event time passes the bucket's end, :meth:`OpenBucket.close` summarises
the chain into a :class:`Bucket` whose :class:`Totals` a :class:`Window` sums
over the last 5, 15 or 60 buckets (slid in O(1) per bucket by :func:`slide`).
"""

from __future__ import annotations

import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from operator import add, attrgetter, itemgetter
from typing import Any, NamedTuple

from models.calls_to_action import call_hashtags
from models.coordination import (
    KMV_K,
    distinct_estimate,
    fingerprints,
    kmv_counts,
    kmv_merge,
    repeat_sample,
)
from models.hostility import CALL, DEMAND, QUESTION, SARCASM
from models.matcher import tokens

try:  # compiled (rust/src/window.rs, bucket.rs); the Python here is their specification
    from models._core import bucket_fold as _compiled_fold
    from models._core import window_duplicates as _compiled_duplicates
    from models._core import window_voices as _compiled_voices
except ImportError:  # pragma: no cover - `make install` builds the core
    _compiled_duplicates = _compiled_voices = _compiled_fold = None

__all__ = ["Bucket", "Counts", "OpenBucket", "Post", "Totals", "Window", "bump_langs", "copies_in",
           "ranked", "slide", "slide_all", "summed", "totals", "window"]


class Post(NamedTuple):
    """A kept post: what evidence shows and what copy-paste and calls are read from."""

    id: str
    author: str
    text: str
    followers: int
    hostility: float | None  # None: tone not scored (a language without a model)
    reshare_of: str | None = None
    markers: int = 0  # models.hostility flags
    ts: float | None = None  # when it was posted (event time)
    url: str | None = None  # link to it, kept only for authors shown by name

    @classmethod
    def from_list(cls, p: list[Any]) -> Post:
        # State written before time and link were kept reads them as None.
        ts, url = [*p[7:9], None, None][:2]
        return cls(str(p[0]), str(p[1]), str(p[2]), int(p[3]),
                   None if p[4] is None else float(p[4]),
                   None if p[5] is None else str(p[5]), int(p[6]),
                   None if ts is None else float(ts), None if url is None else str(url))


class Totals(NamedTuple):
    """The additive figures of a bucket or a window that are slid every bucket.

    Tone is read from what people write: ``scored``, ``mass`` and ``hostile`` are
    of original posts (not reshares) whose tone was scored. Reshares add attention
    (volume), and the hostile mentions of a window are its organic volume times the
    hostile share of its originals: a post reshared hundreds of times carries the
    tone of the conversation around it, whatever a sentence model makes of it.
    """

    volume: int = 0
    scored: int = 0  # original posts whose tone was scored
    mass: float = 0.0  # their hostile weight: posts at or above the threshold, or the sum
    # of their hostility (the expected number of hostile posts), as share_by says
    hostile: int = 0  # scored posts at or above the hostility threshold
    expected: float = 0.0  # baseline's expected volume
    excess: int = 0  # posts beyond the per-author cap within each bucket

    @property
    def share(self) -> float:
        """Hostile share of the scored posts (0 when none was scored)."""
        return self.mass / self.scored if self.scored else 0.0

    def organic_hostile(self, share0: float = 0.0) -> float:
        """Hostile mentions of the organic volume (``volume - excess``), where the
        ``excess`` posts are coordinated and taken as hostile: they lend the organic
        posts none of their hostility, as in :class:`~models.signals.Scale`. Without
        scored posts, the organic volume at the baseline share ``share0``.

        >>> Totals(volume=300, scored=300, mass=285.0, excess=280).organic_hostile()
        5.0
        >>> Totals(volume=20, scored=20, mass=10.0).organic_hostile()
        10.0
        """
        organic = max(self.volume - self.excess, 0)
        if not self.scored:
            return share0 * organic
        share = self.mass / self.scored
        return min(share * organic, max(0.0, share * self.volume - self.excess))

    @classmethod
    def from_list(cls, t: list[Any]) -> Totals:
        return cls(int(t[0]), int(t[1]), float(t[2]), int(t[3]), float(t[4]), int(t[5]))


class Counts(NamedTuple):
    """Counts a bucket keeps for the signals of an unusual window (summed only then)."""

    high_reach: int = 0  # posts by accounts at or above the high-reach threshold
    demands: int = 0  # scored original posts carrying each hostility marker
    sarcasm: int = 0
    questions: int = 0
    reshares: int = 0
    unscored: int = 0  # posts whose tone could not be scored (a language without a model)
    calls: int = 0  # posts calling for a boycott, petition, protest...


ZERO = Totals()
NO_COUNTS = Counts()
_VOLUME = attrgetter("totals.volume")
_AUTHOR, _OTHERS = itemgetter(0), itemgetter(2)  # of a post record (``OpenBucket.records``)
_FLAGS = (DEMAND, SARCASM, QUESTION, CALL)  # the marker bits, for the compiled fold
_BIG_ENDIAN = sys.byteorder == "big"


def _totals(values: tuple[Any, ...]) -> Totals:
    """A Totals from its six values, without the generated constructor's call."""
    return tuple.__new__(Totals, values)


@dataclass(frozen=True, slots=True)
class OpenBucket:
    """The bucket event time is in: a chain of post records, and the kept posts.

    >>> b = OpenBucket(0.0).add("u1", 10, (), None, 0.9, 0, Post("m1", "u1", "Awful", 10, 0.9))
    >>> b = b.add("u2", 5, (), None, 0.1, 0, Post("m2", "u2", "Fine", 5, 0.1))
    >>> b.n, len(b.texts)
    (2, 2)
    >>> OpenBucket.from_dict(b.to_dict()) == b
    True
    """

    start: float
    n: int = 0
    chain: tuple | None = None  # (author, followers, others, root, hostility, markers, rest)
    texts: tuple[Post, ...] = ()
    langs: tuple[tuple[str, int], ...] = ()  # posts not scored for tone, by language

    def add(self, author: str, followers: int, others: tuple[str, ...], root: str | None,
            hostility: float | None, markers: int, post: Post | None,
            lang: str | None = None) -> OpenBucket:
        """Count one post; ``post`` is its kept record, or None once enough are kept;
        ``lang`` names the language of a post not scored for tone (``hostility`` None).
        The detector folds a minute's posts in one loop (``Detector.observe_many``, the
        same record and language count): a change here is a change there."""
        langs = self.langs
        if hostility is None:
            langs = bump_langs(langs, lang or "und")
        return OpenBucket(self.start, self.n + 1,
                          (author, followers, others, root, hostility, markers, self.chain),
                          self.texts if post is None else (*self.texts, post), langs)

    def records(self) -> list[tuple[Any, ...]]:
        """The ``(author, followers, others, root, hostility, markers)`` of every post,
        newest first."""
        out, link = [], self.chain
        while link is not None:
            out.append(link[:6])
            link = link[6]
        return out

    def close(self, expected: float, params: Any) -> Bucket:
        """Summarise this bucket; ``params`` are the detector's
        (:class:`models.params.DetectorParams`)."""
        if self.n == 0:
            return Bucket(self.start, _totals((0, 0, 0.0, 0, expected, 0)))
        if _compiled_fold is not None:
            folded = _compiled_fold(self.chain, params.author_cap, params.negative_threshold,
                                    params.high_reach, KMV_K, params.top_authors, _FLAGS)
            if folded is not None:
                return self._folded(folded, expected, params)
        return self._close(expected, params)

    def _folded(self, folded: tuple[Any, ...], expected: float, params: Any) -> Bucket:
        """The Bucket of the compiled fold's values (:func:`models._core.bucket_fold`)."""
        (scored, mass, hostile, excess), counts, (sketch, posts, distinct), tops, others, \
            roots = folded
        if params.share_by == "threshold":
            mass = float(hostile)
        return Bucket(
            start=self.start, totals=_totals((self.n, scored, mass, hostile, expected, excess)),
            counts=tuple.__new__(Counts, counts), authors=tuple(sketch), posts=tuple(posts),
            distinct=distinct, top_authors=tuple(tops), others=tuple(others),
            roots=tuple(roots), texts=self.texts, langs=self.langs)

    def _close(self, expected: float, params: Any) -> Bucket:
        """:meth:`close` in Python: the compiled fold's specification (and the reader of
        a record it leaves to Python)."""
        records = self.records()
        per_author = Counter(map(_AUTHOR, records))
        sketch, posts = kmv_counts(per_author)
        cap = params.author_cap
        excess = sum(c - cap for c in per_author.values() if c > cap)
        threshold, high_reach = params.negative_threshold, params.high_reach
        reach: dict[str, int] = {}
        roots: Counter[str] = Counter()
        high = scored = hostile = demands = sarcasm = questions = unscored = calls = 0
        mass = 0.0
        for author, followers, _, root, h, flags in records:
            if flags & CALL:
                calls += 1
            if followers >= high_reach:
                high += 1
            if followers > reach.get(author, -1):
                reach[author] = followers
            if root is not None:
                roots[root] += 1
            if h is None:
                unscored += 1
            elif root is None:
                scored += 1
                mass += h
                if h >= threshold:
                    hostile += 1
                if flags:
                    demands += (flags & DEMAND) > 0
                    sarcasm += (flags & SARCASM) > 0
                    questions += (flags & QUESTION) > 0
        if params.share_by == "threshold":
            mass = float(hostile)  # the share counts posts at or above the threshold
        others = Counter(chain.from_iterable(map(_OTHERS, records)))
        return Bucket(
            start=self.start,
            totals=Totals(self.n, scored, mass, hostile, expected, excess),
            counts=Counts(high, demands, sarcasm, questions, sum(roots.values()), unscored,
                          calls),
            authors=sketch, posts=posts, distinct=len(per_author),
            top_authors=ranked(reach)[:params.top_authors],
            others=tuple(sorted(others.items())), roots=ranked(roots)[:3], texts=self.texts,
            langs=self.langs,
        )

    def to_dict(self) -> dict[str, Any]:
        out = {"start": self.start, "n": self.n,
               "records": [[a, f, list(o), r, h, m] for a, f, o, r, h, m
                           in reversed(self.records())],
               "texts": [list(p) for p in self.texts]}
        if self.langs:
            out["langs"] = [list(x) for x in self.langs]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OpenBucket:
        link = None
        for author, followers, others, root, h, flags in data["records"]:
            link = (author, int(followers), tuple(others), root,
                    None if h is None else float(h), int(flags), link)
        return cls(float(data["start"]), int(data["n"]), link,
                   tuple(Post.from_list(p) for p in data["texts"]), _langs(data))

    def __reduce__(self) -> tuple[Any, ...]:
        # The chain nests one tuple per post: pickle it flat, not recursively.
        return (OpenBucket.from_dict, (self.to_dict(),))


@dataclass(frozen=True, slots=True)
class Bucket:
    """A closed bucket: its totals, what it was expected to hold, and its evidence.

    >>> b = Bucket(60.0, Totals(volume=3, scored=3, mass=2.1, hostile=2, expected=1.5))
    >>> Bucket.from_dict(b.to_dict()) == b, b.n
    (True, 3)
    """

    start: float
    totals: Totals = ZERO
    counts: Counts = NO_COUNTS
    authors: tuple[int, ...] = ()  # KMV sketch of distinct authors
    distinct: int = 0  # distinct authors in this bucket, exactly
    top_authors: tuple[tuple[str, int], ...] = ()
    others: tuple[tuple[str, int], ...] = ()  # co-mentioned entities
    roots: tuple[tuple[str, int], ...] = ()  # most reshared posts (id, reshares), top 3
    texts: tuple[Post, ...] = ()  # dropped once the bucket is older than the evidence horizon
    posts: tuple[int, ...] = ()  # the posts of each author sampled in ``authors``
    # Copy-paste among its posts, read when its texts were dropped (``stripped``), so a
    # window still subtracts a burst's copies after their texts are gone: the posts, and
    # those of them not hostile (a headline shared verbatim is not a campaign).
    copies: float = 0.0
    calm_copies: float = 0.0
    langs: tuple[tuple[str, int], ...] = ()  # posts not scored for tone, by language
    # Hashtag counts and text fingerprints of ``texts``, worked out on first use: evidence
    # reads the same buckets every minute of a storm. Memos, not state: never compared
    # or stored.
    _tags: dict[bool, Counter[str]] | None = field(default=None, compare=False, repr=False)
    _fingerprints: tuple[tuple[int, ...], tuple[float | None, ...]] | None = field(
        default=None, compare=False, repr=False)
    _sample: tuple[int, bytes, bytes] | None = field(default=None, compare=False, repr=False)

    @property
    def n(self) -> int:
        return self.totals.volume

    @property
    def expected(self) -> float:
        return self.totals.expected

    def hashtags(self, calls_only: bool) -> Counter[str]:
        """Kept posts carrying each hashtag (only calls to action, if ``calls_only``).

        >>> Bucket(0.0, texts=(Post("m", "a", "#Boycott #acme", 1, 0.9),)).hashtags(True)
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
                if "#" in post.text:
                    counts.update(tags_of(post.text))
        return counts

    def sample(self) -> tuple[int, bytes, bytes]:
        """``(distinct, authors, posts)`` with the sketch and its posts packed as
        little-endian u64s, for the compiled :meth:`Window.voices` (worked out on first
        use: an unusual hour reads each of its buckets every minute). Raises
        OverflowError for a value no u64 holds.

        >>> Bucket(0.0, authors=(7,), posts=(2,), distinct=1).sample()[1].hex()
        '0700000000000000'
        """
        memo = self._sample
        if memo is None:
            memo = (self.distinct, _packed(self.authors), _packed(self.posts))
            object.__setattr__(self, "_sample", memo)
        return memo

    def fingerprints(self) -> tuple[int, ...]:
        """Fingerprints of the kept original (non-reshare) posts (copy-paste detection)."""
        return self.originals()[0]

    def originals(self) -> tuple[tuple[int, ...], tuple[float | None, ...]]:
        """Fingerprints and hostility of the kept original (non-reshare) posts."""
        memo = self._fingerprints
        if memo is None:
            kept = [p for p in self.texts if p.reshare_of is None]
            memo = (fingerprints([p.text for p in kept]),
                    tuple(p.hostility for p in kept))
            object.__setattr__(self, "_fingerprints", memo)
        return memo

    def stripped(self, copies: float = 0.0, calm_copies: float = 0.0) -> Bucket:
        """This bucket without its kept texts (past the evidence horizon), keeping how
        many of its posts were copies as read from them (see :func:`copies_in`)."""
        if not self.texts:
            return self
        # Built directly: dataclasses.replace costs more than the rest of a quiet close.
        return Bucket(self.start, self.totals, self.counts, self.authors, self.distinct,
                      self.top_authors, self.others, self.roots, (), self.posts,
                      copies, calm_copies, self.langs)

    def to_dict(self) -> dict[str, Any]:
        out = {"start": self.start, "totals": list(self.totals), "counts": list(self.counts),
               "authors": list(self.authors), "distinct": self.distinct,
               "top_authors": [list(p) for p in self.top_authors],
               "others": [list(p) for p in self.others], "roots": [list(p) for p in self.roots],
               "texts": [list(p) for p in self.texts], "posts": list(self.posts)}
        if self.copies:
            out["copies"] = [self.copies, self.calm_copies]
        if self.langs:
            out["langs"] = [list(x) for x in self.langs]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bucket:
        # Buckets stored before copies were kept read as having none.
        copies, calm_copies = data.get("copies", (0.0, 0.0))
        return cls(
            start=float(data["start"]), totals=Totals.from_list(data["totals"]),
            counts=Counts(*map(int, data["counts"])),
            authors=tuple(data["authors"]), distinct=int(data["distinct"]),
            top_authors=tuple((a, int(f)) for a, f in data["top_authors"]),
            others=tuple((e, int(c)) for e, c in data["others"]),
            roots=tuple((r, int(c)) for r, c in data["roots"]),
            texts=tuple(Post.from_list(p) for p in data["texts"]),
            posts=tuple(int(n) for n in data.get("posts", ())),
            copies=float(copies), calm_copies=float(calm_copies), langs=_langs(data),
        )


@dataclass(frozen=True, slots=True)
class Window:
    """The last ``minutes`` buckets, summed.

    >>> w = window((Bucket(0.0, Totals(volume=4, scored=4, mass=1.0, expected=2.0)),
    ...             Bucket(60.0, Totals(volume=6, scored=6, mass=5.0, expected=2.0))), 2)
    >>> w.totals.volume, w.totals.share, w.totals.expected, w.minutes
    (10, 0.6, 4.0, 2)
    """

    minutes: int
    totals: Totals
    buckets: tuple[Bucket, ...]

    def distinct_authors(self) -> float:
        """Distinct authors: the KMV estimate, kept within what the buckets make possible
        (at least the busiest bucket's exact count, at most the sum of them and the
        volume), so that an estimate never claims more authors than posts."""
        return self._bounded(distinct_estimate(kmv_merge(b.authors for b in self.buckets)))

    def _bounded(self, estimate: float) -> float:
        exact = [b.distinct for b in self.buckets]
        return float(min(max(estimate, max(exact, default=0)), sum(exact), self.totals.volume))

    def repeaters(self, cap: int) -> tuple[float, float]:
        """Estimated share of the window's posts by authors with more than ``cap`` posts
        in it, and share of its authors who are such repeaters: bots and campaign
        accounts, whose posts are coordinated and who are no voices of a storm. Read
        from the counted author sample of the buckets (exact below ``KMV_K`` authors).

        >>> from models.coordination import kmv_counts
        >>> s, n = kmv_counts({"@bot": 7, "@a": 1})
        >>> b = Bucket(0.0, Totals(volume=8), authors=s, posts=n, distinct=2)
        >>> window((b, b), 2).repeaters(3)
        (0.875, 0.5)
        """
        return repeat_sample(((b.authors, b.posts) for b in self.buckets if b.posts), cap)

    def voices(self, cap: int) -> tuple[float, float, float]:
        """:meth:`distinct_authors` and :meth:`repeaters` together, from one merge of the
        sketches: read for each window that may be escalating, so compiled (the Python
        below is the specification; ``tests/unit/test_compiled_window.py``).

        >>> from models.coordination import kmv_counts
        >>> s, n = kmv_counts({"@bot": 7, "@a": 1})
        >>> b = Bucket(0.0, Totals(volume=8), authors=s, posts=n, distinct=2)
        >>> window((b, b), 2).voices(3)
        (2.0, 0.875, 0.5)
        """
        if _compiled_voices is not None:
            try:
                samples = [b.sample() for b in self.buckets]
            except (OverflowError, TypeError):  # a value no u64 holds: Python reads it
                samples = None
            read = (None if samples is None else
                    _compiled_voices(samples, self.totals.volume, cap, KMV_K))
            if read is not None:
                return read
        sampled = [(b.authors, b.posts) for b in self.buckets if b.posts]
        if len(sampled) != sum(1 for b in self.buckets if b.authors):
            # A bucket stored before its authors' posts were counted: two samples.
            return (self.distinct_authors(), *self.repeaters(cap))
        merged = kmv_merge(s for s, _ in sampled)
        return (self._bounded(distinct_estimate(merged)),
                *repeat_sample(sampled, cap, merged=merged))

    def duplicate_share(self, at_least: int) -> float:
        """Share of kept original posts whose text at least ``at_least`` posts share (read
        from the buckets that still keep their texts: the evidence horizon)."""
        return self.duplicates(at_least, 1.0)[0]

    def duplicates(self, at_least: int, threshold: float) -> tuple[float, float]:
        """The share of kept original posts whose text at least ``at_least`` posts share,
        and the share of those copies that are hostile (at or above ``threshold``; 1.0
        when none was scored): copy-paste may be a campaign's slogan or a news
        headline, and only the first may take hostility away from the crowd.

        >>> p = Post("m", "a", "Acme statement in full", 1, 0.1)
        >>> window((Bucket(0.0, Totals(volume=4), texts=(p, p, p, p._replace(
        ...     text="Awful"))),), 1).duplicates(3, 0.5)
        (0.75, 0.0)
        """
        if _compiled_duplicates is not None:
            return _compiled_duplicates([b.originals() for b in self.buckets if b.texts],
                                        at_least, threshold)
        fps: list[int] = []
        tones: list[float | None] = []
        for b in self.buckets:
            if b.texts:
                f, t = b.originals()
                fps += f
                tones += t
        if not fps:
            return 0.0, 1.0
        counts = Counter(fps)
        if max(counts.values()) < at_least:  # no copies (most windows)
            return 0.0, 1.0
        copies = [h for fp, h in zip(fps, tones, strict=True) if counts[fp] >= at_least]
        scored = [h for h in copies if h is not None]
        rate = sum(h >= threshold for h in scored) / len(scored) if scored else 1.0
        return len(copies) / len(fps), rate

    def counts(self) -> Counts:
        """The signal counts of the window (summed on demand: unusual windows only)."""
        counted = [b.counts for b in self.buckets if b.counts is not NO_COUNTS]
        return Counts._make(map(sum, zip(*counted, strict=True))) if counted else NO_COUNTS

    def unscored_langs(self) -> tuple[tuple[str, int], ...]:
        """Posts not scored for tone, by language, most first (summed on demand)."""
        return ranked(summed(chain.from_iterable(b.langs for b in self.buckets)))

    def busiest(self) -> int:
        return max(map(_VOLUME, self.buckets), default=0)

    def centre(self) -> tuple[str, int] | None:
        """The most reshared post of the window and its reshares (None: no reshares)."""
        counts = summed(chain.from_iterable(b.roots for b in self.buckets))
        return ranked(counts)[0] if counts else None


def summed(pairs: Iterable[tuple[str, int]]) -> Counter[str]:
    """``(key, count)`` pairs summed by key: the buckets' reshared posts, co-mentioned
    entities or unscored languages over a window.

    >>> summed([("cy", 2), ("fr", 1), ("cy", 3)])
    Counter({'cy': 5, 'fr': 1})
    """
    counts: Counter[str] = Counter()
    for key, n in pairs:
        counts[key] += n
    return counts


def bump_langs(langs: tuple[tuple[str, int], ...], lang: str) -> tuple[tuple[str, int], ...]:
    """One more post in ``lang`` (a handful of languages at most: a tuple scan)."""
    for i, (name, n) in enumerate(langs):
        if name == lang:
            return (*langs[:i], (name, n + 1), *langs[i + 1:])
    return (*langs, (lang, 1))


def _langs(data: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    """A stored bucket's unscored posts by language (none in buckets stored before)."""
    return tuple((str(lang), int(n)) for lang, n in data.get("langs", ()))


def copies_in(buckets: tuple[Bucket, ...], at_least: int, threshold: float
              ) -> tuple[float, float]:
    """How many posts of ``buckets[0]`` are copy-paste (a text that at least
    ``at_least`` kept original posts of ``buckets`` share, read as
    :meth:`Window.duplicates` reads a window) and how many of those are not hostile
    (below ``threshold``), scaled from its kept posts to its organic volume.

    Read as the bucket's texts are dropped, so that a window holding it later
    still sets its copies aside: a copy-paste burst's texts leave the evidence
    horizon a quarter of an hour after it, while the hour holds its posts.

    >>> p = Post("m", "a", "Betrayed us all. Share if you agree", 1, 0.9)
    >>> b = Bucket(0.0, Totals(volume=10), texts=(p, p, p._replace(text="Fine", hostility=0.1)))
    >>> copies_in((b, Bucket(60.0, texts=(p,))), 3, 0.5)
    (6.666666666666667, 0.0)
    """
    first = buckets[0]
    mine, tones = first.originals()
    if not mine:
        return 0.0, 0.0
    counts = Counter(chain.from_iterable(b.originals()[0] for b in buckets if b.texts))
    copied = [h for fp, h in zip(mine, tones, strict=True) if counts[fp] >= at_least]
    if not copied:
        return 0.0, 0.0
    t = first.totals
    scale = max(t.volume - t.excess, 0) / len(mine)
    calm = sum(1 for h in copied if h is not None and h < threshold)
    return len(copied) * scale, calm * scale


def window(ring: tuple[Bucket, ...], minutes: int) -> Window:
    """Sum the last ``minutes`` buckets of ``ring`` (fewer if the ring is shorter)."""
    buckets = ring[-minutes:]
    return Window(minutes, totals(b.totals for b in buckets), buckets)


def totals(parts: Iterable[Totals]) -> Totals:
    """The sum of ``parts``.

    >>> totals([Totals(volume=2, mass=0.5), Totals(volume=3, mass=1.0)]).volume
    5
    """
    out = ZERO
    for t in parts:
        out = Totals._make(map(add, out, t))
    return out


def slide(old: Totals, ring: tuple[Any, ...], minutes: int) -> Totals:
    """Totals of the last ``minutes`` of ``ring`` from those one entry earlier: O(1).

    ``ring`` (of buckets, or of anything with ``totals``) already ends with the new
    entry; the one leaving is ``ring[-minutes - 1]``.

    >>> ring = tuple(Bucket(60.0 * i, Totals(volume=i, expected=1.0)) for i in range(5))
    >>> slide(window(ring[1:4], 3).totals, ring, 3) == window(ring[2:], 3).totals
    True
    """
    return slide_all((old,), ring, (minutes,))[0]


def slide_all(olds: tuple[Totals, ...], ring: tuple[Any, ...],
              scales: tuple[int, ...]) -> tuple[Totals, ...]:
    """The sums of the last ``m`` entries of ``ring`` for each ``m`` of ``scales``, each
    slid from ``olds``, their sums one entry earlier (or empty for none yet): see
    :func:`slide`.

    >>> ring = tuple(Bucket(60.0 * i, Totals(volume=i, expected=1.0)) for i in range(5))
    >>> sums = ()
    >>> for i in range(len(ring)):  # one bucket closes: the ring ends with it
    ...     sums = slide_all(sums, ring[:i + 1], (2, 3))
    >>> [(t.volume, t.expected) for t in sums]
    [(7, 2.0), (9, 3.0)]
    """
    if not olds:
        olds = (ZERO,) * len(scales)
    # One loop, no call per scale: this runs for every entity every minute.
    a0, a1, a2, a3, a4, a5 = ring[-1].totals
    n = len(ring)
    out = []
    for old, minutes in zip(olds, scales, strict=True):
        if n > minutes:
            b = ring[-minutes - 1].totals
            mass, expected = old[2] + a2 - b[2], old[4] + a4 - b[4]
            if expected < 0.0 or mass < 0.0:  # float round-off of long sums
                expected, mass = max(expected, 0.0), max(mass, 0.0)
            out.append(_totals((old[0] + a0 - b[0], old[1] + a1 - b[1], mass,
                                old[3] + a3 - b[3], expected, old[5] + a5 - b[5])))
        else:
            out.append(_totals((old[0] + a0, old[1] + a1, old[2] + a2, old[3] + a3,
                                old[4] + a4, old[5] + a5)))
    return tuple(out)


def _packed(values: tuple[int, ...]) -> bytes:
    """``values`` as little-endian u64s (OverflowError for one below 0 or above)."""
    packed = array("Q", values)
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


def ranked(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """Items by value, largest first, ties by key: a sort by key, then a stable one by
    value (two C sorts, no key function: this runs every minute of every entity).

    >>> ranked({"b": 2, "c": 5, "a": 2})
    (('c', 5), ('a', 2), ('b', 2))
    """
    if len(counts) < 2:  # most buckets' reshared posts: nothing to sort
        return tuple(counts.items())
    return tuple(sorted(sorted(counts.items()), key=itemgetter(1), reverse=True))


# Reshares and copy-paste repeat a text verbatim: tag it once.
@lru_cache(maxsize=16_384)
def _tags_of(text: str) -> frozenset[str]:
    return frozenset(t for t in tokens(text) if t.startswith("#"))


@lru_cache(maxsize=16_384)
def _call_tags(text: str) -> frozenset[str]:
    return frozenset(call_hashtags(text))
