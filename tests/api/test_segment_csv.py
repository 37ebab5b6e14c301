"""Static lists by CSV: ``POST /segments/{id}/members/import`` and ``GET /segments/{id}/members.csv``."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kairos.clock import FixedClock
from kairos.contacts.tables import contact
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.segments import lists
from kairos.segments.tables import membership_transition
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api


def upload(api: Api, segment_id: int, body: str | bytes, content_type: str = "text/csv") -> httpx.Response:
    return api.http.post(
        f"/api/v1/segments/{segment_id}/members/import",
        content=body.encode() if isinstance(body, str) else body,
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": content_type},
    )


def new_contact(api: Api, **fields: Any) -> int:
    r = api.post("/contacts", fields)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def new_list(api: Api, name: str = "VIP") -> int:
    return int(api.post("/segments", {"name": name, "kind": "static"}).json()["id"])


def member_ids(api: Api, segment_id: int) -> list[int]:
    return [
        m["id"] for m in api.get(f"/segments/{segment_id}/members", params={"limit": 1000}).json()["data"]
    ]


def export(api: Api, segment_id: int) -> tuple[httpx.Response, list[dict[str, str]]]:
    r = api.get(f"/segments/{segment_id}/members.csv")
    return r, list(csv.DictReader(io.StringIO(r.content.decode("utf-8"), newline="")))


def test_import_matches_by_id_external_id_email_and_phone_and_rejects_by_line(
    api: Api, client: TestClient, other_workspace: CreatedWorkspace, engine: Engine
) -> None:
    ann = new_contact(api, external_id="ann", email="Ann@X.io")
    bob = new_contact(api, external_id="bob")
    cy = new_contact(api, email="cy@x.io")
    dee = new_contact(api, phone="+14155550100")
    foreign = Api(client, other_workspace.api_key).post("/contacts", {"external_id": "zed"}).json()["id"]
    lst = new_list(api)
    body = (
        "id,external_id,email,phone,note\r\n"
        f"{ann},,,,by id\r\n"  # 2
        ",bob,,,by external id\r\n"  # 3
        ',,CY@X.IO,,"by email,\nany case"\r\n'  # 4-5: a quoted cell spanning two lines
        ",,,+1 415 555 0100,by phone\r\n"  # 6
        ",nobody,,,\r\n"  # 7
        ",,ghost@x.io,,\r\n"  # 8
        ",,not-an-email,,\r\n"  # 9
        ",,,,only a note\r\n"  # 10
        "abc,,,,\r\n"  # 11
        "\r\n"  # 12: blank, skipped
        f"{foreign},,,,another workspace's contact\r\n"  # 13
        f"{ann},bob,cy@x.io,,id wins over the other columns\r\n"  # 14
        ",,,12,\r\n"  # 15
    )
    r = upload(api, lst, body)
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["added"], result["already_members"], result["rejected_count"]) == (4, 0, 7)
    reasons = {reject["line"]: reject["reason"] for reject in result["rejected"]}
    assert [reject["line"] for reject in result["rejected"]] == [7, 8, 9, 10, 11, 13, 15]
    assert reasons[7] == "no contact with external_id nobody"
    assert reasons[8] == "no contact with email ghost@x.io"
    assert "not a valid email address" in reasons[9]
    assert reasons[10] == "the row names no contact: its id, external_id, email, phone cells are empty"
    assert reasons[11] == "id 'abc' is not a contact id"
    assert reasons[13] == f"no contact with id {foreign}"
    assert "not a valid phone number" in reasons[15]
    assert member_ids(api, lst) == [ann, bob, cy, dee]

    # Importing again adds nobody and records no new transition.
    again = upload(api, lst, body).json()
    assert (again["added"], again["already_members"], again["rejected_count"]) == (0, 4, 7)
    with engine.connect() as conn:
        entered = conn.execute(
            select(func.count()).where(membership_transition.c.segment_id == lst)
        ).scalar_one()
    assert entered == 4


def test_import_header_variants_bom_semicolons_and_user_id(api: Api) -> None:
    ann = new_contact(api, external_id="ann", email="ann@x.io")
    bob = new_contact(api, external_id="bob")
    lst = new_list(api)
    r = upload(api, lst, "\ufeffE-Mail;Email;Name\r\nx;ANN@x.io;Ann\r\n".encode())
    assert r.json() == {"added": 1, "already_members": 0, "rejected": [], "rejected_count": 0}
    r = upload(api, lst, "User_Id\nbob\nann\n")
    assert (r.json()["added"], r.json()["already_members"]) == (1, 1)
    assert member_ids(api, lst) == [ann, bob]


def test_merged_contact_resolves_to_its_survivor(
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
        loser, survivor = conn.execute(
            select(contact.c.id, contact.c.merged_into).where(contact.c.merged_into.is_not(None))
        ).one()
    lst = new_list(api)
    r = upload(api, lst, f"id\n{loser}\n")
    assert (r.json()["added"], r.json()["rejected_count"]) == (1, 0)
    assert member_ids(api, lst) == [survivor]
    r = upload(api, lst, f"external_id,id\nu1,\n,{survivor}\n")
    assert (r.json()["added"], r.json()["already_members"]) == (0, 1)


def test_import_refuses_dynamic_segments_and_other_workspaces(
    api: Api, client: TestClient, other_workspace: CreatedWorkspace
) -> None:
    new_contact(api, external_id="ann")
    dynamic = api.post(
        "/segments", {"name": "All", "definition": {"root": {"type": "all", "conditions": []}}}
    ).json()
    r = upload(api, dynamic["id"], "external_id\nann\n")
    assert (r.status_code, r.json()["code"]) == (409, "segment_is_dynamic")
    theirs = new_list(Api(client, other_workspace.api_key), "Theirs")
    for r in (
        upload(api, theirs, "external_id\nann\n"),
        api.get(f"/segments/{theirs}/members.csv"),
        upload(api, 999_999, "external_id\nann\n"),
    ):
        assert (r.status_code, r.json()["code"]) == (404, "segment_not_found")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code", "message"),
    [
        (b"first_name,plan\nAnn,pro\n", "text/csv", 422, "invalid_csv", "no column identifies a contact"),
        (b"", "text/csv", 422, "invalid_csv", "no header row"),
        (b"user_id,external_id\na,b\n", "text/csv", 422, "invalid_csv", "both name the external_id"),
        (b"email\nann@x.io\nren\xe9@x.io\n", "text/csv", 422, "invalid_encoding", "line 3 has the byte 0xE9"),
        ("email\nann@x.io\n".encode("utf-16"), "text/csv", 422, "invalid_encoding", "UTF-16"),
        (b'{"email": "ann@x.io"}', "application/json", 415, "unsupported_media_type", "text/csv"),
    ],
)
def test_unreadable_files_are_refused_whole(
    api: Api, body: bytes, content_type: str, status: int, code: str, message: str
) -> None:
    new_contact(api, email="ann@x.io")
    lst = new_list(api)
    r = upload(api, lst, body, content_type)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert message in r.json()["message"]
    if code == "invalid_csv" and body.startswith(b"first"):
        assert "id (or contact_id), external_id (or user_id), email, phone" in r.json()["message"]
    assert member_ids(api, lst) == []


def test_a_body_over_the_limit_is_413(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    new_contact(api, email="ann@x.io")
    lst = new_list(api)
    monkeypatch.setattr(lists, "MAX_IMPORT_BYTES", 64)
    r = upload(api, lst, "email\n" + "ann@x.io\n" * 10)
    assert (r.status_code, r.json()["code"]) == (413, "request_too_large")
    assert member_ids(api, lst) == []
    assert upload(api, lst, "email\nann@x.io\n").json()["added"] == 1


def test_export_streams_members_in_id_order_escaping_formulas(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [
        new_contact(api, external_id="ann", email="ann@x.io", first_name="Ann", last_name="O'Neil"),
        new_contact(api, external_id="-x1", email="=evil@x.io", first_name='=HYPERLINK("http://x")'),
        new_contact(api, external_id="@sum", phone="+14155550100", first_name="+cmd|' /C calc'!A0"),
        new_contact(api, external_id="ren", first_name='Ren, "the"\nsecond line', last_name="-2+3"),
        new_contact(api, external_id="eve"),
    ]
    lst = new_list(api)
    assert api.post(f"/segments/{lst}/members", {"contact_ids": ids[1:]}).json() == {"added": 4}
    monkeypatch.setattr(lists, "EXPORT_PAGE", 2)  # three pages
    r, rows = export(api, lst)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == f'attachment; filename="segment-{lst}-members.csv"'
    assert r.content.startswith(b"id,external_id,email,phone,first_name,last_name,entered_at\r\n")
    assert [int(row["id"]) for row in rows] == ids[1:]
    assert rows[0] == {"id": str(ids[1]), "external_id": "'-x1", "email": "'=evil@x.io", "phone": "",
                       "first_name": "'=HYPERLINK(\"http://x\")", "last_name": "",
                       "entered_at": "2026-03-02T12:00:00Z"}  # fmt: skip
    assert (rows[1]["external_id"], rows[1]["phone"]) == ("'@sum", "+14155550100")  # a number stays
    assert rows[1]["first_name"] == "'+cmd|' /C calc'!A0"
    assert (rows[2]["first_name"], rows[2]["last_name"]) == ('Ren, "the"\nsecond line', "'-2+3")

    # The export imports back into another list, escaped cells included.
    copy = new_list(api, "Copy")
    r = upload(api, copy, export(api, lst)[0].content)
    assert (r.json()["added"], r.json()["rejected_count"]) == (4, 0)
    assert member_ids(api, copy) == ids[1:]
    empty = new_list(api, "Empty")
    assert export(api, empty)[0].content == b"id,external_id,email,phone,first_name,last_name,entered_at\r\n"


def test_export_works_for_dynamic_segments(api: Api, engine: Engine, clock: FixedClock) -> None:
    ids = [new_contact(api, external_id=x, email=f"{x}@x.io") for x in ("ann", "bob")]
    definition = {"root": {"type": "attribute", "attribute": "external_id", "operator": "eq", "value": "bob"}}
    seg = api.post("/segments", {"name": "Bob", "definition": definition}).json()
    Worker(engine, clock).run_once()
    r, rows = export(api, seg["id"])
    assert r.status_code == 200
    assert [(int(row["id"]), row["email"]) for row in rows] == [(ids[1], "bob@x.io")]
