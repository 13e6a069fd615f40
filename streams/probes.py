"""``/health``, ``/ready`` and ``/metrics`` for ``notify`` and ``pages`` (aiohttp).

Liveness (``/health``) says the process and its event loop answer: a failing
check makes Kubernetes restart it. Readiness (``/ready``) says it can do its
job now (Redis answers): a failing check takes it out of its Service until it
can. Both answer JSON; ``/metrics`` answers Prometheus' text format. None of
them needs the pages' token: they show counts, never incident content.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from streams.errors import FirestormError
from streams.metrics import CONTENT_TYPE, Metrics

__all__ = ["PROBE_PATHS", "add_probes", "serve_probes"]

PROBE_PATHS = ("/health", "/ready", "/metrics")
Check = Callable[[], Awaitable[tuple[bool, str]]]


def add_probes(app: web.Application, metrics: Metrics, ready: Check) -> None:
    """Add the three routes to ``app``; ``ready()`` returns (ready?, why not)."""

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "component": metrics.component})

    async def readiness(_: web.Request) -> web.Response:
        ok, why = await ready()
        return web.json_response({"ready": ok, **({} if ok else {"reason": why})},
                                 status=200 if ok else 503)

    async def scrape(_: web.Request) -> web.Response:
        response = web.Response(body=metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

    app.router.add_get("/health", health)
    app.router.add_get("/ready", readiness)
    app.router.add_get("/metrics", scrape)


async def serve_probes(metrics: Metrics, ready: Check, host: str,
                       port: int) -> web.AppRunner:
    """Serve the probes on their own port (``notify``); stop with ``runner.cleanup()``."""
    app = web.Application()
    add_probes(app, metrics, ready)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise FirestormError(f"cannot listen on {host}:{port} for /health and /metrics:"
                             f" {exc.strerror or exc}; is another process using the port?"
                             " set FIRESTORM_NOTIFY_PORT") from None
    return runner
