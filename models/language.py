"""Which language a post is in, when the mention does not say.

Two stages, cheapest first (both run on this machine, nothing is downloaded):

1. **English words.** A post with at least two of a list of frequent English words
   (``models.negativity_features.ENGLISH_WORDS``, chosen to be rare as words in
   other Latin-script languages) that make up at least one word in five is
   English. The negativity featurisation looks every token up in its lexicon
   table anyway, so this costs nothing.
2. **CLD2** (Google's Compact Language Detector 2, package ``pycld2``; its tables
   are compiled into the wheel) for the rest. Texts it cannot call reliably (too
   short, only emoji, hashtags or links) get None: the scorer then reads them in
   its default language.

CLD2 alone manages about 50,000 short posts per CPU-second; the first stage keeps
it off most posts of an English stream.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pycld2

__all__ = ["identify", "language_name"]

# CLD2 still uses some retired ISO 639 codes.
_RENAMED = {"iw": "he", "in": "id", "jw": "jv", "ji": "yi", "mo": "ro"}


# CLD2's names of its languages (WELSH, SCOTS_GAELIC, ChineseT), as people write them.
_NAMES = {code.lower(): name.replace("_", " ").capitalize() for name, code in pycld2.LANGUAGES
          if code not in ("un", "xxx")}
_NAMES.update({"gd": "Scottish Gaelic", "zh-hant": "Chinese (traditional)"})
_CODE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?")


def language_name(code: str | None) -> str:
    """A language's name for a press officer, from its ISO 639 code (the mention's
    ``lang`` or CLD2's). A code it does not know is shown as it is only if it looks
    like one: ``lang`` is the producer's text, up to 2 kB of anything.

    >>> language_name("cy"), language_name("gd"), language_name("en"), language_name("xx")
    ('Welsh', 'Scottish Gaelic', 'English', 'xx')
    >>> language_name(None), language_name("und"), language_name("<b>welsh</b>")
    ('an unidentified language', 'an unidentified language', 'an unrecognised language')
    """
    if not code or code == "und":
        return "an unidentified language"
    name = _NAMES.get(code.lower())
    if name is not None:
        return name
    return code if _CODE.fullmatch(code) else "an unrecognised language"


def identify(texts: Sequence[str]) -> list[str | None]:
    """CLD2's language (ISO 639 code) for each text, None where it cannot tell.

    >>> identify(["Mae'r polisi hwn yn warth, rhaid i'r gweinidog ymddiswyddo",
    ...           "cette politique est une honte, le ministre doit démissionner", "😡😡"])
    ['cy', 'fr', None]
    """
    detect, error = pycld2.detect, pycld2.error
    out: list[str | None] = []
    for text in texts:
        try:
            reliable, _, details = detect(text, True)
        except (error, ValueError):  # invalid UTF-8 (lone surrogates), NUL bytes
            try:
                reliable, _, details = detect(
                    text.encode("utf-8", "replace").decode("utf-8").replace("\x00", " "), True)
            except (error, ValueError):
                out.append(None)
                continue
        code = details[0][1]
        if not reliable or code in ("un", "xxx"):
            out.append(None)
            continue
        code = code.split("-", 1)[0].lower()
        out.append(_RENAMED.get(code, code))
    return out
