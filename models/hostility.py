"""Hostility beyond sentence sentiment: markers a tone model reads as mild or positive.

A firestorm is hostile attention, and much of it does not read as negative to
a sentence-level tone model: a demand that someone be sacked (``#SackSmith``),
sarcasm ("lovely to see X so in touch with the public 🙄"), and the bewildered
question of people arriving at the pile-on ("who is X and why is she
trending?"). Each is a *marker*, found per post at intake and carried as bit
flags on the observation; the detector turns it into a hostility weight and a
reason the press officer can check.

The markers are signals, not the tone: the tone comes from the negativity
model. A marker only lifts a post's hostility towards 1 by a fixed weight,

    hostility = 1 - (1 - p) * (1 - w_demand) * (1 - w_sarcasm) * (1 - w_question)

(each ``w`` counted only when its marker is present), so a post the model
already scores hostile stays hostile, a neutral post with a demand becomes
likely hostile, and a positive post is never flipped by one weak cue. The
lists are short and explicit on purpose: the people who tune them read them.
Praise phrases ("well done", "cheers") are not markers on their own: sarcasm
needs an irony cue (an eye-roll emoji, "/s", "so in touch", "lovely to see"),
so that genuine thanks stay thanks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from models.calls_to_action import is_call_to_action

__all__ = ["CALL", "DEMAND", "MARKERS", "QUESTION", "SARCASM", "hostility", "keep_factors",
           "marker_names", "markers", "might_mark"]

DEMAND = 1  # sack / resign / must go / #SackX / #XOut
SARCASM = 2  # 🙄 🙃, "lovely to see", "well done" next to an irony cue
QUESTION = 4  # "who is X and why is she trending", "what has X done"
CALL = 8  # a call to action (models.calls_to_action): a signal, not a hostility weight
MARKERS = {"demand": DEMAND, "sarcasm": SARCASM, "question": QUESTION, "call": CALL}

_DEMAND = re.compile(
    r"#(?:sack|oust|resign)\w*"  # #SackSmith, #ResignNow
    r"|#\w+(?:mustgo|mustresign|mustquit|resign|resignnow)\b"  # #SmithMustGo
    r"|#(?P<stem>\w{2,}?)out\b"  # #SmithOut (not #workout: see _NOT_DEMANDS)
    r"|\b(?:sack|oust)\s+(?:him|her|them|the\s+\w+|\w+)\b"
    r"|\bfire\s+(?:him|her|them)\b"
    r"|\b(?:must|should|needs? to|has to|have to|ought to)\s+(?:be\s+)?"
    r"(?:go|resign|quit|step down|stand down|be sacked|be fired|sacked|fired)\b"
    r"(?!\s+(?:to|and|on|for|out|back|home|through|ahead|with|in|there|by|up|over)\b)"
    r"|\b(?:resign|step down|stand down)\s*(?:now|today|immediately|!|\.|$)"
    r"|\bresignation\b|\bheads?\s+(?:must|should|will)\s+roll\b|\bno confidence\b"
    r"|\bget\s+(?:him|her|them)\s+out\b",
    re.IGNORECASE,
)
# Hashtags ending in "out" that are ordinary words, not "#<name>Out" demands.
_NOT_DEMANDS = frozenset((
    "work", "check", "look", "take", "shout", "black", "lock", "knock", "burn", "drop", "break",
    "hang", "print", "hand", "roll", "sell", "cook", "pay", "bail", "walk", "fall", "turn",
    "time", "carry", "stake", "shoot", "cut", "wipe", "blow", "buy", "lay", "hide", "try", "with",
    "through", "about", "throughout", "sold", "sprout", "spout", "stout", "scout", "trout"
))
_IRONY = re.compile(
    "[\U0001F644\U0001F643\U0001F612\U0001F921\U0001F926\U0001F60F]"  # 🙄🙃😒🤡🤦😏
    r"|(?:^|\s)/s\b|\byeah,? right\b|\bso in touch\b|\bthanks for nothing\b"
    r"|\blovely to see\b|\bgreat to know what\b|\bwhat could (?:possibly )?go wrong\b"
    r"|\bslow clap\b|\bcouldn'?t make it up\b|\bsaid no one ever\b"
    r"|\bhow (?:very )?(?:lovely|nice|thoughtful|reassuring)\b",
    re.IGNORECASE,
)
_QUESTION = re.compile(
    r"\bwho (?:is|tf is|the hell is|even is)\b[^?]{0,60}\bwhy\b"
    r"|\bwhy is\b[^?]{0,40}\btrending\b"
    r"|\bwhat (?:has|did) (?!you\b|i\b|we\b|u\b)[^?]{0,40}\b(?:do|done|say|said)\b"
    r"|\bwhat(?:'s| is) going on with\b|\bwhy is every(?:one|body) talking about\b"
    r"|\bcan (?:someone|anyone) explain\b"
    r"|\bwhat (?:on earth|the hell)\b|\bis this (?:real|a joke)\b"
    r"|\bhow is this (?:allowed|ok|okay|legal|acceptable)\b|\bare (?:you|they) serious\b",
    re.IGNORECASE,
)
# Cheap pre-checks (most posts carry no marker): substrings any match must contain.
_DEMAND_STEMS = ("#", "sack", "fire", "oust", "must", "should", "need", "has to", "have to",
                 "ought", "resign", "step down", "stand down", "roll", "confidence", "get ")
_QUESTION_STEMS = ("who", "why", "what", "is this", "how is", "serious", "explain")


# Words at least one marker needs (as tokens of models.matcher.tokens), and the irony
# emoji: a post with none of them carries no marker, which one set operation tells.
_TRIGGERS = frozenset((
    "sack", "oust", "fire", "must", "should", "need", "needs", "has", "have", "ought",
    "resign", "resignation", "step", "stand", "heads", "head", "confidence", "get",
    "yeah", "touch", "nothing", "lovely", "know", "wrong", "clap", "make", "ever", "how",
    "s", "who", "why", "what", "what's", "explain", "serious", "trending", "going",
    # calls to action (models.calls_to_action)
    "boycott", "boycotting", "petition", "protest", "protesting", "demonstration", "shopping",
    "shop", "using", "cancel", "cancelled", "sign", "walk", "walkout", "march", "join", "mp",
    "scrap", "shut",
))
_IRONY_EMOJI = ("\U0001F644", "\U0001F643", "\U0001F612", "\U0001F921", "\U0001F926",
                "\U0001F60F")


def might_mark(toks: list[str], text: str) -> bool:
    """False when ``text`` (split into ``toks`` by :func:`models.matcher.tokens`) cannot
    carry a marker: one set operation for most posts, instead of the patterns.

    >>> from models.matcher import tokens
    >>> t = "Reading about Acme today"
    >>> might_mark(tokens(t), t), might_mark(tokens("Sack him"), "Sack him")
    (False, True)
    """
    if not _TRIGGERS.isdisjoint(toks):
        return True
    if "#" in text and any(t[0] == "#" for t in toks):
        return True
    return any(e in text for e in _IRONY_EMOJI)


@lru_cache(maxsize=16_384)
def markers(text: str) -> int:
    """Bit flags of the hostility markers in a post (0 for most posts).

    >>> markers("Sack Minister Smith now #SackSmith") == DEMAND | CALL  # #Sack is a call too
    True
    >>> markers("lovely to see Acme so in touch with the public 🙄") == SARCASM
    True
    >>> markers("cheers Acme, great to know what you think of us 🙃") == SARCASM
    True
    >>> markers("who is Jane Smith and why is she trending?") == QUESTION
    True
    >>> markers("Well done Acme, great service today"), markers("Reading about Acme")
    (0, 0)
    """
    low = text.casefold()
    flags = 0
    if any(stem in low for stem in _DEMAND_STEMS):
        for m in _DEMAND.finditer(low):
            if m.group("stem") not in _NOT_DEMANDS:
                flags |= DEMAND
                break
    if _IRONY.search(low):
        flags |= SARCASM
    if any(stem in low for stem in _QUESTION_STEMS) and _QUESTION.search(low):
        flags |= QUESTION
    if is_call_to_action(text):
        flags |= CALL
    return flags


def keep_factors(weights: Sequence[float]) -> tuple[float, ...]:
    """``(1 - w)`` products for every marker combination, indexed by the flags.

    ``weights`` are those of demand, sarcasm and question, in that order.

    >>> keep_factors((0.5, 0.5, 0.0))
    (1.0, 0.5, 0.5, 0.25, 1.0, 0.5, 0.5, 0.25)
    """
    out = []
    for flags in range(8):
        keep = 1.0
        for bit, w in zip((DEMAND, SARCASM, QUESTION), weights, strict=True):
            if flags & bit:
                keep *= 1.0 - w
        out.append(keep)
    return tuple(out)


def hostility(p: float, flags: int, keep: Sequence[float]) -> float:
    """A post's hostility from its tone probability ``p`` and its marker ``flags``.

    >>> keep = keep_factors((0.6, 0.5, 0.3))
    >>> round(hostility(0.16, DEMAND, keep), 2), hostility(0.9, 0, keep)
    (0.66, 0.9)
    """
    return 1.0 - (1.0 - p) * keep[flags & 7]


def marker_names(flags: int) -> tuple[str, ...]:
    """Names of the markers set in ``flags``.

    >>> marker_names(DEMAND | QUESTION)
    ('demand', 'question')
    """
    return tuple(name for name, bit in MARKERS.items() if flags & bit)
