"""Calls to action: posts asking people to do something against the target.

A boycott, petition, protest or "stop shopping at" turns anger into pressure,
which is why press officers want to know first. The phrase list is short and
explicit on purpose: it is read by the people who tune it.
"""

from __future__ import annotations

import re

__all__ = ["CALL_PHRASES", "call_hashtags", "is_call_to_action"]

CALL_PHRASES = (
    "boycott", "boycotting", "petition", "protest", "protesting", "demonstration",
    "stop shopping at", "stop using", "don't shop at", "do not shop at", "cancel my",
    "cancelled my", "sign the", "sign this", "walk out", "walkout", "march on",
    "join us", "join the protest", "write to your mp", "email your mp", "contact your mp",
    "scrap it", "scrap the", "resign", "shut it down",
)
_CALLS = re.compile(
    r"\b(?:" + "|".join(re.escape(p) for p in CALL_PHRASES) + r")\b"
    r"|#(?:boycott|scrap|stop|sack|ban|resign|petition|protest)\w*"
    r"|#\w+(?:must|should)go\b",
    re.IGNORECASE,
)
_HASHTAG = re.compile(r"#\w+")
# Cheap substring pre-check (the regex alternation costs ~15 us a text).
_STEMS = ("#", "boycott", "petition", "protest", "demonstration", "shop", "stop using",
          "cancel", "sign th", "walk", "march", "join", "your mp", "scrap", "resign", "shut")


def is_call_to_action(text: str) -> bool:
    """True when the post asks its readers to act.

    >>> is_call_to_action("Stop shopping at Acme until they quit #workfare")
    True
    >>> is_call_to_action("Sign the petition: https://x.y/p")
    True
    >>> is_call_to_action("#BoycottAcme"), is_call_to_action("Lovely service at Acme")
    (True, False)
    """
    low = text.casefold()
    if not any(stem in low for stem in _STEMS):
        return False
    return _CALLS.search(low) is not None


def call_hashtags(text: str) -> list[str]:
    """Hashtags of a post that are themselves calls to action, lower-cased.

    >>> call_hashtags("Enough. #BoycottAcme #Monday #ScrapWorkfare")
    ['#boycottacme', '#scrapworkfare']
    """
    return [t for t in (h.casefold() for h in _HASHTAG.findall(text))
            if _CALLS.fullmatch(t) is not None]
