"""The right of access (``GET /contacts/{id}/export``, ``kairos contact export``) and the right
to erasure (``DELETE /contacts/{id}``): everything held on a person comes out, and after
erasure nothing of theirs is left in clear."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, insert, select
from typer.testing import CliRunner

from kairos.campaigns.tables import broadcast, broadcast_recipient
from kairos.cli import app
from kairos.clock import FixedClock
from kairos.contacts import export
from kairos.contacts.lifecycle import set_stage
from kairos.contacts.tables import contact, contact_merge, lifecycle_change
from kairos.contacts.tags import add_tags, remove_tag
from kairos.crm.tables import crm_connection, crm_contact, crm_deal, crm_sync_log
from kairos.db.schema import metadata
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.events.tables import event
from kairos.journeys.tables import enrollment, journey, journey_step, journey_version, journey_watch
from kairos.leads.tables import lead, lead_escalation, task
from kairos.messaging import consent
from kairos.messaging.tables import (
    consent_event,
    inbox_message,
    message,
    message_event,
    subscription,
    subscription_topic,
    suppression,
    tracked_link,
)
from kairos.offers.tables import coupon, offer, offer_assignment
from kairos.scoring.tables import contact_score, score_ledger, score_model
from kairos.segments.tables import (
    computed_trait,
    computed_trait_value,
    membership_transition,
    segment,
    segment_membership,
)
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api

EMAIL = "ada.lovelace@example.com"
PHONE = "+4915112345678"
USER_ID = "user-ada-1815"
ANON = "anon-ada-0001"
#: what must not survive erasure anywhere in clear
SECRETS = (EMAIL, PHONE, USER_ID, ANON, "ada.lovelace%40example.com", "Lovelace")


@dataclass
class Person:
    id: int  # the survivor
    merged_id: int  # an anonymous contact merged into it
    bob: int  # someone else, who must be left alone


def _msg(obj: dict[str, Any], clock: FixedClock) -> Any:
    return parse_message(obj, None, clock.now())


def seed(engine: Engine, api: Api, ws: int, clock: FixedClock) -> Person:
    """A person with a row in every table that can refer to a contact."""
    r = api.post(
        "/contacts",
        {"external_id": USER_ID, "email": EMAIL, "phone": PHONE, "last_name": "Lovelace",
         "traits": {"plan": "pro"}},
        headers={"Idempotency-Key": "create-ada"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    bob = api.post("/contacts", {"external_id": "bob", "email": "bob@example.com"}).json()["id"]
    now = clock.now()
    with engine.begin() as conn:
        # an anonymous visitor with a page view, then the identify that merges it into Ada
        ingest(conn, ws, [_msg({"type": "page", "anonymousId": ANON, "name": "Pricing"}, clock)], now)
        anon_id = conn.execute(select(func.max(contact.c.id))).scalar_one()
        ingest(
            conn, ws,
            [_msg({"type": "identify", "anonymousId": ANON, "traits": {"email": EMAIL}}, clock),
             _msg({"type": "track", "userId": USER_ID, "event": "Order Completed",
                   "properties": {"email": EMAIL, "revenue": 42}}, clock)],
            now,
        )  # fmt: skip
        add_tags(conn, ws, [(cid, "vip"), (cid, "trial")], now)
        remove_tag(conn, ws, cid, "trial", now)
        set_stage(conn, ws, [cid], "customer", now, "api")
        _seed_segments(conn, ws, cid, clock)
        _seed_messaging(conn, ws, cid, clock)
        _seed_journeys(conn, ws, cid, clock)
        _seed_offers(conn, ws, cid, clock)
        _seed_leads(conn, ws, cid, clock)
        _seed_accounts(conn, ws, cid, clock)
        _seed_predictions(conn, ws, cid, clock)
    return Person(cid, anon_id, bob)


def _seed_predictions(conn: Connection, ws: int, cid: int, clock: FixedClock) -> None:
    """Ada's probability in a predictive model, with its explanation."""
    from kairos.predict.service import create_model
    from kairos.predict.tables import contact_prediction

    model = create_model(conn, ws, clock.now(), key="buyers", name="Buyers", goal_event="Order Completed",
                         within_days=14)  # fmt: skip
    conn.execute(
        insert(contact_prediction).values(
            model_id=model["id"], contact_id=cid, workspace_id=ws, probability=0.42, scored_at=clock.now(),
        )
    )  # fmt: skip


def _seed_accounts(conn: Connection, ws: int, cid: int, clock: FixedClock) -> None:
    """A B2B account Ada belongs to, as its CTO."""
    from kairos.b2b.service import link, upsert_account

    acme, _ = upsert_account(conn, ws, {"external_id": "acme", "name": "Acme", "domain": "acme.com"}, clock.now())
    link(conn, ws, [(acme["id"], cid, "CTO")], clock.now(), "api")


def _seed_leads(conn: Connection, ws: int, cid: int, clock: FixedClock) -> None:
    """Scores with their ledger, the lead with an escalation and a task, CRM records."""
    now = clock.now()
    model = conn.execute(
        insert(score_model).values(
            workspace_id=ws, key="engagement", name="Engagement", decay={"type": "none"}, created_at=now,
            updated_at=now,
        )
    ).inserted_primary_key[0]  # fmt: skip
    conn.execute(
        insert(contact_score).values(model_id=model, contact_id=cid, workspace_id=ws, score=10, changed_at=now)
    )
    conn.execute(
        insert(score_ledger).values(
            workspace_id=ws, model_id=model, contact_id=cid, kind="event", delta=10, score=10,
            reason="Pricing page viewed", params={}, at=now,
        )
    )  # fmt: skip
    conn.execute(insert(lead).values(contact_id=cid, workspace_id=ws, assigned_at=now))
    change = conn.execute(
        select(func.max(lifecycle_change.c.id)).where(lifecycle_change.c.contact_id == cid)
    ).scalar_one()
    conn.execute(
        insert(lead_escalation).values(
            workspace_id=ws, contact_id=cid, change_id=change, stage="customer", stage_since=now, notified=[],
            escalated_at=now,
        )
    )  # fmt: skip
    conn.execute(
        insert(task).values(
            workspace_id=ws, contact_id=cid, key="call-ada", kind="call", title="Call Ada",
            outcomes=["interested"], status="open", created_at=now,
        )
    )  # fmt: skip
    conn_id = conn.execute(
        insert(crm_connection).values(
            workspace_id=ws, name="HubSpot", provider="hubspot", settings={}, field_mapping={},
            sync_scope="all", lifecycle_stages=[], push_contacts=True, pull_deals=True, enabled=True,
            poll_interval=300, created_at=now, updated_at=now,
        )
    ).inserted_primary_key[0]  # fmt: skip
    conn.execute(
        insert(crm_contact).values(
            connection_id=conn_id, contact_id=cid, workspace_id=ws, status="synced", version=1,
            synced_version=1, attempts=0, next_attempt_at=now, updated_at=now,
        )
    )  # fmt: skip
    conn.execute(
        insert(crm_sync_log).values(
            workspace_id=ws, connection_id=conn_id, contact_id=cid, direction="push", outcome="synced",
            created_at=now,
        )
    )  # fmt: skip
    conn.execute(
        insert(crm_deal).values(
            connection_id=conn_id, deal_id="d-1", workspace_id=ws, contact_id=cid, stage="closedwon",
            updated_at=now,
        )
    )  # fmt: skip


def _seed_segments(conn: Connection, ws: int, cid: int, clock: FixedClock) -> None:
    now = clock.now()
    sid = conn.execute(
        insert(segment).values(workspace_id=ws, name="Buyers", kind="static", created_at=now, updated_at=now)
    ).inserted_primary_key[0]
    conn.execute(
        insert(segment_membership).values(segment_id=sid, contact_id=cid, workspace_id=ws, entered_at=now)
    )
    conn.execute(
        insert(membership_transition).values(
            workspace_id=ws, segment_id=sid, contact_id=cid, kind="entered", at=now
        )
    )
    tid = conn.execute(
        insert(computed_trait).values(
            workspace_id=ws, name="orders", definition={}, function="count", value_type="number",
            created_at=now, updated_at=now,
        )
    ).inserted_primary_key[0]  # fmt: skip
    conn.execute(
        insert(computed_trait_value).values(
            trait_id=tid, contact_id=cid, workspace_id=ws, number=3, updated_at=now
        )
    )


def _seed_messaging(conn: Connection, ws: int, cid: int, clock: FixedClock) -> None:
    now = clock.now()
    topic = conn.execute(
        insert(subscription_topic).values(workspace_id=ws, key="news", name="News", created_at=now)
    ).inserted_primary_key[0]
    conn.execute(
        insert(subscription).values(
            contact_id=cid, scope=f"topic:{topic}", workspace_id=ws, status="subscribed", updated_at=now
        )
    )
    conn.execute(
        insert(consent_event).values(
            workspace_id=ws, contact_id=cid, scope=f"topic:{topic}", status="subscribed", source="form:news",
            ip="203.0.113.7", user_agent="Firefox", created_at=now,
        )
    )  # fmt: skip
    consent.suppress(
        conn, ws, "email", EMAIL, "hard_bounce", now, detail=f"550 {EMAIL} unknown", contact_id=cid
    )
    mids = []
    for channel in ("email", "inapp"):
        mids.append(
            conn.execute(
                insert(message).values(
                    workspace_id=ws, contact_id=cid, channel=channel, idempotency_key=f"m-{channel}",
                    source="api", status="sent", next_attempt_at=now, sent_at=now, address=EMAIL,
                    data={"first_name": "Ada", "email": EMAIL}, created_at=now, updated_at=now,
                )
            ).inserted_primary_key[0]
        )  # fmt: skip
    link = conn.execute(
        insert(tracked_link).values(
            workspace_id=ws,
            url_hash="h1",
            url="https://shop.example/?e=ada.lovelace%40example.com",
            created_at=now,
        )
    ).inserted_primary_key[0]
    conn.execute(
        insert(message_event),
        [
            {"workspace_id": ws, "message_id": mids[0], "contact_id": cid, "kind": "opened", "created_at": now},
            {"workspace_id": ws, "message_id": mids[0], "contact_id": cid, "kind": "clicked", "link_id": link,
             "created_at": now},
        ],
    )  # fmt: skip
    conn.execute(
        insert(inbox_message).values(
            workspace_id=ws, contact_id=cid, message_id=mids[1], title="Hi Ada", body=EMAIL, created_at=now
        )
    )
    bid = conn.execute(
        insert(broadcast).values(
            workspace_id=ws,
            name="Spring sale",
            channel="email",
            status="queued",
            created_at=now,
            updated_at=now,
        )
    ).inserted_primary_key[0]
    conn.execute(insert(broadcast_recipient).values(broadcast_id=bid, contact_id=cid, message_id=mids[0]))


def _seed_journeys(conn: Connection, ws: int, cid: int, clock: FixedClock) -> None:
    now = clock.now()
    jid = conn.execute(
        insert(journey).values(
            workspace_id=ws, name="Welcome", status="active", created_at=now, updated_at=now
        )
    ).inserted_primary_key[0]
    vid = conn.execute(
        insert(journey_version).values(
            journey_id=jid, workspace_id=ws, number=1, definition={}, created_at=now
        )
    ).inserted_primary_key[0]
    eid = conn.execute(
        insert(enrollment).values(
            workspace_id=ws, journey_id=jid, version_id=vid, contact_id=cid, state="active", node="wait",
            phase="wait", node_at=now, steps=1, payload={"email": EMAIL}, entry_key="api:1", entered_at=now,
            updated_at=now,
        )
    ).inserted_primary_key[0]  # fmt: skip
    conn.execute(
        insert(journey_step).values(
            workspace_id=ws, journey_id=jid, version_id=vid, enrollment_id=eid, contact_id=cid, node="start",
            outcome="next", detail={"to": EMAIL}, at=now,
        )
    )  # fmt: skip
    conn.execute(insert(journey_watch).values(journey_id=jid, contact_id=cid, value="customer"))


def _seed_offers(conn: Connection, ws: int, cid: int, clock: FixedClock) -> None:
    now = clock.now()
    oid = conn.execute(
        insert(offer).values(
            workspace_id=ws, key="gift", name="A gift", kind="gift", status="active", coupon_mode="pool",
            created_at=now, updated_at=now,
        )
    ).inserted_primary_key[0]  # fmt: skip
    kid = conn.execute(
        insert(coupon).values(
            workspace_id=ws, offer_id=oid, code="ADA-2026", contact_id=cid, assigned_at=now, created_at=now
        )
    ).inserted_primary_key[0]
    conn.execute(
        insert(offer_assignment).values(
            workspace_id=ws, offer_id=oid, contact_id=cid, coupon_id=kid, code="ADA-2026", source="api",
            assigned_at=now,
        )
    )  # fmt: skip


def contact_columns() -> dict[str, list[str]]:
    """Every table with a column holding a contact id (by name or by foreign key)."""
    out: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        cols = [
            c.name
            for c in table.c
            if c.name == "contact_id" or any(fk.column.table.name == "contact" for fk in c.foreign_keys)
        ]
        if cols:
            out[table.name] = cols
    return out


# --- the export ----------------------------------------------------------------------------


def test_every_table_holding_a_contact_id_is_exported_or_excluded_with_a_reason() -> None:
    tables = contact_columns()
    assert {"event", "identity", "message", "enrollment", "consent_event"} <= set(tables)
    missing = set(tables) - export.covered_tables()
    assert not missing, f"add these tables to kairos.contacts.export.SECTIONS (or EXCLUDED): {missing}"
    assert export.covered_tables() <= set(metadata.tables), "the export names tables that do not exist"
    assert all(reason.strip() for reason in export.EXCLUDED.values())


def test_the_export_holds_everything_about_the_person(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    person = seed(engine, api, workspace.id, clock)
    r = api.get(f"/contacts/{person.id}/export")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert "attachment" in r.headers["content-disposition"]
    doc = r.json()
    assert doc["format"] == "kairos.contact-export/1"
    assert doc["contact_id"] == doc["requested_id"] == person.id
    profile = doc["contact"]
    assert (profile["email"], profile["phone"], profile["external_id"]) == (EMAIL, PHONE, USER_ID)
    assert profile["traits"] == {"plan": "pro"} and profile["lifecycle_stage"] == "customer"
    assert [m["id"] for m in doc["merged_contacts"]] == [person.merged_id]
    empty = [s.name for s in export.SECTIONS if not doc[s.name]]
    assert not empty, f"sections without the person's rows: {empty}"
    assert {(i["kind"], i["value"]) for i in doc["identities"]} == {
        ("user_id", USER_ID), ("email", EMAIL), ("phone", PHONE), ("anonymous_id", ANON),
    }  # fmt: skip
    assert [t["tag_name"] for t in doc["tags"]] == ["vip"]
    assert [t["tag_name"] for t in doc["tag_removals"]] == ["trial"]
    assert {e["name"] for e in doc["events"]} >= {"Pricing", "Order Completed"}  # the merged visit too
    email_message = next(m for m in doc["messages"] if m["channel"] == "email")
    assert [e["kind"] for e in email_message["events"]] == ["opened", "clicked"]
    assert doc["suppressions"][0]["address"] == EMAIL
    assert doc["computed_traits"][0]["computed_trait_name"] == "orders"
    assert doc["segment_memberships"][0]["segment_name"] == "Buyers"
    assert doc["offer_assignments"][0]["code"] == "ADA-2026"
    assert doc["consent_events"][0]["ip"] == "203.0.113.7"
    assert doc["scores"][0]["score_model_key"] == "engagement" and doc["scores"][0]["score"] == 10
    assert doc["score_changes"][0]["reason"] == "Pricing page viewed"
    assert doc["tasks"][0]["title"] == "Call Ada"
    assert doc["crm_records"][0]["crm_connection_provider"] == "hubspot"
    account = doc["accounts"][0]
    assert (account["account_name"], account["account_domain"], account["role"]) == ("Acme", "acme.com", "CTO")
    assert "secrets" not in doc["crm_records"][0]
    assert "workspace_id" not in profile
    # Bob is in no section
    assert all(row.get("contact_id") != person.bob for s in export.SECTIONS for row in doc[s.name])


def test_a_merged_id_exports_the_survivor_and_unknown_ids_are_404(
    api: Api,
    engine: Engine,
    workspace: CreatedWorkspace,
    other_workspace: CreatedWorkspace,
    clock: FixedClock,
) -> None:
    person = seed(engine, api, workspace.id, clock)
    doc = api.get(f"/contacts/{person.merged_id}/export").json()
    assert (doc["requested_id"], doc["contact_id"]) == (person.merged_id, person.id)
    assert api.get("/contacts/999999/export").status_code == 404
    other = Api(api.http, other_workspace.api_key)
    r = other.get(f"/contacts/{person.id}/export")
    assert r.status_code == 404 and r.json()["code"] == "contact_not_found"


def test_events_are_read_in_pages_and_all_come_out(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "EXPORT_PAGE", 2)
    with engine.begin() as conn:
        msgs = []
        for i in range(5):
            clock.advance(timedelta(minutes=1))
            msgs.append(
                _msg({"type": "track", "userId": "u1", "event": f"e{i}", "messageId": f"m{i}"}, clock)
            )
        ingest(conn, workspace.id, msgs, clock.now())
        cid = conn.execute(select(event.c.contact_id).limit(1)).scalar_one()
    doc = api.get(f"/contacts/{cid}/export").json()
    assert [e["name"] for e in doc["events"]] == ["e0", "e1", "e2", "e3", "e4"]


def test_cli_exports_to_a_private_file_or_stdout(
    cli: CliRunner, api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    person = seed(engine, api, workspace.id, clock)
    out = tmp_path / "ada.json"
    r = cli.invoke(
        app, ["contact", "export", str(person.id), "--workspace", str(workspace.id), "-o", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert json.loads(out.read_text())["contact"]["email"] == EMAIL
    r = cli.invoke(app, ["contact", "export", str(person.merged_id), "--workspace", str(workspace.id)])
    assert r.exit_code == 0 and json.loads(r.stdout)["contact_id"] == person.id
    r = cli.invoke(app, ["contact", "export", str(person.id), "--workspace", str(workspace.id + 1)])
    assert r.exit_code == 1 and "not found" in r.output


# --- erasure -------------------------------------------------------------------------------


def dump(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table, as text."""
    with engine.connect() as conn:
        return {t.name: [repr(tuple(row)) for row in conn.execute(select(t))] for t in metadata.sorted_tables}


def test_erasure_leaves_nothing_in_clear_but_keeps_the_suppression_as_a_hash(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    person = seed(engine, api, workspace.id, clock)
    bob_events = api.get(f"/contacts/{person.bob}/events").json()["data"]
    assert any(SECRETS[0] in row for rows in dump(engine).values() for row in rows)

    assert api.delete(f"/contacts/{person.id}").status_code == 204

    for cid in (person.id, person.merged_id):
        r = api.get(f"/contacts/{cid}/export")
        assert r.status_code == 404 and r.json()["code"] == "contact_not_found"
    leaks = {
        (table, secret)
        for table, rows in dump(engine).items()
        for row in rows
        for secret in SECRETS
        if secret.lower() in row.lower()
    }
    assert not leaks, f"erasure left the person's data in clear: {sorted(leaks)}"
    with engine.connect() as conn:
        for table in contact_columns():
            t = metadata.tables[table]
            for column in contact_columns()[table]:
                left = conn.execute(
                    select(func.count()).select_from(t).where(t.c[column].in_([person.id, person.merged_id]))
                ).scalar_one()
                assert left == 0, f"{table}.{column} still refers to the erased person"
        assert conn.execute(select(func.count()).select_from(contact_merge)).scalar_one() == 0
        # the address that bounced is still never written to, though only its hash is kept
        assert consent.suppressed(conn, workspace.id, [("email", EMAIL)]) == {("email", EMAIL)}
        kept = conn.execute(select(suppression.c.address, suppression.c.reason)).all()
        assert [(a.startswith("sha256:"), r) for a, r in kept] == [(True, "hard_bounce")]
        # the coupon given stays used
        assert conn.execute(select(coupon.c.assigned_at)).scalar_one() is not None
    # someone else is left alone
    assert api.get(f"/contacts/{person.bob}").json()["email"] == "bob@example.com"
    assert api.get(f"/contacts/{person.bob}/events").json()["data"] == bob_events
    # a hashed suppression can be lifted by its address
    assert api.delete(f"/suppressions/email/{EMAIL}").status_code == 204
    with engine.connect() as conn:
        assert consent.suppressed(conn, workspace.id, [("email", EMAIL)]) == set()
