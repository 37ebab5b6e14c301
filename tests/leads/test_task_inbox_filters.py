"""The task inbox's filters (the console's "mine / my queue / all" and kind): `GET /tasks`
with `unassigned` (claimable: nobody has taken it) and `kind`, combined with the others."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kairos.clock import FixedClock
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.journeys.conftest import journey
from tests.leads.test_leads import MQL_RULE, contact, sales_team, signed_in
from tests.leads.test_leads import worker as worker


def task_journey(api: Api, name: str, **task: Any) -> int:
    return journey(api, {
        "trigger": {"type": "api"}, "start": "task",
        "nodes": {"task": {"type": "task", "title": "Work {{ contact.external_id }}",
                           "timeout": {"amount": 3, "unit": "days"}, "outcomes": [{"name": "done"}], **task}},
    }, name=name)  # fmt: skip


def test_unassigned_and_kind_filters(
    api: Api,
    worker: Worker,
    engine: Engine,
    clock: FixedClock,
    workspace: CreatedWorkspace,
    client: TestClient,
) -> None:
    [rep] = sales_team(engine, clock, workspace, 1)
    api.post("/lifecycle-rules", MQL_RULE)
    api.post("/assignment-rules", {"name": "rr", "stage": "MQL", "method": "round_robin"})
    owned = contact(api, "owned", engagement=60)
    worker.run_once()
    calls = task_journey(api, "calls", kind="call", assignee="owner")
    visits = task_journey(api, "visits", kind="visit", assignee="queue:field")
    queued = contact(api, "queued")
    assert api.post(f"/journeys/{calls}/enrollments", {"contact_id": owned}).status_code == 201
    assert api.post(f"/journeys/{visits}/enrollments", {"contact_id": queued}).status_code == 201
    worker.run_once()

    def ids(query: str) -> list[tuple[str, int | None]]:
        r = api.get(f"/tasks?{query}")
        assert r.status_code == 200, r.text
        return [(t["kind"], t["assignee_user_id"]) for t in r.json()["data"]]

    assert sorted(ids("")) == [("call", rep), ("visit", None)]
    assert ids("unassigned=true") == [("visit", None)]
    assert ids("kind=call") == [("call", rep)]
    assert ids("kind=visit&unassigned=true&status=open") == [("visit", None)]
    assert ids("kind=wechat") == []
    bad = api.get("/tasks?kind=fax")
    assert bad.status_code == 422
    # the rep's queue view: claim the visit, then it is theirs, no longer claimable
    me = signed_in(client, "rep0@acme.example")
    [visit] = me.call("GET", "/tasks?unassigned=true").json()["data"]
    assert me.call("POST", f"/tasks/{visit['id']}/claim").json()["assignee_user_id"] == rep
    assert me.call("GET", "/tasks?unassigned=true").json()["data"] == []
    assert sorted(t["kind"] for t in me.call("GET", "/tasks?mine=true").json()["data"]) == ["call", "visit"]
