"""GET /reports/acquisition: leads, lifecycle stages reached, conversions and revenue by a
value of the first or last touch, as JSON and CSV (docs/leads.md, "Acquisition source")."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic_core import to_jsonable_python
from sqlalchemy import Engine

from kairos.analytics.acquisition import acquisition_report
from kairos.clock import FixedClock
from kairos.contacts.lifecycle import set_stage
from kairos.contacts.service import find_contact_id
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api

SITE = "https://acme.example"
_seq = iter(range(1_000_000))


def send(engine: Engine, ws: int, at: datetime, anon: str, **msg: Any) -> int:
    body = {"anonymousId": anon, "timestamp": at.isoformat(), "messageId": f"r-{next(_seq)}", **msg}
    with engine.begin() as conn:
        ingest(conn, ws, [parse_message(body, None, at)], at)
        found = find_contact_id(conn, ws, "anonymous_id", anon)
    assert found is not None
    return found


def visit(
    engine: Engine, ws: int, at: datetime, anon: str, url: str = SITE + "/", referrer: str | None = None
) -> int:
    props = {"url": url, **({"referrer": referrer} if referrer else {})}
    return send(engine, ws, at, anon, type="page", properties=props)


def order(engine: Engine, ws: int, at: datetime, anon: str, revenue: float) -> None:
    send(engine, ws, at, anon, type="track", event="Order Completed", properties={"revenue": revenue})


def stage(engine: Engine, ws: int, cid: int, name: str, at: datetime) -> None:
    with engine.begin() as conn:
        set_stage(conn, ws, [cid], name, at, "api")


@pytest.fixture
def seeded(api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace) -> dict[str, Any]:
    """Before the range: ``old`` came from an ad. In the range: ``ad`` from the spring
    campaign (then a newsletter click), ``seo`` from Google, ``direct``, and ``imported``
    (no touch)."""
    ws, now = workspace.id, clock.now()
    start = now - timedelta(days=10)
    clock.set(start - timedelta(days=5))
    old = visit(
        engine, ws, clock.now(), "old", SITE + "/?utm_source=google&utm_medium=cpc&utm_campaign=winter"
    )
    clock.set(start + timedelta(days=1))
    ad = visit(
        engine,
        ws,
        clock.now(),
        "ad",
        SITE + "/?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=crm",
    )
    seo = visit(engine, ws, clock.now(), "seo", referrer="https://www.google.com/")
    direct = visit(engine, ws, clock.now(), "direct")
    imported = api.post("/contacts", {"email": "imported@example.com"}).json()["id"]
    clock.set(start + timedelta(days=2))
    visit(engine, ws, clock.now(), "ad", SITE + "/?utm_source=newsletter&utm_medium=email&utm_campaign=may")
    stage(engine, ws, ad, "MQL", clock.now())
    stage(engine, ws, ad, "SQL", clock.now())
    stage(engine, ws, seo, "MQL", clock.now())
    stage(engine, ws, old, "customer", clock.now())
    order(engine, ws, clock.now(), "ad", 100)
    order(engine, ws, clock.now(), "ad", 20)
    order(engine, ws, clock.now(), "old", 30)
    order(engine, ws, clock.now(), "seo", 5)
    clock.set(now)
    return {"start": start, "end": now + timedelta(days=1), "ad": ad, "seo": seo, "direct": direct,
            "imported": imported, "old": old}  # fmt: skip


def rows(report: dict[str, Any]) -> dict[Any, tuple[Any, ...]]:
    return {
        r["key"]: (r["new_contacts"], r["stages"]["MQL"], r["stages"]["SQL"], r["stages"]["customer"],
                   r["conversions"], r["revenue"])
        for r in report["rows"]
    }  # fmt: skip


def get(api: Api, seeded: dict[str, Any], **params: Any) -> Any:
    r = api.get("/reports/acquisition", params={"start": seeded["start"].isoformat(),
                                                "end": seeded["end"].isoformat(), **params})  # fmt: skip
    assert r.status_code == 200, r.text
    return r


def test_by_first_touch_channel(api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace,
                                seeded: dict[str, Any]) -> None:  # fmt: skip
    report = get(api, seeded).json()
    assert (report["by"], report["touch"], report["stages"]) == (
        "channel",
        "first",
        ["MQL", "SQL", "customer"],
    )
    assert report["goal"] == {"event": "Order Completed"} and report["revenue_complete"] is True
    assert rows(report) == {
        "paid_search": (1, 1, 1, 1, 3, 150.0),  # ad (new, MQL, SQL, 2 orders) + old (customer, 1 order)
        "organic_search": (1, 1, 0, 0, 1, 5.0),
        "direct": (1, 0, 0, 0, 0, 0.0),
        None: (1, 0, 0, 0, 0, 0.0),  # imported: no touch
    }
    assert [r["key"] for r in report["rows"]][-1] is None
    totals = report["totals"]
    assert (totals["new_contacts"], totals["stages"], totals["conversions"], totals["revenue"]) == (
        4, {"MQL": 2, "SQL": 1, "customer": 1}, 4, 155.0,
    )  # fmt: skip
    # the route answers what the analytics function does
    with engine.connect() as conn:
        want = acquisition_report(conn, workspace.id, seeded["start"], seeded["end"], clock.now())
    assert report == to_jsonable_python(want)


def test_by_last_touch_and_by_campaign(api: Api, seeded: dict[str, Any]) -> None:
    last = rows(get(api, seeded, touch="last").json())
    assert last["email"] == (1, 1, 1, 0, 2, 120.0)  # ad's last touch is the newsletter
    assert last["paid_search"] == (0, 0, 0, 1, 1, 30.0)  # old: created before the range
    first = rows(get(api, seeded, by="campaign").json())
    assert first["spring"] == (1, 1, 1, 0, 2, 120.0) and first["winter"] == (0, 0, 0, 1, 1, 30.0)
    assert first[None] == (3, 1, 0, 0, 1, 5.0)  # seo, direct and imported have no campaign
    assert rows(get(api, seeded, by="term").json())["crm"][0] == 1
    assert set(rows(get(api, seeded, by="source").json())) == {"google", "(direct)", None}
    assert set(rows(get(api, seeded, by="medium", touch="last").json())) == {
        "email",
        "organic",
        "cpc",
        "(none)",
        None,
    }


def test_stages_and_event_can_be_chosen(api: Api, seeded: dict[str, Any]) -> None:
    report = get(api, seeded, stages="SQL,customer", event="Nothing Happened").json()
    assert report["stages"] == ["SQL", "customer"] and report["goal"] == {"event": "Nothing Happened"}
    assert report["totals"]["stages"] == {"SQL": 1, "customer": 1} and report["totals"]["conversions"] == 0


def test_csv(api: Api, seeded: dict[str, Any]) -> None:
    r = get(api, seeded, format="csv")
    assert r.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(r.text)))
    assert lines[0] == ["channel", "new_contacts", "MQL", "SQL", "customer", "conversions", "revenue",
                        "revenue_unconverted"]  # fmt: skip
    assert lines[1] == ["total", "4", "2", "1", "1", "4", "155.0", ""]
    assert ["paid_search", "1", "1", "1", "1", "3", "150.0", ""] in lines
    assert lines[-1][0] == "(not set)"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"by": "colour"}, "invalid_by"),
        ({"touch": "middle"}, "invalid_touch"),
        ({"stages": "x" * 41}, "invalid_stages"),
        ({"end": "2020-01-01T00:00:00Z"}, "invalid_range"),
    ],
)
def test_bad_parameters_are_422(api: Api, clock: FixedClock, params: dict[str, str], code: str) -> None:
    now = clock.now()
    query = {"start": (now - timedelta(days=1)).isoformat(), "end": now.isoformat(), **params}
    r = api.get("/reports/acquisition", params=query)
    assert r.status_code == 422 and r.json() == {"code": code, "message": r.json()["message"]}, r.text
