"""Pseudonymise ordinary accounts; name public figures.

Firestorm watches conversation about policies and organisations, not people.
An account below the reach threshold is shown as a keyed hash: stable (the
same account reads the same in every alert, so coordinated bursts stay
visible) but not reversible without the key.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Collection
from dataclasses import dataclass, field

__all__ = ["Pseudonymiser"]

_HANDLE = re.compile(r"(?<![\w@])@\w+")
_MEMO_SIZE = 100_000  # accounts remembered before the memo starts again


@dataclass(frozen=True, slots=True)
class Pseudonymiser:
    """Keyed-hash pseudonyms for accounts with fewer than ``reach_threshold`` followers.

    >>> p = Pseudonymiser(key=b"k", reach_threshold=10_000)
    >>> p.author("@jo_bloggs", 120)
    'anon:ad4093cf5eed'
    >>> p.author("@MPforSomewhere", 250_000)
    '@MPforSomewhere'
    >>> p.text("@jo_bloggs says boycott @AcmeStores", keep={"@acmestores"})
    'anon:ad4093cf5eed says boycott @AcmeStores'
    """

    key: bytes
    reach_threshold: int = 10_000
    # Pseudonyms already worked out: active accounts post again and again, and the
    # keyed hash costs more than the rest of a mention's tagging. In memory only.
    _memo: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def author(self, handle: str, followers: int | None) -> str:
        if followers is not None and followers >= self.reach_threshold:
            return handle
        pseudonym = self._memo.get(handle)
        if pseudonym is None:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            digest = hmac.digest(self.key, handle.casefold().encode("utf-8", "surrogatepass"),
                                 "sha256")
            pseudonym = self._memo[handle] = f"anon:{digest[:6].hex()}"
        return pseudonym

    def text(self, text: str, keep: Collection[str] = ()) -> str:
        """Pseudonymise @handles inside a post, except watched ones (lower-case in ``keep``).

        The reach of an account named inside a post is unknown, so it is treated
        as ordinary.
        """
        if "@" not in text:
            return text
        return _HANDLE.sub(
            lambda m: m[0] if m[0].casefold() in keep else self.author(m[0], None), text)
