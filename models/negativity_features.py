"""Featurisation of the negativity model: a deterministic function of a post's text.

Everything here is fixed constants and numpy, so that a compiled core can
reimplement it byte for byte and read the same artefact:

- the text is lower-cased (Python's ``str.lower``), ``\u2019`` becomes ``'``, and
  every run of whitespace becomes one space; the post reads `` words ``;
- word tokens are runs of alphanumeric chars (plus ``_`` and ``'``); any other
  non-space char is a token of its own (emoji, punctuation);
- a token's hash is the polynomial ``sum(code_point[i] * BASE**min(i, 63)) mod 2**64``;
  a token in negation scope is XORed with ``NEG_SALT``; a bigram is
  ``h1 * BASE + h2 + BIGRAM_SALT``;
- char n-grams (n = 2..5) over the normalised text hash to
  ``(...(c0 * BASE + c1) * BASE + ...) + n``;
- a hash goes to bucket ``(hash * MIX mod 2**64) >> (64 - bits)``;
- a block's counts are scaled by ``1 / sqrt(number of n-grams in the post)``.

The dense block (lexicon valence, calls to action, emoji, ``!``/``?``) is listed in
:func:`_words`. Bump :data:`FEATURES_VERSION` on any change: an artefact only fits
the features it was trained on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:  # training builds the matrix; scoring (margins) never imports scipy
    from scipy import sparse

__all__ = [
    "CHUNK",
    "FEATURES",
    "FEATURES_VERSION",
    "LEXICONS",
    "N_DENSE",
    "Coefs",
    "FeatureConfig",
    "Margins",
    "featurize",
    "margins",
    "n_dense",
]


class FeatureConfig(NamedTuple):
    """Switches between featurisation options, for comparing them (bench/negativity_options.py).

    A shipped model always uses :data:`FEATURES`: the artefact records only
    :data:`FEATURES_VERSION`, and a compiled core implements that one configuration.
    """

    word_ngrams: int = 2  # word 1..N-grams
    char_ngrams: tuple[int, int] = (2, 5)  # char n-grams, lo..hi
    contrast_ends_scope: bool = False  # "but", "however"... end a negation's scope
    emoticons: bool = False  # ASCII emoticons read as the emoji they stand for
    # Extra valence lexicons (names in LEXICONS), each two more dense columns after
    # the N_DENSE: positive and negative valence sums, negated words flipped as VADER's.
    lexicons: tuple[str, ...] = ()


# Bump when featurisation changes: an artefact only fits the features it was trained on.
FEATURES_VERSION = "negativity-features-1"
FEATURES = FeatureConfig()
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
_CONTRASTS = ["but", "however", "though", "although", "whereas", "except"]
# Frequent English words that are rare as words in other languages written in Latin
# script (so not "a", "i", "in", "is", "of", "to", "my", "for", "was", "will", "die"...):
# language identification's cheap first stage (models.language).
ENGLISH_WORDS = [
    "the", "and", "you", "that", "this", "with", "have", "are", "they", "what", "just",
    "about", "from", "would", "should", "could", "because", "there", "their", "which", "when",
    "your", "been", "were", "not", "it", "its", "it's", "i'm", "don't", "can't", "get",
    "like", "out", "up", "some", "more", "only", "also", "very", "really", "people", "know",
    "think", "want", "going", "today", "time", "make", "need", "love", "thanks", "thank",
    "please", "good", "great", "who", "how", "why", "where", "than", "then", "them", "these",
    "those", "being", "does", "did", "has", "had", "our", "his", "she", "we", "be", "can",
    "if", "got", "one", "new", "now", "day", "after", "before", "tomorrow", "night", "never",
    "always", "first", "well", "much", "any", "into", "back", "here", "way", "said", "say",
    "go", "off", "again", "too",
]  # fmt: skip
# Frequent English words that are words in other languages too: half a hit each.
ENGLISH_SHARED = ["a", "i", "is", "of", "to", "for", "in", "on", "my", "me", "so", "no", "do",
                  "at", "by", "an", "or", "all", "was", "will", "but", "even", "over", "see"]
# ASCII emoticons standing alone, read as one emoji of the same tone.
_EMOTICONS = {
    **dict.fromkeys([":)", ":-)", ":D", ":-D", ";)", ";-)", ":]", "=)", "(:", ":P", ":-P",
                     ":p", "xD", "XD", ":o)", "^_^", "^^"], "🙂"),
    **dict.fromkeys([":(", ":-(", ":'(", ":/", ":-/", ":[", "=(", "):", ">:(", "D:", ":|",
                     ":@", ":S", ":-S", "-_-", ":'-("], "☹"),
    "<3": "❤", "</3": "💔",
}
_EMOTICON_RE = re.compile(
    r"(?<!\S)(" + "|".join(re.escape(e) for e in sorted(_EMOTICONS, key=len, reverse=True))
    + r")(?!\S)")
N_DENSE = 9
# Lexicons a comparison may add (FeatureConfig.lexicons): the package holding each and its
# file inside the package. Read only when a config names them; neither is a run-time
# dependency (see pyproject.toml's dev extra and docs/negativity.md for licences).
LEXICONS = {
    "afinn": ("afinn", "data/AFINN-en-165.txt"),  # Nielsen's AFINN-165, -5..5, ODbL
    "pattern": ("textblob", "en/en-sentiment.xml"),  # De Smedt's pattern, -1..1, PDDL
}
# VADER's own scalar for a negated lexicon word.
_NEGATED_VALENCE = -0.74
_U64 = 2**64
# Odd 64-bit constants: polynomial base, Fibonacci-hashing mixer and salts.
_BASE = 0x100000001B3
_MIX = np.uint64(0x9E3779B97F4A7C15)
_NEG_SALT = np.uint64(0x5BD1E9955BD1E995)
_BIGRAM_SALT = np.uint64(0xC2B2AE3D27D4EB4F)
_TRIGRAM_SALT = np.uint64(0x165667B19E3779F9)
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


def _codes(texts: Sequence[str], emoticons: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Code points, class and document of each char of the batch, whitespace collapsed.

    Each document reads " words " with single spaces and documents are split by NUL
    (the spaces around it keep str.lower's final-sigma rule from seeing a neighbour),
    so a post's features never depend on the rest of its batch.
    """
    joined = " \x00 ".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        joined = " \x00 ".join(t.replace("\x00", " ") for t in texts)
    if emoticons:
        joined = _EMOTICON_RE.sub(lambda m: _EMOTICONS[m.group()], joined)
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
    """Fibonacci hashing: the top ``bits`` bits of hash * MIX (mod 2**64)."""
    out = hashes * _MIX
    out >>= np.uint64(64 - bits)
    return out.view(np.int64)  # < 2**bits: the same values, as an index type, no copy


def _char_hashes(codes: np.ndarray, config: FeatureConfig):
    """(n, hash of the n-gram starting at each position) for each n of the config."""
    hashes = codes
    lo, hi = config.char_ngrams
    for n in range(2, hi + 1):
        hashes = hashes[:-1] * np.uint64(_BASE) + codes[n - 1 :]
        if n >= lo:
            yield n, hashes + np.uint64(n)
    if lo == 1:
        yield 1, codes + np.uint64(1)


def _crossing(seps: np.ndarray, n: int, length: int) -> np.ndarray:
    """Start positions of the n-grams that contain a document separator."""
    crossing = (seps[:, None] - np.arange(n)[None, :]).ravel()
    return crossing[(crossing >= 0) & (crossing < length)]


def _char_counts(codes: np.ndarray, config: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """Separator positions and each document's number of char n-grams."""
    seps = np.flatnonzero(codes == 0)
    sizes = np.diff(np.concatenate(([-1], seps, [len(codes)]))) - 1
    lo, hi = config.char_ngrams
    counts = sum(np.maximum(sizes - n + 1, 0) for n in range(lo, hi + 1))
    return seps, np.asarray(counts, dtype=np.float64)


def _char_pairs(codes: np.ndarray, doc_of: np.ndarray, bits: int,
                config: FeatureConfig) -> tuple[list, np.ndarray]:
    """[(doc, bucket)] of char n-grams per n, and the n-gram count of each document.

    N-grams crossing a document separator are assigned to the spare document
    ``n_docs`` (dropped later).
    """
    seps, counts = _char_counts(codes, config)
    pairs = []
    for n, hashes in _char_hashes(codes, config):
        doc = doc_of[: len(hashes)].copy()
        doc[_crossing(seps, n, len(doc))] = len(seps) + 1
        pairs.append((doc, _bucket(hashes, bits)))
    return pairs, counts


def _char_sums(codes: np.ndarray, coef: np.ndarray, config: FeatureConfig
               ) -> tuple[np.ndarray, np.ndarray]:
    """Each document's sum of char n-gram weights, and its n-gram count.

    The same features as :func:`_char_pairs`, summed without building them: weights
    of n-grams starting at each position are added up, those crossing a separator
    zeroed, and each document's contiguous run of positions reduced.
    """
    seps, counts = _char_counts(codes, config)
    bits = int(coef.shape[0]).bit_length() - 1
    total = np.zeros(len(codes))
    for n, hashes in _char_hashes(codes, config):
        weights = coef[_bucket(hashes, bits)]
        weights[_crossing(seps, n, len(weights))] = 0.0
        total[: len(weights)] += weights
    return np.add.reduceat(total, np.concatenate(([0], seps))), counts


def _tokens(codes: np.ndarray, kind: np.ndarray, doc_of: np.ndarray) -> tuple[np.ndarray, ...]:
    """(doc, hash, first code point, is a word) of each token: a run of word chars or
    one other char."""
    is_word = kind == _WORD
    is_other = (kind == _OTHER) & (codes != 0)
    prev_word = np.concatenate(([False], is_word[:-1]))
    in_token = is_word | is_other
    starts = np.flatnonzero((is_other | (is_word & ~prev_word))[in_token])
    chars = codes[in_token]
    if not len(starts):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.astype(np.uint64), empty.astype(np.uint64), empty.astype(bool)
    token_of = _segment_of(starts, len(chars))
    position = np.minimum(np.arange(len(chars)) - starts[token_of], len(_POWERS) - 1)
    hashes = np.add.reduceat(chars * _POWERS[position], starts)
    return doc_of[in_token][starts], hashes, chars[starts], is_word[in_token][starts]


def _hash_words(words: Sequence[str]) -> np.ndarray:
    """Token hash of each single-token word, the same function the features use."""
    docs, hashes, _, _ = _tokens(*_codes(words, emoticons=False))
    single = np.bincount(docs, minlength=len(words)) == 1
    out = np.zeros(len(words), dtype=np.uint64)
    out[single] = hashes[np.isin(docs, np.flatnonzero(single))]
    return out


# Columns of the special-token table.
_VALENCE, _NEGATOR, _CALL, _NEG_EMO, _POS_EMO, _CONTRAST, _ENGLISH = range(7)


def _lexicon(name: str) -> tuple[list[str], list[float]]:
    """Words and valences of an extra lexicon, on VADER's scale (-4..4)."""
    if name not in LEXICONS:
        raise ValueError(f"lexicon {name!r} is not one of {', '.join(LEXICONS)}")
    package, path = LEXICONS[name]
    text = resources.files(package).joinpath(path).read_text("utf-8")
    if name == "afinn":
        rows = [line.rsplit("\t", 1) for line in text.splitlines() if "\t" in line]
        return [r[0] for r in rows], [float(r[1]) * 0.8 for r in rows]
    import xml.etree.ElementTree as ET  # pattern's XML: one entry per word sense

    senses: dict[str, list[float]] = {}
    for word in ET.fromstring(text).iter("word"):
        senses.setdefault(word.get("form", "").lower(), []).append(
            float(word.get("polarity", "0")))
    words = [w for w, values in senses.items() if w and any(values)]
    return words, [4.0 * sum(senses[w]) / len(senses[w]) for w in words]


@cache
def _specials(lexicons: tuple[str, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Sorted token hashes and their attributes (the columns above, then one valence
    column per extra lexicon)."""
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines() if "\t" in line]
    width = 7 + len(lexicons)
    table: dict[int, np.ndarray] = {}
    groups = [([r[0] for r in rows], [float(r[1]) for r in rows], _VALENCE)]
    groups += [(words, [1.0] * len(words), column) for column, words in [
        (_NEGATOR, _NEGATORS), (_CALL, _CALLS_TO_ACTION), (_NEG_EMO, _NEG_EMOJI),
        (_POS_EMO, _POS_EMOJI), (_CONTRAST, _CONTRASTS), (_ENGLISH, ENGLISH_WORDS)]]
    groups.append((ENGLISH_SHARED, [0.5] * len(ENGLISH_SHARED), _ENGLISH))
    groups += [(*_lexicon(name), 7 + i) for i, name in enumerate(lexicons)]
    for words, values, column in groups:
        for key, value in zip(_hash_words(words).tolist(), values, strict=True):
            if key:  # 0: the entry is not one token (an emoticon such as ":-(")
                table.setdefault(key, np.zeros(width))[column] = value
    keys = np.array(sorted(table), dtype=np.uint64)
    return keys, np.array([table[k] for k in keys.tolist()]).reshape(-1, width)


def n_dense(config: FeatureConfig = FEATURES) -> int:
    """Width of the dense block under ``config``: N_DENSE, plus two per extra lexicon."""
    return N_DENSE + 2 * len(config.lexicons)


class Words(NamedTuple):
    """A batch's word n-grams, dense rows and English evidence."""

    doc: np.ndarray  # document of each word n-gram
    bucket: np.ndarray  # its hash bucket
    dense: np.ndarray  # (documents, N_DENSE)
    english: np.ndarray  # per document: it reads as English (see ENGLISH_WORDS)


def _words(codes: np.ndarray, kind: np.ndarray, doc_of: np.ndarray, bits: int,
           config: FeatureConfig) -> Words:
    """Word n-grams with negation marks, the dense feature rows, and English evidence.

    A token is negated from a negator to the next . , ! ? ; : (with
    ``contrast_ends_scope``, also the next "but", "however"...) or the end of the post.
    """
    n_docs = int(doc_of[-1]) + 1
    doc, hashes, first, is_word = _tokens(codes, kind, doc_of)
    keys, attributes = _specials(config.lexicons)
    found = np.minimum(np.searchsorted(keys, hashes), len(keys) - 1)
    hit = np.flatnonzero(keys[found] == hashes)  # tokens in the table: a minority
    attrs = attributes[found[hit]]
    hit_doc = doc[hit]
    negator = np.zeros(len(doc), dtype=bool)
    negator[hit] = attrs[:, _NEGATOR] > 0
    new_doc = np.concatenate(([True], doc[1:] != doc[:-1]))
    ends = new_doc | np.isin(first, _SCOPE_END)
    if config.contrast_ends_scope:
        ends[hit[attrs[:, _CONTRAST] > 0]] = True
    scope_start = np.flatnonzero(ends)
    before = np.cumsum(negator) - negator
    scope_of = _segment_of(scope_start, len(doc))
    negated = (before - before[scope_start][scope_of]) > 0 if len(doc) else negator
    marked = np.where(negated, hashes ^ _NEG_SALT, hashes)
    same_doc = ~new_doc[1:]
    grams = [marked]
    docs = [doc]
    if config.word_ngrams >= 2:
        grams.append((marked[:-1] * np.uint64(_BASE) + marked[1:] + _BIGRAM_SALT)[same_doc])
        docs.append(doc[1:][same_doc])
    if config.word_ngrams >= 3:
        same3 = same_doc[:-1] & same_doc[1:]
        grams.append((marked[:-2] * np.uint64(_BASE * _BASE % _U64) + marked[1:-1]
                      * np.uint64(_BASE) + marked[2:] + _TRIGRAM_SALT)[same3])
        docs.append(doc[2:][same3])
    word_doc = np.concatenate(docs)
    word_bucket = _bucket(np.concatenate(grams), bits)
    flip = np.where(negated[hit], _NEGATED_VALENCE, 1.0)
    valence = attrs[:, _VALENCE] * flip

    def per_doc(weights: np.ndarray) -> np.ndarray:
        return np.bincount(hit_doc, weights=weights, minlength=n_docs)

    pos, neg = per_doc(np.maximum(valence, 0)), per_doc(np.maximum(-valence, 0))
    total = pos - neg
    bang = np.bincount(doc_of[codes == ord("!")], minlength=n_docs)
    question = np.bincount(doc_of[codes == ord("?")], minlength=n_docs)
    dense = np.column_stack([
        np.tanh(pos / 4),
        np.tanh(neg / 4),
        total / np.sqrt(total * total + 15),  # VADER's compound normalisation
        per_doc(attrs[:, _NEGATOR]) > 0,
        np.tanh(per_doc(attrs[:, _CALL])),
        np.tanh(per_doc(attrs[:, _NEG_EMO])),
        np.tanh(per_doc(attrs[:, _POS_EMO])),
        np.tanh(bang / 3),
        np.tanh(question / 3),
        *(np.tanh(per_doc(np.maximum(sign * attrs[:, 7 + i] * flip, 0)) / 4)
          for i in range(len(config.lexicons)) for sign in (1.0, -1.0)),
    ])
    english_hits = per_doc(attrs[:, _ENGLISH])
    # English: two or more of its words (ENGLISH_SHARED count half), at least one in five.
    english = (english_hits >= 2) & (english_hits * 5 >= np.bincount(doc[is_word],
                                                                     minlength=n_docs))
    return Words(word_doc, word_bucket, dense, english)


def _scale(counts: np.ndarray) -> np.ndarray:
    """1/sqrt(number of n-grams): rows of roughly unit norm, so long posts don't shout."""
    return 1.0 / np.sqrt(np.maximum(counts, 1))


def featurize(texts: Sequence[str], word_bits: int, char_bits: int,
              config: FeatureConfig = FEATURES) -> sparse.csr_matrix:
    """The design matrix [words | chars | dense] the model is trained on.

    Row i depends on ``texts[i]`` alone. :func:`margins` computes ``X @ coef``
    without building X, for scoring.
    """
    from scipy import sparse

    n = len(texts)
    codes, kind, doc_of = _codes(texts, config.emoticons)
    word_doc, word_bucket, dense, _ = _words(codes, kind, doc_of, word_bits, config)
    char_pairs, char_counts = _char_pairs(codes, doc_of, char_bits, config)
    blocks = [([(word_doc, word_bucket)], _scale(np.bincount(word_doc, minlength=n))),
              (char_pairs, _scale(char_counts))]
    matrices = []
    for (pairs, scale), bits in zip(blocks, (word_bits, char_bits), strict=True):
        doc = np.concatenate([d for d, _ in pairs])
        bucket = np.concatenate([b for _, b in pairs])
        kept = doc < n  # drops char n-grams that crossed a document separator
        values = scale[doc[kept]]
        matrices.append(sparse.csr_matrix((values, (doc[kept], bucket[kept])), (n, 2**bits)))
    return sparse.hstack([*matrices, sparse.csr_matrix(dense)], format="csr")


class Coefs(NamedTuple):
    """One linear model's weights over :func:`featurize`'s columns."""

    word: np.ndarray  # 2**word_bits
    char: np.ndarray  # 2**char_bits
    dense: np.ndarray  # N_DENSE
    intercept: float


class Margins(NamedTuple):
    values: np.ndarray  # (models, texts): featurize(texts) @ coef + intercept, per model
    english: np.ndarray  # (texts,): the text reads as English (ENGLISH_WORDS)


def margins(texts: Sequence[str], models: Sequence[Coefs],
            config: FeatureConfig = FEATURES) -> Margins:
    """Every model's margin on every text, in chunks, without building the matrix.

    One parse serves all models (an artefact's languages share the featurisation);
    only the weight look-ups are per model.
    """
    out = np.empty((len(models), len(texts)), dtype=np.float64)
    english = np.zeros(len(texts), dtype=bool)
    bits = [int(m.word.shape[0]).bit_length() - 1 for m in models]
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start : start + CHUNK]
        n = len(chunk)
        codes, kind, doc_of = _codes(chunk, config.emoticons)
        parsed: dict[int, Words] = {}
        for row, (model, word_bits) in enumerate(zip(models, bits, strict=True)):
            if word_bits not in parsed:
                parsed[word_bits] = _words(codes, kind, doc_of, word_bits, config)
            w = parsed[word_bits]
            words = np.bincount(w.doc, model.word[w.bucket], minlength=n)
            chars, char_counts = _char_sums(codes, model.char, config)
            out[row, start : start + n] = (
                w.dense @ model.dense + model.intercept
                + words * _scale(np.bincount(w.doc, minlength=n)) + chars * _scale(char_counts))
        if parsed:
            english[start : start + n] = next(iter(parsed.values())).english
    return Margins(out, english)
