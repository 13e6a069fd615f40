"""Post texts in a variant's words: one method per style of post."""

from __future__ import annotations

import numpy as np

from bench.scenarios.entities import EntitySpec
from bench.scenarios.vocabulary import Vocabulary

__all__ = ["HOSTILE_STYLES", "STYLES", "Writer"]

# Hostile styles of a storm's mixture, in StormSpec.mix order.
HOSTILE_STYLES = ("explicit", "sarcasm", "demand", "question", "reshare")
STYLES = ("neutral", "positive", "news", *HOSTILE_STYLES, "bot", "copypaste")


class Writer:
    """Draws texts from a vocabulary with a seeded generator."""

    def __init__(self, rng: np.random.Generator, vocabulary: Vocabulary,
                 entities: dict[str, EntitySpec]) -> None:
        self._rng = rng
        self._v = vocabulary
        self._entities = entities

    def _pick(self, options: tuple[str, ...]) -> str:
        return options[int(self._rng.integers(len(options)))]

    def name(self, entity: EntitySpec, co: EntitySpec | None = None) -> str:
        """One way to name ``entity`` (and ``co``, a linked entity named alongside)."""
        n = self._pick(entity.forms)
        if co is not None:
            m = self._pick(co.forms)
            n = f"{n} and {m}" if self._rng.random() < 0.5 else f"{n} ({m})"
        return n

    def text(self, style: str, entity: EntitySpec, co: EntitySpec | None = None) -> str:
        """A fresh post of ``style`` naming ``entity``."""
        v = self._v
        fields = {"n": self.name(entity, co), "f": self._pick(v.fillers), "t": entity.tag,
                  "p": entity.pronoun if entity.pronoun != "they" else "it"}
        if style == "explicit":
            body = (f"{self._pick(v.openers)} {self._pick(v.explicit).format(**fields)}"
                    f" {fields['f']}. {self._pick(v.explicit_tails)}")
        elif style in ("sarcasm", "demand", "question", "neutral", "positive", "news"):
            options = getattr(v, style)
            if entity.kind == "person" and style in ("neutral", "positive"):
                options = getattr(v, f"{style}_person")
            body = self._pick(options).format(**fields)
            if style in ("sarcasm", "demand") and self._rng.random() < 0.4:
                body = f"{self._pick(v.openers)} {body}"
        elif style == "bot":
            body = self._pick(v.bot).format(**fields)
        else:
            raise ValueError(f"no fresh text for style {style!r}")
        return " ".join(body.split())

    def central(self, entity: EntitySpec, own_post: bool) -> str:
        """The post at the centre of a storm: the official's own, or someone's exposé."""
        if own_post:
            return self._pick(self._v.own_post)
        return self._pick(self._v.central).format(n=self._pick(entity.forms))

    def reshare(self, text: str, handle: str, needs_handle: bool) -> str:
        """How a reshare of ``text`` by ``handle`` reads (it must name the entity: when the
        text does not, the handle does)."""
        options = self._v.reshare
        if needs_handle:
            options = tuple(o for o in options if "{h}" in o) or ("RT {h}: {x}",)
        return self._pick(options).format(h=handle, x=text)

    def copypaste(self, entity: EntitySpec) -> str:
        return self._pick(self._v.copypaste).format(n=self._pick(entity.forms), t=entity.tag)

    def variation(self, text: str, k: int) -> str:
        """A near-identical copy: a link, a tag or a number appended, as campaigns do."""
        r = self._rng.random()
        if r < 0.4:
            return f"{text} https://t.co/{int(self._rng.integers(10**8)):08d}"
        if r < 0.6:
            return f"{text} #{k % 7}"
        if r < 0.8:
            return f"{text} !!"
        return text

    def platform(self) -> str:
        return self._pick(self._v.platforms)
