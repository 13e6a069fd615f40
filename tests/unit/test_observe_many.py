"""``Detector.observe_many`` folds a batch of observations as the plain per-mention fold
did (``plain_observe`` below: ``observe`` as it was, through ``OpenBucket.add``): the
same state (every bucket, sum and baseline) and the same verdicts, on generated runs of
observations that cross bucket boundaries, arrive late, skip minutes, keep and drop
texts, carry markers and unscored languages."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from models.detector import Detector, EntityState, Verdict
from models.observation import Observation
from models.params import DetectorParams
from models.window import OpenBucket, Post

PARAMS = DetectorParams(keep_texts=3, high_reach=1_000)


def plain_observe(detector: Detector, state: EntityState, obs: Observation
                  ) -> tuple[EntityState, list[Verdict]]:
    """One observation folded in: the detector's ``observe`` before ``observe_many``."""
    p = detector.params
    bucket = state.open
    verdicts: list[Verdict] = []
    if bucket is None:
        bucket = OpenBucket(obs.ts - obs.ts % p.bucket_seconds)
    elif obs.ts >= bucket.start + p.bucket_seconds:
        state, verdicts = detector.tick(state, obs.ts, obs.entity_id)
        bucket = state.open
    followers = obs.followers or 0
    h = obs.negativity
    if h is not None and obs.markers:
        h = 1.0 - (1.0 - h) * p.keep[obs.markers & 7]
    post = None
    if len(bucket.texts) < p.keep_texts or followers >= p.high_reach:
        post = Post(obs.mention_id, obs.author, obs.text, followers, h, obs.reshare_of,
                    obs.markers, obs.ts, obs.url)
    bucket = bucket.add(obs.author, followers, obs.others, obs.reshare_of, h, obs.markers,
                        post, obs.lang)
    return state._replace(open=bucket), verdicts


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
        one, closed = plain_observe(detector, one, obs)
        one_verdicts += closed
    many, many_verdicts = detector.observe_many(state, batch)
    assert many == one
    assert many_verdicts == one_verdicts
    assert many.to_dict() == one.to_dict()
    # observe is observe_many of one
    single = state
    for obs in batch:
        single, _ = detector.observe(single, obs)
    assert single == one
