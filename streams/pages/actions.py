"""What an officer can do from the pages: acknowledge, silence, give feedback, follow a signed link.

Routes (added by :func:`add_routes`)::

    POST /incidents/{id}/ack        acknowledge (signed in; CSRF token)
    POST /incidents/{id}/silence    silence the entity or its story until a time (CSRF)
    POST /incidents/{id}/feedback   useful / false alarm / too late (CSRF)
    POST /silences/{id}/lift        end a silence early (CSRF)
    GET  /report                    precision per entity and severity, last 30 and 90 days
    GET  /ack/{token}               a signed link: the confirmation page (no sign-in)
    POST /ack/{token}               ... confirmed: the acknowledgement is sent
    GET  /feedback/{token}          a signed feedback link: three buttons (no sign-in)
    POST /feedback/{token}          ... the verdict is recorded

An acknowledgement from the pages takes the same path as ``firestorm ack``
(:func:`streams.acks.acknowledge`: Kafka to the worker, its answer back on
Redis), and the page shows the worker's answer. Signed links are the
credential of an officer who is not signed in (a phone, a Slack message):
they name one incident and one purpose, expire, and an ack link works once.
Forged, expired, reused and replayed links each get their own page.

CSRF: a signed-in form carries ``HMAC(pages token, session)``; a link's
confirmation form carries ``HMAC(link key, cookie nonce + link nonce)`` and
its page sets that cookie (double submit). A request with a bearer token
(a script) needs no form token: browsers never attach one on their own.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import web

from alerting.ack import AckAnswer
from alerting.action_store import RedisActionStore
from alerting.audit import AuditEntry
from alerting.errors import FirestormAlertError, LinkError, LinkExpired, SilenceError
from alerting.feedback import VERDICTS, precision, verdict_label
from alerting.links import LinkClaim, LinkUse, verify_link
from alerting.memory_actions import MemoryActionStore
from alerting.memory_store import MemoryAlertStore
from alerting.redis_store import RedisAlertStore
from alerting.silence import SCOPES, Silence, active_for, parse_until
from alerting.timeline import IncidentRecord
from streams.errors import FirestormError
from streams.officer import give_feedback
from streams.pages.templates import Markup, join, layout, render, when

__all__ = ["ACTIONS", "CSRF", "OFFICER_COOKIE", "PUBLIC_PREFIXES", "Actions", "add_routes",
           "csrf_token", "incident_panel", "silences_section"]

log = logging.getLogger(__name__)

OFFICER_COOKIE = "firestorm_officer"  # remembers the name typed last, to prefill forms
LINK_COOKIE = "firestorm_link"  # the double-submit nonce of a link's confirmation form
PUBLIC_PREFIXES = ("/ack/", "/feedback/")
SendAck = Callable[[str, str, str, str], AckAnswer | None]  # (id, by, via, origin)


def _no_ack(incident_id: str, by: str, via: str, origin: str) -> AckAnswer | None:
    raise FirestormError("acknowledging from the pages is not set up here")


@dataclass(frozen=True)
class Actions:
    """What the action routes need; one value in the app, no module state.

    ``send_ack`` blocks until the worker answers (or its wait runs out) and is
    run in a thread; ``links`` maps an entity to the entities of its story.
    """

    store: RedisActionStore | MemoryActionStore
    alerts: RedisAlertStore | MemoryAlertStore
    send_ack: SendAck = _no_ack
    link_key: bytes = b""  # empty: signed links are off
    links: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    clock: Callable[[], float] = time.time

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)


ACTIONS = web.AppKey("actions", Actions)
CSRF = web.AppKey("csrf", str)


def csrf_token(pages_token: str) -> str:
    """The form token of signed-in pages: secret, and useless to another site."""
    return hmac.new(pages_token.encode(), b"firestorm-pages-csrf", hashlib.sha256).hexdigest()


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/incidents/{incident_id:[^/]+}/ack", _page_ack)
    r.add_post("/incidents/{incident_id:[^/]+}/silence", _page_silence)
    r.add_post("/incidents/{incident_id:[^/]+}/feedback", _page_feedback)
    r.add_post("/silences/{silence_id:[^/]+}/lift", _lift)
    r.add_get("/report", _report)
    r.add_get("/ack/{token}", _link_ack_form)
    r.add_post("/ack/{token}", _link_ack)
    r.add_get("/feedback/{token}", _link_feedback_form)
    r.add_post("/feedback/{token}", _link_feedback)


# ---------------------------------------------------------------- shared bits

def _html(title: str, body: Markup, status: int = 200, nav: bool = True) -> web.Response:
    return web.Response(text=layout(title, body, nav=nav), status=status,
                        content_type="text/html", charset="utf-8")


def _actions(request: web.Request) -> Actions:
    actions = request.app.get(ACTIONS)
    if actions is None:
        raise web.HTTPNotFound(text="officer actions are not set up on these pages\n")
    return actions


def _href(incident_id: str, suffix: str = "") -> str:
    return "/incidents/" + quote(incident_id, safe="") + suffix


def _origin(request: web.Request) -> str:
    return request.remote or "unknown address"


def _officer(request: web.Request) -> str:
    return request.cookies.get(OFFICER_COOKIE, "")[:80]


def _remember(response: web.StreamResponse, request: web.Request, by: str) -> None:
    response.set_cookie(OFFICER_COOKIE, by, max_age=30 * 86400, path="/", httponly=True,
                        samesite="Strict", secure=request.secure)


async def _form(request: web.Request) -> dict[str, str]:
    data = await request.post()
    return {k: str(v) for k, v in data.items() if isinstance(v, str)}


def _check_csrf(request: web.Request, form: Mapping[str, str]) -> None:
    """Signed-in forms only: a bearer-token script is not a browser a site can steer."""
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return
    if not hmac.compare_digest(form.get("csrf", "").encode(), request.app[CSRF].encode()):
        raise web.HTTPForbidden(text="403: the form token is missing or wrong; reload the page"
                                     " and try again\n")


def _name(form: Mapping[str, str]) -> str:
    return " ".join(form.get("by", "").split())[:80]


async def _record(actions: Actions, incident_id: str) -> IncidentRecord:
    record = await actions.call(actions.alerts.incident, incident_id)
    if record is None:
        raise web.HTTPNotFound(text=f"no incident {incident_id!r} (it may have expired)")
    return record


def _name_input(value: str) -> Markup:
    return render('<label>Your name <input type="text" name="by" value="{v}" maxlength="80"'
                  ' autocomplete="name" required></label>', v=value)


def _answer_body(answer: AckAnswer | None, incident_id: str, error: str | None = None,
                 back: bool = True) -> tuple[Markup, int]:
    """The page after an acknowledgement was sent: the worker's answer in words."""
    link = render(' <a href="{h}">Back to the incident</a>', h=_href(incident_id)) if back \
        else Markup("")
    if error is not None:
        return render('<h1>Not acknowledged</h1><p class="error" role="alert">{e}</p>'
                      "<p>Nothing was sent. Try again in a moment, or run"
                      " <code>firestorm ack {i}</code>.{link}</p>",
                      e=error, i=incident_id, link=link), 503
    if answer is None:
        return render('<h1>Sent, no answer yet</h1><p class="pending" role="status">The'
                      " acknowledgement of {i} is on its way, but no worker answered in time."
                      " It is applied when the worker reads it; the incident page shows"
                      " &quot;acknowledged by&quot; once it has.{link}</p>",
                      i=incident_id, link=link), 202
    if answer.ok:
        return render('<h1>Acknowledged</h1><p class="ok" role="status" data-outcome="{o}">'
                      "Recorded: {reason}. Every console, page and notifier now shows who has"
                      " it, and reminders stop.{link}</p>",
                      o=answer.outcome, reason=answer.reason, link=link), 200
    return render('<h1>Not acknowledged</h1><p class="error" role="alert" data-outcome="{o}">'
                  "{label}: {reason}.{link}</p>", o=answer.outcome,
                  label=answer.outcome.replace("_", " ").capitalize(), reason=answer.reason,
                  link=link), 409


async def _send(actions: Actions, incident_id: str, by: str, via: str,
                origin: str) -> tuple[AckAnswer | None, str | None]:
    try:
        return await actions.call(actions.send_ack, incident_id, by, via, origin), None
    except (FirestormError, FirestormAlertError) as exc:
        log.warning("pages ack not sent incident=%s via=%s error=%s", incident_id, via, exc)
        return None, str(exc)


# ---------------------------------------------------------------- signed-in actions

async def _page_ack(request: web.Request) -> web.Response:
    actions = _actions(request)
    incident_id = request.match_info["incident_id"]
    form = await _form(request)
    _check_csrf(request, form)
    record = await _record(actions, incident_id)
    by = _name(form)
    if not by:
        return _html("Name needed", render('<p class="error" role="alert">Type your name so'
                                           ' everyone knows who has it.</p><p><a href="{h}">'
                                           "Back</a></p>", h=_href(incident_id)), 400)
    answer, error = await _send(actions, record.incident_id, by, "page", _origin(request))
    body, status = _answer_body(answer, record.incident_id, error)
    response = _html("Acknowledge", body, status)
    _remember(response, request, by)
    return response


async def _page_silence(request: web.Request) -> web.Response:
    actions = _actions(request)
    incident_id = request.match_info["incident_id"]
    form = await _form(request)
    _check_csrf(request, form)
    record = await _record(actions, incident_id)
    now = actions.clock()
    try:
        until = parse_until(form.get("until", ""), now, "UTC")
        silence = Silence.make(
            record.entity_id, scope=form.get("scope", "entity"),
            linked=actions.links.get(record.entity_id, ()), until=until, by=_name(form),
            why=form.get("why", ""), now=now, include_critical=form.get("critical") == "on",
            via="page", origin=_origin(request))
    except SilenceError as exc:
        return _html("Not silenced", render('<h1>Not silenced</h1><p class="error"'
                                            ' role="alert">{e}</p><p><a href="{h}">Back</a></p>',
                                            e=str(exc), h=_href(incident_id)), 400)
    await actions.call(actions.store.add_silence, silence)
    await actions.call(actions.store.add_audit, AuditEntry(
        now, record.incident_id, "silence", silence.by, "page", silence.origin, "set",
        silence.describe()))
    log.info("silence set id=%s entity=%s scope=%s until=%d via=page", silence.id,
             silence.entity_id, silence.scope, silence.until)
    response = web.HTTPSeeOther(_href(incident_id) + "#silences")
    _remember(response, request, silence.by)
    raise response


async def _lift(request: web.Request) -> web.Response:
    actions = _actions(request)
    form = await _form(request)
    _check_csrf(request, form)
    by = _name(form) or _officer(request) or "unknown"
    lifted = await actions.call(actions.store.lift_silence, request.match_info["silence_id"])
    back = form.get("back", "")
    if lifted is not None and back:
        await actions.call(actions.store.add_audit, AuditEntry(
            actions.clock(), back, "lift-silence", by, "page", _origin(request), "lifted",
            lifted.describe()))
    raise web.HTTPSeeOther(_href(back) + "#silences" if back else "/")


async def _page_feedback(request: web.Request) -> web.Response:
    actions = _actions(request)
    incident_id = request.match_info["incident_id"]
    form = await _form(request)
    _check_csrf(request, form)
    record = await _record(actions, incident_id)
    error = await _give_feedback(actions, record, form, "page", _origin(request))
    if error:
        return _html("No feedback", render('<p class="error" role="alert">{e}</p><p><a'
                                           ' href="{h}">Back</a></p>', e=error,
                                           h=_href(incident_id)), 400)
    response = web.HTTPSeeOther(_href(incident_id) + "#feedback")
    _remember(response, request, _name(form))
    raise response


async def _give_feedback(actions: Actions, record: IncidentRecord, form: Mapping[str, str],
                         via: str, origin: str) -> str | None:
    try:
        feedback = await actions.call(give_feedback, actions.alerts, actions.store,
                                      record.incident_id, form.get("verdict", ""),
                                      form.get("by", ""), via, origin, actions.clock())
    except FirestormError as exc:
        return str(exc)
    log.info("feedback incident=%s verdict=%s via=%s", feedback.incident_id, feedback.verdict,
             via)
    return None


# ---------------------------------------------------------------- the report

async def _report(request: web.Request) -> web.Response:
    actions = _actions(request)
    now = actions.clock()
    given = await actions.call(actions.store.feedback, now - 90 * 86400.0)
    reports = [precision(given, now, days) for days in (30, 90)]
    sections = []
    for report in reports:
        def table(title: str, rows: Any) -> Markup:
            body = [render('<tr><td>{label}</td><td class="num">{u}</td><td class="num">{t}'
                           '</td><td class="num">{f}</td><td class="num">{n}</td>'
                           '<td class="num">{p}</td><td class="num">{late}</td></tr>',
                           label=r.label, u=r.useful, t=r.too_late, f=r.false_alarm, n=r.rated,
                           p=_pct(r.precision), late=_pct(r.too_late_share)) for r in rows]
            return render('<h3>{title}</h3><table class="precision"><thead><tr><th>{what}</th>'
                          '<th>useful</th><th>too late</th><th>false alarm</th><th>rated</th>'
                          "<th>precision</th><th>too-late share</th></tr></thead><tbody>{rows}"
                          "</tbody></table>", title=title, what=title.split()[-1],
                          rows=join(body) or Markup('<tr><td colspan="7">no feedback yet'
                                                    "</td></tr>"))
        sections.append(render(
            '<section class="report" data-days="{d}"><h2>Last {d} days: precision {p} over {n}'
            " rated incident{s}</h2>{entity}{severity}</section>", d=report.days,
            p=_pct(report.total.precision), n=report.total.rated,
            s="" if report.total.rated == 1 else "s",
            entity=table("Per entity", report.by_entity),
            severity=table("Per severity", report.by_severity)))
    body = join([Markup("<h1>Alert precision</h1><p class=\"note\">From the duty officers'"
                        " feedback: precision is the share of rated incidents that were real"
                        " (useful, or too late to act on); the latest verdict on an incident"
                        " counts. <code>firestorm report</code> prints the same.</p>"),
                 *sections])
    return _html("Precision", body)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


# ---------------------------------------------------------------- signed links

def _link_key(request: web.Request) -> tuple[Actions, bytes]:
    actions = _actions(request)
    if not actions.link_key:
        raise web.HTTPNotFound(text="signed links are not enabled on these pages"
                                    " (FIRESTORM_LINK_KEY is not set)\n")
    return actions, actions.link_key


def _refused(title: str, text: str, status: int, incident_id: str | None = None) -> web.Response:
    extra = render('<p>Sign in to the pages and open <a href="{h}">the incident</a>, or run'
                   " <code>firestorm ack {i}</code>.</p>", h=_href(incident_id),
                   i=incident_id) if incident_id else Markup("")
    body = render('<h1>{title}</h1><p class="error" role="alert" data-refused="{kind}">{text}'
                  "</p>{extra}", title=title, text=text, kind=title.split()[-1].lower(),
                  extra=extra)
    return _html(title, body, status, nav=False)


async def _verify(request: web.Request, purpose: str) -> tuple[Actions, LinkClaim] | web.Response:
    actions, key = _link_key(request)
    token = request.match_info["token"]
    now = actions.clock()
    try:
        return actions, verify_link(key, token, now, purpose)
    except LinkExpired as exc:
        claim = _unsafe_claim(token)
        if claim is not None:
            await actions.call(actions.store.add_audit, AuditEntry(
                now, claim.incident_id, "link-refused", "", "link",
                f"{_origin(request)} via {claim.channel}", "expired", str(exc)))
        return _refused("Link expired", f"{exc}. Links in messages work for a limited time.",
                        410, claim.incident_id if claim else None)
    except LinkError as exc:
        log.warning("signed link refused remote=%s reason=forged", _origin(request))
        return _refused("Link not valid", str(exc), 403)


SignedHandler = Callable[[web.Request, "Actions", LinkClaim], Awaitable[web.Response]]


def _signed(purpose: str) -> Callable[[SignedHandler], Callable[[web.Request],
                                                                  Awaitable[web.Response]]]:
    """A handler for a signed link of ``purpose``: it runs only on a link that verifies
    (expired and forged links get their refusal page, an expired one audited)."""
    def wrap(handler: SignedHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.Response:
            verified = await _verify(request, purpose)
            if isinstance(verified, web.Response):
                return verified
            return await handler(request, *verified)
        return checked
    return wrap


def _unsafe_claim(token: str) -> LinkClaim | None:
    """The claim of a token whose signature was already checked (expired links only)."""
    try:
        body = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return LinkClaim(str(data["p"]), str(data["i"]), float(data["e"]), str(data["n"]),
                         str(data.get("c", "")))
    except (ValueError, IndexError, KeyError, TypeError):
        return None


def _link_csrf(key: bytes, cookie: str, claim: LinkClaim) -> str:
    return hmac.new(key, f"link-csrf:{cookie}:{claim.nonce}".encode(),
                    hashlib.sha256).hexdigest()


def _used_page(use: LinkUse, incident_id: str) -> web.Response:
    if use.outcome == "pending":
        text = (f"This link is being used right now (by {use.by}, {when(use.at)}); wait for"
                " that answer.")
    else:
        text = (f"This link was already used by {use.by} at {when(use.at)} (answer:"
                f" {use.outcome.replace('_', ' ')}). Each acknowledgement link works once.")
    return _refused("Link already used", text, 409, incident_id)


async def _summary(actions: Actions, incident_id: str) -> Markup:
    record = await actions.call(actions.alerts.incident, incident_id)
    if record is None:
        return render('<p class="note">Incident {i} (its record has expired or is not in'
                      " Redis yet).</p>", i=incident_id)
    ack = (f"acknowledged by {record.acknowledged_by} at {when(record.acknowledged_at)}"
           if record.acknowledged_by else "not acknowledged")
    return render('<p class="meta"><strong>{name}</strong> <span class="kind">{kind}</span>'
                  ' <span class="sev sev-{sev}">{sev}</span> <span class="state state-{st}">'
                  '{st}</span> <span class="id">incident {i}</span></p><p>Opened {opened};'
                  " last {last} at {last_at}; {ack}.</p>",
                  name=record.entity_name, kind=record.entity_kind, sev=record.severity,
                  st=record.status, i=record.incident_id, opened=when(record.opened_at),
                  last=record.last_event, last_at=when(record.last_at), ack=ack)


async def _link_page(request: web.Request, actions: Actions, claim: LinkClaim, title: str,
                     heading: str, form_class: str, controls: Markup,
                     note: Markup) -> web.Response:
    """A link's confirmation page: the incident, a form, and the form token's cookie."""
    nonce = secrets.token_urlsafe(18)
    body = join([
        render("<h1>{h}</h1>", h=heading), await _summary(actions, claim.incident_id),
        render('<form class="action {cls}" method="post" action="{action}">'
               '<input type="hidden" name="csrf" value="{csrf}">{name} {controls}</form>{note}',
               cls=form_class, action=request.path,
               csrf=_link_csrf(actions.link_key, nonce, claim),
               name=_name_input(_officer(request)), controls=controls, note=note),
    ])
    response = _html(title, body, nav=False)
    response.set_cookie(LINK_COOKIE, nonce, max_age=3600, path="/", httponly=True,
                        samesite="Strict", secure=request.secure)
    return response


def _link_csrf_ok(request: web.Request, actions: Actions, claim: LinkClaim,
                  form: Mapping[str, str]) -> bool:
    cookie = request.cookies.get(LINK_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(
        form.get("csrf", "").encode(), _link_csrf(actions.link_key, cookie, claim).encode())


def _verdict_buttons() -> Markup:
    return join(render('<button type="submit" name="verdict" value="{v}">{label}</button>',
                       v=v, label=verdict_label(v).capitalize()) for v in VERDICTS)


@_signed("ack")
async def _link_ack_form(request: web.Request, actions: Actions, claim: LinkClaim) -> web.Response:
    use = await actions.call(actions.store.link_use, claim.nonce)
    if use is not None:
        return _used_page(use, claim.incident_id)
    return await _link_page(
        request, actions, claim, "Acknowledge", "Acknowledge this incident?", "ack-link",
        Markup('<button type="submit" class="ack">Acknowledge</button>'),
        render('<p class="note">This link works once, until {exp}. Acknowledging tells'
               " everyone on duty that you have it, and stops the reminders.</p>",
               exp=when(claim.expires_at)))


@_signed("ack")
async def _link_ack(request: web.Request, actions: Actions, claim: LinkClaim) -> web.Response:
    form = await _form(request)
    origin = f"{_origin(request)} via {claim.channel or 'a signed link'}"
    used = await actions.call(actions.store.link_use, claim.nonce)
    if used is not None:  # a replayed confirmation: said plainly, whoever sends it
        return _used_page(used, claim.incident_id)
    if not _link_csrf_ok(request, actions, claim, form):
        await actions.call(actions.store.add_audit, AuditEntry(
            actions.clock(), claim.incident_id, "link-refused", _name(form), "link", origin,
            "csrf", "the confirmation did not come from the link's own page"))
        return _refused("Confirmation not valid",
                        "This confirmation did not come from the link's own page (its form"
                        " token is missing or wrong). Open the link again and press"
                        " Acknowledge there.", 403, claim.incident_id)
    by = _name(form)
    if not by:
        return _html("Name needed", render('<p class="error" role="alert">Type your name so'
                                           " everyone knows who has it; open the link again."
                                           "</p>"), 400, nav=False)
    now = actions.clock()
    ttl = claim.expires_at - now + 86400  # remembered a day past expiry
    if not await actions.call(actions.store.claim_link, claim.nonce, ttl,
                              LinkUse(now, by, "pending", origin)):
        use = await actions.call(actions.store.link_use, claim.nonce)
        return _used_page(use or LinkUse(now, "someone", "pending"), claim.incident_id)
    answer, error = await _send(actions, claim.incident_id, by, "link", origin)
    if error is not None:
        await actions.call(actions.store.release_link, claim.nonce)  # nothing was sent
    else:
        outcome = answer.outcome if answer is not None else "sent, no answer in time"
        await actions.call(actions.store.finish_link, claim.nonce,
                           LinkUse(now, by, outcome, origin), ttl)
    body, status = _answer_body(answer, claim.incident_id, error, back=False)
    response = _html("Acknowledge", body, status, nav=False)
    _remember(response, request, by)
    response.del_cookie(LINK_COOKIE, path="/")
    return response


@_signed("feedback")
async def _link_feedback_form(request: web.Request, actions: Actions,
                              claim: LinkClaim) -> web.Response:
    return await _link_page(
        request, actions, claim, "Feedback", "Was this alert useful?", "feedback-link",
        _verdict_buttons(),
        render('<p class="note">Too late: it was real, but we heard too late to act. Your'
               " latest answer counts; the link works until {exp}.</p>",
               exp=when(claim.expires_at)))


@_signed("feedback")
async def _link_feedback(request: web.Request, actions: Actions, claim: LinkClaim) -> web.Response:
    form = await _form(request)
    if not _link_csrf_ok(request, actions, claim, form):
        return _refused("Confirmation not valid", "This answer did not come from the link's own"
                        " page (its form token is missing or wrong). Open the link again.",
                        403, claim.incident_id)
    record = await actions.call(actions.alerts.incident, claim.incident_id)
    if record is None:
        return _refused("Incident gone", f"Incident {claim.incident_id} is no longer kept.", 404)
    origin = f"{_origin(request)} via {claim.channel or 'a signed link'}"
    error = await _give_feedback(actions, record, form, "link", origin)
    if error:
        return _html("No feedback", render('<p class="error" role="alert">{e}</p>', e=error),
                     400, nav=False)
    response = _html("Thank you", render(
        '<h1>Thank you</h1><p class="ok" role="status">Recorded: {v} for {i}. It counts in'
        " the alert precision the pages and <code>firestorm report</code> show.</p>",
        v=verdict_label(form["verdict"]), i=record.incident_id), nav=False)
    _remember(response, request, _name(form))
    return response


# ---------------------------------------------------------------- on the incident page

async def incident_panel(request: web.Request, record: IncidentRecord) -> Markup:
    """The incident page's action panel: ack, silences, feedback, the audit. Empty if off."""
    actions = request.app.get(ACTIONS)
    if actions is None:
        return Markup("")
    now = actions.clock()
    silences = active_for(await actions.call(actions.store.silences, now), record.entity_id, now)
    audit = await actions.call(actions.store.audit, record.incident_id)
    given = [f for f in await actions.call(actions.store.feedback, 0.0)
             if f.incident_id == record.incident_id]
    csrf = render('<input type="hidden" name="csrf" value="{c}">', c=request.app[CSRF])
    name = _name_input(_officer(request))
    href = _href(record.incident_id)
    if record.acknowledged_by:
        ack = render('<p class="ok" data-acknowledged="{by}">Acknowledged by {by} at {at}.</p>',
                     by=record.acknowledged_by, at=when(record.acknowledged_at))
    else:
        ack = render('<form class="action ack" method="post" action="{a}">{csrf}{name}'
                     ' <button type="submit" class="ack">Acknowledge</button></form>',
                     a=href + "/ack", csrf=csrf, name=name)
    banners = [render('<li class="silence" data-silence="{id}">{text}<form method="post"'
                      ' action="{lift}" class="inline">{csrf}<input type="hidden" name="back"'
                      ' value="{back}"><button type="submit">Lift</button></form></li>',
                      id=s.id, text=s.describe(), lift="/silences/" + quote(s.id, safe="")
                      + "/lift", csrf=csrf, back=record.incident_id) for s in silences]
    scope_options = join(render('<option value="{v}">{label}</option>', v=v, label=label)
                         for v, label in zip(SCOPES, ("this entity", "the story (this entity"
                                                      " and its linked policy or partner)"),
                                             strict=True))
    silence_form = render(
        '<form class="action silence" method="post" action="{a}">{csrf}{name}'
        ' <label>Until <input type="text" name="until" placeholder="2h, 07:00 (UTC) or'
        ' 2024-05-02T07:00Z" size="22"></label> <label>Why <input type="text" name="why"'
        ' maxlength="300" size="30"></label> <label>Scope <select name="scope">{scopes}'
        '</select></label> <label><input type="checkbox" name="critical"> also silence'
        " critical</label> <button type=\"submit\">Silence</button></form>",
        a=href + "/silence", csrf=csrf, name=name, scopes=scope_options)
    latest = max(given, key=lambda f: f.at, default=None)
    rated = (render('<p data-verdict="{v}">Rated <strong>{label}</strong> by {by} at {at}.'
                    "</p>", v=latest.verdict, label=verdict_label(latest.verdict),
                    by=latest.by, at=when(latest.at)) if latest
             else Markup('<p class="note">Not rated yet.</p>'))
    feedback_form = render('<form class="action feedback" method="post" action="{a}">{csrf}'
                           "{name} {buttons}</form>", a=href + "/feedback", csrf=csrf,
                           name=name, buttons=_verdict_buttons())
    trail = [render('<li data-action="{a}">{line}</li>', a=e.action, line=e.line())
             for e in audit]
    return render(
        '<section class="actions" id="actions"><h2>Acknowledge</h2>{ack}'
        '<h2 id="silences">Silences</h2>{banners}{silence_form}'
        '<h2 id="feedback">Was this alert useful?</h2>{rated}{feedback_form}'
        '<h2>Actions taken</h2>{trail}</section>',
        ack=ack, banners=render('<ul class="silences">{b}</ul>', b=join(banners)) if banners
        else Markup('<p class="note">None in force.</p>'), silence_form=silence_form,
        rated=rated, feedback_form=feedback_form,
        trail=render('<ul class="audit">{t}</ul>', t=join(trail)) if trail
        else Markup('<p class="note">None yet.</p>'))


async def silences_section(request: web.Request) -> Markup:
    """Silences in force, for the incident list (empty when there are none)."""
    actions = request.app.get(ACTIONS)
    if actions is None:
        return Markup("")
    silences = await actions.call(actions.store.silences, actions.clock())
    if not silences:
        return Markup("")
    items = [render('<li class="silence" data-silence="{id}">{entity}: {text}</li>', id=s.id,
                    entity=s.entity_id, text=s.describe()) for s in silences]
    return render('<section class="silences"><h2>Silences in force</h2><ul>{items}</ul>'
                  "</section>", items=join(items))

