"""Explain and preview as of an earlier instant, with the values that decided each condition
and the names of the segments they mention."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from kairos.clock import FixedClock, isoformat_z
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.segments.operators import OPERATORS
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import T0, Api

VIEWED = "Viewed Product"
#: before the as_of instant, then after it
AS_OF = T0 - timedelta(days=2)


def send(engine: Engine, ws: int, now: datetime, *messages: dict[str, Any]) -> None:
    """Messages received ``now``, each at its own ``timestamp`` (history arriving late)."""
    parsed = [parse_message(m, None, now) for m in messages]
    with engine.begin() as conn:
        ingest(conn, ws, parsed, now)


def viewed(user: str, days_ago: float, price: float = 10) -> dict[str, Any]:
    at = isoformat_z(T0 - timedelta(days=days_ago))
    return {"type": "track", "userId": user, "event": VIEWED, "properties": {"price": price}, "timestamp": at}


def views(engine: Engine, ws: int) -> None:
    """ann: 4 views, 3 of them before AS_OF, and plan "pro"; bob: 3 views, all after AS_OF."""
    send(
        engine, ws, T0, *(viewed("ann", d) for d in (6, 4, 3, 1)), *(viewed("bob", d) for d in (1.5, 1, 0.5))
    )
    send(engine, ws, T0, {"type": "identify", "userId": "ann", "traits": {"plan": "pro"}})


def ids(api: Api) -> dict[str, int]:
    everyone = {"schema_version": 1, "root": {"type": "all", "conditions": []}}
    sample = api.post("/segments/preview", {"definition": everyone}).json()["sample"]
    return {c["external_id"]: c["id"] for c in sample}


def performed(count: int, window: dict[str, Any]) -> dict[str, Any]:
    return {"type": "performed", "event": VIEWED, "count": {"op": ">=", "value": count}, "window": window}


def label(operator: str) -> str:
    return OPERATORS[operator].label


LAST_7_DAYS = {"last": {"amount": 7, "unit": "days"}}
EVER: dict[str, Any] = {}


def test_explain_as_of_counts_only_what_happened_until_then(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    views(engine, workspace.id)
    assert api.post("/attributes", {"name": "plan", "type": "string"}).status_code == 201
    definition = {"schema_version": 1, "root": {"type": "all", "conditions": [
        performed(4, LAST_7_DAYS),
        performed(4, EVER),
        {"type": "aggregate", "event": VIEWED, "property": "price", "function": "sum",
         "operator": "gte", "value": 40, "window": EVER},
        {"type": "last_performed", "event": VIEWED, "operator": "within_last", "value": {"amount": 2, "unit": "days"}},
        {"type": "attribute", "attribute": "plan", "operator": "eq", "value": "pro"},
    ]}}  # fmt: skip
    seg = api.post("/segments", {"name": "Keen viewers", "definition": definition}).json()
    ann = ids(api)["ann"]

    now = api.get(f"/segments/{seg['id']}/explain/{ann}").json()
    assert (now["matches"], now["segment_name"], now["as_of"]) == (True, "Keen viewers", isoformat_z(T0))
    last_week, ever, spent, last, plan = now["root"]["conditions"]
    assert (last_week["actual"], last_week["expected"]) == (4, "≥ 4")
    assert (last_week["window_start"], last_week["window_end"]) == (
        isoformat_z(T0 - timedelta(days=7)),
        isoformat_z(T0),
    )
    assert (
        last_week["text"]
        == "4 of ≥ 4 'Viewed Product' in the last 7 days (2026-02-23 12:00 → 2026-03-02 12:00)"
    )
    assert (ever["actual"], ever["window_start"], ever["window_end"]) == (4, None, None)
    assert (spent["actual"], spent["expected"], spent["holds"]) == (40, f"{label('gte')} 40", True)
    assert last["actual"] == isoformat_z(T0 - timedelta(days=1))
    eq = label("eq")
    assert (plan["actual"], plan["expected"]) == ("pro", f'{eq} "pro"')
    assert plan["text"] == f'plan is "pro" (condition: {eq} "pro")'

    past = api.get(f"/segments/{seg['id']}/explain/{ann}", params={"as_of": isoformat_z(AS_OF)}).json()
    assert (past["matches"], past["member"], past["as_of"]) == (False, False, isoformat_z(AS_OF))
    last_week, ever, spent, last, plan = past["root"]["conditions"]
    # the view a day ago is after as_of: neither the window nor "ever" counts it
    assert (last_week["actual"], last_week["holds"]) == (3, False)
    assert (last_week["window_start"], last_week["window_end"]) == (
        isoformat_z(AS_OF - timedelta(days=7)),
        isoformat_z(AS_OF),
    )
    assert (
        last_week["text"]
        == "3 of ≥ 4 'Viewed Product' in the last 7 days (2026-02-21 12:00 → 2026-02-28 12:00)"
    )
    assert (ever["actual"], ever["holds"], ever["window_end"]) == (3, False, isoformat_z(AS_OF))
    assert ever["text"] == "3 of ≥ 4 'Viewed Product' before 2026-02-28 12:00"
    assert (spent["actual"], spent["holds"]) == (30, False)
    # the last view before as_of was the day before it
    assert (last["actual"], last["holds"]) == (isoformat_z(T0 - timedelta(days=3)), True)
    assert plan["holds"] is True  # profile values are today's


def test_preview_counts_as_of(api: Api, engine: Engine, workspace: CreatedWorkspace) -> None:
    views(engine, workspace.id)
    definition = {"schema_version": 1, "root": performed(3, EVER)}
    now = api.post("/segments/preview", {"definition": definition}).json()
    assert (now["count"], now["as_of"]) == (2, isoformat_z(T0))
    past = api.post("/segments/preview", {"definition": definition, "as_of": isoformat_z(AS_OF)}).json()
    assert (past["count"], [c["external_id"] for c in past["sample"]], past["as_of"]) == (
        1,
        ["ann"],
        isoformat_z(AS_OF),
    )
    # a naive instant is UTC; a window of the last days ends at as_of
    recent = {"schema_version": 1, "root": performed(1, {"last": {"amount": 1, "unit": "days"}})}
    naive = (T0 - timedelta(days=4.5)).replace(tzinfo=None).isoformat()
    r = api.post("/segments/preview", {"definition": recent, "as_of": naive}).json()
    assert (r["count"], r["as_of"]) == (0, isoformat_z(T0 - timedelta(days=4.5)))
    r = api.post(
        "/segments/preview", {"definition": recent, "as_of": isoformat_z(T0 - timedelta(days=3.5))}
    ).json()
    assert [c["external_id"] for c in r["sample"]] == ["ann"]


def test_as_of_in_the_future_is_refused(api: Api, engine: Engine, workspace: CreatedWorkspace) -> None:
    views(engine, workspace.id)
    definition = {"schema_version": 1, "root": performed(1, EVER)}
    seg = api.post("/segments", {"name": "Viewers", "definition": definition}).json()
    later = isoformat_z(T0 + timedelta(minutes=1))
    r = api.post("/segments/preview", {"definition": definition, "as_of": later})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_as_of")
    assert "as_of" in r.json()["message"]
    r = api.get(f"/segments/{seg['id']}/explain/{ids(api)['ann']}", params={"as_of": later})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_as_of")
    r = api.get(f"/segments/{seg['id']}/explain/{ids(api)['ann']}", params={"as_of": "yesterday"})
    assert r.status_code == 422
    for out_of_range in ("1969-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"):
        r = api.post("/segments/preview", {"definition": definition, "as_of": out_of_range})
        assert (r.status_code, r.json()["code"]) == (422, "invalid_as_of"), out_of_range
    assert (
        api.post("/segments/preview", {"definition": definition, "as_of": isoformat_z(T0)}).json()["count"]
        == 2
    )


def test_segment_names_next_to_ids(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    views(engine, workspace.id)
    viewers = api.post("/segments", {"name": "Viewers", "definition": {"root": performed(4, EVER)}}).json()
    Worker(engine, clock).run_once()
    built_on = {"root": {"type": "all", "conditions": [
        {"type": "segment", "segment_id": viewers["id"]},
        {"type": "not", "condition": {"type": "tag", "tag": "churned"}},
    ]}}  # fmt: skip
    seg = api.post("/segments", {"name": "Viewers still with us", "definition": built_on}).json()
    people = ids(api)

    ann = api.get(f"/segments/{seg['id']}/explain/{people['ann']}").json()
    assert ann["segment_name"] == "Viewers still with us"
    member_of, not_churned = ann["root"]["conditions"]
    assert (member_of["segment_id"], member_of["segment_name"], member_of["actual"]) == (
        viewers["id"],
        "Viewers",
        True,
    )
    assert member_of["text"] == f"is a member of segment {viewers['id']} 'Viewers' (its stored members, now)"
    assert (not_churned["condition"]["actual"], not_churned["condition"]["text"]) == (
        False,
        "does not have the tag 'churned'",
    )
    bob = api.get(f"/segments/{seg['id']}/explain/{people['bob']}").json()
    assert (bob["root"]["conditions"][0]["actual"], bob["root"]["text"]) == (
        False,
        "1 of 2 conditions hold (all needed)",
    )

    preview = api.post("/segments/preview", {"definition": built_on}).json()
    assert preview["segments"] == [{"id": viewers["id"], "name": "Viewers"}]
    assert preview["count"] == 1


def test_explain_shows_built_in_fields_and_computed_traits(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    views(engine, workspace.id)
    trait = {"function": "count", "event": VIEWED}
    assert api.post("/computed-traits", {"name": "views", "definition": trait}).status_code == 201
    Worker(engine, clock).run_once()
    definition = {"root": {"type": "all", "conditions": [
        {"type": "attribute", "attribute": "computed.views", "operator": "gte", "value": 4},
        {"type": "attribute", "attribute": "created_at", "operator": "before", "value": isoformat_z(T0)},
        {"type": "attribute", "attribute": "email", "operator": "is_set"},
    ]}}  # fmt: skip
    seg = api.post("/segments", {"name": "Counted", "definition": definition}).json()
    people = ids(api)
    views_, created, email = api.get(f"/segments/{seg['id']}/explain/{people['ann']}").json()["root"][
        "conditions"
    ]
    assert (views_["actual"], views_["holds"]) == (4, True)
    assert (created["actual"], created["holds"]) == (isoformat_z(T0), False)
    assert (email["actual"], email["expected"], email["text"]) == (
        None,
        label("is_set"),
        f"email is not set (condition: {label('is_set')})",
    )
    assert (
        api.get(f"/segments/{seg['id']}/explain/{people['bob']}").json()["root"]["conditions"][0]["actual"]
        == 3
    )


def test_relative_date_conditions_read_with_their_values(
    api: Api, engine: Engine, workspace: CreatedWorkspace
) -> None:
    views(engine, workspace.id)
    definition = {"root": {"type": "any", "conditions": [
        {"type": "attribute", "attribute": "created_at", "operator": "more_than_ago",
         "value": {"amount": 30, "unit": "days"}},
        {"type": "attribute", "attribute": "created_at", "operator": "between_ago",
         "value": [{"amount": 1, "unit": "weeks"}, {"amount": 2, "unit": "months"}]},
    ]}}  # fmt: skip
    seg = api.post("/segments", {"name": "Old hands", "definition": definition}).json()
    more, between = api.get(f"/segments/{seg['id']}/explain/{ids(api)['ann']}").json()["root"]["conditions"]
    assert more["expected"] == "is more than 30 days ago"
    assert between["expected"] == "is between 1 weeks and 2 months ago"
