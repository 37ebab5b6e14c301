"""The workspace dashboard (GET /reports/dashboard): a small known workspace counted day by
day, the daily event rollup kept right by every write path (HTTP batches, duplicates, the
JSON Lines import, Kairos's own events) and backfilled by its migration, range rules, an
empty workspace, and other workspaces kept out."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic import command
from sqlalchemy import Connection, Engine, delete, func, insert, select

from kairos.analytics.dashboard import recount_events
from kairos.analytics.tables import event_day_count
from kairos.clock import FixedClock
from kairos.contacts.tables import contact
from kairos.db.migrate import alembic_config, upgrade
from kairos.events.imports import import_events_jsonl
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.events.tables import event
from kairos.messaging.tracking import Outcome, provider_outcome, record
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.analytics.test_reports import campaign, messages_by_contact, segment, send_broadcast
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact

FIGURES = ("new_contacts", "events", "sent", "delivered", "opened", "clicked", "conversions", "revenue")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def post(api: Api, ws: CreatedWorkspace, path: str, body: dict[str, Any]) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(f"{ws.write_key}:".encode()).decode()}
    r = api.http.post(path, json=body, headers=auth)
    assert r.status_code == 200, r.text


def dashboard(api: Api, **params: Any) -> dict[str, Any]:
    r = api.get("/reports/dashboard", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def by_day(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d.pop("date"): d for d in report["days"]}


def stored_days(engine: Engine, workspace_id: int) -> dict[date, int]:
    """Events per UTC day of their timestamp, counted from the event table itself."""
    with engine.connect() as conn:
        stamps = conn.execute(select(event.c.timestamp).where(event.c.workspace_id == workspace_id)).scalars()
        return dict(Counter(t.astimezone(UTC).date() for t in stamps))


def rollup_in(conn: Connection, workspace_id: int) -> dict[date, int]:
    ec = event_day_count.c
    return {
        r.day: int(r.events)
        for r in conn.execute(select(ec.day, ec.events).where(ec.workspace_id == workspace_id))
    }


def rollup(engine: Engine, workspace_id: int) -> dict[date, int]:
    with engine.connect() as conn:
        return rollup_in(conn, workspace_id)


def test_a_small_workspace_is_counted_day_by_day(
    api: Api,
    smtp: SmtpServer,
    email_channel: dict[str, Any],
    worker: Worker,
    clock: FixedClock,
    engine: Engine,
    workspace: CreatedWorkspace,
    other_workspace: CreatedWorkspace,
) -> None:
    # 02-27: ann; 02-28: bob, cat and an anonymous visitor, merged into bob on 03-01
    clock.set(at("2026-02-27T09:00:00"))
    make_contact(api, external_id="ann", email="ann@example.com", tags=["spring"])
    clock.set(at("2026-02-28T09:00:00"))
    make_contact(api, external_id="bob", email="bob@example.com", tags=["spring"])
    make_contact(api, external_id="cat", email="cat@example.com", tags=["spring"])
    post(api, workspace, "/v1/track", {"anonymousId": "anon-1", "event": "Product Viewed"})
    # another workspace, the same days: never counted here
    other = Api(api.http, other_workspace.api_key)
    make_contact(other, external_id="zed", email="zed@example.com")
    post(api, other_workspace, "/v1/track", {"userId": "zed", "event": "Order Completed",
                                             "properties": {"revenue": 999}})  # fmt: skip
    clock.set(at("2026-03-01T10:00:00"))
    post(api, workspace, "/v1/identify", {"userId": "bob", "anonymousId": "anon-1"})
    # an event of 02-27 received on 03-01 (no sentAt: its timestamp is kept)
    post(api, workspace, "/v1/track", {"userId": "ann", "event": "Product Viewed",
                                       "timestamp": "2026-02-27T23:59:59.999999Z"})  # fmt: skip
    merged = select(func.count()).where(
        contact.c.workspace_id == workspace.id, contact.c.merged_into.is_not(None)
    )
    with engine.connect() as conn:
        assert conn.execute(merged).scalar_one() == 1  # the visitor

    # 03-02 12:00: a broadcast of a EUR campaign to the three (the worker sends it over SMTP)
    clock.set(at("2026-03-02T12:00:00"))
    worker.run_once()
    seg = segment(api, "spring")
    worker.run_once()
    bid = send_broadcast(api, worker, campaign(api), seg, email_template(api))
    assert len(smtp.recorder.received) == 3
    ids = messages_by_contact(engine, bid)
    ann, bob, cat = (ids[c] for c in sorted(ids))
    clock.set(at("2026-03-02T14:00:00"))
    with engine.begin() as conn:
        provider_outcome(conn, ann, "delivered", clock.now())
        provider_outcome(conn, bob, "delivered", clock.now())
        record(conn, [Outcome(ann, "opened"), Outcome(ann, "opened"), Outcome(bob, "opened", machine=True),
                      Outcome(ann, "clicked")], clock.now())  # fmt: skip
    clock.set(at("2026-03-03T08:00:00"))
    with engine.begin() as conn:
        record(conn, [Outcome(cat, "opened"), Outcome(bob, "clicked", machine=True)], clock.now())

    # 03-03: orders — ann's in the workspace's currency, bob's in BRL (no rate), and one of
    # dan, who was sent nothing (not a conversion)
    clock.set(at("2026-03-03T10:00:00"))
    make_contact(api, external_id="dan", email="dan@example.com")
    post(api, workspace, "/v1/track", {"userId": "ann", "event": "Order Completed",
                                       "properties": {"revenue": 30, "currency": "EUR"}})  # fmt: skip
    post(api, workspace, "/v1/track", {"userId": "bob", "event": "Order Completed",
                                       "properties": {"revenue": 100, "currency": "BRL"}})  # fmt: skip
    post(api, workspace, "/v1/track", {"userId": "dan", "event": "Order Completed",
                                       "properties": {"revenue": 50, "currency": "EUR"}})  # fmt: skip
    rates = {"base": "EUR", "rates": [{"currency": "USD", "rate": 1.25, "valid_from": "2026-01-01"}]}
    assert api.put("/exchange-rates", rates).status_code == 200
    clock.set(at("2026-03-04T09:00:00"))

    report = dashboard(api, start="2026-02-27T00:00:00Z", end="2026-03-05T00:00:00Z")
    assert (report["start"], report["end"]) == ("2026-02-27T00:00:00Z", "2026-03-05T00:00:00Z")
    assert (report["currency"], report["revenue_complete"]) == ("EUR", False)
    assert report["revenue_unconverted"] == {"BRL": 100}
    assert report["goal"] == {"event": "Order Completed", "window_days": 7}
    assert report["contacts"] == {"total": 4}  # ann, bob, cat, dan; the merged visitor is not one
    days = by_day(report)
    assert list(days) == ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    figures = {d: tuple(row[f] for f in FIGURES if f != "events") for d, row in days.items()}
    assert figures == {
        #              new  sent deliv opened clicked conv revenue
        "2026-02-27": (1, 0, 0, 0, 0, 0, 0),
        "2026-02-28": (2, 0, 0, 0, 0, 0, 0),  # bob and cat; the visitor merged away
        "2026-03-01": (0, 0, 0, 0, 0, 0, 0),
        "2026-03-02": (0, 3, 2, 1, 1, 0, 0),  # ann opened twice: one message; bob's open a machine's
        "2026-03-03": (1, 0, 0, 1, 0, 2, 30),  # cat's open; bob's click a machine's; BRL apart
        "2026-03-04": (0, 0, 0, 0, 0, 0, 0),
    }
    # events by their timestamp: the tracked ones, and Kairos's own (delivered, opened …)
    assert {d: row["events"] for d, row in days.items()} == {
        "2026-02-27": 1, "2026-02-28": 1, "2026-03-01": 1, "2026-03-02": 6, "2026-03-03": 5, "2026-03-04": 0,
    }  # fmt: skip
    expected = {day.isoformat(): n for day, n in stored_days(engine, workspace.id).items()}
    assert {d: row["events"] for d, row in days.items() if row["events"]} == expected
    assert report["totals"] == {f: sum(row[f] for row in days.values()) for f in FIGURES}
    assert report["totals"]["events"] == 14

    # another currency: EUR converted at its rate, BRL still apart; codes are checked
    usd = dashboard(api, start="2026-02-27T00:00:00Z", end="2026-03-05T00:00:00Z", currency="usd")
    assert (usd["currency"], usd["totals"]["revenue"]) == ("USD", 37.5)
    assert usd["revenue_unconverted"] == {"BRL": 100}
    r = api.get("/reports/dashboard", params={"currency": "ZZZ"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_currency")

    # the other workspace sees only its own
    theirs = by_day(dashboard(other, start="2026-02-28T00:00:00Z", end="2026-03-01T00:00:00Z"))
    row = theirs["2026-02-28"]
    assert (row["new_contacts"], row["events"], row["sent"], row["conversions"]) == (1, 1, 0, 0)


def test_live_journeys_and_running_broadcasts_are_counted_and_listed(
    api: Api, email_channel: dict[str, Any], other_workspace: CreatedWorkspace
) -> None:
    tpl = email_template(api)
    definition = {"trigger": {"type": "api"}, "start": "hi",
                  "nodes": {"hi": {"type": "send", "channel": "email", "template_id": tpl, "next": None}}}  # fmt: skip
    live = []
    for name in ("onboarding", "winback", "draft only"):
        r = api.post("/journeys", {"name": name, "definition": definition})
        assert r.status_code == 201, r.text
        if name != "draft only":
            assert api.post(f"/journeys/{r.json()['id']}/publish").status_code == 200
            live.append({"id": r.json()["id"], "name": name})
    seg = segment(api, "vip")
    scheduled = []
    for name in ("monday news", "not scheduled"):
        r = api.post("/broadcasts", {"name": name, "channel": "email", "segment_id": seg, "template_id": tpl,
                                     "send_at": "2026-03-09T09:00:00Z"})  # fmt: skip
        assert r.status_code == 201, r.text
        if name == "monday news":
            assert api.post(f"/broadcasts/{r.json()['id']}/schedule").json()["status"] == "scheduled"
            scheduled.append({"id": r.json()["id"], "name": name})
    report = dashboard(api)
    assert report["live_journeys"] == {"count": 2, "items": live[::-1]}  # newest first
    assert report["running_broadcasts"] == {"count": 1, "items": scheduled}
    theirs = dashboard(Api(api.http, other_workspace.api_key))
    assert theirs["live_journeys"] == theirs["running_broadcasts"] == {"count": 0, "items": []}


def test_the_event_rollup_follows_batches_duplicates_and_the_jsonl_import(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    def track(n: int, day: str, **extra: Any) -> dict[str, Any]:
        return {"type": "track", "userId": f"u{n % 3}", "event": "Page Viewed", "messageId": f"m-{n}",
                "timestamp": f"{day}T12:00:00Z", **extra}  # fmt: skip

    post(api, workspace, "/v1/batch", {"batch": [track(1, "2026-02-20"), track(2, "2026-02-20"),
                                                 track(3, "2026-02-21")]})  # fmt: skip
    # a second batch: two messages already stored, one repeated inside the batch
    post(api, workspace, "/v1/batch", {"batch": [track(1, "2026-02-20"), track(3, "2026-02-21"),
                                                 track(4, "2026-02-21"), track(4, "2026-02-21"),
                                                 track(5, "2026-02-22")]})  # fmt: skip
    assert rollup(engine, workspace.id) == {date(2026, 2, 20): 2, date(2026, 2, 21): 2, date(2026, 2, 22): 1}

    lines = [track(5, "2026-02-22"), track(6, "2026-02-22"), track(7, "2026-02-23")]
    lines.append({"type": "track", "userId": "u9", "event": "Signed Up", "timestamp": "2026-02-23T08:00:00Z"})
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    result = import_events_jsonl(engine, workspace.id, path, batch_size=2, clock=clock)
    assert (result.accepted, result.duplicates) == (3, 1)
    again = import_events_jsonl(engine, workspace.id, path, clock=clock)  # all duplicates now
    assert (again.accepted, again.duplicates) == (0, 4)

    counted = {date(2026, 2, 20): 2, date(2026, 2, 21): 2, date(2026, 2, 22): 2, date(2026, 2, 23): 2}
    assert rollup(engine, workspace.id) == stored_days(engine, workspace.id) == counted

    # the counts are written in the events' transaction: rolled back with them
    with pytest.raises(RuntimeError), engine.begin() as conn:
        ingest(conn, workspace.id, [parse_message(track(8, "2026-02-23"), None, clock.now())], clock.now())
        assert rollup_in(conn, workspace.id)[date(2026, 2, 23)] == 3
        raise RuntimeError("the request failed after ingest")
    assert rollup(engine, workspace.id) == stored_days(engine, workspace.id) == counted
    days = by_day(dashboard(api, start="2026-02-19T00:00:00Z", end="2026-02-24T00:00:00Z"))
    assert [row["events"] for row in days.values()] == [0, 2, 2, 2, 2]


def test_the_migration_backfills_the_rollup(engine: Engine, workspace: CreatedWorkspace) -> None:
    stamps = [
        "2026-02-20T00:00:00", "2026-02-20T23:59:59.999999", "2026-02-21T00:00:00", "1969-12-31T23:59:59.5",
        "2025-06-30T12:00:00",
    ]  # fmt: skip
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0017")
    try:
        with engine.begin() as conn:
            cid = conn.execute(
                insert(contact)
                .values(workspace_id=workspace.id, score=0, traits={}, created_at=at("2026-02-01T00:00:00"),
                        updated_at=at("2026-02-01T00:00:00"))
                .returning(contact.c.id)
            ).scalar_one()  # fmt: skip
            conn.execute(
                insert(event),
                [
                    {"workspace_id": workspace.id, "contact_id": cid, "type": "track", "name": "x",
                     "message_id": f"old-{i}", "properties": {}, "timestamp": at(t), "received_at": at(t)}
                    for i, t in enumerate(stamps)
                ],
            )  # fmt: skip
    finally:
        upgrade(engine)
    backfilled = rollup(engine, workspace.id)
    assert backfilled == {
        date(2026, 2, 20): 2, date(2026, 2, 21): 1, date(1969, 12, 31): 1, date(2025, 6, 30): 1,
    }  # fmt: skip
    with engine.begin() as conn:  # the same count rebuilt for one workspace
        conn.execute(delete(event_day_count))
        assert recount_events(conn, workspace.id) == len(stamps)
    assert rollup(engine, workspace.id) == backfilled


def test_range_rules_and_an_empty_workspace(api: Api, clock: FixedClock) -> None:
    for params in (
        {"start": "2026-03-05T00:00:00Z", "end": "2026-03-01T00:00:00Z"},
        {"start": "2026-03-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"},
        {"start": "2025-01-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"},  # over 400 days
        {"start": "2026-03-01T00:00:00Z"},  # ends today: fine …
        {"end": "2024-01-01T00:00:00Z", "start": "2026-03-01T00:00:00Z"},
        {"end": "0001-01-02T00:00:00Z"},  # 30 days before it: no such date
    ):
        r = api.get("/reports/dashboard", params=params)
        if params == {"start": "2026-03-01T00:00:00Z"}:
            assert r.status_code == 200, r.text
            continue
        assert r.status_code == 422, r.text
        assert set(r.json()) >= {"code", "message"} and r.json()["code"] == "invalid_range"

    # default: the 30 UTC days ending with today (2026-03-02, 12:00 on the clock)
    report = dashboard(api)
    assert (report["start"], report["end"]) == ("2026-02-01T00:00:00Z", "2026-03-03T00:00:00Z")
    days = by_day(report)
    assert len(days) == 30 and next(iter(days)) == "2026-02-01" and list(days)[-1] == "2026-03-02"
    zeros = dict.fromkeys(FIGURES, 0)
    assert all(row == zeros for row in days.values()) and report["totals"] == zeros
    assert report["contacts"] == {"total": 0}
    assert (report["currency"], report["revenue_unconverted"], report["revenue_complete"]) == (None, {}, True)
    assert report["live_journeys"] == report["running_broadcasts"] == {"count": 0, "items": []}

    # instants inside a day cover that whole day
    report = dashboard(api, start="2026-02-10T15:30:00+02:00", end="2026-02-12T00:00:01Z")
    assert (report["start"], report["end"]) == ("2026-02-10T00:00:00Z", "2026-02-13T00:00:00Z")
    assert [d["date"] for d in report["days"]] == ["2026-02-10", "2026-02-11", "2026-02-12"]
