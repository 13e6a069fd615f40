"""The individual signals of escalation, each with the sentence that explains it.

Counts are tested as Poisson counts (with the over-dispersion the baseline
measured), proportions as binomial ones; both as the signed square root of the
likelihood-ratio deviance, which behaves like a z-score yet stays honest for
the small counts of a quiet entity at night (a Gaussian z of 3 mentions
against 0.2 expected would claim certainty it does not have).

Every signal returns a :class:`Signal`: its strength and a short reason for
the alert's ``reasons``; ``None`` when it has nothing to say.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "Scale",
    "Signal",
    "binomial_z",
    "calls_to_action",
    "combined",
    "coordination",
    "linkage",
    "negativity",
    "poisson_z",
    "reach",
    "velocity",
    "volume",
]


def poisson_z(observed: float, expected: float, dispersion: float = 1.0) -> float:
    """Signed root deviance of a count against its expectation (positive = surplus).

    >>> round(poisson_z(30, 10), 2), round(poisson_z(10, 10), 2), poisson_z(0, 4) < 0
    (5.09, 0.0, True)
    """
    expected = max(expected, 1e-9)
    if observed <= 0:
        dev = 2.0 * expected
    else:
        dev = 2.0 * (observed * math.log(observed / expected) - (observed - expected))
    z = math.sqrt(max(dev, 0.0) / max(dispersion, 1.0))
    return z if observed >= expected else -z


def binomial_z(k: float, n: float, p0: float, dispersion: float = 1.0) -> float:
    """Signed root deviance of ``k`` successes in ``n`` against share ``p0``.

    >>> round(binomial_z(30, 40, 0.3), 2), binomial_z(0, 0, 0.3)
    (5.86, 0.0)
    """
    if n <= 0:
        return 0.0
    p0 = min(max(p0, 1e-6), 1 - 1e-6)
    p = k / n
    dev = 0.0
    if p > 0:
        dev += k * math.log(p / p0)
    if p < 1:
        dev += (n - k) * math.log((1 - p) / (1 - p0))
    z = math.sqrt(max(2.0 * dev, 0.0) / max(dispersion, 1.0))
    return z if p >= p0 else -z


@dataclass(frozen=True, slots=True)
class Scale:
    """One time scale's window against the baseline, in the terms signals need.

    >>> s = Scale(15, volume=60, expected=10.0, organic=54.0, negative=40, share0=0.3,
    ...           authors=50.0, dispersion=1.0)
    >>> round(s.ratio, 1), round(s.share, 2), round(s.coordinated_share, 2)
    (5.4, 0.67, 0.1)
    """

    minutes: int
    volume: int
    expected: float
    organic: float  # volume minus what looks coordinated
    negative: int
    share0: float  # baseline negative share
    authors: float  # distinct authors (estimated beyond a few dozen)
    dispersion: float
    # Derived once (each is read several times by the ladder).
    ratio: float = field(init=False)
    share: float = field(init=False)
    shift: float = field(init=False)
    coordinated_share: float = field(init=False)
    volume_z: float = field(init=False)
    organic_z: float = field(init=False)
    negative_z: float = field(init=False)

    def __post_init__(self) -> None:
        base = max(self.expected, 0.5)
        share = self.negative / self.volume if self.volume else 0.0
        derived = {
            "ratio": self.organic / base,
            "share": share,
            "shift": share - self.share0,
            "coordinated_share": 1.0 - self.organic / self.volume if self.volume else 0.0,
            "volume_z": poisson_z(self.volume, base, self.dispersion),
            "organic_z": poisson_z(self.organic, base, self.dispersion),
            # Negative posts among the organic ones (assumed to carry the window's share);
            # posts come in threads, so the binomial variance is inflated by half.
            "negative_z": binomial_z(share * self.organic, self.organic, self.share0, 1.5),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True, slots=True)
class Signal:
    """A signal's strength (a z-like number or a share) and the reason it gives."""

    name: str
    strength: float
    reason: str


def volume(s: Scale) -> Signal:
    """Volume surprise on the organic (uncoordinated) volume."""
    return Signal("volume", s.organic_z,
                  f"volume {s.ratio:.1f}x expected over {s.minutes} min"
                  f" ({s.volume} mentions vs {s.expected:.1f}, z={s.organic_z:.1f})")


def velocity(short: Scale, long: Scale) -> Signal | None:
    """Growth: the short window's rate against the long window's, when rising."""
    if short.volume < 5 or long.volume == 0:
        return None
    ratio = (short.volume / short.minutes) / (long.volume / long.minutes)
    if ratio < 1.5:
        return None
    return Signal("velocity", ratio,
                  f"accelerating: last {short.minutes} min at {ratio:.1f}x the"
                  f" {long.minutes}-min rate")


def negativity(s: Scale) -> Signal:
    """Negative-share shift against the baseline share."""
    return Signal("negativity", s.negative_z,
                  f"negative share {s.share:.0%} vs {s.share0:.0%} usual over"
                  f" {s.minutes} min (z={s.negative_z:.1f})")


def combined(s: Scale) -> Signal:
    """Volume and negativity together: the geometric mean of the two surprises."""
    z = math.sqrt(max(s.organic_z, 0.0) * max(s.negative_z, 0.0))
    expected_negative = s.expected * s.share0
    return Signal("combined", z,
                  f"negative mentions {s.negative} vs {expected_negative:.1f} expected over"
                  f" {s.minutes} min")


def coordination(s: Scale, threshold: float = 0.2) -> Signal | None:
    """How much of the volume looks coordinated (few accounts or copy-paste)."""
    share = s.coordinated_share
    if share < threshold or s.volume == 0:
        return None
    return Signal("coordination", share,
                  f"{share:.0%} of {s.volume} mentions look coordinated (repeat accounts"
                  f" or near-identical texts; {s.authors:.0f} distinct authors)")


def reach(high_reach_posts: int, top: tuple[tuple[str, int], ...],
          threshold: int) -> Signal | None:
    """High-follower accounts (MPs, journalists) joining in."""
    if high_reach_posts == 0 or not top:
        return None
    name, followers = top[0]
    return Signal("reach", float(high_reach_posts),
                  f"{high_reach_posts} posts from accounts with ≥{threshold:,} followers"
                  f" (largest {name}, {followers:,})")


def calls_to_action(share: float, hashtags: tuple[tuple[str, int], ...],
                    threshold: float) -> Signal | None:
    """Calls to boycott, petition, protest..., with their hashtags."""
    if share < threshold:
        return None
    tags = ", ".join(t for t, _ in hashtags[:3])
    return Signal("calls_to_action", share,
                  f"calls to action in {share:.0%} of posts" + (f" ({tags})" if tags else ""))


def linkage(others: Mapping[str, int], linked: tuple[str, ...], volume: int,
            threshold: float = 0.1) -> Signal | None:
    """A linked entity (partner ↔ policy) dragged in by co-mentions."""
    hits = sorted(((others.get(e, 0), e) for e in linked), reverse=True)
    if not hits or volume == 0 or hits[0][0] / volume < threshold:
        return None
    count, entity = hits[0]
    return Signal("linkage", count / volume,
                  f"drags in linked {entity}: co-mentioned in {count / volume:.0%} of posts"
                  f" ({count})")
