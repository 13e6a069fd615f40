"""Hostile input for property tests, and a driver that takes it through the whole pipeline.

Every value a Kafka message can carry: a null value (a tombstone), no bytes, any
bytes, a byte order mark, and any valid JSON, with lone surrogates, NUL, control
and bidi characters and numbers too large for a float or for Python's int parser.
:func:`full_path` runs mentions made of these through everything a mention reaches:
decoding, tagging, scoring, pseudonyms, the author and text sketches, bucket close,
evidence, the alert event's JSON, the outbox's spill file and an alert store (the
Redis publish script when given a :class:`RedisAlertStore`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from alerting.delivery import DurableDelivery
from alerting.engine import Engine, EntityEngineState
from alerting.event import AlertEvent
from models.detector import DetectorParams
from models.intake import Intake, IntakeResult
from models.negativity import NegativityScorer
from models.observation import Observation, Tick
from models.privacy import Pseudonymiser
from models.watchlist import Watchlist, parse_watchlist

REPO = Path(__file__).resolve().parents[1]
START = 1_767_571_200.0  # 2026-01-05 00:00 UTC, a Monday
NOW = START + 86_400  # the decoder's clock: every timestamp used here is in its past

# Characters that have broken, or could break, a stage: lone surrogates (high, low),
# NUL, a BOM, a bidi override, an escape, line separators, markup and quoting.
SPECIAL_CHARS = ["\ud800", "\udbff", "\udc00", "\udfff", "\x00", "\ufeff", "\u202e", "\x1b",
                 "\u2028", "\r", "\n", "\t", "\ufffd", "\U0001f600", '"', "\\", "<", "&", "'",
                 "%", "{", "$"]
HUGE_NUMBERS = [10**400, -(10**400), 2**63, 2**64 + 1, 10**10 + 1, 1e308, -1e308, 5e-324,
                float("inf"), float("-inf"), float("nan"), 2**53 + 1, -0.0]


def hostile_text(max_size: int = 24) -> st.SearchStrategy[str]:
    """Strings that mix any code point with the special characters above."""
    return st.lists(st.characters() | st.sampled_from(SPECIAL_CHARS),
                    max_size=max_size).map("".join)


json_scalars = (st.none() | st.booleans() | st.integers() | st.floats()
                | st.sampled_from(HUGE_NUMBERS) | hostile_text())
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text(8), inner,
                                                                 max_size=3),
    max_leaves=8)
# What Python's json writes as valid JSON (it writes inf and nan as Infinity and NaN).
finite_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([n for n in HUGE_NUMBERS if n == n and abs(n) != float("inf")])
    | hostile_text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text(8), inner,
                                                                 max_size=3),
    max_leaves=8)


def encodings(value: Any) -> st.SearchStrategy[bytes]:
    """``value`` as the JSON bytes a producer could send: ASCII escapes (lone surrogates
    stay valid JSON), raw UTF-8 (a surrogate is then not UTF-8), or with a BOM."""
    ascii_json = json.dumps(value).encode()
    raw_json = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return st.sampled_from([ascii_json, raw_json, b"\xef\xbb\xbf" + ascii_json])


VALID_FOLLOWERS = [0, 40, 9_999, 10_000, 250_000, 10**10]


@st.composite
def hostile_mentions(draw: st.DrawFn, valid: bool = False) -> dict[str, Any]:
    """A mention object whose strings are hostile. ``valid``: every field has the right
    type and range, so the decoder accepts it (repairing what it must); otherwise now
    and then any field holds any JSON value, and numbers may be huge."""
    odd = not valid and draw(st.integers(0, 9)) == 0

    def value(good: st.SearchStrategy[Any]) -> Any:
        return draw(json_values) if odd and draw(st.booleans()) else draw(good)

    data: dict[str, Any] = {
        "id": value(hostile_text().map(lambda t: "id" + t)),
        "ts": value(st.floats(START - 86_400, NOW) if valid else
                    st.floats(START - 86_400, NOW) | st.sampled_from(HUGE_NUMBERS)),
        "platform": value(hostile_text(8)),
        "author": value(hostile_text()),
        "text": value(hostile_text(60)),
    }
    followers = VALID_FOLLOWERS if valid else [*VALID_FOLLOWERS, *HUGE_NUMBERS, -1, True]
    for name, good in [("author_followers", st.sampled_from(followers)),
                       ("lang", hostile_text(4)), ("reshare_of", hostile_text(8)),
                       ("reply_to", hostile_text(8)), ("url", hostile_text())]:
        if draw(st.booleans()):
            data[name] = value(good)
    data.update(draw(st.dictionaries(hostile_text(8).filter(lambda k: k not in data),
                                     finite_json_values if valid else json_values,
                                     max_size=2)))
    return data


kafka_values = (st.none() | st.just(b"") | st.binary(max_size=200)
                | json_values.flatmap(encodings) | hostile_mentions().flatmap(encodings))


# ------------------------------------------------------------------ the whole pipeline

WARM_MINUTES = 150  # past DETECTOR's quiet start, so a storm can open an incident
DETECTOR = replace(DetectorParams(), negative_threshold=NegativityScorer.default().threshold)


@cache
def watchlist() -> Watchlist:
    return parse_watchlist((REPO / "deploy" / "examples" / "watchlist.yaml").read_text())


@cache
def _scorer() -> NegativityScorer:
    return NegativityScorer.default()


def new_intake() -> Intake:
    """As the worker builds it: each post read in its declared (here hostile) language."""
    return Intake(watchlist(), None, Pseudonymiser(b"test-key"),
                  assess_many=_scorer().assess_many)


@cache
def engine() -> Engine:
    return Engine.for_watchlist(watchlist(), params=DETECTOR)  # as the worker builds it


@cache
def warm_states() -> tuple[tuple[str, EntityEngineState], ...]:
    """Every entity's state after a quiet warm-up: two mentions a minute each."""
    intake, states = new_intake(), {}
    for minute in range(WARM_MINUTES):
        raws = [json.dumps({"id": f"w{minute}-{e.id}-{i}", "ts": START + 60 * minute + 20 * i,
                            "platform": "news", "author": f"@calm{minute % 40}-{i}",
                            "text": f"a note about {e.name} today"}).encode()
                for e in watchlist().entities for i in range(2)]
        for item in intake.accept_many(raws, now=NOW).items:
            states[item.entity_id], _ = engine().step(states.get(item.entity_id), item)
    return tuple(states.items())


@dataclass
class FullPath:
    """What a storm of hostile mentions became, stage by stage."""

    intake: IntakeResult = field(default_factory=IntakeResult)
    events: list[AlertEvent] = field(default_factory=list)
    delivered: int = 0


def storm(mentions: Iterable[dict[str, Any]], minutes: int = 8, per_minute: int = 40
          ) -> list[bytes]:
    """``mentions`` (cycled) as a storm on Acme Stores after the warm-up: each keeps its
    odd fields, but gets a storm-time ``ts``, a distinct author suffix, a word of its own
    and words that name the entity, so it is tagged, scored and kept as evidence."""
    base = list(mentions)
    start = START + 60 * WARM_MINUTES
    out = []
    for n in range(minutes * per_minute):
        data = dict(base[n % len(base)])
        data["ts"] = start + n * 60 / per_minute
        if isinstance(data.get("author"), str):
            data["author"] = f"{data['author']}{n}"
        if isinstance(data.get("text"), str):
            # A word of its own: many people, not one text pasted (copy-paste is a burst).
            word = "".join(chr(97 + n // 26 ** k % 26) for k in range(3))
            data["text"] = f"boycott acme stores, a disgrace {word} {data['text']}"
        out.append(json.dumps(data).encode())
    return out


def full_path(raws: list[bytes | None], store: Any, spill: Path) -> FullPath:
    """Intake, engine and delivery (through ``store``) over ``raws`` after the warm-up;
    the minute after the last mention is closed with a tick, as replay does at the end."""
    out = FullPath()
    intake, states = new_intake(), dict(warm_states())
    delivery = DurableDelivery(store, spill_path=spill)
    result = intake.accept_many(raws, now=NOW)
    out.intake = result
    items = list(result.items)
    last = max((i.ts for i in items if isinstance(i, Observation)), default=START)
    end = last - last % 60 + 120
    items += [Tick(e.id, end) for e in watchlist().entities]
    for item in items:
        states[item.entity_id], stepped = engine().step(states.get(item.entity_id), item)
        events = stepped.events
        out.events += events
        if events or stepped.points:
            out.delivered += delivery.deliver(events, stepped.points)
    out.delivered += delivery.flush(force=True)
    return out
