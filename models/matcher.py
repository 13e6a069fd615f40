"""Tag a post with every watched entity it names.

Matching works on tokens rather than one big regex so that overlapping terms
("acme" for one entity, "acme stores" for another) all match, and so that a
term only matches whole words: "acme" never matches "acmeville".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from models.watchlist import Watchlist

__all__ = ["Matcher", "tokens"]

_APOSTROPHE = "\u2019"  # typographic apostrophe, as phones type it
_TOKEN = re.compile(r"(?<!\w)[#@]\w+|\w+(?:['\u2019]\w+)*")


def tokens(text: str) -> list[str]:
    """Lower-cased word, hashtag and handle tokens of a text.

    >>> tokens("Boycott @AcmeStores! #Workfare isn't work")
    ['boycott', '@acmestores', '#workfare', "isn't", 'work']
    """
    low = text.casefold()
    if _APOSTROPHE in low:  # neither apostrophe is a word char: same tokens, one spelling
        low = low.replace(_APOSTROPHE, "'")
    return _TOKEN.findall(low)


class Matcher:
    """Finds the entities a text names, by term, hashtag or handle.

    >>> from models.watchlist import parse_watchlist
    >>> m = Matcher(parse_watchlist('''
    ... entities:
    ...   - {id: wp, name: Work Programme, kind: policy, terms: [work programme, workfare]}
    ...   - {id: acme, name: Acme, kind: partner, terms: [acme], handles: ["@acmestores"]}
    ... '''))
    >>> m.match("Acme profits from the WORK   programme")
    ('wp', 'acme')
    >>> m.match("Acmeville fair today")
    ()
    """

    def __init__(self, watchlist: Watchlist) -> None:
        self._order = {e.id: i for i, e in enumerate(watchlist.entities)}
        phrases: dict[tuple[str, ...], set[str]] = {}
        for entity in watchlist.entities:
            for phrase in (*entity.terms, *entity.hashtags, *entity.handles):
                key = tuple(tokens(phrase))
                if key:
                    phrases.setdefault(key, set()).add(entity.id)
        firsts = {k[0] for k in phrases}
        # For each token that can start a phrase (the phrase's first token, or a hashtag
        # or possessive of it: see _forms), the rest of each such phrase and its
        # entities. Most tokens start none, and one set intersection rules them out.
        starts: dict[str, list[tuple[list[str], frozenset[str]]]] = {}
        for trigger in (form for f in firsts for form in (f, f"#{f}", f"{f}'s")):
            for first in set(_forms(trigger)) & firsts:
                for key, ids in phrases.items():
                    if key[0] == first:
                        starts.setdefault(trigger, []).append((list(key[1:]), frozenset(ids)))
        self._starts = starts
        self._triggers = frozenset(starts)

    def match(self, text: str) -> tuple[str, ...]:
        """Entity ids named in ``text``, in watchlist order, each once."""
        return self.match_tokens(tokens(text))

    def match_tokens(self, toks: list[str]) -> tuple[str, ...]:
        """As :meth:`match`, for text already split by :func:`tokens`."""
        hits = self._triggers.intersection(toks)  # most posts: one C call, no loop
        if not hits:
            return ()
        found: set[str] = set()
        for tok in hits:
            for rest, ids in self._starts[tok]:
                if not rest:
                    found |= ids
                    continue
                i, n = -1, len(rest)
                for _ in range(toks.count(tok)):
                    i = toks.index(tok, i + 1)
                    if toks[i + 1 : i + 1 + n] == rest:
                        found |= ids
                        break
        if len(found) == 1:
            return tuple(found)
        return tuple(sorted(found, key=self._order.__getitem__))


def _forms(token: str) -> Iterable[str]:
    # A hashtag also names its bare word: "#acme" is a mention of "acme".
    # A possessive names the thing: "acme's" is a mention of "acme".
    yield token
    if token[0] == "#" and len(token) > 1:
        yield token[1:]
    elif token.endswith("'s") and len(token) > 2:
        yield token[:-2]
