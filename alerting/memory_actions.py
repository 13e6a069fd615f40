"""Officers' actions in process memory: the same behaviour as Redis, for tests and memory://.

Not a mock: answers wait and are taken once, links are claimed once,
silences end at their time, feedback is kept by time, like
:class:`alerting.action_store.RedisActionStore`. ``available = False`` makes
it behave like an unreachable Redis.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from alerting.ack import AckAnswer
from alerting.action_store import ActionKeys
from alerting.audit import AuditEntry
from alerting.errors import AlertStoreUnavailable
from alerting.feedback import Feedback
from alerting.links import LinkUse
from alerting.silence import Silence
from alerting.store import DEFAULT_RETENTION

__all__ = ["MemoryActionStore"]


class MemoryActionStore:
    """Answers, audit, link uses, silences and feedback in dicts.

    >>> from alerting.ack import AckAnswer
    >>> store = MemoryActionStore()
    >>> store.answer(AckAnswer("r1", "acme-20240501T123400Z", "recorded", "ok", "sam", 0.0))
    >>> store.wait_answer("r1", timeout=0.1).outcome, store.wait_answer("r1", timeout=0.05)
    ('recorded', None)
    """

    def __init__(self, *, retention_seconds: int = DEFAULT_RETENTION, prefix: str = "firestorm",
                 clock: Callable[[], float] = time.time) -> None:
        self.keys = ActionKeys(prefix)
        self.retention_seconds = retention_seconds
        self.available = True
        self._clock = clock
        self._answers: dict[str, list[AckAnswer]] = {}
        self._answered = threading.Condition()
        self._audit: dict[str, list[AuditEntry]] = {}
        self._links: dict[str, tuple[LinkUse, float]] = {}  # nonce -> (use, expires)
        self._silences: dict[str, Silence] = {}
        self._feedback: list[Feedback] = []

    def answer(self, answer: AckAnswer, audit: AuditEntry | None = None) -> None:
        self._check()
        with self._answered:
            if answer.request_id:
                self._answers.setdefault(answer.request_id, []).append(answer)
            self._answered.notify_all()
        if audit is not None:
            self.add_audit(audit)

    def wait_answer(self, request_id: str, timeout: float) -> AckAnswer | None:
        self._check()
        deadline = time.monotonic() + timeout
        with self._answered:
            while not self._answers.get(request_id):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._answered.wait(left)
            return self._answers[request_id].pop(0)

    def add_audit(self, entry: AuditEntry) -> None:
        self._check()
        self._audit.setdefault(entry.incident_id, []).append(entry)

    def audit(self, incident_id: str) -> list[AuditEntry]:
        self._check()
        return list(self._audit.get(incident_id, ()))

    def claim_link(self, nonce: str, ttl: float, use: LinkUse) -> bool:
        self._check()
        if self.link_use(nonce) is not None:
            return False
        self._links[nonce] = (use, self._clock() + ttl)
        return True

    def link_use(self, nonce: str) -> LinkUse | None:
        self._check()
        got = self._links.get(nonce)
        return got[0] if got is not None and got[1] > self._clock() else None

    def finish_link(self, nonce: str, use: LinkUse, ttl: float) -> None:
        self._check()
        self._links[nonce] = (use, self._clock() + ttl)

    def release_link(self, nonce: str) -> None:
        self._check()
        self._links.pop(nonce, None)

    def add_silence(self, silence: Silence) -> None:
        self._check()
        self._silences[silence.id] = silence

    def lift_silence(self, silence_id: str) -> Silence | None:
        self._check()
        return self._silences.pop(silence_id, None)

    def silences(self, now: float | None = None) -> list[Silence]:
        self._check()
        now = self._clock() if now is None else now
        return sorted((s for s in self._silences.values() if s.active(now)),
                      key=lambda s: (-s.until, s.id))

    def add_feedback(self, feedback: Feedback) -> None:
        self._check()
        self._feedback.append(feedback)

    def feedback(self, since: float = 0.0) -> list[Feedback]:
        self._check()
        return sorted((f for f in self._feedback if f.at >= since), key=lambda f: f.at)

    def ping(self) -> None:
        self._check()

    def close(self) -> None:
        """Nothing to release; present so both stores are used the same way."""

    def _check(self) -> None:
        if not self.available:
            raise AlertStoreUnavailable("memory action store switched off (available=False)")
