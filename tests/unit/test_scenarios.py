"""The scenario generator: seeded, and its labels say what it generated."""

from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

from bench.scenarios.entities import make_entity
from bench.scenarios.plan import (
    DRIFT_FACTORS,
    DRIFT_MAX_RATE,
    FULL,
    MIN_EXCESS_HOSTILE,
    MULT_BINS,
    QUICK,
    RISE_BINS,
    BurstSpec,
    CaseSpec,
    DriftSpec,
    StormSpec,
    curve_hours,
    excess_hostile,
    plan,
)
from bench.scenarios.streams import DRIFT_SETTLE, generate
from bench.scenarios.traffic import level
from bench.scenarios.variants import VARIANTS
from models.intake import Intake
from models.labels import parse_labels
from models.privacy import Pseudonymiser
from models.watchlist import parse_watchlist

DAY, HOUR, MIN = 86400.0, 3600.0, 60.0
START = 1772409600.0  # 2026-03-02 00:00 UTC


def entity(kind="policy", rate=200.0, variant="tuned", index=0, hostile=0.2):
    rng = np.random.default_rng(index)
    e = make_entity(rng, VARIANTS[variant].vocabulary.names, kind, rate, index)
    return replace(e, hostile=hostile)


def storm_case(rate=200.0, multiplier=5.0, shift=0.4, rise=2 * HOUR, variant="tuned",
               mix=(0.2, 0.2, 0.2, 0.2, 0.2), seed=5, kind="policy"):
    e = entity(kind, rate, variant)
    onset = START + 2 * DAY + 10 * HOUR
    storm = StormSpec(e.id, onset, rise, HOUR, multiplier, shift, "linear", 0.5, mix, 0.0, 0.0,
                      own_post=kind == "person")
    return CaseSpec(variant, "storm", 0, seed, START, storm.end + 2 * HOUR, START + DAY, (e,),
                    (storm,))


def counts(case, a, b):
    ts = np.array([m["ts"] for m in case.mentions])
    hostile = np.array(case.hostile)
    sel = (ts >= a) & (ts < b)
    return int(sel.sum()), float(hostile[sel].mean()) if sel.any() else 0.0


def test_a_case_is_the_same_bytes_every_time_and_another_seed_differs():
    spec = storm_case(rate=20.0)
    one, two = generate(spec), generate(spec)
    assert one.lines() == two.lines() and one.labels == two.labels
    assert generate(replace(spec, seed=6)).lines() != one.lines()


def test_plans_are_deterministic_and_the_variants_share_no_draws():
    assert plan("tuned", QUICK["tuned"], seed=3) == plan("tuned", QUICK["tuned"], seed=3)
    assert plan("tuned", QUICK["tuned"], seed=3) != plan("tuned", QUICK["tuned"], seed=4)
    tuned = {c.seed for c in plan("tuned", QUICK["tuned"])}
    holdout = {c.seed for c in plan("holdout", QUICK["holdout"])}
    assert not tuned & holdout


def test_a_storm_raises_volume_by_its_multiplier_and_hostility_by_its_shift():
    spec = storm_case(rate=150.0, multiplier=6.0, shift=0.45)
    case = generate(spec)
    s = spec.storms[0]
    during, _ = counts(case, s.onset, s.end)
    # The same hours of the earlier days: the background's own seasonal level.
    usual = np.mean([counts(case, s.onset - d * DAY, s.end - d * DAY)[0] for d in (1, 2)])
    assert during - usual == pytest.approx((6.0 - 1) * 150.0 * curve_hours(s), rel=0.25)
    _, hostile_at_peak = counts(case, s.peak - 10 * MIN, s.peak + 10 * MIN)
    assert hostile_at_peak == pytest.approx(0.2 + 0.45, abs=0.08)
    _, hostile_before = counts(case, START + DAY, s.onset)
    assert hostile_before == pytest.approx(0.2, abs=0.08)


def test_labels_carry_the_storm_as_generated():
    spec = storm_case(rate=10.0, multiplier=3.0, shift=0.3, rise=5 * HOUR)
    case = generate(spec)
    (storm,) = [lab for lab in case.labels if lab.kind == "storm"]
    s = spec.storms[0]
    assert (storm.onset, storm.peak, storm.end) == (s.onset, s.peak, s.end)
    assert storm.attrs["rise_minutes"] == 300 and storm.attrs["multiplier"] == 3.0
    assert storm.attrs["shift"] == 0.3 and storm.attrs["entity_kind"] == "policy"
    assert {lab.kind for lab in case.labels} >= {"storm", "background"}
    assert parse_labels([lab.to_json() for lab in case.labels]) == case.labels


@pytest.mark.parametrize("variant", ["tuned", "holdout"])
@pytest.mark.parametrize("kind", ["policy", "partner", "department", "person"])
def test_every_post_names_its_entity_so_the_intake_tags_it(variant, kind):
    spec = storm_case(rate=20.0, variant=variant, kind=kind, rise=HOUR,
                      mix=(0.1, 0.2, 0.2, 0.2, 0.3))
    case = generate(spec)
    intake = Intake(parse_watchlist(case.watchlist), lambda texts: [0.5] * len(texts),
                    Pseudonymiser(b"k"))
    result = intake.accept_many(case.lines(), now=spec.end + DAY)
    assert not result.rejected
    # Only an official's own post at the centre does not name them (its reshares do).
    assert result.untagged == (1 if kind == "person" else 0)


def test_sarcasm_demands_questions_and_reshares_appear_in_the_storm_mix():
    spec = storm_case(rate=20.0, mix=(0.0, 0.4, 0.3, 0.1, 0.2))
    case = generate(spec)
    s = spec.storms[0]
    texts = [m["text"] for m in case.mentions if s.onset <= m["ts"] <= s.end]
    assert any("🙄" in t or "🙃" in t or "well done" in t for t in texts)
    assert any("resign" in t or "must go" in t or "#Sack" in t for t in texts)
    assert any(m.get("reshare_of") for m in case.mentions if s.onset <= m["ts"] <= s.end)


def test_the_holdout_words_are_not_the_tuned_words():
    tuned = {m["text"] for m in generate(storm_case(rate=30, variant="tuned")).mentions}
    holdout = {m["text"] for m in generate(storm_case(rate=30, variant="holdout")).mentions}
    assert not any("in touch with the public" in t for t in holdout)
    assert any("in touch with the public" in t for t in tuned)
    assert not tuned & holdout


def test_a_bot_burst_is_a_few_accounts_posting_near_identical_hostile_posts():
    e = entity("partner", 5.0)
    burst = BurstSpec(e.id, "copypaste", START + 2 * DAY + 12 * HOUR, 20 * MIN, 300, 4)
    spec = CaseSpec("tuned", "bots", 0, 9, START, burst.onset + 3 * HOUR, START + DAY, (e,),
                    bursts=(burst,))
    case = generate(spec)
    inside = [(m, h) for m, h in zip(case.mentions, case.hostile, strict=True)
              if burst.onset <= m["ts"] <= burst.onset + burst.duration
              and m["author"].startswith("@b")]
    assert len(inside) == 300 and all(h for _, h in inside)
    assert len({m["author"] for m, _ in inside}) == 4
    stems = {m["text"].split(" https://")[0].rstrip("!# 0123456789") for m, _ in inside}
    assert len(stems) == 1
    (benign,) = [lab for lab in case.labels if lab.kind == "benign" and lab.label == "copypaste"]
    assert benign.attrs["accounts"] == 4


def test_the_full_plan_covers_every_cell_of_the_grid_with_material_storms():
    specs = [c for c in plan("tuned", FULL["tuned"]) if c.family == "storm"]
    cells = {}
    for c in specs:
        s = c.storms[0]
        r = next(i for i, (lo, hi) in enumerate(RISE_BINS) if lo <= s.rise / MIN <= hi)
        m = next(i for i, (lo, hi) in enumerate(MULT_BINS) if lo <= s.multiplier <= hi)
        cells[r, m] = cells.get((r, m), 0) + 1
        e = c.entities[0]
        assert 0.1 <= s.shift <= 0.6 and 0.05 <= e.rate <= 500
        excess = excess_hostile(s, e.rate, e.hostile)
        usual = e.rate * e.hostile * (s.end - s.onset) / HOUR
        assert (excess >= MIN_EXCESS_HOSTILE * 0.99 and excess >= 3.99 * usual ** 0.5
                ) or e.rate >= 499
    assert len(cells) == len(RISE_BINS) * len(MULT_BINS)
    assert set(cells.values()) == {FULL["tuned"].storms_per_cell}


def test_background_cases_have_no_storms_but_news_spikes_and_linked_entities():
    spec = next(c for c in plan("tuned", QUICK["tuned"]) if c.family == "background")
    case = generate(spec)
    kinds = {lab.kind for lab in case.labels}
    assert "storm" not in kinds and "background" in kinds
    assert any(e.linked for e in spec.entities)
    assert parse_watchlist(case.watchlist).linked_to(spec.entities[1].id)


def test_young_cases_are_the_first_day_of_every_other_case_but_the_cold_ones():
    cases = plan("tuned", QUICK["tuned"])
    # Drift cases are drawn after the young ones are fixed: they have none.
    parents = [c for c in cases if c.family not in ("cold", "young", "drift")]
    young = [c for c in cases if c.family == "young"]
    assert len(young) == len(parents) and cases[:len(cases) - len(young)] == [
        c for c in cases if c.family != "young"]  # appended: every other case as it was
    for parent, y in zip(parents, young, strict=True):
        assert y.entities == parent.entities and y.seed == parent.seed
        assert y.end - y.start == DAY and y.scored_from == y.start
        assert not y.storms and not y.bursts
        assert y.start == parent.start + (parent.seed % 24) * HOUR  # any hour of the day
    case = generate(young[0])
    assert {lab.kind for lab in case.labels} <= {"background", "benign"}
    assert min(lab.onset for lab in case.labels if lab.kind == "background") == young[0].start


def test_background_counts_are_over_dispersed():
    e = entity("department", 60.0)
    spec = CaseSpec("tuned", "background", 0, 4, START, START + 4 * DAY, START + DAY, (e,))
    ts = np.array([m["ts"] for m in generate(spec).mentions])
    per_10min = np.bincount(((ts - START) // 600).astype(int))
    # Compare within hours (so seasonality does not count): variance well above the mean.
    blocks = per_10min[: len(per_10min) // 6 * 6].reshape(-1, 6)
    ratio = np.mean(blocks.var(axis=1, ddof=1) / np.maximum(blocks.mean(axis=1), 1e-9))
    assert ratio > 1.5


def test_a_case_writes_the_files_replay_and_evaluate_read(tmp_path):
    case = generate(storm_case(rate=5.0))
    paths = case.write(tmp_path)
    assert paths["mentions"].read_bytes().count(b"\n") == len(case.mentions)
    assert parse_watchlist(paths["watchlist"].read_text()).entities
    assert parse_labels(paths["labels"].read_text().splitlines()) == case.labels


@pytest.mark.parametrize("variant", ["tuned", "holdout"])
def test_a_level_is_one_until_a_change_then_its_factor_at_once_or_over_the_ramp(variant):
    grid = np.arange(0.0, 10 * MIN, MIN)
    step = DriftSpec("e", 2 * MIN, 0.0, 3.0)
    assert level([step], grid, VARIANTS[variant]).tolist() == [1.0] * 2 + [3.0] * 8
    ramp = DriftSpec("e", 2 * MIN, 4 * MIN, 0.5)
    lv = level([ramp], grid, VARIANTS[variant])
    assert lv[:3].tolist() == [1.0] * 3 and lv[6:].tolist() == [0.5] * 4
    assert np.all(np.diff(lv[2:7]) < 0)  # on its way down, never past it
    both = level([step, ramp], grid, VARIANTS[variant])
    assert both[-1] == pytest.approx(1.5)  # changes compound


def test_a_level_change_moves_the_usual_volume_by_its_factor_at_the_usual_tone():
    e = entity("department", 60.0)
    change = DriftSpec(e.id, START + 3 * DAY, 0.0, 3.0)
    spec = CaseSpec("tuned", "drift", 0, 4, START, START + 6 * DAY, START + DAY, (e,),
                    drifts=(change,))
    case = generate(spec)
    before, share_before = counts(case, START + DAY, change.onset)
    after, share_after = counts(case, change.onset + DAY, change.onset + 3 * DAY)
    assert after / before == pytest.approx(3.0, rel=0.3)  # two days each, same hours
    assert share_after == pytest.approx(share_before, abs=0.04)
    (lab,) = [x for x in case.labels if x.label == "level"]
    assert lab.kind == "benign" and lab.entity_id == e.id
    assert (lab.onset, lab.end) == (change.onset, change.settled + DRIFT_SETTLE)
    assert lab.attrs["factor"] == 3.0 and lab.attrs["ramp_hours"] == 0.0


@pytest.mark.parametrize("variant", ["tuned", "holdout"])
def test_drift_cases_change_every_entity_lastingly_and_come_after_the_rest(variant):
    size = FULL[variant]
    cases = plan(variant, size)
    drift = [c for c in cases if c.family == "drift"]
    assert len(drift) == size.drift_families > 0
    without = plan(variant, replace(size, drift_families=0))
    assert [c for c in cases if c.family != "drift"] == without  # every other case as it was
    lo, hi = DRIFT_FACTORS
    for c in drift:
        assert not c.storms and not c.bursts and c.scored_from == c.start + DAY
        for e in c.entities:
            changes = [d for d in c.drifts if d.entity_id == e.id]
            assert changes, f"{c.name}: {e.id} has no level change"
            assert changes[0].onset >= c.start + 2 * DAY and changes[-1].onset <= c.end - 2 * DAY
            for a, b in pairwise(changes):
                assert b.onset >= a.settled + 2 * DAY  # each is learned before the next
            level_now = 1.0
            for d in changes:
                assert lo <= max(d.factor, 1 / d.factor) <= hi
                level_now *= d.factor
                assert e.rate * level_now <= DRIFT_MAX_RATE or d.factor < 1
