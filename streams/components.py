"""Build the pure pipeline pieces from settings: the same for worker and replay."""

from __future__ import annotations

import logging
from pathlib import Path

from alerting.engine import Engine
from alerting.faults import PoisonEngine
from models.faults import PoisonScorer
from models.intake import Intake
from models.negativity import NegativityScorer
from models.privacy import Pseudonymiser
from models.watchlist import Watchlist, parse_watchlist
from streams.errors import ConfigError
from streams.settings import Settings

__all__ = ["DEV_PSEUDONYM_KEY", "build_engine", "build_intake", "load_watchlist"]

log = logging.getLogger(__name__)

# Used only when FIRESTORM_PSEUDONYM_KEY is unset; pseudonyms made with it are
# reversible by anyone with this source, so the worker warns at start.
DEV_PSEUDONYM_KEY = "firestorm-development-key"


def load_watchlist(path: str | Path) -> Watchlist:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"watchlist {str(path)!r} not found: pass --watchlist or set"
                          " FIRESTORM_WATCHLIST (the format is in README.md, 'Watchlist')")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"watchlist {str(path)!r} is not UTF-8 text: save it as UTF-8"
                          ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read watchlist {str(path)!r}: {exc.strerror}") from None
    return parse_watchlist(text, source=str(file))


def build_intake(settings: Settings, watchlist: Watchlist, model_path: str = "") -> Intake:
    path = model_path or settings.negativity_model
    scorer = NegativityScorer.load(path) if path else NegativityScorer.default()
    key = settings.pseudonym_key
    if not key:
        log.warning("FIRESTORM_PSEUDONYM_KEY is unset: using the development key;"
                    " set a secret key in production")
        key = DEV_PSEUDONYM_KEY
    pseudonymiser = Pseudonymiser(key.encode("utf-8"), settings.reach_threshold)
    assess_many = scorer.assess_many
    if settings.test_poison:
        log.warning("FIRESTORM_TEST_POISON is set: posts marked with it crash intake and"
                    " detection on purpose (tests only)")
        assess_many = PoisonScorer(assess_many, settings.test_poison)
    return Intake(watchlist, None, pseudonymiser, assess_many=assess_many,
                  lateness=settings.lateness_seconds)


def build_engine(watchlist: Watchlist, test_poison: str = "") -> Engine:
    """The engine; with ``test_poison``, one that crashes on marked posts."""
    engine = Engine.for_watchlist(watchlist)
    if test_poison:
        engine = PoisonEngine(engine.watchlist, engine.detector, engine.lifecycle,
                              marker=test_poison)
    return engine
