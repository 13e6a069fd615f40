"""From raw message bytes to per-entity observations: decode, tag, score, pseudonymise.

One function for both drivers (stream and replay), batched because the
negativity model is many times faster on a batch than one post at a time.
Besides observations it reports event-time progress per input partition
(:class:`~models.progress.Progress`, see :mod:`models.progress`).
Each mention's declared ``lang`` goes to the scorer, which reads the post in
that language or identifies it; a post it cannot read gets negativity None.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from models.hostility import markers, might_mark
from models.matcher import Matcher, tokens
from models.mention import Mention, Rejection, decode
from models.negativity import Assessment
from models.observation import Observation
from models.privacy import Pseudonymiser
from models.progress import Progress
from models.watchlist import Watchlist

__all__ = ["Intake", "IntakeResult"]

# Plain scores, every post read alike (tests, synthetic tones)...
ScoreMany = Callable[[Sequence[str]], Sequence[float]]
# ...or scores read in each post's language: NegativityScorer.assess_many.
AssessMany = Callable[[Sequence[str], Sequence[str | None]], Assessment]


@dataclass(slots=True)
class IntakeResult:
    """What one batch became. ``accepted + len(rejected) == batch size``, always."""

    items: list[Observation | Progress] = field(default_factory=list)  # in event order
    origins: list[int] = field(default_factory=list)  # batch index of each item; -1: progress
    rejected: list[tuple[int, Rejection]] = field(default_factory=list)  # (batch index, why)
    # (batch index, fields) of accepted mentions whose lone surrogates or NULs were replaced
    repaired: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    accepted: int = 0
    untagged: int = 0  # accepted but naming no watched entity

    @property
    def observations(self) -> list[Observation]:
        return [i for i in self.items if isinstance(i, Observation)]


class Intake:
    """Turns a batch of raw messages into observations, one per (mention, entity).

    >>> from models.watchlist import parse_watchlist
    >>> wl = parse_watchlist("entities: [{id: acme, name: Acme, kind: partner, terms: [acme]}]")
    >>> intake = Intake(wl, score_many=lambda texts: [0.9] * len(texts),
    ...                 pseudonymiser=Pseudonymiser(b"k"))
    >>> r = intake.accept_many([b'{"id":"1","ts":1.7e9,"platform":"x","author":"@a",'
    ...                         b'"text":"boycott acme"}', b'oops'], now=1.7e9)
    >>> [o.entity_id for o in r.observations], [rej.reason[:13] for _, rej in r.rejected]
    (['acme'], ['not valid JSO'])
    """

    def __init__(self, watchlist: Watchlist, score_many: ScoreMany | None,
                 pseudonymiser: Pseudonymiser, tick_seconds: int = 60, *,
                 assess_many: AssessMany | None = None, lateness: float = 0.0) -> None:
        if (score_many is None) == (assess_many is None):
            raise ValueError("Intake needs exactly one of score_many and assess_many")
        self._entity_ids = tuple(e.id for e in watchlist.entities)
        self.tick_seconds = tick_seconds
        self.lateness = lateness  # seconds a mention may trail its partition's newest
        self._marks: dict[int, float] = {}  # input partition -> last mark sent (a boundary)
        self._idle: set[int] = set()  # input partitions reported idle since their last mention
        self._matcher = Matcher(watchlist)
        self._score_many = score_many
        self._assess_many = assess_many
        self._pseudonymiser = pseudonymiser
        self._watched_handles = frozenset(
            h.casefold() for e in watchlist.entities for h in e.handles)

    def accept_many(self, raws: Sequence[bytes | str | None], *, now: float,
                    partitions: Sequence[int] | None = None, of: int = 1) -> IntakeResult:
        """Decode and tag a batch; ``now`` (epoch seconds) bounds future timestamps.

        ``partitions`` says which input partition (of ``of``) each raw message came
        from (replay: all 0 of 1). When a partition's mark (its newest event time
        less the lateness bound) crosses a minute boundary during the batch, or the
        partition speaks again after being idle, a :class:`Progress` for every
        watched entity follows the batch's observations.
        """
        result = IntakeResult()
        newest = self._intake(raws, now, partitions, result)
        for partition, ts in sorted(newest.items()):
            mark = ts - self.lateness
            boundary = mark - mark % self.tick_seconds
            old = self._marks.get(partition, -math.inf)
            if boundary > old or partition in self._idle:
                self._marks[partition] = max(boundary, old)
                self._idle.discard(partition)
                result.items.extend(Progress(e, partition, of, self._marks[partition])
                                    for e in self._entity_ids)
                result.origins.extend([-1] * len(self._entity_ids))
        return result

    def _intake(self, raws: Sequence[bytes | str | None], now: float,
                partitions: Sequence[int] | None, result: IntakeResult) -> dict[int, float]:
        """Decode, tag, score and pseudonymise ``raws`` into ``result``; the newest event
        time per input partition. In Python: the specification of the compiled core
        (models.compiled) and its test oracle."""
        tagged: list[tuple[int, Mention, tuple[str, ...], int]] = []
        newest: dict[int, float] = {}
        match_tokens = self._matcher.match_tokens
        for index, raw in enumerate(raws):
            decoded = decode(raw, now=now)
            if type(decoded) is Rejection:
                result.rejected.append((index, decoded))
                continue
            if decoded.repaired:
                result.repaired.append((index, decoded.repaired))
            partition = partitions[index] if partitions is not None else 0
            if decoded.ts > newest.get(partition, -math.inf):
                newest[partition] = decoded.ts
            toks = tokens(decoded.text)
            entities = match_tokens(toks)
            if entities:
                # Hostility markers the tone model underrates; most posts have none.
                flags = markers(decoded.text) if might_mark(toks, decoded.text) else 0
                tagged.append((index, decoded, entities, flags))
        result.accepted = len(raws) - len(result.rejected)
        result.untagged = result.accepted - len(tagged)
        if tagged:
            scores, langs = self._score_distinct([m.text for _, m, _, _ in tagged],
                                                 [m.lang for _, m, _, _ in tagged])
            for (index, mention, entities, flags), score, lang in zip(tagged, scores, langs,
                                                                      strict=True):
                self._observe(result, mention, entities, score, lang, flags)
                result.origins.extend([index] * len(entities))
        return newest

    def marks(self) -> dict[int, float]:
        """The last mark sent per input partition (event time, a minute boundary)."""
        return dict(self._marks)

    def idle(self, partition: int, of: int) -> list[Progress]:
        """The partition is caught up and has been quiet: tell every entity, so that it
        stops holding minutes open until its next mention. The worker says it again
        while the partition stays quiet (another partition's mention revokes it)."""
        self._idle.add(partition)
        mark = self._marks.get(partition, -math.inf)
        return [Progress(e, partition, of, mark, idle=True) for e in self._entity_ids]

    def with_watchlist(self, watchlist: Watchlist) -> Intake:
        """The same intake (scorer, pseudonyms, partition marks) for another watchlist."""
        new = Intake(watchlist, self._score_many, self._pseudonymiser, self.tick_seconds,
                     assess_many=self._assess_many, lateness=self.lateness)
        new._marks, new._idle = dict(self._marks), set(self._idle)
        return new

    def _score_distinct(self, texts: list[str], langs: list[str | None]
                        ) -> tuple[Sequence[float | None], Sequence[str | None]]:
        """Scores and languages of ``texts``, each distinct (text, lang) scored once:
        reshares and copy-paste repeat a text verbatim, and a post's score never
        depends on its batch."""
        keys = list(zip(texts, langs, strict=True))
        distinct = list(dict.fromkeys(keys))
        if len(distinct) < len(keys):
            scores, read = self._score([t for t, _ in distinct], [g for _, g in distinct])
            by_key = dict(zip(distinct, zip(scores, read, strict=True), strict=True))
            return [by_key[k][0] for k in keys], [by_key[k][1] for k in keys]
        return self._score(texts, langs)

    def _score(self, texts: list[str], langs: list[str | None]
               ) -> tuple[Sequence[float | None], Sequence[str | None]]:
        if self._assess_many is not None:
            assessed = self._assess_many(texts, langs)
            return assessed.values(), assessed.lang
        assert self._score_many is not None
        return [float(p) for p in self._score_many(texts)], langs

    def _observe(self, result: IntakeResult, mention: Mention, entities: tuple[str, ...],
                 score: float | None, lang: str | None, flags: int) -> None:
        author = self._pseudonymiser.author(mention.author, mention.author_followers)
        text = self._pseudonymiser.text(mention.text, self._watched_handles)
        # A link to a post names its author: kept only for accounts shown by name.
        url = mention.url if author == mention.author else None
        for entity_id in entities:
            others = tuple(e for e in entities if e != entity_id) if len(entities) > 1 else ()
            result.items.append(Observation(
                entity_id, mention.id, mention.ts, mention.platform, author, text,
                mention.author_followers, score, others, mention.reshare_of, lang, flags,
                url))
