"""The evidence of a whole incident, merged from its alert events.

Each alert event carries the evidence of one minute; an incident page, an
export or a story of several incidents needs the incident's: every item at
the largest count it reached, the post at the centre of the storm first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from alerting.event import AlertEvent
from models.verdict import Evidence, Sample

__all__ = ["merge_evidence"]


def merge_evidence(events: Iterable[AlertEvent]) -> Evidence:
    """The evidence of a whole incident: every event's, each item at its largest count.

    Counts are per minute, so they are not summed (a 'resolved' event repeats
    the last alerting minute's evidence); the largest shows how big it got.
    The most reshared post is the centre of the storm (``centre``); the other
    samples follow by reach and hostility; a slow build's start is the earliest
    any event gave.

    >>> from models.verdict import Evidence
    >>> e1 = AlertEvent("a-1", 1, "opened", "a", "A", "partner", "warning", 60.0, 40, 8.0,
    ...                 0.7, 0.3, 5.0, evidence=Evidence(top_terms=(("boycott", 5),)))
    >>> e2 = AlertEvent("a-1", 2, "updated", "a", "A", "partner", "warning", 120.0, 40, 8.0,
    ...                 0.7, 0.3, 5.0, evidence=Evidence(top_terms=(("boycott", 9), ("x", 1))))
    >>> merge_evidence([e1, e2]).top_terms
    (('boycott', 9), ('x', 1))
    """
    events = list(events)

    def biggest(pick: Callable[[Evidence], Iterable[tuple[str, int]]]) -> tuple:
        best: dict[str, int] = {}
        for e in events:
            for key, n in pick(e.evidence):
                best[key] = max(n, best.get(key, n))
        return tuple(sorted(best.items(), key=lambda kv: (-kv[1], kv[0])))

    samples: dict[str, Sample] = {}
    high: dict[str, Sample] = {}
    for e in events:
        for s in e.evidence.samples:
            kept = samples.get(s.id)
            if kept is None or (s.reshares or 0) > (kept.reshares or 0):
                samples[s.id] = s
        for s in e.evidence.high_reach:
            high.setdefault(s.id, s)
    # The centre as the detector gives it: evidence.centre, or a sample carrying reshares
    # (alert logs written before the centre had its own field).
    centres = [c for e in events
               if (c := e.evidence.centre or next((s for s in e.evidence.samples if s.reshares),
                                                  None)) is not None]
    # The centre most reshared; an original kept over a reshare standing in for it.
    centre = max(centres, key=lambda s: (s.reshares or 0, s.url is not None), default=None)
    ranked = sorted((s for s in samples.values() if centre is None or s.id != centre.id),
                    key=lambda s: (-(s.reshares or 0), -(s.followers or 0),
                                   -(s.negativity or 0.0), s.id))
    starts = [e.evidence.build_started for e in events if e.evidence.build_started is not None]
    return Evidence(top_terms=biggest(lambda ev: ev.top_terms),
                    top_hashtags=biggest(lambda ev: ev.top_hashtags),
                    samples=tuple(ranked), top_authors=biggest(lambda ev: ev.top_authors),
                    linked=biggest(lambda ev: ev.linked),
                    coordinated_share=max((e.evidence.coordinated_share for e in events),
                                          default=0.0),
                    build_started=min(starts, default=None),
                    centre=centre,
                    high_reach=tuple(sorted(high.values(),
                                            key=lambda s: (-(s.followers or 0), s.id))))
