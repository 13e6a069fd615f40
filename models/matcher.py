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
        self._phrases: dict[tuple[str, ...], set[str]] = {}
        for entity in watchlist.entities:
            for phrase in (*entity.terms, *entity.hashtags, *entity.handles):
                key = tuple(tokens(phrase))
                if key:
                    self._phrases.setdefault(key, set()).add(entity.id)
        self._longest = max((len(k) for k in self._phrases), default=0)
        self._first = {k[0] for k in self._phrases}
        # Every token one of whose _forms is a first token: most tokens are not, and a
        # set lookup rules them out before any form is made.
        self._triggers = frozenset(
            form for f in self._first for form in (f, f"#{f}", f"{f}'s"))

    def match(self, text: str) -> tuple[str, ...]:
        """Entity ids named in ``text``, in watchlist order, each once."""
        return self.match_tokens(tokens(text))

    def match_tokens(self, toks: list[str]) -> tuple[str, ...]:
        """As :meth:`match`, for text already split by :func:`tokens`."""
        found: set[str] = set()
        triggers = self._triggers
        for i, tok in enumerate(toks):
            if tok not in triggers:
                continue
            for first in _forms(tok):
                if first not in self._first:
                    continue
                window = [first, *toks[i + 1 : i + self._longest]]
                for n in range(1, len(window) + 1):
                    hit = self._phrases.get(tuple(window[:n]))
                    if hit:
                        found |= hit
        return tuple(sorted(found, key=self._order.__getitem__))


def _forms(token: str) -> Iterable[str]:
    # A hashtag also names its bare word: "#acme" is a mention of "acme".
    # A possessive names the thing: "acme's" is a mention of "acme".
    yield token
    if token[0] == "#" and len(token) > 1:
        yield token[1:]
    elif token.endswith("'s") and len(token) > 2:
        yield token[:-2]
