"""Scoring and the severity ladder: from signals at several time scales to a verdict.

The ladder, and what each rung promises the duty press officer:

- ``watch``: unusual attention. Volume *or* negativity is out of the ordinary
  at some time scale, but not both, or the extra volume is mostly coordinated
  (a few accounts, copy-paste). Worth a glance, not a phone call.
- ``warning``: escalating negative attention. At some scale the *organic*
  volume is significantly above the seasonal baseline *and* the negative share
  is significantly and materially above its baseline, from enough distinct
  authors, sustained for several buckets and not a single-minute blip.
- ``critical``: strong, spreading, negative escalation. A warning whose
  combined score (plus boosts for acceleration, high-reach accounts, calls to
  action and linked entities dragged in) passes ``critical_score``, with the
  organic volume at least ``critical_ratio`` times expected and at least
  ``critical_authors`` distinct authors.

A scheduled event (weekly Q&A, budget day) or a positive viral post raises
volume with usual or lower negativity, so it stops at ``watch``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.signals import Scale, Signal, combined, negativity, volume

__all__ = ["Judgement", "judge"]


@dataclass(frozen=True, slots=True)
class Judgement:
    """The ladder's answer for one bucket.

    ``escalating`` says the warning conditions hold now (sustained or not); the
    detector keeps such buckets out of the baseline and counts them in ``streak``.
    """

    severity: str | None
    score: float
    reasons: tuple[str, ...]
    escalating: bool
    streak: int
    best: Scale


def judge(scales: list[Scale], busiest: list[int], extras: list[Signal | None],
          streak: int, warm: bool, params: Any) -> Judgement:
    """Apply the ladder to the scales of one bucket.

    ``busiest`` is the largest single-bucket count of each scale's window (for
    the blip test); ``extras`` are the optional signals (velocity, reach, calls
    to action, linkage, coordination), each a boost when present.

    >>> from models.detector import DetectorParams
    >>> s = Scale(15, volume=120, expected=15.0, organic=120.0, negative=90, share0=0.25,
    ...           authors=100.0, dispersion=1.5)
    >>> j = judge([s], [12], [], streak=4, warm=True, params=DetectorParams())
    >>> j.severity, j.escalating, j.reasons[0]
    ('critical', True, 'negative mentions 90 vs 3.8 expected over 15 min')
    >>> judge([s], [12], [], streak=0, warm=True, params=DetectorParams()).severity
    'watch'
    """
    p = params
    raw_vol, org_vol, neg, esc = [], [], [], []
    for s, top in zip(scales, busiest, strict=True):
        base = max(s.expected, 0.5)
        if (s.volume_z >= p.z_volume and s.volume - s.expected >= p.min_excess
                and s.volume >= p.min_ratio * base):
            raw_vol.append(s)
            if (s.organic_z >= p.z_volume and s.organic - s.expected >= p.min_excess
                    and s.organic >= p.min_ratio * base):
                org_vol.append(s)
        is_neg = (s.negative_z >= p.z_negative and s.shift >= p.min_shift
                  and s.volume >= p.min_share_posts)
        if is_neg:
            neg.append(s)
        blip = s.minutes > 1 and top > p.blip_share * s.volume
        if s in org_vol and is_neg and s.authors >= p.min_authors and not blip:
            esc.append(s)
    signals = {id(s): combined(s) for s in scales}
    pool = esc or scales
    best = max(pool, key=lambda s: (signals[id(s)].strength, s.volume_z))
    boosts = [x for x in extras if x is not None and x.name != "coordination"]
    coordinated = [x for x in extras if x is not None and x.name == "coordination"]
    weights = dict(p.boosts)
    score = signals[id(best)].strength + sum(weights.get(x.name, 0.0) for x in boosts)
    escalating = bool(esc)
    streak = streak + 1 if escalating else 0
    if not warm:
        return Judgement(None, score, (), escalating, streak, best)
    if escalating and streak >= p.sustain:
        strong = (score >= p.critical_score
                  and max(s.ratio for s in esc) >= p.critical_ratio
                  and max(s.authors for s in esc) >= p.critical_authors)
        reasons = [signals[id(best)].reason, volume(best).reason, negativity(best).reason]
        reasons += [x.reason for x in boosts + coordinated]
        return Judgement("critical" if strong else "warning", score, tuple(reasons),
                         escalating, streak, best)
    if raw_vol or neg:
        reasons = []
        if raw_vol:
            top_vol = max(raw_vol, key=lambda s: s.volume_z)
            reasons.append(volume(top_vol).reason)
            if not org_vol:
                reasons.append("not escalated: the extra volume is mostly coordinated")
            elif not neg:
                reasons.append("negativity as usual: attention, not a firestorm"
                               " (a scheduled event or a positive spike?)")
        if neg:
            reasons.append(negativity(max(neg, key=lambda s: s.negative_z)).reason)
            if not raw_vol:
                reasons.append("volume as usual: negativity alone")
        if escalating:
            reasons.append(f"escalating for {streak} of {p.sustain} buckets needed")
        reasons += [x.reason for x in coordinated + boosts]
        return Judgement("watch", score, tuple(reasons), escalating, streak,
                         max(raw_vol or neg, key=lambda s: s.volume_z))
    return Judgement(None, score, (), escalating, streak, best)
