"""How big and how negative: the figures of one alert, and the one way they are written.

Every channel (the console, chat and email messages, the incident pages and the
exports) writes the figures with :meth:`Figures.volume_text` and
:meth:`Figures.negativity_text`, so "322 mentions in 5 min, usually 5.5" names
the same count over the same window wherever the duty officer reads it. A count
without its window is what made "322 mentions in the minute" and "over 5 min"
disagree about one alert.
"""

from __future__ import annotations

from typing import NamedTuple

from models.signals import usual

__all__ = ["Figures", "window_text"]


def window_text(seconds: float | None) -> str:
    """A window's length as people say it.

    >>> window_text(60), window_text(300), window_text(3600), window_text(3 * 3600)
    ('1 min', '5 min', '60 min', '3 h')
    >>> window_text(None)
    'an unrecorded window'
    """
    if seconds is None:
        return "an unrecorded window"  # events written before windows were recorded
    if seconds >= 2 * 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:.0f} h"
    if seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:g} s"


class Figures(NamedTuple):
    """The numbers behind an alert: a count and a negative share over one window.

    ``volume`` mentions were counted over the last ``window_seconds`` of event
    time; ``expected_volume`` is what the baseline expects over the same window;
    the negative share is of those same mentions.

    >>> f = Figures(322, 5.5, 0.8, 0.3, 9.1, window_seconds=300)
    >>> f.volume_text()
    '322 mentions in 5 min, usually 5.5 (58.5x)'
    >>> f.negativity_text()
    '80% of them negative, usually 30%'
    >>> f._replace(expected_negativity=0.001).negativity_text()  # not "usually 0%"
    '80% of them negative, usually 0.1%'
    >>> f.text()
    '322 mentions in 5 min, usually 5.5 (58.5x) | 80% of them negative, usually 30% | score 9.1'
    """

    volume: int
    expected_volume: float
    negativity: float
    expected_negativity: float
    score: float
    window_seconds: float | None = None

    def volume_text(self) -> str:
        """``N mentions in WINDOW, usually E`` and the ratio when the baseline is not ~0."""
        ratio = (f" ({self.volume / self.expected_volume:.1f}x)"
                 if self.expected_volume >= 0.05 else "")
        return (f"{self.volume} mention{'' if self.volume == 1 else 's'} in"
                f" {window_text(self.window_seconds)}, usually {self.expected_volume:.1f}{ratio}")

    def negativity_text(self) -> str:
        """The negative share of the same mentions, against its usual share (written as
        the reasons write it: a calm entity's usual share keeps a decimal under 1 %)."""
        return f"{self.negativity:.0%} of them negative, usually {usual(self.expected_negativity)}"

    def score_text(self) -> str:
        return f"score {self.score:.1f}"

    def text(self) -> str:
        """All three, in the order the officer asks: how big, how negative, how sure."""
        return " | ".join((self.volume_text(), self.negativity_text(), self.score_text()))
