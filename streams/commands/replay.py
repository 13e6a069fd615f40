"""``firestorm replay``: the stream's detection over a file, alerts to a file.

Same intake and engine as the worker, so a replay of a stream gives the alerts
the live run gave: used for backtesting, tuning and reconstructing incidents.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any, TextIO

from alerting.engine import Engine, EntityEngineState
from alerting.event import AlertEvent
from alerting.story import Stories, StoryRules
from models.intake import Intake, IntakeResult
from models.mention import event_time
from models.observation import Observation, Tick
from streams.components import (
    build_engine,
    build_intake,
    load_params,
    load_scorer,
    load_watchlist,
)
from streams.failstop import culprits, describe
from streams.lines import open_lines, open_output
from streams.progress import Progress
from streams.render import safe
from streams.settings import Settings

__all__ = ["add_parser", "parse_start", "replay", "write_states"]

BATCH = 4096


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay", help="run detection over a file of mentions (no Kafka or Redis)",
        description="Replay a JSONL file of mentions (event-time order) through the same"
                    " detection as the worker and write one alert event a line."
                    " Malformed lines are counted and reported, never fatal; so is a line"
                    " that crashes the pipeline (the worker dead-letters it the same way).")
    p.add_argument("--watchlist", "-w",
                   help="watchlist YAML (default: FIRESTORM_WATCHLIST, else watchlist.yaml"
                        " here or in the config dir)")
    p.add_argument("--input", "-i", required=True, metavar="FILE",
                   help="mentions: .jsonl, .jsonl.gz, or - for stdin")
    p.add_argument("--alerts", "-o", required=True, metavar="FILE",
                   help="where to write alert events (JSONL), or - for stdout")
    p.add_argument("--negativity-model", metavar="PATH", default="",
                   help="negativity model artefact (default: the shipped model)")
    p.add_argument("--params", metavar="YAML", default="",
                   help="detector parameters file (default: FIRESTORM_DETECTOR_PARAMS, else"
                        " the documented defaults; example deploy/examples/detector.yaml)")
    p.add_argument("--dead", metavar="FILE", help="also write rejected lines with reasons here")
    p.add_argument("--state-out", metavar="FILE",
                   help="write what detection learned of each entity here (JSON) at the end,"
                        " for `firestorm backfill --state FILE` to seed a live worker")
    p.add_argument("--start", metavar="TIME", type=parse_start,
                   help="event time the watch began (ISO 8601 with an offset, or epoch"
                        " seconds): every watched entity is watched from then, so one"
                        " first mentioned days later has learned those quiet days"
                        " (default: the watchlist's since or watch_since, else each from"
                        " its first mention, as the worker does)")
    p.add_argument("--no-flush", action="store_true",
                   help="leave the last open minute unjudged, as a live stream still running"
                        " would (default: judge it at end of input)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    watchlist = load_watchlist(settings.watchlist_path(args.watchlist))
    scorer = load_scorer(settings, args.negativity_model)
    intake = build_intake(settings, watchlist, scorer=scorer)
    engine = build_engine(watchlist, load_params(settings, args.params, scorer),
                          settings.test_poison)
    stories = StoryRules.from_watchlist(watchlist, settings.story_window)
    states: dict[str, EntityEngineState] = {}
    started = time.monotonic()
    with open_lines(args.input) as lines, open_output(args.alerts, "alerts") as out, \
            open_output(args.dead, "dead letters") as dead:
        stats = replay(lines, intake, engine, out, dead, flush=not args.no_flush,
                       states=states, stories=stories, start=args.start)
    if args.state_out:
        write_states(args.state_out, states)
    elapsed = time.monotonic() - started
    repaired = f" ({stats['repaired']:,} repaired)" if stats["repaired"] else ""
    print(f"replayed {stats['lines']:,} lines in {elapsed:.1f}s"
          f" ({stats['lines'] / max(elapsed, 1e-9):,.0f}/s): {stats['accepted']:,} accepted"
          f"{repaired}, {stats['rejected']:,} rejected, {stats['events']:,} alert events",
          file=sys.stderr)
    for reason, count in sorted(stats["reasons"].items(), key=lambda kv: -kv[1])[:5]:
        print(f"  rejected x{count}: {safe(reason, 120)}", file=sys.stderr)
    return 0


def replay(lines: Iterator[bytes], intake: Intake, engine: Engine, out: TextIO | None,
           dead: TextIO | None = None, flush: bool = True,
           states: dict[str, EntityEngineState] | None = None,
           stories: StoryRules | None = None, start: float | None = None) -> dict[str, Any]:
    """Drive ``intake`` and ``engine`` over raw lines; write events to ``out``.

    ``start`` is the event time the watch began (``--start``): every watched entity
    is watched from its minute, mentioned or not. Without it each is watched as the
    worker watches it: from the watchlist's ``since`` (or ``watch_since``) when that
    came before its first mention, else from its first mention.

    ``states`` (entity id -> engine state) is updated in place: pass a dict to keep
    the states at the end. With ``stories``, each event is grouped into its story
    as a store would group it (:mod:`alerting.story`), in the order the events are
    written.
    """
    states = {} if states is None else states
    stats = {"lines": 0, "accepted": 0, "rejected": 0, "repaired": 0, "events": 0,
             "late": 0, "reasons": {}}
    progress = Progress("replaying")
    last_ts: float | None = None
    book = Stories(stories) if stories is not None else None

    def emit(events: list[AlertEvent]) -> None:
        stats["events"] += len(events)
        if out is None:
            return
        for event in events:
            if book is not None:
                event = book.tell(event)
            out.write(event.stamped(time.time()).to_json() + "\n")

    def reject(reason: str, line: str) -> None:
        stats["reasons"][reason] = stats["reasons"].get(reason, 0) + 1
        if dead is not None:
            dead.write(json.dumps({"reason": reason, "line": line}) + "\n")

    if start is not None:
        for entity in engine.watchlist.entities:  # from start's minute (Detector.watch)
            states[entity.id] = engine.watch(states.get(entity.id), start)
    while batch := list(islice(lines, BATCH)):
        result, todo, crashed = _accept(intake, batch, now=time.time())
        stats["lines"] += len(batch)
        stats["accepted"] += result.accepted
        stats["rejected"] += len(result.rejected) + len(crashed)
        stats["repaired"] += len(result.repaired)
        for index, reason in crashed:
            reject(reason, batch[index].decode("utf-8", "replace"))
        for index, rejection in result.rejected:
            reject(rejection.reason, batch[todo[index]].decode("utf-8", "replace"))
        for item in result.items:
            try:
                states[item.entity_id], stepped = engine.step(states.get(item.entity_id), item)
            except Exception as exc:  # the worker dead-letters such an item, state as is
                stats["rejected"] += 1
                reject(f"crashed replay in detect: {describe(exc)}", json.dumps(item.to_dict()))
                continue
            emit(stepped.events)
            stats["late"] += stepped.late
            if isinstance(item, Observation):
                last_ts = item.ts if last_ts is None else max(last_ts, item.ts)
        progress.advance(len(batch))
    if flush and last_ts is not None:
        # End of input: judge the open minute as if event time had moved on.
        end = last_ts - last_ts % intake.tick_seconds + intake.tick_seconds
        for entity in engine.watchlist.entities:
            states[entity.id], stepped = engine.step(states.get(entity.id), Tick(entity.id, end))
            emit(stepped.events)
    progress.close()
    return stats



def parse_start(text: str) -> float:
    """``--start``: ISO 8601 with a UTC offset, or epoch seconds (argparse's type)."""
    try:
        value: Any = float(text)
    except ValueError:
        value = text
    parsed = event_time(value)
    if isinstance(parsed, str):
        raise argparse.ArgumentTypeError(
            f"{parsed}; give ISO 8601 with an offset (2026-03-01T00:00Z) or epoch seconds")
    return parsed


def write_states(path: str, states: dict[str, EntityEngineState]) -> None:
    """What detection learned of each entity, as one JSON document (``firestorm backfill
    --state``). Only the learned part (baselines, tails) is kept: a seed never carries
    incidents, recent posts or open windows."""
    doc = {"firestorm_states": 1, "entities": {
        entity_id: state.detector.learned().to_dict() for entity_id, state in states.items()}}
    with open_output(path, "states") as out:
        assert out is not None
        out.write(json.dumps(doc) + "\n")


def _accept(intake: Intake, batch: Sequence[bytes], now: float
            ) -> tuple[IntakeResult, list[int], list[tuple[int, str]]]:
    """Intake over ``batch``. A line that crashes the pure code on its own is set aside
    with the exception as its reason, as the worker dead-letters it (after retries that
    a replay, being deterministic, can skip). Returns the result, the batch index of each
    line intake was given, and the lines set aside."""
    try:
        return intake.accept_many(batch, now=now), list(range(len(batch))), []
    except Exception as exc:
        bad = set(culprits(lambda one: copy.copy(intake).accept_many(one, now=now), batch))
        if not bad:
            raise  # fails only as a whole batch: a bug to see, not a line to drop
        reason = f"crashed replay in intake: {describe(exc)}"
        todo = [i for i in range(len(batch)) if i not in bad]
        result = intake.accept_many([batch[i] for i in todo], now=now)
        return result, todo, [(i, reason) for i in sorted(bad)]

