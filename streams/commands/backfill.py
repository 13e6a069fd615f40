"""``firestorm backfill``: seed a live worker with what detection learns from a history.

A policy added to the watchlist today has no baseline: the worker would learn it
from scratch (its kind's prior, fully sensitive after a few hours). Backfill
replays a history file of the entity's past mentions (or reads the states a
``firestorm replay --state-out`` wrote), keeps only what detection learned
(baselines, dispersion, rarity tails: no incidents, no recent posts) and sends
one seed per entity on the observations topic, keyed like the entity's
mentions. The worker adopts a seed only when it has learned more than the
worker's own state of the entity, so a backfill never sets a worker back.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from typing import Any

from alerting.engine import EntityEngineState, Seed
from models.detector import EntityState
from streams.errors import ConfigError, FirestormError

__all__ = ["add_parser", "read_seeds", "send_seeds"]

_EPILOG = """\
examples:
  firestorm backfill -w watchlist.yaml --input history.jsonl
  firestorm replay -w watchlist.yaml -i history.jsonl -o /dev/null --state-out states.json
  firestorm backfill --state states.json --dry-run

exit status: 0 seeds sent (or listed), 1 a bad file, 2 Kafka unreachable or bad arguments
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backfill", help="seed a running worker's baselines from a history of mentions",
        description=__doc__.split("\n\n", 1)[1].replace("``", "'"),
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--input", "-i", metavar="FILE",
                     help="history of mentions (JSONL, .gz ok) to learn from, as replay reads")
    src.add_argument("--state", metavar="FILE",
                     help="the states written by `firestorm replay --state-out`")
    p.add_argument("--watchlist", "-w", default="",
                   help="watchlist (default FIRESTORM_WATCHLIST); only its entities are seeded")
    p.add_argument("--params", metavar="YAML", default="",
                   help="detector parameters file, as the worker reads it")
    p.add_argument("--negativity-model", default="", metavar="PATH",
                   help="negativity model artefact (default: the shipped model)")
    p.add_argument("--start", metavar="TIME", type=_start,
                   help="with --input: event time the watch began (ISO 8601 with an offset,"
                        " or epoch seconds), as `firestorm replay --start`")
    p.add_argument("--dry-run", action="store_true",
                   help="list what would be sent, send nothing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from streams.components import load_watchlist

    if args.state and args.start is not None:
        raise ConfigError("--start applies to --input (a history to learn from): the states"
                          " in --state were learned already; drop --start")
    watchlist = load_watchlist(args.settings.watchlist_path(args.watchlist))
    seeds = read_seeds(args.state) if args.state else _learn(args, watchlist)
    watched = {e.id for e in watchlist.entities}
    unknown = sorted(s.entity_id for s in seeds if s.entity_id not in watched)
    if unknown:
        print(f"not in the watchlist, not seeded: {', '.join(unknown)}", file=sys.stderr)
    seeds = [s for s in seeds if s.entity_id in watched]
    for seed in seeds:
        print(f"{seed.entity_id}: {seed.detector.baseline.n:,} buckets of history learned")
    if not seeds:
        print("nothing to seed", file=sys.stderr)
        return 0
    if args.dry_run:
        print(f"{len(seeds)} seeds (dry run: nothing sent)", file=sys.stderr)
        return 0
    send_seeds(args.settings, seeds)
    print(f"{len(seeds)} seeds sent to {args.settings.topic_observations}; each worker"
          " adopts a seed that has learned more than its own state", file=sys.stderr)
    return 0


def _learn(args: argparse.Namespace, watchlist: Any) -> list[Seed]:
    from streams.commands.replay import replay
    from streams.components import build_engine, build_intake, load_params, load_scorer
    from streams.lines import open_lines

    settings = args.settings
    scorer = load_scorer(settings, args.negativity_model)
    intake = build_intake(settings, watchlist, scorer=scorer)
    engine = build_engine(watchlist, load_params(settings, args.params, scorer))
    states: dict[str, EntityEngineState] = {}
    with open_lines(args.input) as lines:
        replay(lines, intake, engine, io.StringIO(), states=states, start=args.start)
    return [Seed(entity_id, state.detector.learned()) for entity_id, state in
            sorted(states.items())]


def _start(text: str) -> float:
    from streams.commands.replay import parse_start

    return parse_start(text)


def read_seeds(path: str) -> list[Seed]:
    """The seeds in a states file written by ``firestorm replay --state-out``."""
    try:
        with open(path, encoding="utf-8") as handle:
            doc = json.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"states file {path!r} not found: write one with `firestorm"
                          " replay ... --state-out FILE`") from None
    except ValueError as exc:
        raise ConfigError(f"states file {path!r} is not JSON ({exc}): write it with"
                          " `firestorm replay ... --state-out FILE`") from None
    if not isinstance(doc, dict) or doc.get("firestorm_states") != 1 or not isinstance(
            doc.get("entities"), dict):
        raise ConfigError(f"{path!r} is not a states file of `firestorm replay --state-out`"
                          " (expected {\"firestorm_states\": 1, \"entities\": {...}})")
    seeds = []
    for entity_id, state in sorted(doc["entities"].items()):
        try:
            seeds.append(Seed(entity_id, EntityState.from_dict(state).learned()))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ConfigError(f"{path!r}: entity {entity_id!r}: not a detector state"
                              f" ({type(exc).__name__}: {exc}); write the file again with"
                              " this version's `firestorm replay --state-out`") from None
    return seeds


def send_seeds(settings: Any, seeds: list[Seed]) -> None:
    """Send each seed on the observations topic, keyed by its entity; wait until Kafka
    has them all."""
    from kafka import KafkaProducer
    from kafka.errors import KafkaError, MessageSizeTooLargeError

    from streams.kafka_client import kafka_python_options, unreachable
    from streams.messages import encode_bytes
    from streams.topics import require_topic

    require_topic(settings, settings.topic_observations, "seeds")
    try:
        producer = KafkaProducer(**kafka_python_options(settings), acks="all",
                                 max_request_size=8 * 1024 * 1024)
        try:
            futures = [producer.send(settings.topic_observations,
                                     key=s.entity_id.encode("utf-8"), value=encode_bytes(s))
                       for s in seeds]
            for future in futures:
                future.get(timeout=60)
        finally:
            producer.close(timeout=10)
    except MessageSizeTooLargeError as exc:
        raise FirestormError(f"a seed is larger than the broker accepts: {exc}") from None
    except KafkaError as exc:
        raise unreachable(settings, exc, "send the seeds to") from None
