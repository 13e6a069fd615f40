"""What detection says about one entity at one moment of event time.

A :class:`Verdict` is the only thing the incident lifecycle (``alerting``)
sees of detection: plain values, so that lifecycle and detection can be
tested apart and replay and stream agree. The one exception is ``explain``, a
pure function of immutable detector state that works out the evidence when an
event needs it (``Verdict.explained``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

__all__ = ["NO_EVIDENCE", "SEVERITIES", "Evidence", "Sample", "Verdict", "severity_rank"]

# The ladder, lowest first. None (no severity) means "normal".
SEVERITIES = ("watch", "warning", "critical")


def severity_rank(severity: str | None) -> int:
    """0 for normal, then 1..3 up the ladder.

    >>> severity_rank(None), severity_rank("critical")
    (0, 3)
    """
    return 0 if severity is None else SEVERITIES.index(severity) + 1


@dataclass(frozen=True, slots=True)
class Sample:
    """One post shown as evidence (author already pseudonymised if ordinary)."""

    id: str
    author: str
    text: str
    followers: int | None = None
    negativity: float | None = None  # the post's hostility (tone and markers); None: not scored
    ts: float | None = None  # when it was posted (event time)
    url: str | None = None  # link to it, when the mention had one
    reshares: int | None = None  # times it was reshared in the evidence window


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a verdict is what it is, in terms a press officer can check."""

    top_terms: tuple[tuple[str, int], ...] = ()
    top_hashtags: tuple[tuple[str, int], ...] = ()
    samples: tuple[Sample, ...] = ()
    top_authors: tuple[tuple[str, int], ...] = ()  # (author, followers), by reach
    linked: tuple[tuple[str, int], ...] = ()  # (entity id, co-mentions)
    coordinated_share: float = 0.0  # share of volume that looks copy-pasted/bot-like
    build_started: float | None = None  # when a slow build began (event time), if one decided
    centre: Sample | None = None  # the most reshared post: the one the storm is about
    high_reach: tuple[Sample, ...] = ()  # posts by accounts with the most followers

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        pairs = ("top_terms", "top_hashtags", "top_authors", "linked")
        kwargs: dict[str, Any] = {k: tuple(tuple(p) for p in data.get(k, ())) for k in pairs}
        kwargs["samples"] = tuple(Sample(**s) for s in data.get("samples", ()))
        kwargs["coordinated_share"] = float(data.get("coordinated_share", 0.0))
        kwargs["build_started"] = _seconds(data.get("build_started"))
        centre = data.get("centre")
        kwargs["centre"] = None if centre is None else Sample(**centre)
        kwargs["high_reach"] = tuple(Sample(**s) for s in data.get("high_reach", ()))
        return cls(**kwargs)


NO_EVIDENCE = Evidence()  # a verdict without evidence (most minutes) shares this one


@dataclass(frozen=True, slots=True)
class Verdict:
    """Detection's judgement of one entity for the window ending at ``at``.

    >>> v = Verdict("acme", at=1.7e9, severity="warning", score=5.2, volume=40,
    ...             expected_volume=8.0, negativity=0.7, expected_negativity=0.3,
    ...             reasons=("volume 5x baseline",))
    >>> Verdict.from_dict(v.to_dict()) == v
    True

    Evidence costs more than the rest of a minute's judgement, and most alerting
    minutes notify nobody (an open incident is renotified at most every
    ``renotify_cooldown``), so a detector may leave it to ``explain``: ``explained()``
    returns the verdict with its evidence worked out, and the lifecycle asks for it
    only when it emits an event.

    >>> lazy = Verdict("acme", 1.7e9, "warning", 5.2, 40, 8.0, 0.7, 0.3,
    ...                explain=lambda: Evidence(top_terms=(("fees", 9),)))
    >>> lazy.evidence.top_terms, lazy.explained().evidence.top_terms
    ((), (('fees', 9),))
    """

    entity_id: str
    at: float  # event time (epoch seconds) of the end of the judged window
    severity: str | None
    score: float
    volume: int
    expected_volume: float
    negativity: float
    expected_negativity: float
    reasons: tuple[str, ...] = ()
    evidence: Evidence = NO_EVIDENCE  # immutable: one shared empty value
    # The judged minute alone (volume and negativity above are for the window that
    # decided): what an incident's per-minute timeline plots.
    minute_volume: int | None = None
    minute_expected: float | None = None
    minute_negativity: float | None = None
    # How long the window of `volume` and `negativity` is (seconds of event time), so
    # every channel can say "322 mentions in 5 min" rather than a bare count.
    window_seconds: float | None = None
    # Works out ``evidence`` when it is needed (None: ``evidence`` is complete).
    explain: Callable[[], Evidence] | None = field(default=None, compare=False, repr=False)

    def explained(self) -> Verdict:
        """This verdict with its evidence worked out (itself if it already is)."""
        if self.explain is None:
            return self
        return replace(self, evidence=self.explain(), explain=None)

    def to_dict(self) -> dict[str, Any]:
        verdict = self.explained()
        out = asdict(verdict)
        del out["explain"]
        out["evidence"] = verdict.evidence.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        fields = dict(data)
        fields["reasons"] = tuple(fields.get("reasons", ()))
        fields["evidence"] = Evidence.from_dict(fields.get("evidence", {}))
        return cls(**fields)


def _seconds(value: Any) -> float | None:
    """Epoch seconds from epoch seconds or the contract's ISO-8601 time (``...Z``): an
    incident's evidence is stored in the contract's shape.

    >>> _seconds("2026-01-28T12:15:00Z"), _seconds(1769602500), _seconds(None)
    (1769602500.0, 1769602500.0, None)
    """
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value)
