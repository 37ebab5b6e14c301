"""Story 2, back-to-school: new students by attributes and behaviour, a campaign over email,
SMS and push under touch rules (at most 2 marketing messages a week, never 21:00-09:00
local), and afterwards the report per channel."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kairos.clock import FixedClock
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact
from tests.messaging.fake_providers import FcmFake, TwilioFake
from tests.messaging.test_http_channels import service_account

SID = "AC" + "3" * 32


@pytest.fixture
def providers(api: Api) -> Iterator[tuple[TwilioFake, FcmFake]]:
    twilio = TwilioFake(SID, "tok")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fcm = FcmFake("school", "kairos@school.iam.gserviceaccount.com", key.public_key())
    assert (
        api.post(
            "/channels",
            {
                "name": "sms",
                "provider": "twilio",
                "secrets": {"auth_token": "tok"},
                "settings": {"account_sid": SID, "from_number": "+15005550006", "base_url": twilio.url},
            },
        ).status_code
        == 201
    )
    assert api.post("/channels", {"name": "push", "provider": "fcm", "settings": {"project_id": "school", "base_url": fcm.url},
                                  "secrets": {"service_account": service_account(fcm, key)}}).status_code == 201  # fmt: skip
    yield twilio, fcm
    twilio.stop()
    fcm.stop()


def track(api: Api, write_key: str, user: str, event: str, **props: Any) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}
    assert (
        api.http.post(
            "/v1/track", json={"userId": user, "event": event, "properties": props}, headers=auth
        ).status_code
        == 200
    )


def test_story_2_back_to_school(
    api: Api, workspace: CreatedWorkspace, smtp: SmtpServer, email_channel: dict[str, Any],
    providers: tuple[TwilioFake, FcmFake], worker: Worker, clock: FixedClock,
) -> None:  # fmt: skip
    twilio, fcm = providers
    for name, kind in (("education", "string"), ("age", "number"), ("asset_level", "string")):
        assert api.post("/attributes", {"name": name, "type": kind}).status_code == 201
    students = {}
    for i, tz in enumerate(("Asia/Shanghai", "Asia/Shanghai", "Europe/Paris", "Europe/Paris")):
        students[f"st{i}"] = make_contact(
            api,
            external_id=f"st{i}",
            email=f"st{i}@example.com",
            phone=f"+1212555030{i}",
            timezone=tz,
            traits={
                "education": "undergraduate",
                "age": 19 + i,
                "asset_level": "low",
                "push_token": f"tok-{i}",
            },
        )
    make_contact(api, external_id="grad", email="grad@example.com", traits={"education": "master", "age": 30})
    for user in students:
        track(api, workspace.write_key, user, "Page Viewed", path="/finance")
        track(api, workspace.write_key, user, "Page Viewed", path="/finance")
    segment = api.post("/segments", {"name": "new students", "definition": {"root": {"type": "all", "conditions": [
        {"type": "attribute", "attribute": "education", "operator": "eq", "value": "undergraduate"},
        {"type": "attribute", "attribute": "age", "operator": "between", "value": [18, 25]},
        {"type": "performed", "event": "Page Viewed", "where": [{"property": "path", "operator": "eq", "value": "/finance"}],
         "count": {"op": ">=", "value": 2}, "window": {"last": {"amount": 30, "unit": "days"}}}]}}}).json()  # fmt: skip
    assert api.put("/messaging/policy", {"frequency_caps": [{"limit": 2, "days": 7}],
                                         "quiet_hours": {"start": "21:00", "end": "09:00"}}).status_code == 200  # fmt: skip
    worker.run_once()
    campaign = api.post("/campaigns", {"name": "Back to school", "segment_id": segment["id"], "channels": ["email", "sms", "push"],
                                       "costs": {"email": 0.001, "sms": 0.05, "push": 0.0}, "budget": 100,
                                       "goal": {"event": "Order Completed", "window_days": 7}}).json()  # fmt: skip
    # a draft campaign's broadcasts wait for it: it is launched before they are scheduled
    draft = api.post("/broadcasts", {"name": "early", "campaign_id": campaign["id"], "segment_id": segment["id"],
                                     "channel": "email", "template_id": email_template(api, "early")}).json()  # fmt: skip
    assert api.post(f"/broadcasts/{draft['id']}/schedule").json()["code"] == "campaign_not_launched"
    assert api.post(f"/broadcasts/{draft['id']}/cancel").status_code == 200
    assert api.post(f"/campaigns/{campaign['id']}/launch").json()["status"] == "active"
    templates = {
        "email": email_template(api, "bts-email", subject="Back to school, {{ contact.first_name | default: 'friend' }}"),
        "sms": api.post("/templates", {"name": "bts-sms", "channel": "sms", "fields": {"text": "Student deals inside"}}).json()["id"],
        "push": api.post("/templates", {"name": "bts-push", "channel": "push", "fields": {"title": "Back to school", "body": "Deals"}}).json()["id"],
    }  # fmt: skip
    for channel in ("email", "sms", "push"):  # tomorrow 10:00 in each student's time zone
        b = api.post("/broadcasts", {"name": channel, "campaign_id": campaign["id"], "segment_id": segment["id"],
                                     "channel": channel, "template_id": templates[channel], "topic_id": None,
                                     "local_date": "2026-03-03", "local_time": "10:00"}).json()  # fmt: skip
        assert api.post(f"/broadcasts/{b['id']}/schedule").json()["status"] == "scheduled"

    for at in (datetime(2026, 3, 3, 2, 0, tzinfo=UTC), datetime(2026, 3, 3, 9, 0, tzinfo=UTC)):
        clock.set(at)  # 10:00 in Shanghai, then 10:00 in Paris
        worker.run_once()
    # 3 messages each, but at most 2 marketing messages a week: the third is skipped
    assert len(smtp.recorder.received) == 4 and len(twilio.requests) == 4 and fcm.sends() == []
    skipped = api.get("/messages", params={"status": "skipped"}).json()["data"]
    assert {m["reason"] for m in skipped} == {"frequency_cap"} and len(skipped) == 4

    # an hour later one student opens the email (a browser, not a privacy proxy or a scanner)
    clock.advance(timedelta(hours=1))
    emails = [m for m in api.get("/messages", params={"limit": 100}).json()["data"]
              if m["channel"] == "email" and m["status"] == "sent"]  # fmt: skip
    links = api.http.app.state.links  # type: ignore[attr-defined]
    opened = api.http.get("/t/o/" + links.open_url(emails[0]["id"]).split("/t/o/", 1)[1],
                          headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0"})  # fmt: skip
    assert opened.status_code == 200
    clock.advance(timedelta(hours=2))
    track(api, workspace.write_key, "st0", "Order Completed", revenue=120.0)
    track(api, workspace.write_key, "st2", "Order Completed", revenue=80.0)
    worker.run_once()
    report = api.get(f"/reports/campaigns/{campaign['id']}").json()
    rows = {row["channel"]: row for row in report["by_channel"]}
    assert (report["totals"]["targeted"], report["totals"]["sent"]) == (12, 8)
    assert (rows["email"]["sent"], rows["sms"]["sent"]) == (4, 4)
    assert report["totals"]["converted"] == 2 and report["totals"]["revenue"] == 200.0
    assert rows["sms"]["converted"] == 2 and rows["email"]["converted"] == 0  # last touch: the SMS
    assert rows["sms"]["cost"] == pytest.approx(0.2) and rows["email"]["cost"] == pytest.approx(0.004)
    # an SMS cannot be seen opened or clicked: its rates are unknown, not 0 %, and they do not
    # dilute the campaign's (the email's 4 sends are the base of the totals' rates)
    assert (rows["sms"]["open_rate"], rows["sms"]["click_rate"]) == (None, None)
    assert (rows["email"]["open_rate"], rows["email"]["click_rate"]) == (0.25, 0.0)
    assert (report["totals"]["open_rate"], report["totals"]["click_rate"]) == (0.25, 0.0)  # not 1/8
    assert rows["push"]["open_rate"] is None and rows["sms"]["conversion_rate"] == 0.5
