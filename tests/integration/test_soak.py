"""The soak's short plan, in CI: the demo sample with 2,000 fuzzed messages mixed in, two
``kill -9``s of the worker, Redis down and a broker restart, against an uninterrupted run.
``make soak`` runs the long plan (tests/integration/soak.py)."""

from __future__ import annotations

import pytest

from tests.integration.soak import CI_PLAN, run_soak


@pytest.mark.timeout(900)
def test_the_short_soak_loses_nothing_and_alerts_as_an_uninterrupted_run(
        kafka_bootstrap, tmp_path):
    report = run_soak(CI_PLAN, kafka_bootstrap, tmp_path, say=print)
    print(report.table())
    assert report.passed, report.table()
    assert report.kills == CI_PLAN.kills and report.broker_restarts == 1
