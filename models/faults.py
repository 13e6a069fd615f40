"""A test-only fault hook: a marker in a post's text makes a pure step raise.

The stream's fail-stop path (streams/failstop.py) has to be tested on the real
broker with a message that crashes the pure code the way a bug would, from
inside the step. A post whose text holds ``<marker>:intake`` makes the
negativity scoring of its batch raise; ``<marker>:detect`` makes the engine's
step on its observation raise (``alerting/faults.py``). The marker is a setting
(``FIRESTORM_TEST_POISON``) that is empty in production, where the hook is not
installed at all, so no post can crash a real worker on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["InjectedFault", "PoisonScorer", "poisoned"]


class InjectedFault(RuntimeError):
    """Raised on purpose by the test-only fault hook."""


def poisoned(marker: str, stage: str, text: object) -> bool:
    """Does ``text`` ask the hook to crash ``stage`` (``intake`` or ``detect``)?

    >>> poisoned("P0ison", "detect", "boycott acme P0ison:detect")
    True
    >>> poisoned("P0ison", "detect", "boycott acme P0ison:intake")
    False
    """
    return isinstance(text, str) and f"{marker}:{stage}" in text


@dataclass(frozen=True, slots=True)
class PoisonScorer:
    """A batch scorer (texts first: ``score_many`` or ``assess_many``) that raises on a
    text carrying ``<marker>:intake``, else scores.

    >>> score = PoisonScorer(lambda texts: [0.5] * len(texts), "P0ison")
    >>> score(["fine", "also fine"])
    [0.5, 0.5]
    >>> score(["fine", "P0ison:intake"])
    Traceback (most recent call last):
    ...
    models.faults.InjectedFault: test poison in intake (FIRESTORM_TEST_POISON)
    """

    score_many: Callable[..., Any]
    marker: str

    def __call__(self, texts: Sequence[str], *args: Any) -> Any:
        if any(poisoned(self.marker, "intake", t) for t in texts):
            raise InjectedFault("test poison in intake (FIRESTORM_TEST_POISON)")
        return self.score_many(texts, *args)

