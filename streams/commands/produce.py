"""``firestorm produce``: feed a JSONL file of mentions to the mentions topic.

Lines are sent exactly as they are, malformed ones included: validation is the
worker's job, so that every bad message reaches the dead-letter topic with its
reason instead of being silently dropped here.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from models.mention import MAX_FUTURE_SECONDS, parse_ts
from streams.errors import UsageError
from streams.kafka_client import kafka_python_options, unreachable
from streams.lines import open_lines
from streams.progress import Progress
from streams.settings import Settings
from streams.topics import require_topic

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "produce", help="send a JSONL file of mentions to Kafka",
        description="Send each line of a JSONL file (or .gz, or - for stdin) as one message"
                    " to the mentions topic. Lines are not validated here: malformed ones"
                    " reach the dead-letter topic through the worker.")
    p.add_argument("--input", "-i", required=True, metavar="FILE",
                   help="mentions file: .jsonl, .jsonl.gz, or - for stdin")
    p.add_argument("--topic", help="topic to send to (default: FIRESTORM_TOPIC_MENTIONS)")
    p.add_argument("--retime", action="store_true",
                   help="shift every valid timestamp so that the newest one is now (for demos"
                        " and drills; reads the whole file first, not stdin)")
    p.add_argument("--key", metavar="KEY",
                   help="send every message with this key, so all land on one partition in"
                        " order (default: no key, spread over the partitions)")
    p.add_argument("--rate", type=float, default=0.0, metavar="N",
                   help="send at most N messages a second (default: as fast as possible)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    if args.rate < 0:
        raise UsageError("--rate must be >= 0")
    topic = args.topic or settings.topic_mentions
    # A send must never create the topic: no worker would read what went there.
    require_topic(settings, topic, "mentions")
    try:
        producer = KafkaProducer(**kafka_python_options(settings), acks="all", linger_ms=5,
                                 retries=5)
    except KafkaError as exc:
        raise unreachable(settings, exc) from None
    shift = _retime_shift(args.input) if args.retime else None
    key = args.key.encode("utf-8") if args.key else None
    progress = Progress(f"producing to {topic}")
    failures: list[Exception] = []
    started = time.monotonic()
    try:
        with open_lines(args.input) as lines:
            for line in lines:
                future = producer.send(topic, value=_shifted(line, shift) if shift else line,
                                       key=key)
                future.add_errback(failures.append)
                progress.advance()
                if args.rate:
                    delay = started + progress.count / args.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
        producer.flush(timeout=60)
    finally:
        producer.close(timeout=10)
        progress.close()
    if failures:
        print(f"firestorm produce: {len(failures)} of {progress.count} messages failed:"
              f" {failures[0]}", file=sys.stderr)
        return 1
    print(f"sent {progress.count} messages to {topic} at {settings.kafka_bootstrap}",
          file=sys.stderr)
    return 0


def _retime_shift(path: str) -> float:
    """Seconds to add so the newest plausible timestamp in the file becomes now."""
    if path == "-":
        raise UsageError("--retime needs a file, not stdin")
    now = time.time()
    newest = None
    with open_lines(path) as lines:
        for line in lines:
            ts = _ts(line)
            if ts is not None and ts <= now + MAX_FUTURE_SECONDS:
                newest = ts if newest is None else max(newest, ts)
    return 0.0 if newest is None else now - newest


def _shifted(line: bytes, shift: float) -> bytes:
    """The line with its ``ts`` moved by ``shift`` seconds; anything invalid stays as it is."""
    ts = _ts(line)
    if ts is None or ts > time.time() + MAX_FUTURE_SECONDS:
        return line
    data = json.loads(line)
    data["ts"] = round(ts + shift, 3)
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _ts(line: bytes) -> float | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    ts = parse_ts(data.get("ts")) if isinstance(data, dict) else None
    return ts if isinstance(ts, float) else None
