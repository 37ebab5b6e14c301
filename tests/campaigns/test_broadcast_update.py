"""PATCH /broadcasts/{id}: a draft is edited field by field and checked as a creation is;
content and schedule are alternatives; once scheduled it is no longer editable (409)."""

from __future__ import annotations

from typing import Any

from kairos.clock import FixedClock
from kairos.worker.loop import Worker
from tests.campaigns.test_broadcasts import broadcast, vip_segment
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact


def sms_template(api: Api, name: str = "text") -> int:
    r = api.post("/templates", {"name": name, "channel": "sms", "fields": {"text": "Hi"}})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def experiment(a: int, b: int, **more: Any) -> dict[str, Any]:
    return {"variants": [{"name": "A", "template_id": a, "weight": 1}, {"name": "B", "template_id": b, "weight": 1}],
            "holdout_percent": 10, **more}  # fmt: skip


def test_a_draft_is_edited_field_by_field(api: Api, clock: FixedClock) -> None:
    seg = vip_segment(api)
    other = api.post(
        "/segments", {"name": "all", "definition": {"root": {"type": "tag", "tag": "x"}}}
    ).json()["id"]
    t1, t2 = email_template(api, "one"), email_template(api, "two")
    b = broadcast(api, segment_id=seg, template_id=t1, send_at="2026-03-05T09:00:00Z")

    r = api.patch(f"/broadcasts/{b['id']}", {"name": "Spring sale", "segment_id": other})
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["name"], got["segment_id"], got["template_id"], got["status"]) == (
        "Spring sale",
        other,
        t1,
        "draft",
    )
    assert got["send_at"].startswith("2026-03-05T09:00") and got["starts_at"] == got["send_at"]

    # an experiment replaces the template; a local time replaces the instant
    r = api.patch(f"/broadcasts/{b['id']}", {"experiment": experiment(t1, t2), "local_date": "2026-03-06",
                                             "local_time": "10:00"})  # fmt: skip
    got = r.json()
    assert r.status_code == 200, r.text
    assert got["template_id"] is None and [v["name"] for v in got["experiment"]["variants"]] == ["A", "B"]
    assert (
        got["experiment"]["holdout_percent"] == 10 and got["experiment"]["metric"] == "open"
    )  # defaults filled
    assert (got["send_at"], got["local_date"], got["local_time"]) == (None, "2026-03-06", "10:00")
    assert got["starts_at"].startswith("2026-03-05T20:00")  # 10:00 at UTC+14

    # and back: a template drops the experiment; all three times null: now
    r = api.patch(f"/broadcasts/{b['id']}", {"template_id": t2, "send_at": None, "local_date": None,
                                             "local_time": None})  # fmt: skip
    got = r.json()
    assert (got["template_id"], got["experiment"], got["send_at"], got["local_date"], got["starts_at"]) == (
        t2, None, None, None, None)  # fmt: skip
    assert api.get(f"/broadcasts/{b['id']}").json() == got


def test_an_edit_is_checked_as_a_creation_is(api: Api) -> None:
    seg = vip_segment(api)
    t1, t2 = email_template(api, "one"), email_template(api, "two")
    text = sms_template(api)
    b = broadcast(api, segment_id=seg, template_id=t1)
    path = f"/broadcasts/{b['id']}"
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"segment_id": 999}, 422, "unknown_segment"),
        ({"template_id": 999}, 422, "unknown_template"),
        ({"template_id": text}, 422, "template_channel_mismatch"),
        ({"channel": "sms"}, 422, "template_channel_mismatch"),  # the email template stays
        ({"campaign_id": 999}, 422, "unknown_campaign"),
        ({"topic_id": 999}, 422, "unknown_topic"),
        ({"template_id": None}, 422, "invalid_content"),
        ({"experiment": experiment(t1, t2, holdout_percent=150)}, 422, "invalid_experiment"),
        (
            {
                "experiment": {
                    "variants": [
                        {"name": "A", "template_id": t1, "percent": 50},
                        {"name": "B", "template_id": t2, "percent": 30},
                    ]
                }
            },
            422,
            "invalid_experiment",
        ),
        ({"local_date": "2026-13-01", "local_time": "10:00"}, 422, "invalid_schedule"),
        ({"local_date": "2026-03-06"}, 422, "invalid_schedule"),  # a date without a time
        (
            {"send_at": "2026-03-05T09:00:00Z", "local_date": "2026-03-06", "local_time": "10:00"},
            422,
            "invalid_schedule",
        ),
        ({"name": ""}, 422, "validation_error"),
        ({"name": None}, 422, "validation_error"),
        ({"status": "queued"}, 422, "validation_error"),  # not a field
    ]
    for body, status, code in cases:
        r = api.patch(path, body)
        assert (r.status_code, r.json()["code"]) == (status, code), (body, r.text)
        assert r.json()["message"]
    # nothing of the refused edits stuck
    got = api.get(path).json()
    assert (got["segment_id"], got["template_id"], got["channel"], got["experiment"]) == (
        seg,
        t1,
        "email",
        None,
    )
    # a channel and its template together are fine
    r = api.patch(path, {"channel": "sms", "template_id": text})
    assert (r.status_code, r.json()["channel"]) == (200, "sms")
    assert api.patch("/broadcasts/424242", {"name": "x"}).json()["code"] == "broadcast_not_found"


def test_only_drafts_can_be_edited_and_edits_are_audited(api: Api) -> None:
    seg = vip_segment(api)
    b = broadcast(api, segment_id=seg, template_id=email_template(api), send_at="2026-03-05T09:00:00Z")
    assert api.patch(f"/broadcasts/{b['id']}", {"send_at": "2026-03-05T11:00:00Z"}).status_code == 200
    assert api.post(f"/broadcasts/{b['id']}/schedule").json()["status"] == "scheduled"
    r = api.patch(f"/broadcasts/{b['id']}", {"name": "late"})
    assert (r.status_code, r.json()["code"]) == (409, "broadcast_not_draft")
    assert api.get(f"/broadcasts/{b['id']}").json()["name"] == "b"
    log = api.get("/audit-log", params={"object_type": "broadcasts"}).json()["data"]
    edit = next(e for e in log if e["action"] == "PATCH /broadcasts/{broadcast_id}")
    assert edit["object_id"] == str(b["id"])
    assert edit["changes"]["send_at"][1].startswith("2026-03-05T11:00")


def test_progress_counts_the_messages_by_status(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    seg = vip_segment(api)
    for i in range(3):
        make_contact(api, external_id=f"p{i}", email=f"p{i}@example.com", tags=["vip"])
    make_contact(api, external_id="gone", email="gone@example.com", tags=["vip"])
    worker.run_once()
    assert api.post("/suppressions", {"channel": "email", "address": "gone@example.com"}).status_code == 201
    b = broadcast(api, segment_id=seg, template_id=email_template(api))
    assert b["progress"] == dict.fromkeys(
        ("queued", "sending", "sent", "delivered", "bounced", "failed", "skipped"), 0
    )
    api.post(f"/broadcasts/{b['id']}/schedule")
    worker.run_once()
    got = api.get(f"/broadcasts/{b['id']}").json()
    assert (got["audience"], got["queued"]) == (4, 4)
    progress = got["progress"]
    assert (progress["sent"], progress["skipped"], progress["queued"]) == (3, 1, 0)
    assert len(smtp.recorder.received) == 3
    [listed] = api.get("/broadcasts").json()["data"]
    assert listed["progress"] == progress
