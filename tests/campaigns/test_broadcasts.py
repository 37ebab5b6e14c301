"""Broadcasts: a segment snapshot queued through the outbox, at an instant or at a local
time in each contact's time zone; pause, resume, cancel; approval of their campaign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from kairos.campaigns.broadcasts import run_broadcasts
from kairos.clock import FixedClock
from kairos.worker.loop import Worker
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact


def vip_segment(api: Api) -> int:
    r = api.post("/segments", {"name": "vip", "definition": {"root": {"type": "tag", "tag": "vip"}}})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def broadcast(api: Api, **fields: Any) -> dict[str, Any]:
    r = api.post("/broadcasts", {"name": "b", "channel": "email", **fields})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_broadcast_at_ten_local_time_reaches_each_contact_at_ten_in_their_zone(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, clock: FixedClock
) -> None:
    seg = vip_segment(api)
    people = {tz: make_contact(api, external_id=tz, email=f"{tz.split('/')[1].lower()}@example.com",
                               timezone=tz, tags=["vip"])
              for tz in ("Asia/Tokyo", "Europe/Paris", "America/New_York")}  # fmt: skip
    make_contact(api, external_id="not-vip", email="nv@example.com")
    worker.run_once()  # segment computed
    b = broadcast(
        api, segment_id=seg, template_id=email_template(api), local_date="2026-03-03", local_time="10:00"
    )
    assert api.post(f"/broadcasts/{b['id']}/schedule").json()["status"] == "scheduled"

    worker.run_once()  # 2026-03-02 12:00 UTC: before the first zone reaches the 3rd, 10:00
    assert api.get(f"/broadcasts/{b['id']}").json()["status"] == "scheduled"
    clock.set(datetime(2026, 3, 3, 1, 0, tzinfo=UTC))  # 10:00 in Tokyo
    worker.run_once()
    state = api.get(f"/broadcasts/{b['id']}").json()
    assert (state["status"], state["audience"], state["queued"]) == ("queued", 3, 3)
    assert [r.rcpt_tos[0] for r in smtp.recorder.received] == ["tokyo@example.com"]
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))  # 10:00 in Paris
    worker.run_once()
    assert len(smtp.recorder.received) == 2
    clock.set(datetime(2026, 3, 3, 15, 0, tzinfo=UTC))  # 10:00 in New York (EST)
    worker.run_once()
    assert sorted(r.rcpt_tos[0] for r in smtp.recorder.received) == [
        "new_york@example.com", "paris@example.com", "tokyo@example.com"]  # fmt: skip
    assert people  # the three, and only them


def test_pause_holds_queued_messages_and_cancel_skips_them(
    api: Api,
    smtp: SmtpServer,
    email_channel: dict[str, Any],
    worker: Worker,
    clock: FixedClock,
    engine: Engine,
) -> None:
    seg = vip_segment(api)
    for i in range(4):
        make_contact(api, external_id=f"p{i}", email=f"p{i}@example.com", tags=["vip"], timezone="UTC")
    worker.run_once()
    send_at = (clock.now() + timedelta(hours=1)).isoformat()
    b = broadcast(api, segment_id=seg, template_id=email_template(api), send_at=send_at)
    api.post(f"/broadcasts/{b['id']}/schedule")
    clock.advance(timedelta(hours=1))
    # the snapshot and the queuing happen in the same pass as the first sends would
    assert api.post(f"/broadcasts/{b['id']}/pause").json()["status"] == "paused"
    worker.run_once()
    assert smtp.recorder.received == []  # paused before it started: nothing queued
    api.post(f"/broadcasts/{b['id']}/resume")
    worker.run_once()
    assert len(smtp.recorder.received) == 4

    later = broadcast(api, segment_id=seg, template_id=email_template(api, "two"),
                      send_at=(clock.now() + timedelta(days=1)).isoformat())  # fmt: skip
    api.post(f"/broadcasts/{later['id']}/schedule")
    clock.advance(timedelta(days=1))
    while True:  # queue without sending (the broadcast job alone)
        with engine.begin() as conn:
            if not run_broadcasts(conn, clock.now()):
                break
    assert api.post(f"/broadcasts/{later['id']}/pause").json()["status"] == "paused"
    worker.run_once()
    assert len(smtp.recorder.received) == 4  # held
    assert api.post(f"/broadcasts/{later['id']}/cancel").json()["status"] == "cancelled"
    worker.run_once()
    statuses = {m["reason"] for m in api.get("/messages", params={"status": "skipped"}).json()["data"]}
    assert statuses == {"broadcast_cancelled"} and len(smtp.recorder.received) == 4


def test_a_campaign_needing_approval_cannot_launch_or_send_until_a_second_key_approves(
    api: Api, email_channel: dict[str, Any], engine: Any, workspace: Any
) -> None:
    from kairos.clock import SystemClock
    from kairos.workspaces.service import create_key

    seg = vip_segment(api)
    c = api.post("/campaigns", {"name": "Back to school", "requires_approval": True, "segment_id": seg,
                                "budget": 500, "costs": {"email": 0.001}, "goal": {"event": "Order Completed"}}).json()  # fmt: skip
    assert api.post(f"/campaigns/{c['id']}/launch").json()["code"] == "approval_required"
    b = broadcast(api, campaign_id=c["id"], segment_id=seg, template_id=email_template(api))
    assert api.post(f"/broadcasts/{b['id']}/schedule").json()["code"] == "approval_required"
    assert api.post(f"/campaigns/{c['id']}/request-approval").json()["status"] == "pending_approval"
    same = api.post(f"/campaigns/{c['id']}/approve")
    assert (same.status_code, same.json()["code"]) == (409, "second_approver_required")
    with engine.begin() as conn:
        other_key = create_key(conn, SystemClock(), workspace.id, "api", "manager")
    other = api.http.post(
        f"/api/v1/campaigns/{c['id']}/approve", headers={"Authorization": f"Bearer {other_key}"}
    )
    assert other.status_code == 200 and other.json()["status"] == "approved"
    assert api.post(f"/campaigns/{c['id']}/launch").json()["status"] == "active"
    assert api.post(f"/broadcasts/{b['id']}/schedule").json()["status"] == "scheduled"
    cal = api.get(
        "/calendar", params={"start": "2026-03-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"}
    ).json()["data"]
    assert {(i["kind"], i["name"]) for i in cal} == {("campaign", "Back to school"), ("broadcast", "b")}


def test_bad_campaigns_and_broadcasts_are_refused(api: Api, email_channel: dict[str, Any]) -> None:
    seg = vip_segment(api)
    tid = email_template(api)
    cases = [
        ("/campaigns", {"name": "x", "budget": -1}, "invalid_budget"),
        ("/campaigns", {"name": "x", "segment_id": 999}, "unknown_segment"),
        ("/campaigns", {"name": "x", "costs": {"fax": 1}}, "invalid_costs"),
        ("/campaigns", {"name": "x", "starts_at": "2026-03-05T00:00:00Z", "ends_at": "2026-03-01T00:00:00Z"}, "invalid_dates"),
        ("/broadcasts", {"name": "x", "channel": "sms", "segment_id": seg, "template_id": tid}, "template_channel_mismatch"),
        ("/broadcasts", {"name": "x", "channel": "email", "segment_id": 999, "template_id": tid}, "unknown_segment"),
        ("/broadcasts", {"name": "x", "channel": "email", "segment_id": seg, "template_id": tid,
                         "send_at": "2026-03-05T00:00:00Z", "local_time": "10:00", "local_date": "2026-03-05"}, "invalid_schedule"),
    ]  # fmt: skip
    for path, body, code in cases:
        r = api.post(path, body)
        assert (r.status_code, r.json()["code"]) == (422, code), (body, r.json())
