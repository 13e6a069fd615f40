"""Scoring and the severity ladder: from signals at several time scales to a verdict.

The ladder, and what each rung promises the duty press officer:

- ``watch``: unusual attention. Volume *or* the hostile share is out of the
  ordinary *for this entity* (rarer than its false-alarm budget allows), but
  not both, or the extra volume is mostly coordinated (a few accounts,
  copy-paste). Worth a glance, not a phone call.
- ``warning``: escalating hostile attention. One of, for ``sustain``
  consecutive buckets and from enough distinct authors:
  - at a short scale (minutes), the organic volume and the hostile share are
    both significantly and materially above baseline, and the hostile mentions
    (volume x share) are rarer than the entity's budget allows;
  - at a long scale (hours), the same with a lower volume ratio (a slow burn);
  - the accumulating detector (CUSUM) on hostile mentions has crossed its
    alarm, with the share of the build significantly up: a slow build, with
    the time it started;
  - an absolute floor: so many hostile mentions from so many authors that the
    entity's usual quiet does not matter (an official nobody mentions).
- ``critical``: strong, spreading, hostile escalation. A warning whose score
  (plus boosts for acceleration, high-reach accounts, calls to action, linked
  entities, a post at the centre of the storm and demands) passes
  ``critical_score``, with the organic volume at least ``critical_ratio``
  times expected and at least ``critical_authors`` distinct authors.

A scheduled event (weekly Q&A, budget day) or a positive viral post raises
volume with usual or lower hostility, so it stops at ``watch``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import NamedTuple

from models.horizon import Build
from models.params import DetectorParams
from models.signals import (
    Scale,
    Signal,
    binomial_z,
    build,
    combined,
    floor,
    negativity,
    tone_up,
    unusual_hostility,
    unusual_share,
    unusual_volume,
    usual,
    volume,
)
from models.window import Totals

__all__ = ["Judgement", "Thresholds", "build_excess", "build_tone", "judge", "tone_bar"]


class Thresholds(NamedTuple):
    """This entity's surprise thresholds now (from its own tail, floored globally)."""

    volume: float
    hostile: float
    share: float


@dataclass(frozen=True, slots=True)
class Judgement:
    """The ladder's answer for one bucket.

    ``escalating`` says the warning conditions hold now (sustained or not); the
    detector keeps such buckets out of the baseline and counts them in ``streak``.
    ``surge`` says the organic volume is unusual at some short scale: the detector
    learns such buckets' volume but not their tone.
    """

    severity: str | None
    score: float
    reasons: tuple[str, ...]
    escalating: bool
    streak: int
    best: Scale
    since: float | None = None  # when a slow build started, if one decided
    surge: bool = False


def judge(short: list[Scale], busiest: list[int], long: list[Scale], extras: list[Signal],
          streak: int, thresholds: Thresholds, p: DetectorParams, build_state: Build | None = None,
          amplified: bool = False, hours: float = 0.0, learned: int | None = None,
          recent: int = 0) -> Judgement:
    """Apply the ladder to one bucket.

    ``short`` are the minute-scale windows and ``busiest`` the largest single
    bucket of each (for the blip test); ``long`` the hour-scale windows;
    ``extras`` the optional signals (velocity, reach, calls to action, linkage,
    centre, markers, coordination, unscored), each a boost or a reason when
    present. ``build_state`` is the CUSUM with ``hours`` since its run started;
    ``amplified`` says a high-reach account is in the storm (floors lower);
    ``learned`` is how many buckets the baseline has learned (None: plenty): before
    ``judge_after`` nothing is judged; in its first ``quiet_start`` buckets an entity
    is still learning what its usual volume and tone are, so neither alone raises a
    watch (escalation still warns). ``recent`` is how many of the ``sustain_within - 1``
    buckets before this one escalated: warning needs ``sustain`` escalating buckets
    among the last ``sustain_within`` (this one included), so a storm whose signals
    flicker around their thresholds is not held back until they hold minutes on end.

    >>> from models.params import DetectorParams
    >>> s = Scale(15, volume=120, expected=15.0, organic=120.0, scored=120, mass=90.0,
    ...           hostile=90, share0=0.25, authors=100.0, dispersion=1.5)
    >>> t = Thresholds(4.0, 3.0, 3.0)
    >>> j = judge([s], [12], [], [], streak=4, thresholds=t, p=DetectorParams())
    >>> j.severity, j.escalating, j.reasons[0]
    ('critical', True, 'hostile mentions 90 vs 3.8 expected over 15 min')
    >>> judge([s], [12], [], [], streak=0, thresholds=t, p=DetectorParams()).severity
    'watch'
    """
    raw_vol, org_vol, neg, esc = [], [], [], []
    decided: Signal | None = None
    candidate = next((x for x in extras if x.name == "viral"), None)
    if candidate is not None:
        extras = [x for x in extras if x is not candidate]
    bar = tone_bar(p, learned)
    for s, top in zip(short, busiest, strict=True):
        if unusual_volume(s, thresholds.volume, p.min_excess, p.min_ratio, organic=False):
            raw_vol.append(s)
            if unusual_volume(s, thresholds.volume, p.min_excess, p.min_ratio):
                org_vol.append(s)
        if (unusual_share(s, p.z_negative, p.min_shift, p.min_share_posts)
                and s.negative_z >= thresholds.share):
            neg.append(s)
        toned = tone_up(s, bar, p.min_shift, p.tone_floor, p.min_share_posts)
        if (toned and _rising(s, p) and s.authors >= p.min_authors and not _blip(s, top, p)
                and unusual_hostility(s, thresholds.hostile, p.min_excess, p.hostile_ratio)):
            esc.append(s)
    for s in long:
        # Hours-long windows: a slow burn, judged against the global floors.
        if (tone_up(s, bar, p.min_shift, p.tone_floor, p.min_share_posts)
                and _rising(s, p)
                and s.authors >= p.min_authors
                and unusual_hostility(s, p.z_long, p.min_excess, p.hostile_ratio)):
            esc.append(s)
    floor_scale = _floor_scale(short, p)
    if not esc and floor_scale is not None and _over_floor(floor_scale, p, amplified):
        # The floor decided: say so first.
        decided = floor(floor_scale, _needed(p, amplified), p.floor.floor_authors, amplified)
        esc.append(floor_scale)
    if candidate is not None and not esc:
        viral = _viral(short, busiest, candidate, org_vol, p)
        if viral is not None:  # a post gone viral decided: say so first
            decided, scale = viral
            esc.append(scale)
    since = None
    if build_state is not None and _building(build_state, long, p):
        run = build_state.run
        hostile = run.organic_hostile(build_state.share0)
        ratio = hostile / max(run.expected * build_state.share0, 0.5)
        since = build_state.started
        signal = build(build_state.started or 0.0, hours, ratio, _organic_share(run),
                       build_state.share0)
        if not esc and long:  # the build decided
            decided = signal
            esc.append(long[0])
        elif decided is None:
            extras = [*extras, signal]  # a build under way: said, not deciding
    pool = esc or short
    # The best scale by its combined signal's strength (``combined(s).strength`` is
    # ``s.combined_z``); its reason is written only when a warning says it.
    best = max(pool, key=_STRENGTH)
    boosts = [x for x in extras if x.name not in ("coordination", "unscored")]
    notes = [x for x in extras if x.name in ("coordination", "unscored")]
    weights = dict(p.boosts)
    score = best.combined_z + sum(weights.get(x.name, 0.0) for x in boosts)
    escalating = bool(esc)
    streak = streak + 1 if escalating else 0
    if learned is not None and learned < p.judge_after:
        # An entity watched for minutes: its own history is too short to judge against.
        return Judgement(None, score, (), escalating, streak, best, since, bool(org_vol))
    sustained = max(streak, recent + 1)  # escalating buckets among the last sustain_within
    if escalating and sustained >= p.sustain:
        strong = (score >= p.critical_score
                  and max(s.ratio for s in esc) >= p.critical_ratio
                  and max(s.authors for s in esc) >= p.critical_authors)
        reasons = [combined(best).reason]
        if decided is not None:
            reasons.insert(0, decided.reason)
        reasons += [volume(best).reason, negativity(best).reason]
        reasons += [x.reason for x in boosts + notes]
        return Judgement("critical" if strong else "warning", score, tuple(reasons),
                         escalating, streak, best, since, bool(org_vol))
    if (raw_vol or neg) and (learned is None or learned >= p.quiet_start):
        reasons = []
        if raw_vol:
            top_vol = max(raw_vol, key=lambda s: s.volume_z)
            reasons.append(volume(top_vol, organic=bool(org_vol)).reason)
            if not org_vol:
                reasons.append("not escalated: the extra volume is mostly coordinated")
            elif not neg:
                reasons.append("hostility as usual: attention, not a firestorm"
                               " (a scheduled event or a positive spike?)")
        if neg:
            reasons.append(negativity(max(neg, key=lambda s: s.negative_z)).reason)
            if not raw_vol:
                reasons.append(_volume_within(short, thresholds.volume, p))
        if escalating:
            reasons.append(_escalating(sustained, p))
        reasons += [x.reason for x in notes + boosts]
        return Judgement("watch", score, tuple(reasons), escalating, streak,
                         max(raw_vol or neg, key=lambda s: s.volume_z), since, bool(org_vol))
    return Judgement(None, score, (), escalating, streak, best, since, bool(org_vol))


def tone_bar(p: DetectorParams, learned: int | None) -> float:
    """The share z at which an escalation's tone is "up": ``z_tone`` (a kind may set its
    own, :meth:`DetectorParams.for_entity`), at most ``z_tone_learning`` while the entity
    is young. Most false pages of busy entities were news spikes and reply pile-ons whose
    share rose by a z of 2.0-2.5 over a few dozen posts; a young entity's storm is the one
    nobody has seen coming, and its first day stayed within the page budget at the lower
    bar (docs/detection.md, "2026-12-03, evening: the tone bar").

    >>> p = DetectorParams()
    >>> tone_bar(p, None), tone_bar(p, 30), tone_bar(p.for_entity("person"), None)
    (2.5, 2.0, 2.0)
    """
    if learned is not None and learned < p.learning:
        return min(p.z_tone, p.z_tone_learning)
    return p.z_tone


def _viral(short: Sequence[Scale], busiest: Sequence[int], candidate: Signal,
           org_vol: Sequence[Scale], p: DetectorParams) -> tuple[Signal, Scale] | None:
    """One post reshared by many (``candidate``, read on the quarter-hour window) in
    organic volume that is unusual, from many people, with the tone of the posts around it
    no calmer than usual: a post gone viral, which escalates whatever the sentence model
    reads in it. An exposé in neutral words or an official's own post reshared by many is
    hostile attention (issue 8: "plain reshares of the offending post"); a news spike
    spreads over many posts, and praise shows in the tone around it."""
    index = min(1, len(short) - 1)  # the window the candidate is read on (Detector._extras)
    s = short[index]
    if (not any(x is s for x in org_vol) or s.shift < 0.0 or s.authors < p.min_authors
            or _blip(s, busiest[index], p)):
        return None
    return Signal("viral", candidate.strength,
                  f"a post gone viral: {candidate.reason}, volume {s.ratio:.1f}x expected,"
                  f" the tone around it {s.share:.0%} vs {usual(s.share0)} usual"), s


_STRENGTH = attrgetter("combined_z", "volume_z")  # a scale's rank for the best


def _blip(s: Scale, busiest: int, p: DetectorParams) -> bool:
    """One minute (``busiest``, its largest bucket) holds more than ``blip_share`` of the
    window: a burst, not a rise."""
    return s.minutes > 1 and busiest > p.blip_share * s.volume


def _escalating(sustained: int, p: DetectorParams) -> str:
    """How far a watch is from a warning, in the officer's units (minutes, not buckets).

    >>> _escalating(1, DetectorParams())
    'escalating in 1 of the last 5 minutes; a warning needs 3'
    """
    unit = "minutes" if p.bucket_seconds == 60 else f"{p.bucket_seconds:g}-second buckets"
    return (f"escalating in {sustained} of the last {p.sustain_within} {unit};"
            f" a warning needs {p.sustain}")


def _volume_within(short: Sequence[Scale], needed: float, p: DetectorParams) -> str:
    """Why volume is not part of a hostility-only alert, in its own figures: "volume as
    usual" beside "30 mentions in 5 min, usually 5.8 (5.2x)" read as a fault.

    >>> s = Scale(5, volume=30, expected=5.8, organic=15.6, scored=30, mass=18.0,
    ...           hostile=18, share0=0.002, authors=46.0, dispersion=4.0)
    >>> print(_volume_within([s], 4.5, DetectorParams()))  # doctest: +NORMALIZE_WHITESPACE
    volume not unusual (5.2x expected over 5 min, z=3.5; unusual is z >= 4.5 with 8 more
    mentions and 2.0x): hostility alone
    """
    top = max(short, key=lambda s: s.volume_z)
    ratio = top.volume / max(top.expected, 0.5)
    return (f"volume not unusual ({ratio:.1f}x expected over {top.span},"
            f" z={top.volume_z:.1f}; unusual is z >= {needed:.1f} with {p.min_excess:g} more"
            f" mentions and {p.min_ratio:.1f}x): hostility alone")


def _rising(s: Scale, p: DetectorParams) -> bool:
    """The organic volume is not down (up a little will do, by default as usual: the
    hostile mentions carry the test; a quiet hour's few posts never add up to one)."""
    return s.organic >= p.rise_ratio * max(s.expected, 0.5) and s.organic_z >= p.z_rise


def _floor_scale(short: list[Scale], p: DetectorParams) -> Scale | None:
    """The short scale the absolute floor is judged on: the one closest to 15 minutes."""
    if not short:
        return None
    return min(short, key=lambda s: abs(s.minutes * p.bucket_seconds - 900))


def _needed(p: DetectorParams, amplified: bool) -> float:
    return p.floor.floor_hostile * (p.reach_floor_factor if amplified else 1.0)


def _over_floor(s: Scale, p: DetectorParams, amplified: bool) -> bool:
    """So many hostile mentions from so many authors that the usual quiet does not matter
    (and still several times what the baseline expects, and a hostile share above it)."""
    return (s.hostile_mentions >= _needed(p, amplified)
            and s.authors >= p.floor.floor_authors
            and s.hostile_mentions >= p.floor.floor_ratio * max(s.expected_hostile, 0.5)
            and s.shift >= p.min_shift)


def _organic_share(t: Totals) -> float:
    """Hostile share of a sum's organic posts (its coordinated ones set aside)."""
    organic = max(t.volume - t.excess, 0)
    return t.organic_hostile() / organic if organic and t.scored else t.share


def build_tone(b: Build) -> tuple[float, float] | None:
    """The shift and binomial z of a build's run: the hostile share of its organic posts
    (its coordinated posts, copy-paste and repeat accounts, lend it none of their
    hostility) against the share when it started; None without scored organic posts."""
    run = b.run
    organic = max(run.volume - run.excess, 0)
    if run.scored == 0 or organic == 0:
        return None
    share = _organic_share(run)
    n = run.scored * organic / run.volume
    return share - b.share0, binomial_z(share * n, n, b.share0, 1.5)


def build_excess(b: Build) -> float:
    """The share of a build's organic posts beyond what its run expected (0 when not
    busier): 1 - expected / organic. A tone shift is material when it is at least
    ``min_shift`` of this, as for a window (signals.tone_up)."""
    run = b.run
    organic = max(run.volume - run.excess, 0)
    return 1.0 - run.expected / organic if organic > run.expected else 0.0


def _building(b: Build, long: list[Scale], p: DetectorParams) -> bool:
    """The CUSUM has crossed its alarm, the share over its run is significantly up, and
    the shortest long window still runs hot (a finished build does not linger)."""
    if b.score < p.cusum_alarm or b.started is None:
        return False
    tone = build_tone(b)
    if tone is None:
        return False
    shift, z = tone
    run = b.run
    organic = max(run.volume - run.excess, 0)
    recent = long[0] if long else None
    hot = recent is None or recent.hostile_mentions >= math.sqrt(p.cusum_ratio) * max(
        recent.expected_hostile, 0.5)
    # The tone rose by at least min_shift of the run's extra volume (never less than
    # tone_floor), as for a window (signals.tone_up).
    return (z >= p.z_negative and shift >= max(p.tone_floor, p.min_shift * build_excess(b))
            and hot and organic >= p.rise_ratio * run.expected)
