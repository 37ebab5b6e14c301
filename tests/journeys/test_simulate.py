"""Simulation: a journey run for a real or hypothetical contact against a scripted timeline,
answering the path, the waits and the rendered messages — and leaving no trace."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from kairos.clock import FixedClock
from kairos.contacts.tables import contact, contact_change, contact_tag, tag
from kairos.events.tables import event
from kairos.journeys import simulate as simulation
from kairos.journeys.tables import enrollment, journey_step, journey_version
from kairos.messaging.tables import message
from kairos.segments.tables import membership_transition, segment_membership
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import T0, Api
from tests.journeys.conftest import enrollments, journey, track
from tests.messaging.conftest import SmtpServer, email_template, make_contact


def iso(delta: timedelta = timedelta(0)) -> str:
    return (T0 + delta).isoformat().replace("+00:00", "Z")


def welcome_journey(api: Api, publish: bool = False) -> int:
    """Wait a day, send the welcome email, wait two days for an open: tag the engaged, remind
    the others."""
    welcome = email_template(api)
    reminder = email_template(api, "reminder", subject="Still there, {{ contact.first_name }}?")
    return journey(api, {
        "trigger": {"type": "api"},
        "start": "pause",
        "nodes": {
            "pause": {"type": "wait", "duration": {"days": 1}, "next": "welcome"},
            "welcome": {"type": "send", "channel": "email", "template_id": welcome, "next": "opened"},
            "opened": {"type": "wait_for_event", "event": "Email Opened", "timeout": {"days": 2},
                       "next": "engaged", "timeout_next": "reminder"},
            "engaged": {"type": "update_contact", "add_tags": ["engaged"], "next": None},
            "reminder": {"type": "send", "channel": "email", "template_id": reminder, "next": None},
        },
    }, publish=publish)  # fmt: skip


ANN = {"first_name": "Ann", "email": "ann@example.com", "timezone": "Europe/Paris"}


def simulate(api: Api, journey_id: int, body: dict[str, Any]) -> dict[str, Any]:
    r = api.post(f"/journeys/{journey_id}/simulate", body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def path(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(s["at"], s["node"], s["outcome"]) for s in result["path"]]


def test_a_draft_for_a_hypothetical_contact_who_opens_the_email(
    api: Api, email_channel: dict[str, Any]
) -> None:
    jid = welcome_journey(api)
    result = simulate(api, jid, {
        "contact": ANN, "events": [{"at": {"days": 1, "hours": 3}, "event": "Email Opened"}],
    })  # fmt: skip
    day, opened = timedelta(days=1), timedelta(days=1, hours=3)
    assert result["entered"] is True and result["contact_id"] is None
    assert path(result) == [
        (iso(), "pause", "waiting"),
        (iso(day), "pause", "next"),
        (iso(day), "welcome", "next"),
        (iso(day), "opened", "waiting"),
        (iso(opened), "opened", "event"),
        (iso(opened), "engaged", "next"),
    ]
    assert [s["type"] for s in result["path"]][:3] == ["wait", "wait", "send"]
    assert result["waits"] == [
        {"node": "pause", "type": "wait", "from": iso(), "until": iso(day), "event": None,
         "ended_at": iso(day), "outcome": "next"},
        {"node": "opened", "type": "wait_for_event", "from": iso(day), "until": iso(timedelta(days=3)),
         "event": "Email Opened", "ended_at": iso(opened), "outcome": "event"},
    ]  # fmt: skip
    [mail] = result["messages"]
    assert result["path"][2]["message"] == 0
    assert (mail["node"], mail["channel"], mail["status"], mail["at"]) == (
        "welcome",
        "email",
        "would_send",
        iso(day),
    )
    assert mail["to"] == "ann@example.com" and mail["error"] is None
    assert mail["content"]["subject"] == "Hello Ann"
    assert "<p>Hi Ann,</p>" in mail["content"]["html"]
    assert "/u/" in mail["content"]["html"]  # the unsubscribe link, as the dispatcher renders it
    assert result["final"]["state"] == "completed"
    assert result["truncated"] is False


def test_without_the_open_the_timeout_sends_the_reminder(api: Api) -> None:
    jid = welcome_journey(api)
    result = simulate(api, jid, {"contact": ANN, "until": {"days": 10}})
    timeout = timedelta(days=3)
    assert path(result)[-2:] == [(iso(timeout), "opened", "timeout"), (iso(timeout), "reminder", "next")]
    assert [(w["node"], w["outcome"]) for w in result["waits"]] == [("pause", "next"), ("opened", "timeout")]
    assert [(m["node"], m["content"]["subject"]) for m in result["messages"]] == [
        ("welcome", "Hello Ann"),
        ("reminder", "Still there, Ann?"),
    ]
    assert result["messages"][1]["at"] == iso(timeout)
    assert result["final"]["state"] == "completed"


def test_a_short_horizon_stops_while_waiting(api: Api) -> None:
    jid = welcome_journey(api)
    result = simulate(api, jid, {"contact": ANN, "until": {"hours": 30}})
    assert path(result)[-1] == (iso(timedelta(days=1)), "opened", "waiting")
    assert result["final"] == {"state": "active", "node": "opened", "exit_reason": None,
                               "resume_at": iso(timedelta(days=3)), "ended_at": None}  # fmt: skip
    assert result["waits"][-1]["ended_at"] is None


def counts(engine: Engine) -> dict[str, int]:
    tables = (contact, contact_change, contact_tag, tag, enrollment, journey_step, journey_version, message,
              event, segment_membership, membership_transition)  # fmt: skip
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}


def test_nothing_is_stored_and_nothing_is_sent(
    api: Api,
    engine: Engine,
    smtp: SmtpServer,
    email_channel: dict[str, Any],
    worker: Worker,
    clock: FixedClock,
) -> None:
    jid = welcome_journey(api)
    segment = api.post(
        "/segments", {"name": "everyone", "definition": {"root": {"type": "all", "conditions": []}}}
    )
    assert segment.status_code == 201, segment.text
    bob = make_contact(api, external_id="bob", email="bob@example.com", first_name="Bob")
    worker.run_once()
    before, draft = counts(engine), api.get(f"/journeys/{jid}").json()

    opened = [{"at": {"days": 1, "hours": 1}, "event": "Email Opened"}]
    assert simulate(api, jid, {"contact": ANN, "events": opened})["messages"]
    assert simulate(api, jid, {"contact_id": bob, "events": opened})["messages"]
    assert simulate(api, jid, {"contact_id": bob})["final"]["state"] == "completed"

    assert counts(engine) == before
    assert api.get(f"/journeys/{jid}").json() == draft
    assert (draft["status"], draft["version_id"]) == ("draft", None)
    assert api.get(f"/contacts/{bob}/enrollments").json()["data"] == []
    assert [t["name"] if isinstance(t, dict) else t for t in api.get(f"/contacts/{bob}").json()["tags"]] == []
    clock.advance(timedelta(days=5))
    worker.run_once()
    assert smtp.recorder.received == []
    assert counts(engine) == before


def test_a_real_contact_follows_its_own_data(api: Api) -> None:
    assert api.post("/attributes", {"name": "plan", "type": "string"}).status_code == 201
    vip_mail = email_template(api, "vip", subject="Your {{ contact.plan }} perks, {{ contact.first_name }}")
    jid = journey(api, {
        "trigger": {"type": "api"},
        "start": "pro",
        "nodes": {
            "pro": {"type": "condition", "condition": {"type": "attribute", "attribute": "plan", "operator": "eq", "value": "pro"},
                    "yes": "perks", "no": "upsell"},
            "perks": {"type": "send", "channel": "email", "template_id": vip_mail, "next": None},
            "upsell": {"type": "update_contact", "add_tags": ["upsell"], "next": None},
        },
    }, publish=False)  # fmt: skip
    pia = make_contact(
        api, external_id="pia", email="pia@example.com", first_name="Pia", traits={"plan": "pro"}
    )
    max_ = make_contact(
        api, external_id="max", email="max@example.com", first_name="Max", traits={"plan": "free"}
    )

    result = simulate(api, jid, {"contact_id": pia})
    assert result["contact_id"] == pia
    assert [(s["node"], s["outcome"]) for s in result["path"]] == [("pro", "yes"), ("perks", "next")]
    assert result["messages"][0]["content"]["subject"] == "Your pro perks, Pia"

    result = simulate(api, jid, {"contact_id": max_})
    assert [(s["node"], s["outcome"]) for s in result["path"]] == [("pro", "no"), ("upsell", "next")]
    assert result["messages"] == []


def test_the_live_version_the_goal_and_the_entry_rules(
    api: Api, workspace: CreatedWorkspace, worker: Worker, clock: FixedClock
) -> None:
    """An event-triggered live journey: the trigger event's properties reach the template, a
    scripted goal event converts; a contact who already went through may not enter again."""
    cart = email_template(api, "cart", subject="Your {{ event.properties.item }} is waiting")
    jid = journey(api, {
        "trigger": {"type": "event", "event": "Cart Abandoned"},
        "goal": {"event": "Order Completed"},
        "start": "hour",
        "nodes": {
            "hour": {"type": "wait", "duration": {"hours": 1}, "next": "mail"},
            "mail": {"type": "send", "channel": "email", "template_id": cart, "next": "later"},
            "later": {"type": "wait", "duration": {"days": 2}, "next": None},
        },
    })  # fmt: skip
    result = simulate(api, jid, {
        "version": "live", "contact": ANN, "trigger_event": {"properties": {"item": "red shoes"}},
        "events": [{"at": iso(timedelta(hours=5)), "event": "Order Completed", "properties": {"revenue": 80}}],
    })  # fmt: skip
    assert result["messages"][0]["content"]["subject"] == "Your red shoes is waiting"
    assert path(result)[-1] == (iso(timedelta(hours=5)), "later", "goal")
    assert (result["final"]["state"], result["final"]["exit_reason"]) == ("converted", "goal")

    make_contact(api, external_id="ann", email="ann@example.com")
    track(api, workspace.write_key, "ann", "Cart Abandoned", item="hat")
    worker.run_once()
    [real] = enrollments(api, jid)
    again = simulate(api, jid, {"version": "live", "contact_id": real["contact_id"]})
    assert (again["entered"], again["reason"], again["path"]) == (False, "already_in_journey", [])
    for _ in range(2):
        clock.advance(timedelta(days=3))
        worker.run_once()
    assert enrollments(api, jid)[0]["state"] == "completed"
    again = simulate(api, jid, {"version": "live", "contact_id": real["contact_id"]})
    assert (again["entered"], again["reason"]) == (False, "reentry_never")
    assert len(enrollments(api, jid)) == 1


def test_bad_requests(api: Api) -> None:
    jid = welcome_journey(api)
    r = api.post("/journeys/999999/simulate", {"contact": ANN})
    assert (r.status_code, r.json()["code"]) == (404, "journey_not_found")
    r = api.post(f"/journeys/{jid}/simulate", {"contact": ANN, "until": {"days": 401}})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_until")
    r = api.post(f"/journeys/{jid}/simulate", {"contact": ANN, "contact_id": 1})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_contact")
    r = api.post(f"/journeys/{jid}/simulate", {})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_contact")
    r = api.post(
        f"/journeys/{jid}/simulate", {"contact": ANN, "events": [{"at": {"days": 40}, "event": "x"}]}
    )
    assert (r.status_code, r.json()["code"]) == (422, "event_outside_timeline")
    r = api.post(f"/journeys/{jid}/simulate", {"contact": ANN, "version": "live"})
    assert (r.status_code, r.json()["code"]) == (409, "journey_not_published")
    r = api.post(f"/journeys/{jid}/simulate", {"contact": ANN, "trigger_event": {"properties": {}}})
    assert (r.status_code, r.json()["code"]) == (422, "not_an_event_trigger")
    r = api.post(f"/journeys/{jid}/simulate", {"contact_id": 999999})
    assert r.status_code == 404


def test_segment_membership_follows_the_scripted_events_and_the_virtual_clock(
    api: Api, worker: Worker
) -> None:
    """ "Opened in the last 2 days" holds a day after the open, and no longer 3 days after."""
    segment = api.post("/segments", {"name": "recent openers", "definition": {"root": {
        "type": "performed", "event": "Email Opened", "window": {"last": {"amount": 2, "unit": "days"}}}}})  # fmt: skip
    assert segment.status_code == 201, segment.text
    worker.run_once()  # the segment's first full refresh

    def journey_waiting(days: int) -> int:
        return journey(api, {
            "trigger": {"type": "api"},
            "start": "wait",
            "nodes": {
                "wait": {"type": "wait", "duration": {"days": days}, "next": "check"},
                "check": {"type": "condition", "condition": {"type": "segment", "segment_id": segment.json()["id"]},
                          "yes": None, "no": None},
            },
        }, name=f"wait {days}", publish=False)  # fmt: skip

    opened = [{"at": {"hours": 1}, "event": "Email Opened"}]
    for days, branch in ((1, "yes"), (3, "no")):
        result = simulate(api, journey_waiting(days), {"contact": ANN, "events": opened})
        assert path(result)[-1] == (iso(timedelta(days=days)), "check", branch)


def test_a_journey_that_loops_on_a_short_wait_is_cut_short(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulation, "MAX_INSTANTS", 20)
    jid = journey(api, {
        "trigger": {"type": "api"},
        "start": "tick",
        "nodes": {
            "tick": {"type": "wait", "duration": {"minutes": 1}, "next": "mark"},
            "mark": {"type": "update_contact", "set_traits": {"ticked": True}, "next": "tick"},
        },
    }, publish=False)  # fmt: skip
    result = simulate(api, jid, {"contact": ANN, "until": {"days": 400}})
    assert result["truncated"] is True
    assert result["final"]["state"] == "active"
    assert len(result["waits"]) == 20
