"""The first synthetic generator, kept for the replay benchmark's stream (bench_replay.py).

It is no longer the detection evaluation: its storms and benign episodes were
separable by design (see docs/detection.md, "Evaluation", for the generator
that replaced it in bench/evaluate.py). Kept byte-for-byte so replay speed
figures stay comparable across versions.

Labelled synthetic mention streams: firestorms and the benign things that look like them.

:func:`generate` is pure and seeded: the same ``(seed, variant, days)`` gives
the same watchlist, mentions and labels. A stream starts on a Monday, has
daily and weekly seasonality, over-dispersed Poisson volume, a baseline mix of
negative, neutral and positive posts per entity, and then:

- **storms** (labelled, must be found): ``sharp`` (after a statement: peak in
  tens of minutes), ``ramp`` (an hours-long boycott on a partner, with calls to
  action and the linked policy co-mentioned), ``burn`` (a slow 24-hour build),
  ``night`` (starting at 02:00 on a Sunday), and ``concurrent`` (a partner and
  its policy at once);
- **benign episodes** (labelled, must not warn): ``viral`` (a positive spike),
  ``bots`` (three accounts posting hundreds of times), ``copypaste`` (many
  accounts, one text), ``scheduled`` (a weekly Q&A and a budget day: more
  volume, usual tone), on top of plain seasonality.

Texts use ordinary English so a real negativity model scores them: negative
posts say "disgraceful", "shameful", "scrap it"; positive ones "great",
"thank you", "brilliant". The ``heldout`` variant changes names, vocabulary,
daily shape, weekend level and storm strength, and is kept for checking, not
tuning. ``tones`` gives each mention's intended negativity, for evaluating the
detector apart from the scorer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Episode", "SyntheticStream", "generate"]

MONDAY = 1767571200.0  # 2026-01-05 00:00 UTC
_MIN = 60.0
_HOUR = 3600.0
_DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Episode:
    """A labelled stretch of one entity's stream: a storm or a benign look-alike."""

    entity_id: str
    kind: str  # storm shape, or benign kind
    onset: float
    peak: float
    end: float


@dataclass(frozen=True, slots=True)
class SyntheticStream:
    """A generated stream: watchlist YAML, mentions in event-time order, labels.

    >>> s = generate(seed=1, days=9)
    >>> len(s.mentions) == len(s.tones), s.mentions[0]["ts"] <= s.mentions[-1]["ts"]
    (True, True)
    >>> {e.kind for e in s.storms} <= set(_STORM_KINDS), generate(seed=1, days=9) == s
    (True, True)
    """

    watchlist: str
    mentions: list[dict]
    tones: list[float]
    storms: tuple[Episode, ...]
    benign: tuple[Episode, ...]
    start: float
    end: float
    warmup_end: float
    entity_ids: tuple[str, ...]


_STORM_KINDS = ("sharp", "ramp", "burn", "night", "concurrent")

_ENTITIES = {
    "standard": [
        ("work-programme", "Work Programme", "policy", ["work programme", "workfare"],
         ["#workfare"], []),
        ("universal-credit", "Universal Credit", "policy", ["universal credit"],
         ["#universalcredit"], []),
        ("acme-stores", "Acme Stores", "partner", ["acme stores", "acme"], ["#acme"],
         ["work-programme"]),
        ("brightmart", "Brightmart", "partner", ["brightmart"], [], ["universal-credit"]),
        ("fresco-foods", "Fresco Foods", "partner", ["fresco foods", "fresco"], [],
         ["work-programme"]),
        ("dwp", "Department for Work", "department", ["department for work", "dwp"],
         ["#dwp"], []),
        ("housing-benefit", "Housing Benefit", "policy", ["housing benefit"], [], []),
        ("minister-smith", "Minister Smith", "person", ["minister smith"], [], []),
    ],
    "heldout": [
        ("green-levy", "Green Levy", "policy", ["green levy"], ["#greenlevy"], []),
        ("rail-pass", "Rail Pass Scheme", "policy", ["rail pass"], ["#railpass"], []),
        ("northway", "Northway Rail", "partner", ["northway"], [], ["rail-pass"]),
        ("voltco", "VoltCo Energy", "partner", ["voltco"], ["#voltco"], ["green-levy"]),
        ("dft", "Department for Transport", "department", ["department for transport", "dft"],
         [], []),
        ("school-meals", "School Meals Pledge", "policy", ["school meals"], [], []),
    ],
}

_NEG = {
    "standard": (
        ["Honestly,", "Unbelievable.", "So", "Wow,", "Just saw that", "Yet again", "Seriously,",
         "Read this:", "Absolutely furious:", ""],
        ["{n} is disgraceful", "{n} is a shameful mess", "{n} should be ashamed",
         "{n} is awful", "I hate what {n} is doing", "{n} treats people appallingly",
         "{n} is an absolute disgrace", "{n} has let everyone down", "{n} is cruel and unfair",
         "{n} is a scandal", "what a disaster {n} is", "{n} is a terrible idea"],
        ["", "Shameful.", "Disgusting.", "Awful.", "Terrible.", "What a joke.", "Pathetic.",
         "Appalling.", "Enough is enough.", "Furious."],
    ),
    "heldout": (
        ["Ugh.", "Typical.", "Can't believe", "Honestly", "Once again", "Right,", ""],
        ["{n} is a complete shambles", "{n} is outrageous", "{n} is rubbish",
         "{n} is a total failure", "so angry about {n}", "{n} is insulting",
         "{n} is a rip off", "{n} is a horrible mess", "sick of {n}"],
        ["", "Ridiculous.", "Awful.", "Disgrace.", "Useless.", "Shocking.", "Infuriating."],
    ),
}
_POS = (
    ["Great work by {n}", "Love the new {n}", "Thank you {n}, brilliant",
     "Really impressed with {n}", "{n} has been brilliant today", "Fantastic news from {n}",
     "{n} is wonderful", "so happy with {n}", "Well done {n}"],
    ["", "Well done!", "Lovely.", "Brilliant.", "Amazing.", "Great stuff.", "Thanks!"],
)
_NEU = (
    ["Reading about {n} today", "Anyone know the latest on {n}?", "{n} update: details published",
     "Article on {n}", "Meeting about {n} this week", "{n} mentioned on the radio",
     "Question for {n} about the forms", "Looking into {n} for my mum", "{n} statement out",
     "Notes on {n}"],
    ["", "via the news", "link in bio", "more later", "thoughts?", "worth a read"],
)
_FILLER = ["today", "this morning", "again", "on the news", "in Leeds", "in Bristol", "tonight",
           "right now", "this week", "in Glasgow", "in Cardiff", "here", "for real", "lol",
           "in Manchester", "at work", "at lunch", "this evening", "in London", "honestly"]
_CALLS = ["Boycott {n}!", "Sign the petition to scrap it", "Stop shopping at {n}",
          "Join the protest on Saturday", "#Boycott{t}", "Scrap it now", "Write to your MP"]
_BOT = ["{n} is a disgrace, share this", "Everyone must see what {n} did",
        "{n} exposed, awful", "Shame on {n}"]
_COPY = "I am appalled by {n}. It is shameful and must be scrapped now. #Scrap{t}"


@dataclass(frozen=True, slots=True)
class _Variant:
    peak_hour: float
    second_hour: float | None
    weekend: float
    strength: float  # storm size multiplier
    rate_range: tuple[float, float]


_VARIANTS = {
    "standard": _Variant(12.5, None, 0.55, 1.0, (0.4, 4.0)),
    "heldout": _Variant(10.0, 20.5, 0.8, 0.7, (0.3, 3.0)),
}


def generate(seed: int = 0, variant: str = "standard", days: int = 21,
             warmup_days: int = 7) -> SyntheticStream:
    """Generate one labelled stream (see the module docstring)."""
    if variant not in _VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(_VARIANTS)}, got {variant!r}")
    rng = np.random.default_rng([seed, 7 if variant == "heldout" else 3])
    v = _VARIANTS[variant]
    ents = _ENTITIES[variant]
    neg_vocab = _NEG[variant]
    n_min = days * 1440
    start = MONDAY
    minutes = start + _MIN * np.arange(n_min)
    hours = (minutes % _DAY) / _HOUR
    weekday = ((minutes // _DAY).astype(int) + 3) % 7
    shape = 0.08 + 0.92 * np.exp(-0.5 * ((hours - v.peak_hour) / 3.5) ** 2)
    if v.second_hour is not None:
        shape = shape + 0.6 * np.exp(-0.5 * ((hours - v.second_hour) / 1.5) ** 2)
    shape = shape * np.where(weekday >= 5, v.weekend, 1.0)
    daily = np.repeat(rng.lognormal(0.0, 0.12, size=days), 1440)

    profiles = {}
    for eid, *_ in ents:
        base = float(np.exp(rng.uniform(*np.log(v.rate_range))))
        p_neg = float(rng.uniform(0.15, 0.35))
        # Over-dispersion: a gamma factor per 10 minutes.
        noise = np.repeat(rng.gamma(8.0, 1 / 8.0, size=n_min // 10 + 1), 10)[:n_min]
        profiles[eid] = (base, p_neg, base * shape * daily * noise)

    storms, benign = _schedule(rng, ents, start, days, warmup_days, v)
    # A storm that co-mentions its linked policy drags the policy in too: alarms on the
    # policy then are right, so they are labelled "spillover" (neither found nor false).
    for ep in storms:
        for other in ents:
            if other[0] != ep.entity_id and ep.kind in ("ramp", "concurrent") and (
                    other[0] in next(e[5] for e in ents if e[0] == ep.entity_id)):
                benign.append(Episode(other[0], "spillover", ep.onset, ep.peak, ep.end))
    name = {e[0]: e[1] for e in ents}
    tag = {e[0]: e[1].replace(" ", "") for e in ents}
    linked = {e[0]: e[5] for e in ents}
    out: list[tuple[float, dict, float]] = []
    counter = [0]
    pool = 20000

    def emit(ts: float, author: str, text: str, followers: int, tone: float,
             reshare: str | None = None) -> str:
        counter[0] += 1
        mid = f"s{seed}-{counter[0]}"
        m = {"id": mid, "ts": round(ts, 3), "platform": "twitter", "author": author,
             "text": text, "author_followers": followers}
        if reshare:
            m["reshare_of"] = reshare
        out.append((ts, m, tone))
        return mid

    def followers() -> int:
        return int(rng.lognormal(5.5, 1.5))

    def text(eid: str, tone: str, call: bool = False, co: str | None = None) -> tuple[str, float]:
        n = name[eid]
        if co is not None:
            n = f"{n} and {name[co]}" if rng.random() < 0.5 else f"{n} ({name[co]})"
        f = _FILLER[rng.integers(len(_FILLER))]
        if tone == "neg":
            o, c, e = neg_vocab
            s = (f"{o[rng.integers(len(o))]} {c[rng.integers(len(c))].format(n=n)} {f}."
                 f" {e[rng.integers(len(e))]}")
            if call:
                s += " " + _CALLS[rng.integers(len(_CALLS))].format(n=name[eid], t=tag[eid])
            return s.strip(), float(rng.uniform(0.7, 0.98))
        if tone == "pos":
            c, e = _POS
            return (f"{c[rng.integers(len(c))].format(n=n)} {f} {e[rng.integers(len(e))]}".strip(),
                    float(rng.uniform(0.02, 0.2)))
        c, e = _NEU
        return (f"{c[rng.integers(len(c))].format(n=n)} {f} {e[rng.integers(len(e))]}".strip(),
                float(rng.uniform(0.1, 0.45)))

    def tone_of(p_neg: float, p_pos: float = 0.25) -> str:
        r = rng.random()
        return "neg" if r < p_neg else ("pos" if r < p_neg + p_pos else "neu")

    # Baseline traffic, with occasional co-mentions of a linked entity.
    for eid, *_ in ents:
        base, p_neg, rate = profiles[eid]
        counts = rng.poisson(rate)
        for i in np.flatnonzero(counts):
            for _ in range(counts[i]):
                co = linked[eid][0] if linked[eid] and rng.random() < 0.05 else None
                t, tone = text(eid, tone_of(p_neg), co=co)
                emit(float(minutes[i] + rng.uniform(0, 60)), f"@user{rng.integers(pool)}", t,
                     followers(), tone)

    # Storms and benign episodes as extra rate curves.
    for ep in storms + benign:
        if ep.kind == "spillover":
            continue  # its posts are the linked storm's co-mentions
        base, p_neg, _ = profiles[ep.entity_id]
        co = linked[ep.entity_id][0] if linked[ep.entity_id] else None
        if ep.kind == "bots":
            total = int(rng.integers(150, 400))
            bots = [f"@bot{rng.integers(10**6)}" for _ in range(3)]
            for ts in np.sort(rng.uniform(ep.onset, ep.end, size=total)):
                t = _BOT[rng.integers(len(_BOT))].format(n=name[ep.entity_id])
                emit(float(ts), bots[rng.integers(3)], t, 40, float(rng.uniform(0.7, 0.95)))
            continue
        if ep.kind == "copypaste":
            total = int(rng.integers(120, 300))
            for ts in np.sort(rng.uniform(ep.onset, ep.end, size=total)):
                t = _COPY.format(n=name[ep.entity_id], t=tag[ep.entity_id])
                link = f" https://t.co/{rng.integers(10**8)}" if rng.random() < 0.5 else ""
                emit(float(ts), f"@camp{rng.integers(10**6)}", t + link, followers(),
                     float(rng.uniform(0.75, 0.95)))
            continue
        grid = np.arange(ep.onset, ep.end, _MIN)
        curve = _curve(ep, grid)
        if ep.kind in ("scheduled",):
            extra = 3.0 * base * curve
        elif ep.kind == "budget":
            extra = 4.0 * base * curve
        elif ep.kind == "night":
            extra = 2.5 * max(base, 0.8) * curve * v.strength
        else:
            peak = {"sharp": 12.0, "concurrent": 10.0, "ramp": 7.0, "burn": 4.5,
                    "viral": 12.0}[ep.kind]
            extra = peak * max(base, 0.8) * curve * (v.strength if ep.kind != "viral" else 1.0)
        counts = rng.poisson(extra)
        storm = ep in storms
        recent: list[tuple[str, str]] = []
        for i in np.flatnonzero(counts):
            for _ in range(counts[i]):
                ts = float(grid[i] + rng.uniform(0, 60))
                if storm:
                    tone = "neg" if rng.random() < 0.8 else tone_of(0.0, 0.3)
                    call = ep.kind == "ramp" and rng.random() < 0.5
                    pair = co if ep.kind in ("ramp", "concurrent") and rng.random() < 0.4 else None
                elif ep.kind == "viral":
                    tone, call, pair = ("pos" if rng.random() < 0.85 else tone_of(0.3)), False, None
                else:
                    tone, call, pair = tone_of(p_neg), False, None
                if recent and storm and rng.random() < 0.3:
                    src, src_text = recent[rng.integers(len(recent))]
                    emit(ts, f"@user{rng.integers(pool)}", src_text, followers(),
                         float(rng.uniform(0.7, 0.98)), reshare=src)
                    continue
                t, tone_value = text(ep.entity_id, tone, call, pair)
                if storm and rng.random() < 0.004:
                    author, fol = f"@journo{rng.integers(50)}", int(rng.integers(60_000, 900_000))
                else:
                    author, fol = f"@user{rng.integers(pool)}", followers()
                mid = emit(ts, author, t, fol, tone_value)
                if storm and tone == "neg" and len(recent) < 50:
                    recent.append((mid, t))

    out.sort(key=lambda r: (r[0], r[1]["id"]))
    yaml = _watchlist_yaml(ents)
    return SyntheticStream(
        watchlist=yaml, mentions=[m for _, m, _ in out], tones=[t for _, _, t in out],
        storms=tuple(storms), benign=tuple(benign), start=start, end=start + days * _DAY,
        warmup_end=start + warmup_days * _DAY, entity_ids=tuple(e[0] for e in ents),
    )


def _curve(ep: Episode, grid: np.ndarray) -> np.ndarray:
    """Intensity in [0, 1]: rise from onset to peak, then decay to the end."""
    rise = np.clip((grid - ep.onset) / max(ep.peak - ep.onset, _MIN), 0, 1)
    if ep.kind in ("scheduled", "budget"):
        return np.ones_like(grid)
    up = rise ** (2.0 if ep.kind == "burn" else 1.0)
    tau = (ep.end - ep.peak) / 3.0
    down = np.exp(-np.clip(grid - ep.peak, 0, None) / max(tau, _MIN))
    return np.where(grid <= ep.peak, up, down)


def _schedule(rng: np.random.Generator, ents: list, start: float, days: int, warmup_days: int,
              v: _Variant) -> tuple[list[Episode], list[Episode]]:
    """Place storms and benign episodes after the warm-up, apart on each entity."""
    busy: dict[str, list[tuple[float, float]]] = {}
    partners = [e[0] for e in ents if e[2] == "partner" and e[5]]
    others = [e[0] for e in ents if e[2] != "department"]
    dept = next(e[0] for e in ents if e[2] == "department")
    linked = {e[0]: e[5] for e in ents}
    t0, t1 = start + warmup_days * _DAY, start + (days - 1) * _DAY

    def free(eid: str, a: float, b: float) -> bool:
        return all(b + 6 * _HOUR < x or a > y + 6 * _HOUR for x, y in busy.get(eid, []))

    def place(eid: str, kind: str, rise: float, fall: float, at: float | None = None,
              tries: int = 200) -> Episode | None:
        if at is None and t1 - rise - fall <= t0:
            return None  # the stream is too short for this shape
        for _ in range(tries):
            onset = at if at is not None else float(rng.uniform(t0, t1 - rise - fall))
            if at is None and kind in ("sharp", "viral", "ramp", "concurrent"):
                onset = _daytime(rng, onset)
            if free(eid, onset, onset + rise + fall):
                busy.setdefault(eid, []).append((onset, onset + rise + fall))
                return Episode(eid, kind, onset, onset + rise, onset + rise + fall)
            if at is not None:
                return None
        return None

    storms: list[Episode] = []
    benign: list[Episode] = []

    def pick(pool: list[str]) -> str:
        return pool[int(rng.integers(len(pool)))]

    for kind, rise, fall, pool in [
        ("sharp", rng.uniform(15, 45) * _MIN, rng.uniform(3, 8) * _HOUR, others),
        ("sharp", rng.uniform(15, 45) * _MIN, rng.uniform(3, 8) * _HOUR, others),
        ("ramp", rng.uniform(3, 6) * _HOUR, rng.uniform(4, 8) * _HOUR, partners),
        ("burn", 24 * _HOUR, 10 * _HOUR, others),
    ]:
        ep = place(pick(pool), kind, rise, fall)
        if ep:
            storms.append(ep)
    # Sunday 02:00 after the warm-up.
    sunday = start + 6 * _DAY + 2 * _HOUR
    while sunday < t0:
        sunday += 7 * _DAY
    for _ in range(20):
        ep = place(pick(others), "night", 30 * _MIN, 5 * _HOUR, at=sunday)
        if ep:
            storms.append(ep)
            break
    # Concurrent: a partner and its linked policy, onsets within the hour.
    for _ in range(50):
        partner = pick(partners)
        policy = linked[partner][0]
        onset = _daytime(rng, float(rng.uniform(t0, t1 - 12 * _HOUR)))
        a = place(partner, "concurrent", 40 * _MIN, 6 * _HOUR, at=onset)
        if a is None:
            continue
        b = place(policy, "concurrent", 40 * _MIN, 6 * _HOUR,
                  at=onset + float(rng.uniform(0, 60)) * _MIN)
        if b is None:
            busy[partner].pop()
            continue
        storms += [a, b]
        break
    for kind, rise, fall in [("viral", 20 * _MIN, 4 * _HOUR), ("viral", 30 * _MIN, 3 * _HOUR),
                             ("bots", 0.0, 30 * _MIN), ("bots", 0.0, 40 * _MIN),
                             ("copypaste", 0.0, 45 * _MIN)]:
        ep = place(pick(others), kind, rise, fall)
        if ep:
            benign.append(ep)
    # Weekly Q&A: Wednesdays 12:00-13:00 on the department, every week (also in warm-up).
    day = start + 2 * _DAY + 12 * _HOUR
    while day < start + days * _DAY:
        benign.append(Episode(dept, "scheduled", day, day, day + _HOUR))
        day += 7 * _DAY
    budget = place(pick(others), "budget", 0.0, 6 * _HOUR,
                   at=start + (warmup_days + 3) * _DAY + 11 * _HOUR)
    if budget:
        benign.append(budget)
    return storms, benign


def _daytime(rng: np.random.Generator, ts: float) -> float:
    """Move a time to 08:00-20:00 of its day (statements and campaigns are daytime)."""
    day = ts - ts % _DAY
    return day + float(rng.uniform(8, 20)) * _HOUR


def _watchlist_yaml(ents: list) -> str:
    lines = ["entities:"]
    for eid, name, kind, terms, tags, linked in ents:
        lines += [f"  - id: {eid}", f"    name: {name}", f"    kind: {kind}",
                  f"    terms: [{', '.join(repr(t) for t in terms)}]"]
        if tags:
            lines.append(f"    hashtags: [{', '.join(repr(t) for t in tags)}]")
        if linked:
            lines.append(f"    linked: [{', '.join(linked)}]")
    return "\n".join(lines) + "\n"
