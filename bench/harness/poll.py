"""Waiting on a running system from a benchmark: poll until true, read a worker's /health.

Benchmarks stop with a message (not a traceback) when what they wait for never comes.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def until(check: Callable[[], T], timeout: float, what: str, every: float = 0.1) -> T:
    """``check()``'s first truthy result; exit naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


def read_health(port: int, timeout: float = 1.0) -> dict | None:
    """A worker's /health document (also when it says 503); None while it is down."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=timeout) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())
    except (OSError, ValueError):
        return None
