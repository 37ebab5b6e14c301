"""Reports: a campaign's broadcast sent over SMTP, opens and clicks recorded, orders tracked
inside and outside the attribution window; exact figures, attribution models, CSV, time
series, funnels, bad input."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select

from kairos.clock import FixedClock
from kairos.messaging.tables import message
from kairos.messaging.tracking import Outcome, record
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact


def track(api: Api, ws: CreatedWorkspace, user: str, name: str, **props: Any) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(f"{ws.write_key}:".encode()).decode()}
    r = api.http.post("/v1/track", json={"userId": user, "event": name, "properties": props}, headers=auth)
    assert r.status_code == 200, r.text


def campaign(api: Api) -> int:
    r = api.post("/campaigns", {"name": "spring", "goal": {"event": "Order Completed", "window_days": 7},
                                "costs": {"email": 0.01}, "budget": 5, "currency": "EUR"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert api.post(f"/campaigns/{r.json()['id']}/launch").status_code == 200  # its broadcasts may go
    return int(r.json()["id"])


def send_broadcast(api: Api, worker: Worker, campaign_id: int, segment_id: int, template_id: int) -> int:
    r = api.post("/broadcasts", {"name": f"b{campaign_id}-{template_id}", "channel": "email",
                                 "campaign_id": campaign_id, "segment_id": segment_id,
                                 "template_id": template_id})  # fmt: skip
    assert r.status_code == 201, r.text
    bid = int(r.json()["id"])
    assert api.post(f"/broadcasts/{bid}/schedule").status_code == 200
    for _ in range(3):
        worker.run_once()
    return bid


def segment(api: Api, tag: str) -> int:
    r = api.post("/segments", {"name": tag, "definition": {"root": {"type": "tag", "tag": tag}}})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def messages_by_contact(engine: Engine, source_id: int) -> dict[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(message.c.contact_id, message.c.id).where(message.c.source_id == str(source_id))
        ).all()
    return {r.contact_id: r.id for r in rows}


def test_a_campaign_broadcast_report_counts_people_attributes_orders_and_exports_csv(
    api: Api,
    smtp: SmtpServer,
    email_channel: dict[str, Any],
    worker: Worker,
    clock: FixedClock,
    engine: Engine,
    workspace: CreatedWorkspace,
) -> None:
    seg = segment(api, "spring")
    people = [
        make_contact(api, external_id=f"c{i}", email=f"c{i}@example.com", tags=["spring"]) for i in range(10)
    ]
    make_contact(api, external_id="outsider", email="outsider@example.com")
    worker.run_once()
    cid = campaign(api)
    bid = send_broadcast(api, worker, cid, seg, email_template(api))
    assert len(smtp.recorder.received) == 10
    sent_day = clock.now().date().isoformat()

    ids = messages_by_contact(engine, bid)
    clock.advance(timedelta(hours=2))
    with engine.begin() as conn:
        record(conn, [Outcome(ids[c], "opened") for c in people[:6]], clock.now())
        record(conn, [Outcome(ids[people[6]], "opened", machine=True)], clock.now())
        record(conn, [Outcome(ids[c], "clicked") for c in people[:3]], clock.now())
    clock.advance(timedelta(days=1))
    track(api, workspace, "c0", "Order Completed", revenue=30)
    track(api, workspace, "c1", "Order Completed", total=12.5)
    track(api, workspace, "outsider", "Order Completed", revenue=99)  # got no message
    order_day = clock.now().date().isoformat()
    clock.advance(timedelta(days=7))  # 8 days after the send: outside the 7-day window
    track(api, workspace, "c2", "Order Completed", revenue=50)
    worker.run_once()

    report = api.get(f"/reports/campaigns/{cid}").json()
    totals = report["totals"]
    assert {k: totals[k] for k in ("targeted", "sent", "opened", "clicked", "converted", "revenue", "cost")} == {
        "targeted": 10, "sent": 10, "opened": 6, "clicked": 3, "converted": 2, "revenue": 42.5, "cost": 0.1}  # fmt: skip
    assert totals["roi"] == round((42.5 - 0.1) / 0.1, 4)
    assert (totals["open_rate"], totals["click_rate"], totals["conversion_rate"]) == (0.6, 0.3, 0.2)
    assert (totals["failed"], totals["skipped"], totals["unsubscribed"]) == (0, 0, 0)
    assert [r["channel"] for r in report["by_channel"]] == ["email"]
    assert report["by_channel"][0]["converted"] == 2
    assert report["budget"] == {"budget": 5.0, "currency": "EUR", "used": 0.1, "remaining": 4.9}

    b = api.get(f"/reports/broadcasts/{bid}", params={"model": "linear"}).json()
    assert (b["totals"]["targeted"], b["totals"]["converted"], b["totals"]["revenue"]) == (10, 2, 42.5)
    assert b["broadcast"]["campaign_id"] == cid

    csv = api.get(f"/reports/campaigns/{cid}", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("channel,targeted,sent,delivered,opened,clicked,")
    assert lines[1].startswith("total,10,10,")
    assert lines[2].startswith("email,10,10,")
    assert len(lines) == 3

    series = api.get("/reports/timeseries", params={
        "source": "campaign", "id": cid, "start": "2026-03-01T00:00:00Z", "end": "2026-03-05T00:00:00Z"}).json()  # fmt: skip
    days = {d["date"]: d for d in series["days"]}
    assert list(days) == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    assert (days[sent_day]["sent"], days[sent_day]["opened"], days[sent_day]["clicked"]) == (10, 6, 3)
    assert (days[order_day]["converted"], days[order_day]["revenue"]) == (2, 42.5)
    assert days["2026-03-01"] == {"date": "2026-03-01", "sent": 0, "opened": 0, "clicked": 0,
                                  "converted": 0, "revenue": 0}  # fmt: skip
    table = api.get("/reports/timeseries", params={
        "source": "campaign", "id": cid, "start": "2026-03-01T00:00:00Z", "end": "2026-03-05T00:00:00Z",
        "format": "csv"})  # fmt: skip
    assert table.headers["content-type"].startswith("text/csv")
    rows = table.text.splitlines()
    assert rows[0] == "date,sent,opened,clicked,converted,revenue" and len(rows) == 5
    assert f"{sent_day},10,6,3," in table.text and rows[1] == "2026-03-01,0,0,0,0,0"


def test_attribution_models_share_a_conversion_between_two_broadcasts(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, clock: FixedClock,
    workspace: CreatedWorkspace,
) -> None:  # fmt: skip
    seg = segment(api, "duo")
    make_contact(api, external_id="ann", email="ann@example.com", tags=["duo"])
    worker.run_once()
    cid = campaign(api)
    first = send_broadcast(api, worker, cid, seg, email_template(api, "one"))
    clock.advance(timedelta(hours=3))
    second = send_broadcast(api, worker, cid, seg, email_template(api, "two"))
    # the outbox, not the SMTP recorder: a parallel suite may grab the same free port
    assert [m["status"] for m in api.get("/messages").json()["data"]] == ["sent", "sent"]
    clock.advance(timedelta(days=1))
    track(api, workspace, "ann", "Order Completed", revenue=80)

    def figures(bid: int, model: str) -> tuple[float, float]:
        t = api.get(f"/reports/broadcasts/{bid}", params={"model": model}).json()["totals"]
        return t["converted"], t["revenue"]

    assert (figures(first, "last"), figures(second, "last")) == ((0, 0), (1, 80))
    assert (figures(first, "first"), figures(second, "first")) == ((1, 80), (0, 0))
    assert (figures(first, "linear"), figures(second, "linear")) == ((0.5, 40), (0.5, 40))
    whole = api.get(f"/reports/campaigns/{cid}", params={"model": "linear"}).json()["totals"]
    assert (whole["targeted"], whole["sent"], whole["converted"], whole["revenue"]) == (2, 2, 1, 80)


def test_funnel_counts_contacts_who_did_each_step_in_order_within_the_window(
    api: Api, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    for user in ("a", "b", "c", "d"):
        track(api, workspace, user, "Product Viewed")
    track(api, workspace, "e", "Added to Cart")  # cart without a view first: not in the funnel
    clock.advance(timedelta(hours=1))
    for user in ("a", "b", "c", "e"):
        track(api, workspace, user, "Added to Cart")
    clock.advance(timedelta(hours=1))
    track(api, workspace, "a", "Order Completed", revenue=10)
    track(api, workspace, "e", "Order Completed", revenue=10)
    clock.advance(timedelta(days=3))
    track(api, workspace, "b", "Order Completed", revenue=10)  # after the 2-day window
    body = {"steps": ["Product Viewed", "Added to Cart", "Order Completed"],
            "start": "2026-03-01T00:00:00Z", "end": "2026-03-03T00:00:00Z", "within_days": 2}  # fmt: skip
    r = api.post("/reports/funnel", body)
    assert r.status_code == 200, r.text
    steps = r.json()["steps"]
    assert [(s["event"], s["contacts"]) for s in steps] == [
        ("Product Viewed", 4), ("Added to Cart", 3), ("Order Completed", 1)]  # fmt: skip
    assert (steps[1]["from_previous"], steps[2]["from_first"]) == (0.75, 0.25)
    body["within_days"] = 5
    assert [s["contacts"] for s in api.post("/reports/funnel", body).json()["steps"]] == [4, 3, 2]
    table = api.post("/reports/funnel?format=csv", body)
    assert table.headers["content-type"].startswith("text/csv")
    assert table.text.splitlines() == [
        "step,event,contacts,from_previous,from_first", "1,Product Viewed,4,,1.0",
        "2,Added to Cart,3,0.75,0.75", "3,Order Completed,2,0.6667,0.5"]  # fmt: skip


def test_bad_input_is_422_and_unknown_ids_404(api: Api) -> None:
    cid = campaign(api)
    r = api.get(f"/reports/campaigns/{cid}", params={"model": "bogus"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_model")
    r = api.get("/reports/timeseries", params={
        "source": "campaign", "id": cid, "start": "2026-03-05T00:00:00Z", "end": "2026-03-01T00:00:00Z"})  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (422, "invalid_range")
    r = api.get("/reports/timeseries", params={
        "source": "nope", "id": cid, "start": "2026-03-01T00:00:00Z", "end": "2026-03-05T00:00:00Z"})  # fmt: skip
    assert r.status_code == 422
    r = api.post("/reports/funnel", {"steps": ["Product Viewed"], "start": "2026-03-01T00:00:00Z",
                                     "end": "2026-03-05T00:00:00Z"})  # fmt: skip
    assert r.status_code == 422
    for path in ("/reports/campaigns/999999", "/reports/broadcasts/999999", "/reports/journeys/999999"):
        assert api.get(path).status_code == 404, path
