"""The console without a terminal: the board, the selection and the ack dialogue.

:class:`Console` holds the board (:mod:`alerting.board`), the selection and
the acknowledgement dialogue; keys go in as names (``"up"``, ``"a"``, ``"y"``),
the screen comes out as styled lines. The ack sender is injected.

Every string that came from a post, a handle or an event goes through
:func:`streams.render.safe`: a post cannot move the cursor or clear the screen.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from alerting.ack import AckAnswer
from alerting.board import Board, Entry, fold
from alerting.event import AlertEvent
from alerting.feedback import VERDICTS, verdict_label
from alerting.silence import Silence, active_for
from streams.console.feed import Message
from streams.render import format_age, format_figures, safe

__all__ = ["Console", "Line", "Screen", "Segment", "screen_text"]

Segment = tuple[str, str]  # (text, style)
Line = tuple[Segment, ...]


def _spawn(fn: Callable[[], None]) -> None:
    threading.Thread(target=fn, name="firestorm-ack", daemon=True).start()


@dataclass(frozen=True, slots=True)
class Screen:
    """What to draw: a fixed header, a scrollable body, and the body lines to keep in view."""

    header: tuple[Line, ...]
    body: tuple[Line, ...]
    focus: tuple[int, int]  # body lines [start, end) of the selected incident
    footer: tuple[Line, ...]


class Console:
    """The console's state and behaviour, without a terminal.

    ``ack(incident_id)`` sends an acknowledgement and returns the worker's
    :class:`~alerting.ack.AckAnswer` (None: no answer in time), or raises if it
    cannot send (``streams.acks.acknowledge`` in production); ``spawn`` runs it
    off the UI thread. Nothing on the board changes when the ack is sent: the
    incident shows "acknowledged by NAME" only when the worker's 'acknowledged'
    event arrives, so what every officer sees is what the system recorded; a
    refusal is shown with the worker's reason.

    ``feedback(incident_id, verdict)`` records the officer's verdict (``f`` then
    ``u``/``x``/``t``); without it the key says feedback is not available.
    """

    def __init__(self, by: str, ack: Callable[[str], object],
                 spawn: Callable[[Callable[[], None]], None] = _spawn,
                 clock: Callable[[], float] = time.time, where: str = "",
                 feedback: Callable[[str, str], object] | None = None) -> None:
        self.by, self._ack, self._spawn, self._clock, self.where = by, ack, spawn, clock, where
        self._feedback = feedback
        self.rating: str | None = None  # incident id awaiting u/x/t
        self.silences: list[Silence] = []
        self.board = Board()
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.status: tuple[bool, str] = (True, "connecting…")
        self.selected: str | None = None
        self.confirm: str | None = None  # incident id awaiting y/n
        self.pending: dict[str, str] = {}  # incident id -> ack progress
        self.message: tuple[str, str] = ("", "normal")

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
        elif kind == "ack_sent" and message[1] in self.pending:
            self.pending[message[1]] = "ack sent, waiting for the worker…"
        elif kind == "ack_failed":
            self.pending.pop(message[1], None)
            self.message = (f"ack NOT sent for {message[1]}: {message[2]}", "alert")
        elif kind == "ack_answer":
            self._answered(message[1], message[2], message[3])
        elif kind == "ack_no_answer":
            if message[1] in self.pending:
                self.pending[message[1]] = "ack sent, no answer from a worker yet…"
            self.message = (f"no answer from a worker about {message[1]}: is it running with"
                            " these topics? It applies the ack when it reads it.", "alert")
        elif kind == "silences":
            self.silences = list(message[1])
        elif kind == "rated":
            self.message = (f"rated {message[1]}: {verdict_label(message[2])}", "ok")
        elif kind == "rate_failed":
            self.message = (f"rating NOT saved for {message[1]}: {message[2]}", "alert")

    def handle_key(self, key: str) -> bool:
        """Act on one key (``up``, ``down``, ``j``, ``k``, ``a``, ``y``, ``r``, ``q``, ...).

        Returns False when the console should quit. While a confirmation is
        asked, any key but ``y`` cancels it: a stray key never acknowledges.
        """
        if self.confirm is not None:
            incident_id, self.confirm = self.confirm, None
            if key in ("y", "Y"):
                self._send(incident_id)
            else:
                self.message = (f"not acknowledged: {incident_id}", "normal")
            return True
        if self.rating is not None:
            incident_id, self.rating = self.rating, None
            verdict = _RATING_KEYS.get(key)
            if verdict is None:
                self.message = (f"not rated: {incident_id}", "normal")
            else:
                self._rate(incident_id, verdict)
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

    def screen(self, width: int = 100, expand_all: bool = False) -> Screen:
        """The screen to draw; ``expand_all`` shows every incident's evidence (printing)."""
        now = self._clock()
        ok, status = self.status
        counts = self.board.counts()
        header: list[Line] = [(
            ("FIRESTORM duty console", "title"),
            (f"  {time.strftime('%H:%M:%S %Z', time.localtime(now))}", "normal"),
            ("  Redis: ", "normal"),
            (safe(status, 120), "normal" if ok else "alert"),
            *(("  " + " ".join(f"{s.upper()} {n}" for s, n in counts.items()), "normal"),),
        ), ((f"open {len(self.board.open)}  you: {safe(self.by, 40)}"
             + (f"  at {self.where}" if self.where else ""), "dim"),)]
        body: list[Line] = []
        focus = (0, 0)
        selected = self._current()
        if not self.board.open:
            body.append(((("No open incidents. Watching for new alerts." if ok
                            else "No open incidents known."), "dim"),))
        for entry in self.board.open:
            start = len(body)
            expanded = expand_all or entry.incident_id == selected
            body += self._block(entry, now, width, expanded=expanded)
            body.append(())
            if entry.incident_id == selected:
                focus = (start, len(body))
        if self.board.resolved:
            body.append((("Recently resolved", "dim"),))
            for entry in self.board.resolved:
                ack = f", acknowledged by {safe(entry.acknowledged_by, 40)}" \
                    if entry.acknowledged_by else ""
                body.append(((f"  {safe(entry.event.entity_name, 60)}"
                              f"  {safe(entry.incident_id, 80)}"
                              f"  resolved {format_age(now - entry.event.at)} ago{ack}",
                              "dim"),))
        footer: list[Line] = [(self.message,) if self.message[0] else (),
                              (("↑/↓ j/k select   a acknowledge   f feedback   r redraw   q quit",
                                "keys"),)]
        return Screen(tuple(header), tuple(body), focus, tuple(footer))

    def _block(self, entry: Entry, now: float, width: int, expanded: bool) -> list[Line]:
        e = entry.event
        marker = "▶ " if entry.incident_id == self.selected else "  "
        if entry.acknowledged_by:
            ack: Segment = (f"acknowledged by {safe(entry.acknowledged_by, 40)}", "ok")
        elif entry.incident_id in self.pending:
            ack = (self.pending[entry.incident_id], "pending")
        else:
            ack = ("NOT ACKNOWLEDGED", "alert")
        lines: list[Line] = [
            ((marker, "normal"), (f" {e.severity.upper():8} ", e.severity),
             (f" {safe(e.entity_name, 60)} ({safe(e.entity_kind, 20)})", "name"),
             (f"  {safe(e.incident_id, 80)}  ", "dim"), ack),
            (("    " + format_figures(e.volume, e.expected_volume, e.negativity,
                                    e.expected_negativity, e.score)
              + f" | opened {format_age(now - entry.opened_at)} ago, last"
              f" {safe(entry.last_event, 20)} {format_age(now - entry.last_at)} ago",
              "normal"),),
        ]
        for silence in active_for(self.silences, e.entity_id, now):
            lines.append(((f"    {safe(silence.describe(), max(40, width - 6))}", "pending"),))
        if not expanded:
            return lines
        room = max(40, width - 12)
        lines += [((f"    why: {safe(reason, room)}", "normal"),) for reason in e.reasons]
        about = []
        if e.evidence.linked:
            about.append("linked: " + ", ".join(
                f"{safe(eid, 60)}" + (f" ({n} co-mentions)" if n else " (watchlist link)")
                for eid, n in e.evidence.linked[:4]))
        if e.owner:
            about.append(f"owner: {safe(e.owner, 40)}")
        if about:
            lines.append(((f"    {' | '.join(about)}", "normal"),))
        tags = e.evidence.top_hashtags or e.evidence.top_terms
        if tags:
            lines.append(((f"    {'hashtags' if e.evidence.top_hashtags else 'terms'}: "
                           + ", ".join(f"{safe(t, 40)} ({n})" for t, n in tags[:5]), "normal"),))
        lines += [((f"    > {safe(s.author, 40)}: ", "dim"), (safe(s.text, room), "normal"))
                  for s in e.evidence.samples[:3]]
        return lines

    # -- internals -----------------------------------------------------------

    def _fold(self, events: Iterable[AlertEvent], board: Board) -> None:
        self.board = fold(events, board)
        for incident_id in list(self.pending):
            entry = self.board.find(incident_id)
            if entry is None or entry.acknowledged_by:
                del self.pending[incident_id]
                if entry is not None:
                    self.message = (f"{incident_id} acknowledged by {entry.acknowledged_by}",
                                    "ok")

    def _current(self) -> str | None:
        ids = [e.incident_id for e in self.board.open]
        if self.selected not in ids:
            self.selected = ids[0] if ids else None
        return self.selected

    def _move(self, step: int) -> None:
        ids = [e.incident_id for e in self.board.open]
        current = self._current()
        if current is not None:
            index = min(max(ids.index(current) + step, 0), len(ids) - 1)
            self.selected = ids[index]

    def _ask(self) -> None:
        entry = self.board.find(self._current() or "")
        if entry is None:
            self.message = ("nothing to acknowledge", "normal")
        elif entry.acknowledged_by:
            self.message = (f"already acknowledged by {entry.acknowledged_by}", "normal")
        elif entry.incident_id in self.pending:
            self.message = (self.pending[entry.incident_id], "pending")
        else:
            self.confirm = entry.incident_id
            self.message = (f"Acknowledge {entry.incident_id} ({safe(entry.event.entity_name, 60)})"
                            f" as {self.by}? y/n", "ask")

    def _answered(self, incident_id: str, outcome: str, reason: str) -> None:
        if outcome == "recorded":
            if incident_id in self.pending:  # the 'acknowledged' event is still on its way
                self.pending[incident_id] = "recorded by the worker, updating…"
            self.message = (f"recorded: {safe(reason, 200)}", "ok")
            return
        self.pending.pop(incident_id, None)
        label = outcome.replace("_", " ")
        self.message = (f"ack refused ({label}): {safe(reason, 200)}", "alert")

    def _ask_rating(self) -> None:
        entry = self.board.find(self._current() or "")
        if entry is None:
            self.message = ("nothing to rate", "normal")
        elif self._feedback is None:
            self.message = ("feedback is not available in this console", "normal")
        else:
            self.rating = entry.incident_id
            self.message = (f"Rate {entry.incident_id}: u useful, x false alarm, t too late"
                            " (any other key cancels)", "ask")

    def _rate(self, incident_id: str, verdict: str) -> None:
        rate = self._feedback
        self.message = ("saving feedback…", "pending")

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
        self.message = ("", "normal")

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


_RATING_KEYS = dict(zip(("u", "x", "t"), VERDICTS, strict=True))


def screen_text(screen: Screen) -> str:
    """The whole screen as plain lines (``--once``, ``--plain``, tests)."""
    lines = [*screen.header, (), *screen.body]
    return "\n".join("".join(text for text, _ in line) for line in lines).rstrip() + "\n"

