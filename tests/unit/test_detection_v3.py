"""Detection v3: what made sharp storms late, and coordinated bursts reach warning (issue 8)."""

from __future__ import annotations

from models.horizon import Build
from models.window import Totals

QUARTER = 15 * 60.0


def test_a_copy_paste_burst_lends_a_build_none_of_its_hostility():
    # A coarse bucket: 15 organic posts at the usual share, 285 hostile copies from a
    # few accounts (its excess, set aside as coordinated). The bucket's share of scored
    # posts is high only because of the copies: the CUSUM must not climb on it.
    burst = Totals(volume=300, scored=300, mass=288.0, hostile=288, expected=15.0,
                   excess=285)
    b = Build().step(0.0, burst, share0=0.2, ratio=2.0, dispersion=1.0, cap=30.0)
    assert b.score == 0.0 and b.started is None
    # The same bucket with its hostility in organic posts does start a build.
    organic = burst._replace(excess=0)
    assert Build().step(0.0, organic, share0=0.2, ratio=2.0, dispersion=1.0,
                        cap=30.0).score > 0.0


# ------------------------------------------------------------------ rarity tails

MONDAY = 1772409600.0  # 2026-03-02 00:00 UTC


def _post(minute: int, i: int, author: str, negativity: float):
    from models.observation import Observation

    word = "".join(chr(97 + (minute * 40 + i) // 26**k % 26) for k in range(4))
    return Observation("acme", f"{minute}-{i}", MONDAY + 60.0 * minute + i, "x", author,
                       f"acme {word}", 10, negativity)


def test_a_hostile_run_above_the_entitys_threshold_is_not_learned_as_ordinary():
    # Four calm hours (3 posts a minute, one in six hostile), then three minutes in
    # which five accounts post 24 hostile posts: far above the entity's hostile
    # threshold, yet not a warning (too few authors). SPOT: such a run is an alarm, not
    # a sample of the entity's ordinary surprises; learned, it would lift the bar a
    # storm's build-up must clear (seen in the middle of a storm: 4.3 -> 5.8).
    from models.detector import Detector, DetectorParams

    d = Detector(DetectorParams())
    state = d.initial()

    def minute(m: int, posts: list[tuple[str, float]]) -> None:
        nonlocal state
        for i, (author, neg) in enumerate(posts):
            state, _ = d.observe(state, _post(m, i, author, neg))

    for m in range(240):
        minute(m, [(f"u{m}-{i}", 0.9 if (m + i) % 6 == 0 else 0.1) for i in range(3)])
    before = state.horizon.tails[1]
    for m in range(240, 243):
        minute(m, [(f"u{m}-{i}", 0.1) for i in range(3)]
               + [(f"loud{i % 5}", 0.9) for i in range(8)])
    for m in range(243, 480):
        # calm again, with a calm news spike at 420 (its volume surprise ends the run)
        n = 12 if 420 <= m < 423 else 3
        minute(m, [(f"u{m}-{i}", 0.9 if (m + i) % 6 == 0 and n == 3 else 0.1)
                   for i in range(n)])
    after = state.horizon.tails[1]
    assert after.k <= before.k + 1e-9 and after.s1 <= before.s1 + 1e-9
