"""``score`` and ``train-negativity`` through their own argparse (no Kafka, no real data)."""

import argparse
import hashlib
import io
import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.errors import ModelArtefactError
from models.negativity import NegativityScorer
from streams.commands.negativity import add_score_parser, add_train_parser, read_labelled
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
    assert all(set(o) == {"negativity", "lang", "error"} and o["lang"] is None for o in out[1:5])
    assert [set(o) for o in (out[0], out[5])] == [{"negativity", "lang"}] * 2
    assert out[0]["lang"] == out[5]["lang"] == "en"
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
               "--holdout", "0.3", "--seed", "1", "--base", "none") == 0
    assert "test (random) roc_auc=" in capsys.readouterr().out
    scorer = NegativityScorer.load(model)
    meta = scorer.model("en").metadata
    assert meta["data_sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert meta["test_metrics"]["roc_auc"] > 0.9 and meta["split"] == "random"
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


def test_score_reads_each_post_in_its_declared_language_and_nulls_those_without_a_model(
        tmp_path, capsys):
    rows = [{"text": "Mae'r polisi hwn yn warth", "lang": "cy"},
            {"text": "this policy is a disgrace", "lang": "en-GB"},
            {"text": "cette politique est une honte", "lang": "fr"},
            {"text": "this policy is a disgrace", "lang": 7}]  # not a string: identified
    source = tmp_path / "texts.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert run("score", "--input", str(source)) == 0
    captured = capsys.readouterr()
    out = [json.loads(line) for line in captured.out.splitlines()]
    assert out[0] == {"negativity": None, "lang": "cy"}
    assert out[2] == {"negativity": None, "lang": "fr"}
    assert out[1]["lang"] == "en" and out[1]["negativity"] == out[3]["negativity"] > 0.5
    assert "2 in a language without a model" in captured.err


def labelled_file(tmp_path, rows: list[dict], name: str = "labelled.jsonl"):
    data = tmp_path / name
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return data


def test_temporal_split_tests_on_the_named_set_and_records_it(tmp_path, capsys):
    rows = [{**r, "set": "2016test" if i // 3 % 3 == 0 else "older"}
            for i, r in enumerate(synthetic(60))]
    model = tmp_path / "model.npz"
    assert run("train-negativity", "--data", str(labelled_file(tmp_path, rows)),
               "--out", str(model), "--split", "temporal", "--base", "none") == 0
    assert "testing on 60 (temporal split)" in capsys.readouterr().err
    meta = NegativityScorer.load(model).model("en").metadata
    assert (meta["split"], meta["test_set"], meta["test_metrics"]["n"]) == (
        "temporal", "2016test", 60)


def test_training_a_welsh_model_keeps_the_base_english_one(tmp_path):
    welsh = [{"text": t.format(i=i), "label": label}
             for i in range(60) for label, t in [
                 ("negative", "mae'r {i} yn warth, cywilydd"),
                 ("positive", "diolch am y {i}, gwych"),
                 ("neutral", "cyfarfod rhif {i} ddydd llun")]]
    model = tmp_path / "dept.npz"
    assert run("train-negativity", "--data", str(labelled_file(tmp_path, welsh)),
               "--out", str(model), "--lang", "cy") == 0
    scorer = NegativityScorer.load(model)
    assert scorer.languages == ("cy", "en") and scorer.default_language == "en"
    bad, good = scorer.assess_many(["mae'r 99 yn warth, cywilydd", "diolch am y 99, gwych"],
                                   ["cy", "cy"]).negativity
    assert bad > good
    assert scorer.model("en").metadata == NegativityScorer.default().model("en").metadata


@pytest.mark.parametrize(("argv", "message"), [
    (["--lang", "welsh"], "--lang 'welsh' is not an ISO 639 language code"),
    (["--lang", "und"], "is not an ISO 639 language code"),
    (["--split", "temporal"], "no line has \"set\": '2016test'"),
    (["--holdout", "1.5"], r"--holdout 1.5 must be in \[0, 1\)"),
    (["--base", "missing.npz"], "negativity model 'missing.npz'"),
])
def test_bad_training_options_are_clear_errors(tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    data = labelled_file(tmp_path, synthetic(5))
    with pytest.raises((ConfigError, ModelArtefactError), match=message):
        run("train-negativity", "--data", str(data), "--out", str(tmp_path / "m.npz"), *argv)


@pytest.mark.parametrize(("rows", "message"), [
    ([], "no labelled posts"),
    ([{"text": "awful", "label": "negative"}] * 30, "negative and non-negative"),
    (synthetic(2), "lacks negative or other posts"),
])
def test_too_little_data_is_a_clear_error(tmp_path, rows, message):
    with pytest.raises(ConfigError, match=message):
        run("train-negativity", "--data", str(labelled_file(tmp_path, rows)),
            "--out", str(tmp_path / "m.npz"), "--holdout", "0", "--base", "none")
    assert not (tmp_path / "m.npz").exists()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=60) | st.sampled_from([
    b'{"text": "ok", "label": "negative"}', b'{"text": "ok", "label": "positive", "set": 3}',
    b'{"text": 1, "label": "neutral"}', b'[]', b'{"text": "\\ud800", "label": "neutral"}']),
    max_size=8))
def test_any_training_file_reads_or_fails_with_a_located_error(lines):
    try:
        labelled = read_labelled(io.BytesIO(b"\n".join(lines)), "f.jsonl")
    except ConfigError as exc:
        assert str(exc).startswith("f.jsonl")
    else:
        assert len(labelled.texts) == len(labelled.labels) == len(labelled.sets) > 0


def test_cross_fitting_by_set_is_recorded_and_needs_sets(tmp_path):
    rows = [{**r, "set": f"20{16 + i // 3 % 3}x"} for i, r in enumerate(synthetic(60))]
    model = tmp_path / "model.npz"
    assert run("train-negativity", "--data", str(labelled_file(tmp_path, rows)),
               "--out", str(model), "--cross-fit", "year", "--base", "none") == 0
    meta = NegativityScorer.load(model).model("en").metadata
    assert meta["cross_fit"] == "year" and meta["calibration_fit"] == "3-fold cross-fit by group"
    with pytest.raises(ConfigError, match="every training line needs a \"set\""):
        run("train-negativity", "--data", str(labelled_file(tmp_path, synthetic(20), "b.jsonl")),
            "--out", str(model), "--cross-fit", "set", "--base", "none")


def test_calibrating_on_named_sets_fits_on_their_cross_fitted_posts_only(tmp_path):
    rows = [{**r, "set": "new" if i // 3 % 2 else "old"} for i, r in enumerate(synthetic(80))]
    data = labelled_file(tmp_path, rows)
    model = tmp_path / "model.npz"
    assert run("train-negativity", "--data", str(data), "--out", str(model), "--holdout", "0",
               "--calibrate-on", "new", "--calibration", "beta", "--base", "none") == 0
    scorer = NegativityScorer.load(model)
    meta = scorer.model("en").metadata
    assert meta["calibrate_on"] == "new" and meta["calibration_fit"] == "5-fold cross-fit"
    assert meta["n_calibration"] == sum(r["set"] == "new" for r in rows) < len(rows)
    assert scorer.model("en").calibration.kind == "beta"
    with pytest.raises(ConfigError, match="no training line has \"set\" 'newer'"):
        run("train-negativity", "--data", str(data), "--out", str(model),
            "--calibrate-on", "new,newer", "--base", "none")
