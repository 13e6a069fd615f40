"""Log lines for people (``key=value`` text) or for collectors (one JSON object a line).

Firestorm logs ``key=value`` context in its messages (``entity=acme offset=12``).
The JSON format keeps the message and lifts those pairs into fields, so Loki or
Elasticsearch can filter on ``entity`` without parsing text.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

__all__ = ["JsonFormatter", "configure", "logging_config"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_PAIR = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*)=([^\s,;]+)")
_RESERVED = frozenset({"ts", "level", "logger", "message", "exception"})


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, message, the message's key=value pairs.

    >>> record = logging.LogRecord("firestorm.worker", logging.INFO, "", 0,
    ...                            "alert entity=%s severity=%s", ("acme", "watch"), None)
    >>> record.created, record.msecs = 0.0, 0.0
    >>> print(JsonFormatter().format(record))
    {"ts": "1970-01-01T00:00:00.000Z", "level": "info", "logger": "firestorm.worker", \
"message": "alert entity=acme severity=watch", "entity": "acme", "severity": "watch"}
    """

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        out: dict[str, Any] = {"ts": f"{stamp}.{int(record.msecs):03d}Z",
                               "level": record.levelname.lower(), "logger": record.name,
                               "message": message}
        for key, value in _PAIR.findall(message):
            if key not in _RESERVED:
                out.setdefault(key, value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def logging_config(level: str, fmt: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for stderr: also handed to Faust's worker, which
    would otherwise install its own text handler."""
    formatter: dict[str, Any] = ({"()": f"{__name__}.JsonFormatter"} if fmt == "json"
                                 else {"format": TEXT_FORMAT})
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"firestorm": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": sys.stderr,
                                "formatter": "firestorm"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }


def configure(level: str, fmt: str) -> None:
    import logging.config

    logging.config.dictConfig(logging_config(level, fmt))
