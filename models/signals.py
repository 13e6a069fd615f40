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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from models.language import language_name

__all__ = [
    "Scale",
    "Signal",
    "binomial_z",
    "build",
    "calls_to_action",
    "centre",
    "combined",
    "coordinated_kind",
    "coordination",
    "floor",
    "linkage",
    "markers",
    "negativity",
    "poisson_z",
    "reach",
    "tone_up",
    "unscored",
    "unusual_hostility",
    "unusual_share",
    "unusual_volume",
    "velocity",
    "volume",
]


THREADS = 1.5  # variance of a count of hostile posts over its mean (replies, pile-ons)


def poisson_z(observed: float, expected: float, dispersion: float = 1.0) -> float:
    """Signed root deviance of a count against its expectation (positive = surplus).

    >>> round(poisson_z(30, 10), 2), round(poisson_z(10, 10), 2), poisson_z(0, 4) < 0
    (5.09, 0.0, True)
    """
    expected = max(expected, 1e-9)
    ratio = observed / expected if observed > 0 else 0.0
    if ratio <= 0.0:  # none, or so few that the ratio underflows (log would raise)
        dev = 2.0 * (expected - max(observed, 0.0))
    else:
        dev = 2.0 * (observed * math.log(ratio) - (observed - expected))
    z = math.sqrt(max(dev, 0.0) / max(dispersion, 1.0))
    return z if observed >= expected else -z


def binomial_z(k: float, n: float, p0: float, dispersion: float = 1.0) -> float:
    """Signed root deviance of ``k`` successes in ``n`` against share ``p0``.

    ``k`` may be fractional: the sum of calibrated probabilities is the expected
    number of hostile posts.

    >>> round(binomial_z(30, 40, 0.3), 2), binomial_z(0, 0, 0.3)
    (5.86, 0.0)
    """
    if n <= 0:
        return 0.0
    p0 = min(max(p0, 1e-6), 1 - 1e-6)
    p = min(max(k / n, 0.0), 1.0)
    dev = 0.0
    if p > 0:
        dev += p * n * math.log(p / p0)
    if p < 1:
        dev += (1 - p) * n * math.log((1 - p) / (1 - p0))
    z = math.sqrt(max(2.0 * dev, 0.0) / max(dispersion, 1.0))
    return z if p >= p0 else -z


class _ScaleFields(NamedTuple):
    minutes: int
    volume: int
    expected: float
    organic: float  # volume minus what looks coordinated
    scored: int
    mass: float
    hostile: int  # scored posts at or above the hostility threshold
    share0: float  # baseline hostile share
    authors: float  # distinct authors (estimated beyond a few dozen)
    dispersion: float  # of volume counts at this scale
    uncertainty: float  # extra dispersion while the baseline is young (cold start)
    coordinated_hostility: float  # share of the coordinated posts taken as hostile
    # Derived once by the constructor (each is read several times by the ladder).
    ratio: float
    share: float  # hostile share of the organic posts
    shift: float
    coordinated_share: float
    hostile_mentions: float  # organic posts x hostile share
    expected_hostile: float
    volume_z: float
    organic_z: float
    negative_z: float
    combined_z: float  # volume and tone surprises' geometric mean
    hostile_z: float  # hostile mentions against expected


_INPUTS = _ScaleFields._fields[:12]  # what Scale's constructor takes


class Scale(_ScaleFields):
    """One time scale's window against the baseline, in the terms signals need.

    ``mass`` is the summed hostility of the ``scored`` posts (the expected number
    of hostile posts among them); posts whose tone could not be scored count in
    ``volume`` only. The constructor takes the first twelve fields and derives the
    rest: a tuple, because a storm minute builds six of them (a frozen dataclass
    cost three times as much to build).

    >>> s = Scale(15, volume=60, expected=10.0, organic=54.0, scored=60, mass=40.0,
    ...           hostile=38, share0=0.3, authors=50.0, dispersion=1.0)
    >>> round(s.ratio, 1), round(s.share, 2), round(s.coordinated_share, 2)
    (5.4, 0.63, 0.1)
    >>> round(s.hostile_mentions, 1), round(s.expected_hostile, 1)
    (34.0, 3.0)
    >>> s._replace(organic=60.0).coordinated_share
    0.0
    """

    __slots__ = ()

    def __new__(cls, minutes: int, volume: int, expected: float, organic: float, scored: int,
                mass: float, hostile: int, share0: float, authors: float, dispersion: float,
                uncertainty: float = 0.0, coordinated_hostility: float = 1.0) -> Scale:
        base = max(expected, 0.5)
        share = mass / scored if scored else share0
        organic_share = organic / volume if volume else 1.0
        # Hostile mentions of the organic volume. Coordinated posts (bots, copy-paste) may
        # all be hostile, so the organic volume is credited with at most what remains of
        # the hostile posts once they are set aside (all of them, but copies found calm):
        # a bot burst cannot lend the crowd its hostility.
        coordinated = volume - organic
        hostile_mentions = min(share * organic, max(
            0.0, share * volume - coordinated * coordinated_hostility))
        tone = hostile_mentions / organic if organic > 0 else share
        n = scored * organic_share
        spread = dispersion + uncertainty
        organic_z = poisson_z(organic, base, spread)
        # Posts come in threads, so the binomial variance is inflated by half.
        negative_z = binomial_z(tone * n, n, share0, 1.5)
        expected_hostile = expected * share0
        return tuple.__new__(cls, (
            minutes, volume, expected, organic, scored, mass, hostile, share0, authors,
            dispersion, uncertainty, coordinated_hostility,
            organic / base,  # ratio
            tone,  # share
            tone - share0,  # shift
            1.0 - organic_share if volume else 0.0,  # coordinated_share
            hostile_mentions, expected_hostile,
            poisson_z(volume, base, spread),  # volume_z
            organic_z, negative_z,
            math.sqrt(max(organic_z, 0.0) * max(negative_z, 0.0)),  # combined_z
            # Hostile posts come in threads (replies, pile-ons): their count varies more
            # than a Poisson count, by the thread factor. The volume's own dispersion is
            # not used: news spikes inflate it, and they leave the share, and so this
            # test, alone.
            poisson_z(hostile_mentions, max(expected_hostile, 0.5 * share0),
                      THREADS + uncertainty),  # hostile_z
        ))

    def _replace(self, **changes: Any) -> Scale:
        """A copy with some of the twelve given fields changed, the rest derived again."""
        unknown = changes.keys() - set(_INPUTS)
        if unknown:
            raise TypeError(f"Scale derives {', '.join(sorted(unknown))}: change its inputs")
        return Scale(*(changes.get(f, v) for f, v in zip(_INPUTS, self, strict=False)))

    @property
    def span(self) -> str:
        """The window's length as people say it: "15 min", "3 h"."""
        return f"{self.minutes // 60} h" if self.minutes >= 120 else f"{self.minutes} min"


def unusual_volume(s: Scale, z: float, min_excess: float, min_ratio: float,
                   organic: bool = True) -> bool:
    """The one "volume is unusual" rule: significant (``z``) *and* material (at least
    ``min_excess`` mentions and ``min_ratio`` times expected), on the organic volume or
    (``organic=False``) on all of it.

    >>> s = Scale(15, 40, 10.0, 40.0, 40, 10.0, 8, 0.25, 30.0, 1.0)
    >>> unusual_volume(s, 4.0, 8, 2.0), unusual_volume(s, 4.0, 8, 5.0)
    (True, False)
    """
    count = s.organic if organic else float(s.volume)
    zed = s.organic_z if organic else s.volume_z
    return zed >= z and count - s.expected >= min_excess and count >= min_ratio * max(
        s.expected, 0.5)


def unusual_hostility(s: Scale, z: float, min_excess: float, ratio: float) -> bool:
    """Hostile mentions (organic volume x hostile share) significantly (``z``) and
    materially (``min_excess`` more, ``ratio`` times) above what the baseline expects.
    A news spike lifts hostile mentions with volume: the share test beside this one
    tells it from a storm.

    >>> s = Scale(15, 40, 10.0, 40.0, 40, 20.0, 20, 0.2, 30.0, 1.0)
    >>> unusual_hostility(s, 4.0, 8, 2.0), unusual_hostility(s, 4.0, 8, 20.0)
    (True, False)
    """
    return (s.hostile_z >= z and s.hostile_mentions - s.expected_hostile >= min_excess
            and s.hostile_mentions >= ratio * max(s.expected_hostile, 0.5 * s.share0))


def unusual_share(s: Scale, z: float, min_shift: float, min_posts: int) -> bool:
    """The hostile share is significantly and materially above its baseline."""
    return s.negative_z >= z and s.shift >= min_shift and s.scored >= min_posts


def tone_up(s: Scale, z: float, min_shift: float, floor: float, min_posts: int) -> bool:
    """In an escalation, the hostile share is up enough: significantly (``z``), and by
    at least ``min_shift`` of the *extra* organic volume, never less than ``floor``
    share points.

    Hostile mentions above expectation are the extra volume at the usual tone plus
    the tone's own rise over all of it (``shift`` x organic). A news spike brings
    volume at the usual tone; a storm brings hostility. So the tone has risen
    enough when the hostility it adds is at least ``min_shift`` of the extra
    volume: ``shift >= min_shift x (1 - expected / organic)``. A storm that doubles
    the volume of a quiet hour then needs half the shift a tenfold one does, and
    early in a storm, while its own posts are a fraction of the window, its shift is
    not measured against a share the whole window could only reach at its peak.

    >>> s = Scale(60, 100, 50.0, 100.0, 100, 32.0, 32, 0.2, 80.0, 1.0)  # 2x, 20% -> 32%
    >>> tone_up(s, 2.0, 0.15, 0.05, 10), unusual_share(s, 2.0, 0.15, 10)
    (True, False)
    >>> spike = Scale(60, 500, 50.0, 500.0, 500, 125.0, 125, 0.2, 400.0, 1.0)  # 10x, 25%
    >>> tone_up(spike, 2.0, 0.15, 0.05, 10)
    False
    """
    excess = 1.0 - s.expected / s.organic if s.organic > s.expected else 0.0
    return (s.negative_z >= z and s.scored >= min_posts
            and s.shift >= max(floor, min_shift * excess))


@dataclass(frozen=True, slots=True)
class Signal:
    """A signal's strength (a z-like number or a share) and the reason it gives."""

    name: str
    strength: float
    reason: str


def volume(s: Scale, organic: bool = True) -> Signal:
    """Volume surprise on the organic (uncoordinated) volume, or on all of it.

    The count beside the ratio is the one the ratio is of: an alert's header says
    "1626 mentions ... (17.1x)" of all of them, so a ratio of the organic ones says
    how many it counted and how many it set aside.

    >>> s = Scale(60, volume=1626, expected=95.1, organic=1570.0, scored=1500, mass=1185.0,
    ...           hostile=1185, share0=0.001, authors=900.0, dispersion=1.0)
    >>> print(volume(s).reason)  # doctest: +NORMALIZE_WHITESPACE
    volume 16.5x expected over 60 min (1570 mentions vs 95.1, z=76.5; 56 more that look
    coordinated not counted)
    >>> volume(s, organic=False).reason
    'volume 17.1x expected over 60 min (1626 mentions vs 95.1, z=78.6)'
    """
    if organic:
        aside = s.volume - s.organic
        more = f"; {aside:.0f} more that look coordinated not counted" if aside >= 0.5 else ""
        return Signal("volume", s.organic_z,
                      f"volume {s.ratio:.1f}x expected over {s.span} ({s.organic:.0f} mentions"
                      f" vs {s.expected:.1f}, z={s.organic_z:.1f}{more})")
    ratio = s.volume / max(s.expected, 0.5)
    return Signal("volume", s.volume_z, f"volume {ratio:.1f}x expected over {s.span}"
                                        f" ({s.volume} mentions vs {s.expected:.1f},"
                                        f" z={s.volume_z:.1f})")


def velocity(short: Scale, long: Scale) -> Signal | None:
    """Growth: the short window's rate against the long window's, when rising."""
    if short.volume < 5 or long.volume == 0:
        return None
    ratio = (short.volume / short.minutes) / (long.volume / long.minutes)
    if ratio < 1.5:
        return None
    return Signal("velocity", ratio,
                  f"accelerating: last {short.span} at {ratio:.1f}x the {long.span} rate")


def negativity(s: Scale) -> Signal:
    """Hostile-share shift against the baseline share."""
    return Signal("negativity", s.negative_z,
                  f"hostile share {s.share:.0%} vs {usual(s.share0)} usual over {s.span}"
                  f" (z={s.negative_z:.1f})")


def combined(s: Scale) -> Signal:
    """Hostile mentions (volume x share) against expected, with the volume and tone
    surprises' geometric mean as strength."""
    return Signal("combined", s.combined_z,
                  f"hostile mentions {s.hostile_mentions:.0f} vs {s.expected_hostile:.1f}"
                  f" expected over {s.span}")


def floor(s: Scale, needed: float, authors: int, amplified: bool) -> Signal:
    """An absolute amount of hostility, however quiet the entity usually is."""
    why = " (lowered: a high-reach account is amplifying it)" if amplified else ""
    return Signal("floor", s.hostile_mentions,
                  f"{s.hostile_mentions:.0f} hostile mentions in {s.span} from"
                  f" {s.authors:.0f} authors (floor {needed:.0f} from {authors}){why}")


def usual(share: float) -> str:
    """A usual (baseline) share as a percentage. One under 1 % keeps a decimal: "vs 0%
    usual" beside "586x expected" reads as a fault, not as a very calm entity.

    >>> usual(0.31), usual(0.004), usual(0.0004), usual(0.0)
    ('31%', '0.4%', 'under 0.1%', '0%')
    """
    if 0.0 < share < 0.001:
        return "under 0.1%"
    return f"{share:.1%}" if 0.0 < share < 0.01 else f"{share:.0%}"


def build(started: float, hours: float, ratio: float, share: float, share0: float) -> Signal:
    """A slow build found by the accumulating (CUSUM) detector, and when it started.

    >>> build(0.0, 14, 2.43, 0.41, 0.18).reason.split(": ")[1]
    'hostile mentions 2.4x expected, hostile share 41% vs 18% usual'
    >>> build(0.0, 1, 1574.04, 0.79, 0.001).reason.split(": ")[1]   # no false precision
    'hostile mentions 1,574x expected, hostile share 79% vs 0.1% usual'
    """
    when = datetime.fromtimestamp(started, UTC).strftime("%a %H:%M UTC")
    times = f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.1f}x"
    return Signal("build", ratio,
                  f"building since {when} ({hours:.0f} h): hostile mentions {times}"
                  f" expected, hostile share {share:.0%} vs {usual(share0)} usual")


COORDINATED = "repeat accounts or near-identical texts"


def coordination(s: Scale, threshold: float = 0.2,
                 kind: Callable[[], str] = lambda: COORDINATED) -> Signal | None:
    """How much of the volume looks coordinated (few accounts or copy-paste), and which
    of the two (``kind()``, read only when the note is made): a few bots and a slogan
    shared by many people are different news for a press office.

    >>> s = Scale(15, volume=40, expected=10.0, organic=20.0, scored=40, mass=30.0,
    ...           hostile=30, share0=0.2, authors=36.0, dispersion=1.0)
    >>> print(coordination(s, kind=lambda: coordinated_kind(0.5, 0.0)).reason)
    50% of 40 mentions look coordinated (near-identical texts; 36 distinct authors)
    """
    share = s.coordinated_share
    if share < threshold or s.volume == 0:
        return None
    return Signal("coordination", share,
                  f"{share:.0%} of {s.volume} mentions look coordinated ({kind()};"
                  f" {s.authors:.0f} distinct authors)")


def coordinated_kind(copies: float, repeats: float) -> str:
    """Which coordination a window shows, from the share of its posts that are copies
    and the share by accounts over the per-author cap: the larger, or both when
    neither is twice the other (the reads may see neither: texts are kept for a
    quarter hour only, so then it says either).

    >>> coordinated_kind(0.4, 0.05), coordinated_kind(0.0, 0.7), coordinated_kind(0.3, 0.2)
    ('near-identical texts', 'repeat accounts', 'repeat accounts and near-identical texts')
    >>> coordinated_kind(0.01, 0.0)
    'repeat accounts or near-identical texts'
    """
    if max(copies, repeats) < 0.05:
        return COORDINATED
    if copies >= 2.0 * repeats:
        return "near-identical texts"
    if repeats >= 2.0 * copies:
        return "repeat accounts"
    return "repeat accounts and near-identical texts"


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


def centre(top: tuple[str, int] | None, volume: int, span: str, min_reshares: int,
           min_share: float) -> Signal | None:
    """One post reshared over and over: the post at the centre of the storm.

    >>> centre(("m42", 240), 400, "15 min", 20, 0.2).reason
    'one post reshared 240 times in 15 min (60% of mentions): the centre of the storm'
    >>> centre(("m42", 5), 400, "15 min", 20, 0.2) is None
    True
    """
    return _reshared("centre", top, volume, span, min_reshares, min_share,
                     ": the centre of the storm")


def viral(top: tuple[str, int] | None, volume: int, span: str, min_reshares: int,
          min_share: float) -> Signal | None:
    """One post reshared by many, read for :func:`models.escalation._viral`, which decides
    whether the post has gone viral (its reason is then completed there).

    >>> viral(("m42", 12), 30, "15 min", 10, 0.2).reason
    'one post reshared 12 times in 15 min (40% of mentions)'
    >>> viral(("m42", 12), 30, "15 min", 0, 0.2) is None   # 0: off
    True
    """
    return _reshared("viral", top, volume, span, min_reshares, min_share, "")


def _reshared(name: str, top: tuple[str, int] | None, volume: int, span: str,
              min_reshares: int, min_share: float, coda: str) -> Signal | None:
    """The window's most reshared post (``top``: its id and reshares) as signal ``name``,
    when it holds ``min_reshares`` (> 0) reshares and ``min_share`` of the volume."""
    if top is None or volume == 0 or min_reshares <= 0:
        return None
    count = top[1]
    if count < min_reshares or count / volume < min_share:
        return None
    return Signal(name, count / volume, f"one post reshared {count} times in {span}"
                                        f" ({count / volume:.0%} of mentions){coda}")


_MARKER_REASONS = {
    "demands": "demands (sack, resign, must go) in {share:.0%} of posts",
    "sarcasm": "sarcasm (🙄, \"lovely to see\") in {share:.0%} of posts",
    "questions": "bewildered questions (\"who is... why is it trending\") in {share:.0%} of"
                 " posts",
}


def markers(counts: Mapping[str, int], scored: int, usual: Mapping[str, float],
            threshold: float) -> list[Signal]:
    """Hostility markers the tone model underrates, where they are more than usual.

    ``counts`` are posts with each marker among ``scored`` posts; ``usual`` the
    baseline share of each marker (a marker present every day is not news).

    >>> [s.reason for s in markers({"demands": 30, "sarcasm": 2}, 100, {}, 0.15)]
    ['demands (sack, resign, must go) in 30% of posts']
    """
    out = []
    for name, count in counts.items():
        share = count / scored if scored else 0.0
        if share >= threshold and share >= 2.0 * usual.get(name, 0.0):
            out.append(Signal(name, share, _MARKER_REASONS[name].format(share=share)))
    return out


def unscored(volume: int, missing_posts: int, span: str,
             langs: Callable[[], Sequence[tuple[str, int]]] = tuple, at_least: float = 0.1,
             min_posts: int = 10) -> Signal | None:
    """Posts whose tone could not be scored (a language without a model), over the
    window ``span`` names, and in which languages (``langs()``: posts by language code,
    most first, summed only when the note is made). The note says which window it
    counts, because the hostile shares beside it may be of a longer one, and it needs
    ``min_posts``, so one Welsh post in a quiet quarter of an hour is not "100% of
    posts".

    >>> print(unscored(100, 31, "15 min", lambda: [("cy", 25), ("fr", 6)]).reason)
    ... # doctest: +NORMALIZE_WHITESPACE
    31% of the posts of the last 15 min could not be scored for tone (no model for
    Welsh 25%, French 6%): hostile shares there are of the other 69%
    >>> print(unscored(100, 31, "60 min", lambda: [("cy", 31)]).reason)
    ... # doctest: +NORMALIZE_WHITESPACE
    31% of the posts of the last 60 min could not be scored for tone (no model for
    Welsh): hostile shares there are of the other 69%
    >>> unscored(1, 1, "15 min", lambda: [("cy", 1)]) is None
    True
    """
    if volume < min_posts or missing_posts / volume < at_least:
        return None
    missing = missing_posts / volume
    langs = langs()
    named = (language_name(langs[0][0]) if len(langs) == 1 else
             ", ".join(f"{language_name(code)} {n / volume:.0%}" for code, n in langs[:3]))
    return Signal("unscored", missing,
                  f"{missing:.0%} of the posts of the last {span} could not be scored for"
                  f" tone (no model for {named or 'their language'}): hostile shares there"
                  f" are of the other {1 - missing:.0%}")
