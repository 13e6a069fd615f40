"""The watchlist contract: which policies, partners and departments to watch.

Validation errors name the entity, the field and the fix, because the person
editing the YAML at 2am is not the person who wrote this parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from models.errors import ParamsError, WatchlistError
from models.mention import event_time
from models.params import sensitivity_of
from models.yamldoc import Fields, load_yaml

__all__ = ["KINDS", "Entity", "Watchlist", "parse_watchlist"]

KINDS = ("policy", "partner", "department", "person")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_FIELDS = frozenset(
    ("id", "name", "kind", "terms", "hashtags", "handles", "owner", "linked", "sensitivity",
     "since")
)
_TOP = frozenset(("entities", "watch_since"))
_TIME_FIX = ("give the event time watching began, ISO 8601 with an offset"
             " (2026-03-01T00:00:00Z) or epoch seconds")


@dataclass(frozen=True, slots=True)
class Entity:
    """One watched thing and the words that name it."""

    id: str
    name: str
    kind: str
    terms: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    owner: str | None = None
    linked: tuple[str, ...] = ()
    sensitivity: float = 1.0  # 2 (or "high") alerts earlier, 0.5 ("low") later
    since: float | None = None  # event time its watch began (epoch s); None: the list's


@dataclass(frozen=True, slots=True)
class Watchlist:
    """Validated entities by id; partner→policy links resolved both ways.

    >>> wl = parse_watchlist('''
    ... entities:
    ...   - {id: work-programme, name: Work Programme, kind: policy, terms: [workfare]}
    ...   - {id: acme, name: Acme, kind: partner, terms: [acme], linked: [work-programme]}
    ... ''')
    >>> wl.linked_to("work-programme")
    ('acme',)
    """

    entities: tuple[Entity, ...]
    # Event time the watch began (``watch_since``), for entities without their own ``since``.
    watch_since: float | None = None
    # Looked up for every observation the engine steps: index once, not a scan each time.
    _by_id: dict[str, Entity] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {e.id: e for e in self.entities})

    def __getitem__(self, entity_id: str) -> Entity:
        return self._by_id[entity_id]

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._by_id

    def since(self, entity_id: str) -> float | None:
        """Event time the entity has been watched from: its own ``since``, else the
        list's ``watch_since``, else None (from its first mention). The minutes before
        its first mention then close as quiet ones: a junior official nobody names for
        weeks has learned that, and the storm that first names them is judged as a storm.

        >>> wl = parse_watchlist(
        ...     "watch_since: 2026-03-01T00:00:00Z\\n"
        ...     "entities: [{id: dwp, name: DWP, kind: department, terms: [dwp]},"
        ...     " {id: jo, name: Jo, kind: person, terms: [jo], since: 1772841600}]")
        >>> wl.since("dwp"), wl.since("jo")
        (1772323200.0, 1772841600.0)
        """
        entity = self[entity_id]
        return entity.since if entity.since is not None else self.watch_since

    def linked_to(self, entity_id: str) -> tuple[str, ...]:
        """Entities linked with this one, in either direction."""
        out = list(self[entity_id].linked)
        out += [e.id for e in self.entities if entity_id in e.linked and e.id not in out]
        return tuple(out)


def parse_watchlist(text: str, source: str = "watchlist") -> Watchlist:
    """Parse and validate watchlist YAML; raise :class:`WatchlistError` with the fix."""
    doc = load_yaml(text, source, WatchlistError)
    if not isinstance(doc, dict) or not isinstance(doc.get("entities"), list):
        raise WatchlistError(f"{source}: expected a top-level 'entities:' list of entities")
    top = Fields(source, "", WatchlistError)
    top.only(doc, _TOP)
    if not doc["entities"]:
        raise WatchlistError(f"{source}: 'entities' is empty: add at least one entity to watch")
    entities = [_entity(item, i, source) for i, item in enumerate(doc["entities"], start=1)]
    seen: set[str] = set()
    for entity in entities:
        if entity.id in seen:
            raise WatchlistError(
                f"{source}: entity '{entity.id}': duplicate id; ids must be unique")
        seen.add(entity.id)
    for entity in entities:
        for target in entity.linked:
            if target not in seen:
                raise WatchlistError(
                    f"{source}: entity '{entity.id}' field 'linked': unknown entity '{target}';"
                    f" link to one of: {', '.join(sorted(seen))}"
                )
    return Watchlist(tuple(entities), _time(top, doc, "watch_since"))


def _time(f: Fields, data: dict[str, Any], name: str) -> float | None:
    """An optional event time: ISO 8601 with an offset (YAML may have read it as a
    datetime already), or epoch seconds."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise f.fail(name, "has no UTC offset: add 'Z' or '+01:00' (2026-03-01T00:00:00Z)")
        value = value.isoformat()
    elif isinstance(value, date):
        raise f.fail(name, f"is a date without a time; {_TIME_FIX}")
    parsed = event_time(value)
    if isinstance(parsed, str):
        raise f.fail(name, f"{parsed}; {_TIME_FIX}")
    return parsed


def _entity(item: Any, index: int, source: str) -> Entity:
    if not isinstance(item, dict):
        raise WatchlistError(f"{source}: entity #{index}: expected a mapping with id, name, kind")
    label = f"entity '{item['id']}'" if isinstance(item.get("id"), str) else f"entity #{index}"
    f = Fields(source, label, WatchlistError)
    f.only(item, _FIELDS)
    for name in ("id", "name", "kind"):
        f.text(item, name)
    if not _SLUG.match(item["id"]):
        raise f.fail("id", "use a slug of lower-case letters, digits and '-' (e.g. work-programme)")
    if item["kind"] not in KINDS:
        raise f.fail("kind", f"must be one of {', '.join(KINDS)}")
    lists = {name: f.texts(item, name) for name in ("terms", "hashtags", "handles", "linked")}
    if not (lists["terms"] or lists["hashtags"] or lists["handles"]):
        raise f.fail("terms", "give at least one of terms, hashtags or handles to match on")
    for tag in lists["hashtags"]:
        if not re.fullmatch(r"#\w+", tag):
            raise f.fail("hashtags", f"{tag!r} must look like '#word'")
    for handle in lists["handles"]:
        if not re.fullmatch(r"@\w+", handle):
            raise f.fail("handles", f"{handle!r} must look like '@account'")
    owner = f.optional_text(item, "owner", "must be a string such as 'DWP'")
    sensitivity = 1.0
    if "sensitivity" in item:
        try:
            sensitivity = sensitivity_of(item["sensitivity"], label)
        except ParamsError:
            raise f.fail("sensitivity", "use low, normal, high or a number from 0.1 to 10"
                         " (2 alerts earlier, 0.5 later)") from None
    return Entity(id=item["id"], name=item["name"].strip(), kind=item["kind"], owner=owner,
                  sensitivity=sensitivity, since=_time(f, item, "since"), **lists)
