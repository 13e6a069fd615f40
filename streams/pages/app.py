"""The incident pages' web application: routes, access control, security headers.

Routes (all but ``/login`` and ``/static/`` need the token)::

    GET  /                          incident list; filters entity, severity, state, from, to
    GET  /incidents/{id}            incident page: chart, evidence, history, export links
    GET  /incidents/{id}.json       export: record, points, events
    GET  /incidents/{id}.csv        export: per-minute points (?table=events: the events)
    GET  /live                      live page (static/live.js listens to /live/events)
    GET  /live/events               server-sent events: alerts from Redis pub/sub, and the
                                    liveness banner every few seconds
    GET  /live/open                 the open incidents (JSON): the live page's table
    GET  /login, POST /login        token form; sets an HttpOnly SameSite=Strict cookie
    POST /logout                    clears the cookie
    GET  /static/...                stylesheet and the live page's script
    GET  /health, /ready, /metrics  liveness, readiness (Redis answers), Prometheus metrics
    ...                             officer actions: streams/pages/actions.py (acknowledge,
                                    silence, feedback, /report, signed /ack/ links)

Access: the cookie set by ``/login`` or ``Authorization: Bearer <token>``;
signed links (``/ack/<token>``, ``/feedback/<token>``) are their own credential;
``/login``, ``/static/`` and the probes need neither (they show no incident).
Without either a browser page is redirected to ``/login``; anything else
(exports, the event stream, scripts) gets 401. Tokens are compared with
:func:`hmac.compare_digest`. The cookie holds an HMAC of the token, not the
token, so a copied cookie is not the token and changing the token logs
everyone out.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from aiohttp import web
from redis.exceptions import RedisError

from alerting.errors import FirestormAlertError
from alerting.liveness import DEFAULT_SILENT_AFTER
from alerting.store import AlertStore
from streams.errors import ConfigError
from streams.metrics import Metrics
from streams.pages import actions as officer
from streams.pages import views
from streams.pages.feed import QueueFeed, RedisFeed
from streams.pages.views import Pages
from streams.probes import PROBE_PATHS, add_probes

__all__ = ["COOKIE", "CSP", "MIN_TOKEN_LENGTH", "build_pages_app"]

log = logging.getLogger(__name__)

COOKIE = "firestorm_pages"
COOKIE_MAX_AGE = 12 * 3600  # a working day and an evening shift
MIN_TOKEN_LENGTH = 16  # the token is the only lock: it must not be guessable
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
       " object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
STATIC = Path(__file__).resolve().parent / "static"
PUBLIC = ("/login", "/static/", *PROBE_PATHS, *officer.PUBLIC_PREFIXES)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LIVENESS_EVERY = 5.0  # seconds between liveness updates on an open live page
PAGES = web.AppKey("pages", Pages)
TOKEN = web.AppKey("token", str)
STREAMS = web.AppKey("streams", set)
METRICS = web.AppKey("metrics", Metrics)


def build_pages_app(store: AlertStore, token: str, *,
                    feed: RedisFeed | QueueFeed | None = None,
                    entities: Mapping[str, tuple[str, str]] | None = None,
                    tick: float = 15.0, metrics: Metrics | None = None,
                    actions: officer.Actions | None = None,
                    silent_after: float = DEFAULT_SILENT_AFTER,
                    clock: Callable[[], float] = time.time) -> web.Application:
    """The aiohttp application over ``store``; refuses to exist without a usable token.

    ``entities`` maps watchlist ids to (name, kind) so linked entities show by
    name; ``tick`` is the keep-alive interval of the live event stream (the
    liveness banner is re-sent at least every :data:`LIVENESS_EVERY` seconds);
    ``actions`` turns on acknowledging, silencing and feedback (none: read only);
    ``silent_after`` is how long without a heartbeat makes the worker "silent".
    """
    if not token:
        raise ConfigError("the incident pages need an access token: set FIRESTORM_PAGES_TOKEN"
                          " (e.g. to the output of `python3 -c 'import secrets;"
                          " print(secrets.token_urlsafe(24))'`)")
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"FIRESTORM_PAGES_TOKEN is {len(token)} characters; use at least"
                          f" {MIN_TOKEN_LENGTH} random ones (secrets.token_urlsafe(24))")
    app = web.Application(middlewares=[_count, _errors, _access])
    app[PAGES] = Pages(store, feed or QueueFeed(), dict(entities or {}), tick, silent_after,
                       clock)
    app[METRICS] = metrics = metrics or Metrics("pages")

    async def ready() -> tuple[bool, str]:
        try:
            await asyncio.to_thread(store.ping)
        except FirestormAlertError as exc:
            return False, f"Redis: {exc}"
        return True, ""

    add_probes(app, metrics, ready)
    app[TOKEN] = token
    app[STREAMS] = set()
    app[officer.CSRF] = officer.csrf_token(token)
    if actions is not None:
        app[officer.ACTIONS] = actions
    app.on_response_prepare.append(_security_headers)
    app.on_shutdown.append(_close_streams)

    def page(fn: Callable[[web.Request, Pages], Awaitable[web.StreamResponse]]) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await fn(request, request.app[PAGES])
        return handle

    r = app.router
    r.add_get("/", page(views.incident_list))
    # Exports first: the page's pattern would also match "<id>.json".
    r.add_get("/incidents/{incident_id:[^/]+}.json", page(views.incident_export_json))
    r.add_get("/incidents/{incident_id:[^/]+}.csv", page(views.incident_export_csv))
    r.add_get("/incidents/{incident_id:[^/]+}", page(views.incident_page))
    r.add_get("/live", page(views.live_page))
    r.add_get("/live/open", page(views.live_open))
    r.add_get("/live/events", _live_events)
    r.add_get("/login", _login_form)
    r.add_post("/login", _login)
    r.add_post("/logout", _logout)
    officer.add_routes(app)
    r.add_static("/static/", STATIC, show_index=False, follow_symlinks=False)
    return app


def session_value(token: str) -> str:
    """What the login cookie holds: derived from the token, not the token itself."""
    return hmac.new(token.encode(), b"firestorm-pages-session", hashlib.sha256).hexdigest()


def authorised(request: web.Request) -> bool:
    token = request.app[TOKEN]
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return hmac.compare_digest(header[7:].strip().encode(), token.encode())
    cookie = request.cookies.get(COOKIE)
    return cookie is not None and hmac.compare_digest(cookie.encode(),
                                                      session_value(token).encode())


@web.middleware
async def _access(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(PUBLIC) or authorised(request):
        return await handler(request)
    wants_page = (request.method == "GET" and "text/html" in request.headers.get("Accept", "")
                  and not request.path.endswith((".json", ".csv", "/events")))
    if wants_page and "Authorization" not in request.headers:
        raise web.HTTPSeeOther(views.login_href(views.safe_next(request.path_qs)))
    raise web.HTTPUnauthorized(text="401: sign in at /login or send Authorization: Bearer"
                                    " <FIRESTORM_PAGES_TOKEN>\n",
                               headers={"WWW-Authenticate": 'Bearer realm="firestorm"'})


@web.middleware
async def _count(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Requests by route pattern (never the path: incident ids are not labels) and status."""
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        info = request.match_info.route.resource
        route = info.canonical if info is not None else "unmatched"
        request.app[METRICS].requests.labels(route, str(status)).inc()


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except FirestormAlertError as exc:  # Redis down or refusing: say so, do not crash
        log.warning("pages store error path=%s error=%s", request.path, exc.__class__.__name__)
        body = views.render('<h1>Incident store unavailable</h1><p class="error">{e}</p>'
                            "<p>Reload in a moment; the worker keeps its alerts until Redis"
                            " is back.</p>", e=str(exc))
        return views.html_response(views.layout("Store unavailable", body), status=503)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    h = response.headers
    h["Content-Security-Policy"] = CSP
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    if not request.path.startswith("/static/"):
        h["Cache-Control"] = "no-store"  # incident pages hold post text: keep them off disks


async def _login_form(request: web.Request) -> web.Response:
    if authorised(request):
        raise web.HTTPSeeOther(views.safe_next(request.query.get("next")))
    return views.html_response(views.login_page(views.safe_next(request.query.get("next"))))


async def _login(request: web.Request) -> web.Response:
    form = await request.post()
    given, next_path = str(form.get("token", "")), views.safe_next(str(form.get("next", "")))
    token = request.app[TOKEN]
    if not hmac.compare_digest(given.encode(), token.encode()):
        log.warning("pages login refused remote=%s", request.remote)
        await asyncio.sleep(0.5)  # slows guessing down; the token's length does the rest
        return views.html_response(views.login_page(next_path, "That token is not right."),
                                   status=401)
    response = web.HTTPSeeOther(next_path)
    response.set_cookie(COOKIE, session_value(token), max_age=COOKIE_MAX_AGE, path="/",
                        httponly=True, samesite="Strict", secure=request.secure)
    raise response


async def _logout(request: web.Request) -> web.Response:
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


async def _live_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: 'ready' once subscribed, then one 'alert' per published event."""
    pages = request.app[PAGES]
    task = asyncio.current_task()
    streams = request.app[STREAMS]
    if task is not None:
        streams.add(task)
    response: web.StreamResponse | None = None
    told = 0.0  # monotonic time the liveness banner was last sent
    try:
        async for text in pages.feed.listen(min(pages.tick, LIVENESS_EVERY)):
            if response is None:
                response = web.StreamResponse(headers={
                    "Content-Type": "text/event-stream", "Cache-Control": "no-store",
                    "X-Accel-Buffering": "no"})
                await response.prepare(request)
                await response.write(b"retry: 3000\nevent: ready\ndata: {}\n\n")
            elif text is not None and (chunk := views.sse_alert(text)) is not None:
                await response.write(chunk)
            if asyncio.get_running_loop().time() - told >= LIVENESS_EVERY:
                try:
                    await response.write(views.sse_liveness(await pages.liveness()))
                except FirestormAlertError:
                    await response.write(b": liveness unavailable\n\n")
                told = asyncio.get_running_loop().time()
            elif text is None:
                await response.write(b": keep-alive\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass  # the page was closed, or the server is stopping
    except (OSError, RedisError) as exc:  # Redis unreachable: the browser retries after 'retry'
        log.warning("live feed unavailable error=%s", exc.__class__.__name__)
        if response is None:
            raise web.HTTPServiceUnavailable(text="live feed unavailable\n") from None
    finally:
        if task is not None:
            streams.discard(task)
    return response or web.Response(status=204)


async def _close_streams(app: web.Application) -> None:
    for task in list(app[STREAMS]):
        task.cancel()
