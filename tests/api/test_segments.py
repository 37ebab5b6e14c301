"""/api/v1/segments: create, preview while editing, members, a contact's segments."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kairos.clock import FixedClock
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api

BIG_SPENDERS = {
    "schema_version": 1,
    "root": {
        "type": "performed",
        "event": "Order Completed",
        "where": [{"property": "revenue", "operator": "gt", "value": 50}],
        "window": {"last": {"amount": 30, "unit": "days"}},
    },
}


def orders(engine: Engine, ws: int, clock: FixedClock, *revenues: tuple[str, float]) -> None:
    msgs = [
        parse_message(
            {"type": "track", "userId": u, "event": "Order Completed", "properties": {"revenue": r}},
            None,
            clock.now(),
        )
        for u, r in revenues
    ]
    with engine.begin() as conn:
        ingest(conn, ws, msgs, clock.now())


def test_segment_lifecycle(api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock) -> None:
    orders(engine, workspace.id, clock, ("ann", 80), ("bob", 20), ("cy", 120))
    preview = api.post("/segments/preview", {"definition": BIG_SPENDERS, "sample": 1}).json()
    assert (
        preview["count"] == 2 and len(preview["sample"]) == 1 and preview["sample"][0]["external_id"] == "ann"
    )

    r = api.post("/segments", {"name": "Big spenders", "definition": BIG_SPENDERS})
    assert r.status_code == 201, r.text
    seg = r.json()
    assert seg["member_count"] == 0 and seg["time_dependent"] is True  # computed by the worker
    Worker(engine, clock).run_once()
    assert api.get(f"/segments/{seg['id']}").json()["member_count"] == 2

    first = api.get(f"/segments/{seg['id']}/members", params={"limit": 1}).json()
    second = api.get(f"/segments/{seg['id']}/members", params={"limit": 1, "after": first["next"]}).json()
    assert [m["external_id"] for m in first["data"] + second["data"]] == ["ann", "cy"]

    ann = first["data"][0]["id"]
    assert [(s["name"], s["kind"]) for s in api.get(f"/contacts/{ann}/segments").json()["data"]] == [
        ("Big spenders", "dynamic")
    ]

    changed = {
        **BIG_SPENDERS,
        "root": {**BIG_SPENDERS["root"], "where": [{"property": "revenue", "operator": "gt", "value": 100}]},
    }
    assert api.patch(f"/segments/{seg['id']}", {"definition": changed}).status_code == 200
    Worker(engine, clock).run_once()
    members = api.get(f"/segments/{seg['id']}/members").json()["data"]
    assert [m["external_id"] for m in members] == ["cy"]
    assert [s["name"] for s in api.get("/segments").json()["data"]] == ["Big spenders"]

    assert api.delete(f"/segments/{seg['id']}").status_code == 204
    assert api.get(f"/segments/{seg['id']}").status_code == 404


def test_invalid_definitions_are_422_naming_the_node(api: Api) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"root": {"type": "all", "conditions": [{"type": "attribute", "attribute": "shoe", "operator": "eq", "value": 1}]}},
         "unknown_attribute", "root.conditions[0].attribute"),
        ({"root": {"type": "any", "conditions": [{"type": "tag"}]}}, "invalid_definition", "root.conditions[0].tag"),
        ({"root": {"type": "attribute", "attribute": "score", "operator": "starts_with", "value": "1"}}, "invalid_operator", "root.operator"),
    ]  # fmt: skip
    for definition, code, path in cases:
        for r in (
            api.post("/segments", {"name": "x", "definition": definition}),
            api.post("/segments/preview", {"definition": definition}),
        ):
            assert r.status_code == 422, r.text
            assert r.json()["code"] == code
            assert r.json()["message"].startswith(path)
    assert api.post("/segments", {"name": "A", "definition": BIG_SPENDERS}).status_code == 201
    clash = api.post("/segments", {"name": "A", "definition": BIG_SPENDERS})
    assert (clash.status_code, clash.json()["code"]) == (409, "segment_exists")


def test_segments_stay_in_their_workspace(
    client: TestClient, workspace: CreatedWorkspace, other_workspace: CreatedWorkspace
) -> None:
    mine, theirs = Api(client, workspace.api_key), Api(client, other_workspace.api_key)
    seg = theirs.post("/segments", {"name": "Theirs", "definition": BIG_SPENDERS}).json()
    for r in (mine.get(f"/segments/{seg['id']}"), mine.get(f"/segments/{seg['id']}/members"),
              mine.patch(f"/segments/{seg['id']}", {"name": "Mine"}), mine.delete(f"/segments/{seg['id']}")):  # fmt: skip
        assert r.status_code == 404 and r.json()["code"] == "segment_not_found"
    assert mine.get("/segments").json()["data"] == []


def test_explain_shows_which_conditions_hold(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    orders(engine, workspace.id, clock, ("ann", 80), ("bob", 20))
    definition = {"root": {"type": "all", "conditions": [
        BIG_SPENDERS["root"],
        {"type": "not", "condition": {"type": "tag", "tag": "churned"}},
    ]}}  # fmt: skip
    seg = api.post("/segments", {"name": "Loyal big spenders", "definition": definition}).json()
    Worker(engine, clock).run_once()
    ids = {
        m["external_id"]: m["id"]
        for m in api.post(
            "/segments/preview", {"definition": {"root": {"type": "all", "conditions": []}}}
        ).json()["sample"]
    }

    ann = api.get(f"/segments/{seg['id']}/explain/{ids['ann']}").json()
    assert (ann["matches"], ann["member"]) == (True, True)
    bob = api.get(f"/segments/{seg['id']}/explain/{ids['bob']}").json()
    assert (bob["matches"], bob["member"]) == (False, False)
    spent, not_churned = bob["root"]["conditions"]
    assert (spent["path"], spent["holds"]) == ("root.conditions[0]", False)  # the order was too small
    assert (not_churned["holds"], not_churned["condition"]["holds"]) == (True, False)

    # Tagged churned: the stored membership waits for the worker, the explanation does not.
    api.post(f"/contacts/{ids['ann']}/tags/churned")
    ann = api.get(f"/segments/{seg['id']}/explain/{ids['ann']}").json()
    assert (ann["matches"], ann["member"]) == (False, True)
    Worker(engine, clock).run_once()
    assert api.get(f"/segments/{seg['id']}/explain/{ids['ann']}").json()["member"] is False
    assert api.get(f"/segments/{seg['id']}/explain/999999").status_code == 404


def test_static_lists_take_manual_members(
    api: Api,
    engine: Engine,
    client: TestClient,
    clock: FixedClock,
    other_workspace: CreatedWorkspace,
) -> None:
    a, b = (api.post("/contacts", {"external_id": x}).json()["id"] for x in ("a", "b"))
    lst = api.post("/segments", {"name": "VIP list", "kind": "static"}).json()
    assert lst["definition"] is None
    r = api.post(f"/segments/{lst['id']}/members", {"contact_ids": [a, b, a]})
    assert r.json() == {"added": 2}
    assert api.post(f"/segments/{lst['id']}/members", {"contact_ids": [a]}).json() == {"added": 0}
    assert api.get(f"/segments/{lst['id']}").json()["member_count"] == 2
    assert api.delete(f"/segments/{lst['id']}/members/{a}").status_code == 204
    assert api.delete(f"/segments/{lst['id']}/members/{a}").status_code == 204
    assert [m["external_id"] for m in api.get(f"/segments/{lst['id']}/members").json()["data"]] == ["b"]
    # Workers never touch a list.
    Worker(engine, clock).run_once()
    assert api.get(f"/segments/{lst['id']}").json()["member_count"] == 1

    foreign = Api(client, other_workspace.api_key).post("/contacts", {"external_id": "z"}).json()["id"]
    r = api.post(f"/segments/{lst['id']}/members", {"contact_ids": [b, foreign]})
    assert (r.status_code, r.json()["code"]) == (422, "unknown_contacts")
    dynamic = api.post("/segments", {"name": "D", "definition": BIG_SPENDERS}).json()
    r = api.post(f"/segments/{dynamic['id']}/members", {"contact_ids": [b]})
    assert (r.status_code, r.json()["code"]) == (409, "segment_is_dynamic")
