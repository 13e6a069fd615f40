"""``firestorm score`` and ``firestorm train-negativity``: the negativity model's edge.

``score`` streams: one ``{"negativity": p, "lang": "en"}`` line per input line, in
order, read and written in batches so a large file never sits in memory.
``negativity`` is null for a post in a language the model cannot read. A
malformed line becomes ``{"negativity": null, "lang": null, "error": ...}`` on its
own line (order is kept).

``train-negativity`` fails on the first malformed line instead: silently
dropping labelled posts would change the model without anyone noticing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import BinaryIO, NamedTuple, TextIO

import numpy as np

from models.calibration import KINDS
from models.negativity import LABELS, NegativityScorer, normalise_language
from streams.errors import ConfigError, UsageError
from streams.lines import open_lines, open_output

__all__ = ["Labelled", "add_score_parser", "add_train_parser", "read_labelled", "score_lines"]

BATCH = 4096
SPLITS = ("temporal", "random")
CROSS_FITS = ("random", "set", "year")
DEFAULT_TEST_SET = "2016test"


def add_score_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score", help="score posts' probability of being negative",
        description="Read JSONL lines with a \"text\" field (and optionally \"lang\", an ISO 639"
                    " code) and write one {\"negativity\": p, \"lang\": \"en\"} line per input"
                    " line, same order. p is calibrated; it is null when the post's language"
                    " has no model. A malformed line gives {\"negativity\": null, \"lang\": null,"
                    " \"error\": ...} and is counted on stderr.")
    p.add_argument("--input", "-i", required=True, metavar="FILE",
                   help="JSONL with a \"text\" field per line, or - for stdin")
    p.add_argument("--output", "-o", default="-", metavar="FILE",
                   help="where to write scores (default: - for stdout)")
    p.add_argument("--model", metavar="PATH", default="",
                   help="negativity model artefact (default: the shipped model)")
    p.set_defaults(func=run_score)


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-negativity", help="train the negativity model on labelled posts",
        description="Train on JSONL lines {\"text\": ..., \"label\": negative|neutral|positive}"
                    " (optionally \"set\": the name of the part of the data a line came from),"
                    " report ROC-AUC, F1 of the negative class and calibration on a test split,"
                    " and write the model artefact. A malformed line stops training with its"
                    " line number.")
    p.add_argument("--data", required=True, metavar="FILE", help="labelled posts (JSONL)")
    p.add_argument("--out", required=True, metavar="MODEL", help="artefact to write (.npz)")
    p.add_argument("--lang", default="en", metavar="CODE",
                   help="ISO 639 code of the posts' language (default: en); the artefact keeps"
                        " the --base artefact's models of other languages")
    p.add_argument("--base", default="shipped", metavar="MODEL",
                   help="artefact whose other languages' models the output keeps: a path,"
                        " 'shipped' (default) or 'none'")
    p.add_argument("--split", choices=SPLITS, default="random",
                   help="test split: 'random' holds out --holdout of the posts by a hash of"
                        " the text; 'temporal' tests on the lines whose \"set\" is --test-set"
                        " and trains on the rest (default: random)")
    p.add_argument("--test-set", default=DEFAULT_TEST_SET, metavar="NAME",
                   help="the \"set\" tested on with --split temporal"
                        f" (default: {DEFAULT_TEST_SET})")
    p.add_argument("--holdout", type=float, default=0.2, metavar="FRACTION",
                   help="with --split random, the fraction held out, in [0, 1); 0 trains on"
                        " every post and reports no test figures (default: 0.2)")
    p.add_argument("--cross-fit", choices=CROSS_FITS, default="random",
                   help="folds whose held-out margins fit the calibration: 'random' (5 folds"
                        " by position), 'set' (one fold per \"set\") or 'year' (one per"
                        " set's first four characters, e.g. 2016 of 2016dev): a model of"
                        " other periods scores each post, as the future will (default: random)")
    p.add_argument("--calibrate-on", default="", metavar="SET[,SET...]",
                   help="fit the calibration and threshold on the cross-fitted margins of the"
                        " training lines of these sets only (say the newest before the test"
                        " period: the nearest to the future); default: of every training line")
    p.add_argument("--calibration", choices=KINDS, default="isotonic",
                   help="calibration map: 'isotonic' (centred isotonic regression), 'platt'"
                        " (a sigmoid) or 'beta' (beta calibration: a sigmoid of ln s and"
                        " ln(1 - s), each tail its own slope) (default: isotonic)")
    p.add_argument("--seed", type=int, default=0, help="solver seed (default: 0)")
    p.set_defaults(func=run_train)


def run_score(args: argparse.Namespace) -> int:
    scorer = NegativityScorer.load(args.model) if args.model else NegativityScorer.default()
    with open_lines(args.input, keep_blank=True) as lines, \
            open_output(args.output, "scores") as out:
        assert out is not None
        total, errors, unscored = score_lines(scorer, lines, out)
    print(f"scored {total - errors - unscored:,} lines, {unscored:,} in a language without a"
          f" model ({', '.join(scorer.languages)} read), {errors:,} malformed", file=sys.stderr)
    return 0


def score_lines(scorer: NegativityScorer, lines: Iterator[bytes],
                out: TextIO) -> tuple[int, int, int]:
    """Write one score line per input line; return (lines, malformed, not scored)."""
    total = errors = unscored = 0
    while batch := list(islice(lines, BATCH)):
        parsed = [_post(line) for line in batch]
        good = [post for post in parsed if post.error is None]
        assessed = scorer.assess_many([p.text for p in good], [p.lang for p in good])
        results = iter(zip(assessed.values(), assessed.lang, strict=True))
        for post in parsed:
            if post.error:
                record = {"negativity": None, "lang": None, "error": post.error}
            else:
                p, lang = next(results)
                record = {"negativity": None if p is None else round(p, 6), "lang": lang}
                unscored += p is None
            out.write(json.dumps(record) + "\n")
        total += len(batch)
        errors += len(batch) - len(good)
        out.flush()
    return total, errors, unscored


class _Post(NamedTuple):
    text: str
    lang: str | None
    error: str | None  # why the line is not a post; never quotes the post


def _post(line: bytes) -> _Post:
    if not line.strip():
        return _Post("", None, "empty line")
    try:
        record = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _Post("", None, f"not a JSON line: {exc.__class__.__name__}")
    if not isinstance(record, dict):
        return _Post("", None, "not a JSON object")
    text = record.get("text")
    if not isinstance(text, str):
        return _Post("", None, "'text' is missing or not a string")
    lang = record.get("lang")
    return _Post(text, lang if isinstance(lang, str) else None, None)


class Labelled(NamedTuple):
    """A training file's posts, their labels and sets, and the sha256 of its bytes."""

    texts: list[str]
    labels: list[str]
    sets: list[str | None]  # the optional "set" field of each line
    sha256: str


def read_labelled(handle: BinaryIO, source: str) -> Labelled:
    """Every post of a labelled file; blank lines are skipped, a bad line is a ConfigError."""
    digest = hashlib.sha256()
    texts, labels, sets = [], [], []
    for number, line in enumerate(handle, start=1):
        digest.update(line)
        if not line.strip():
            continue
        where = f"{source} line {number}"
        try:
            record = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{where}: not valid JSON ({exc})") from exc
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise ConfigError(f"{where}: expected an object with a string \"text\"")
        label = record.get("label")
        if label not in LABELS:
            raise ConfigError(f"{where}: label {label!r} must be one of {', '.join(LABELS)}")
        part = record.get("set")
        if part is not None and not isinstance(part, str):
            raise ConfigError(f"{where}: \"set\" must be a string when present, got {part!r}")
        texts.append(record["text"])
        labels.append(label)
        sets.append(part)
    if not texts:
        raise ConfigError(f"{source}: no labelled posts (the file is empty)")
    return Labelled(texts, labels, sets, digest.hexdigest())


def _test_mask(data: Labelled, args: argparse.Namespace) -> list[bool]:
    if args.split == "temporal":
        mask = [s == args.test_set for s in data.sets]
        if not any(mask):
            names = sorted({s for s in data.sets if s is not None})
            raise ConfigError(
                f"--split temporal: no line has \"set\": {args.test_set!r}"
                f" (sets in the file: {', '.join(names) or 'none'}); name one with --test-set"
                " or use --split random")
        if all(mask):
            raise ConfigError(f"--split temporal: every line is in {args.test_set!r}: nothing"
                              " left to train on")
        return mask
    from models.negativity_train import holdout_mask
    return holdout_mask(data.texts, args.holdout).tolist()


def _base(args: argparse.Namespace) -> NegativityScorer | None:
    if args.base == "none":
        return None
    if args.base == "shipped":
        return NegativityScorer.default()
    return NegativityScorer.load(args.base)


def run_train(args: argparse.Namespace) -> int:
    # scikit-learn is needed to train, not to score: import it only here (seconds of start-up).
    import sklearn

    from models.negativity_train import Recipe, evaluate, train_model
    if not 0.0 <= args.holdout < 1.0:
        raise UsageError(f"--holdout {args.holdout} must be in [0, 1)")
    lang = normalise_language(args.lang)
    if lang is None or lang != args.lang.lower():
        raise UsageError(f"--lang {args.lang!r} is not an ISO 639 language code such as"
                          " en, cy, fr")
    data = Path(args.data)
    if not data.is_file():
        raise ConfigError(f"--data {args.data!r} does not exist or is not a file")
    base = _base(args)  # fail before minutes of training, not after
    with data.open("rb") as handle:
        labelled = read_labelled(handle, data.name)
    test = _test_mask(labelled, args)
    train_rows = [(t, y) for t, y, h in zip(labelled.texts, labelled.labels, test, strict=True)
                  if not h]
    test_rows = [(t, y) for t, y, h in zip(labelled.texts, labelled.labels, test, strict=True)
                 if h]
    print(f"training a {lang!r} model on {len(train_rows):,} posts, testing on"
          f" {len(test_rows):,} ({args.split} split)", file=sys.stderr)
    groups = None
    if args.cross_fit != "random":
        sets = [part for part, h in zip(labelled.sets, test, strict=True) if not h]
        if None in sets:
            raise ConfigError(f"--cross-fit {args.cross_fit}: every training line needs a"
                              " \"set\"; use --cross-fit random")
        groups = [part[:4] if args.cross_fit == "year" else part for part in sets]
    calibrate = None
    if args.calibrate_on:
        names = {name.strip() for name in args.calibrate_on.split(",") if name.strip()}
        sets = [part for part, h in zip(labelled.sets, test, strict=True) if not h]
        calibrate = np.array([part in names for part in sets])
        missing = sorted(names - set(sets))
        if missing:
            raise ConfigError(f"--calibrate-on: no training line has \"set\" {missing[0]!r}")
    try:
        model = train_model([t for t, _ in train_rows], [y for _, y in train_rows],
                            seed=args.seed, groups=groups, calibrate=calibrate,
                            recipe=Recipe(calibration=args.calibration))
    except ValueError as exc:
        raise ConfigError(f"{data.name}: {exc}") from exc
    metrics = None
    if {y == "negative" for _, y in test_rows} == {True, False}:  # AUC needs both
        metrics = evaluate(model, [t for t, _ in test_rows], [y for _, y in test_rows])
    split = {"split": args.split, "cross_fit": args.cross_fit,
             "calibrate_on": args.calibrate_on or None,
             **({"test_set": args.test_set} if args.split == "temporal"
                else {"holdout": args.holdout})}
    model = replace(model, metadata={
        **model.metadata, "data_file": data.name, "data_sha256": labelled.sha256, **split,
        "test_metrics": metrics, "sklearn": sklearn.__version__})
    scorer = (base.with_model(lang, model) if base is not None
              else NegativityScorer({lang: model}, lang))
    try:
        scorer.save(args.out)
    except OSError as exc:
        raise ConfigError(f"--out {args.out!r}: {exc.strerror}") from exc
    if metrics:
        print(f"test ({args.split}) roc_auc={metrics['roc_auc']}"
              f" f1_negative={metrics['f1_negative']} precision={metrics['precision_negative']}"
              f" recall={metrics['recall_negative']} threshold={metrics['threshold']}"
              f" calibration_max_gap={metrics['calibration_max_gap']} n={metrics['n']}")
    else:
        print("the test split has no negative or no other posts: not evaluated")
    print(f"wrote {args.out} ({scorer.version}, languages {', '.join(scorer.languages)},"
          f" data sha256 {labelled.sha256[:12]})", file=sys.stderr)
    return 0

