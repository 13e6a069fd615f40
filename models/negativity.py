"""Negativity scorer: the probability that a post's overall tone is negative.

A linear model over stateless features, so the artefact is only weights:

- word 1-2grams, hashed, with negation marking (``not good`` -> ``not good_neg``);
- character 2-5grams, hashed in numpy over the whole batch (sklearn's char analyzer
  runs at ~4k posts/s, far below the 30k posts/s target);
- a few dense features: VADER lexicon valence with negation flipped, calls to
  action (boycott, petition, resign...), negative/positive emoji, ``!`` and ``?``.

The artefact is one ``.npz`` (no pickle): float32 weights plus a JSON metadata
string with the version, hyper-parameters, training data sha256 and metrics. A
missing, corrupt or incompatible artefact raises :class:`models.errors.ModelArtefactError`.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from os import PathLike
from typing import Any

import numpy as np
from scipy import sparse

from models.errors import ModelArtefactError

LABELS = ("negative", "neutral", "positive")  # the training format's labels

__all__ = ["FEATURES_VERSION", "NegativityScorer", "featurize"]

# Bump when featurisation changes: an artefact only fits the features it was trained on.
FEATURES_VERSION = "negativity-features-1"
DEFAULT_ARTEFACT = "negativity-v1.npz"
CHAR_NGRAMS = (2, 5)
# Posts per internal batch: ~100k chars of arrays stay in cache (4096 is 2x slower).
CHUNK = 1024

_NEGATORS = [
    *("not", "no", "never", "nor", "none", "nobody", "nothing", "neither", "nowhere"),
    *("without", "cannot"),
    *(f"{base}{suffix}" for suffix in ("n't", "nt") for base in (
        "do", "does", "did", "is", "are", "was", "were", "wo", "would", "should", "could",
        "ca", "has", "have", "had", "must", "might", "need", "ai",
    )),
]  # fmt: skip
# Press-office triggers: a call to act against the account, not just a bad mood.
_CALLS_TO_ACTION = [
    "boycott", "petition", "protest", "resign", "resignation", "sack", "shame", "shameful",
    "disgrace", "disgraceful", "scandal", "outrage", "outrageous", "unacceptable", "corrupt",
    "corruption", "incompetent",
]  # fmt: skip
_NEG_EMOJI = list("😠😡🤬😤😢😭😞😟😔😒🙄👎💔😩😫🤮🤢💩😣😖😕☹😑😬")
_POS_EMOJI = list("😀😃😄😁😊😍🥰😘👍❤♥💕💖🎉🙌👏😎🙂😉")
_SCOPE_END = [ord(c) for c in ".,!?;:"]
_N_DENSE = 9
# VADER's own scalar for a negated lexicon word.
_NEGATED_VALENCE = -0.74
_U64 = 2**64
# Odd 64-bit constants: polynomial base, Fibonacci-hashing mixer and salts.
_BASE = 0x100000001B3
_MIX = np.uint64(0x9E3779B97F4A7C15)
_NEG_SALT = np.uint64(0x5BD1E9955BD1E995)
_BIGRAM_SALT = np.uint64(0xC2B2AE3D27D4EB4F)
# Powers of the base by position in a token; positions past 63 reuse the last power.
_POWERS = np.array([pow(_BASE, i, _U64) for i in range(64)], dtype=np.uint64)


# Character classes of the Basic Multilingual Plane; anything above it (emoji) is OTHER.
_OTHER, _WORD, _SPACE = 0, 1, 2


@cache
def _char_classes() -> np.ndarray:
    """Class of each BMP code point; the apostrophe is a word char so "don't" stays whole."""
    chars = list(map(chr, range(0x10000)))
    table = np.array([_WORD if c.isalnum() else _SPACE if c.isspace() else _OTHER for c in chars])
    table[[ord("_"), ord("'")]] = _WORD
    return table.astype(np.uint8)


def _codes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Code points, class and document of each char of the batch, whitespace collapsed.

    Each document reads " words " with single spaces and documents are split by NUL
    (the spaces around it keep str.lower's final-sigma rule from seeing a neighbour),
    so a post's features never depend on the rest of its batch.
    """
    joined = " \x00 ".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        joined = " \x00 ".join(t.replace("\x00", " ") for t in texts)
    joined = f" {joined} ".lower().replace("\u2019", "'")
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    kind = np.full(len(codes), _OTHER, dtype=np.uint8)
    small = codes < 0x10000
    kind[small] = _char_classes()[codes[small]]
    is_sep = codes == 0
    space = kind == _SPACE
    keep = ~(space & np.concatenate(([False], space[:-1])))
    codes = np.where(space, 32, codes)[keep].astype(np.uint64)
    codes[is_sep[keep]] = 0
    return codes, kind[keep], np.cumsum(is_sep[keep])


def _segment_of(starts: np.ndarray, length: int) -> np.ndarray:
    """Index of the segment each position falls in, given sorted segment starts (first is 0)."""
    flags = np.zeros(length, dtype=np.int64)
    flags[starts] = 1
    return np.cumsum(flags) - 1


def _bucket(hashes: np.ndarray, bits: int) -> np.ndarray:
    return ((hashes * _MIX) >> np.uint64(64 - bits)).astype(np.intp)


def _char_ngrams(codes: np.ndarray, doc_of: np.ndarray, bits: int) -> tuple[list, np.ndarray]:
    """[(doc, bucket)] of char n-grams per n, and the n-gram count of each document.

    N-grams crossing a document separator are assigned to the spare document
    ``n_docs`` (dropped later): cheaper than compacting the arrays.
    """
    seps = np.flatnonzero(codes == 0)
    n_docs = len(seps) + 1
    sizes = np.diff(np.concatenate(([-1], seps, [len(codes)]))) - 1
    pairs, counts = [], np.zeros(n_docs)
    hashes = codes
    lo, hi = CHAR_NGRAMS
    for n in range(2, hi + 1):
        hashes = hashes[:-1] * np.uint64(_BASE) + codes[n - 1 :]
        if n < lo:
            continue
        doc = doc_of[: len(hashes)].copy()
        crossing = (seps[:, None] - np.arange(n)[None, :]).ravel()
        doc[crossing[(crossing >= 0) & (crossing < len(doc))]] = n_docs
        pairs.append((doc, _bucket(hashes + np.uint64(n), bits)))
        counts += np.maximum(sizes - n + 1, 0)
    return pairs, counts


def _tokens(codes: np.ndarray, kind: np.ndarray, doc_of: np.ndarray) -> tuple[np.ndarray, ...]:
    """(doc, hash, first code point) of each token: a run of word chars or one other char."""
    is_word = kind == _WORD
    is_other = (kind == _OTHER) & (codes != 0)
    prev_word = np.concatenate(([False], is_word[:-1]))
    in_token = is_word | is_other
    starts = np.flatnonzero((is_other | (is_word & ~prev_word))[in_token])
    chars = codes[in_token]
    if not len(starts):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.astype(np.uint64), empty.astype(np.uint64)
    token_of = _segment_of(starts, len(chars))
    position = np.minimum(np.arange(len(chars)) - starts[token_of], len(_POWERS) - 1)
    hashes = np.add.reduceat(chars * _POWERS[position], starts)
    return doc_of[in_token][starts], hashes, chars[starts]


def _hash_words(words: Sequence[str]) -> np.ndarray:
    """Token hash of each single-token word, the same function the features use."""
    docs, hashes, _ = _tokens(*_codes(words))
    single = np.bincount(docs, minlength=len(words)) == 1
    out = np.zeros(len(words), dtype=np.uint64)
    out[single] = hashes[np.isin(docs, np.flatnonzero(single))]
    return out


@cache
def _specials() -> tuple[np.ndarray, np.ndarray]:
    """Sorted token hashes and their attributes: valence, negator, call, -emoji, +emoji."""
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines() if "\t" in line]
    table: dict[int, np.ndarray] = {}
    groups = [([r[0] for r in rows], [float(r[1]) for r in rows], 0)]
    groups += [(words, [1.0] * len(words), column) for column, words in enumerate(
        [_NEGATORS, _CALLS_TO_ACTION, _NEG_EMOJI, _POS_EMOJI], start=1)]
    for words, values, column in groups:
        for key, value in zip(_hash_words(words).tolist(), values, strict=True):
            if key:  # 0: the entry is not one token (an emoticon such as ":-(")
                table.setdefault(key, np.zeros(5))[column] = value
    keys = np.array(sorted(table), dtype=np.uint64)
    return keys, np.array([table[k] for k in keys.tolist()]).reshape(-1, 5)


def _words(
    codes: np.ndarray, kind: np.ndarray, doc_of: np.ndarray, bits: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(doc, bucket) of word 1-2grams with negation marks, and the dense feature rows.

    A token is negated from a negator to the next . , ! ? ; : or the end of the post.
    """
    n_docs = int(doc_of[-1]) + 1
    doc, hashes, first = _tokens(codes, kind, doc_of)
    keys, attributes = _specials()
    found = np.minimum(np.searchsorted(keys, hashes), len(keys) - 1)
    attrs = attributes[found] * (keys[found] == hashes)[:, None]
    negator = attrs[:, 1] > 0
    new_doc = np.concatenate(([True], doc[1:] != doc[:-1]))
    scope_start = np.flatnonzero(new_doc | np.isin(first, _SCOPE_END))
    before = np.cumsum(negator) - negator
    scope_of = _segment_of(scope_start, len(doc))
    negated = (before - before[scope_start][scope_of]) > 0 if len(doc) else negator
    marked = np.where(negated, hashes ^ _NEG_SALT, hashes)
    same_doc = ~new_doc[1:]
    bigrams = (marked[:-1] * np.uint64(_BASE) + marked[1:] + _BIGRAM_SALT)[same_doc]
    word_doc = np.concatenate((doc, doc[1:][same_doc]))
    word_bucket = _bucket(np.concatenate((marked, bigrams)), bits)
    valence = attrs[:, 0] * np.where(negated, _NEGATED_VALENCE, 1.0)

    def per_doc(weights: np.ndarray) -> np.ndarray:
        return np.bincount(doc, weights=weights, minlength=n_docs)

    pos, neg = per_doc(np.maximum(valence, 0)), per_doc(np.maximum(-valence, 0))
    total = pos - neg
    bang = np.bincount(doc_of[codes == ord("!")], minlength=n_docs)
    question = np.bincount(doc_of[codes == ord("?")], minlength=n_docs)
    dense = np.column_stack([
        np.tanh(pos / 4),
        np.tanh(neg / 4),
        total / np.sqrt(total * total + 15),  # VADER's compound normalisation
        per_doc(negator) > 0,
        np.tanh(per_doc(attrs[:, 2])),
        np.tanh(per_doc(attrs[:, 3])),
        np.tanh(per_doc(attrs[:, 4])),
        np.tanh(bang / 3),
        np.tanh(question / 3),
    ])
    return word_doc, word_bucket, dense


def _parts(texts: Sequence[str], word_bits: int, char_bits: int) -> tuple[list, list, np.ndarray]:
    """[(doc, bucket)] pairs and per-document scale of words and of chars, and dense rows.

    A document's hashed counts are scaled by 1/sqrt(its number of n-grams): rows of
    roughly unit norm, so a long post does not shout louder than a short one.
    """
    codes, kind, doc_of = _codes(texts)
    word_doc, word_bucket, dense = _words(codes, kind, doc_of, word_bits)
    char_pairs, char_counts = _char_ngrams(codes, doc_of, char_bits)
    word_counts = np.bincount(word_doc, minlength=len(texts))
    words = ([(word_doc, word_bucket)], 1.0 / np.sqrt(np.maximum(word_counts, 1)))
    chars = (char_pairs, 1.0 / np.sqrt(np.maximum(char_counts, 1)))
    return [words, chars], dense


def featurize(texts: Sequence[str], word_bits: int, char_bits: int) -> sparse.csr_matrix:
    """The design matrix [words | chars | dense] the model is trained on."""
    blocks, dense = _parts(texts, word_bits, char_bits)
    n = len(texts)
    matrices = []
    for (pairs, scale), bits in zip(blocks, (word_bits, char_bits), strict=True):
        doc = np.concatenate([d for d, _ in pairs])
        bucket = np.concatenate([b for _, b in pairs])
        kept = doc < n  # drops char n-grams that crossed a document separator
        values = scale[doc[kept]]
        matrices.append(sparse.csr_matrix((values, (doc[kept], bucket[kept])), (n, 2**bits)))
    return sparse.hstack([*matrices, sparse.csr_matrix(dense)], format="csr")


@dataclass(frozen=True, slots=True, eq=False)
class NegativityScorer:
    """Probability that each post is negative, from a linear model on hashed features.

    Weights come from ``models.negativity_train.train``; the default artefact
    ships in ``models/artefacts`` and loads with no network.

    >>> scorer = NegativityScorer.default()
    >>> scorer.version
    'negativity-v1'
    >>> bad, good = scorer.score_many(["Disgraceful. Resign now #boycott", "Great work, thanks!"])
    >>> bool(bad > 0.5 > good)
    True
    >>> NegativityScorer.from_bytes(scorer.to_bytes()).score_one("") == scorer.score_one("")
    True
    """

    word_coef: np.ndarray
    char_coef: np.ndarray
    dense_coef: np.ndarray
    intercept: float
    # Decision threshold maximising negative-class F1 on a validation slice of the train split.
    threshold: float = 0.5
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, width in [("word_coef", None), ("char_coef", None), ("dense_coef", _N_DENSE)]:
            coef = np.ascontiguousarray(getattr(self, name), dtype=np.float32)
            size = coef.shape[0] if coef.ndim == 1 else -1
            if width is None and (size < 2 or size & (size - 1)):
                raise ModelArtefactError(f"{name} must be 1-d with a power-of-two length")
            if width is not None and size != width:
                raise ModelArtefactError(f"{name} must have {width} weights, got {coef.shape}")
            coef.flags.writeable = False
            object.__setattr__(self, name, coef)
        object.__setattr__(self, "intercept", float(np.float32(self.intercept)))

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unversioned"))

    def score_one(self, text: str) -> float:
        return float(self.score_many([text])[0])

    def score_many(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities in [0, 1], one per text, same order."""
        out = np.empty(len(texts), dtype=np.float64)
        for start in range(0, len(texts), CHUNK):
            chunk = texts[start : start + CHUNK]
            out[start : start + len(chunk)] = self._margin(chunk)
        return 1.0 / (1.0 + np.exp(-out))

    def _margin(self, texts: Sequence[str]) -> np.ndarray:
        word_bits = int(self.word_coef.shape[0]).bit_length() - 1
        char_bits = int(self.char_coef.shape[0]).bit_length() - 1
        (words, chars), dense = _parts(texts, word_bits, char_bits)
        margin = dense @ self.dense_coef + self.intercept
        for (pairs, scale), coef in [(words, self.word_coef), (chars, self.char_coef)]:
            # Length n + 1: the spare last bin collects n-grams that crossed a separator.
            sums = sum(np.bincount(d, coef[b], minlength=len(texts) + 1) for d, b in pairs)
            margin += sums[: len(texts)] * scale
        return margin

    def to_bytes(self) -> bytes:
        meta = {**self.metadata, "features": FEATURES_VERSION, "threshold": self.threshold}
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            word_coef=self.word_coef,
            char_coef=self.char_coef,
            dense_coef=self.dense_coef,
            intercept=np.float32(self.intercept),
            metadata=np.array(json.dumps(meta, sort_keys=True)),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> NegativityScorer:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                meta = json.loads(str(arrays["metadata"]))
                coefs = {k: arrays[k] for k in ("word_coef", "char_coef", "dense_coef")}
                intercept = float(arrays["intercept"])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelArtefactError(f"not a negativity artefact: {exc}") from exc
        if meta.get("features") != FEATURES_VERSION:
            raise ModelArtefactError(
                f"artefact built for features {meta.get('features')!r}, this code computes "
                f"{FEATURES_VERSION!r}: retrain with `firestorm train-negativity`"
            )
        return cls(**coefs, intercept=intercept, threshold=meta["threshold"], metadata=meta)

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
