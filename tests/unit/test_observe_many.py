"""``Detector.observe_many`` folds observations as ``observe`` does one by one: the same
state (every bucket, sum and baseline) and the same verdicts, on generated runs of
observations that cross bucket boundaries, arrive late, skip minutes, keep and drop
texts, carry markers and unscored languages."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from models.detector import Detector
from models.observation import Observation
from models.params import DetectorParams

PARAMS = DetectorParams(keep_texts=3, high_reach=1_000)


@st.composite
def observations(draw) -> list[Observation]:
    """Observations in roughly increasing event time, some late, some minutes apart."""
    ts, out = 1_700_000_000.0, []
    for i in range(draw(st.integers(0, 60))):
        ts += draw(st.sampled_from([0.0, 1.5, 7.0, 30.0, 59.9, 60.0, 185.0, 3_600.0]))
        late = draw(st.sampled_from([0.0, 0.0, 0.0, 90.0]))
        h = draw(st.one_of(st.none(), st.floats(0.0, 1.0)))
        out.append(Observation(
            "acme", f"m{i}", ts - late, "x", draw(st.sampled_from(["@a", "@b", "@c", "@d"])),
            f"text {i}", draw(st.one_of(st.none(), st.sampled_from([0, 10, 5_000]))), h,
            others=draw(st.sampled_from([(), ("policy",)])),
            reshare_of=draw(st.sampled_from([None, None, "m0"])),
            markers=draw(st.integers(0, 15)),
            lang=None if h is not None else draw(st.sampled_from([None, "cy", "fr"]))))
    return out


@given(observations(), st.integers(0, 200))
@settings(max_examples=150, deadline=None)
def test_observe_many_is_observe_in_turn(batch, learned_minutes):
    detector = Detector(PARAMS)
    state = detector.initial()
    # A state with some history, so that closes learn and judge.
    for minute in range(learned_minutes):
        state, _ = detector.tick(state, 1_699_990_000.0 + 60.0 * minute, "acme")
    one, one_verdicts = state, []
    for obs in batch:
        one, closed = detector.observe(one, obs)
        one_verdicts += closed
    many, many_verdicts = detector.observe_many(state, batch)
    assert many == one
    assert many_verdicts == one_verdicts
    assert many.to_dict() == one.to_dict()
