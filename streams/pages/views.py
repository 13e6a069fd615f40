"""The pages themselves: incident list, incident page, exports, live page, login form.

Handlers read the store through :class:`Pages` (one frozen value in the app,
no module state) and build HTML only with :mod:`streams.pages.templates`, so
every post, handle, reason and name is escaped. Store calls are synchronous
Redis calls with short timeouts; they run in a thread so one slow Redis
answer never stalls an open live page.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from aiohttp import web

from alerting.chart import points_from_events, timeline_svg
from alerting.errors import AlertEventError
from alerting.event import AlertEvent, format_time
from alerting.memory_store import MemoryAlertStore
from alerting.redis_store import RedisAlertStore
from alerting.timeline import IncidentRecord, Timeline
from models.verdict import SEVERITIES, Evidence, Sample, severity_rank
from streams.pages.actions import incident_panel, silences_section
from streams.pages.export import CSV_TABLES, incident_csv, incident_json
from streams.pages.feed import QueueFeed, RedisFeed
from streams.pages.query import STATES, IncidentQuery, QueryError
from streams.pages.templates import Markup, join, layout, render, when

__all__ = ["Pages", "alert_summary", "merge_evidence"]

LIST_LIMIT = 500  # rows on one list page; narrow the filters for older incidents
TOP = 10  # posts, terms, hashtags and authors shown on an incident page
T = TypeVar("T")


@dataclass(frozen=True)
class Pages:
    """What the handlers need: where incidents are, where live alerts come from."""

    store: RedisAlertStore | MemoryAlertStore
    feed: RedisFeed | QueueFeed
    entities: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, kind)
    tick: float = 15.0  # seconds between keep-alives on a quiet live page

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    def entity_label(self, entity_id: str) -> str:
        name, kind = self.entities.get(entity_id, (entity_id, ""))
        return f"{name} ({kind})" if kind else name


def html_response(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


# ---------------------------------------------------------------- incident list

async def incident_list(request: web.Request, pages: Pages) -> web.Response:
    error = None
    try:
        query = IncidentQuery.parse(request.query)
    except QueryError as exc:
        query, error = IncidentQuery(), str(exc)
    every = await pages.call(pages.store.incidents)
    shown = [] if error else query.select(every)
    names = {r.entity_id: r.entity_name for r in every}
    body = join([
        Markup("<h1>Incidents</h1>"),
        await silences_section(request),
        _filters(query, names),
        render('<p class="error" role="alert">{e}</p>', e=error) if error else Markup(""),
        _incident_table(shown[:LIST_LIMIT]),
        render('<p class="note">Showing the newest {n} of {total}; narrow the filters to see'
               " older ones.</p>", n=LIST_LIMIT, total=len(shown))
        if len(shown) > LIST_LIMIT else Markup(""),
    ])
    return html_response(layout("Incidents", body), status=400 if error else 200)


def _filters(query: IncidentQuery, names: Mapping[str, str]) -> Markup:
    def options(values: Iterable[tuple[str, str]], chosen: str | None) -> Markup:
        rows = [render('<option value="">all</option>')]
        rows += [render('<option value="{v}"{s}>{label}</option>', v=v, label=label,
                        s=Markup(" selected") if v == chosen else Markup(""))
                 for v, label in values]
        return join(rows)

    entities = sorted(names.items(), key=lambda kv: kv[1].lower())
    return render(
        '<form class="filters" method="get" action="/">'
        '<label>Entity <select name="entity">{entities}</select></label>'
        '<label>Severity <select name="severity">{severities}</select></label>'
        '<label>State <select name="state">{states}</select></label>'
        '<label>From <input type="date" name="from" value="{since}"></label>'
        '<label>To <input type="date" name="to" value="{until}"></label>'
        '<button type="submit">Filter</button> <a href="/">Clear</a></form>',
        entities=options(entities, query.entity),
        severities=options(((s, s) for s in SEVERITIES), query.severity),
        states=options(((s, s) for s in STATES), query.state),
        since=query.since.isoformat() if query.since else "",
        until=query.until.isoformat() if query.until else "")


def _incident_table(records: Sequence[IncidentRecord]) -> Markup:
    if not records:
        return Markup('<p class="empty">No incidents match.</p>')
    rows = [render(
        '<tr><td>{opened}</td><td><a href="{href}">{name}</a> <span class="kind">{kind}</span>'
        '</td><td><span class="sev sev-{sev}">{sev}</span></td>'
        '<td><span class="state state-{status}">{status}</span></td><td>{ack}</td>'
        "<td>{last} at {last_at}</td></tr>",
        opened=when(r.opened_at), href=incident_href(r.incident_id), name=r.entity_name,
        kind=r.entity_kind, sev=r.severity, status=r.status,
        ack=r.acknowledged_by or "not acknowledged", last=r.last_event,
        last_at=when(r.last_at)) for r in records]
    return render(
        '<table class="incidents"><thead><tr><th>Opened</th><th>Entity</th><th>Severity</th>'
        "<th>State</th><th>Acknowledged by</th><th>Last event</th></tr></thead>"
        "<tbody>{rows}</tbody></table>", rows=join(rows))


def incident_href(incident_id: str, suffix: str = "") -> str:
    return "/incidents/" + quote(incident_id, safe="") + suffix


# ---------------------------------------------------------------- incident page

async def incident_page(request: web.Request, pages: Pages) -> web.Response:
    record, timeline = await _load(request, pages)
    events = timeline.events if timeline else ()
    points = timeline.points if timeline and timeline.points else points_from_events(events)
    evidence = merge_evidence(events)
    chart = Markup(timeline_svg(points, events,
                                title=f"{record.entity_name}: mentions per minute against"
                                      " the baseline, negative share, lifecycle events"))
    peak = max(points, key=lambda p: p.volume, default=None)
    highest = max((e.severity for e in events), key=severity_rank, default=record.severity)
    body = join([
        render('<h1>{name} <span class="kind">{kind}</span></h1>'
               '<p class="meta"><span class="sev sev-{sev}">{sev}</span>'
               ' <span class="state state-{status}">{status}</span>'
               ' <span class="id">incident {id}</span></p>',
               name=record.entity_name, kind=record.entity_kind, sev=record.severity,
               status=record.status, id=record.incident_id),
        render('<dl class="facts"><dt>Opened</dt><dd>{opened}</dd><dt>Resolved</dt>'
               "<dd>{resolved}</dd><dt>Acknowledged</dt><dd>{ack}</dd><dt>Owner</dt>"
               "<dd>{owner}</dd><dt>Peak</dt><dd>{peak}</dd><dt>Highest severity</dt>"
               '<dd><span class="sev sev-{highest}">{highest}</span></dd>'
               "<dt>Coordinated share</dt><dd>{coord}</dd></dl>",
               opened=when(record.opened_at), resolved=when(record.resolved_at, "still open"),
               ack=(f"by {record.acknowledged_by} at {when(record.acknowledged_at)}"
                    if record.acknowledged_by else "not acknowledged"),
               owner=record.owner or "—",
               peak=(f"{peak.volume} mentions/min at {when(peak.at)}"
                     f" (baseline {peak.expected_volume:.1f})" if peak else "—"),
               highest=highest, coord=f"{evidence.coordinated_share:.0%}"),
        await incident_panel(request, record),
        render('<section class="chart"><h2>Volume, negativity and lifecycle</h2>{svg}'
               '<p class="exports">Export: <a href="{json}" download>JSON</a>'
               ' · <a href="{csv}" download>CSV per minute</a>'
               ' · <a href="{ecsv}" download>CSV of events</a></p></section>',
               svg=chart, json=incident_href(record.incident_id, ".json"),
               csv=incident_href(record.incident_id, ".csv"),
               ecsv=incident_href(record.incident_id, ".csv") + "?table=events"),
        _linked(evidence, pages),
        _posts(evidence.samples),
        render('<div class="grid">{terms}{tags}{authors}</div>',
               terms=_pairs("Top terms", "term", "mentions", evidence.top_terms),
               tags=_pairs("Top hashtags", "hashtag", "mentions", evidence.top_hashtags),
               authors=_pairs("Authors by reach", "author", "followers",
                              evidence.top_authors)),
        _history(events),
    ])
    return html_response(layout(f"{record.entity_name} {record.incident_id}", body))


async def _load(request: web.Request, pages: Pages) -> tuple[IncidentRecord, Timeline | None]:
    incident_id = request.match_info["incident_id"]
    record = await pages.call(pages.store.incident, incident_id)
    if record is None:
        raise web.HTTPNotFound(text=f"no incident {incident_id!r} (it may have expired)")
    return record, await pages.call(pages.store.timeline, incident_id)


def merge_evidence(events: Iterable[AlertEvent]) -> Evidence:
    """The evidence of a whole incident: every event's, each item at its largest count.

    Counts are per minute, so they are not summed (a 'resolved' event repeats
    the last alerting minute's evidence); the largest shows how big it got.

    >>> from models.verdict import Evidence
    >>> e1 = AlertEvent("a-1", 1, "opened", "a", "A", "partner", "warning", 60.0, 40, 8.0,
    ...                 0.7, 0.3, 5.0, evidence=Evidence(top_terms=(("boycott", 5),)))
    >>> e2 = AlertEvent("a-1", 2, "updated", "a", "A", "partner", "warning", 120.0, 40, 8.0,
    ...                 0.7, 0.3, 5.0, evidence=Evidence(top_terms=(("boycott", 9), ("x", 1))))
    >>> merge_evidence([e1, e2]).top_terms
    (('boycott', 9), ('x', 1))
    """
    events = list(events)

    def biggest(pick: Callable[[Evidence], Iterable[tuple[str, int]]]) -> tuple:
        best: dict[str, int] = {}
        for e in events:
            for key, n in pick(e.evidence):
                best[key] = max(n, best.get(key, n))
        return tuple(sorted(best.items(), key=lambda kv: (-kv[1], kv[0])))

    samples: dict[str, Sample] = {}
    for e in events:
        for s in e.evidence.samples:
            samples.setdefault(s.id, s)
    ranked = sorted(samples.values(),
                    key=lambda s: (-(s.followers or 0), -(s.negativity or 0.0), s.id))
    return Evidence(top_terms=biggest(lambda ev: ev.top_terms),
                    top_hashtags=biggest(lambda ev: ev.top_hashtags),
                    samples=tuple(ranked), top_authors=biggest(lambda ev: ev.top_authors),
                    linked=biggest(lambda ev: ev.linked),
                    coordinated_share=max((e.evidence.coordinated_share for e in events),
                                          default=0.0))


def _linked(evidence: Evidence, pages: Pages) -> Markup:
    if not evidence.linked:
        return Markup("")
    items = [render("<li>{label}: {how}</li>", label=pages.entity_label(entity_id),
                    how=f"named together in {n} posts" if n else "linked in the watchlist")
             for entity_id, n in evidence.linked]
    return render('<section class="linked"><h2>Linked policy or partner</h2><ul>{items}</ul>'
                  "</section>", items=join(items))


def _posts(samples: Sequence[Sample]) -> Markup:
    if not samples:
        return Markup('<section class="posts"><h2>Top posts</h2><p class="empty">No sample'
                      " posts were kept.</p></section>")
    rows = [render('<tr><td class="author">{author}</td><td class="num">{followers}</td>'
                   '<td class="num">{neg}</td><td class="text">{text}</td></tr>',
                   author=s.author, followers="—" if s.followers is None else f"{s.followers:,}",
                   neg="—" if s.negativity is None else f"{s.negativity:.0%}", text=s.text)
            for s in samples[:TOP]]
    return render('<section class="posts"><h2>Top posts</h2><table class="posts"><thead><tr>'
                  '<th>Author</th><th>Followers</th><th>Negative</th><th>Post</th></tr>'
                  "</thead><tbody>{rows}</tbody></table></section>", rows=join(rows))


def _pairs(title: str, what: str, count: str, pairs: Sequence[tuple[str, int]]) -> Markup:
    rows = [render('<tr><td>{k}</td><td class="num">{n}</td></tr>', k=k, n=f"{n:,}")
            for k, n in pairs[:TOP]] or [Markup('<tr><td colspan="2">none</td></tr>')]
    return render('<section><h2>{title}</h2><table class="pairs"><thead><tr><th>{what}</th>'
                  '<th>{count}</th></tr></thead><tbody>{rows}</tbody></table></section>',
                  title=title, what=what, count=count, rows=join(rows))


def _history(events: Sequence[AlertEvent]) -> Markup:
    rows = [render(
        '<tr class="ev-{event}"><td>{at}</td><td>{emitted}</td><td>{event}</td><td>{sev}</td>'
        '<td class="num">{vol}</td><td class="num">{neg}</td><td class="num">{score}</td>'
        "<td>{why}</td></tr>",
        at=when(e.at), emitted=when(e.emitted_at), event=e.event,
        sev=(f"{e.previous_severity} → {e.severity}" if e.previous_severity else e.severity),
        vol=f"{e.volume} vs {e.expected_volume:.1f}",
        neg=f"{e.negativity:.0%} vs {e.expected_negativity:.0%}", score=f"{e.score:.1f}",
        why=(f"acknowledged by {e.acknowledged_by}" if e.event == "acknowledged"
             else "; ".join(e.reasons)))
        for e in events]
    return render(
        '<section class="history"><h2>Notification and acknowledgement history</h2>'
        '<p class="note">Event time is when the data showed it; notified is when the alert'
        " left the worker for the duty press officer.</p>"
        '<table class="history"><thead><tr><th>Event time</th><th>Notified</th><th>Event</th>'
        "<th>Severity</th><th>Volume vs baseline</th><th>Negative vs baseline</th>"
        "<th>Score</th><th>Why / who</th></tr></thead><tbody>{rows}</tbody></table></section>",
        rows=join(rows))


# ---------------------------------------------------------------- exports

async def incident_export_json(request: web.Request, pages: Pages) -> web.Response:
    record, timeline = await _load(request, pages)
    return web.Response(text=incident_json(record, timeline), content_type="application/json",
                        charset="utf-8", headers=_attachment(record.incident_id, "json"))


async def incident_export_csv(request: web.Request, pages: Pages) -> web.Response:
    table = request.query.get("table", "points")
    if table not in CSV_TABLES:
        raise web.HTTPBadRequest(text=f"table {table!r}: must be one of {', '.join(CSV_TABLES)}")
    record, timeline = await _load(request, pages)
    name = record.incident_id if table == "points" else f"{record.incident_id}-events"
    return web.Response(text=incident_csv(timeline, table), content_type="text/csv",
                        charset="utf-8", headers=_attachment(name, "csv"))


def _attachment(name: str, ext: str) -> dict[str, str]:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return {"Content-Disposition": f'attachment; filename="{safe}.{ext}"'}


# ---------------------------------------------------------------- live page

async def live_page(request: web.Request, pages: Pages) -> web.Response:
    records = await pages.call(pages.store.open_incidents)
    body = join([
        Markup('<h1>Live alerts</h1><p id="live-status" class="live-status"'
               ' data-state="connecting">Connecting…</p>'
               '<ol id="alerts" class="alerts"></ol>'
               "<h2>Open incidents now</h2>"),
        _incident_table(records[::-1]),
    ])
    return html_response(layout("Live alerts", body, script="/static/live.js"))


def alert_summary(event: AlertEvent) -> dict[str, Any]:
    """What the live page shows of an alert (it builds DOM text nodes, never HTML)."""
    return {"incident_id": event.incident_id, "href": incident_href(event.incident_id),
            "event": event.event, "severity": event.severity, "entity_name": event.entity_name,
            "entity_kind": event.entity_kind, "at": format_time(event.at),
            "volume": event.volume, "expected_volume": round(event.expected_volume, 1),
            "negativity": round(event.negativity, 3), "reasons": list(event.reasons),
            "acknowledged_by": event.acknowledged_by}


def sse_alert(text: str) -> bytes | None:
    """One server-sent event for a published alert; None for a message that is not one."""
    try:
        event = AlertEvent.from_json(text)
    except AlertEventError:
        return None
    data = json.dumps(alert_summary(event), ensure_ascii=False, separators=(",", ":"))
    return f"event: alert\nid: {event.event_id}\ndata: {data}\n\n".encode()


# ---------------------------------------------------------------- login

def login_page(next_path: str, error: str | None = None) -> str:
    body = render(
        '<h1>Sign in</h1><p>Enter the access token for the incident pages'
        " (ask whoever runs Firestorm: it is FIRESTORM_PAGES_TOKEN).</p>{error}"
        '<form class="login" method="post" action="/login">'
        '<input type="hidden" name="next" value="{next}">'
        '<label>Access token <input type="password" name="token" autocomplete="current-password"'
        " required autofocus></label> <button type=\"submit\">Sign in</button></form>",
        next=next_path,
        error=render('<p class="error" role="alert">{e}</p>', e=error) if error else Markup(""))
    return layout("Sign in", body, nav=False)


def safe_next(value: str | None) -> str:
    """Only a path on this site: never ``//host`` or ``https://...`` (no open redirect).

    >>> safe_next("/incidents/a?x=1"), safe_next("//evil.example/"), safe_next(None)
    ('/incidents/a?x=1', '/', '/')
    """
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    return value


def login_href(next_path: str) -> str:
    return "/login?" + urlencode({"next": next_path}) if next_path != "/" else "/login"
