"""Open a JSONL input given on the command line: a path, a ``.gz`` path, or ``-``."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from streams.errors import ConfigError

__all__ = ["open_lines"]


@contextmanager
def open_lines(path: str) -> Iterator[Iterator[bytes]]:
    """Yield an iterator of raw lines (newline stripped, blank lines skipped)."""
    if path == "-":
        yield _lines(sys.stdin.buffer)
        return
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"input {path!r} does not exist or is not a file")
    opener = gzip.open if file.suffix == ".gz" else open
    with opener(file, "rb") as handle:
        yield _lines(handle)


def _lines(handle: BinaryIO) -> Iterator[bytes]:
    for line in handle:
        line = line.rstrip(b"\r\n")
        if line.strip():
            yield line
