"""B2B accounts end to end, on SQLite and PostgreSQL: Segment ``group`` calls create and link
accounts, the /accounts API (CRUD, search, members, idempotency, precise 4xx), the score
roll-up after members' scores change, the ``account`` segment condition (attributes, roll-ups,
"at least 3 engaged members"), deleting an account, merges, erasure, assignment by account
owner and the CSV import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from kairos.b2b.imports import import_accounts_csv
from kairos.b2b.tables import account, account_contact
from kairos.clock import FixedClock
from kairos.contacts.tables import contact
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api

_seq = iter(range(1_000_000))


def send(engine: Engine, ws: CreatedWorkspace, clock: FixedClock, msg: dict[str, Any]) -> None:
    now = clock.now()
    full = {"timestamp": now.isoformat(), "messageId": f"m-{next(_seq)}", **msg}
    with engine.begin() as conn:
        ingest(conn, ws.id, [parse_message(full, None, now)], now)


def group(
    engine: Engine, ws: CreatedWorkspace, clock: FixedClock, user: str, gid: str, **traits: Any
) -> None:
    send(engine, ws, clock, {"type": "group", "userId": user, "groupId": gid, "traits": traits})


def track(engine: Engine, ws: CreatedWorkspace, clock: FixedClock, user: str, name: str) -> None:
    send(engine, ws, clock, {"type": "track", "userId": user, "event": name})


def run(engine: Engine, clock: FixedClock, times: int = 2) -> None:
    for _ in range(times):
        Worker(engine, clock).run_once()


def cid(engine: Engine, user: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(contact.c.id).where(contact.c.external_id == user)).scalar_one())


def by_external(api: Api, gid: str) -> dict[str, Any]:
    r = api.get("/accounts", params={"external_id": gid})
    assert r.status_code == 200, r.text
    (found,) = r.json()["data"]
    return dict(found)


def members(api: Api, account_id: int) -> list[int]:
    r = api.get(f"/accounts/{account_id}/contacts")
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["data"]]


def scores(acc: dict[str, Any], key: str = "engagement") -> tuple[float, float, int]:
    s = next(s for s in acc["scores"] if s["model"] == key)
    return s["sum"], s["max"], s["engaged"]


def engagement(api: Api, points: float = 10) -> int:
    r = api.post("/score-models", {"key": "engagement", "name": "Engagement"})
    assert r.status_code == 201, r.text
    model_id = int(r.json()["id"])
    r = api.post(
        f"/score-models/{model_id}/rules",
        {"name": "demo", "points": points, "rule": {"kind": "event", "event": "Demo Viewed"}},
    )
    assert r.status_code == 201, r.text
    return model_id


def segment(api: Api, root: dict[str, Any]) -> int:
    name = f"Accounts {next(_seq)}"
    r = api.post("/segments", {"name": name, "definition": {"schema_version": 1, "root": root}})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def segment_members(api: Api, segment_id: int) -> set[int]:
    r = api.get("/contacts", params={"segment_id": segment_id, "limit": 1000})
    assert r.status_code == 200, r.text
    return {c["id"] for c in r.json()["data"]}


def test_a_group_call_creates_the_account_and_links_the_contact(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    group(engine, workspace, clock, "ada", "acme-1", name="Acme Corp", website="https://www.Acme.com/about",
          industry="Education", employees=420)  # fmt: skip
    acme = by_external(api, "acme-1")
    assert (acme["name"], acme["domain"]) == ("Acme Corp", "acme.com")
    assert acme["traits"] == {"industry": "Education", "employees": 420}
    assert acme["member_count"] == 1
    assert members(api, acme["id"]) == [cid(engine, "ada")]
    # a second call merges traits, another user joins, a repeated call adds nobody twice
    group(engine, workspace, clock, "bob", "acme-1", plan="enterprise")
    group(engine, workspace, clock, "ada", "acme-1")
    acme = by_external(api, "acme-1")
    assert acme["traits"] == {"industry": "Education", "employees": 420, "plan": "enterprise"}
    assert acme["member_count"] == 2
    member = api.get(f"/accounts/{acme['id']}/contacts").json()["data"][0]
    assert (member["source"], member["role"]) == ("group", None)
    # a user may belong to several accounts (Segment allows several groups)
    group(engine, workspace, clock, "ada", "globex", name="Globex", website="not a domain")
    globex = by_external(api, "globex")
    assert globex["domain"] is None and globex["traits"] == {"website": "not a domain"}
    mine = api.get("/accounts", params={"contact_id": cid(engine, "ada")}).json()["data"]
    assert [a["external_id"] for a in mine] == ["acme-1", "globex"]


def test_the_api_creates_reads_updates_deletes_and_searches(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    r = api.post("/accounts", {"external_id": "A-1", "name": "Acme", "domain": "acme.com",
                               "traits": {"industry": "Education"}})  # fmt: skip
    assert r.status_code == 201, r.text
    acme = r.json()
    assert acme["member_count"] == 0 and acme["owner_user_id"] is None
    # the same external id again updates it (200), as a group call does
    r = api.post("/accounts", {"external_id": "A-1", "traits": {"plan": "pro"}})
    assert r.status_code == 200 and r.json()["id"] == acme["id"]
    assert r.json()["traits"] == {"industry": "Education", "plan": "pro"}
    api.post("/accounts", {"name": "Initech", "domain": "initech.io"})
    api.post("/accounts", {"name": "acme labs"})
    names = lambda p: [a["name"] for a in api.get("/accounts", params=p).json()["data"]]  # noqa: E731
    assert names({"q": "ACM"}) == ["Acme", "acme labs"]
    assert names({"q": "initech.i"}) == ["Initech"]
    assert names({"domain": "https://www.initech.io"}) == ["Initech"]
    first = api.get("/accounts", params={"limit": 2}).json()
    rest = api.get("/accounts", params={"limit": 2, "after": first["next"]}).json()
    assert [a["name"] for a in first["data"] + rest["data"]] == ["Acme", "Initech", "acme labs"]
    assert rest["next"] is None
    r = api.patch(f"/accounts/{acme['id']}", {"name": "Acme Inc", "traits": {"plan": None, "seats": 40}})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["traits"]) == ("Acme Inc", {"industry": "Education", "seats": 40})
    assert api.get(f"/accounts/{acme['id']}").json()["name"] == "Acme Inc"
    assert api.delete(f"/accounts/{acme['id']}").status_code == 204
    r = api.get(f"/accounts/{acme['id']}")
    assert (r.status_code, r.json()["code"]) == (404, "account_not_found")


def test_errors_are_precise(api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock) -> None:
    def refused(r: Any, status: int, code: str) -> None:
        assert (r.status_code, r.json()["code"]) == (status, code), r.text
        assert set(r.json()) == {"code", "message"}

    refused(api.post("/accounts", {"domain": "acme"}), 422, "invalid_domain")
    refused(api.post("/accounts", {"name": "A", "owner_user_id": 999}), 422, "invalid_owner")
    refused(api.post("/accounts", {"name": "A", "colour": "red"}), 422, "validation_error")
    refused(api.post("/accounts", {"traits": {"blob": "x" * 20_000}}), 422, "traits_too_large")
    one = api.post("/accounts", {"external_id": "one"}).json()
    api.post("/accounts", {"external_id": "two"})
    refused(api.patch(f"/accounts/{one['id']}", {"external_id": "two"}), 422, "external_id_taken")
    refused(api.get("/accounts/999999"), 404, "account_not_found")
    refused(api.post(f"/accounts/{one['id']}/contacts", {"contacts": [{"contact_id": 999999}]}), 404,
            "contact_not_found")  # fmt: skip
    refused(api.post(f"/accounts/{one['id']}/contacts", {"contacts": []}), 422, "validation_error")
    refused(api.get("/accounts", params={"contact_id": 999999}), 404, "contact_not_found")
    refused(api.get("/accounts", params={"after": "nonsense"}), 422, "invalid_cursor")
    refused(api.put("/account-scores/nope", {"engaged_threshold": 5}), 404, "score_model_not_found")


def test_an_idempotency_key_replays_the_first_answer(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    body = {"name": "Acme"}  # no external id: each create is a new account, unless replayed
    first = api.post("/accounts", body, headers={"Idempotency-Key": "k-1"})
    again = api.post("/accounts", body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(api.get("/accounts").json()["data"]) == 1
    other = api.post("/accounts", {"name": "Other"}, headers={"Idempotency-Key": "k-1"})
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")


def test_members_are_added_with_roles_listed_and_removed(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    ids = [api.post("/contacts", {"email": f"p{i}@acme.com"}).json()["id"] for i in range(3)]
    acc = api.post("/accounts", {"name": "Acme"}).json()
    r = api.post(f"/accounts/{acc['id']}/contacts",
                 {"contacts": [{"contact_id": ids[0], "role": "CTO"}, {"contact_id": ids[1]}]})  # fmt: skip
    assert r.status_code == 200 and r.json()["member_count"] == 2, r.text
    # again: idempotent, the role replaced only when given
    api.post(f"/accounts/{acc['id']}/contacts", {"contacts": [{"contact_id": ids[0]}, {"contact_id": ids[2],
                                                                                     "role": "Buyer"}]})  # fmt: skip
    page = api.get(f"/accounts/{acc['id']}/contacts", params={"limit": 2}).json()
    assert [(m["id"], m["role"], m["source"]) for m in page["data"]] == [
        (ids[0], "CTO", "api"),
        (ids[1], None, "api"),
    ]
    rest = api.get(f"/accounts/{acc['id']}/contacts", params={"after": page["next"]}).json()
    assert [m["email"] for m in rest["data"]] == ["p2@acme.com"]
    assert api.delete(f"/accounts/{acc['id']}/contacts/{ids[1]}").status_code == 204
    assert api.delete(f"/accounts/{acc['id']}/contacts/{ids[1]}").status_code == 204  # not a member: fine
    assert members(api, acc["id"]) == [ids[0], ids[2]]
    assert api.get(f"/accounts/{acc['id']}").json()["member_count"] == 2


def test_scores_roll_up_when_members_scores_change(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    engagement(api, points=10)
    run(engine, clock)
    for user in ("ada", "bob", "cy"):
        group(engine, workspace, clock, user, "acme")
    run(engine, clock)
    assert scores(by_external(api, "acme")) == (0, 0, 0)
    track(engine, workspace, clock, "ada", "Demo Viewed")
    track(engine, workspace, clock, "ada", "Demo Viewed")
    track(engine, workspace, clock, "bob", "Demo Viewed")
    run(engine, clock)
    assert scores(by_external(api, "acme")) == (30, 20, 3 - 1)  # default threshold: 1 point
    r = api.put("/account-scores/engagement", {"engaged_threshold": 15})
    assert r.status_code == 200 and r.json()["default"] is False, r.text
    run(engine, clock)
    assert scores(by_external(api, "acme")) == (30, 20, 1)
    settings = api.get("/account-scores").json()["data"]
    assert settings == [{"model": "engagement", "model_name": "Engagement", "engaged_threshold": 15.0,
                         "default": False}]  # fmt: skip
    # a member leaving takes its score along
    acme = by_external(api, "acme")
    api.delete(f"/accounts/{acme['id']}/contacts/{cid(engine, 'ada')}")
    run(engine, clock)
    assert scores(by_external(api, "acme")) == (10, 10, 0)


def test_contacts_of_accounts_with_three_engaged_people(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    """The account condition: a member count over a nested condition, an account attribute and
    a score roll-up, kept true by the worker as scores and members change."""
    engagement(api, points=10)
    run(engine, clock)
    for user in ("a1", "a2", "a3", "a4"):
        group(engine, workspace, clock, user, "acme", name="Acme", industry="Education")
    for user in ("g1", "g2"):
        group(engine, workspace, clock, user, "globex", name="Globex", industry="Retail")
    for user in ("a1", "a2", "g1", "g2"):
        track(engine, workspace, clock, user, "Demo Viewed")
    three = segment(api, {"type": "account", "members": {
        "condition": {"type": "score", "model": "engagement", "operator": "gte", "value": 10},
        "operator": ">=", "value": 3}})  # fmt: skip
    education = segment(api, {"type": "account", "where": [
        {"attribute": "traits.industry", "operator": "eq", "value": "Education"},
        {"attribute": "score.engagement.sum", "operator": "gte", "value": 20}]})  # fmt: skip
    outside = segment(api, {"type": "account", "where": [{"attribute": "name", "operator": "eq", "value": "Acme"}],
                            "present": False})  # fmt: skip
    run(engine, clock, 3)
    acme = {cid(engine, u) for u in ("a1", "a2", "a3", "a4")}
    globex = {cid(engine, u) for u in ("g1", "g2")}
    assert segment_members(api, three) == set()  # two engaged people at Acme, two at Globex
    assert segment_members(api, education) == acme
    assert segment_members(api, outside) == globex
    # a third person at Acme engages: every Acme contact enters, engaged or not
    track(engine, workspace, clock, "a3", "Demo Viewed")
    run(engine, clock, 3)
    assert segment_members(api, three) == acme
    # why a member is in: the explanation evaluates the account condition for them
    r = api.get(f"/segments/{three}/explain/{cid(engine, 'a4')}")
    assert r.status_code == 200, r.text
    assert r.json()["matches"] is True, r.text
    # the preview agrees with the stored members
    r = api.post("/segments/preview", {"definition": {"schema_version": 1, "root": {
        "type": "account", "members": {"operator": ">=", "value": 4}}}})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 4
    # one leaves the account: Acme is down to two engaged people, everyone leaves the segment
    acme_id = by_external(api, "acme")["id"]
    assert api.delete(f"/accounts/{acme_id}/contacts/{cid(engine, 'a1')}").status_code == 204
    run(engine, clock, 3)
    assert segment_members(api, three) == set()
    # an account attribute changes: its members follow
    api.patch(f"/accounts/{acme_id}", {"traits": {"industry": "Retail"}})
    run(engine, clock, 3)
    assert segment_members(api, education) == set()


def test_account_conditions_are_validated_precisely(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    engagement(api)

    def refused(root: dict[str, Any], code: str, where: str) -> None:
        r = api.post("/segments", {"name": "x", "definition": {"schema_version": 1, "root": root}})
        assert r.status_code == 422, r.text
        assert r.json()["code"] == code, r.text
        assert r.json()["message"].startswith(where), r.text

    refused({"type": "account", "where": [{"attribute": "colour", "operator": "eq", "value": "red"}]},
            "unknown_attribute", "root.where[0].attribute")  # fmt: skip
    refused({"type": "account", "where": [{"attribute": "score.nope.sum", "operator": "gte", "value": 1}]},
            "unknown_score_model", "root.where[0].attribute")  # fmt: skip
    refused({"type": "account", "where": [{"attribute": "score.engagement.avg", "operator": "gte", "value": 1}]},
            "unknown_attribute", "root.where[0].attribute")  # fmt: skip
    refused({"type": "account", "where": [{"attribute": "name", "operator": "gte", "value": 1}]},
            "invalid_operator", "root.where[0].operator")  # fmt: skip
    refused({"type": "account", "where": [{"attribute": "member_count", "operator": "gte", "value": "many"}]},
            "invalid_value", "root.where[0].value")  # fmt: skip
    refused(
        {"type": "account", "members": {"operator": "~", "value": 3}},
        "invalid_definition",
        "root.members.operator",
    )
    refused({"type": "account", "members": {"value": -1}}, "invalid_definition", "root.members.value")
    refused({"type": "account", "members": {"condition": {"type": "account"}, "value": 1}}, "invalid_definition",
            "root.members.condition")  # fmt: skip
    refused({"type": "account", "members": {"condition": {"type": "tag"}}}, "invalid_definition",
            "root.members.condition")  # fmt: skip


def test_deleting_an_account_unlinks_its_members(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    group(engine, workspace, clock, "ada", "acme", name="Acme")
    group(engine, workspace, clock, "bob", "acme")
    in_acme = segment(
        api, {"type": "account", "where": [{"attribute": "name", "operator": "eq", "value": "Acme"}]}
    )
    run(engine, clock)
    assert len(segment_members(api, in_acme)) == 2
    acme = by_external(api, "acme")
    assert api.delete(f"/accounts/{acme['id']}").status_code == 204
    with engine.connect() as conn:
        assert conn.execute(select(account_contact)).all() == []
    assert api.get(f"/contacts/{cid(engine, 'ada')}").status_code == 200  # the contacts stay
    run(engine, clock)
    assert segment_members(api, in_acme) == set()
    r = api.get(f"/accounts/{acme['id']}/contacts")
    assert (r.status_code, r.json()["code"]) == (404, "account_not_found")


def test_merges_move_memberships_and_erasure_recounts(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    send(engine, workspace, clock, {"type": "group", "anonymousId": "anon-1", "groupId": "acme"})
    group(engine, workspace, clock, "bob", "acme")
    # the visitor identifies as Ada: the membership goes with her
    send(engine, workspace, clock, {"type": "identify", "anonymousId": "anon-1", "userId": "ada"})
    run(engine, clock)
    acme = by_external(api, "acme")
    assert members(api, acme["id"]) == sorted([cid(engine, "ada"), cid(engine, "bob")])
    assert api.delete(f"/contacts/{cid(engine, 'bob')}").status_code == 204
    run(engine, clock)
    assert by_external(api, "acme")["member_count"] == 1


def test_assignment_by_account_owner_uses_the_b2b_account(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    owner = api.post("/users", {"email": "rep@example.com", "name": "Rep", "role": "sales",
                                "password": "a-long-password-1"}).json()  # fmt: skip
    acc = api.post("/accounts", {"name": "Acme", "owner_user_id": owner["id"]}).json()
    assert acc["owner_email"] == "rep@example.com"
    r = api.post("/assignment-rules", {"name": "by account", "stage": "MQL", "method": "account_owner"})
    assert r.status_code == 201, r.text
    ada = api.post("/contacts", {"email": "ada@acme.com"}).json()["id"]
    api.post(f"/accounts/{acc['id']}/contacts", {"contacts": [{"contact_id": ada}]})
    run(engine, clock)
    api.patch(f"/contacts/{ada}", {"lifecycle_stage": "MQL"})
    run(engine, clock)
    # the owner is stored on the lead and mirrored in the contact's sales_owner trait
    assert api.get(f"/contacts/{ada}").json()["traits"]["sales_owner"] == "rep@example.com"


def test_accounts_import_from_csv(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    api.post("/accounts", {"external_id": "A-1", "name": "Old name", "traits": {"tier": "gold"}})
    ada = api.post("/contacts", {"email": "ada@acme.com"}).json()["id"]
    path = tmp_path / "accounts.csv"
    path.write_text(
        "external_id,name,domain,industry,employees,contact_emails\n"
        "A-1,Acme,acme.com,Education,420,ada@acme.com\n"
        "A-2,Globex,https://globex.com,Retail,,nobody@example.com\n"
        ",,,Retail,,\n"
        "A-3,Initech,not a domain,,,\n",
        encoding="utf-8",
    )
    report = import_accounts_csv(engine, workspace.id, path, clock=clock)
    assert report.accepted == 2
    assert [line for line, _ in report.rejected] == [4, 5]
    acme = by_external(api, "A-1")
    assert (acme["name"], acme["domain"]) == ("Acme", "acme.com")
    assert acme["traits"] == {"tier": "gold", "industry": "Education", "employees": "420"}
    assert members(api, acme["id"]) == [ada]
    assert by_external(api, "A-2")["domain"] == "globex.com"
    with engine.connect() as conn:
        assert conn.execute(select(account.c.external_id).order_by(account.c.id)).scalars().all() == [
            "A-1",
            "A-2",
        ]


@pytest.mark.parametrize("path", ["/accounts/{id}", "/accounts/{id}/contacts"])
def test_another_workspace_sees_nothing(
    api: Api, client: Any, other_workspace: CreatedWorkspace, path: str
) -> None:
    acc = api.post("/accounts", {"name": "Mine"}).json()
    r = client.get("/api/v1" + path.format(id=acc["id"]),
                   headers={"Authorization": f"Bearer {other_workspace.api_key}"})  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (404, "account_not_found")


def test_the_command_line_imports_accounts(
    cli: Any, engine: Engine, workspace: CreatedWorkspace, tmp_path: Path
) -> None:
    from kairos.cli import app

    path = tmp_path / "accounts.csv"
    path.write_text(
        "group_id,name,website,plan\nA-1,Acme,acme.com,pro\nA-2,Bad,no domain,\n", encoding="utf-8"
    )
    result = cli.invoke(app, ["import", "accounts", str(path), "--workspace", str(workspace.id)])
    assert result.exit_code == 0, result.output
    assert "1 accepted" in result.output and "1 rejected" in result.output, result.output
    with engine.connect() as conn:
        assert conn.execute(select(account.c.name, account.c.domain, account.c.traits)).all() == [
            ("Acme", "acme.com", {"plan": "pro"})
        ]
