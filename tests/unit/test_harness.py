"""The harness's figures on hand-written results, and one small run end to end."""

from __future__ import annotations

import json
import math

import pytest

import bench.evaluate as harness
from bench.harness.figures import figures, maps, median_never
from bench.harness.render import render_headline, render_maps
from bench.harness.run import CaseResult
from bench.scenarios.plan import QUICK, plan
from models.evaluation import BackgroundResult, BenignResult, Report, StormResult
from models.labels import Label, parse_labels

T0, HOUR, MIN = 1_772_409_600.0, 3600.0, 60.0
NOTHING = BackgroundResult()


def storm(rise_min, multiplier, shift=0.4, delay_min=None, kind="policy", rate=10.0,
          family="storm") -> StormResult:
    onset = T0
    peak = onset + rise_min * MIN
    label = Label("e", "storm", onset, peak + 3 * HOUR, peak, label=family, attrs={
        "rise_minutes": rise_min, "multiplier": multiplier, "shift": shift,
        "entity_kind": kind, "baseline_per_hour": rate,
        "mix": {"explicit": 0.1, "sarcasm": 0.6, "demand": 0.1, "question": 0.1,
                "reshare": 0.1}})
    first = None if delay_min is None else onset + delay_min * MIN
    return StormResult(label, first, first, None if first is None else "warning")


def case(family, storms=(), benign=(), background=NOTHING, mentions=1000,
         cpu=1.0) -> CaseResult:
    return CaseResult(f"tuned-{family}", "tuned", family, Report(tuple(storms), tuple(benign),
                      background), mentions, 0, 0, cpu, 0.1, {"policy": background})


def by_key(results, **kw):
    return {f.key: f for f in figures(results, **kw)}


def test_missed_storms_count_as_never_in_the_median_delay():
    assert median_never([10.0, 20.0, None]) == 20.0
    assert median_never([10.0, None, None]) is None
    assert median_never([30.0, 40.0, None], never=-math.inf) == 30.0  # leads: a miss is last
    assert median_never([30.0, None], never=-math.inf) is None  # the lower middle is the miss


def test_recall_on_the_target_set_ignores_storms_outside_it():
    results = [case("storm", [storm(60, 3.0, 0.3, delay_min=10), storm(60, 3.0, 0.3),
                              storm(60, 1.3, 0.3), storm(60, 3.0, 0.2)])]
    f = by_key(results)
    assert f["recall_target_set"].value == 0.5 and f["recall_target_set"].n == 2
    assert f["recall_target_set"].met is False
    assert f["recall_grid"].value == 0.25 and f["recall_grid"].n == 4


def test_slow_burns_must_be_found_before_their_peak():
    slow = [storm(900, 1.5, delay_min=600), storm(900, 1.5, delay_min=1000)]  # 2nd after peak
    f = by_key([case("storm", slow)])
    assert f["slow_before_peak"].value == 0.5 and f["slow_before_peak"].met is False
    assert f["sharp_delay"].n == 0 and f["sharp_delay"].met is None


def test_sharp_delay_and_lead_targets():
    sharp = [storm(120, 5.0, delay_min=d) for d in (5, 10, 15)]
    f = by_key([case("storm", sharp)])
    assert f["sharp_delay"].value == 10 and f["sharp_delay"].met is True
    assert f["sharp_lead"].value == 110 and f["sharp_lead"].met is True
    assert f["sharp_rise_gone"].value == pytest.approx(10 / 120)


def test_the_share_of_the_rise_gone_counts_a_miss_as_never():
    sharp = [storm(60, 5.0, delay_min=30), storm(600, 5.0, delay_min=300), storm(60, 5.0)]
    f = by_key([case("storm", sharp)])
    assert f["sharp_rise_gone"].value == pytest.approx(0.5) and f["sharp_rise_gone"].n == 3
    assert by_key([case("storm", [storm(60, 5.0), storm(60, 5.0)])])[
        "sharp_rise_gone"].value is None


def test_false_alarms_come_from_background_cases_only():
    bg = BackgroundResult(entity_weeks=10.0, warning_pages=1, incidents=12, watch_only=11)
    noisy = BackgroundResult(entity_weeks=1.0, warning_pages=9, incidents=9)
    f = by_key([case("background", background=bg), case("storm", background=noisy)])
    assert f["false_pages"].value == pytest.approx(0.1) and f["false_pages"].met is True
    assert f["false_incidents"].value == pytest.approx(1.2) and f["false_incidents"].met is False


def test_the_first_day_watched_is_scored_from_young_cases_only_per_entity_week():
    # Two new entities' first days (2/7 of an entity-week), one page: 3.5 per entity-week.
    first = BackgroundResult(entity_weeks=2 / 7, warning_pages=1, incidents=2)
    grown = BackgroundResult(entity_weeks=10.0, warning_pages=0, incidents=0)
    f = by_key([case("young", background=first), case("background", background=grown)])
    assert f["young_pages"].value == pytest.approx(3.5) and f["young_pages"].met is False
    assert f["young_pages"].n == 2  # entity-days
    assert f["young_incidents"].value == pytest.approx(7.0)
    assert f["false_pages"].value == 0.0  # the young days do not count as background
    rendered = render_maps("tuned", maps([case("young", background=first)]))
    assert "first day watched (storm-free), by kind of entity" in rendered


def test_one_bot_burst_at_warning_misses_the_never_target():
    calm = BenignResult(Label("e", "benign", T0, T0 + 1800, label="bots"), "watch", None)
    loud = BenignResult(Label("e", "benign", T0, T0 + 1800, label="copypaste"), "warning", T0)
    news = BenignResult(Label("e", "benign", T0, T0 + 1800, label="news"), "warning", T0)
    f = by_key([case("bots", benign=[calm, loud, news])])
    assert f["bots_warned"].value == 1 and f["bots_warned"].n == 2
    assert f["bots_warned"].met is False


def test_cold_start_within_30_minutes():
    cold = [storm(30, 10.0, delay_min=d, family="cold") for d in (12, 25, 45)]
    f = by_key([case("cold", cold)])
    assert f["cold_within_30"].value == pytest.approx(2 / 3)
    assert f["cold_median"].value == 25 and f["cold_median"].met is True


def test_replay_speed_is_checked_against_a_baseline():
    results = [case("storm", mentions=5000, cpu=1.0), case("bots", mentions=5000, cpu=1.0)]
    assert by_key(results)["replay_speed"].value == 5000
    assert by_key(results, speed_baseline=5100)["replay_speed"].met is True  # within 5 %
    assert by_key(results, speed_baseline=6000)["replay_speed"].met is False


def test_maps_place_storms_in_their_cells_and_render():
    grid = [storm(15, 1.3, delay_min=5), storm(15, 1.3), storm(1000, 20.0, delay_min=300,
                                                               kind="person", rate=0.2)]
    m = maps([case("storm", grid)])
    cells = m["rise_x_multiplier"]["cells"]
    assert cells["10m-30m|1.2-1.5x"]["found"] == 1 and cells["10m-30m|1.2-1.5x"]["n"] == 2
    assert cells["12h-24h|10-50x"]["median_delay"] == 300
    assert m["baseline_x_kind"]["cells"]["0.05-0.5/h|person"]["n"] == 1
    assert m["by_dominant_style"]["sarcasm"]["n"] == 3
    assert "1/2" in render_maps("tuned", m)
    json.dumps(m)  # the JSON output holds the same maps


def test_the_headline_prints_targets_both_variants_and_the_gap():
    tuned = figures([case("storm", [storm(60, 3.0, 0.3, delay_min=10)])])
    holdout = figures([case("storm", [storm(60, 3.0, 0.3)])])
    text = render_headline({"tuned": tuned, "holdout": holdout}, None)
    row = next(line for line in text.splitlines() if line.startswith("storm recall, volume"))
    assert ">= 0.95" in row and "1.00 ok" in row and "0.00 X" in row and "-1.00" in row


def test_a_small_run_goes_through_the_pool_and_scores_every_case(tmp_path):
    specs = [s for s in plan("tuned", QUICK["tuned"]) if s.family in ("cold", "bots")][:3]
    specs = [s for s in specs if s.cost < 5000] or specs[:1]
    results = harness.run_all(specs, jobs=2, negativity="model", keep=tmp_path)
    assert sorted(r.name for r in results) == sorted(s.name for s in specs)
    # --keep: each case's alert events (with their reasons) and labels, to read them
    for r, spec in ((r, next(s for s in specs if s.name == r.name)) for r in results):
        kept = tmp_path / f"{spec.name}-s{spec.seed}"
        assert parse_labels((kept / "labels.jsonl").read_text().splitlines(), source="kept")
        assert len((kept / "alerts.jsonl").read_text().splitlines()) == r.events
    assert all(r.mentions > 0 and r.replay_cpu > 0 for r in results)
    assert {f.key for f in figures(results)} >= {"cold_within_30", "bots_warned"}
