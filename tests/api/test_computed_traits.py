"""/api/v1/computed-traits: create, computed by the worker, values, a contact's traits,
redefine, errors, idempotent creates, and workspaces that cannot see each other's traits."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from kairos.clock import FixedClock
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.segments.tables import segment
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api

REVENUE = {"schema_version": 1, "function": "sum", "event": "Order Completed", "property": "revenue"}


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


def contact_ids(api: Api) -> dict[str, int]:
    return {c["external_id"]: c["id"] for c in api.get("/contacts").json()["data"]}


def test_computed_trait_lifecycle(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    orders(engine, workspace.id, clock, ("ann", 80), ("bob", 20), ("ann", 30), ("cy", 5))
    r = api.post("/computed-traits", {"name": "lifetime_value", "definition": REVENUE})
    assert r.status_code == 201, r.text
    trait = r.json()
    assert (trait["pending"], trait["value_type"], trait["time_dependent"]) == (True, "number", False)
    assert trait["definition"]["function"] == "sum"

    Worker(engine, clock).run_once()
    read = api.get(f"/computed-traits/{trait['id']}").json()
    assert read["pending"] is False and read["refreshed_at"] is not None
    first = api.get(f"/computed-traits/{trait['id']}/values", params={"limit": 2}).json()
    rest = api.get(
        f"/computed-traits/{trait['id']}/values", params={"limit": 2, "after": first["next"]}
    ).json()
    assert [(v["external_id"], v["value"]) for v in first["data"] + rest["data"]] == [
        ("ann", 110),
        ("bob", 20),
        ("cy", 5),
    ]
    assert rest["next"] is None

    ids = contact_ids(api)
    assert api.get(f"/contacts/{ids['ann']}").json()["computed_traits"] == {"lifetime_value": 110}

    # A new definition: pending until the worker recomputes everyone.
    r = api.patch(
        f"/computed-traits/{trait['id']}",
        {"definition": {**REVENUE, "function": "max"}, "name": "biggest_order"},
    )
    assert (r.status_code, r.json()["pending"], r.json()["name"]) == (200, True, "biggest_order")
    Worker(engine, clock).run_once()
    assert api.get(f"/contacts/{ids['ann']}").json()["computed_traits"] == {"biggest_order": 80}

    assert (
        api.post(
            "/computed-traits",
            {"name": "last_order", "definition": {"function": "last_seen", "event": "Order Completed"}},
        ).status_code
        == 201
    )
    Worker(engine, clock).run_once()
    traits = api.get(f"/contacts/{ids['bob']}").json()["computed_traits"]
    assert traits["last_order"].startswith(clock.now().isoformat()[:19])
    assert [t["name"] for t in api.get("/computed-traits").json()["data"]] == ["biggest_order", "last_order"]

    assert api.delete(f"/computed-traits/{trait['id']}").status_code == 204
    for gone in (
        api.get(f"/computed-traits/{trait['id']}"),
        api.get(f"/computed-traits/{trait['id']}/values"),
    ):
        assert (gone.status_code, gone.json()["code"]) == (404, "computed_trait_not_found")
    assert list(api.get(f"/contacts/{ids['ann']}").json()["computed_traits"]) == ["last_order"]


def test_invalid_traits_are_422_naming_the_field(api: Api) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"name": "x", "definition": {"function": "sum", "event": "e"}}, "invalid_definition", "definition.property"),
        ({"name": "x", "definition": {"function": "mode", "event": "e"}}, "invalid_definition", "definition.function"),
        ({"name": "x", "definition": {"function": "count", "event": "e", "where": [{"property": "p", "operator": "gt", "value": "a"}]}},
         "invalid_operator", "definition.where[0].operator"),
        ({"name": "two words", "definition": REVENUE}, "invalid_trait_name", "name"),
        ({"name": "x"}, "validation_error", "definition"),
    ]  # fmt: skip
    for body, code, path in cases:
        r = api.post("/computed-traits", body)
        assert (r.status_code, r.json()["code"]) == (422, code), r.text
        assert r.json()["message"].startswith(path)
    assert api.post("/computed-traits", {"name": "ltv", "definition": REVENUE}).status_code == 201
    other = api.post(
        "/computed-traits",
        {"name": "orders", "definition": {"function": "count", "event": "Order Completed"}},
    ).json()
    for r in (api.post("/computed-traits", {"name": "ltv", "definition": REVENUE}),
              api.patch(f"/computed-traits/{other['id']}", {"name": "ltv"})):  # fmt: skip
        assert (r.status_code, r.json()["code"]) == (409, "computed_trait_exists")
    bad = api.patch(f"/computed-traits/{other['id']}", {"definition": {"function": "avg", "event": None}})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_definition")


def test_a_trait_segments_test_cannot_be_deleted_or_renamed(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    trait = api.post("/computed-traits", {"name": "ltv", "definition": REVENUE}).json()
    with engine.begin() as conn:  # as saved once the compiler reads computed.NAME
        conn.execute(insert(segment).values(
            workspace_id=workspace.id, name="High value", kind="dynamic", time_dependent=False, needs_refresh=False,
            definition={"schema_version": 1, "root": {"type": "attribute", "attribute": "computed.ltv", "operator": "gt", "value": 100}},
            created_at=clock.now(), updated_at=clock.now()))  # fmt: skip
    for r in (
        api.delete(f"/computed-traits/{trait['id']}"),
        api.patch(f"/computed-traits/{trait['id']}", {"name": "value"}),
    ):
        assert (r.status_code, r.json()["code"]) == (409, "computed_trait_in_use")
        assert "'High value'" in r.json()["message"]


def test_creates_are_idempotent(api: Api) -> None:
    key = {"Idempotency-Key": "create-ltv"}
    first = api.post("/computed-traits", {"name": "ltv", "definition": REVENUE}, headers=key)
    again = api.post("/computed-traits", {"name": "ltv", "definition": REVENUE}, headers=key)
    assert (first.status_code, again.status_code) == (201, 201) and first.json() == again.json()
    other = api.post("/computed-traits", {"name": "ltv2", "definition": REVENUE}, headers=key)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    assert len(api.get("/computed-traits").json()["data"]) == 1


def test_traits_stay_in_their_workspace(
    client: TestClient,
    engine: Engine,
    workspace: CreatedWorkspace,
    other_workspace: CreatedWorkspace,
    clock: FixedClock,
) -> None:
    mine, theirs = Api(client, workspace.api_key), Api(client, other_workspace.api_key)
    orders(engine, workspace.id, clock, ("ann", 80))
    orders(engine, other_workspace.id, clock, ("zed", 50))
    trait = theirs.post("/computed-traits", {"name": "ltv", "definition": REVENUE}).json()
    Worker(engine, clock).run_once()
    for r in (mine.get(f"/computed-traits/{trait['id']}"), mine.get(f"/computed-traits/{trait['id']}/values"),
              mine.patch(f"/computed-traits/{trait['id']}", {"name": "mine"}), mine.delete(f"/computed-traits/{trait['id']}")):  # fmt: skip
        assert (r.status_code, r.json()["code"]) == (404, "computed_trait_not_found")
    assert mine.get("/computed-traits").json()["data"] == []
    assert mine.get(f"/contacts/{contact_ids(mine)['ann']}").json()["computed_traits"] == {}
    assert theirs.get(f"/contacts/{contact_ids(theirs)['zed']}").json()["computed_traits"] == {"ltv": 50}
    # The same name is free in another workspace.
    assert mine.post("/computed-traits", {"name": "ltv", "definition": REVENUE}).status_code == 201
