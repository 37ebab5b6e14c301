"""The score report when every scored contact has the same score (one bucket): found by the
console's browser test — the distribution's CASE had no WHEN then, which no database takes."""

from __future__ import annotations

from sqlalchemy import Engine

from kairos.clock import FixedClock
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.scoring.test_scoring import model, pricing, rule, run, send


def test_the_report_of_scores_that_are_all_equal_has_one_bucket(
    api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    m = model(api)
    rule(api, m, "Pricing", 10, pricing())
    run(engine, clock)
    for user in ("a", "b"):
        send(engine, workspace, clock, user, "Page Viewed", path="/pricing")
    run(engine, clock)
    r = api.get("/reports/scores/engagement")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scored"] == 2 and body["average"] == 10
    assert body["buckets"] == [{"low": 10, "high": 11, "contacts": 2}]
