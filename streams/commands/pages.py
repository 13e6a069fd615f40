"""``firestorm pages``: serve the incident timeline pages for comms leads."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from typing import TYPE_CHECKING

from streams.errors import FirestormError, UsageError
from streams.settings import Settings

if TYPE_CHECKING:
    from alerting.ack import AckAnswer
    from streams.pages.actions import Actions

__all__ = ["add_parser", "run"]

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pages", help="serve the incident timeline pages (list, incident, live, exports)",
        description="Serve incident timeline pages from Redis: an incident list with filters,"
                    " one page per incident (chart, evidence, history, JSON/CSV export) and a"
                    " live page. Requires FIRESTORM_PAGES_TOKEN; binds FIRESTORM_PAGES_HOST"
                    " (127.0.0.1) and FIRESTORM_PAGES_PORT (8088) unless given here.")
    p.add_argument("--host", metavar="H", help="address to bind (default FIRESTORM_PAGES_HOST)")
    p.add_argument("--port", type=int, metavar="P",
                   help="port to listen on (default FIRESTORM_PAGES_PORT)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aiohttp import web

    from alerting.store import open_store
    from streams.pages import build_pages_app
    from streams.pages.feed import open_feed

    settings: Settings = args.settings
    host = args.host or settings.pages_host
    port = settings.pages_port if args.port is None else args.port
    if not 0 < port < 65536:
        raise UsageError(f"--port {port}: must be 1-65535")
    settings.configure_logging()
    tls = {"ssl_ca_certs": settings.redis_ca} if settings.redis_ca else {}
    store = open_store(settings.redis_url, stream_maxlen=settings.redis_stream_maxlen,
                       retention_seconds=int(settings.retention_days * 86_400), **tls)
    names, links = _watchlist(settings)
    app = build_pages_app(store, settings.pages_token, feed=open_feed(settings.redis_url, **tls),
                          entities=names, actions=_actions(settings, store, links, tls),
                          silent_after=settings.silent_after)
    store.ping()  # wrong password or no Redis: say so now, not on the first page view
    if not _loopback(host):
        log.warning("pages bound to %s, not loopback: put them behind TLS (a reverse proxy)"
                    " and keep the token secret", host)
    try:
        web.run_app(app, host=host, port=port, access_log=None, handle_signals=True,
                    print=lambda _: print(f"firestorm pages on http://{host}:{port}/"
                                          " (Ctrl-C stops)", file=sys.stderr, flush=True))
    except OSError as exc:
        raise FirestormError(f"cannot listen on {host}:{port}: {exc.strerror or exc};"
                             " is another process using the port? try --port") from None
    finally:
        store.close()
    return 0


def _watchlist(settings: Settings) -> tuple[dict[str, tuple[str, str]],
                                            dict[str, tuple[str, ...]]]:
    """Watchlist names for linked entities, and each entity's story (its links).

    The pages work without (ids are shown; a story silence covers the entity alone).
    """
    from streams.components import load_watchlist

    try:
        watchlist = load_watchlist(settings.watchlist_path())
    except (OSError, ValueError) as exc:  # ConfigError and WatchlistError are ValueErrors
        log.warning("pages show entity ids only: watchlist unreadable (%s)", exc)
        return {}, {}
    return ({e.id: (e.name, e.kind) for e in watchlist.entities},
            {e.id: watchlist.linked_to(e.id) for e in watchlist.entities})


def _actions(settings: Settings, store: object, links: dict[str, tuple[str, ...]],
             tls: dict[str, str]) -> Actions:
    """Acknowledge (through Kafka and the worker, like the CLI), silence, feedback."""
    from alerting.action_store import open_action_store
    from streams.acks import acknowledge
    from streams.pages.actions import Actions

    def send_ack(incident_id: str, by: str, via: str, origin: str) -> AckAnswer | None:
        return acknowledge(settings, incident_id, by, via=via, origin=origin,
                           actions=actions).answer

    actions = open_action_store(settings.redis_url,
                                retention_seconds=int(settings.retention_days * 86_400), **tls)
    if not settings.link_key:
        log.warning("signed /ack/ links are off: set FIRESTORM_LINK_KEY (the same as for"
                    " firestorm notify) to accept them")
    return Actions(actions, store, send_ack,  # type: ignore[arg-type]
                   link_key=settings.link_key.encode(), links=links)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
