"""``firestorm score`` and ``firestorm train-negativity``: the negativity model's edge.

``score`` streams: one ``{"negativity": p}`` line per input line, in order, read
and written in batches so a large file never sits in memory. A malformed line
becomes ``{"negativity": null, "error": ...}`` on its own line (order is kept).

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
from typing import BinaryIO, TextIO

from models.negativity import LABELS, NegativityScorer
from streams.errors import ConfigError, UsageError
from streams.lines import open_lines, open_output

__all__ = ["add_score_parser", "add_train_parser", "read_labelled", "score_lines"]

BATCH = 4096


def add_score_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score", help="score posts' probability of being negative",
        description="Read JSONL lines with a \"text\" field and write one {\"negativity\": p}"
                    " line per input line, same order. A malformed line gives"
                    " {\"negativity\": null, \"error\": ...} and is counted on stderr.")
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
        description="Train on JSONL lines {\"text\": ..., \"label\": negative|neutral|positive},"
                    " report ROC-AUC and F1 of the negative class on a held-out split (chosen"
                    " by a hash of the text, so it is stable) and write the model artefact."
                    " A malformed line stops training with its line number.")
    p.add_argument("--data", required=True, metavar="FILE", help="labelled posts (JSONL)")
    p.add_argument("--out", required=True, metavar="MODEL", help="artefact to write (.npz)")
    p.add_argument("--holdout", type=float, default=0.2, metavar="FRACTION",
                   help="fraction held out for evaluation, in [0, 1) (default: 0.2)")
    p.add_argument("--seed", type=int, default=0, help="solver seed (default: 0)")
    p.set_defaults(func=run_train)


def run_score(args: argparse.Namespace) -> int:
    scorer = NegativityScorer.load(args.model) if args.model else NegativityScorer.default()
    with open_lines(args.input, keep_blank=True) as lines, \
            open_output(args.output, "scores") as out:
        assert out is not None
        total, errors = score_lines(scorer, lines, out)
    print(f"scored {total - errors:,} lines, {errors:,} malformed", file=sys.stderr)
    return 0


def score_lines(scorer: NegativityScorer, lines: Iterator[bytes], out: TextIO) -> tuple[int, int]:
    """Write one score line per input line; return (lines, malformed lines)."""
    total = errors = 0
    while batch := list(islice(lines, BATCH)):
        parsed = [_text(line) for line in batch]
        texts = [text for text, error in parsed if error is None]
        scores = iter(scorer.score_many(texts).tolist())
        for _, error in parsed:
            record = {"negativity": None, "error": error} if error else {
                "negativity": round(next(scores), 6)}
            out.write(json.dumps(record) + "\n")
        total += len(batch)
        errors += len(batch) - len(texts)
        out.flush()
    return total, errors


def _text(line: bytes) -> tuple[str, str | None]:
    """(text, None) or ("", reason): the reason never quotes the post."""
    if not line.strip():
        return "", "empty line"
    try:
        record = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return "", f"not a JSON line: {exc.__class__.__name__}"
    if not isinstance(record, dict):
        return "", "not a JSON object"
    text = record.get("text")
    if not isinstance(text, str):
        return "", "'text' is missing or not a string"
    return text, None


def read_labelled(handle: BinaryIO, source: str) -> tuple[list[str], list[str], str]:
    """Texts, labels and the sha256 of the file's bytes; blank lines are skipped."""
    digest = hashlib.sha256()
    texts, labels = [], []
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
        texts.append(record["text"])
        labels.append(label)
    return texts, labels, digest.hexdigest()


def run_train(args: argparse.Namespace) -> int:
    # scikit-learn is needed to train, not to score: import it only here (seconds of start-up).
    import sklearn

    from models.negativity_train import evaluate, holdout_mask, train
    if not 0.0 <= args.holdout < 1.0:
        raise UsageError(f"--holdout {args.holdout} must be in [0, 1)")
    data = Path(args.data)
    if not data.is_file():
        raise ConfigError(f"--data {args.data!r} does not exist or is not a file")
    with data.open("rb") as handle:
        texts, labels, sha256 = read_labelled(handle, data.name)
    held = holdout_mask(texts, args.holdout)
    train_texts = [t for t, h in zip(texts, held, strict=True) if not h]
    train_labels = [y for y, h in zip(labels, held, strict=True) if not h]
    print(f"training on {len(train_texts):,} posts, holding out {int(held.sum()):,}",
          file=sys.stderr)
    try:
        scorer = train(train_texts, train_labels, seed=args.seed)
    except ValueError as exc:
        raise ConfigError(f"{data.name}: {exc}") from exc
    metrics = None
    if held.any():
        test_texts = [t for t, h in zip(texts, held, strict=True) if h]
        test_labels = [y for y, h in zip(labels, held, strict=True) if h]
        if {label == "negative" for label in test_labels} == {True, False}:  # AUC needs both
            metrics = evaluate(scorer, test_texts, test_labels)
    scorer = replace(scorer, metadata={
        **scorer.metadata, "data_file": data.name, "data_sha256": sha256,
        "holdout": args.holdout, "heldout_metrics": metrics, "sklearn": sklearn.__version__})
    try:
        scorer.save(args.out)
    except OSError as exc:
        raise ConfigError(f"--out {args.out!r}: {exc.strerror}") from exc
    if metrics:
        print(f"held-out roc_auc={metrics['roc_auc']} f1_negative={metrics['f1_negative']}"
              f" precision={metrics['precision_negative']} recall={metrics['recall_negative']}"
              f" threshold={metrics['threshold']} n={metrics['n']}")
    else:
        print("held-out split has no negative or no other posts: not evaluated")
    print(f"wrote {args.out} ({scorer.version}, data sha256 {sha256[:12]})", file=sys.stderr)
    return 0

