"""The compiled per-mention core behind :class:`~models.intake.Intake`.

``models._core`` is a Rust extension (``rust/``, PyO3) built by ``make install``.
One call per batch does, for every message, what :meth:`Intake.accept_many` does in
Python: decode and validate, tokenise and match the watchlist, the negativity
model's features, margin and calibration (the same ``.npz`` weights), the pseudonyms,
and the hostility markers (:func:`models.hostility.markers`). The Python
modules stay the specification and the test oracle (``tests/unit/test_compiled.py``
runs generated mentions and marker-rich texts through both).

Everything that must agree with Python byte for byte either is ported exactly or is
asked of Python:

- the Unicode tables (``\\w``, ``\\s``, ``str.casefold``, ``str.lower``, the letters
  that re.IGNORECASE equates, the features' classes) are read from the running
  interpreter here, once per process;
- the markers' patterns are ported by hand, their word lists passed from Python: this
  module refuses to start if the patterns are not the ones ported;
- a message off the common shape (an ISO time, an unknown field, an escape needing
  repair, anything invalid) is decoded by :func:`models.mention.decode`, so every
  rejection carries Python's own reason;
- language identification (:func:`models.language.identify`) is asked only for posts
  that neither declare a language nor read as English, and ``str.lower`` only for a
  post with a capital sigma.

Probabilities agree with Python's to about 1e-15 (the order of a few float sums
differs, as it already does between Python batches: see the intake tests).
"""

from __future__ import annotations

import hashlib
import re
import string
import sys
from collections.abc import Sequence
from functools import cache, lru_cache

import numpy as np

from models import calls_to_action, hostility
from models.faults import PoisonScorer
from models.intake import Intake, IntakeResult
from models.language import identify
from models.matcher import tokens
from models.mention import Rejection, decode
from models.negativity import NegativityScorer, normalise_language
from models.negativity_features import FEATURES, FeatureConfig, _char_classes, _specials
from models.observation import Observation
from models.privacy import Pseudonymiser
from models.watchlist import Watchlist

try:
    from models import _core
except ImportError as exc:  # pragma: no cover - the build is checked by `make install`
    raise ImportError(
        "Firestorm's compiled core (models._core) is not built or does not load"
        f" ({exc}): run `make install`, which compiles it with cargo (docs/development.md)"
    ) from exc

__all__ = ["CompiledIntake", "fingerprinter"]

# The configuration rust/src/features.rs implements.
_COMPILED_FEATURES = FeatureConfig(word_ngrams=2, char_ngrams=(2, 5), contrast_ends_scope=False,
                                   emoticons=False)
_CHUNK = 256
_WORD = re.compile(r"\w")
_ALL_WORD = re.compile(r"\w*")
# The patterns rust/src/hostility.rs implements (sha256 of _marker_patterns()).
_PORTED_MARKERS = "0c0feefcba72a22a"


@cache
def _code_points() -> str:
    """Every code point but the surrogates, in order (one C-level decode, not 1.1M chr)."""
    codes = np.arange(sys.maxunicode + 1, dtype="<u4")
    codes = codes[(codes < 0xD800) | (codes >= 0xE000)]
    return codes.tobytes().decode("utf-32-le")


def _position(code: int) -> int:
    return code if code < 0xD800 else code - 0x800


def _changed(method: str) -> dict[str, str]:
    """Non-ASCII code points whose ``str.<method>()`` is not themselves, and what it is."""
    every = _code_points()
    out: dict[str, str] = {}
    for lo in range(0x80, len(every), _CHUNK):
        chunk = every[lo : lo + _CHUNK]
        if getattr(chunk, method)() == chunk:
            continue
        for c in chunk:
            mapped = getattr(c, method)()
            if mapped != c:
                out[c] = mapped
    return out


@cache
def _unicode() -> tuple[bytes, dict[str, str], dict[str, str]]:
    """This interpreter's ``\\w`` flags (one byte per code point), casefold and lower maps."""
    every = _code_points()
    flags = bytearray(len(every))
    for lo in range(0, len(every), _CHUNK):
        chunk = every[lo : lo + _CHUNK]
        if not _WORD.search(chunk):
            continue
        if _ALL_WORD.fullmatch(chunk):
            flags[lo : lo + len(chunk)] = b"\x01" * len(chunk)
        else:
            flags[lo : lo + len(chunk)] = bytes(c.isalnum() or c == "_" for c in chunk)
    cut = _position(0xE000)
    word = bytes(flags[:cut]) + bytes(0x800) + bytes(flags[cut:])  # surrogates: not \\w
    lower = _changed("lower")
    lower.pop("\u03a3", None)  # final sigma depends on the neighbours: Python lowers such posts
    return word, _changed("casefold"), lower


@cache
def fingerprinter() -> _core.Fingerprinter:
    """The compiled :func:`models.coordination.fingerprint`, with this interpreter's
    ``\\w``, ``\\s`` and casefold (``models.coordination.fingerprints`` uses it)."""
    word, casefold, _ = _unicode()
    space = bytearray(sys.maxunicode + 1)
    for c in re.findall(r"\s", _code_points()):
        space[ord(c)] = 1
    return _core.Fingerprinter(word, bytes(space), casefold)


def _marker_patterns() -> str:
    """The hostility and call patterns with their flags, the call phrases left out (they
    are passed to the core as a list)."""
    phrases = "|".join(re.escape(p) for p in calls_to_action.CALL_PHRASES)
    return "\n".join(f"{p.flags}:{p.pattern}" for p in (
        hostility._DEMAND, hostility._IRONY, hostility._QUESTION,
        re.compile(calls_to_action._CALLS.pattern.replace(phrases, "CALL_PHRASES"),
                   calls_to_action._CALLS.flags)))


@cache
def _compiled_markers() -> _core.Markers:
    digest = hashlib.sha256(_marker_patterns().encode()).hexdigest()[:16]
    if digest != _PORTED_MARKERS:
        raise RuntimeError(f"the hostility or call-to-action patterns changed (digest {digest},"
                           f" the compiled core implements {_PORTED_MARKERS}): update"
                           " rust/src/hostility.rs and models.compiled._PORTED_MARKERS")
    every = _code_points()
    # Non-ASCII characters an ASCII letter matches under re.IGNORECASE (U+0131 for "i").
    ignorecase = {c: a for c in re.findall("[a-z]", every, re.IGNORECASE) if not c.isascii()
                  for a in string.ascii_lowercase if re.fullmatch(a, c, re.IGNORECASE)}
    return _core.Markers(
        sorted(hostility._TRIGGERS), list(hostility._IRONY_EMOJI),
        list(hostility._DEMAND_STEMS), sorted(hostility._NOT_DEMANDS),
        list(hostility._QUESTION_STEMS), list(calls_to_action._STEMS),
        list(calls_to_action.CALL_PHRASES), re.findall(r"\s", every), ignorecase)


@lru_cache(maxsize=4)  # a scorer is hashed by identity; a process loads one or two
def _compiled_scorer(scorer: NegativityScorer) -> _core.Scorer:
    if FEATURES != _COMPILED_FEATURES:
        raise RuntimeError(f"the compiled core implements {_COMPILED_FEATURES}, the shipped"
                           f" features are {FEATURES}: update rust/src/features.rs")
    word, casefold, lower = _unicode()
    keys, attributes = _specials()
    specials = list(zip(keys.tolist(), attributes.tolist(), strict=True))
    models = [(lang, m.word_coef.astype("<f4").tobytes(), m.char_coef.astype("<f4").tobytes(),
               m.dense_coef.tolist(), float(m.intercept), m.calibration.x.tolist(),
               m.calibration.y.tolist()) for lang, m in scorer.models.items()]
    return _core.Scorer(word, casefold, lower, _char_classes().tobytes(), specials, models,
                        scorer.default_language)


def compiled_core(watchlist: Watchlist, scorer: NegativityScorer, pseudonymiser: Pseudonymiser,
                  test_poison: str = "") -> _core.Core:
    """The compiled core for one watchlist (its matcher and pseudonyms)."""
    phrases: dict[tuple[str, ...], set[int]] = {}
    for index, entity in enumerate(watchlist.entities):
        for phrase in (*entity.terms, *entity.hashtags, *entity.handles):
            key = tuple(tokens(phrase))
            if key:
                phrases.setdefault(key, set()).add(index)
    watched = sorted({h.casefold() for e in watchlist.entities for h in e.handles})
    check = PoisonScorer(lambda texts: None, test_poison) if test_poison else None
    # The core sets an Observation's slots as its __init__ would: there must be nothing else.
    if hasattr(Observation, "__post_init__") or len(Observation.__dataclass_fields__) != 13:
        raise RuntimeError("models.Observation changed: update rust/src/lib.rs (Core.accept)")
    return _core.Core(
        _compiled_scorer(scorer), _compiled_markers(), [e.id for e in watchlist.entities],
        [(list(k), sorted(v)) for k, v in phrases.items()], watched, pseudonymiser.key,
        pseudonymiser.reach_threshold, decode, Rejection, Observation,
        list(Observation.__dataclass_fields__), identify, normalise_language, check)


class CompiledIntake(Intake):
    """:class:`Intake` with the per-mention work done by the compiled core.

    >>> from models.watchlist import parse_watchlist
    >>> wl = parse_watchlist("entities: [{id: acme, name: Acme, kind: partner, terms: [acme]}]")
    >>> intake = CompiledIntake(wl, NegativityScorer.default(), Pseudonymiser(b"k"))
    >>> r = intake.accept_many([b'{"id":"1","ts":1.7e9,"platform":"x","author":"@a",'
    ...                         b'"text":"boycott acme"}', b'oops'], now=1.7e9)
    >>> [(o.entity_id, o.author, o.lang) for o in r.observations], r.rejected[0][1].reason[:13]
    ([('acme', 'anon:0fa6dd69ae64', 'en')], 'not valid JSO')
    """

    def __init__(self, watchlist: Watchlist, scorer: NegativityScorer,
                 pseudonymiser: Pseudonymiser, tick_seconds: int = 60, *,
                 lateness: float = 0.0, test_poison: str = "") -> None:
        super().__init__(watchlist, None, pseudonymiser, tick_seconds,
                         assess_many=scorer.assess_many, lateness=lateness)
        self._scorer = scorer
        self._test_poison = test_poison
        self._core = compiled_core(watchlist, scorer, pseudonymiser, test_poison)

    def _intake(self, raws: Sequence[bytes | str | None], now: float,
                partitions: Sequence[int] | None, result: IntakeResult) -> dict[int, float]:
        batch = raws if type(raws) is list else list(raws)
        parts = None if partitions is None else list(partitions)
        (result.items, result.origins, result.rejected, result.repaired, result.accepted,
         result.untagged, newest) = self._core.accept(batch, now, parts)
        return newest

    def with_watchlist(self, watchlist: Watchlist) -> CompiledIntake:
        new = CompiledIntake(watchlist, self._scorer, self._pseudonymiser, self.tick_seconds,
                             lateness=self.lateness, test_poison=self._test_poison)
        new._marks, new._idle = dict(self._marks), set(self._idle)
        return new
