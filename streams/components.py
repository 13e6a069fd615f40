"""Build the pure pipeline pieces from settings: the same for worker and replay."""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import cache
from pathlib import Path

from alerting.engine import Engine
from alerting.faults import PoisonEngine
from models.compiled import CompiledIntake
from models.errors import ParamsError
from models.intake import Intake
from models.negativity import NegativityScorer
from models.params import DetectorParams, parse_params
from models.privacy import Pseudonymiser
from models.watchlist import Watchlist, parse_watchlist
from models.yamldoc import load_yaml
from streams.errors import ConfigError
from streams.settings import Settings

__all__ = ["DEV_PSEUDONYM_KEY", "build_engine", "build_intake", "load_params", "load_scorer",
           "load_watchlist"]

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


def load_scorer(settings: Settings, model_path: str = "") -> NegativityScorer:
    """The negativity model: ``model_path``, else FIRESTORM_NEGATIVITY_MODEL, else shipped."""
    path = model_path or settings.negativity_model
    return NegativityScorer.load(path) if path else NegativityScorer.default()


def load_params(settings: Settings, path: str = "",
                scorer: NegativityScorer | None = None) -> DetectorParams:
    """Detector parameters: defaults, then the parameter file (``path``, else
    FIRESTORM_DETECTOR_PARAMS), then the negativity model's own decision threshold,
    unless the file sets ``negative_threshold`` itself."""
    path = path or settings.detector_params
    params, explicit = DetectorParams(), False
    if path:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"detector parameters {path!r} not found: pass --params or set"
                              " FIRESTORM_DETECTOR_PARAMS (example: deploy/examples/"
                              "detector.yaml)")
        text = file.read_text(encoding="utf-8")
        params = parse_params(text, source=str(file))
        doc = load_yaml(text, str(file), ParamsError)
        explicit = isinstance(doc, dict) and "negative_threshold" in doc
    if scorer is not None and not explicit:
        params = replace(params, negative_threshold=float(scorer.threshold))
    elif explicit and scorer is not None:
        log.warning("detector parameters set negative_threshold=%s; the negativity model's"
                    " own threshold (%s) is not used", params.negative_threshold,
                    scorer.threshold)
    return params


def build_intake(settings: Settings, watchlist: Watchlist, model_path: str = "",
                 scorer: NegativityScorer | None = None) -> Intake:
    scorer = scorer or load_scorer(settings, model_path)
    key = settings.pseudonym_key
    if not key:
        log.warning("FIRESTORM_PSEUDONYM_KEY is unset: using the development key;"
                    " set a secret key in production")
        key = DEV_PSEUDONYM_KEY
    pseudonymiser = Pseudonymiser(key.encode("utf-8"), settings.reach_threshold)
    if settings.test_poison:
        log.warning("FIRESTORM_TEST_POISON is set: posts marked with it crash intake and"
                    " detection on purpose (tests only)")
    # The compiled core (models.compiled) does the per-mention work; the pure-Python
    # Intake is its specification and test oracle, never a silent stand-in.
    return CompiledIntake(watchlist, scorer, pseudonymiser, lateness=settings.lateness_seconds,
                          test_poison=settings.test_poison)


def build_engine(watchlist: Watchlist, params: DetectorParams | None = None,
                 test_poison: str = "") -> Engine:
    """The engine; without ``params``, the defaults with the shipped negativity model's
    threshold (what `firestorm replay` uses with no parameter file or model given).
    With ``test_poison``, one that crashes on marked posts (tests only)."""
    if params is None:
        params = replace(DetectorParams(), negative_threshold=_shipped_threshold())
    engine = Engine.for_watchlist(watchlist, params=params)
    if test_poison:
        engine = PoisonEngine(engine.watchlist, engine.detector, engine.lifecycle,
                              marker=test_poison)
    return engine


@cache
def _shipped_threshold() -> float:
    return float(NegativityScorer.default().threshold)
