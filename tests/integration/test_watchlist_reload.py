"""A running worker takes a new watchlist on SIGHUP or when the file changes, and keeps
the old one, saying why, when the new file is invalid."""

from __future__ import annotations

import signal

from tests.integration.support import REPO, wait_for


def test_the_worker_reloads_its_watchlist_and_refuses_a_broken_one(
        stream_env, start_worker, tmp_path):
    watchlist = tmp_path / "watchlist.yaml"
    example = (REPO / "deploy" / "examples" / "watchlist.yaml").read_text()
    watchlist.write_text(example)
    worker = start_worker({**stream_env, "FIRESTORM_WATCHLIST": str(watchlist)})
    wait_for(lambda: (worker.health() or {}).get("entities") == 4, 30, "the worker's health")

    watchlist.write_text(example + "  - {id: dfe, name: Department for Education,"
                                   " kind: department, terms: [dfe]}\n")
    worker.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: (worker.health() or {}).get("entities") == 5, 60, "the reload on SIGHUP")
    assert "added=dfe" in worker.tail(200)

    watchlist.write_text(example.replace("kind: partner", "kind: shop"))  # no signal: a change
    wait_for(lambda: "watchlist reload REFUSED" in worker.tail(200), 60,
             "the broken file to be refused")
    assert "'kind': must be one of" in worker.tail(200)
    wait_for(lambda: (worker.health() or {}).get("entities") == 5, 30,
             "the watchlist in force to stay")
