"""Declaring or re-typing an attribute converts the values contacts already hold (issue 13.6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kairos.clock import FixedClock
from kairos.contacts import attributes
from kairos.contacts.imports import import_contacts_csv
from kairos.contacts.tables import contact, contact_change
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api


def older_than(age: int) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "root": {"type": "attribute", "attribute": "age", "operator": "gt", "value": age},
    }


def import_ages(engine: Engine, ws: CreatedWorkspace, clock: FixedClock, tmp_path: Path) -> dict[str, int]:
    path = tmp_path / "ages.csv"
    path.write_text(
        "external_id,age,city\nann,61,Berlin\nbob,45,Paris\ncy,unknown,Rome\ndee,,Oslo\n", encoding="utf-8"
    )
    report = import_contacts_csv(engine, ws.id, path, clock=clock)
    assert (report.accepted, report.rejected) == (4, [])
    with engine.connect() as conn:
        rows = conn.execute(select(contact.c.external_id, contact.c.id, contact.c.traits)).all()
    assert {r.external_id: r.traits.get("age") for r in rows} == {
        "ann": "61",
        "bob": "45",
        "cy": "unknown",
        "dee": None,
    }
    return {r.external_id: r.id for r in rows}


def stored_ages(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {
            r.external_id: r.traits.get("age")
            for r in conn.execute(select(contact.c.external_id, contact.c.traits))
        }


def test_declaring_a_number_converts_imported_strings_and_reports_the_rest(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    ids = import_ages(engine, workspace, clock, tmp_path)
    with engine.begin() as conn:
        conn.execute(contact_change.delete())  # the import queued everyone: start clean

    r = api.post("/attributes", {"name": "age", "type": "number"})
    assert r.status_code == 201, r.text
    assert r.json()["conversion"] == {
        "contacts_with_value": 3,
        "converted": 2,
        "already_typed": 0,
        "unconvertible": 1,
        "unconvertible_contact_ids": [ids["cy"]],
    }
    assert stored_ages(engine) == {"ann": 61, "bob": 45, "cy": "unknown", "dee": None}
    with engine.connect() as conn:  # only the contacts whose value changed are re-evaluated
        queued = set(conn.execute(select(contact_change.c.contact_id)).scalars())
        other = conn.execute(select(contact.c.traits).where(contact.c.id == ids["ann"])).scalar_one()
    assert queued == {ids["ann"], ids["bob"]}
    assert other == {"age": 61, "city": "Berlin"}  # the other traits are kept

    preview = api.post("/segments/preview", {"definition": older_than(60), "sample": 5}).json()
    assert preview["count"] == 1 and preview["sample"][0]["external_id"] == "ann"
    r = api.post("/segments", {"name": "Over 60", "definition": older_than(60)})
    assert r.status_code == 201, r.text
    Worker(engine, clock).run_once()
    members = api.get(f"/segments/{r.json()['id']}/members").json()["data"]
    assert [m["id"] for m in members] == [ids["ann"]]

    # Later writes are checked against the type as before.
    r = api.post("/contacts", {"external_id": "bob", "traits": {"age": "46"}})
    assert r.status_code == 200 and r.json()["traits"]["age"] == 46


def test_dry_run_reports_without_declaring_or_converting(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    ids = import_ages(engine, workspace, clock, tmp_path)
    r = api.post("/attributes", {"name": "age", "type": "number", "dry_run": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True and body["name"] == "age" and body["type"] == "number"
    assert (body["conversion"]["converted"], body["conversion"]["unconvertible"]) == (2, 1)
    assert body["conversion"]["unconvertible_contact_ids"] == [ids["cy"]]
    assert api.get("/attributes").json()["data"] == []
    assert stored_ages(engine)["ann"] == "61"


def test_patch_changes_the_type_and_converts_again(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    ids = import_ages(engine, workspace, clock, tmp_path)
    assert api.post("/attributes", {"name": "age", "type": "number"}).status_code == 201
    r = api.patch("/attributes/age", {"type": "string", "dry_run": True})
    assert r.status_code == 200 and r.json()["dry_run"] is True
    assert r.json()["conversion"]["converted"] == 2 and stored_ages(engine)["ann"] == 61
    assert api.get("/attributes").json()["data"][0]["type"] == "number"

    r = api.patch("/attributes/age", {"type": "string", "label": "Age"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["type"], body["label"], body["dry_run"]) == ("string", "Age", False)
    assert body["conversion"] == {
        "contacts_with_value": 3,
        "converted": 2,
        "already_typed": 1,
        "unconvertible": 0,
        "unconvertible_contact_ids": [],
    }
    assert stored_ages(engine) == {"ann": "61", "bob": "45", "cy": "unknown", "dee": None}

    r = api.patch("/attributes/age", {"label": "Age in years"})
    assert r.status_code == 200 and r.json()["conversion"] is None
    assert r.json()["label"] == "Age in years" and r.json()["type"] == "string"

    # A type that segments test stays: their conditions were checked against it.
    assert api.patch("/attributes/age", {"type": "number"}).json()["conversion"]["unconvertible"] == 1
    r = api.post("/segments", {"name": "Over 60", "definition": older_than(60)})
    assert r.status_code == 201, r.text
    r = api.patch("/attributes/age", {"type": "string"})
    assert (r.status_code, r.json()["code"]) == (409, "attribute_in_use")
    assert "Over 60" in r.json()["message"]
    r = api.patch("/attributes/nope", {"type": "string"})
    assert (r.status_code, r.json()["code"]) == (404, "attribute_not_found")
    del ids


def test_conversion_is_batched_and_skips_other_workspaces(
    client: TestClient,
    api: Api,
    other_workspace: CreatedWorkspace,
    engine: Engine,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    theirs = Api(client, other_workspace.api_key)
    for i in range(7):
        assert api.post("/contacts", {"external_id": f"u{i}", "traits": {"vip": "true"}}).status_code == 201
    api.post("/contacts", {"external_id": "x", "traits": {"vip": "FALSE"}})
    api.post("/contacts", {"external_id": "y", "traits": {"vip": True}})
    theirs.post("/contacts", {"external_id": "t", "traits": {"vip": "true"}})
    monkeypatch.setattr(attributes, "CONVERT_BATCH", 3)
    r = api.post("/attributes", {"name": "vip", "type": "boolean"})
    conversion = r.json()["conversion"]
    assert (conversion["converted"], conversion["already_typed"], conversion["unconvertible"]) == (8, 1, 0)
    with engine.connect() as conn:
        rows = conn.execute(select(contact.c.external_id, contact.c.traits)).all()
    assert {r.external_id: r.traits["vip"] for r in rows} == {
        **{f"u{i}": True for i in range(7)},
        "x": False,
        "y": True,
        "t": "true",  # another workspace's attribute is not declared
    }
