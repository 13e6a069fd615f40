"""Watchlist reload: a valid new file swaps the pipeline (marks kept, new ids cold,
others keep their state by id); an invalid one is refused and the old one stays."""

from __future__ import annotations

import logging

from alerting.engine import Engine
from models.intake import Intake
from models.privacy import Pseudonymiser
from models.watchlist import parse_watchlist
from streams.pipeline import Pipeline, WatchlistSource

OLD = """entities:
  - {id: acme, name: Acme, kind: partner, terms: [acme]}
  - {id: wp, name: Work Programme, kind: policy, terms: [workfare]}
"""
NEW = """entities:
  - {id: acme, name: Acme Stores, kind: partner, terms: [acme, acme stores]}
  - {id: uc, name: Universal Credit, kind: policy, terms: [universal credit]}
"""


def pipeline(text: str) -> Pipeline:
    watchlist = parse_watchlist(text)
    intake = Intake(watchlist, score_many=lambda texts: [0.5] * len(texts),
                    pseudonymiser=Pseudonymiser(b"k"))
    return Pipeline.of(intake, Engine.for_watchlist(watchlist))


def test_a_changed_file_is_reloaded_with_added_and_removed_entities(tmp_path, caplog):
    path = tmp_path / "watchlist.yaml"
    path.write_text(OLD)
    source, current = WatchlistSource(path), pipeline(OLD)
    current.intake.accept_many([b'{"id":"1","ts":1.7e9,"platform":"x","author":"a",'
                                b'"text":"acme"}'], now=1.7e9)
    assert not source.changed()
    path.write_text(NEW)
    assert source.changed()
    with caplog.at_level(logging.WARNING):
        outcome = source.reload(current, "file changed")
    assert outcome.pipeline is not None and not source.changed()
    assert (outcome.added, outcome.removed) == (("uc",), ("wp",))
    assert outcome.pipeline.watched == {"acme", "uc"}
    assert outcome.pipeline.intake.marks() == current.intake.marks()  # event time goes on
    assert outcome.pipeline.engine.watchlist["acme"].name == "Acme Stores"
    assert "watchlist reloaded" in caplog.text and "added=uc removed=wp" in caplog.text


def test_an_invalid_file_is_refused_logged_and_the_old_one_stays(tmp_path, caplog):
    path = tmp_path / "watchlist.yaml"
    path.write_text(OLD)
    source, current = WatchlistSource(path), pipeline(OLD)
    path.write_text("entities:\n  - {id: acme, name: Acme, kind: shop, terms: [acme]}\n")
    with caplog.at_level(logging.ERROR):
        outcome = source.reload(current, "SIGHUP")
    assert outcome.pipeline is None
    assert "entity 'acme' field 'kind'" in outcome.error
    assert "watchlist reload REFUSED" in caplog.text and "stays" in caplog.text
    assert not source.changed()  # not retried until the file is edited again
