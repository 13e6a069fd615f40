"""Every knob of detection, its defaults, and the parameter file that sets them.

:class:`DetectorParams` is one frozen value: the detector, the ladder and the
signals read it, and replay and the worker build it the same way (defaults,
then the parameter file, then the negativity model's own threshold), so a
replay reproduces the worker. Per entity, :meth:`DetectorParams.for_entity`
applies the entity's kind (its prior and absolute floors, :class:`KindParams`)
and its ``sensitivity`` from the watchlist.

The parameter file is YAML: top-level keys are fields of
:class:`DetectorParams`, ``baseline:`` holds fields of
:class:`~models.baseline.BaselineParams` and ``kinds:`` per-kind overrides
of :class:`KindParams` (example: ``deploy/examples/detector.yaml``). A wrong
name or value raises :class:`~models.errors.ParamsError` naming the field and
the fix. The meaning of every field is in ``docs/detection.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

from models.baseline import BaselineParams
from models.errors import ParamsError
from models.yamldoc import load_yaml

__all__ = ["DEFAULT_KINDS", "DetectorParams", "KindParams", "parse_params", "sensitivity_of"]

# Named sensitivities a watchlist may use instead of a number.
SENSITIVITIES = {"low": 0.5, "normal": 1.0, "high": 2.0}
MAX_SUSTAIN_WITHIN = 16  # the detector keeps this many buckets' escalation flags


@dataclass(frozen=True, slots=True)
class KindParams:
    """What detection assumes of an entity of one kind before it knows the entity.

    ``prior_rate`` is the mentions an hour a new entity of this kind is expected
    to get until its own history says otherwise (a gamma-Poisson prior worth
    ``prior_minutes`` of data: rates differ by orders of magnitude within a kind,
    so the prior is weak and the entity's own first minutes soon outweigh it).
    ``floor_hostile`` hostile mentions within 15 minutes from ``floor_authors``
    distinct authors are a warning however quiet the entity usually is, provided
    they are at least
    ``floor_ratio`` times what the baseline expects. ``z_tone``, when above 0, is the
    kind's own tone bar in an escalation (0: :attr:`DetectorParams.z_tone`).
    """

    prior_rate: float = 4.0
    prior_minutes: float = 5.0
    floor_hostile: float = 25.0
    floor_authors: int = 12
    floor_ratio: float = 3.0
    z_tone: float = 0.0


DEFAULT_KINDS: dict[str, KindParams] = {
    "policy": KindParams(prior_rate=6.0, floor_hostile=30.0, floor_authors=15),
    "partner": KindParams(prior_rate=3.0, floor_hostile=25.0, floor_authors=12),
    "department": KindParams(prior_rate=10.0, floor_hostile=40.0, floor_authors=20),
    # A person's usual volume is near zero: the first minutes of their storm hold a few
    # posts, where a share test has little power (see docs/detection.md, 2026-12-03).
    "person": KindParams(prior_rate=0.5, floor_hostile=20.0, floor_authors=10, z_tone=2.0),
}


@dataclass(frozen=True, slots=True)
class DetectorParams:
    """Every knob of detection, with the defaults documented in docs/detection.md.

    >>> p = DetectorParams()
    >>> p.for_entity("person", 2.0).floor.floor_hostile
    10.0
    >>> DetectorParams(sustain=0)
    Traceback (most recent call last):
    ...
    models.errors.ParamsError: sustain: must be at least 1, got 0 (default 3)
    """

    bucket_seconds: int = 60
    scales: tuple[int, ...] = (5, 15, 60)  # short windows, in buckets
    coarse_buckets: int = 15  # buckets summed into one coarse bucket for long windows
    long_scales: tuple[int, ...] = (180, 720, 1440)  # long windows, in buckets
    learning: int = 1440  # buckets during which an entity is still learning its baseline
    judge_after: int = 5  # buckets learned before any severity (a new entity's first minutes)
    quiet_start: int = 60  # buckets learned before volume or tone alone can raise a watch
    learn_lag: int = 15  # a bucket is learned this many buckets later, if all calm since
    # Tone: a post's hostility is its calibrated negative probability, lifted by markers.
    # The edge sets negative_threshold to the negativity model's own decision threshold.
    negative_threshold: float = 0.5  # hostility at which a post counts as a hostile post
    # The hostile share of a window: "threshold", the share of posts at or above the
    # threshold, or "mean", the mean hostility (the expected share, if calibrated).
    share_by: str = "threshold"
    demand_weight: float = 0.6  # sack / resign / must go / #SackX / #XOut
    sarcasm_weight: float = 0.5  # 🙄 🙃, "lovely to see", "so in touch"
    question_weight: float = 0.3  # "who is X and why is she trending"
    # Volume surprise (over-dispersed Poisson) on organic volume.
    z_volume: float = 4.0  # global floor of the volume surprise; rarity may ask more
    min_excess: float = 8.0  # mentions above expected, so a quiet night's 3 posts are not news
    min_ratio: float = 2.0  # and at least this multiple of expected, for volume alone
    # Escalation: hostile mentions (organic volume x hostile share) up, volume rising.
    z_escalate: float = 3.0  # hostile-mention surprise needed (floor of the entity's own)
    z_long: float = 4.0  # ... on the hour-long windows (no per-entity tail there)
    z_young: float = 3.5  # ... at most, in an entity's first quiet_start buckets
    hostile_ratio: float = 2.0  # hostile mentions at least this multiple of expected
    rise_ratio: float = 1.0  # organic volume at least this multiple of expected ...
    z_rise: float = 0.0  # ... and this significant
    # Hostile-share shift (binomial).
    z_negative: float = 3.0  # share surprise for a watch on tone alone (floor of the entity's)
    z_tone: float = 2.5  # share surprise that lets hostile mentions escalate (the tone is up)
    z_tone_learning: float = 2.0  # ... at most, while an entity is young (`learning`)
    min_shift: float = 0.15  # share points above baseline (of the extra volume, in an escalation)
    tone_floor: float = 0.15  # ... never fewer than this (= min_shift: v2's rule; 0.05 earlier)
    min_share_posts: int = 10  # scored posts in the window before tone alone is judged
    # Rarity: thresholds from each entity's own tail of surprises.
    budget: float = 0.1  # unusual episodes an entity-week may raise, per surprise score
    tail_prior: float = 8.0  # pseudo-excesses of the global tail a new entity starts with
    volume_tail_shape: float = 0.3  # the volume prior tail's shape: attention is heavy-tailed
    # A run of hostile (or share) surprises that crossed the entity's threshold is an alarm
    # and is not learned (SPOT), unless it ended within this many buckets of its start and
    # no other alarm starts within as many after it: a lone pile-on, learned then at the
    # threshold it crossed, so that an entity whose pile-ons recur raises its bar step by
    # step (0: never, SPOT's rule before 2026-12-01; detection.md, "a pile-on teaches").
    alarm_learn_within: int = 120
    # Accumulating change (CUSUM) on hostile mentions, over coarse buckets.
    cusum_ratio: float = 2.0  # hostile-mention rate it is tuned to detect (x expected)
    cusum_alarm: float = 10.0  # log-likelihood ratio that calls a build
    # While the CUSUM stands at this share of its alarm or more, buckets teach the baseline
    # their volume but not their tone: a build half-way to calling is evidence, and learned
    # it lowered its own bar (a day-long creep moved a partner's usual share 0.09 -> 0.15).
    tone_hold: float = 0.5
    # A build past its alarm is kept out of the baseline, as a storm is. With
    # level_shift_hours > 0, a run that has kept the usual tone (its hostile share not up
    # at level_shift_z, or up by less than min_shift of the run's extra volume) for that
    # many hours is learned again: more attention, not more hostility (an organisation in
    # the news for weeks); kept out, the new level is never learned and the build never
    # ends: the baseline froze for days (detection.md, "2026-12-01: a level shift",
    # "... level changes in the evaluation" and "2026-12-02: ... material amount").
    level_shift_z: float = 1.0
    level_shift_hours: float = 24.0  # 0: off (never learned); 12 cost storms, 24 fewer
    # Escalation: sustained, spread, not a blip.
    min_authors: int = 8
    sustain: int = 3  # escalating buckets before warning ...
    sustain_within: int = 5  # ... among this many recent ones (= sustain: consecutive)
    blip_share: float = 0.5  # one bucket holding more than this of a window is a blip
    critical_score: float = 8.0
    critical_ratio: float = 4.0
    critical_authors: int = 25
    boosts: tuple[tuple[str, float], ...] = (
        ("velocity", 1.0), ("reach", 1.0), ("calls_to_action", 1.0), ("linkage", 0.5),
        ("centre", 1.0), ("demands", 0.5))
    # Coordination.
    author_cap: int = 2  # posts per author per bucket before the rest count as coordinated
    author_window_cap: int = 3  # posts per distinct author per window counted as organic
    author_rate: float = 8.0  # ... or this many an hour, at least 1 (0: the cap, any window)
    duplicate_min: int = 3  # a text repeated this often (normalised) is copy-paste
    coordination_reason: float = 0.2  # report coordination above this share
    # Reach, calls to action, linkage, reshares, markers.
    high_reach: int = 50_000  # followers
    reach_floor_factor: float = 0.5  # a high-reach account amplifying scales the floors by this
    amplify_reshares: int = 3  # reshares of a high-reach post that make it amplification
    call_share: float = 0.15
    linked_share: float = 0.1
    centre_reshares: int = 20  # reshares of one post in a window that make it the centre
    centre_evidence: int = 3  # reshares that make a post the centre shown in the evidence
    centre_share: float = 0.2  # ... and this share of the window's volume
    # A post gone viral: reshared this many times in the quarter-hour window (and
    # centre_share of it), in unusual organic volume from min_authors or more, the tone
    # around it no calmer than usual, escalates whatever the model reads in the post
    # (escalation._viral). 0: off (the rule before 2026-12-02).
    viral_reshares: int = 10
    # While some of the last sustain_within - 1 minutes escalated, the post needs only this
    # fraction of centre_share: the crowd it draws dilutes its share, and a bar crossed
    # one minute in three never sustains (1: no hold).
    viral_hold: float = 0.5
    marker_share: float = 0.15  # share of posts with a marker that makes it a reason
    # Evidence.
    keep_texts: int = 40  # texts kept per bucket (sample for copy-paste, calls, terms)
    evidence_minutes: int = 15
    evidence_posts: int = 60  # newest kept posts read for terms and samples
    samples: int = 3
    top_authors: int = 5
    top_terms: int = 10
    baseline: BaselineParams = field(default_factory=BaselineParams)
    kinds: tuple[tuple[str, KindParams], ...] = tuple(DEFAULT_KINDS.items())
    floor: KindParams = field(default_factory=KindParams)  # this entity's (for_entity sets it)

    def __post_init__(self) -> None:
        _check(self)

    def for_entity(self, kind: str | None, sensitivity: float = 1.0) -> DetectorParams:
        """These parameters for one entity: its kind's prior and floors, its sensitivity.

        Sensitivity ``s`` (watchlist, default 1) multiplies the false-alarm budget by
        ``s`` and divides the absolute floors and the z floors by ``s`` and ``sqrt(s)``.
        """
        kind_params = dict(self.kinds).get(kind or "", self.floor)
        baseline = replace(self.baseline,
                           prior_level=kind_params.prior_rate * self.bucket_seconds / 3600.0,
                           prior_weight=kind_params.prior_minutes * 60.0 / self.bucket_seconds)
        z_tone = kind_params.z_tone or self.z_tone
        if sensitivity == 1.0:
            return replace(self, floor=kind_params, baseline=baseline, z_tone=z_tone)
        root = math.sqrt(sensitivity)
        return replace(
            self, budget=self.budget * sensitivity, baseline=baseline,
            z_volume=self.z_volume / root, z_negative=self.z_negative / root,
            z_tone=z_tone / root, z_tone_learning=self.z_tone_learning / root,
            z_young=self.z_young / root,
            cusum_alarm=self.cusum_alarm / root,
            floor=replace(kind_params, floor_hostile=kind_params.floor_hostile / sensitivity,
                          floor_authors=max(3, round(kind_params.floor_authors / sensitivity))))

    @property
    def keep(self) -> tuple[float, ...]:
        """Hostility keep factors per marker combination (see :mod:`models.hostility`)."""
        from models.hostility import keep_factors

        return keep_factors((self.demand_weight, self.sarcasm_weight, self.question_weight))


def sensitivity_of(value: Any, where: str) -> float:
    """A watchlist ``sensitivity``: low, normal, high, or a number from 0.1 to 10.

    >>> sensitivity_of("high", "acme"), sensitivity_of(1.5, "acme")
    (2.0, 1.5)
    """
    if isinstance(value, str) and value.strip().lower() in SENSITIVITIES:
        return SENSITIVITIES[value.strip().lower()]
    if isinstance(value, int | float) and not isinstance(value, bool) and 0.1 <= value <= 10:
        return float(value)
    raise ParamsError(f"{where}: sensitivity must be low, normal, high or a number from 0.1"
                      f" to 10 (2 alerts earlier, 0.5 later), got {value!r}")


def parse_params(text: str, source: str = "detector parameters") -> DetectorParams:
    """Detector parameters from YAML text: defaults, overridden by the file's fields.

    >>> p = parse_params("sustain: 2\\nbaseline: {utc_offset_hours: 1}\\n"
    ...                  "kinds: {person: {floor_hostile: 15}}")
    >>> p.sustain, p.baseline.utc_offset_hours, dict(p.kinds)["person"].floor_hostile
    (2, 1.0, 15.0)
    >>> parse_params("sustian: 2", "d.yaml")
    Traceback (most recent call last):
    ...
    models.errors.ParamsError: d.yaml: unknown field 'sustian' (did you mean 'sustain'?)
    """
    doc = load_yaml(text, source, ParamsError)
    if doc is None:
        return DetectorParams()
    if not isinstance(doc, dict):
        raise ParamsError(f"{source}: expected a mapping of parameter names to values")
    values = _fields(doc, DetectorParams, source, skip=("baseline", "kinds", "floor"))
    if "baseline" in doc:
        if not isinstance(doc["baseline"], dict):
            raise ParamsError(f"{source}: 'baseline' must be a mapping of baseline fields")
        values["baseline"] = _build(BaselineParams, _fields(
            doc["baseline"], BaselineParams, f"{source}: baseline"), f"{source}: baseline")
    if "kinds" in doc:
        values["kinds"] = _kinds(doc["kinds"], source)
    try:
        return DetectorParams(**values)
    except ParamsError as exc:
        raise ParamsError(f"{source}: {exc}") from None


def _kinds(doc: Any, source: str) -> tuple[tuple[str, KindParams], ...]:
    from models.watchlist import KINDS

    if not isinstance(doc, dict):
        raise ParamsError(f"{source}: 'kinds' must map a kind ({', '.join(KINDS)}) to fields")
    kinds = dict(DEFAULT_KINDS)
    for kind, overrides in doc.items():
        if kind not in KINDS:
            raise ParamsError(f"{source}: kinds: unknown kind {kind!r}; use one of"
                              f" {', '.join(KINDS)}")
        if not isinstance(overrides, dict):
            raise ParamsError(f"{source}: kinds: {kind}: expected a mapping of fields")
        where = f"{source}: kinds: {kind}"
        kinds[kind] = _build(KindParams, {**_asdict(kinds[kind]),
                                          **_fields(overrides, KindParams, where)}, where)
    return tuple(kinds.items())


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    obj = cls(**values)
    _check(obj, where)
    return obj


def _asdict(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _fields(doc: dict[str, Any], cls: type, where: str,
            skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Values of ``doc`` converted to the types of ``cls``'s fields (skipping ``skip``)."""
    import difflib

    known = {f.name: f for f in fields(cls)}
    out: dict[str, Any] = {}
    for name, value in doc.items():
        if name in skip:
            continue
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else (
                f"; known fields: {', '.join(sorted(known))}")
            raise ParamsError(f"{where}: unknown field {name!r}{hint}")
        out[name] = _convert(name, value, getattr(cls(), name), where)
    return out


def _convert(name: str, value: Any, default: Any, where: str) -> Any:
    def bad(what: str) -> ParamsError:
        return ParamsError(f"{where}: {name}: must be {what}, got {value!r}"
                           f" (default {_show(default)})")

    if isinstance(default, str):
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value):
            raise bad("a number")
        return float(value)
    if name == "boosts":
        if not isinstance(value, dict) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()):
            raise bad("a mapping of signal name to score boost, e.g. {reach: 1.0}")
        known = dict(default)
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ParamsError(f"{where}: boosts: unknown signal {unknown[0]!r}; boosts exist"
                              f" for {', '.join(known)}")
        return tuple({**known, **{k: float(v) for k, v in value.items()}}.items())
    if isinstance(default, tuple):
        if not isinstance(value, list) or not value or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise bad("a list of whole numbers, e.g. [5, 15, 60]")
        return tuple(value)
    raise bad(type(default).__name__)  # pragma: no cover: every field type is handled above


def _show(default: Any) -> str:
    if isinstance(default, tuple) and default and isinstance(default[0], tuple):
        return "{" + ", ".join(f"{k}: {v}" for k, v in default) + "}"
    return repr(list(default)) if isinstance(default, tuple) else repr(default)


# Lower bounds (inclusive) and, where they matter, upper bounds of each numeric field.
_RANGES: dict[str, tuple[float, float]] = {
    "bucket_seconds": (1, 86_400), "coarse_buckets": (1, 1440), "learning": (0, 10**7),
    "quiet_start": (0, 10**7), "judge_after": (0, 10**7), "learn_lag": (0, 10**4),
    "negative_threshold": (0.0, 1.0), "demand_weight": (0.0, 1.0),
    "sarcasm_weight": (0.0, 1.0), "question_weight": (0.0, 1.0),
    "z_volume": (0.0, 100.0), "min_excess": (0.0, 1e9), "min_ratio": (1.0, 1e6),
    "z_escalate": (0.0, 100.0), "z_long": (0.0, 100.0), "z_young": (0.0, 100.0),
    "hostile_ratio": (1.0, 1e6),
    "rise_ratio": (0.0, 1e6),
    "z_rise": (-100.0, 100.0),
    "z_negative": (0.0, 100.0), "z_tone": (0.0, 100.0), "min_shift": (0.0, 1.0),
    "tone_floor": (0.0, 1.0), "z_tone_learning": (0.0, 100.0),
    "min_share_posts": (1, 10**9), "budget": (0.001, 1e4),
    "tail_prior": (0.0, 1e6), "volume_tail_shape": (0.0, 0.45),
    "alarm_learn_within": (0, 10**7),
    "cusum_ratio": (1.01, 100.0), "cusum_alarm": (0.1, 1e6), "tone_hold": (0.0, 1e6),
    "level_shift_z": (-100.0, 100.0), "level_shift_hours": (0.0, 1e6),
    "min_authors": (1, 10**9), "sustain": (1, 10**6),
    "sustain_within": (1, MAX_SUSTAIN_WITHIN), "blip_share": (0.0, 1.0),
    "critical_score": (0.0, 1e6), "critical_ratio": (1.0, 1e6), "critical_authors": (1, 10**9),
    "author_cap": (1, 10**6), "author_window_cap": (1, 10**6),
    "author_rate": (0.0, 1e6), "duplicate_min": (2, 10**6),
    "coordination_reason": (0.0, 1.0), "high_reach": (1, 10**12),
    "reach_floor_factor": (0.0, 1.0), "call_share": (0.0, 1.0), "linked_share": (0.0, 1.0),
    "centre_reshares": (1, 10**9), "amplify_reshares": (1, 10**9), "viral_reshares": (0, 10**9),
    "viral_hold": (0.01, 1.0),
    "centre_evidence": (1, 10**9), "centre_share": (0.0, 1.0),
    "marker_share": (0.0, 1.0),
    "keep_texts": (0, 10_000), "evidence_minutes": (1, 1440), "evidence_posts": (0, 100_000),
    "samples": (0, 100), "top_authors": (0, 100), "top_terms": (0, 100),
    # KindParams
    "prior_rate": (0.0, 1e7), "prior_minutes": (0.0, 1e6), "floor_hostile": (1.0, 1e9),
    "floor_authors": (1, 10**9), "floor_ratio": (1.0, 1e6),
    # BaselineParams
    "level_memory": (1, 10**8), "profile_memory": (1, 10**8), "share_memory": (1, 10**8),
    "profile_prior": (0.0, 1e6), "profile_cap": (0.0, 1e6),
    "prior_share": (0.0, 1.0), "prior_posts": (0.0, 1e9), "clip_sigmas": (0.5, 100.0),
    "clip_after": (0, 10**8), "utc_offset_hours": (-14.0, 14.0), "floor": (1e-9, 1e3),
}


def _check(obj: Any, where: str = "") -> None:
    """Raise ParamsError naming the first field out of its range, with the fix."""
    prefix = f"{where}: " if where else ""
    for f in fields(obj):
        value = getattr(obj, f.name)
        bounds = _RANGES.get(f.name)
        if bounds is None or not isinstance(value, int | float):
            continue
        lo, hi = bounds
        if not lo <= value <= hi:
            default = getattr(type(obj)(), f.name) if f.name != "floor" else None
            what = f"at least {lo:g}" if value < lo else f"at most {hi:g}"
            raise ParamsError(f"{prefix}{f.name}: must be {what}, got {value!r}"
                              f" (default {default!r})")
    if isinstance(obj, DetectorParams):
        if obj.share_by not in ("threshold", "mean"):
            raise ParamsError(f"{prefix}share_by: must be threshold (share of posts at or above"
                              f" negative_threshold) or mean (mean calibrated probability),"
                              f" got {obj.share_by!r}")
        for name in ("scales", "long_scales"):
            scales = getattr(obj, name)
            if not scales or any(m < 1 for m in scales) or list(scales) != sorted(set(scales)):
                raise ParamsError(f"{prefix}{name}: must be increasing whole numbers of"
                                  f" buckets, e.g. {list(getattr(DetectorParams(), name))}")
        if any(m % obj.coarse_buckets for m in obj.long_scales):
            raise ParamsError(f"{prefix}long_scales: each must be a multiple of coarse_buckets"
                              f" ({obj.coarse_buckets}), got {list(obj.long_scales)}")
        if obj.learn_lag >= max(obj.scales):
            raise ParamsError(f"{prefix}learn_lag: must be below the longest short scale"
                              f" ({max(obj.scales)}), got {obj.learn_lag}")
        if obj.sustain_within < obj.sustain:
            raise ParamsError(f"{prefix}sustain_within: must be at least sustain"
                              f" ({obj.sustain}): the escalating buckets are counted among"
                              f" the last sustain_within, got {obj.sustain_within}")
        if obj.evidence_minutes > max(obj.scales):
            raise ParamsError(f"{prefix}evidence_minutes: must be at most the longest short"
                              f" scale ({max(obj.scales)}), got {obj.evidence_minutes}")
