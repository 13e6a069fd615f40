"""What the worker's state changelog would hold, by record kind and batch size, offline.

The worker's own writes without Kafka: the first ``--lines`` lines of the bench stream
(bench/bench_replay.py's 6-seed merged stream) go through the worker's intake and
engine in batches of N lines, and after each batch every touched entity's state is
written with ``streams.statestore.write`` into a dict that counts bytes (a key and
its value; a tombstone counts its key), as the detect agent writes its table. The
batch stands for pace: a batch of 5 lines is about 5 seconds of this stream's event
time (a worker keeping up with a live stream), 500 lines about 9 minutes (a worker
catching up). ``bench/bench_worker_changelog.py`` measures the real worker, whose
batches depend on how fast it runs.

    python bench/model_changelog.py [--lines 20000] [--batches 5 100 500]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from alerting.engine import EntityEngineState  # noqa: E402
from alerting.stored import NOTHING, SEP, Written  # noqa: E402
from bench.bench_replay import dense_stream  # noqa: E402
from streams import statestore  # noqa: E402
from streams.components import (  # noqa: E402
    build_engine,
    build_intake,
    load_params,
    load_scorer,
    load_watchlist,
)
from streams.progress import Progress  # noqa: E402
from streams.settings import Settings  # noqa: E402

# Record kinds by the first letter of a part's suffix (docs/operations.md).
KINDS = {"": "head", "k": "core", "m": "minute buckets", "t": "sample texts",
         "p": "waiting observations", "r": "timeline points", "s": "profile slots",
         "c": "coarse buckets", "e": "incident evidence"}


class Changelog(dict):
    """A table that counts, by record kind, the bytes and records written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.bytes: Counter[str] = Counter()
        self.records: Counter[str] = Counter()

    def __setitem__(self, key: bytes, value: bytes) -> None:
        kind = KINDS.get(key.partition(SEP.encode())[2][:1].decode(), "other")
        self.bytes[kind] += len(key) + len(value)
        self.records[kind] += 1
        super().__setitem__(key, value)

    def __delitem__(self, key: bytes) -> None:
        self.bytes["tombstones"] += len(key)
        self.records["tombstones"] += 1
        super().__delitem__(key)


def model(lines: list[bytes], batch: int, watchlist: Path) -> Changelog:
    env = dict(os.environ)
    env.setdefault("FIRESTORM_PSEUDONYM_KEY", "model-changelog")  # pseudonyms' length only
    settings = Settings.from_env(env)
    scorer = load_scorer(settings, "")
    wl = load_watchlist(str(watchlist))
    intake = build_intake(settings, wl, scorer=scorer)
    engine = build_engine(wl, load_params(settings, "", scorer), settings.test_poison)
    states: dict[str, EntityEngineState] = {}
    written: dict[str, Written] = {}
    table = Changelog()
    progress = Progress(f"batches of {batch}", total=len(lines))
    for at in range(0, len(lines), batch):
        chunk = lines[at:at + batch]
        result = intake.accept_many(chunk, now=time.time(), partitions=[0] * len(chunk), of=1)
        touched: dict[str, EntityEngineState] = {}
        for item in result.items:
            states[item.entity_id], _ = engine.step(states.get(item.entity_id), item)
            touched[item.entity_id] = states[item.entity_id]
        for entity_id, state in touched.items():
            written[entity_id] = statestore.write(table, entity_id,
                                                  written.get(entity_id, NOTHING), state)
        progress.advance(len(chunk))
    progress.close()
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000,
                        help="lines of the bench stream (default 20,000, about 6 hours)")
    parser.add_argument("--batches", type=int, nargs="+", default=[5, 100, 500],
                        metavar="N", help="batch sizes in lines (default 5 100 500)")
    args = parser.parse_args()
    if args.lines < 1 or min(args.batches) < 1:
        parser.error("--lines and every --batches value must be at least 1")
    mentions, watchlist = dense_stream(6, 4, 1)
    lines = mentions.read_bytes().splitlines()[:args.lines]
    size = sum(len(line) for line in lines)
    tables = {n: model(lines, n, watchlist) for n in args.batches}
    kinds = sorted({k for t in tables.values() for k in t.bytes},
                   key=lambda k: -max(t.bytes[k] for t in tables.values()))
    print(f"{len(lines):,} lines, {size:,} bytes of input; changelog bytes / input bytes")
    print(f"{'record':22s}" + "".join(f"{'batch ' + str(n):>12s}" for n in args.batches))
    for kind in kinds:
        print(f"{kind:22s}" + "".join(f"{t.bytes[kind] / size:12.3f}" for t in tables.values()))
    print(f"{'total':22s}" + "".join(f"{sum(t.bytes.values()) / size:12.3f}"
                                      for t in tables.values()))
    print(f"{'records per mention':22s}" + "".join(
        f"{sum(t.records.values()) / len(lines):12.2f}" for t in tables.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
