"""/api/v1/tag-rules: members of a segment carry a tag while they are members; errors,
idempotent creates, and workspaces that cannot see each other's rules."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kairos.clock import FixedClock
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.api.test_segments import orders
from tests.conftest import Api

BIG_SPENDERS = {
    "schema_version": 1,
    "root": {
        "type": "performed",
        "event": "Order Completed",
        "where": [{"property": "revenue", "operator": "gt", "value": 50}],
        "window": {"last": {"amount": 7, "unit": "days"}},
    },
}


def tags_by_user(api: Api) -> dict[str, list[str]]:
    return {c["external_id"]: c["tags"] for c in api.get("/contacts").json()["data"]}


def test_tag_rule_lifecycle(api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock) -> None:
    seg = api.post("/segments", {"name": "Big spenders", "definition": BIG_SPENDERS}).json()
    orders(engine, workspace.id, clock, ("ann", 80), ("bob", 20))
    Worker(engine, clock).run_once()

    r = api.post("/tag-rules", {"segment_id": seg["id"], "tag": "vip"})
    assert r.status_code == 201, r.text
    rule = r.json()
    assert (rule["name"], rule["segment_id"], rule["tag"]) == ("Big spenders → vip", seg["id"], "vip")
    assert tags_by_user(api) == {"ann": ["vip"], "bob": []}  # current members, at once

    orders(engine, workspace.id, clock, ("bob", 120))
    Worker(engine, clock).run_once()
    assert tags_by_user(api) == {"ann": ["vip"], "bob": ["vip"]}
    clock.advance(timedelta(days=8))
    Worker(engine, clock).run_once()
    assert tags_by_user(api) == {"ann": [], "bob": []}

    assert api.get(f"/tag-rules/{rule['id']}").json() == rule
    assert api.get("/tag-rules").json()["data"] == [rule]
    assert api.get("/tag-rules", params={"segment_id": seg["id"] + 1}).json()["data"] == []
    assert api.delete(f"/tag-rules/{rule['id']}").status_code == 204
    gone = api.get(f"/tag-rules/{rule['id']}")
    assert (gone.status_code, gone.json()["code"]) == (404, "tag_rule_not_found")


def test_deleting_the_rule_or_its_segment_leaves_tags(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    orders(engine, workspace.id, clock, ("ann", 80))
    seg = api.post("/segments", {"name": "Big spenders", "definition": BIG_SPENDERS}).json()
    Worker(engine, clock).run_once()
    named = api.post("/tag-rules", {"segment_id": seg["id"], "tag": "vip", "name": "VIPs"}).json()
    assert named["name"] == "VIPs"
    assert api.delete(f"/segments/{seg['id']}").status_code == 204
    assert api.get(f"/tag-rules/{named['id']}").status_code == 404  # went with its segment
    assert tags_by_user(api) == {"ann": ["vip"]}


def test_bad_rules_are_refused_with_a_code(api: Api) -> None:
    seg = api.post("/segments", {"name": "Big spenders", "definition": BIG_SPENDERS}).json()
    not_vip = {"root": {"type": "not", "condition": {"type": "tag", "tag": "vip"}}}
    loopy = api.post("/segments", {"name": "Not VIP", "definition": not_vip}).json()
    assert api.post("/tag-rules", {"segment_id": seg["id"], "tag": "vip"}).status_code == 201
    cases = [
        ({"segment_id": seg["id"], "tag": "vip"}, 409, "tag_rule_exists"),
        ({"segment_id": loopy["id"], "tag": "vip"}, 422, "tag_rule_loop"),
        ({"segment_id": 999_999, "tag": "vip"}, 422, "unknown_segment"),
        ({"segment_id": seg["id"], "tag": "a/b"}, 422, "invalid_tag"),
        ({"tag": "vip"}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        r = api.post("/tag-rules", body)
        assert (r.status_code, r.json()["code"]) == (status, code), r.text


def test_creates_are_idempotent(api: Api) -> None:
    seg = api.post("/segments", {"name": "Big spenders", "definition": BIG_SPENDERS}).json()
    key = {"Idempotency-Key": "vip-rule"}
    first = api.post("/tag-rules", {"segment_id": seg["id"], "tag": "vip"}, headers=key)
    again = api.post("/tag-rules", {"segment_id": seg["id"], "tag": "vip"}, headers=key)
    assert (first.status_code, again.status_code) == (201, 201) and first.json() == again.json()
    other = api.post("/tag-rules", {"segment_id": seg["id"], "tag": "gold"}, headers=key)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")


def test_rules_stay_in_their_workspace(
    client: TestClient, workspace: CreatedWorkspace, other_workspace: CreatedWorkspace
) -> None:
    mine, theirs = Api(client, workspace.api_key), Api(client, other_workspace.api_key)
    seg = theirs.post("/segments", {"name": "Theirs", "definition": BIG_SPENDERS}).json()
    rule = theirs.post("/tag-rules", {"segment_id": seg["id"], "tag": "vip"}).json()
    for r in (mine.get(f"/tag-rules/{rule['id']}"), mine.delete(f"/tag-rules/{rule['id']}")):
        assert (r.status_code, r.json()["code"]) == (404, "tag_rule_not_found")
    assert mine.get("/tag-rules").json()["data"] == []
    stolen = mine.post("/tag-rules", {"segment_id": seg["id"], "tag": "mine"})
    assert (stolen.status_code, stolen.json()["code"]) == (422, "unknown_segment")
    assert theirs.get(f"/tag-rules/{rule['id']}").status_code == 200
