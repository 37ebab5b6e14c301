"""Birthdays across time zones, schedules over a segment, waiting for a date from an
attribute, and the hand-off to sales."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kairos.clock import FixedClock
from kairos.worker.loop import Worker
from tests.conftest import Api
from tests.journeys.conftest import enrollments, journey
from tests.messaging.conftest import SmtpServer, email_template, make_contact


def entered(api: Api, journey_id: int) -> set[int]:
    return {e["contact_id"] for e in enrollments(api, journey_id)}


def test_birthdays_enter_at_nine_in_each_contacts_own_time_zone(
    api: Api, worker: Worker, clock: FixedClock
) -> None:
    jid = journey(api, {
        "trigger": {"type": "date", "attribute": "birthday", "at": "09:00"},
        "entry": {"reentry": "after", "reentry_after": {"days": 300}},
        "start": "tag", "nodes": {"tag": {"type": "update_contact", "add_tags": ["birthday-greeted"], "next": None}},
    })  # fmt: skip
    tokyo = make_contact(api, external_id="tokyo", timezone="Asia/Tokyo", traits={"birthday": "1990-03-05"})
    paris = make_contact(api, external_id="paris", timezone="Europe/Paris", traits={"birthday": "1985-03-05"})
    la = make_contact(
        api, external_id="la", timezone="America/Los_Angeles", traits={"birthday": "2000-03-05"}
    )
    make_contact(api, external_id="other", timezone="Europe/Paris", traits={"birthday": "1985-03-06"})

    clock.set(datetime(2026, 3, 4, 23, 0, tzinfo=UTC))  # 08:00 on the 5th in Tokyo: not yet
    worker.run_once()
    assert entered(api, jid) == set()
    clock.set(datetime(2026, 3, 5, 0, 0, tzinfo=UTC))  # 09:00 in Tokyo
    worker.run_once()
    assert entered(api, jid) == {tokyo}
    clock.set(datetime(2026, 3, 5, 8, 0, tzinfo=UTC))  # 09:00 in Paris
    worker.run_once()
    worker.run_once()  # running again the same day enters nobody twice
    assert entered(api, jid) == {tokyo, paris}
    clock.set(datetime(2026, 3, 5, 17, 0, tzinfo=UTC))  # 09:00 in Los Angeles
    worker.run_once()
    assert entered(api, jid) == {tokyo, paris, la}
    assert len(enrollments(api, jid)) == 3
    assert all(e["state"] == "completed" for e in enrollments(api, jid))

    clock.set(datetime(2027, 3, 5, 8, 0, tzinfo=UTC))  # next year, again
    worker.run_once()
    assert len(enrollments(api, jid)) == 5  # Tokyo and Paris; Los Angeles is still the 4th


def test_a_schedule_enters_the_segment_each_time_it_fires(
    api: Api, worker: Worker, clock: FixedClock
) -> None:
    seg = api.post("/segments", {"name": "vip", "definition": {"root": {"type": "tag", "tag": "vip"}}}).json()
    members = [
        make_contact(api, external_id=f"v{i}", tags=["vip"], timezone="Europe/Paris") for i in range(3)
    ]
    make_contact(api, external_id="not-vip")
    worker.run_once()  # segment membership computed
    jid = journey(api, {
        "trigger": {"type": "schedule", "cron": "0 10 * * 1", "segment_id": seg["id"], "timezone": "contact"},
        "entry": {"reentry": "always"},
        "start": "w", "nodes": {"w": {"type": "wait", "duration": {"minutes": 1}, "next": None}},
    })  # fmt: skip
    # 2026-03-02 is a Monday; 12:00 UTC is 13:00 in Paris: this week's 10:00 has passed
    worker.run_once()
    assert enrollments(api, jid) == []
    clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=UTC))  # Monday 10:00 in Paris
    worker.run_once()
    assert entered(api, jid) == set(members)
    clock.advance(timedelta(minutes=2))
    worker.run_once()  # they finish (a contact still running would not enter again)
    clock.advance(timedelta(days=7))
    worker.run_once()
    assert len(enrollments(api, jid)) == 6


def test_wait_until_a_date_from_an_attribute(api: Api, worker: Worker, clock: FixedClock) -> None:
    jid = journey(api, {
        "trigger": {"type": "api"}, "start": "before",
        "nodes": {"before": {"type": "wait_until_date", "attribute": "trial_ends_at", "offset": {"days": 2},
                             "before": True, "next": "tag"},
                  "tag": {"type": "update_contact", "add_tags": ["trial-ending"], "next": None}},
    })  # fmt: skip
    trial = make_contact(api, external_id="trial", traits={"trial_ends_at": "2026-03-10T12:00:00Z"})
    none = make_contact(api, external_id="none")
    for cid in (trial, none):
        api.post(f"/journeys/{jid}/enrollments", {"contact_id": cid})
    worker.run_once()
    by_contact = {e["contact_id"]: e for e in enrollments(api, jid)}
    assert by_contact[trial]["resume_at"].startswith("2026-03-08T12:00:00")
    assert by_contact[none]["state"] == "completed"
    clock.set(datetime(2026, 3, 8, 12, 0, tzinfo=UTC))
    worker.run_once()
    assert {e["state"] for e in enrollments(api, jid)} == {"completed"}
    steps = api.get(f"/journeys/{jid}/stats").json()["nodes"]["before"]["outcomes"]
    assert steps == {"waiting": 1, "next": 1, "no_date": 1}


def test_notify_sales_assigns_owners_in_turn_and_emails_them(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    tid = email_template(api, "lead", subject="New lead: {{ contact.first_name }} {{ contact.last_name }}")
    jid = journey(api, {
        "trigger": {"type": "api"}, "start": "mql",
        "nodes": {"mql": {"type": "update_contact", "lifecycle_stage": "mql", "next": "sales"},
                  "sales": {"type": "notify_sales", "owners": ["ana@shop.example", "ben@shop.example"],
                            "template_id": tid, "next": None}},
    })  # fmt: skip
    leads = [make_contact(api, external_id=f"lead{i}", first_name=f"L{i}", last_name="Smith", email=f"l{i}@x.example")
             for i in range(4)]  # fmt: skip
    for cid in leads:
        api.post(f"/journeys/{jid}/enrollments", {"contact_id": cid})
    worker.run_once()
    owners = [api.get(f"/contacts/{cid}").json()["traits"]["sales_owner"] for cid in leads]
    assert sorted(owners) == ["ana@shop.example"] * 2 + ["ben@shop.example"] * 2
    assert {api.get(f"/contacts/{cid}").json()["lifecycle_stage"] for cid in leads} == {"mql"}
    subjects = sorted(m.message["Subject"] for m in smtp.recorder.received)
    assert subjects == [f"New lead: L{i} Smith" for i in range(4)]
    assert {r.rcpt_tos[0] for r in smtp.recorder.received} == {"ana@shop.example", "ben@shop.example"}
    assert all(not smtp.recorder.to(f"l{i}@x.example") for i in range(4))  # the lead gets nothing


def test_a_tag_taken_away_starts_a_journey(api: Api, worker: Worker, clock: FixedClock) -> None:
    jid = journey(api, {"trigger": {"type": "tag_removed", "tag": "subscriber"}, "entry": {"reentry": "always"},
                        "start": "t", "nodes": {"t": {"type": "update_contact", "add_tags": ["lapsed"], "next": None}}})  # fmt: skip
    cid = make_contact(api, external_id="sub", tags=["subscriber"])
    worker.run_once()
    assert enrollments(api, jid) == []  # adding it does not count
    clock.advance(timedelta(minutes=1))
    assert api.delete(f"/contacts/{cid}/tags/subscriber").status_code == 200
    worker.run_once()
    [e] = enrollments(api, jid)
    assert (e["contact_id"], e["state"]) == (cid, "completed")
    assert api.get(f"/contacts/{cid}").json()["tags"] == ["lapsed"]


def test_an_attribute_change_starts_a_journey(api: Api, worker: Worker, clock: FixedClock) -> None:
    gold = make_contact(api, external_id="g", traits={"plan": "silver"})
    make_contact(api, external_id="s", traits={"plan": "silver"})
    worker.run_once()
    jid = journey(api, {"trigger": {"type": "attribute_changed", "attribute": "plan", "to": "gold"},
                        "entry": {"reentry": "always"}, "start": "t",
                        "nodes": {"t": {"type": "update_contact", "add_tags": ["upgraded"], "next": None}}})  # fmt: skip
    worker.run_once()
    assert enrollments(api, jid) == []  # values at publish time are the baseline
    clock.advance(timedelta(minutes=1))
    assert api.patch(f"/contacts/{gold}", {"traits": {"plan": "gold"}}).status_code == 200
    late = make_contact(api, external_id="new", traits={"plan": "gold"})  # first set: a change from nothing
    worker.run_once()
    assert {e["contact_id"] for e in enrollments(api, jid)} == {gold, late}
    [e] = [e for e in enrollments(api, jid) if e["contact_id"] == gold]
    assert e["payload"]["payload"] == {"attribute": "plan", "from": "silver", "to": "gold"}
    assert api.patch(f"/contacts/{gold}", {"traits": {"nickname": "G"}}).status_code == 200
    worker.run_once()
    assert len(enrollments(api, jid)) == 2  # another attribute changed: nothing
