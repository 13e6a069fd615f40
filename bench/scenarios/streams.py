"""One case's stream: its mentions in event-time order, its watchlist and its labels.

:func:`generate` is pure in the case (its seed and parameters): the same
:class:`~bench.scenarios.plan.CaseSpec` always gives the same bytes.

Per entity, posts come from

- the background: a seasonal, over-dispersed rate (``traffic.seasonal`` x
  ``traffic.noise``) plus news spikes, each post then causing a cascade of
  replies and reshares (``traffic.cascade``) that mostly keep its tone;
- storms: extra posts at ``(multiplier - 1) x usual rate x curve``, and over
  the storm every post (background ones too) is hostile with probability
  ``usual share + shift x curve``; the storm's hostile posts follow its
  mixture of explicit, sarcastic, demanding, bewildered posts and reshares of
  the post at its centre, and a share may come from a few bot accounts;
- benign bursts: 3 to 10 accounts, hundreds of near-identical hostile posts;
- level changes (``drift`` cases): the background's rate times a level that
  steps or ramps to a new value and stays there (``traffic.level``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.scenarios.entities import EntitySpec, watchlist_yaml
from bench.scenarios.plan import (
    BurstSpec,
    CaseSpec,
    DriftSpec,
    StormSpec,
    curve_hours,
    excess_hostile,
)
from bench.scenarios.texts import HOSTILE_STYLES, Writer
from bench.scenarios.traffic import (
    DAY,
    MIN,
    cascade,
    level,
    noise,
    seasonal,
    shock_rate,
    shocks,
    storm_curve,
)
from bench.scenarios.variants import VARIANTS, Variant
from models.labels import Label

__all__ = ["Case", "generate"]

_BG, _NEWS, _KID, _STORM, _CENTRAL, _STORMBOT, _BURST = range(7)
DRIFT_SETTLE = 12 * 3600.0  # a level change's benign label lasts this long past its ramp


@dataclass(frozen=True, slots=True)
class Case:
    """A generated case: what to replay and what really happened."""

    spec: CaseSpec
    watchlist: str
    mentions: list[dict]
    hostile: list[bool]  # the generator's intent, per mention (for tests and the oracle)
    labels: list[Label]

    def lines(self) -> list[bytes]:
        """The mentions as the JSONL lines ``firestorm replay`` reads."""
        return [json.dumps(m, ensure_ascii=False).encode("utf-8") for m in self.mentions]

    def write(self, directory: Path) -> dict[str, Path]:
        """Write mentions.jsonl, watchlist.yaml and labels.jsonl into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        paths = {"mentions": directory / "mentions.jsonl",
                 "watchlist": directory / "watchlist.yaml",
                 "labels": directory / "labels.jsonl"}
        paths["mentions"].write_bytes(b"".join(line + b"\n" for line in self.lines()))
        paths["watchlist"].write_text(self.watchlist, encoding="utf-8")
        paths["labels"].write_text("".join(lab.to_json() + "\n" for lab in self.labels),
                                   encoding="utf-8")
        return paths


def generate(spec: CaseSpec) -> Case:
    """Generate the case's stream (see the module docstring)."""
    v = VARIANTS[spec.variant]
    rng = np.random.default_rng([v.salt, spec.seed, 2])
    entities = {e.id: e for e in spec.entities}
    writer = Writer(rng, v.vocabulary, entities)
    grid = np.arange(spec.start, spec.end, MIN)
    out: list[tuple[float, str, dict, bool]] = []
    labels: list[Label] = []
    for index, entity in enumerate(spec.entities):
        storms = [s for s in spec.storms if s.entity_id == entity.id]
        bursts = [b for b in spec.bursts if b.entity_id == entity.id]
        linked = entities.get(entity.linked[0]) if entity.linked else None
        posts, spikes = _entity_posts(rng, v, spec, writer, grid, index, entity, linked, storms,
                                      bursts)
        out += posts
        if spec.scored_from < spec.end:
            labels.append(Label(entity.id, "background", spec.scored_from, spec.end,
                                id=f"{spec.name}/{entity.id}/background",
                                attrs={**entity.to_attrs(), "family": spec.family,
                                       "variant": spec.variant, "case": spec.name}))
        for s in storms:
            labels.append(_storm_label(spec, entity, s))
            if linked is not None and s.co_share > 0:
                labels.append(Label(linked.id, "ignore", s.onset, s.end, label="spillover",
                                    id=f"{spec.name}/{linked.id}/spillover"))
        for k, (onset, end, size) in enumerate(spikes):
            labels.append(Label(entity.id, "benign", onset, end, label="news",
                                id=f"{spec.name}/{entity.id}/news{k}",
                                attrs={"size": round(size, 2), "variant": spec.variant}))
        for k, d in enumerate(x for x in spec.drifts if x.entity_id == entity.id):
            labels.append(_drift_label(spec, entity, d, k))
        for k, b in enumerate(bursts):
            labels.append(Label(entity.id, "benign", b.onset, b.onset + b.duration,
                                label=b.kind, id=f"{spec.name}/{entity.id}/{b.kind}{k}",
                                attrs={**entity.to_attrs(), "posts": b.posts,
                                       "accounts": b.accounts, "variant": spec.variant,
                                       "case": spec.name}))
    out.sort(key=lambda r: (r[0], r[1]))
    return Case(spec, watchlist_yaml(spec.entities), [m for _, _, m, _ in out],
                [h for *_, h in out], labels)


def _storm_label(spec: CaseSpec, entity: EntitySpec, s: StormSpec) -> Label:
    attrs = {
        **entity.to_attrs(), "variant": spec.variant, "case": spec.name, "family": spec.family,
        "rise_minutes": round(s.rise / MIN, 2), "multiplier": round(s.multiplier, 3),
        "shift": round(s.shift, 3), "shape": s.shape, "bot_share": round(s.bot_share, 3),
        "mix": dict(zip(HOSTILE_STYLES, s.mix, strict=True)), "own_post": s.own_post,
        "history_days": round((s.onset - spec.start) / DAY, 3),
        "excess_hostile": round(excess_hostile(s, entity.rate, entity.hostile), 1),
    }
    return Label(entity.id, "storm", s.onset, s.end, s.peak, label=spec.family,
                 id=f"{spec.name}/{entity.id}/storm", attrs=attrs)


def _drift_label(spec: CaseSpec, entity: EntitySpec, d: DriftSpec, k: int) -> Label:
    """A level change is benign: pages in its first hours at the new level are false
    alarms (counted as the background's too) and also counted under "level"."""
    return Label(entity.id, "benign", d.onset, d.settled + DRIFT_SETTLE, label="level",
                 id=f"{spec.name}/{entity.id}/level{k}",
                 attrs={**entity.to_attrs(), "factor": round(d.factor, 3),
                        "ramp_hours": round(d.ramp / 3600.0, 2), "variant": spec.variant,
                        "case": spec.name})


def _entity_posts(rng: np.random.Generator, v: Variant, spec: CaseSpec, writer: Writer,
                  grid: np.ndarray, index: int, entity: EntitySpec, linked: EntitySpec | None,
                  storms: list[StormSpec], bursts: list[BurstSpec]) -> tuple[list, list]:
    """Every post naming ``entity`` (its own; co-mentions of it come from its partner)."""
    n = len(grid)
    per_minute = entity.rate / 60.0
    branching = float(rng.uniform(*v.branching))
    scale = (rng.uniform(5, 40) if v.kernel == "exponential" else rng.uniform(2, 20)) * MIN
    base = per_minute * (1 - branching) * seasonal(rng, v, grid) * noise(rng, v, n)
    drifts = [d for d in spec.drifts if d.entity_id == entity.id]
    if drifts:  # no draws: every case without a level change is generated as before
        base = base * level(drifts, grid, v)
    spikes = shocks(rng, v, spec.start, spec.end)
    extra = per_minute * shock_rate(spikes, grid, v)

    times, source, storm_of = [], [], []

    def add(counts: np.ndarray, kind: int, storm: int = -1) -> None:
        t = np.repeat(grid, counts) + rng.uniform(0, 60, size=int(counts.sum()))
        times.append(t)
        source.append(np.full(len(t), kind))
        storm_of.append(np.full(len(t), storm))

    add(rng.poisson(base), _BG)
    add(rng.poisson(extra), _NEWS)
    curves = []
    for k, s in enumerate(storms):
        c = storm_curve(s.shape, v.decay, s.onset, s.peak, s.end, grid, s.shape_value)
        curves.append(c)
        lam = (s.multiplier - 1) * per_minute * c * noise(rng, v, n)
        counts = rng.poisson(lam)
        bots = rng.binomial(counts, s.bot_share)
        add(counts - bots, _STORM, k)
        add(bots, _STORMBOT, k)
        times.append(np.array([s.onset]))
        source.append(np.array([_CENTRAL]))
        storm_of.append(np.array([k]))
    for k, b in enumerate(bursts):
        t = rng.uniform(b.onset, b.onset + b.duration, size=b.posts)
        times.append(t)
        source.append(np.full(len(t), _BURST))
        storm_of.append(np.full(len(t), k))
    immigrants = np.concatenate(times)
    kinds = np.concatenate(source)
    tags = np.concatenate(storm_of)
    # Cascades grow from the background's own posts (a storm's follow-on is its curve).
    organic = np.flatnonzero((kinds == _BG) | (kinds == _NEWS))
    kids, parents = cascade(rng, v, immigrants[organic], branching, scale, spec.end)
    parent_of = np.full(len(immigrants) + len(kids), -1)
    # cascade() indexes the organic posts first, then its offspring.
    index_map = np.concatenate([organic, len(immigrants) + np.arange(len(kids))])
    parent_of[len(immigrants):] = index_map[parents] if len(kids) else []
    all_times = np.concatenate([immigrants, kids])
    all_kinds = np.concatenate([kinds, np.full(len(kids), _KID)])
    all_tags = np.concatenate([tags, np.full(len(kids), -1)])
    order = np.argsort(all_times, kind="stable")
    news_tone = float(rng.normal(0, 0.04))
    return _write(rng, v, spec, writer, grid, index, entity, linked, storms, bursts, curves,
                  all_times, all_kinds, all_tags, parent_of, order, news_tone), \
        [(s.onset, s.end, s.size) for s in spikes]


def _write(rng: np.random.Generator, v: Variant, spec: CaseSpec, writer: Writer,
           grid: np.ndarray, index: int, entity: EntitySpec, linked: EntitySpec | None,
           storms: list[StormSpec], bursts: list[BurstSpec], curves: list[np.ndarray],
           times: np.ndarray,
           kinds: np.ndarray, tags: np.ndarray, parent_of: np.ndarray, order: np.ndarray,
           news_tone: float) -> list:
    """Tones, styles, authors and texts, in event-time order (parents before children)."""
    count = len(times)
    u = rng.random((count, 6))
    followers = rng.lognormal(5.5, 1.5, size=count).astype(np.int64)
    reach = rng.integers(60_000, 900_000, size=count)
    pool = max(30, int(entity.rate * 24 * 3))
    p0 = entity.hostile
    pos = entity.positive / max(1e-9, 1 - p0)
    bg_styles = np.cumsum(v.background_styles) / sum(v.background_styles)
    mixes = [np.cumsum(s.mix) / sum(s.mix) for s in storms]
    hostile = np.zeros(count, dtype=bool)
    texts: list[str] = [""] * count
    ids: list[str] = [""] * count
    authors: list[str] = [""] * count
    central: dict[int, tuple[str, str, str]] = {}  # storm -> (id, author, text)
    bot_accounts = [[f"@b{index}x{int(rng.integers(10**7))}"
                     for _ in range(int(rng.integers(3, 11)))] for _ in storms]
    burst_accounts = [[f"@b{index}x{int(rng.integers(10**7))}" for _ in range(b.accounts)]
                      for b in bursts]
    burst_texts = [writer.copypaste(entity) for _ in bursts]
    # A storm's authors post 0.7 to 2 times each on average over its course.
    storm_pools = [max(20, int((s.multiplier - 1) * entity.rate * curve_hours(s)
                               * rng.uniform(0.5, 1.5))) for s in storms]
    prefix = f"c{spec.seed % 10**7}e{index}-"
    out = []
    minute0 = grid[0] if len(grid) else 0.0

    def storm_at(t: float) -> tuple[int, float]:
        for k, s in enumerate(storms):
            if s.onset <= t <= s.end:
                m = min(int((t - minute0) // MIN), len(grid) - 1)
                return k, float(curves[k][m])
        return -1, 0.0

    def pick(cum: np.ndarray, x: float) -> int:
        return int(np.searchsorted(cum, x, side="right"))

    for rank, i in enumerate(order):
        t = float(times[i])
        kind = int(kinds[i])
        r = u[i]
        mid = f"{prefix}{rank}"
        author = f"@u{index}x{int(pool * r[5] ** 2)}"
        fol = int(followers[i]) if r[4] > 0.004 else int(reach[i])
        k, c = storm_at(t)
        p_t = min(0.97, p0 + storms[k].shift * c) if k >= 0 else p0
        co = None
        if linked is not None:
            share = storms[k].co_share if k >= 0 and c > 0.05 else entity.co_mention
            co = linked if r[3] < share else None
        reshare_of = None
        style = "neutral"
        if kind == _CENTRAL:
            s = storms[int(tags[i])]
            if s.own_post and entity.handles:
                author, fol = entity.handles[0], int(reach[i])
            else:
                author, fol = f"@newsdesk{int(r[5] * 40)}", int(reach[i])
            text = writer.central(entity, s.own_post)
            central[int(tags[i])] = (mid, author, text)
            hostile[i] = not s.own_post
            style = "central"
        elif kind in (_STORMBOT, _BURST):
            if kind == _STORMBOT:
                accounts = bot_accounts[int(tags[i])]
                text = writer.text("bot", entity)
            else:
                b = int(tags[i])
                accounts = burst_accounts[b]
                text = (writer.variation(writer.text("bot", entity), rank)
                        if bursts[b].kind == "bots"
                        else writer.variation(burst_texts[b], rank))
            author, fol = accounts[int(r[5] * len(accounts))], 40 + int(r[4] * 400)
            hostile[i] = True
            style = "bot"
        else:
            parent = int(parent_of[i])
            inherit = kind == _KID and parent >= 0 and texts[parent] and r[0] < 0.7
            # Over a storm, a calm reply turns hostile as often as any other post does.
            if inherit and k >= 0 and not hostile[parent] and r[2] < (p_t - p0) / (1 - p0):
                inherit = False
                r = (0.0, 0.0, float(rng.random()), r[3], r[4], r[5])  # hostile, storm style
            if inherit:
                hostile[i] = hostile[parent]
                if r[1] < 0.5:
                    text = writer.reshare(texts[parent], authors[parent], needs_handle=False)
                    reshare_of = ids[parent]
                    style = "reshare"
                else:
                    style = ("explicit" if hostile[i] else "neutral")
                    text = writer.text(style, entity, co)
            else:
                p = p_t if kind != _NEWS else min(0.97, max(0.0, p0 + news_tone))
                in_storm = k >= 0 and (kind == _STORM or r[1] < (p_t - p0) / max(p_t, 1e-9))
                if r[0] < p:
                    hostile[i] = True
                    style = (HOSTILE_STYLES[pick(mixes[k], r[2])] if in_storm
                             else HOSTILE_STYLES[pick(bg_styles, r[2])])
                elif (kind == _NEWS and r[2] < 0.6) or (kind == _STORM and r[2] < 0.5):
                    style = "news"  # attention, not hostility: spikes and storms draw it
                elif kind == _STORM:
                    style = "positive" if r[2] > 0.85 else "neutral"
                else:
                    style = "positive" if r[2] < pos else "neutral"
                if style == "reshare":
                    cid, cauthor, ctext = central.get(k, ("", "", ""))
                    if cid:
                        text = writer.reshare(ctext, cauthor, needs_handle=storms[k].own_post)
                        reshare_of = cid
                    else:  # a post racing ahead of the centre: an explicit one instead
                        text = writer.text("explicit", entity, co)
                else:
                    text = writer.text(style, entity, co)
            if kind == _STORM:  # many people, some of whom post more than once
                author = f"@s{index}x{int(storm_pools[k] * r[5])}"
        texts[i], ids[i], authors[i] = text, mid, author
        mention = {"id": mid, "ts": round(t, 3), "platform": writer.platform(), "author": author,
                   "text": text, "author_followers": fol}
        if reshare_of:
            mention["reshare_of"] = reshare_of
        out.append((mention["ts"], mid, mention, bool(hostile[i])))
    return out
