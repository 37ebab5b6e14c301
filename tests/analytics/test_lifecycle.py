"""Lifecycle movement, end to end: stages set through the contacts API and a journey's
update_contact node, every real change recorded once (and no unchanged write), segments on
the stage following along; then the report per day, ISO week and month, its transitions,
the current distribution, the CSV and bad input."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from kairos.clock import FixedClock
from kairos.contacts.tables import contact, lifecycle_change
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.journeys.conftest import journey

MON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # the clock fixture's T0, a Monday


def report(api: Api, start: str, end: str, interval: str = "day") -> dict[str, Any]:
    r = api.get("/reports/lifecycle", params={"start": start, "end": end, "interval": interval})
    assert r.status_code == 200, r.text
    return dict(r.json())


def entered(body: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The periods where something was entered."""
    return {p["period"]: p["entered"] for p in body["periods"] if p["entered"]}


def history(engine: Engine) -> list[tuple[int, str | None, str | None, str]]:
    """(contact, from, to, source) of every recorded change, in time then contact order."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                lifecycle_change.c.contact_id,
                lifecycle_change.c.from_stage,
                lifecycle_change.c.to_stage,
                lifecycle_change.c.source,
            ).order_by(lifecycle_change.c.changed_at, lifecycle_change.c.contact_id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def create(api: Api, external_id: str, **fields: Any) -> int:
    r = api.post("/contacts", {"external_id": external_id, **fields})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def stage_of(api: Api, cid: int) -> str | None:
    value = api.get(f"/contacts/{cid}").json()["lifecycle_stage"]
    return None if value is None else str(value)


def members(api: Api, segment_id: int) -> set[int]:
    return {m["id"] for m in api.get(f"/segments/{segment_id}/members").json()["data"]}


def test_stages_move_through_the_api_and_a_journey_and_the_report_shows_it(
    api: Api, engine: Engine, worker: Worker, clock: FixedClock
) -> None:
    r = api.post("/segments", {"name": "MQLs", "definition": {
        "root": {"type": "attribute", "attribute": "lifecycle_stage", "operator": "eq", "value": "mql"}}})  # fmt: skip
    assert r.status_code == 201, r.text
    mqls = int(r.json()["id"])
    jid = journey(api, {"trigger": {"type": "api"}, "entry": {"reentry": "always"}, "start": "mql",
                        "nodes": {"mql": {"type": "update_contact", "lifecycle_stage": "mql", "next": None}}})  # fmt: skip

    # Monday: three leads (the stage is stripped) and a contact without a stage.
    a = create(api, "a", lifecycle_stage="lead")
    b = create(api, "b", lifecycle_stage=" lead ")
    c = create(api, "c", lifecycle_stage="lead")
    d = create(api, "d")
    assert [stage_of(api, x) for x in (a, b, c, d)] == ["lead", "lead", "lead", None]
    # Writing the same stage again, or leaving it out, records nothing and keeps it.
    assert api.post("/contacts", {"external_id": "a", "lifecycle_stage": "lead"}).status_code == 200
    assert (
        api.post("/contacts", {"external_id": "a", "first_name": "Ann"}).json()["lifecycle_stage"] == "lead"
    )
    assert api.patch(f"/contacts/{a}", {"lifecycle_stage": "lead"}).json()["lifecycle_stage"] == "lead"
    assert api.patch(f"/contacts/{d}", {"first_name": "Dee"}).json()["lifecycle_stage"] is None
    assert history(engine) == [(a, None, "lead", "api"), (b, None, "lead", "api"), (c, None, "lead", "api")]
    worker.run_once()
    assert members(api, mqls) == set()

    # Tuesday: the journey makes a and b MQLs; the segment follows.
    clock.set(MON + timedelta(days=1))
    for cid in (a, b):
        assert api.post(f"/journeys/{jid}/enrollments", {"contact_id": cid}).status_code == 201
    worker.run_once()
    assert [stage_of(api, x) for x in (a, b, c)] == ["mql", "mql", "lead"]
    assert members(api, mqls) == {a, b}
    # The journey again on a contact already at its stage: no change.
    assert api.post(f"/journeys/{jid}/enrollments", {"contact_id": a}).status_code == 201
    worker.run_once()
    assert len(history(engine)) == 5

    # Next Tuesday: b goes back to lead, c's stage is cleared, d becomes a customer.
    clock.set(MON + timedelta(days=8))
    assert api.patch(f"/contacts/{b}", {"lifecycle_stage": "lead"}).json()["lifecycle_stage"] == "lead"
    assert api.patch(f"/contacts/{c}", {"lifecycle_stage": None}).json()["lifecycle_stage"] is None
    assert api.patch(f"/contacts/{d}", {"lifecycle_stage": "customer"}).status_code == 200
    worker.run_once()
    assert members(api, mqls) == {a}
    # 1 April: a becomes a customer.
    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=UTC))
    assert api.patch(f"/contacts/{a}", {"lifecycle_stage": "customer"}).status_code == 200
    worker.run_once()
    assert members(api, mqls) == set()

    assert history(engine) == [
        (a, None, "lead", "api"), (b, None, "lead", "api"), (c, None, "lead", "api"),
        (a, "lead", "mql", "journey"), (b, "lead", "mql", "journey"),
        (b, "mql", "lead", "api"), (c, "lead", None, "api"), (d, None, "customer", "api"),
        (a, "mql", "customer", "api"),
    ]  # fmt: skip

    by_day = report(api, "2026-03-02T00:00:00Z", "2026-03-11T00:00:00Z")
    assert by_day["interval"] == "day"
    assert [p["period"] for p in by_day["periods"]] == [f"2026-03-{d:02d}" for d in range(2, 11)]
    assert entered(by_day) == {
        "2026-03-02": {"lead": 3},
        "2026-03-03": {"mql": 2},
        "2026-03-10": {"customer": 1, "lead": 1},
    }
    assert by_day["stages"] == ["customer", "lead", "mql"]
    assert by_day["transitions"] == [
        {"from": None, "to": "lead", "count": 3},
        {"from": "lead", "to": "mql", "count": 2},
        {"from": "lead", "to": None, "count": 1},
        {"from": "mql", "to": "lead", "count": 1},
        {"from": None, "to": "customer", "count": 1},
    ]
    # Now: a and d customers, b a lead, c without a stage.
    assert by_day["current"] == [
        {"stage": "customer", "contacts": 2},
        {"stage": "lead", "contacts": 1},
        {"stage": None, "contacts": 1},
    ]

    by_week = report(api, "2026-03-02T00:00:00Z", "2026-04-06T00:00:00Z", "week")
    assert [p["period"] for p in by_week["periods"]] == ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"]  # fmt: skip
    assert entered(by_week) == {
        "2026-03-02": {"lead": 3, "mql": 2},
        "2026-03-09": {"customer": 1, "lead": 1},
        "2026-03-30": {"customer": 1},
    }
    # A range starting mid-week lists the whole week but counts only what is in the range.
    from_wednesday = report(api, "2026-03-04T00:00:00Z", "2026-03-16T00:00:00Z", "week")
    assert [p["period"] for p in from_wednesday["periods"]] == ["2026-03-02", "2026-03-09"]
    assert entered(from_wednesday) == {"2026-03-09": {"customer": 1, "lead": 1}}
    assert sum(t["count"] for t in from_wednesday["transitions"]) == 3

    by_month = report(api, "2026-03-01T00:00:00Z", "2026-04-05T00:00:00Z", "month")
    assert [p["period"] for p in by_month["periods"]] == ["2026-03-01", "2026-04-01"]
    assert entered(by_month) == {
        "2026-03-01": {"customer": 1, "lead": 4, "mql": 2},
        "2026-04-01": {"customer": 1},
    }
    assert {"from": "mql", "to": "customer", "count": 1} in by_month["transitions"]

    csv = api.get("/reports/lifecycle", params={
        "start": "2026-03-02T00:00:00Z", "end": "2026-04-06T00:00:00Z", "interval": "week", "format": "csv"})  # fmt: skip
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text == (
        "period,customer,lead,mql\n"
        "2026-03-02,0,3,2\n"
        "2026-03-09,1,1,0\n"
        "2026-03-16,0,0,0\n"
        "2026-03-23,0,0,0\n"
        "2026-03-30,1,0,0\n"
    )


def test_period_boundaries_are_utc_days_iso_weeks_and_months(
    api: Api, engine: Engine, workspace: CreatedWorkspace, other_workspace: CreatedWorkspace
) -> None:
    """Changes a microsecond either side of midnight, of Monday 00:00 (an ISO week across
    the new year) and of the first of the month; another workspace's changes never count."""
    cid = create(api, "x")
    just = timedelta(microseconds=1)
    at = {
        datetime(2025, 12, 28, 23, 59, 59, 999999, tzinfo=UTC): "a",  # Sunday: week of 22 Dec
        datetime(2025, 12, 29, tzinfo=UTC): "b",  # Monday: week of 29 Dec, which holds 1 Jan
        datetime(2026, 1, 1, tzinfo=UTC) - just: "c",
        datetime(2026, 1, 1, tzinfo=UTC): "d",
        datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC): "e",
        datetime(2026, 2, 1, tzinfo=UTC): "f",
    }
    with engine.begin() as conn:
        other = conn.execute(
            insert(contact).values(workspace_id=other_workspace.id, traits={}, score=0,
                                   created_at=datetime(2025, 1, 1, tzinfo=UTC), updated_at=datetime(2025, 1, 1, tzinfo=UTC))
        ).inserted_primary_key[0]  # fmt: skip
        for when, stage in at.items():
            for ws, who in ((workspace.id, cid), (other_workspace.id, other)):
                conn.execute(insert(lifecycle_change).values(
                    workspace_id=ws, contact_id=who, from_stage=None, to_stage=stage, source="import",
                    changed_at=when))  # fmt: skip
    start, end = "2025-12-28T00:00:00Z", "2026-02-02T00:00:00Z"
    days = entered(report(api, start, end, "day"))
    assert days == {"2025-12-28": {"a": 1}, "2025-12-29": {"b": 1}, "2025-12-31": {"c": 1},
                    "2026-01-01": {"d": 1}, "2026-01-31": {"e": 1}, "2026-02-01": {"f": 1}}  # fmt: skip
    weeks = report(api, start, end, "week")
    assert weeks["periods"][0]["period"] == "2025-12-22"
    assert entered(weeks) == {"2025-12-22": {"a": 1}, "2025-12-29": {"b": 1, "c": 1, "d": 1},
                              "2026-01-26": {"e": 1, "f": 1}}  # fmt: skip
    months = report(api, start, end, "month")
    assert [p["period"] for p in months["periods"]] == ["2025-12-01", "2026-01-01", "2026-02-01"]
    assert entered(months) == {"2025-12-01": {"a": 1, "b": 1, "c": 1}, "2026-01-01": {"d": 1, "e": 1},
                               "2026-02-01": {"f": 1}}  # fmt: skip
    # [start, end) exactly: the change at the end instant is out, the one at the start in.
    edge = report(api, "2025-12-29T00:00:00Z", "2026-01-01T00:00:00Z")
    assert entered(edge) == {"2025-12-29": {"b": 1}, "2025-12-31": {"c": 1}}


def test_merged_contacts_are_not_in_the_current_distribution_and_bring_their_history(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    kept = create(api, "kept", lifecycle_stage="sql")
    gone = api.post("/contacts", {"email": "gone@x.example", "lifecycle_stage": "lead"}).json()["id"]
    auth = {"Authorization": "Basic " + base64.b64encode(f"{workspace.write_key}:".encode()).decode()}
    r = api.http.post(
        "/v1/identify", json={"userId": "kept", "traits": {"email": "gone@x.example"}}, headers=auth
    )
    assert r.status_code == 200, r.text
    assert api.get(f"/contacts/{gone}").json()["id"] == kept  # merged
    body = report(api, "2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z")
    assert body["current"] == [{"stage": "sql", "contacts": 1}]
    assert entered(body) == {"2026-03-02": {"lead": 1, "sql": 1}}
    assert {who for who, *_ in history(engine)} == {kept}
    # Setting the stage through the merged id sets the survivor's.
    clock.advance(timedelta(hours=1))
    assert api.patch(f"/contacts/{gone}", {"lifecycle_stage": "customer"}).json()["id"] == kept
    assert history(engine)[-1] == (kept, "sql", "customer", "api")


def test_a_formula_like_stage_is_quoted_in_the_csv(api: Api) -> None:
    create(api, "x", lifecycle_stage="=HYPERLINK(1)")
    r = api.get("/reports/lifecycle", params={"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z",
                                              "format": "csv"})  # fmt: skip
    assert r.text == "period,'=HYPERLINK(1)\n2026-03-02,1\n"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"interval": "year"}, "invalid_interval"),
        ({"end": "2026-03-01T00:00:00Z"}, "invalid_range"),  # before start
        ({"end": "2026-03-02T00:00:00Z"}, "invalid_range"),  # empty
        ({"end": "2027-04-07T00:00:00Z"}, "invalid_range"),  # more than 400 days
        ({"start": "not a date"}, "validation_error"),
        ({"format": "xml"}, "validation_error"),
    ],
)
def test_bad_report_parameters_are_422(api: Api, params: dict[str, str], code: str) -> None:
    query = {"start": "2026-03-02T00:00:00Z", "end": "2026-03-09T00:00:00Z", **params}
    r = api.get("/reports/lifecycle", params=query)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code and r.json()["message"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"lifecycle_stage": ""}, "invalid_lifecycle_stage"),
        ({"lifecycle_stage": "   "}, "invalid_lifecycle_stage"),
        ({"lifecycle_stage": "x" * 41}, "invalid_lifecycle_stage"),
        ({"lifecycle_stage": 3}, "validation_error"),
    ],
)
def test_bad_stages_are_422_and_change_nothing(
    api: Api, engine: Engine, body: dict[str, Any], code: str
) -> None:
    cid = create(api, "a", lifecycle_stage="lead")
    for r in (api.post("/contacts", {"external_id": "b", **body}), api.patch(f"/contacts/{cid}", body)):
        assert r.status_code == 422, r.text
        assert r.json()["code"] == code and r.json()["message"]
    assert stage_of(api, cid) == "lead"
    assert len(history(engine)) == 1
    assert api.get("/contacts", params={"external_id": "b"}).json()["data"] == []
    # 40 characters, once stripped, are fine.
    assert api.patch(f"/contacts/{cid}", {"lifecycle_stage": " " + "y" * 40 + " "}).status_code == 200


def test_a_journey_cannot_set_a_blank_stage(api: Api) -> None:
    r = api.post("/journeys", {"name": "j", "definition": {"trigger": {"type": "api"}, "start": "s",
                 "nodes": {"s": {"type": "update_contact", "lifecycle_stage": "  ", "add_tags": ["t"], "next": None}}}})  # fmt: skip
    assert r.status_code == 422, r.text
    assert "lifecycle_stage" in r.json()["message"]
