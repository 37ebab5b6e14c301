"""Journey durations in the one format (``{"amount", "unit"}``, weeks, calendar months and
years); the old ``{"days", "hours", …}`` form still read, and answered in the new one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update

from kairos.clock import FixedClock
from kairos.journeys.definition import parse_journey
from kairos.journeys.tables import journey_version
from kairos.worker.loop import Worker
from tests.conftest import Api
from tests.journeys.conftest import enrollments, journey
from tests.messaging.conftest import make_contact

JAN31 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


def waits(duration: dict[str, Any], **entry: Any) -> dict[str, Any]:
    return {
        "trigger": {"type": "api"},
        "entry": entry or {"reentry": "never"},
        "start": "w",
        "nodes": {
            "w": {"type": "wait", "duration": duration, "next": "t"},
            "t": {"type": "update_contact", "add_tags": ["waited"], "next": None},
        },
    }


def test_a_wait_of_a_month_is_a_calendar_month(api: Api, worker: Worker, clock: FixedClock) -> None:
    clock.set(JAN31)
    jid = journey(api, waits({"amount": 1, "unit": "months"}))
    cid = make_contact(api, external_id="m1")
    assert api.post(f"/journeys/{jid}/enrollments", {"contact_id": cid}).status_code == 201
    worker.run_once()
    clock.set(datetime(2026, 2, 28, 8, 59, tzinfo=UTC))  # 28 days: a 30-day month would be later still
    worker.run_once()
    assert enrollments(api, jid)[0]["state"] == "active"
    clock.set(datetime(2026, 2, 28, 9, 0, tzinfo=UTC))  # 31 January + 1 month = 28 February
    worker.run_once()
    assert enrollments(api, jid)[0]["state"] == "completed"


def test_the_old_form_still_runs_and_is_answered_in_the_new_one(
    api: Api, worker: Worker, clock: FixedClock
) -> None:
    jid = journey(api, waits({"days": 1, "hours": 2}), publish=False)
    draft = api.get(f"/journeys/{jid}").json()["draft"]
    assert draft["nodes"]["w"]["duration"] == {"amount": 26, "unit": "hours"}
    assert api.post(f"/journeys/{jid}/publish").status_code == 200
    cid = make_contact(api, external_id="m2")
    api.post(f"/journeys/{jid}/enrollments", {"contact_id": cid})
    worker.run_once()
    clock.advance(timedelta(hours=25, minutes=59))
    worker.run_once()
    assert enrollments(api, jid)[0]["state"] == "active"
    clock.advance(timedelta(minutes=1))
    worker.run_once()
    assert enrollments(api, jid)[0]["state"] == "completed"


def test_a_version_stored_in_the_old_form_keeps_running(
    api: Api, engine: Engine, worker: Worker, clock: FixedClock
) -> None:
    jid = journey(api, waits({"amount": 2, "unit": "hours"}))
    old = waits({"hours": 2})
    with engine.begin() as conn:  # as a version published before the format changed
        conn.execute(
            update(journey_version).where(journey_version.c.journey_id == jid).values(definition=old)
        )
    cid = make_contact(api, external_id="m3")
    api.post(f"/journeys/{jid}/enrollments", {"contact_id": cid})
    worker.run_once()
    clock.advance(timedelta(hours=2))
    worker.run_once()
    assert enrollments(api, jid)[0]["state"] == "completed"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("wait", {"amount": 0, "unit": "days"}),
        ("wait", {"days": 0}),
        ("wait", {"amount": 26, "unit": "years"}),
        ("wait", {"amount": 1, "unit": "fortnights"}),
        ("timeout", {"amount": 0, "unit": "hours"}),
    ],
)
def test_empty_too_long_or_unknown_durations_are_refused(field: str, value: dict[str, Any]) -> None:
    from kairos.errors import InvalidInput

    definition = waits({"amount": 1, "unit": "days"})
    if field == "wait":
        definition["nodes"]["w"]["duration"] = value
    else:
        definition["nodes"]["w"] = {"type": "wait_for_event", "event": "x", "timeout": value, "next": "t"}
    with pytest.raises(InvalidInput) as err:
        parse_journey(definition)
    assert err.value.code == "invalid_journey"


def test_every_journey_duration_takes_weeks_months_and_years() -> None:
    parsed = parse_journey({
        "trigger": {"type": "api"},
        "entry": {"reentry": "after", "reentry_after": {"amount": 1, "unit": "years"}},
        "start": "w",
        "nodes": {
            "w": {"type": "wait_for_event", "event": "x", "timeout": {"amount": 2, "unit": "weeks"},
                  "next": "d", "timeout_next": "d"},
            "d": {"type": "wait_until_date", "attribute": "renewal", "offset": {"amount": 1, "unit": "months"},
                  "before": True, "next": None},
        },
    })  # fmt: skip
    assert parsed.entry.reentry_after is not None
    assert parsed.entry.reentry_after.before(JAN31) == datetime(2025, 1, 31, 9, tzinfo=UTC)
    dump = parsed.model_dump(mode="json")
    assert dump["nodes"]["w"]["timeout"] == {"amount": 2, "unit": "weeks"}
    assert dump["nodes"]["d"]["offset"] == {"amount": 1, "unit": "months"}


def test_simulation_offsets_take_the_new_form_and_calendar_months(api: Api) -> None:
    jid = journey(api, waits({"amount": 1, "unit": "months"}), publish=False)
    body = {
        "contact": {"email": "ann@example.com"},
        "start": "2026-01-31T09:00:00Z",
        "until": {"amount": 2, "unit": "months"},
        "events": [{"at": {"amount": 1, "unit": "weeks"}, "event": "Browsed"}],
    }
    r = api.post(f"/journeys/{jid}/simulate", body)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["until"] == "2026-03-31T09:00:00Z"
    assert result["waits"][0]["until"] == "2026-02-28T09:00:00Z"
    old = api.post(f"/journeys/{jid}/simulate", {**body, "until": {"days": 10}, "events": []})
    assert old.status_code == 200, old.text
    assert old.json()["until"] == "2026-02-10T09:00:00Z"


def test_the_json_schema_shows_one_duration_format(api: Api) -> None:
    schemas = api.http.get("/openapi.json").json()["components"]["schemas"]
    durations = [name for name in schemas if "Duration" in name or "Offset" in name]
    assert durations == ["Duration"]
    assert set(schemas["Duration"]["properties"]) == {"amount", "unit"}
    assert schemas["Duration"]["properties"]["unit"]["enum"] == [
        "seconds", "minutes", "hours", "days", "weeks", "months", "years",
    ]  # fmt: skip
    legacy = [n for n, s in schemas.items() if {"days", "hours"} <= set(s.get("properties", {}))]
    assert legacy == []
