"""A progress line on a terminal, silence elsewhere (CI logs, pipes)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Counts work and redraws one stderr line at most 5 times a second."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None,
                 enabled: bool | None = None) -> None:
        self._label = label
        self._total = total
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._start = time.monotonic()
        self._drawn = 0.0
        self.count = 0

    def advance(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if self._enabled and now - self._drawn >= 0.2:
            self._drawn = now
            self._draw(now)

    def close(self) -> None:
        if self._enabled:
            self._draw(time.monotonic())
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self, now: float) -> None:
        elapsed = max(now - self._start, 1e-9)
        rate = self.count / elapsed
        if self._total:
            share = min(self.count / self._total, 1.0)
            bar = "#" * int(share * 30)
            text = f"{self._label} [{bar:<30}] {self.count:,}/{self._total:,} {rate:,.0f}/s"
        else:
            text = f"{self._label} {self.count:,} {rate:,.0f}/s"
        self._stream.write("\r" + text)
        self._stream.flush()
