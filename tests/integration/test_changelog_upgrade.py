"""A changelog written before the state was split into records still loads, on the real broker.

Before, an entity's whole state went to the changelog as one JSON record,
``{"engine": {...}}`` under the entity id. A worker of this version must recover
such a state and carry on from it. Here the old record says that the mentions
up to offset 1000 of partition 0 are already counted; the worker is then sent three
mentions at offsets 0 to 2. Recovered, it skips all three as redelivered; had it
started afresh, it would have counted them.
"""

from __future__ import annotations

import json
import time

import pytest
from kafka import KafkaProducer

from alerting.engine import Engine, Source
from models.watchlist import parse_watchlist
from tests.integration.support import REPO, create_topic, firestorm, wait_for


@pytest.mark.timeout(300)
def test_a_whole_state_written_by_the_old_format_is_recovered(
        stream_env, start_worker, kafka_bootstrap, tmp_path):
    env = stream_env
    watchlist = parse_watchlist((REPO / "deploy" / "examples" / "watchlist.yaml").read_text())
    old = Engine.for_watchlist(watchlist).pass_over(None, Source(0, 1000))
    changelog = f"{env['FIRESTORM_APP_ID']}-engine-state-changelog"
    create_topic(kafka_bootstrap, changelog, configs={"cleanup.policy": "compact"})
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    # As faust's JSON serializer wrote it, keyed by the raw entity id.
    producer.send(changelog, key=b"acme-stores",
                  value=json.dumps({"engine": old.to_dict()}).encode())
    producer.flush()
    producer.close()

    worker = start_worker(env)
    start = time.time() - 3600
    with (tmp_path / "m.jsonl").open("w") as out:
        for i in range(3):
            out.write(json.dumps({"id": f"up{i}", "ts": start + i, "platform": "twitter",
                                  "author": f"@u{i}", "text": "Acme Stores again",
                                  "lang": "en"}) + "\n")
    produced = firestorm("produce", "-i", str(tmp_path / "m.jsonl"), env=env)
    assert produced.returncode == 0, produced.stderr.decode()
    wait_for(lambda: (h := worker.health()) and h["redelivered"] >= 3, 120,
             f"the three mentions skipped as already counted (worker log:\n{worker.tail()})")
    health = worker.health()
    assert health["redelivered"] == 3 and health["status"] == "ok", health
