"""Built-in field names sent as traits are mapped or refused, never stored as custom traits
where no attribute or segment can reach them (issue 13.5)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kairos.clock import FixedClock
from kairos.contacts.fields import RESERVED_NAMES, TRAIT_IDENTIFIERS, TRAIT_TO_FIELD, split_traits
from kairos.contacts.imports import import_contacts_csv
from kairos.contacts.tables import contact
from kairos.errors import InvalidInput
from kairos.events.tables import event
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api


def identify(client: TestClient, key: str, body: dict[str, Any], path: str = "/v1/identify") -> Any:
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    return client.post(
        path, content=orjson.dumps(body), headers={"Authorization": auth, "Content-Type": "application/json"}
    )


def stored(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(contact)).scalar_one(),
            conn.execute(select(func.count()).select_from(event)).scalar_one(),
        )


# --- /v1/identify ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trait", "hint"),
    [
        ("score", "lead score"),
        ("lifecycle_stage", "lifecycle_stage"),
        ("tags", "/tags/"),
        ("created_at", "createdAt"),
        ("updated_at", "another name"),
        ("merged_into", "another name"),
    ],
)
def test_identify_refuses_a_reserved_trait_naming_it(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace, trait: str, hint: str
) -> None:
    r = identify(client, workspace.write_key, {"userId": "u1", "traits": {"plan": "pro", trait: 10}})
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"code", "message"} and body["code"] == "reserved_trait"
    assert f"'{trait}'" in body["message"] and hint in body["message"]
    assert stored(engine) == (0, 0)


def test_a_segment_client_sending_score_gets_a_clear_error_everywhere(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace
) -> None:
    batch = {
        "batch": [
            {"type": "track", "userId": "u1", "event": "Signed Up"},
            {"type": "identify", "userId": "u1", "traits": {"score": 87}},
        ]
    }
    r = identify(client, workspace.write_key, batch, "/v1/batch")
    assert (r.status_code, r.json()["code"]) == (400, "reserved_trait")
    assert "batch[1].traits" in r.json()["message"] and "'score'" in r.json()["message"]
    # RudderStack puts identify traits in context.traits
    r = identify(client, workspace.write_key, {"userId": "u1", "context": {"traits": {"score": 1}}}, "/v1/i")
    assert (r.status_code, r.json()["code"]) == (400, "reserved_trait")
    assert stored(engine) == (0, 0)


def test_segment_standard_traits_are_accepted(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace
) -> None:
    traits = {
        "id": "u1",  # Segment's standard "id" trait: the user's id, the same as userId
        "userId": "u1",
        "email": "Ada@Example.com",
        "firstName": "Ada",
        "last_name": "Lovelace",
        "phone": "+4915112345678",
        "name": "Ada Lovelace",
        "createdAt": "2024-01-05T10:00:00Z",
        "address": {"city": "London", "country": "UK"},
        "age": 36,
        "title": "Countess",
    }
    r = identify(client, workspace.write_key, {"userId": "u1", "anonymousId": "a1", "traits": traits})
    assert r.status_code == 200, r.text
    with engine.connect() as conn:
        row = conn.execute(select(contact)).one()
    assert (row.external_id, row.email, row.first_name, row.last_name) == (
        "u1",
        "ada@example.com",
        "Ada",
        "Lovelace",
    )
    assert row.traits == {
        "name": "Ada Lovelace",
        "createdAt": "2024-01-05T10:00:00Z",
        "address": {"city": "London", "country": "UK"},
        "age": 36,
        "title": "Countess",
    }
    r = identify(client, workspace.write_key, {"anonymousId": "a1", "traits": {"anonymousId": "a1"}})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "message",
    [
        {"userId": "u1", "traits": {"id": "u2"}},
        {"userId": "u1", "traits": {"user_id": 7}},
        {"anonymousId": "a1", "traits": {"userId": "u1"}},
        {"userId": "u1", "anonymousId": "a1", "traits": {"anonymous_id": "a2"}},
    ],
)
def test_identifier_traits_must_repeat_the_message_id(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace, message: dict[str, Any]
) -> None:
    r = identify(client, workspace.write_key, message)
    assert (r.status_code, r.json()["code"]) == (400, "reserved_trait")
    assert "must equal the message's" in r.json()["message"]
    assert stored(engine) == (0, 0)


def test_every_reserved_name_is_mapped_or_refused() -> None:
    for name in RESERVED_NAMES:
        try:
            changes = split_traits(
                {name: "x@example.com"}, None, user_id="x@example.com", anonymous_id="x@example.com"
            )
        except InvalidInput as exc:
            assert exc.code in ("reserved_trait", "invalid_phone", "invalid_timezone"), name
            assert name not in TRAIT_IDENTIFIERS, name
        else:
            assert name in TRAIT_TO_FIELD or name in TRAIT_IDENTIFIERS, name
            assert changes.traits == {}, name


# --- management API, imports, forms, attributes -----------------------------------------


def test_contacts_api_refuses_reserved_traits(api: Api) -> None:
    r = api.post("/contacts", {"external_id": "u1", "traits": {"score": 5}})
    assert (r.status_code, r.json()["code"]) == (422, "reserved_trait")
    assert "'score'" in r.json()["message"]
    r = api.post("/contacts", {"external_id": "u1", "traits": {"email": "a@example.com"}})
    assert (r.status_code, r.json()["code"]) == (422, "reserved_trait")
    assert "give it as 'email' outside traits" in r.json()["message"]
    r = api.post("/contacts", {"external_id": "u1", "traits": {"plan": "pro"}})
    assert r.status_code == 201
    cid = r.json()["id"]
    for traits in ({"lifecycle_stage": "lead"}, {"score": None}, {"firstName": "Ada"}, {"userId": "u1"}):
        r = api.patch(f"/contacts/{cid}", {"traits": traits})
        assert (r.status_code, r.json()["code"]) == (422, "reserved_trait"), traits
    r = api.patch(f"/contacts/{cid}", {"lifecycle_stage": "lead", "traits": {"plan": "team"}})
    assert r.status_code == 200
    assert (r.json()["lifecycle_stage"], r.json()["traits"]) == ("lead", {"plan": "team"})


def test_csv_import_refuses_a_reserved_trait_column(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "c.csv"
    path.write_text("email,traits.score\nann@example.com,5\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        import_contacts_csv(engine, workspace.id, path, clock=clock)
    assert caught.value.code == "invalid_mapping" and "'score'" in caught.value.message
    path.write_text("email,Score\nann@example.com,5\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        import_contacts_csv(engine, workspace.id, path, clock=clock, mapping=["Score=traits.score"])
    assert caught.value.code == "invalid_mapping"
    with pytest.raises(InvalidInput) as caught:
        import_contacts_csv(engine, workspace.id, path, clock=clock)
    assert "--map Score=traits.imported_score" in caught.value.message
    report = import_contacts_csv(
        engine, workspace.id, path, clock=clock, mapping=["Score=traits.imported_score"]
    )
    assert (report.accepted, report.rejected) == (1, [])
    assert stored(engine) == (1, 0)


def test_forms_and_attributes_refuse_reserved_names(api: Api) -> None:
    for name in ("score", "lifecycle_stage", "tags"):
        r = api.post("/forms", {"key": "f", "name": "F", "fields": [{"name": "email", "type": "email"},
                                                                      {"name": name, "type": "text"}]})  # fmt: skip
        assert (r.status_code, r.json()["code"]) == (422, "invalid_field"), name
        assert f"'{name}' is reserved" in r.json()["message"]
        r = api.post("/attributes", {"name": name, "type": "number"})
        assert (r.status_code, r.json()["code"]) == (422, "reserved_attribute_name"), name
