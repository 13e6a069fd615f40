"""The labels format: good lines read back exactly, bad lines say where, what and how to fix."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.errors import LabelError
from models.labels import KINDS, Label, parse_labels, parse_time

GOOD = {"entity_id": "acme", "kind": "storm", "onset": "2026-03-05T09:30:00Z",
        "peak": "2026-03-05T12:00:00+01:00", "end": 1772744400, "label": "boycott",
        "id": "2026-acme", "attrs": {"source": "press log"}}


def line(**changes) -> str:
    data = {**GOOD, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...})


def test_a_good_line_reads_iso_times_with_offsets_and_epoch_seconds():
    (label,) = parse_labels([line()])
    assert label == Label("acme", "storm", onset=1772703000.0, end=1772744400.0,
                          peak=1772708400.0, label="boycott", id="2026-acme")
    assert label.attrs == {"source": "press log"}


def test_labels_round_trip_through_their_json():
    (label,) = parse_labels([line()])
    assert parse_labels([label.to_json()]) == [label]


def test_blank_lines_are_skipped_and_line_numbers_count_them():
    with pytest.raises(LabelError, match=r"^labels.jsonl line 3: "):
        parse_labels(["", line(), "{oops"], source="labels.jsonl")


@pytest.mark.parametrize(("changes", "message"), [
    ({"kind": "strom"}, "'kind': 'strom' must be one of storm, benign, background, ignore"),
    ({"onset": ...}, "'onset' is missing: every label needs entity_id, kind, onset and end"),
    ({"entity_id": ""}, "'entity_id': '' must be a non-empty string"),
    ({"entity_id": 7}, "'entity_id': 7 must be a non-empty string"),
    ({"onset": "2026-03-05 09:30"}, "'onset': '2026-03-05 09:30' has no UTC offset; add one"),
    ({"onset": "yesterday"}, "'onset': 'yesterday' is not an ISO-8601 time; use epoch seconds"),
    ({"end": 1772744400000}, "'end': 1772744400000 is after 2100; epoch seconds, not millisec"),
    ({"end": True}, "'end': True is not a time"),
    ({"end": 100}, "'end': 100 is before 2000-01-01"),
    ({"end": "2026-03-05T09:00:00Z"}, "'end' is before 'onset': swap them or fix the times"),
    ({"peak": "2026-03-06T09:00:00Z"}, "'peak' must lie between 'onset' and 'end'"),
    ({"pek": "x"}, "unknown field 'pek': the fields are entity_id, kind, onset, peak, end"),
    ({"attrs": [1]}, "'attrs': must be a JSON object of your own fields, not list"),
    ({"label": 3}, "'label': 3 must be a string"),
])
def test_a_bad_field_is_named_with_its_fix(changes, message):
    with pytest.raises(LabelError) as info:
        parse_labels([line(), line(**changes)], source="past.jsonl")
    assert str(info.value).startswith("past.jsonl line 2: " + message)


@pytest.mark.parametrize(("raw", "message"), [
    ("[1, 2]", "a label is a JSON object, not list"),
    ("not json", "not valid JSON (Expecting value at column 1); one JSON object a line"),
    (b"\xff\xfe", "not UTF-8 text"),
])
def test_a_line_that_is_not_a_json_object_says_so(raw, message):
    with pytest.raises(LabelError, match="^labels line 1: " + message.replace("(", r"\(")
                       .replace(")", r"\)").replace("[", r"\[")):
        parse_labels([raw])


def test_nan_and_infinite_times_are_refused():
    with pytest.raises(LabelError, match="not a finite time"):
        parse_time(float("nan"), "onset")


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                     | st.text(max_size=12),
                     lambda children: st.lists(children, max_size=3)
                     | st.dictionaries(st.text(max_size=6), children, max_size=3), max_leaves=8)
_time = st.one_of(st.integers(-10**12, 10**13), st.floats(allow_nan=True),
                  st.text(max_size=30), st.datetimes().map(lambda d: d.isoformat()),
                  st.just("2026-03-05T09:30:00Z"), st.just(1772703000))
_fields = st.fixed_dictionaries(
    {}, optional={"entity_id": st.one_of(st.text(max_size=8), _json),
                  "kind": st.one_of(st.sampled_from(KINDS), st.text(max_size=8)),
                  "onset": _time, "end": _time, "peak": _time, "label": _json, "id": _json,
                  "attrs": _json})


@given(st.one_of(_fields, _json, st.dictionaries(st.text(max_size=8), _json, max_size=4)))
def test_any_json_line_is_a_label_or_a_label_error_naming_the_line(data):
    try:
        labels = parse_labels([json.dumps(data)], source="x.jsonl")
    except LabelError as exc:
        assert str(exc).startswith("x.jsonl line 1: ")
        return
    (label,) = labels
    assert label.kind in KINDS and label.onset <= label.end
    assert parse_labels([label.to_json()]) == [label]


@given(st.binary(max_size=40))
def test_arbitrary_bytes_never_raise_anything_but_a_label_error(raw):
    try:
        parse_labels([raw])
    except LabelError as exc:
        assert "line 1" in str(exc)
