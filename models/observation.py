"""One mention as detection sees it: tagged, scored, and stripped to what counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Observation", "Tick"]


@dataclass(frozen=True, slots=True)
class Observation:
    """A mention of one entity, after tagging and scoring.

    A mention naming three entities becomes three observations, one per
    entity, so that per-entity state can live on the entity's partition.
    ``others`` keeps the co-mentioned entities for partner↔policy linkage.
    ``negativity`` is the calibrated probability that the post is negative, or
    None when its language (``lang``) has no negativity model: such a post counts
    in volume, never in the negative share.

    >>> o = Observation("acme", "m1", 1.7e9, "twitter", "u:3f2a", "Boycott acme", 12, 0.9,
    ...                 others=("work-programme",), url="https://social.example/p/1")
    >>> Observation.from_dict(o.to_dict()) == o
    True
    """

    entity_id: str
    mention_id: str
    ts: float
    platform: str
    author: str
    text: str
    followers: int | None
    negativity: float | None
    others: tuple[str, ...] = ()
    reshare_of: str | None = None
    lang: str | None = None  # the language the post was read in (declared or identified)
    url: str | None = None  # link to the post, when the mention has one

    def to_dict(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict (a deep copy): observations wait in the
        # engine's state and are written with it to the changelog every batch.
        return {"entity_id": self.entity_id, "mention_id": self.mention_id, "ts": self.ts,
                "platform": self.platform, "author": self.author, "text": self.text,
                "followers": self.followers, "negativity": self.negativity,
                "others": list(self.others), "reshare_of": self.reshare_of, "lang": self.lang,
                "url": self.url}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Observation:
        fields = dict(data)
        fields["others"] = tuple(fields.get("others", ()))
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class Tick:
    """Event time has reached ``ts``: close the entity's buckets that ended by then.

    Ticks travel in the same per-entity order as observations (in the stream,
    on the entity's partition), so replay and stream close buckets at the same
    points and agree on every alert.
    """

    entity_id: str
    ts: float

    def to_dict(self) -> dict[str, Any]:
        return {"tick": self.ts, "entity_id": self.entity_id}
