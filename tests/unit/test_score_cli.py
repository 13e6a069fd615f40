"""``score`` and ``train-negativity`` through their own argparse (no Kafka, no real data)."""

import argparse
import hashlib
import io
import json
import sys

import pytest

from models.negativity import NegativityScorer
from streams.commands.negativity import add_score_parser, add_train_parser
from streams.errors import ConfigError


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(required=True)
    add_score_parser(sub)
    add_train_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_score_writes_one_line_per_input_line_in_order(tmp_path, capsys):
    lines = [
        json.dumps({"text": "I hate this, boycott them now"}),
        "",                                   # blank line
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"id": 3}),                # no text
        json.dumps({"text": "I love this, great job", "id": 5}),
    ]
    source = tmp_path / "texts.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = tmp_path / "scores.jsonl"
    assert run("score", "--input", str(source), "--output", str(target)) == 0
    out = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(out) == len(lines)
    assert [o["negativity"] is None for o in out] == [False, True, True, True, True, False]
    assert all("error" in o for o in out[1:5])
    assert out[0]["negativity"] > out[5]["negativity"]
    assert "4 malformed" in capsys.readouterr().err


def test_score_reads_stdin_and_writes_stdout(monkeypatch, capsys):
    data = "\n".join(json.dumps({"text": t}) for t in ["good", "not good", ""]).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert run("score", "--input", "-") == 0
    scores = [json.loads(line)["negativity"] for line in capsys.readouterr().out.splitlines()]
    assert len(scores) == 3
    assert scores[1] > scores[0]


def test_score_invalid_utf8_is_an_error_line_not_a_crash(tmp_path, capsys):
    source = tmp_path / "texts.jsonl"
    source.write_bytes(b'{"text": "\xff\xfe"}\n{"text": "ok"}\n')
    assert run("score", "--input", str(source)) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert out[0]["negativity"] is None and out[1]["negativity"] is not None


def test_score_missing_input_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        run("score", "--input", str(tmp_path / "missing.jsonl"))


def synthetic(n: int) -> list[dict]:
    templates = {
        "negative": "I hate the {i}th delay, awful and a disgrace",
        "positive": "the {i}th service is lovely, great work",
        "neutral": "meeting number {i} is on monday",
    }
    return [{"text": t.format(i=i), "label": label}
            for i in range(n) for label, t in templates.items()]


def test_train_writes_an_artefact_with_data_hash_and_metrics(tmp_path, capsys):
    data = tmp_path / "labelled.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in synthetic(80)) + "\n\n", encoding="utf-8")
    model = tmp_path / "model.npz"
    assert run("train-negativity", "--data", str(data), "--out", str(model),
               "--holdout", "0.3", "--seed", "1") == 0
    assert "held-out roc_auc=" in capsys.readouterr().out
    scorer = NegativityScorer.load(model)
    assert scorer.metadata["data_sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert scorer.metadata["heldout_metrics"]["roc_auc"] > 0.9
    texts = tmp_path / "texts.jsonl"
    texts.write_text(json.dumps({"text": "awful disgrace"}) + "\n", encoding="utf-8")
    assert run("score", "--input", str(texts), "--model", str(model)) == 0


@pytest.mark.parametrize(("line", "message"), [
    ('{"text": "fine", "label": "angry"}', "line 3: label 'angry' must be one of negative"),
    ('{"text": "fine"', "line 3: not valid JSON"),
    ('{"label": "negative"}', 'line 3: expected an object with a string "text"'),
])
def test_train_names_the_malformed_line(tmp_path, line, message):
    rows = [json.dumps(r) for r in synthetic(1)[:2]] + [line]
    data = tmp_path / "labelled.jsonl"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        run("train-negativity", "--data", str(data), "--out", str(tmp_path / "m.npz"))
