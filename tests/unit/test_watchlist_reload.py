"""Watchlist reload: a valid new file swaps the pipeline (marks kept, new ids cold,
others keep their state by id); an invalid one is refused and the old one stays."""

from __future__ import annotations

import logging

from alerting.engine import Engine
from models.intake import Intake
from models.privacy import Pseudonymiser
from models.watchlist import parse_watchlist
from streams.pipeline import Pipeline, WatchlistSource, log_watch_start

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


def test_the_watch_start_is_logged_and_a_start_long_ago_is_warned(caplog):
    now = 1_780_000_000.0
    recent = parse_watchlist(f"watch_since: {now - 86_400}\n" + OLD)
    with caplog.at_level(logging.INFO, logger="firestorm.worker"):
        log_watch_start(recent, now)
    assert "2 entities from their watchlist since, 0 from their first mention" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="firestorm.worker"):
        log_watch_start(parse_watchlist(OLD), now)
    assert "0 entities from their watchlist since, 2 from their first mention" in caplog.text
    assert "set watch_since" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="firestorm.worker"):
        log_watch_start(parse_watchlist(f"watch_since: {now - 90 * 86_400}\n" + OLD), now)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned and "90 days ago" in warned[0] and "about 5 CPU-seconds each" in warned[0]


def test_an_entity_added_without_a_since_under_a_watch_since_is_warned(tmp_path, caplog):
    path = tmp_path / "watchlist.yaml"
    path.write_text("watch_since: 1700000000\n" + OLD)
    source, current = WatchlistSource(path), pipeline("watch_since: 1700000000\n" + OLD)
    path.write_text("watch_since: 1700000000\n" + NEW.replace(
        "entities:\n", "entities:\n  - {id: jo, name: Jo, kind: person, terms: [jo],"
                       " since: 1700086400}\n"))
    with caplog.at_level(logging.WARNING, logger="firestorm.worker"):
        reloaded = source.reload(current, "SIGHUP")
    assert reloaded.added == ("jo", "uc")
    warned = [r.getMessage() for r in caplog.records if "without a since" in r.getMessage()]
    assert len(warned) == 1 and "added uc without" in warned[0] and "since: 20" in warned[0]
