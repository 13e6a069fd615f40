"""The console without a terminal: the board, the selection and the ack dialogue.

:class:`Console` holds the board (:mod:`alerting.board`), the selection and
the acknowledgement dialogue; keys go in as names (``"up"``, ``"a"``, ``"y"``),
the screen comes out as styled lines. The ack sender is injected.

One block per story (:func:`alerting.board.stories`): a partner and its
policy storming together are one block, one selection, one acknowledgement.

Every string that came from a post, a handle or an event goes through
:func:`streams.render.safe`: a post cannot move the cursor or clear the screen.
Every line is fitted to the terminal's width by :func:`fit`: the severity and
the acknowledgement state are never cut; names, ids and figures that do not
fit end in "…".
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from alerting.ack import AckAnswer
from alerting.board import Board, StoryView, fold, stories
from alerting.event import AlertEvent
from alerting.feedback import VERDICTS, verdict_label
from alerting.liveness import DEFAULT_SILENT_AFTER, Heartbeat, History, Liveness, judge
from alerting.silence import Silence, active_for
from streams.console.feed import Message
from streams.render import format_age, safe

__all__ = ["FIXED", "Console", "Line", "Screen", "Segment", "fit", "screen_text"]

Segment = tuple[str, str]  # (text, style)
Line = tuple[Segment, ...]

# Styles of what must never be cut: severity badges, acknowledgement states, the
# y/n of a question and the key help. Anything else gives way, ending in "…"
# ("alarm" is red like "alert", but a long alarm may be cut).
FIXED = frozenset(("critical", "warning", "watch", "alert", "ok", "pending", "ask", "keys"))


def _spawn(fn: Callable[[], None]) -> None:
    threading.Thread(target=fn, name="firestorm-ack", daemon=True).start()


def fit(line: Line, width: int) -> Line:
    """``line`` cut to ``width`` columns: the last elastic segments give way first.

    >>> fit((("CRITICAL", "critical"), ("  Acme Stores (partner)", "name"),
    ...      ("  NOT ACKNOWLEDGED", "alert")), 32)
    (('CRITICAL', 'critical'), ('  Acm…', 'name'), ('  NOT ACKNOWLEDGED', 'alert'))
    """
    segments = list(line)
    excess = sum(len(text) for text, _ in segments) - width
    for i in range(len(segments) - 1, -1, -1):
        if excess <= 0:
            break
        text, style = segments[i]
        if style in FIXED or not text:
            continue
        keep = max(0, len(text) - excess - 1)
        # Cut to at least its leading spaces plus one character and the ellipsis.
        indent = len(text) - len(text.lstrip(" "))
        if keep <= indent:
            excess -= len(text)
            segments[i] = ("", style)
            continue
        segments[i] = (text[:keep] + "…", style)
        excess -= len(text) - keep - 1
    if excess > 0:  # fixed segments alone are too wide: a very narrow terminal
        out, room = [], width
        for text, style in segments:
            out.append((text[:max(room, 0)], style))
            room -= len(text)
        segments = out
    return tuple((text, style) for text, style in segments if text)


@dataclass(frozen=True, slots=True)
class Screen:
    """What to draw: a fixed header, a scrollable body, and the body lines to keep in view."""

    header: tuple[Line, ...]
    body: tuple[Line, ...]
    focus: tuple[int, int]  # body lines [start, end) of the selected story
    footer: tuple[Line, ...]


class Console:
    """The console's state and behaviour, without a terminal.

    ``ack(incident_id)`` sends an acknowledgement and returns the worker's
    :class:`~alerting.ack.AckAnswer` (None: no answer in time), or raises if it
    cannot send (``streams.acks.acknowledge`` in production); ``spawn`` runs it
    off the UI thread. Nothing on the board changes when the ack is sent: the
    incident shows "acknowledged by NAME" only when the worker's 'acknowledged'
    event arrives, so what every officer sees is what the system recorded; a
    refusal is shown with the worker's reason. On a story, one acknowledgement
    goes for each of its incidents not acknowledged yet.

    ``feedback(incident_id, verdict)`` records the officer's verdict (``f`` then
    ``u``/``x``/``t``; on a story, for each of its incidents); without it the key
    says feedback is not available.
    """

    def __init__(self, by: str, ack: Callable[[str], object],
                 spawn: Callable[[Callable[[], None]], None] = _spawn,
                 clock: Callable[[], float] = time.time, where: str = "",
                 feedback: Callable[[str, str], object] | None = None,
                 silent_after: float = DEFAULT_SILENT_AFTER) -> None:
        self.by, self._ack, self._spawn, self._clock, self.where = by, ack, spawn, clock, where
        self._feedback = feedback
        self.rating: str | None = None  # story id awaiting u/x/t
        self.silences: list[Silence] = []
        self.silent_after = silent_after
        self.board = Board()
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.status: tuple[bool, str] = (True, "connecting…")
        self.heartbeats: list[Heartbeat] = []
        self.history: History | None = None
        self.liveness_known = False  # heartbeats read at least once
        self.lost_at: float | None = None  # when this console saw the log go
        self.selected: str | None = None  # story id
        self.confirm: str | None = None  # story id awaiting y/n
        self.pending: dict[str, str] = {}  # incident id -> ack progress
        self.message: Line = ()  # the footer's message: a question, a confirmation, an error

    # -- input ---------------------------------------------------------------

    def drain(self) -> bool:
        """Apply every waiting message; True if anything changed."""
        changed = False
        while True:
            try:
                message = self.inbox.get_nowait()
            except queue.Empty:
                return changed
            self.receive(message)
            changed = True

    def receive(self, message: Message) -> None:
        kind = message[0]
        if kind == "reset":
            self._fold(message[1], Board())
        elif kind == "events":
            self._fold(message[1], self.board)
        elif kind == "status":
            self.status = (message[1], message[2])
        elif kind == "liveness":
            self.heartbeats, self.history, self.liveness_known = message[1], message[2], True
        elif kind == "lost":
            self.lost_at = message[1]
        elif kind == "ack_sent" and message[1] in self.pending:
            self.pending[message[1]] = "ack sent, waiting for the worker…"
        elif kind == "ack_failed":
            self.pending.pop(message[1], None)
            self._say(f"ack NOT sent for {message[1]}: {message[2]}", "alarm")
        elif kind == "ack_answer":
            self._answered(message[1], message[2], message[3])
        elif kind == "ack_no_answer":
            if message[1] in self.pending:
                self.pending[message[1]] = "ack sent, no answer from a worker yet…"
            self._say(f"no answer from a worker about {message[1]}: is it running with"
                      " these topics? It applies the ack when it reads it.", "alarm")
        elif kind == "silences":
            self.silences = list(message[1])
        elif kind == "rated":
            self._say(f"rated {message[1]}: {verdict_label(message[2])}", "ok")
        elif kind == "rate_failed":
            self._say(f"rating NOT saved for {message[1]}: {message[2]}", "alarm")

    def handle_key(self, key: str) -> bool:
        """Act on one key (``up``, ``down``, ``j``, ``k``, ``a``, ``y``, ``r``, ``q``, ...).

        Returns False when the console should quit. While a confirmation is
        asked, any key but ``y`` cancels it: a stray key never acknowledges.
        """
        if self.rating is not None:
            story_id, self.rating = self.rating, None
            verdict = _RATING_KEYS.get(key)
            view = self._view(story_id)
            if verdict is None or view is None:
                self._say(f"not rated: {story_id}")
            else:
                for entry in view.entries:
                    self._rate(entry.incident_id, verdict)
            return True
        if self.confirm is not None:
            story_id, self.confirm = self.confirm, None
            view = self._view(story_id)
            if key in ("y", "Y") and view is not None:
                for entry in view.unacknowledged:
                    if entry.incident_id not in self.pending:
                        self._send(entry.incident_id)
            else:
                self._say(f"not acknowledged: {story_id}")
            return True
        if key in ("up", "k"):
            self._move(-1)
        elif key in ("down", "j"):
            self._move(+1)
        elif key == "a":
            self._ask()
        elif key == "f":
            self._ask_rating()
        elif key in ("q", "Q"):
            return False
        return True

    # -- output --------------------------------------------------------------

    def liveness(self) -> Liveness | None:
        """What the heartbeats say now (None until they were read once)."""
        if not self.liveness_known:
            return None
        return judge(self.heartbeats, self.history, self._clock(), self.silent_after)

    def screen(self, width: int = 100, expand_all: bool = False) -> Screen:
        """The screen to draw; ``expand_all`` shows every story's evidence (printing)."""
        now = self._clock()
        ok, status = self.status
        live = self.liveness()
        counts = self.board.counts()
        header: list[Line] = [
            (("FIRESTORM duty console", "title"),
             (f"  {time.strftime('%H:%M:%S %Z', time.localtime(now))}", "normal"),
             ("  " + " ".join(f"{s.upper()} {n}" for s, n in counts.items()), "normal")),
            (("Redis: ", "normal"), (safe(status, 120), "normal" if ok else "alarm"),
             *self._liveness_segments(live if ok else None, ok)),
            ((f"open {len(self.board.open)}  you: {safe(self.by, 40)}"
              + (f"  at {self.where}" if self.where else ""), "dim"),),
        ]
        body: list[Line] = []
        focus = (0, 0)
        views = stories(self.board)
        selected = self._current(views)
        if not views:
            body.append(self._empty(live if ok else None, ok))
        elif (notice := self._history_notice(live)) is not None:
            body += [notice, ()]
        for view in views:
            start = len(body)
            expanded = expand_all or view.id == selected
            body += self._block(view, now, expanded=expanded)
            body.append(())
            if view.id == selected:
                focus = (start, len(body))
        if self.board.resolved:
            body.append((("Recently resolved", "dim"),))
            for entry in self.board.resolved:
                ack = f", acknowledged by {safe(entry.acknowledged_by, 40)}" \
                    if entry.acknowledged_by else ""
                body.append(((f"  {safe(entry.event.entity_name, 60)}"
                              f"  resolved {format_age(now - entry.event.at)} ago{ack}",
                              "dim"), (f"  {safe(entry.incident_id, 80)}", "dim")))
        footer: list[Line] = [self.message,
                              (("↑/↓ j/k select   a acknowledge   f feedback   r redraw   q quit",
                                "keys"),)]
        return Screen(tuple(fit(line, width) for line in header),
                      tuple(fit(line, width) for line in body), focus,
                      tuple(fit(line, width) for line in footer))

    def _liveness_segments(self, live: Liveness | None, ok: bool = True
                           ) -> tuple[Segment, ...]:
        if not ok:  # its heartbeats are in Redis: stale ones would tell a wrong story
            return (("  worker: unknown while Redis is unreachable", "dim"),)
        if live is None:
            return (("  worker: not read yet", "dim"),)
        return (("  ", "normal"), (live.text(), "normal" if live.alive else "alarm"))

    def _empty(self, live: Liveness | None, ok: bool) -> Line:
        """An empty board never reads as an all-clear unless the worker vouches for it."""
        if not ok:
            return (("No open incidents known: Redis is unreachable.", "alarm"),)
        if live is None:
            return (("No open incidents known yet.", "dim"),)
        text = live.empty_board_text(self.lost_at if self._lost_unrebuilt(live) else None)
        calm = text.startswith("No open incidents. Watching") and ok
        return ((text, "dim" if calm else "alarm"),)

    def _lost_unrebuilt(self, live: Liveness) -> bool:
        history = live.history
        return self.lost_at is not None and (history is None or history.rebuilt_at is None
                                             or history.rebuilt_at < self.lost_at)

    def _history_notice(self, live: Liveness | None) -> Line | None:
        if live is None:
            return None
        if (live.history is not None and live.history.rebuilding) or self._lost_unrebuilt(live):
            return ((live.empty_board_text(self.lost_at), "alarm"),)
        return None

    def _block(self, view: StoryView, now: float, expanded: bool) -> list[Line]:
        marker = "▶ " if view.id == self.selected else "  "
        lines: list[Line] = [(
            (marker, "normal"), (f" {view.severity.upper():8} ", view.severity),
            (" ", "normal"), self._ack_segment(view),
            (f"  {safe(view.title, 200)}", "name"), (f"  {safe(view.id, 80)}", "dim"))]
        group = len(view.entries) > 1
        for entry in view.entries:
            e = entry.event
            f = e.figures
            if group:
                who = (f" acknowledged by {safe(entry.acknowledged_by, 40)}"
                       if entry.acknowledged_by else " not acknowledged")
                lines.append((("    · ", "normal"), (f"{e.severity.upper()}", e.severity),
                              (f" {safe(e.entity_name, 60)} ({safe(e.entity_kind, 20)})",
                               "name"), (who, "ok" if entry.acknowledged_by else "dim")))
            pad = "      " if group else "    "
            lines.append(((pad + f.volume_text(), "normal"),))
            lines.append(((pad + f.negativity_text() + f" | {f.score_text()}"
                           + f" | opened {format_age(now - entry.opened_at)} ago, last"
                           f" {safe(entry.last_event, 20)} {format_age(now - entry.last_at)}"
                           " ago", "normal"),))
            for silence in active_for(self.silences, e.entity_id, now):
                lines.append(((f"{pad}{safe(silence.describe(), 300)}", "pending"),))
            if expanded:
                lines += [((f"{pad}why: {safe(reason, 300)}", "normal"),)
                          for reason in e.reasons]
        if not expanded:
            return lines
        lead = max(view.entries, key=lambda x: x.event.score).event
        about = []
        linked = self._linked(view, lead)
        if linked:
            about.append("linked: " + linked)
        owners = sorted({x.event.owner for x in view.entries if x.event.owner})
        if owners:
            about.append(f"owner: {safe(', '.join(owners), 60)}")
        if about:
            lines.append(((f"    {' | '.join(about)}", "normal"),))
        ev = lead.evidence
        tags = ev.top_hashtags or ev.top_terms
        if tags:
            lines.append(((f"    {'hashtags' if ev.top_hashtags else 'terms'}: "
                           + ", ".join(f"{safe(t, 40)} ({n})" for t, n in tags[:5]), "normal"),))
        lines += [((f"    > {safe(s.author, 40)}: ", "dim"), (safe(s.text, 300), "normal"))
                  for s in ev.samples[:3]]
        return lines

    @staticmethod
    def _linked(view: StoryView, lead: AlertEvent) -> str:
        """Linked entities not in the story: by name when the story names them."""
        inside = {e.event.entity_id for e in view.entries}
        names = {eid: f"{name} ({kind})" if kind else name
                 for eid, name, kind in (view.story.linked if view.story else ())}
        counts = dict(lead.evidence.linked)
        ids = [eid for eid, _ in lead.evidence.linked if eid not in inside]
        ids += [eid for eid in names if eid not in ids and eid not in inside]
        return ", ".join(
            safe(names.get(eid, eid), 60)
            + (f" ({counts[eid]} co-mentions)" if counts.get(eid) else " (watchlist link)")
            for eid in ids[:4])

    def _ack_segment(self, view: StoryView) -> Segment:
        pending = [self.pending[e.incident_id] for e in view.unacknowledged
                   if e.incident_id in self.pending]
        if view.acknowledged:
            return (f"acknowledged by {safe(', '.join(view.acknowledged_by), 40)}", "ok")
        if pending:
            return (pending[0], "pending")
        if view.acknowledged_by:
            return ("PARTLY ACKNOWLEDGED", "alert")
        return ("NOT ACKNOWLEDGED", "alert")

    # -- internals -----------------------------------------------------------

    def _fold(self, events: Iterable[AlertEvent], board: Board) -> None:
        self.board = fold(events, board)
        for incident_id in list(self.pending):
            entry = self.board.find(incident_id)
            if entry is None or entry.acknowledged_by:
                del self.pending[incident_id]
                if entry is not None:
                    self._say(f"{incident_id} acknowledged by {entry.acknowledged_by}", "ok")

    def _view(self, story_id: str) -> StoryView | None:
        return next((v for v in stories(self.board) if v.id == story_id), None)

    def _current(self, views: tuple[StoryView, ...] | None = None) -> str | None:
        views = stories(self.board) if views is None else views
        ids = [v.id for v in views]
        if self.selected not in ids:
            # The selected incident may have joined a story since: follow it there.
            moved = next((v.id for v in views
                          if any(e.incident_id == self.selected for e in v.entries)), None)
            self.selected = moved or (ids[0] if ids else None)
        return self.selected

    def _move(self, step: int) -> None:
        ids = [v.id for v in stories(self.board)]
        current = self._current()
        if current is not None:
            index = min(max(ids.index(current) + step, 0), len(ids) - 1)
            self.selected = ids[index]

    def _ask(self) -> None:
        current = self._current()
        view = self._view(current) if current else None
        if view is None:
            self._say("nothing to acknowledge")
        elif view.acknowledged:
            self._say(f"already acknowledged by {', '.join(view.acknowledged_by)}")
        elif all(e.incident_id in self.pending for e in view.unacknowledged):
            self._say(self.pending[view.unacknowledged[0].incident_id], "pending")
        else:
            self.confirm = view.id
            what = view.id if len(view.entries) == 1 else f"story {view.id}"
            # The question's end (y/n) is never cut; the title gives way on a narrow screen.
            self.message = (("Acknowledge ", "ask"), (f"{what} ({safe(view.title, 120)})",
                                                      "question"),
                            (f" as {safe(self.by, 40)}? y/n", "ask"))

    def _say(self, text: str, style: str = "normal") -> None:
        self.message = ((text, style),)

    def _answered(self, incident_id: str, outcome: str, reason: str) -> None:
        if outcome == "recorded":
            if incident_id in self.pending:  # the 'acknowledged' event is still on its way
                self.pending[incident_id] = "recorded by the worker, updating…"
            self._say(f"recorded: {safe(reason, 200)}", "ok")
            return
        self.pending.pop(incident_id, None)
        label = outcome.replace("_", " ")
        self._say(f"ack refused ({label}): {safe(reason, 200)}", "alarm")

    def _ask_rating(self) -> None:
        current = self._current()
        view = self._view(current) if current else None
        if view is None:
            self._say("nothing to rate")
        elif self._feedback is None:
            self._say("feedback is not available in this console")
        else:
            self.rating = view.id
            what = view.id if len(view.entries) == 1 else f"story {view.id}"
            self.message = ((f"Rate {what}: ", "ask"), ("u useful, x false alarm, t too late",
                                                         "ask"),
                            (" (any other key cancels)", "normal"))

    def _rate(self, incident_id: str, verdict: str) -> None:
        rate = self._feedback
        self._say("saving feedback…", "pending")

        def send() -> None:
            try:
                if rate is not None:
                    rate(incident_id, verdict)
            except Exception as exc:  # shown to the officer, like a failed ack
                self.inbox.put(("rate_failed", incident_id, safe(exc, 200)))
            else:
                self.inbox.put(("rated", incident_id, verdict))

        self._spawn(send)

    def _send(self, incident_id: str) -> None:
        self.pending[incident_id] = "sending ack, waiting for the worker…"
        self.message = ()

        def send() -> None:
            try:
                answer = self._ack(incident_id)
            except Exception as exc:  # shown to the officer: a silent failed ack is the worst case
                self.inbox.put(("ack_failed", incident_id, safe(exc, 200)))
            else:
                if isinstance(answer, AckAnswer):
                    self.inbox.put(("ack_answer", incident_id, answer.outcome, answer.reason))
                else:
                    self.inbox.put(("ack_no_answer", incident_id))

        self._spawn(send)


def screen_text(screen: Screen) -> str:
    """The whole screen as plain lines (``--once``, ``--plain``, tests)."""
    lines = [*screen.header, (), *screen.body]
    return "\n".join("".join(text for text, _ in line) for line in lines).rstrip() + "\n"


_RATING_KEYS = dict(zip(("u", "x", "t"), VERDICTS, strict=True))
