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
