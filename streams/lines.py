"""JSONL files named on the command line: lines in (a path, a ``.gz`` path, or ``-``)
and lines out (a path or ``-``).

What a user can get wrong with a file ends in a message that names the file and
the fix, never a traceback: a missing or unwritable file, a gzip file without
``.gz`` (or a ``.gz`` that is not gzip), a truncated or corrupt gzip, a UTF-16
file. A UTF-8 byte-order mark (Excel writes one) is skipped with a note, so the
first mention is not rejected for it.
"""

from __future__ import annotations

import gzip
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

from streams.errors import ConfigError

__all__ = ["open_lines", "open_output"]

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@contextmanager
def open_lines(path: str, keep_blank: bool = False) -> Iterator[Iterator[bytes]]:
    """Yield an iterator of raw lines (newline stripped; blank lines skipped unless
    ``keep_blank``). Problems with the file raise ConfigError naming it and the fix."""
    if path == "-":
        stdin = sys.stdin.buffer
        head = stdin.peek(2)[:2] if hasattr(stdin, "peek") else b""
        if head == GZIP_MAGIC:
            raise ConfigError("standard input is gzip-compressed: pipe it through"
                              " `gunzip -c`, or pass the .gz file with --input")
        yield _lines(stdin, "standard input", keep_blank)
        return
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"input {path!r} does not exist or is not a file")
    try:
        with file.open("rb") as probe:
            head = probe.read(2)
    except OSError as exc:
        raise ConfigError(f"cannot read input {path!r}: {exc.strerror}") from None
    gz = file.suffix == ".gz"
    if head == GZIP_MAGIC and not gz:
        raise ConfigError(f"input {path!r} is gzip-compressed but its name does not end in"
                          f" .gz: rename it to {file.name}.gz (or gunzip it)")
    if gz and head != GZIP_MAGIC and head:
        raise ConfigError(f"input {path!r} ends in .gz but is not gzip-compressed: rename it"
                          " without .gz")
    opener = gzip.open if gz else open
    with opener(file, "rb") as handle:
        yield _lines(handle, path, keep_blank)


def _lines(handle: BinaryIO, name: str, keep_blank: bool) -> Iterator[bytes]:
    number = 0
    try:
        for line in handle:
            number += 1
            if number == 1:
                line = _first(line, name)
            line = line.rstrip(b"\r\n")
            if keep_blank or line.strip():
                yield line
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        problem = ("is truncated (the gzip stream ends early)" if isinstance(exc, EOFError)
                   else f"is corrupt ({exc})")
        raise ConfigError(
            f"input {name!r} {problem} after line {number:,}: the lines before were"
            " processed; copy or download the file again (`gzip -t FILE` checks it)") from None


def _first(line: bytes, name: str) -> bytes:
    if line.startswith(UTF16_BOMS):
        raise ConfigError(f"input {name!r} is UTF-16 text: convert it to UTF-8, e.g."
                          " `iconv -f UTF-16 -t UTF-8 IN > OUT`")
    if line.startswith(UTF8_BOM):
        print(f"note: input {name!r} starts with a UTF-8 byte-order mark; skipped it (save"
              " the file as UTF-8 without BOM to silence this)", file=sys.stderr)
        return line[len(UTF8_BOM):]
    return line


@contextmanager
def open_output(path: str | None, what: str = "output") -> Iterator[TextIO | None]:
    """A text file to write (``-`` is stdout, None is nowhere); an unwritable path
    raises ConfigError before any work is done."""
    if path is None:
        yield None
        return
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        handle = Path(path).open("w", encoding="utf-8")  # noqa: SIM115 (closed below)
    except OSError as exc:
        parent = Path(path).parent
        fix = (f"create {str(parent)!r} first" if not parent.exists()
               else "choose a writable path" if not isinstance(exc, IsADirectoryError)
               else "name a file, not a directory")
        raise ConfigError(f"cannot write {what} {path!r}: {exc.strerror}: {fix}, or pass -"
                          " for standard output") from None
    with handle:
        yield handle
