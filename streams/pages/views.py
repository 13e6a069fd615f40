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
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from aiohttp import web

from alerting.chart import points_from_events, timeline_svg
from alerting.errors import AlertEventError
from alerting.event import AlertEvent, format_time
from alerting.figures import Figures
from alerting.liveness import DEFAULT_SILENT_AFTER, Liveness, judge
from alerting.store import AlertStore
from alerting.story import Story
from alerting.timeline import IncidentRecord, Timeline, TimelinePoint
from models.verdict import SEVERITIES, Evidence, Sample, severity_rank
from streams.pages.actions import incident_panel, silences_section
from streams.pages.export import CSV_TABLES, incident_csv, incident_json
from streams.pages.feed import QueueFeed, RedisFeed
from streams.pages.query import STATES, IncidentQuery, QueryError
from streams.pages.templates import Markup, join, layout, render, when

__all__ = ["Pages", "alert_summary", "liveness_banner", "merge_evidence"]

LIST_LIMIT = 500  # rows on one list page; narrow the filters for older incidents
TOP = 10  # posts, terms, hashtags and authors shown on an incident page
T = TypeVar("T")


@dataclass(frozen=True)
class Pages:
    """What the handlers need: where incidents are, where live alerts come from."""

    store: AlertStore
    feed: RedisFeed | QueueFeed
    entities: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, kind)
    tick: float = 15.0  # seconds between keep-alives on a quiet live page
    silent_after: float = DEFAULT_SILENT_AFTER  # seconds without a heartbeat: "silent"
    clock: Callable[[], float] = time.time

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    async def liveness(self) -> Liveness:
        """What the workers' heartbeats and the history marker say now."""
        def read() -> Liveness:
            return judge(self.store.heartbeats(), self.store.history(), self.clock(),
                         self.silent_after)
        return await self.call(read)

    async def page(self, title: str, body: Markup, **options: Any) -> web.Response:
        """A whole page with the liveness banner on top."""
        banner = liveness_banner(await self.liveness())
        status = options.pop("status", 200)
        return html_response(layout(title, body, banner=banner, **options), status=status)

    def entity_label(self, entity_id: str) -> str:
        name, kind = self.entities.get(entity_id, (entity_id, ""))
        return f"{name} ({kind})" if kind else name


def html_response(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def liveness_state(live: Liveness) -> dict[str, Any]:
    """The banner as data (the live page updates it from the event stream)."""
    history = live.history
    if history is not None and history.rebuilding:
        return {"text": live.empty_board_text(), "alarm": True}
    if live.history is None and live.latest is not None:
        return {"text": f"{live.text()}; no incident history in Redis yet", "alarm": True}
    return {"text": live.text(), "alarm": not live.alive}


def liveness_banner(live: Liveness) -> Markup:
    """Red when the worker is silent or the history is being rebuilt: never a quiet lie.

    >>> from alerting.liveness import Heartbeat, History
    >>> liveness_banner(judge([Heartbeat("w", 0.0)], History(0.0), now=180.0))
    '<p id="liveness" class="liveness liveness-alarm" role="alert">worker silent for 3 min</p>'
    """
    state = liveness_state(live)
    kind = "alarm" if state["alarm"] else "ok"
    return render('<p id="liveness" class="liveness liveness-{kind}" role="{role}">{text}</p>',
                  kind=kind, role="alert" if state["alarm"] else "status", text=state["text"])


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
    return await pages.page("Incidents", body, status=400 if error else 200)


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


def _incident_table(records: Sequence[IncidentRecord], table_id: str = "") -> Markup:
    if not records:
        return render('<p class="empty" id="{id}">No incidents match.</p>', id=table_id)
    # Incidents told as one story: each row says which story, by the story's first incident.
    by_story: dict[str, list[IncidentRecord]] = {}
    for r in records:
        by_story.setdefault(r.story_id or r.incident_id, []).append(r)
    rows = [render(
        '<tr><td>{opened}</td><td><a href="{href}">{name}</a> <span class="kind">{kind}</span>'
        '{story}</td><td><span class="sev sev-{sev}">{sev}</span></td>'
        '<td><span class="state state-{status}">{status}</span></td><td>{ack}</td>'
        "<td>{last} at {last_at}</td></tr>",
        opened=when(r.opened_at), href=incident_href(r.incident_id), name=r.entity_name,
        kind=r.entity_kind, sev=r.severity, status=r.status,
        story=_story_mark(r, by_story.get(r.story_id or r.incident_id, [])),
        ack=r.acknowledged_by or "not acknowledged", last=r.last_event,
        last_at=when(r.last_at)) for r in records]
    return render(
        '<table class="incidents" id="{id}"><thead><tr><th>Opened</th><th>Entity</th>'
        "<th>Severity</th><th>State</th><th>Acknowledged by</th><th>Last event</th></tr>"
        "</thead><tbody>{rows}</tbody></table>", id=table_id, rows=join(rows))


def _story_mark(record: IncidentRecord, together: Sequence[IncidentRecord]) -> Markup:
    others = [r for r in together if r.incident_id != record.incident_id]
    if not others:
        return Markup("")
    return render('<br><span class="story-mark">one story with {names}</span>',
                  names=", ".join(f"{r.entity_name} ({r.entity_kind})" for r in others))


def incident_href(incident_id: str, suffix: str = "") -> str:
    return "/incidents/" + quote(incident_id, safe="") + suffix


# ---------------------------------------------------------------- incident page

async def incident_page(request: web.Request, pages: Pages) -> web.Response:
    """One incident, or the whole story it is told in: every member, one page."""
    record, timeline = await _load(request, pages)
    story, members = await _story_members(pages, record, timeline)
    events = tuple(sorted((e for _, t in members for e in (t.events if t else ())),
                          key=lambda e: (e.at, e.incident_id, e.seq)))
    evidence = merge_evidence(events)
    group = len(members) > 1
    title = story.title() if story is not None and group else \
        f"{record.entity_name} ({record.entity_kind})"
    severity = max((r.severity for r, _ in members if r.status == "open"),
                   key=severity_rank, default=record.severity)
    status = "open" if any(r.status == "open" for r, _ in members) else "resolved"
    body = join([
        render('<h1>{title}</h1><p class="meta"><span class="sev sev-{sev}">{sev}</span>'
               ' <span class="state state-{status}">{status}</span>'
               ' <span class="id">{what} {id}</span></p>', title=title, sev=severity,
               status=status, what="story" if group else "incident",
               id=story.id if story is not None and group else record.incident_id),
        _story_members_table(members) if group else _facts(record, timeline, events, evidence),
        # Acting is per incident (the one asked for); each member's page has its own.
        await incident_panel(request, record),
        _why(members),
        join(_chart(r, t) for r, t in members),
        _linked(evidence, pages, story, {r.entity_id for r, _ in members}),
        _centre(evidence.centre),
        _high_reach(evidence.high_reach),
        _posts(evidence.samples),
        render('<div class="grid">{terms}{tags}{authors}</div>',
               terms=_pairs("Top terms", "term", "mentions", evidence.top_terms),
               tags=_pairs("Top hashtags", "hashtag", "mentions", evidence.top_hashtags),
               authors=_pairs("Authors by reach", "author", "followers",
                              evidence.top_authors)),
        _history(events, group),
    ])
    return await pages.page(f"{title} {record.incident_id}", body)


async def _load(request: web.Request, pages: Pages) -> tuple[IncidentRecord, Timeline | None]:
    incident_id = request.match_info["incident_id"]
    record = await pages.call(pages.store.incident, incident_id)
    if record is None:
        raise web.HTTPNotFound(text=f"no incident {incident_id!r} (it may have expired)")
    return record, await pages.call(pages.store.timeline, incident_id)


async def _story_members(pages: Pages, record: IncidentRecord, timeline: Timeline | None
                         ) -> tuple[Story | None, list[tuple[IncidentRecord, Timeline | None]]]:
    """The story of the incident and every member's record and timeline, in story order."""
    story = await pages.call(pages.store.story, record.story_id) if record.story_id else None
    if story is None or not story.is_group:
        return story, [(record, timeline)]
    members = []
    for member in story.members:
        if member.incident_id == record.incident_id:
            members.append((record, timeline))
            continue
        other = await pages.call(pages.store.incident, member.incident_id)
        if other is not None:  # expired before the rest of its story: shown without it
            members.append((other, await pages.call(pages.store.timeline, other.incident_id)))
    return story, members


def _facts(record: IncidentRecord, timeline: Timeline | None, events: Sequence[AlertEvent],
           evidence: Evidence) -> Markup:
    points = _points(timeline)
    peak = max(points, key=lambda p: p.volume, default=None)
    highest = max((e.severity for e in events), key=severity_rank, default=record.severity)
    return render(
        '<dl class="facts"><dt>Opened</dt><dd>{opened}</dd><dt>Resolved</dt>'
        "<dd>{resolved}</dd><dt>Acknowledged</dt><dd>{ack}</dd><dt>Owner</dt>"
        "<dd>{owner}</dd><dt>Peak</dt><dd>{peak}</dd><dt>Highest severity</dt>"
        '<dd><span class="sev sev-{highest}">{highest}</span></dd>'
        "<dt>Coordinated share</dt><dd>{coord}</dd></dl>",
        opened=when(record.opened_at), resolved=when(record.resolved_at, "still open"),
        ack=_ack_text(record), owner=record.owner or "—", peak=_peak(peak),
        highest=highest, coord=f"{evidence.coordinated_share:.0%}")


def _ack_text(record: IncidentRecord) -> str:
    if not record.acknowledged_by:
        return "not acknowledged"
    return f"by {record.acknowledged_by} at {when(record.acknowledged_at)}"


def _peak(point: TimelinePoint | None) -> str:
    """The busiest minute, in the words every channel uses for a figure."""
    if point is None:
        return "—"
    minute = Figures(point.volume, point.expected_volume, point.negativity,
                     point.expected_negativity, point.score, 60.0)
    return f"{minute.volume_text()} at {when(point.at)}"


def _points(timeline: Timeline | None) -> tuple[TimelinePoint, ...]:
    if timeline is None:
        return ()
    return timeline.points or points_from_events(timeline.events)


def _story_members_table(members: Sequence[tuple[IncidentRecord, Timeline | None]]) -> Markup:
    rows = [render(
        '<tr><td><a href="{href}">{name}</a> <span class="kind">{kind}</span>'
        '<br><span class="id">{id}</span></td><td><span class="sev sev-{sev}">{sev}</span></td>'
        '<td><span class="state state-{status}">{status}</span></td><td>{opened}</td>'
        "<td>{ack}</td><td>{peak}</td></tr>",
        href=incident_href(r.incident_id), name=r.entity_name, kind=r.entity_kind,
        id=r.incident_id, sev=r.severity, status=r.status, opened=when(r.opened_at),
        ack=_ack_text(r), peak=_peak(max(_points(t), key=lambda p: p.volume, default=None)))
        for r, t in members]
    return render(
        '<section class="story"><p class="note">One story: incidents of linked entities that'
        " escalated together, notified once.</p><table class=\"members\"><thead><tr>"
        "<th>Incident</th><th>Severity</th><th>State</th><th>Opened</th><th>Acknowledged</th>"
        "<th>Peak</th></tr></thead><tbody>{rows}</tbody></table></section>", rows=join(rows))


def _why(members: Sequence[tuple[IncidentRecord, Timeline | None]]) -> Markup:
    """Each incident's latest figures and reasons, as lists: what the duty officer reads."""
    parts = []
    for record, timeline in members:
        latest = next((e for e in reversed(timeline.events if timeline else ())
                       if e.event not in ("acknowledged", "restored")), None)
        if latest is None:
            continue
        f = latest.figures
        parts.append(render(
            '<div class="why"><h3>{name} <span class="kind">{kind}</span></h3>'
            '<p class="figures">{volume}<br>{negative} · {score}'
            ' <span class="note">({event} at {at})</span></p>'
            '<ul class="reasons">{reasons}</ul></div>',
            name=record.entity_name, kind=record.entity_kind, volume=f.volume_text(),
            negative=f.negativity_text(), score=f.score_text(), event=latest.event,
            at=when(latest.at), reasons=join(render("<li>{r}</li>", r=r)
                                             for r in latest.reasons)))
    if not parts:
        return Markup("")
    return render('<section class="whys"><h2>Why it fired</h2>{parts}</section>',
                  parts=join(parts))


def _chart(record: IncidentRecord, timeline: Timeline | None) -> Markup:
    events = timeline.events if timeline else ()
    svg = Markup(timeline_svg(_points(timeline), events,
                              title=f"{record.entity_name}: mentions per minute against"
                                    " the baseline, negative share, lifecycle events"))
    return render(
        '<section class="chart"><h2>{name}: volume, negativity and lifecycle</h2>{svg}'
        '<p class="exports">Export: <a href="{json}" download>JSON</a>'
        ' · <a href="{csv}" download>CSV per minute</a>'
        ' · <a href="{ecsv}" download>CSV of events</a></p></section>',
        name=record.entity_name, svg=svg, json=incident_href(record.incident_id, ".json"),
        csv=incident_href(record.incident_id, ".csv"),
        ecsv=incident_href(record.incident_id, ".csv") + "?table=events")


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
    high: dict[str, Sample] = {}
    for e in events:
        for s in e.evidence.samples:
            samples.setdefault(s.id, s)
        for s in e.evidence.high_reach:
            high.setdefault(s.id, s)
    ranked = sorted(samples.values(),
                    key=lambda s: (-(s.followers or 0), -(s.negativity or 0.0), s.id))
    # The centre as the detector gives it: evidence.centre, or a sample carrying reshares.
    centres = [c for e in events
               if (c := e.evidence.centre or next((s for s in e.evidence.samples if s.reshares),
                                                  None)) is not None]
    # The centre most reshared; an original kept over a reshare standing in for it.
    centre = max(centres, key=lambda s: (s.reshares or 0, s.url is not None), default=None)
    return Evidence(top_terms=biggest(lambda ev: ev.top_terms),
                    top_hashtags=biggest(lambda ev: ev.top_hashtags),
                    samples=tuple(ranked), top_authors=biggest(lambda ev: ev.top_authors),
                    linked=biggest(lambda ev: ev.linked),
                    coordinated_share=max((e.evidence.coordinated_share for e in events),
                                          default=0.0),
                    centre=centre,
                    high_reach=tuple(sorted(high.values(),
                                            key=lambda s: (-(s.followers or 0), s.id))))


def _linked(evidence: Evidence, pages: Pages, story: Story | None,
            inside: set[str]) -> Markup:
    names = {eid: f"{name} ({kind})" for eid, name, kind in (story.linked if story else ())}
    counts = dict(evidence.linked)
    ids = [eid for eid, _ in evidence.linked if eid not in inside]
    ids += [eid for eid in names if eid not in ids and eid not in inside]
    if not ids:
        return Markup("")
    items = [render("<li>{label}: {how}</li>", label=names.get(eid) or pages.entity_label(eid),
                    how=f"named together in {counts[eid]} posts" if counts.get(eid)
                    else "linked in the watchlist")
             for eid in ids]
    return render('<section class="linked"><h2>Linked policy or partner</h2><ul>{items}</ul>'
                  "</section>", items=join(items))


def _post_link(sample: Sample) -> Markup:
    if not sample.url or not sample.url.startswith(("https://", "http://")):
        return Markup("—")
    return render('<a href="{url}" rel="noopener noreferrer nofollow">open</a>', url=sample.url)


def _centre(sample: Sample | None) -> Markup:
    if sample is None:
        return Markup("")
    return render(
        '<section class="centre"><h2>At the centre of the storm</h2>'
        '<blockquote class="text">{text}</blockquote>'
        '<p class="note">{author} · {followers} followers · posted {at} · reshared {n}'
        " times in the posts kept as evidence · {link}</p></section>",
        text=sample.text, author=sample.author,
        followers="—" if sample.followers is None else f"{sample.followers:,}",
        at=when(sample.ts, "at an unknown time"), n=sample.reshares or 0,
        link=_post_link(sample))


def _high_reach(samples: Sequence[Sample]) -> Markup:
    if not samples:
        return Markup("")
    rows = [render('<tr><td class="author">{author}</td><td class="num">{followers}</td>'
                   '<td>{at}</td><td class="text">{text}</td><td>{link}</td></tr>',
                   author=s.author, followers="—" if s.followers is None else f"{s.followers:,}",
                   at=when(s.ts), text=s.text, link=_post_link(s)) for s in samples[:TOP]]
    return render('<section class="high-reach"><h2>Posts by high-reach accounts</h2>'
                  '<table class="posts"><thead><tr><th>Author</th><th>Followers</th>'
                  "<th>Posted</th><th>Post</th><th>Link</th></tr></thead><tbody>{rows}</tbody>"
                  "</table></section>", rows=join(rows))


def _posts(samples: Sequence[Sample]) -> Markup:
    if not samples:
        return Markup('<section class="posts"><h2>Top posts</h2><p class="empty">No sample'
                      " posts were kept.</p></section>")
    rows = [render('<tr><td class="author">{author}</td><td class="num">{followers}</td>'
                   '<td class="num">{neg}</td><td>{at}</td><td class="text">{text}</td>'
                   "<td>{link}</td></tr>",
                   author=s.author, followers="—" if s.followers is None else f"{s.followers:,}",
                   neg="—" if s.negativity is None else f"{s.negativity:.0%}", at=when(s.ts),
                   text=s.text, link=_post_link(s))
            for s in samples[:TOP]]
    return render('<section class="posts"><h2>Top posts</h2><table class="posts"><thead><tr>'
                  '<th>Author</th><th>Followers</th><th>Negative</th><th>Posted</th>'
                  "<th>Post</th><th>Link</th></tr></thead><tbody>{rows}</tbody></table>"
                  "</section>", rows=join(rows))


def _pairs(title: str, what: str, count: str, pairs: Sequence[tuple[str, int]]) -> Markup:
    rows = [render('<tr><td>{k}</td><td class="num">{n}</td></tr>', k=k, n=f"{n:,}")
            for k, n in pairs[:TOP]] or [Markup('<tr><td colspan="2">none</td></tr>')]
    return render('<section><h2>{title}</h2><table class="pairs"><thead><tr><th>{what}</th>'
                  '<th>{count}</th></tr></thead><tbody>{rows}</tbody></table></section>',
                  title=title, what=what, count=count, rows=join(rows))


def _history(events: Sequence[AlertEvent], group: bool = False) -> Markup:
    rows = [render(
        '<tr class="ev-{event}">{entity}<td>{at}</td><td>{emitted}</td><td>{event}</td>'
        "<td>{sev}</td><td>{big}</td><td>{neg}</td>"
        '<td class="num">{score}</td><td>{why}</td></tr>',
        entity=render("<td>{name}</td>", name=e.entity_name) if group else Markup(""),
        at=when(e.at), emitted=when(e.emitted_at), event=e.event,
        sev=(f"{e.previous_severity} → {e.severity}" if e.previous_severity else e.severity),
        big=e.figures.volume_text(), neg=e.figures.negativity_text(), score=f"{e.score:.1f}",
        why=(render("acknowledged by {who}", who=e.acknowledged_by)
             if e.event == "acknowledged"
             else render('<ul class="reasons">{items}</ul>',
                         items=join(render("<li>{r}</li>", r=r) for r in e.reasons))))
        for e in events]
    return render(
        '<section class="history"><h2>Notification and acknowledgement history</h2>'
        '<p class="note">Event time is when the data showed it; notified is when the alert'
        " left the worker for the duty press officer. How big and how negative are counted"
        " over the window each line names, against what the baseline expects over it.</p>"
        '<table class="history"><thead><tr>{entity}<th>Event time</th><th>Notified</th>'
        "<th>Event</th><th>Severity</th><th>How big</th><th>How negative</th><th>Score</th>"
        "<th>Why / who</th></tr></thead><tbody>{rows}</tbody></table></section>",
        entity=Markup("<th>Entity</th>") if group else Markup(""), rows=join(rows))


# ---------------------------------------------------------------- exports

async def incident_export_json(request: web.Request, pages: Pages) -> web.Response:
    record, timeline = await _load(request, pages)
    story = await pages.call(pages.store.story, record.story_id) if record.story_id else None
    return web.Response(text=incident_json(record, timeline, story),
                        content_type="application/json",
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
        _incident_table(records[::-1], table_id="open-incidents"),
    ])
    return await pages.page("Live alerts", body, script="/static/live.js")


async def live_open(request: web.Request, pages: Pages) -> web.Response:
    """The open incidents as JSON: the live page rebuilds its table from it on each alert."""
    records = await pages.call(pages.store.open_incidents)
    rows = [{"incident_id": r.incident_id, "href": incident_href(r.incident_id),
             "entity_name": r.entity_name, "entity_kind": r.entity_kind,
             "severity": r.severity, "status": r.status, "opened": when(r.opened_at),
             "acknowledged_by": r.acknowledged_by, "last_event": r.last_event,
             "last_at": when(r.last_at), "story_id": r.story_id}
            for r in records[::-1]]
    return web.json_response({"incidents": rows})


def alert_summary(event: AlertEvent) -> dict[str, Any]:
    """What the live page shows of an alert (it builds DOM text nodes, never HTML)."""
    story = event.story
    return {"incident_id": event.incident_id, "href": incident_href(event.incident_id),
            "event": event.event, "severity": event.severity, "entity_name": event.entity_name,
            "entity_kind": event.entity_kind, "at": format_time(event.at),
            "volume": event.volume, "expected_volume": round(event.expected_volume, 1),
            "negativity": round(event.negativity, 3), "reasons": list(event.reasons),
            "figures": [event.figures.volume_text(), event.figures.negativity_text()],
            "story": story.title() if story is not None and story.is_group else None,
            "acknowledged_by": event.acknowledged_by}


def sse_liveness(live: Liveness) -> bytes:
    """One server-sent event with the banner's text, and whether it is an alarm."""
    data = json.dumps(liveness_state(live), ensure_ascii=False, separators=(",", ":"))
    return f"event: liveness\ndata: {data}\n\n".encode()


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
