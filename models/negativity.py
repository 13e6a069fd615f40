"""Negativity scorer: the calibrated probability that a post's overall tone is negative.

One linear model per language over stateless hashed features
(:mod:`models.negativity_features`), each followed by a monotone calibration
(:mod:`models.calibration`) fitted on posts it did not train on, so a score of 0.7
means that about seven posts in ten scored like it are negative.

A post is read in its declared language (the mention's ``lang``) or, when none
is declared, in the language identified from its text (:mod:`models.language`).
A post in a language the artefact has no model for gets no score (NaN here,
``null`` on the wire): a Welsh storm must show up as "tone not scored", never as
calm English.

The artefact is one ``.npz`` (no pickle): per language float32 weights and the
calibration's knots, plus a JSON metadata string with the format version (checked
on load), the default language, the decision threshold and each model's
provenance. A missing, corrupt or incompatible artefact raises
:class:`models.errors.ModelArtefactError`.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from os import PathLike
from typing import Any, NamedTuple

import numpy as np

from models.calibration import Calibration
from models.errors import ModelArtefactError
from models.language import identify
from models.negativity_features import FEATURES_VERSION, N_DENSE, Coefs, margins

LABELS = ("negative", "neutral", "positive")  # the training format's labels

__all__ = [
    "DEFAULT_ARTEFACT",
    "FORMAT_VERSION",
    "LABELS",
    "Assessment",
    "LanguageModel",
    "NegativityScorer",
    "normalise_language",
]

# Bump with any change to the artefact's layout; the loader refuses other versions.
FORMAT_VERSION = "negativity-v2"
DEFAULT_ARTEFACT = "negativity-v2.npz"
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
# Codes that name no language: undetermined, none, several, and X/Twitter's
# pseudo-codes for posts of only media, hashtags, mentions or cashtags.
_NO_LANGUAGE = frozenset({"und", "zxx", "mul", "mis", "art", "qam", "qct", "qht", "qme", "qst"})
_ARRAYS = ("word_coef", "char_coef", "dense_coef", "intercept", "calibration_x", "calibration_y")

@lru_cache(maxsize=4096)  # a stream repeats a handful of codes: look each up once
def normalise_language(code: str | None) -> str | None:
    """A declared language tag as an ISO 639 code, or None when it names no language.

    >>> [normalise_language(c) for c in ["en-GB", "CY", "pt_BR", "und", "", None, "english"]]
    ['en', 'cy', 'pt', None, None, None, None]
    """
    if not code:
        return None
    primary = code.strip().lower().replace("_", "-").split("-", 1)[0]
    if primary in _NO_LANGUAGE or not _LANGUAGE_CODE.fullmatch(primary):
        return None
    return primary


@dataclass(frozen=True, slots=True, eq=False)
class LanguageModel:
    """One language's weights, calibration and decision threshold.

    ``threshold`` is on the calibrated probability: the cut that maximised F1 of the
    negative class on held-out posts of the training data.
    """

    word_coef: np.ndarray
    char_coef: np.ndarray
    dense_coef: np.ndarray
    intercept: float
    calibration: Calibration
    threshold: float = 0.5
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, width in [("word_coef", None), ("char_coef", None), ("dense_coef", N_DENSE)]:
            coef = np.ascontiguousarray(getattr(self, name), dtype=np.float32)
            size = coef.shape[0] if coef.ndim == 1 else -1
            if width is None and (size < 2 or size & (size - 1)):
                raise ModelArtefactError(f"{name} must be 1-d with a power-of-two length")
            if width is not None and size != width:
                raise ModelArtefactError(f"{name} must have {width} weights, got {coef.shape}")
            coef.flags.writeable = False
            object.__setattr__(self, name, coef)
        object.__setattr__(self, "intercept", float(np.float32(self.intercept)))
        if not 0.0 <= self.threshold <= 1.0:
            raise ModelArtefactError(f"threshold {self.threshold} must be in [0, 1]")

    def margins(self, texts: Sequence[str]) -> np.ndarray:
        """The uncalibrated linear score of each text (log-odds before calibration)."""
        return margins(texts, [self.coefs()]).values[0]

    def coefs(self) -> Coefs:
        return Coefs(self.word_coef, self.char_coef, self.dense_coef, self.intercept)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        return self.calibration.apply(self.margins(texts))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"word_coef": self.word_coef, "char_coef": self.char_coef,
                "dense_coef": self.dense_coef, "intercept": np.float32(self.intercept),
                **self.calibration.to_arrays()}


class Assessment(NamedTuple):
    """Scores of a batch read in each post's language."""

    negativity: np.ndarray  # calibrated probability; NaN where the language has no model
    lang: list[str]  # the language each post was read in

    def values(self) -> list[float | None]:
        """The scores with None for "not scored", as JSON and observations carry them."""
        return [None if p != p else p for p in self.negativity.tolist()]


@dataclass(frozen=True, slots=True, eq=False)
class NegativityScorer:
    """Calibrated probability that each post is negative, one model per language.

    The default artefact ships in ``models/artefacts`` and loads with no network.

    >>> scorer = NegativityScorer.default()
    >>> scorer.version, scorer.languages
    ('negativity-v2', ('en',))
    >>> bad, good = scorer.score_many(["Disgraceful. Resign now #boycott", "Great work, thanks!"])
    >>> bool(bad > scorer.threshold > good)
    True
    >>> scorer.assess_many(["Mae hyn yn warth", "what a disgrace"], ["cy", None]).lang
    ['cy', 'en']
    >>> NegativityScorer.from_bytes(scorer.to_bytes()).score_one("") == scorer.score_one("")
    True
    """

    models: Mapping[str, LanguageModel]
    default_language: str = "en"
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.default_language not in self.models:
            raise ModelArtefactError(
                f"default language {self.default_language!r} has no model"
                f" (models: {', '.join(sorted(self.models)) or 'none'})")
        for lang in self.models:
            if not _LANGUAGE_CODE.fullmatch(lang) or lang in _NO_LANGUAGE:
                raise ModelArtefactError(f"{lang!r} is not an ISO 639 language code")
        object.__setattr__(self, "models", dict(sorted(self.models.items())))

    @property
    def version(self) -> str:
        return FORMAT_VERSION

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.models)

    @property
    def threshold(self) -> float:
        """Decision threshold on the calibrated probability: p >= threshold is negative.

        The default language's F1-best cut; the other languages' probabilities are
        calibrated too, so the same cut means the same probability for them.
        """
        return self.models[self.default_language].threshold

    def model(self, lang: str) -> LanguageModel:
        return self.models[lang]

    def with_model(self, lang: str, model: LanguageModel) -> NegativityScorer:
        """A scorer that also (or instead) reads ``lang`` with ``model``."""
        return NegativityScorer({**self.models, lang: model}, self.default_language,
                                self.metadata)

    def score_one(self, text: str) -> float:
        return float(self.score_many([text])[0])

    def score_many(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities in [0, 1], one per text, every text read in the
        default language (no language identification): for evaluation and training."""
        return self.models[self.default_language].probabilities(texts)

    def assess_many(self, texts: Sequence[str],
                    langs: Sequence[str | None] | None = None) -> Assessment:
        """Score each text in its language: ``langs[i]`` when it names one, else the
        language identified from the text (:mod:`models.language`), else (too short
        or symbols only) the default language. A language without a model scores NaN.
        """
        n = len(texts)
        read: list[str | None] = (
            [None] * n if langs is None else [normalise_language(c) for c in langs])
        unknown = [i for i, code in enumerate(read) if code is None]
        # Every model reads every text (one parse; the weights differ), unless the
        # languages are all declared and fewer.
        names = list(self.models) if unknown else [g for g in self.models if g in set(read)]
        result = margins(texts, [self.models[g].coefs() for g in names])
        if unknown:
            rest = [i for i in unknown if not result.english[i]]
            for i in unknown:
                read[i] = "en"
            for i, code in zip(rest, identify([texts[i] for i in rest]), strict=True):
                read[i] = code or self.default_language
        out = np.full(n, np.nan)
        if len(names) == 1 and all(code == names[0] for code in read):  # the usual batch
            out[:] = self.models[names[0]].calibration.apply(result.values[0])
        else:
            codes = np.array(read, dtype=object)
            for row, lang in enumerate(names):
                mask = codes == lang
                out[mask] = self.models[lang].calibration.apply(result.values[row][mask])
        return Assessment(out, read)

    def to_bytes(self) -> bytes:
        meta = {**self.metadata, "version": FORMAT_VERSION,
                "default_language": self.default_language, "threshold": self.threshold,
                "languages": {lang: {**m.metadata, "features": FEATURES_VERSION,
                                     "threshold": m.threshold, "calibration": m.calibration.kind}
                              for lang, m in self.models.items()}}
        arrays = {f"{lang}.{name}": array for lang, m in self.models.items()
                  for name, array in m.arrays().items()}
        buffer = io.BytesIO()
        np.savez_compressed(buffer, metadata=np.array(json.dumps(meta, sort_keys=True)),
                            **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> NegativityScorer:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                meta = json.loads(str(npz["metadata"]))
                version = meta.get("version") if isinstance(meta, dict) else None
                if version != FORMAT_VERSION:
                    raise ModelArtefactError(
                        f"artefact format {version!r}, this code reads {FORMAT_VERSION!r}:"
                        " retrain with `firestorm train-negativity` or use the shipped model")
                arrays = {lang: {name: npz[f"{lang}.{name}"] for name in _ARRAYS}
                          for lang in meta["languages"]}
            return cls._build(meta, arrays)
        except ModelArtefactError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError,
                zipfile.BadZipFile) as exc:
            raise ModelArtefactError(f"not a negativity artefact: {exc!r}") from exc

    @classmethod
    def _build(cls, meta: dict, arrays: dict[str, dict[str, np.ndarray]]) -> NegativityScorer:
        models = {}
        for lang, info in meta["languages"].items():
            if info.get("features") != FEATURES_VERSION:
                raise ModelArtefactError(
                    f"model {lang!r} was built for features {info.get('features')!r}, this"
                    f" code computes {FEATURES_VERSION!r}: retrain with"
                    " `firestorm train-negativity`")
            a = arrays[lang]
            try:
                calibration = Calibration(a["calibration_x"], a["calibration_y"],
                                          info.get("calibration", "isotonic"))
            except ValueError as exc:
                raise ModelArtefactError(f"model {lang!r}: {exc}") from exc
            models[lang] = LanguageModel(
                a["word_coef"], a["char_coef"], a["dense_coef"], float(a["intercept"]),
                calibration, float(info["threshold"]),
                {k: v for k, v in info.items() if k not in ("threshold", "calibration")})
        top = {k: v for k, v in meta.items()
               if k not in ("languages", "default_language", "threshold")}
        return cls(models, meta["default_language"], top)

    def save(self, path: str | PathLike[str]) -> None:
        with open(path, "wb") as out:
            out.write(self.to_bytes())

    @classmethod
    def load(cls, path: str | PathLike[str]) -> NegativityScorer:
        try:
            with open(path, "rb") as src:
                data = src.read()
        except OSError as exc:
            raise ModelArtefactError(f"negativity model {str(path)!r}: {exc.strerror}") from exc
        return cls.from_bytes(data)

    @classmethod
    def default(cls) -> NegativityScorer:
        """The shipped model, read from package data (no network)."""
        artefact = resources.files("models").joinpath("artefacts", DEFAULT_ARTEFACT)
        return cls.from_bytes(artefact.read_bytes())
