"""``firestorm worker``: run the Faust worker on the configured Kafka and Redis."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from streams.settings import Settings

__all__ = ["add_parser"]

# The outbox writes to Redis from a thread while the event loop computes the next batch.
# At the interpreter's default switch interval (5 ms) that thread waits for the GIL after
# every round trip: a Redis GET took 2.0 ms from a thread beside a busy one, against
# 0.2 ms alone and 0.33 ms at 1 ms (docs/benchmarks.md, "Alert latency").
GIL_SWITCH_SECONDS = 0.001


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "worker", help="start a stream worker (Kafka in, Redis alerts out)",
        description="Start a Faust worker: consume the mentions topic, send bad input to the"
                    " dead-letter topic, detect escalation per entity and publish alert events"
                    " to Redis. Configured by FIRESTORM_* variables; see README. Run it under"
                    " a supervisor that restarts it (systemd Restart=always, Kubernetes): it"
                    " exits 70 rather than skip a message it failed to process, and takes its"
                    " partitions back at once when restarted (docs/operations.md).",
        epilog="exit status: 0 stopped by SIGTERM/SIGINT (it leaves its group first),"
               " 70 fail-stop (restart it), 1 bad configuration or broker unreachable,"
               " 2 a bad flag")
    p.add_argument("--watchlist", "-w",
                   help="watchlist YAML (default: FIRESTORM_WATCHLIST, else watchlist.yaml"
                        " here or in the config dir)")
    p.add_argument("--negativity-model", metavar="PATH", default="",
                   help="negativity model artefact (default: the shipped model)")
    p.add_argument("--params", metavar="YAML", default="",
                   help="detector parameters file (default: FIRESTORM_DETECTOR_PARAMS, else"
                        " the documented defaults)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    from alerting.action_store import open_action_store
    from alerting.delivery import DurableDelivery
    from alerting.errors import AlertStoreUnavailable
    from alerting.store import open_store
    from alerting.story import StoryRules
    from streams import membership
    from streams.app import build_app
    from streams.components import (
        build_engine,
        build_intake,
        load_params,
        load_scorer,
        load_watchlist,
    )
    from streams.liveness import Pulse, worker_name
    from streams.metrics import Metrics
    from streams.pipeline import Pipeline, WatchlistSource, log_watch_start
    from streams.topics import ensure_topics

    settings: Settings = args.settings
    settings.configure_logging()
    watchlist_path = settings.watchlist_path(args.watchlist)
    watchlist = load_watchlist(watchlist_path)
    scorer = load_scorer(settings, args.negativity_model)
    intake = build_intake(settings, watchlist, scorer=scorer)
    engine = build_engine(watchlist, load_params(settings, args.params, scorer),
                          settings.test_poison)
    store = open_store(settings.redis_url, stream_maxlen=settings.redis_stream_maxlen,
                       retention_seconds=int(settings.retention_days * 86_400),
                       stories=StoryRules.from_watchlist(watchlist, settings.story_window),
                       **({"ssl_ca_certs": settings.redis_ca} if settings.redis_ca else {}))
    try:
        store.ping()  # fail fast on a wrong password, before consuming anything
    except AlertStoreUnavailable as exc:
        logging.getLogger("firestorm.worker").warning(
            "redis unreachable at start (%s): alerts wait in the outbox until it answers", exc)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    delivery = DurableDelivery(store, spill_path=settings.outbox_path)
    ensure_topics(settings)
    # Answers to acknowledgements, and their audit, go to the same Redis as the alerts.
    actions = open_action_store(settings.redis_url,
                                retention_seconds=int(settings.retention_days * 86_400),
                                **({"ssl_ca_certs": settings.redis_ca} if settings.redis_ca
                                   else {}))
    member = membership.instance_id(settings)
    app, _ = build_app(settings, Pipeline.of(intake, engine), delivery.deliver_steps,
                       delivery.flush,
                       answer=actions.answer, metrics=Metrics("worker"),
                       watchlist=WatchlistSource(watchlist_path),
                       outbox_depth=lambda: delivery.pending, instance_id=member,
                       pulse=Pulse(worker_name(settings.app_id), store, delivery, engine))
    logging.getLogger("firestorm.worker").info(
        "starting app=%s kafka=%s entities=%d topic=%s dead=%s member=%s", settings.app_id,
        settings.kafka_bootstrap, len(watchlist.entities), settings.topic_mentions,
        settings.topic_dead, member)
    log_watch_start(watchlist)
    worker = faust_worker(app, settings.log_level, settings.log_format)
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    try:
        worker.execute_from_commandline()
    except SystemExit as stop:
        if stop.code in (0, None):  # stopped on purpose (SIGTERM, SIGINT), offsets committed
            membership.leave(settings, member)
        raise
    return 0


def faust_worker(app: Any, level: str, fmt: str) -> Any:
    """Faust's worker for ``app``, logging at ``level`` in ``fmt``, without its terminal
    spinner.

    The spinner's log handler spins on every record, so Faust sets the root logger to
    DEBUG for it whatever level was asked for: every debug line of aiokafka and Faust
    (several per message sent) then built a record that was thrown away, about 7 % of a
    busy worker's CPU, and the spinner wrote terminal escapes into the log."""
    import faust

    from streams.logs import logging_config

    worker = faust.Worker(app, loglevel=level, quiet=True,
                          logging_config=logging_config(level, fmt))
    worker.spinner = None
    return worker
