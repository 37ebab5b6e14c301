"""The management API: contacts, timelines, tags, attributes; keys and workspace isolation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kairos.clock import FixedClock
from kairos.contacts.tables import contact, identity
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.events.tables import event
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import T0, Api


def make(api: Api, **fields: Any) -> dict[str, Any]:
    r = api.post("/contacts", fields)
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


# --- keys --------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer ak_unknown", "Basic abc", "Bearer "])
def test_requests_without_a_valid_api_key_are_401(
    client: TestClient, workspace: CreatedWorkspace, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    r = client.get("/api/v1/contacts", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized" and r.json()["message"]


def test_write_key_cannot_manage(client: TestClient, workspace: CreatedWorkspace) -> None:
    r = client.get("/api/v1/contacts", headers={"Authorization": f"Bearer {workspace.write_key}"})
    assert r.status_code == 401


def test_a_workspace_never_sees_or_changes_another_workspaces_contacts(
    client: TestClient, workspace: CreatedWorkspace, other_workspace: CreatedWorkspace
) -> None:
    mine, theirs = Api(client, workspace.api_key), Api(client, other_workspace.api_key)
    secret = make(theirs, external_id="u1", email="ceo@globex.com", tags=["vip"])
    cid = secret["id"]
    assert mine.get("/contacts").json()["data"] == []
    assert mine.get("/contacts", params={"email": "ceo@globex.com"}).json()["data"] == []
    for r in (
        mine.get(f"/contacts/{cid}"),
        mine.patch(f"/contacts/{cid}", {"first_name": "Mallory"}),
        mine.delete(f"/contacts/{cid}"),
        mine.get(f"/contacts/{cid}/events"),
        mine.post(f"/contacts/{cid}/tags/pwned"),
        mine.delete(f"/contacts/{cid}/tags/vip"),
    ):
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "contact_not_found"
    assert mine.get("/tags").json()["data"] == []
    # Same external id in my workspace is a different person.
    assert make(mine, external_id="u1")["id"] != cid
    after = theirs.get(f"/contacts/{cid}").json()
    assert after["first_name"] is None and after["tags"] == ["vip"]


# --- contacts ----------------------------------------------------------------------------


def test_upsert_creates_then_updates_by_external_id_or_email(api: Api) -> None:
    r = api.post(
        "/contacts",
        {"external_id": "u1", "email": "Ada@Example.com", "traits": {"plan": "free"}, "tags": ["trial"]},
    )
    assert r.status_code == 201
    created = r.json()
    assert created["email"] == "ada@example.com" and created["tags"] == ["trial"]
    assert {"kind": "user_id", "value": "u1"} in created["identities"]
    r = api.post("/contacts", {"email": "ada@example.com", "first_name": "Ada", "traits": {"plan": "pro"}})
    assert r.status_code == 200
    assert r.json()["id"] == created["id"]
    assert r.json()["traits"] == {"plan": "pro"} and r.json()["first_name"] == "Ada"


def test_upsert_keeps_the_fields_it_leaves_out_and_clears_explicit_nulls(api: Api) -> None:
    first = {"external_id": "u2", "email": "bo@example.com", "first_name": "Bo", "timezone": "Europe/Paris"}
    assert api.post("/contacts", first).status_code == 201
    r = api.post("/contacts", {"external_id": "u2", "last_name": "Lee"})
    assert r.status_code == 200
    kept = r.json()
    assert (kept["email"], kept["first_name"], kept["timezone"], kept["last_name"]) == (
        "bo@example.com", "Bo", "Europe/Paris", "Lee",
    )  # fmt: skip
    cleared = api.post("/contacts", {"external_id": "u2", "timezone": None}).json()
    assert cleared["timezone"] is None and cleared["first_name"] == "Bo"


def test_upsert_needs_an_identifier(api: Api) -> None:
    r = api.post("/contacts", {"first_name": "Nobody"})
    assert (r.status_code, r.json()["code"]) == (422, "missing_identity")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"external_id": "u", "email": "not-an-email"}, "invalid_email"),
        ({"external_id": "u", "phone": "123"}, "invalid_phone"),
        ({"external_id": "u", "timezone": "Mars/Olympus"}, "invalid_timezone"),
        ({"external_id": "u", "favourite": 1, "traits": {}}, "validation_error"),
        ({"external_id": "u", "traits": "plan=pro"}, "validation_error"),
    ],
)
def test_invalid_contact_is_422_and_nothing_written(
    api: Api, engine: Engine, body: dict[str, Any], code: str
) -> None:
    r = api.post("/contacts", body)
    assert r.status_code == 422
    assert r.json()["code"] == code and r.json()["message"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(contact)).scalar_one() == 0


def test_idempotency_key_replays_the_first_answer(api: Api, engine: Engine) -> None:
    body = {"external_id": "u1", "first_name": "Ada"}
    first = api.post("/contacts", body, headers={"Idempotency-Key": "k-1"})
    again = api.post("/contacts", body, headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    clash = api.post("/contacts", {"external_id": "u2"}, headers={"Idempotency-Key": "k-1"})
    assert (clash.status_code, clash.json()["code"]) == (409, "idempotency_key_reused")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(contact)).scalar_one() == 1


def test_patch_merges_traits_removes_nulls_and_adds_identities(api: Api) -> None:
    c = make(api, external_id="u1", traits={"plan": "free", "seats": 3})
    r = api.patch(
        f"/contacts/{c['id']}", {"traits": {"plan": "pro", "seats": None}, "phone": "+1 415 555 2671"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["traits"] == {"plan": "pro"} and body["phone"] == "+14155552671"
    assert {"kind": "phone", "value": "+14155552671"} in body["identities"]
    assert api.get("/contacts", params={"phone": "+1 (415) 555-2671"}).json()["data"][0]["id"] == c["id"]


def test_patch_refuses_an_identifier_owned_by_someone_else(api: Api) -> None:
    make(api, external_id="u1", email="one@x.io")
    two = make(api, external_id="u2")
    r = api.patch(f"/contacts/{two['id']}", {"email": "one@x.io"})
    assert (r.status_code, r.json()["code"]) == (409, "identity_conflict")
    r = api.patch(f"/contacts/{two['id']}", {"external_id": "u3"})
    assert (r.status_code, r.json()["code"]) == (422, "external_id_immutable")


def test_list_filters_and_cursor_pagination(api: Api) -> None:
    ids = [make(api, external_id=f"u{i}", email=f"p{i}@x.io")["id"] for i in range(5)]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"after": cursor} if cursor else {})}
        page = api.get("/contacts", params=params).json()
        seen += [c["id"] for c in page["data"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == ids and pages == 3
    assert [c["id"] for c in api.get("/contacts", params={"external_id": "u3"}).json()["data"]] == [ids[3]]
    assert [c["id"] for c in api.get("/contacts", params={"email": "P2@X.IO"}).json()["data"]] == [ids[2]]
    r = api.get("/contacts", params={"after": "garbage!"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_cursor")
    assert api.get("/contacts", params={"limit": 0}).status_code == 422


def test_the_console_filters_by_name_segment_tag_and_stage_and_pages_through_them(
    api: Api, other_workspace: CreatedWorkspace, client: TestClient
) -> None:
    people = [("Ann", "Lee", "lead"), ("Anna", "Kim", "customer"), ("Bob", "Annan", "lead"), ("Zoë", "O'Hara", None),
              ("Li", "Na", "lead")]  # fmt: skip
    ids = []
    for i, (first, last, stage) in enumerate(people):
        body = {"external_id": f"p{i}", "first_name": first, "last_name": last}
        if stage:
            body["lifecycle_stage"] = stage
        ids.append(make(api, **body)["id"])
    for i in (0, 2, 4):
        api.post(f"/contacts/{ids[i]}/tags/vip")
    seg = api.post("/segments", {"name": "some", "kind": "static"}).json()
    assert (
        api.post(f"/segments/{seg['id']}/members", {"contact_ids": [ids[4], ids[1], ids[2]]}).status_code
        == 200
    )

    def found(**params: Any) -> list[int]:
        r = api.get("/contacts", params=params)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["data"]]

    assert found(name="an") == [ids[0], ids[1], ids[2]]  # Ann, Anna, Bob Annan
    assert found(name="ANN LEE") == [ids[0]]  # the full name, any case
    assert found(name="o'h") == [ids[3]]
    assert found(name="%") == [] and found(name="_") == []  # wildcards are plain characters
    assert found(lifecycle_stage="lead") == [ids[0], ids[2], ids[4]]
    assert found(tag="vip") == [ids[0], ids[2], ids[4]] and found(tag="unknown") == []
    assert found(tag="vip", lifecycle_stage="lead", name="b") == [ids[2]]
    first = api.get("/contacts", params={"tag": "vip", "limit": 2}).json()
    assert [c["id"] for c in first["data"]] == [ids[0], ids[2]]
    assert found(tag="vip", limit=2, after=first["next"]) == [ids[4]]
    assert found(segment_id=seg["id"]) == [ids[1], ids[2], ids[4]]
    assert found(segment_id=seg["id"], tag="vip") == [ids[2], ids[4]]
    page = api.get("/contacts", params={"segment_id": seg["id"], "limit": 1}).json()
    assert found(segment_id=seg["id"], limit=5, after=page["next"]) == [ids[2], ids[4]]
    r = api.get("/contacts", params={"segment_id": 999999})
    assert r.status_code == 404 and r.json()["code"] == "segment_not_found"
    theirs = Api(client, other_workspace.api_key)
    assert theirs.get("/contacts", params={"tag": "vip"}).json()["data"] == []


def test_anonymous_id_filter_and_merged_ids_lead_to_the_survivor(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    msgs = [
        parse_message({"type": "track", "anonymousId": "a1", "event": "Visit"}, None, clock.now()),
        parse_message({"type": "track", "userId": "u1", "event": "Login"}, None, clock.now()),
    ]
    with engine.begin() as conn:
        ingest(conn, workspace.id, msgs, clock.now())
        ingest(
            conn,
            workspace.id,
            [parse_message({"type": "identify", "userId": "u1", "anonymousId": "a1"}, None, clock.now())],
            clock.now(),
        )
        loser = conn.execute(select(contact.c.id).where(contact.c.merged_into.is_not(None))).scalar_one()
        survivor = conn.execute(select(contact.c.merged_into).where(contact.c.id == loser)).scalar_one()
    found = api.get("/contacts", params={"anonymous_id": "a1"}).json()["data"]
    assert [c["id"] for c in found] == [survivor]
    assert api.get(f"/contacts/{loser}").json()["id"] == survivor
    assert len(api.get(f"/contacts/{loser}/events").json()["data"]) == 3


def test_delete_erases_contact_identities_and_events(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    c = make(api, external_id="u1", email="gone@x.io")
    with engine.begin() as conn:
        ingest(
            conn,
            workspace.id,
            [parse_message({"type": "track", "userId": "u1", "event": "E"}, None, clock.now())],
            clock.now(),
        )
    assert api.delete(f"/contacts/{c['id']}").status_code == 204
    assert api.get(f"/contacts/{c['id']}").status_code == 404
    with engine.connect() as conn:
        for table in (contact, identity, event):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0


# --- timeline ----------------------------------------------------------------------------


def test_timeline_newest_first_with_filters_and_pages(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    msgs = [
        parse_message(
            {
                "type": "track",
                "userId": "u1",
                "event": "Viewed" if i % 2 else "Ordered",
                "timestamp": (T0 + timedelta(hours=i)).isoformat(),
            },
            None,
            clock.now(),
        )
        for i in range(7)
    ]
    with engine.begin() as conn:
        ingest(conn, workspace.id, msgs, clock.now())
    cid = api.get("/contacts", params={"external_id": "u1"}).json()["data"][0]["id"]
    first = api.get(f"/contacts/{cid}/events", params={"limit": 4}).json()
    second = api.get(f"/contacts/{cid}/events", params={"limit": 4, "after": first["next"]}).json()
    stamps = [e["timestamp"] for e in first["data"] + second["data"]]
    assert len(stamps) == 7 and stamps == sorted(stamps, reverse=True)
    assert second["next"] is None
    viewed = api.get(f"/contacts/{cid}/events", params={"name": "Viewed"}).json()["data"]
    assert [e["name"] for e in viewed] == ["Viewed"] * 3
    window = api.get(
        f"/contacts/{cid}/events",
        params={
            "since": (T0 + timedelta(hours=2)).isoformat(),
            "until": (T0 + timedelta(hours=4)).isoformat(),
        },
    ).json()["data"]
    assert len(window) == 2


# --- tags and attributes -----------------------------------------------------------------


def test_tags_are_idempotent_and_counted(api: Api) -> None:
    a, b = make(api, external_id="a"), make(api, external_id="b")
    for _ in range(2):
        assert api.post(f"/contacts/{a['id']}/tags/vip").json()["tags"] == ["vip"]
    api.post(f"/contacts/{b['id']}/tags/vip")
    api.post(f"/contacts/{b['id']}/tags/churn-risk")
    tags = {t["name"]: t["contacts"] for t in api.get("/tags").json()["data"]}
    assert tags == {"churn-risk": 1, "vip": 2}
    assert api.delete(f"/contacts/{b['id']}/tags/vip").json()["tags"] == ["churn-risk"]
    assert api.delete(f"/contacts/{b['id']}/tags/vip").status_code == 200
    r = api.post(f"/contacts/{a['id']}/tags/{'x' * 101}")
    assert (r.status_code, r.json()["code"]) == (422, "invalid_tag")


def test_attribute_definitions_type_traits(api: Api) -> None:
    assert (
        api.post("/attributes", {"name": "birthday", "type": "datetime", "label": "Birthday"}).status_code
        == 201
    )
    assert api.post("/attributes", {"name": "vip", "type": "boolean"}).status_code == 201
    names = [a["name"] for a in api.get("/attributes").json()["data"]]
    assert names == ["birthday", "vip"]
    r = api.post("/attributes", {"name": "vip", "type": "string"})
    assert (r.status_code, r.json()["code"]) == (409, "attribute_exists")
    r = api.post("/attributes", {"name": "email", "type": "string"})
    assert (r.status_code, r.json()["code"]) == (422, "reserved_attribute_name")
    r = api.post("/attributes", {"name": "x", "type": "money"})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    c = make(api, external_id="u", traits={"birthday": "1990-05-17", "vip": "true"})
    assert c["traits"] == {"birthday": "1990-05-17", "vip": True}
    r = api.post("/contacts", {"external_id": "u", "traits": {"vip": "sometimes"}})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_trait")


def test_openapi_and_unknown_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/contacts/{contact_id}/events" in spec["paths"]
    r = client.get("/api/v1/nothing-here")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
