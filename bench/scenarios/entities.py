"""Generated watched entities: names from a variant's pools, their terms, the watchlist."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bench.scenarios.vocabulary import Names

__all__ = ["KINDS", "KIND_RATES", "EntitySpec", "make_entity", "watchlist_yaml"]

KINDS = ("policy", "partner", "department", "person")
# Usual mentions an hour by kind: officials near zero, departments busy. Together they
# span the 0.05 to 500 an hour.
KIND_RATES = {"person": (0.05, 3.0), "partner": (0.2, 60.0), "policy": (0.5, 200.0),
              "department": (3.0, 500.0)}


@dataclass(frozen=True, slots=True)
class EntitySpec:
    """One watched entity and how its background talks about it."""

    id: str
    name: str
    kind: str
    terms: tuple[str, ...]
    hashtags: tuple[str, ...]
    handles: tuple[str, ...]
    forms: tuple[str, ...]  # ways a post names it (each one a term, hashtag or handle)
    tag: str  # its name as one hashtag word, for "#Sack{t}"
    pronoun: str
    rate: float  # usual mentions an hour (mean over a week, before news spikes)
    hostile: float  # usual share of hostile posts
    positive: float  # usual share of positive posts
    linked: tuple[str, ...] = ()
    co_mention: float = 0.0  # share of its posts that also name its linked entity

    def to_attrs(self) -> dict[str, object]:
        return {"entity_kind": self.kind, "baseline_per_hour": round(self.rate, 4),
                "hostile_share": round(self.hostile, 3)}


def make_entity(rng: np.random.Generator, names: Names, kind: str, rate: float, index: int,
                linked: tuple[str, ...] = ()) -> EntitySpec:
    """A new entity of ``kind`` with a name from ``names``; ``index`` keeps ids unique."""
    pronoun = "they"
    if kind == "person":
        female = rng.random() < 0.5
        first = str(rng.choice(names.first_female if female else names.first_male))
        last = str(rng.choice(names.surnames))
        pronoun = "she" if female else "he"
        name = f"{names.person_title} {first} {last}"
        handle = f"@{first}{last}".lower()
        terms = (f"{first} {last}".lower(), f"{names.person_title} {last}".lower())
        forms = (f"{first} {last}", f"{names.person_title} {last}", name, handle)
        tag = f"{first}{last}"
        hashtags: tuple[str, ...] = (f"#{tag.lower()}",)
        handles: tuple[str, ...] = (handle,)
    elif kind == "partner":
        brand = str(rng.choice(names.brands))
        name = f"{brand} {rng.choice(names.brand_suffixes)}"
        tag = brand
        terms = (name.lower(), brand.lower())
        forms = (name, brand, brand, f"#{brand}")
        hashtags = (f"#{brand.lower()}",)
        handles = (f"@{name.replace(' ', '').lower()}",)
    elif kind == "policy":
        name = f"{rng.choice(names.policy_heads)} {rng.choice(names.policy_tails)}"
        tag = name.replace(" ", "")
        terms = (name.lower(),)
        forms = (name, name, f"the {name}", f"#{tag}")
        hashtags = (f"#{tag.lower()}",)
        handles = ()
    elif kind == "department":
        remit = str(rng.choice(names.remits))
        name = names.department_pattern.format(x=remit)
        short = "".join(w[0] for w in re.findall(r"[A-Za-z]+", name) if w[0].isupper())
        tag = short
        terms = (name.lower(), short.lower())
        forms = (name, short, short, f"the {name}")
        hashtags = (f"#{short.lower()}",)
        handles = (f"@{short.lower()}gov",)
    else:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return EntitySpec(
        id=f"{slug}-{index}", name=name, kind=kind, terms=terms, hashtags=hashtags,
        handles=handles, forms=forms, tag=tag, pronoun=pronoun, rate=float(rate),
        hostile=float(rng.uniform(0.05, 0.35)), positive=float(rng.uniform(0.1, 0.35)),
        linked=linked, co_mention=float(rng.uniform(0.02, 0.12)) if linked else 0.0)


def watchlist_yaml(entities: tuple[EntitySpec, ...]) -> str:
    """The watchlist (README "Watchlist" contract) naming ``entities``."""

    def items(values: tuple[str, ...]) -> str:
        return "[" + ", ".join(f'"{v}"' for v in values) + "]"

    lines = ["entities:"]
    for e in entities:
        lines += [f"  - id: {e.id}", f'    name: "{e.name}"', f"    kind: {e.kind}",
                  f"    terms: {items(e.terms)}"]
        if e.hashtags:
            lines.append(f"    hashtags: {items(e.hashtags)}")
        if e.handles:
            lines.append(f"    handles: {items(e.handles)}")
        if e.linked:
            lines.append(f"    linked: {items(e.linked)}")
    return "\n".join(lines) + "\n"
