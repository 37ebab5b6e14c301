"""Sandbox workspaces: a virtual clock advanced on demand, while live workspaces keep the real
one. The three ways ``worker --once --now`` used to leave state behind are each tested here:
trigger cursors pushed into the future, goal events sent in real time that did not convert
enrollments made in virtual time, and reports that ignored conversions after the real now."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kairos.api.routes import sandbox as clock_route
from kairos.clock import FixedClock, ensure_utc
from kairos.journeys.tables import journey as journey_table
from kairos.messaging.tables import message
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace, create_workspace
from tests.conftest import T0, Api
from tests.journeys.conftest import enrollments, journey, track
from tests.messaging.conftest import SmtpServer, email_template, make_contact, smtp_settings

#: Wall-clock seconds one advance request may run in these tests. The route stops at 20 s and
#: answers ``complete: false`` (a client asks again); these tests assert what one whole advance
#: does, which takes a few seconds unloaded but can pass 20 s on a loaded 2-core machine, so
#: the limit is raised to a bound no healthy run comes near.
ADVANCE_LIMIT = 600.0


@pytest.fixture(autouse=True)
def _whole_advances(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock_route, "ADVANCE_TIMEOUT", ADVANCE_LIMIT)


@pytest.fixture
def sandbox(engine: Engine, clock: FixedClock) -> CreatedWorkspace:
    with engine.begin() as conn:
        return create_workspace(conn, clock, "Rehearsal", sandbox=True)


@pytest.fixture
def sandbox_api(client: TestClient, sandbox: CreatedWorkspace, smtp: SmtpServer) -> Iterator[Api]:
    api = Api(client, sandbox.api_key)
    r = api.post("/channels", {"name": "mail", "provider": "smtp", "settings": smtp_settings(smtp)})
    assert r.status_code == 201, r.text
    yield api


def advance(api: Api, **body: Any) -> dict[str, Any]:
    started = time.monotonic()
    r = api.post("/clock/advance", body)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    assert out["complete"] is True, (
        f"advancing {body} stopped at {out['now']} after {time.monotonic() - started:.0f} s of wall clock "
        f"(limit {ADVANCE_LIMIT:.0f} s): {out}"
    )
    return out


def welcome_journey(api: Api, trigger: dict[str, Any], **extra: Any) -> int:
    """On the trigger, wait two days, then email; stay seven days for the goal."""
    return journey(api, {
        "trigger": trigger,
        "goal": {"event": "Order Completed"},
        "start": "pause",
        "nodes": {
            "pause": {"type": "wait", "duration": {"amount": 2, "unit": "days"}, "next": "mail"},
            "mail": {"type": "send", "channel": "email", "template_id": email_template(api), "next": "stay"},
            "stay": {"type": "wait", "duration": {"amount": 7, "unit": "days"}, "next": None},
        },
    }, **extra)  # fmt: skip


def test_a_sandbox_rehearses_days_in_one_call_each_step_at_its_own_instant(
    sandbox_api: Api, sandbox: CreatedWorkspace, smtp: SmtpServer, engine: Engine
) -> None:
    jid = welcome_journey(sandbox_api, {"type": "tag_added", "tag": "trial"})
    cid = make_contact(sandbox_api, external_id="ann", email="ann@example.com", first_name="Ann")
    assert sandbox_api.post(f"/contacts/{cid}/tags/trial").status_code in (200, 201, 204)
    advance(sandbox_api, by={"amount": 1, "unit": "minutes"})  # the tag is seen: Ann enters
    [e] = enrollments(sandbox_api, jid)
    assert (e["node"], ensure_utc(_at(e["entered_at"]))) == ("pause", T0)

    out = advance(sandbox_api, by={"amount": 3, "unit": "days"})
    assert _at(out["now"]) == T0 + timedelta(days=3, minutes=1)
    assert [m.rcpt_tos for m in smtp.recorder.received] == [["ann@example.com"]]
    with engine.connect() as conn:
        sent_at = conn.execute(
            select(message.c.sent_at).where(message.c.workspace_id == sandbox.id)
        ).scalar_one()
    # sent when the two-day wait ended, not at the end of the advance
    assert ensure_utc(sent_at) == T0 + timedelta(days=2)
    [e] = enrollments(sandbox_api, jid)
    assert e["node"] == "stay" and _at(e["resume_at"]) == T0 + timedelta(days=9)

    clock_now = sandbox_api.get("/clock").json()
    assert clock_now == {"now": out["now"], "sandbox": True}

    # Ann opens and clicks in real time: the sandbox records it at its own now
    html = smtp.recorder.received[0].message.get_body(("html",)).get_content()
    pixel = re.search(r"/t/o/([^\"]+)", html)
    link = re.search(r"/t/c/([^\"]+)", html)
    assert pixel and link
    browser = {
        "User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari/605.1"
    }
    assert sandbox_api.http.get("/t/o/" + pixel[1], headers=browser).status_code == 200
    assert sandbox_api.http.get("/t/c/" + link[1], headers=browser, follow_redirects=False).status_code == 302
    [sent] = sandbox_api.get("/messages").json()["data"]
    events = sandbox_api.get(f"/messages/{sent['id']}").json()["events"]
    assert [(e["kind"], e["machine"], _at(e["created_at"])) for e in events] == [
        ("opened", False, T0 + timedelta(days=3, minutes=1)),
        ("clicked", False, T0 + timedelta(days=3, minutes=1)),
    ]


def test_advancing_a_sandbox_leaves_live_trigger_cursors_alone(
    api: Api, sandbox_api: Api, workspace: CreatedWorkspace, worker: Worker, clock: FixedClock, engine: Engine,
    email_channel: dict[str, Any],
) -> None:  # fmt: skip
    """Case 1: the live journey's trigger cursor is not pushed into the future, so a tag added
    in real time after the sandbox rehearsed a month still enrolls."""
    live = welcome_journey(api, {"type": "tag_added", "tag": "trial"})
    rehearsed = welcome_journey(sandbox_api, {"type": "tag_added", "tag": "trial"})
    worker.run_once()
    advance(sandbox_api, by={"amount": 30, "unit": "days"})
    with engine.connect() as conn:
        cursors = dict(conn.execute(select(journey_table.c.id, journey_table.c.cursor)).all())
    assert all(_at(c["since"]) <= T0 for c in cursors.values() if c and "since" in c), cursors

    clock.advance(timedelta(minutes=5))  # real time passes: five minutes, not thirty days
    cid = make_contact(api, external_id="bob", email="bob@example.com")
    assert api.post(f"/contacts/{cid}/tags/trial").status_code in (200, 201, 204)
    worker.run_once()
    [e] = enrollments(api, live)
    assert e["contact_id"] == cid and _at(e["entered_at"]) == T0 + timedelta(minutes=5)

    # and in the sandbox, a tag added now is stamped and enrolled at its virtual now
    sid = make_contact(sandbox_api, external_id="bob", email="bob@example.com")
    assert sandbox_api.post(f"/contacts/{sid}/tags/trial").status_code in (200, 201, 204)
    worker.run_once()  # the worker runs the sandbox too, at its own (virtual) now
    [s] = enrollments(sandbox_api, rehearsed)
    assert _at(s["entered_at"]) == T0 + timedelta(days=30)


def test_goal_events_sent_in_real_time_convert_enrollments_made_in_virtual_time(
    sandbox_api: Api, sandbox: CreatedWorkspace, worker: Worker
) -> None:
    """Case 2: an order tracked through /v1 (no timestamp, or a device's real timestamp and
    sentAt) lands at the sandbox's now, after the enrollment, and converts it."""
    jid = welcome_journey(sandbox_api, {"type": "event", "event": "Signed Up"})
    ids = {}
    for user in ("ann", "bob"):
        ids[user] = make_contact(sandbox_api, external_id=user, email=f"{user}@example.com")
        track(sandbox_api, sandbox.write_key, user, "Signed Up")
    advance(sandbox_api, by={"amount": 3, "unit": "days"})
    assert {e["node"] for e in enrollments(sandbox_api, jid)} == {"stay"}

    track(sandbox_api, sandbox.write_key, "ann", "Order Completed", revenue=30.0)
    device_time = T0.isoformat()  # the phone's clock reads the real time
    auth = {"Authorization": "Basic " + base64.b64encode(f"{sandbox.write_key}:".encode()).decode()}
    r = sandbox_api.http.post("/v1/track", json={
        "userId": "bob", "event": "Order Completed", "properties": {"revenue": 12.0},
        "timestamp": device_time, "sentAt": device_time,
    }, headers=auth)  # fmt: skip
    assert r.status_code == 200, r.text
    worker.run_once()
    assert {e["state"] for e in enrollments(sandbox_api, jid)} == {"converted"}
    events = sandbox_api.get(f"/contacts/{ids['bob']}/events").json()["data"]
    order = next(e for e in events if e["name"] == "Order Completed")
    assert _at(order["timestamp"]) == T0 + timedelta(days=3)


def test_sandbox_reports_count_conversions_in_virtual_time(
    sandbox_api: Api, sandbox: CreatedWorkspace
) -> None:
    """Case 3: a report in the sandbox runs up to its now, so conversions days after the
    real now are counted."""
    campaign = sandbox_api.post("/campaigns", {"name": "Welcome", "goal": {"event": "Order Completed",
                                                                           "window_days": 7}}).json()  # fmt: skip
    jid = welcome_journey(sandbox_api, {"type": "event", "event": "Signed Up"}, campaign_id=campaign["id"])
    make_contact(sandbox_api, external_id="ann", email="ann@example.com")
    track(sandbox_api, sandbox.write_key, "ann", "Signed Up")
    advance(sandbox_api, by={"amount": 3, "unit": "days"})
    track(sandbox_api, sandbox.write_key, "ann", "Order Completed", revenue=30.0)
    advance(sandbox_api, by={"amount": 1, "unit": "hours"})
    totals = sandbox_api.get(f"/reports/journeys/{jid}").json()["totals"]
    assert (totals["sent"], totals["converted"], totals["revenue"]) == (1, 1, 30.0)
    totals = sandbox_api.get(f"/reports/campaigns/{campaign['id']}").json()["totals"]
    assert (totals["sent"], totals["converted"], totals["revenue"]) == (1, 1, 30.0)


def test_live_and_sandbox_passes_never_touch_each_others_rows(
    api: Api, sandbox_api: Api, workspace: CreatedWorkspace, sandbox: CreatedWorkspace, worker: Worker,
    clock: FixedClock, smtp: SmtpServer, email_channel: dict[str, Any],
) -> None:  # fmt: skip
    live = welcome_journey(api, {"type": "event", "event": "Signed Up"})
    rehearsed = welcome_journey(sandbox_api, {"type": "event", "event": "Signed Up"})
    make_contact(api, external_id="ann", email="live@example.com")
    make_contact(sandbox_api, external_id="ann", email="sandbox@example.com")
    track(api, workspace.write_key, "ann", "Signed Up")
    track(sandbox_api, sandbox.write_key, "ann", "Signed Up")
    worker.run_once()
    assert [e["node"] for e in enrollments(api, live)] == ["pause"]
    assert [e["node"] for e in enrollments(sandbox_api, rehearsed)] == ["pause"]

    advance(sandbox_api, by={"amount": 5, "unit": "days"})  # the live wait is not ended
    assert [e["node"] for e in enrollments(api, live)] == ["pause"]
    assert [m.rcpt_tos for m in smtp.recorder.received] == [["sandbox@example.com"]]

    clock.advance(timedelta(days=20))  # real time passes; the live pass runs the live journey …
    advance(sandbox_api, by={"amount": 1, "unit": "minutes"})
    before = enrollments(sandbox_api, rehearsed)
    worker.run_once()
    assert [e["node"] for e in enrollments(api, live)] == ["stay"]
    # … and leaves the sandbox where its own clock is (its 7-day wait has not ended)
    assert enrollments(sandbox_api, rehearsed) == before and before[0]["node"] == "stay"
    assert sorted(m.rcpt_tos[0] for m in smtp.recorder.received) == [
        "live@example.com",
        "sandbox@example.com",
    ]


def test_the_clock_api_refuses_what_would_move_live_time_or_go_back(api: Api, sandbox_api: Api) -> None:
    assert api.get("/clock").json() == {"now": T0.isoformat().replace("+00:00", "Z"), "sandbox": False}
    r = api.post("/clock/advance", {"by": {"amount": 1, "unit": "days"}})
    assert r.status_code == 409 and r.json()["code"] == "not_a_sandbox"

    r = sandbox_api.post("/clock/advance", {"to": (T0 - timedelta(hours=1)).isoformat()})
    assert r.status_code == 422 and r.json()["code"] == "clock_backwards"
    r = sandbox_api.post("/clock/advance", {"by": {"amount": 2, "unit": "years"}})
    assert r.status_code == 422 and r.json()["code"] == "advance_too_far"
    r = sandbox_api.post("/clock/advance", {"to": T0.isoformat(), "by": {"amount": 1, "unit": "days"}})
    assert r.status_code == 422 and "either 'to'" in r.json()["message"]
    r = sandbox_api.post("/clock/advance", {"to": "2026-03-05T12:00:00"})  # no UTC offset
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert _at(sandbox_api.get("/clock").json()["now"]) == T0


def _at(text: str) -> Any:
    return ensure_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def test_advancing_visits_every_hour_when_time_itself_changes_results(
    sandbox_api: Api, sandbox: CreatedWorkspace
) -> None:
    """Birthdays enter at 09:00 in each contact's zone and a "no visit in the last 2 days"
    segment is entered when the window closes — during one advance of four days, each at its
    own hour, not all at the end."""
    jid = journey(sandbox_api, {
        "trigger": {"type": "date", "attribute": "birthday", "at": "09:00"},
        "start": "tag", "nodes": {"tag": {"type": "update_contact", "add_tags": ["greeted"], "next": None}},
    })  # fmt: skip
    tokyo = make_contact(
        sandbox_api, external_id="tokyo", timezone="Asia/Tokyo", traits={"birthday": "1990-03-04"}
    )
    paris = make_contact(
        sandbox_api, external_id="paris", timezone="Europe/Paris", traits={"birthday": "1985-03-05"}
    )
    lapsed = sandbox_api.post("/segments", {"name": "lapsed", "definition": {"root": {"type": "all", "conditions": [
        {"type": "performed", "event": "Visit"},
        {"type": "not_performed", "event": "Visit", "window": {"last": {"amount": 2, "unit": "days"}}},
    ]}}}).json()  # fmt: skip
    track(sandbox_api, sandbox.write_key, "paris", "Visit")  # at T0, 2026-03-02 12:00 UTC

    advance(sandbox_api, by={"amount": 4, "unit": "days"})
    entries = {e["contact_id"]: _at(e["entered_at"]) for e in enrollments(sandbox_api, jid)}
    assert entries == {
        tokyo: datetime(2026, 3, 4, 0, 0, tzinfo=UTC),  # 09:00 in Tokyo
        paris: datetime(2026, 3, 5, 8, 0, tzinfo=UTC),  # 09:00 in Paris
    }
    [member] = sandbox_api.get(f"/segments/{lapsed['id']}/members").json()["data"]
    # the visit leaves the 2-day window just after 2026-03-04 12:00 (the bound is inclusive):
    # Paris is lapsed at the next hour the advance visited, not at its end (03-06 12:00)
    assert member["id"] == paris and _at(member["entered_at"]) == datetime(2026, 3, 4, 13, 0, tzinfo=UTC)


def test_an_advance_cut_short_by_its_time_limit_still_moves_and_asking_again_gets_there(
    sandbox_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no time at all to spend, each call still moves the clock one instant on (a
    time-dependent segment makes every hour an instant), so a client that asks again until
    ``complete`` reaches its target."""
    monkeypatch.setattr(clock_route, "ADVANCE_TIMEOUT", 0.0)
    r = sandbox_api.post("/segments", {"name": "quiet", "definition": {"root": {"type": "not_performed", "event": "Visit", "window": {"last": {"amount": 1, "unit": "days"}}}}})  # fmt: skip
    assert r.status_code == 201, r.text
    target = (T0 + timedelta(hours=3)).isoformat()
    seen = []
    for _ in range(10):
        r = sandbox_api.post("/clock/advance", {"to": target})
        assert r.status_code == 200, r.text
        out = r.json()
        seen.append(_at(out["now"]))
        assert _at(out["now"]) > _at(out["started_at"])  # every call moved the clock
        if out["complete"]:
            break
    assert seen[-1] == T0 + timedelta(hours=3) and len(seen) > 1, seen
