"""The two generator configurations: ``tuned`` (tune on it) and ``holdout`` (never).

They share the labelled ranges (rise time, volume multiplier, baseline,
hostile-share shift), so their maps are comparable cell by cell, and differ in
structure: vocabulary and names, daily shape, noise model, self-excitation
kernel, news-spike sizes, storm shapes and how a level change ramps. The gap
between their figures is how much a detector learned the tuned generator rather
than firestorms.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.scenarios.vocabulary import VOCABULARIES, Vocabulary

__all__ = ["VARIANTS", "Variant"]


@dataclass(frozen=True, slots=True)
class Variant:
    """Structural choices of one generator configuration."""

    name: str
    salt: int  # mixed into every seed, so the variants never share random draws
    vocabulary: Vocabulary
    seasonality: str  # "bumps": a midday bump and maybe an evening one; "commute": two peaks
    weekend: tuple[float, float]  # range of the weekend level (1 = as a weekday)
    noise: str  # "gamma-blocks": a gamma factor per block; "lognormal-ar": AR(1) in log
    kernel: str  # cascade delays: "exponential" or "power" (Lomax)
    branching: tuple[float, float]  # range of the mean offspring per post
    shocks_per_day: tuple[float, float]
    shock_size: str  # "pareto" or "lognormal": heavy-tailed spike size (x the mean rate)
    storm_shapes: tuple[str, ...]  # rise shapes (see traffic.rise)
    decay: str  # "exponential" or "power"
    background_styles: tuple[float, float, float, float]  # explicit, sarcasm, demand, question
    level_ramp: str  # a level change's ramp: "linear" or "smooth" (cosine ease)


VARIANTS = {
    "tuned": Variant(
        name="tuned", salt=3, vocabulary=VOCABULARIES["tuned"], seasonality="bumps",
        weekend=(0.4, 1.0), noise="gamma-blocks", kernel="exponential",
        branching=(0.1, 0.6), shocks_per_day=(0.2, 1.0), shock_size="pareto",
        storm_shapes=("linear", "convex", "logistic"), decay="exponential",
        background_styles=(0.6, 0.2, 0.15, 0.05), level_ramp="linear"),
    "holdout": Variant(
        name="holdout", salt=7, vocabulary=VOCABULARIES["holdout"], seasonality="commute",
        weekend=(0.7, 1.5), noise="lognormal-ar", kernel="power",
        branching=(0.2, 0.7), shocks_per_day=(0.3, 1.5), shock_size="lognormal",
        storm_shapes=("exponential", "two-wave", "step"), decay="power",
        background_styles=(0.45, 0.3, 0.15, 0.1), level_ramp="smooth"),
}
