"""Rates and event times: seasonality, over-dispersion, news spikes, cascades, storm curves.

Everything here works on a one-minute grid of event time and a seeded
``numpy.random.Generator``; nothing knows about texts or entities. Real
mention volume is heavy-tailed, so a background is the sum of

- a seasonal rate with a randomised daily shape and weekend level,
- a noise factor that makes counts over-dispersed (variance well above Poisson),
- news spikes: attention of ordinary tone, a few a week, of heavy-tailed size,
- self-excitation: each post may cause further posts (replies, reshares) a
  little later, a Hawkes-like cascade whose size is itself heavy-tailed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bench.scenarios.variants import Variant

__all__ = ["Shock", "cascade", "decay", "level", "noise", "rise", "seasonal", "shock_rate",
           "shocks", "storm_curve"]

MIN = 60.0
HOUR = 3600.0
DAY = 86400.0


def seasonal(rng: np.random.Generator, variant: Variant, grid: np.ndarray) -> np.ndarray:
    """A daily and weekly shape with mean 1 over a week, randomised per entity."""
    week = np.arange(0, 7 * DAY, MIN)  # minute of the week, from Thursday 00:00 UTC
    hours = (week % DAY) / HOUR
    weekday = ((week // DAY).astype(np.int64) + 3) % 7  # Monday = 0; 1970-01-01 a Thursday
    floor = rng.uniform(0.05, 0.3)

    def bump(center: float, width: float) -> np.ndarray:
        d = np.abs(hours - center)
        d = np.minimum(d, 24 - d)  # wraps round midnight
        return np.exp(-0.5 * (d / width) ** 2)

    if variant.seasonality == "bumps":
        shape = bump(rng.uniform(9, 14), rng.uniform(2, 5))
        if rng.random() < 0.5:
            shape = shape + rng.uniform(0.2, 0.8) * bump(rng.uniform(17, 22), rng.uniform(1, 3))
    else:  # "commute": a morning and a heavier evening peak
        shape = (rng.uniform(0.3, 0.7) * bump(rng.uniform(7, 9), rng.uniform(0.8, 1.8))
                 + bump(rng.uniform(17, 21), rng.uniform(1.5, 3.5)))
    shape = floor + (1 - floor) * shape / shape.max()
    shape = shape * np.where(weekday >= 5, rng.uniform(*variant.weekend), 1.0)
    shape = shape / shape.mean()
    return shape[(grid // MIN).astype(np.int64) % len(week)]


class LevelChange(Protocol):
    """A lasting change of the usual volume (``plan.DriftSpec``)."""

    onset: float
    ramp: float
    factor: float


def level(changes: Sequence[LevelChange], grid: np.ndarray, variant: Variant) -> np.ndarray:
    """The usual volume's level on the grid: 1, then each change's ``factor`` times
    more, reached at once (``ramp`` 0) or over the ramp; ``variant.level_ramp``
    "linear" or "smooth" (a cosine ease, slow at both ends).

    >>> from bench.scenarios.variants import VARIANTS
    >>> from types import SimpleNamespace as S
    >>> g = np.arange(0.0, 5 * MIN, MIN)
    >>> level([S(onset=MIN, ramp=0.0, factor=2.0)], g, VARIANTS["tuned"]).tolist()
    [1.0, 2.0, 2.0, 2.0, 2.0]
    >>> level([S(onset=MIN, ramp=2 * MIN, factor=3.0)], g, VARIANTS["tuned"]).tolist()
    [1.0, 1.0, 2.0, 3.0, 3.0]
    """
    out = np.ones(len(grid))
    for c in changes:
        if c.ramp <= 0:
            u = (grid >= c.onset).astype(float)
        else:
            u = np.clip((grid - c.onset) / c.ramp, 0.0, 1.0)
            if variant.level_ramp == "smooth":
                u = 0.5 - 0.5 * np.cos(np.pi * u)
        out *= 1.0 + (c.factor - 1.0) * u
    return out


def noise(rng: np.random.Generator, variant: Variant, n: int) -> np.ndarray:
    """A mean-1 multiplicative factor per minute that over-disperses the counts."""
    if variant.noise == "gamma-blocks":
        block = int(rng.choice([5, 10, 30, 60]))
        k = rng.uniform(2, 12)
        return np.repeat(rng.gamma(k, 1 / k, size=n // block + 1), block)[:n]
    # "lognormal-ar": a slowly wandering level, log-AR(1) with a random memory.
    phi = rng.uniform(0.95, 0.995)
    sd = rng.uniform(0.3, 0.7)
    eps = rng.normal(0, sd * np.sqrt(1 - phi ** 2), size=n)
    x = np.empty(n)
    level = rng.normal(0, sd)
    for i in range(n):  # a short Python loop: n is minutes, not posts
        level = phi * level + eps[i]
        x[i] = level
    return np.exp(x - sd ** 2 / 2)


@dataclass(frozen=True, slots=True)
class Shock:
    """A news spike: extra attention of ordinary tone."""

    onset: float
    peak: float
    end: float
    size: float  # peak extra rate, in multiples of the entity's mean rate


def shocks(rng: np.random.Generator, variant: Variant, start: float, end: float) -> list[Shock]:
    """News spikes between ``start`` and ``end``, a few a week, heavy-tailed in size."""
    days = (end - start) / DAY
    n = rng.poisson(rng.uniform(*variant.shocks_per_day) * days)
    out = []
    for onset in np.sort(rng.uniform(start, end, size=n)):
        if variant.shock_size == "pareto":
            size = min(2.0 * (1 + rng.pareto(1.5)), 30.0)
            rise_s, hold = rng.uniform(5, 60) * MIN, rng.uniform(0.5, 4) * HOUR
        else:
            size = float(min(np.exp(rng.normal(1.2, 0.8)), 40.0))
            rise_s, hold = rng.uniform(2, 30) * MIN, rng.uniform(0.3, 3) * HOUR
        onset, peak = round(onset), round(onset + rise_s)
        out.append(Shock(float(onset), float(peak), float(peak + round(3 * hold)), float(size)))
    return out


def shock_rate(spikes: list[Shock], grid: np.ndarray, variant: Variant) -> np.ndarray:
    """Extra rate (multiples of the mean rate) of the spikes on the grid."""
    out = np.zeros(len(grid))
    for s in spikes:
        lo, hi = np.searchsorted(grid, [s.onset, s.end])
        if hi <= lo:
            continue
        t = grid[lo:hi]
        up = np.clip((t - s.onset) / max(s.peak - s.onset, MIN), 0, 1)
        tau = (s.end - s.peak) / 3
        out[lo:hi] += s.size * np.where(t <= s.peak, up, decay(variant.decay, t - s.peak, tau))
    return out


def cascade(rng: np.random.Generator, variant: Variant, times: np.ndarray, branching: float,
            scale: float, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Offspring of ``times`` (and theirs, and so on): their times and parents' indices.

    Offspring counts are negative binomial (most posts cause nothing, a few
    cause many), delays exponential or power-law; ``branching`` < 1 keeps
    every cascade finite. Indices refer to the concatenation of ``times``
    and the offspring returned so far, so the caller can follow chains.
    """
    all_times = [times]
    parents_out: list[np.ndarray] = []
    gen_times, gen_index = times, np.arange(len(times))
    offset = len(times)
    for _ in range(12):
        if not len(gen_times):
            break
        # Negative binomial with mean `branching` and a small shape: a heavy tail.
        counts = rng.negative_binomial(0.4, 0.4 / (0.4 + branching), size=len(gen_times))
        total = int(counts.sum())
        if not total:
            break
        parent = np.repeat(gen_index, counts)
        base = np.repeat(gen_times, counts)
        if variant.kernel == "exponential":
            delay = rng.exponential(scale, size=total)
        else:
            alpha = 1.5
            delay = scale * ((1 - rng.random(total)) ** (-1 / alpha) - 1)
        child = base + delay
        keep = child < horizon
        child, parent = child[keep], parent[keep]
        all_times.append(child)
        parents_out.append(parent)
        gen_index = np.arange(offset, offset + len(child))
        offset += len(child)
        gen_times = child
    kids = np.concatenate(all_times[1:]) if len(all_times) > 1 else np.zeros(0)
    parents = np.concatenate(parents_out) if parents_out else np.zeros(0, dtype=np.int64)
    return kids, parents


def rise(shape: str, u: np.ndarray, rng_value: float = 0.5) -> np.ndarray:
    """Intensity in [0, 1] over the rise, ``u`` from 0 (onset) to 1 (peak)."""
    u = np.clip(u, 0, 1)
    if shape == "linear":
        return u
    if shape == "convex":  # a slow start: the classic slow burn
        return u ** 2
    if shape == "logistic":
        f = 1 / (1 + np.exp(-10 * (u - 0.6)))
        f0, f1 = 1 / (1 + np.exp(6.0)), 1 / (1 + np.exp(-4.0))
        return (f - f0) / (f1 - f0)
    if shape == "exponential":
        k = 2 + 3 * rng_value
        return np.expm1(k * u) / np.expm1(k)
    if shape == "two-wave":  # a first wave that dies down, then the main one
        first = 0.45 * np.exp(-0.5 * ((u - 0.3) / 0.08) ** 2)
        return np.maximum(first, u ** 3)
    if shape == "step":  # a jump at onset, then a steady climb
        return np.where(u > 0, 0.25 + 0.75 * u, 0.0)
    raise ValueError(f"unknown rise shape {shape!r}")


def decay(kind: str, dt: np.ndarray, tau: float) -> np.ndarray:
    """Intensity after the peak, 1 at ``dt`` = 0 and 0.1 at about ``3 tau`` (either kind)."""
    dt = np.clip(dt, 0, None)
    if kind == "exponential":
        return np.exp(-dt * np.log(10) / (3 * max(tau, MIN)))
    # "power": (1 + dt/s)^-1.5 reaches 0.1 at dt = 3 tau with s = 3 tau / (10^(2/3) - 1).
    s = 3 * max(tau, MIN) / (10 ** (2 / 3) - 1)
    return (1 + dt / s) ** -1.5


def storm_curve(shape: str, decay_kind: str, onset: float, peak: float, end: float,
                grid: np.ndarray, rng_value: float = 0.5) -> np.ndarray:
    """The storm's intensity in [0, 1] on the grid: rise to the peak, decay to 0.1 at end."""
    u = (grid - onset) / max(peak - onset, MIN)
    up = np.where(grid >= onset, rise(shape, u, rng_value), 0.0)
    down = decay(decay_kind, grid - peak, (end - peak) / 3)
    return np.where(grid <= peak, up, np.where(grid <= end, down, 0.0))
