"""The report routes declare their answers (``api/report_schemas.py``) and lose nothing:
on a workspace with every kind of figure — a campaign's broadcast sent, opened, clicked and
bought from in three currencies (one without a rate), a revenue experiment with a holdout
while it tests and once judged, a journey of the campaign with a split experiment before
and after its decision, lifecycle moves, a funnel — each route's JSON is the analytics
function's own answer, key for key and value for value (a key the response model did not
declare would be missing from the route's; one it added would be extra). The CSV variants
still answer, and ``/openapi.json`` documents both.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic_core import to_jsonable_python
from sqlalchemy import Connection, Engine, select

from kairos.analytics import dashboard, lifecycle, reports
from kairos.campaigns.tables import broadcast_recipient
from kairos.clock import FixedClock
from kairos.contacts.tables import contact
from kairos.contacts.tags import add_tags
from kairos.journeys.tables import enrollment
from kairos.messaging.tracking import Outcome, record
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.analytics.test_reports import campaign, messages_by_contact, segment, send_broadcast, track
from tests.campaigns.test_experiments import identify, orders
from tests.conftest import Api
from tests.journeys.conftest import journey
from tests.journeys.test_split_experiments import enter, taken
from tests.messaging.conftest import SmtpServer, email_template, make_contact

Build = Callable[[Connection], dict[str, Any]]


def same(got: Any, want: Any, where: str = "$") -> None:
    """``got`` (the route's JSON) is ``want`` (the function's answer as JSON): the same keys
    at every level, the same values; a number may be written 1 or 1.0, nothing else differs
    in type (a bool is not a number)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), (where, got)
        assert sorted(got) == sorted(want), (where, "missing", sorted(set(want) - set(got)),
                                             "extra", sorted(set(got) - set(want)))  # fmt: skip
        for key in want:
            same(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (where, got, want)
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            same(g, w, f"{where}[{i}]")
    elif isinstance(want, bool) or want is None or isinstance(want, str):
        assert type(got) is type(want) and got == want, (where, got, want)
    else:
        assert isinstance(want, int | float), (where, want)
        assert isinstance(got, int | float) and not isinstance(got, bool) and got == want, (where, got, want)


class Answers:
    """Each route's answer against its analytics function's, on the same workspace and now."""

    def __init__(self, api: Api, engine: Engine, ws: CreatedWorkspace, clock: FixedClock) -> None:
        self.api, self.engine, self.ws, self.clock = api, engine, ws, clock
        self.compared: list[str] = []

    def call(self, path: str, params: dict[str, Any], body: Any) -> httpx.Response:
        if body is None:
            return self.api.get(path, params=params)
        auth = {"Authorization": f"Bearer {self.api.key}"}
        return self.api.http.post("/api/v1" + path, json=body, params=params, headers=auth)

    def check(self, path: str, params: dict[str, Any], build: Build, body: Any = None) -> dict[str, Any]:
        """The route's JSON is ``build``'s answer; its CSV still answers (but the dashboard's)."""
        r = self.call(path, params, body)
        assert r.status_code == 200, (path, params, r.text)
        assert r.headers["content-type"] == "application/json"
        with self.engine.connect() as conn:
            want = to_jsonable_python(build(conn))
        same(r.json(), want, f"{path} {params}")
        self.compared.append(path.split("/")[2])
        if path != "/reports/dashboard":
            csv = self.call(path, {**params, "format": "csv"}, body)
            assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv"), csv.text
        return dict(want)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def broadcast(self, bid: int, model: str = "last", currency: str | None = None) -> dict[str, Any]:
        now, ws = self.now, self.ws.id
        return self.check(
            f"/reports/broadcasts/{bid}",
            {"model": model, **({"currency": currency} if currency else {})},
            lambda c: reports.broadcast_report(c, ws, bid, now, model, currency),
        )

    def campaign(self, cid: int, model: str = "last", currency: str | None = None) -> dict[str, Any]:
        now, ws = self.now, self.ws.id
        return self.check(
            f"/reports/campaigns/{cid}",
            {"model": model, **({"currency": currency} if currency else {})},
            lambda c: reports.campaign_report(c, ws, cid, now, model, currency),
        )

    def journey(self, jid: int, model: str = "last") -> dict[str, Any]:
        now, ws = self.now, self.ws.id
        return self.check(
            f"/reports/journeys/{jid}",
            {"model": model},
            lambda c: reports.journey_report(c, ws, jid, now, model),
        )

    def timeseries(
        self, source: str, sid: int, start: datetime, end: datetime, metric: str | None = None,
        currency: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        now, ws = self.now, self.ws.id
        params = {"source": source, "id": sid, "start": start.isoformat(), "end": end.isoformat(),
                  **({"metric": metric} if metric else {}), **({"currency": currency} if currency else {})}  # fmt: skip
        return self.check(
            "/reports/timeseries", params,
            lambda c: reports.timeseries(c, ws, source=source, source_id=sid, start=start, end=end, now=now,
                                         metric=metric, currency=currency),
        )  # fmt: skip

    def funnel(self, steps: list[str], start: datetime, end: datetime, within_days: int) -> dict[str, Any]:
        ws = self.ws.id
        body = {
            "steps": steps,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "within_days": within_days,
        }
        return self.check(
            "/reports/funnel", {}, lambda c: reports.funnel(c, ws, steps, start, end, within_days), body=body
        )

    def lifecycle(self, start: datetime, end: datetime, interval: str) -> dict[str, Any]:
        now, ws = self.now, self.ws.id
        return self.check(
            "/reports/lifecycle",
            {"start": start.isoformat(), "end": end.isoformat(), "interval": interval},
            lambda c: lifecycle.lifecycle_report(c, ws, start, end, interval, now),
        )

    def dashboard(
        self, start: datetime | None = None, end: datetime | None = None, currency: str | None = None
    ) -> dict[str, Any]:
        now, ws = self.now, self.ws.id
        params = {k: v.isoformat() if isinstance(v, datetime) else v
                  for k, v in (("start", start), ("end", end), ("currency", currency)) if v is not None}  # fmt: skip
        return self.check(
            "/reports/dashboard", params, lambda c: dashboard.dashboard(c, ws, now, start, end, currency)
        )


def recipients(engine: Engine, bid: int) -> dict[str | None, list[tuple[int, str]]]:
    """A broadcast's recipients by variant: (message id or 0, user id)."""
    r = broadcast_recipient.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(r.variant, r.message_id, contact.c.external_id)
            .join(contact, contact.c.id == r.contact_id)
            .where(r.broadcast_id == bid)
        ).all()
    out: dict[str | None, list[tuple[int, str]]] = {}
    for variant, mid, user in rows:
        out.setdefault(variant, []).append((int(mid or 0), str(user)))
    return out


def test_every_report_route_answers_exactly_what_its_analytics_function_returns(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, clock: FixedClock,
    engine: Engine, workspace: CreatedWorkspace,
) -> None:  # fmt: skip
    answers = Answers(api, engine, workspace, clock)
    day0 = datetime(2026, 3, 1, tzinfo=UTC)
    rates = {"base": "EUR", "rates": [{"currency": "USD", "rate": 1.1, "valid_from": "2026-01-01"}]}
    assert api.put("/exchange-rates", rates).status_code == 200

    # an empty workspace first: empty lists and maps, nulls
    answers.dashboard()
    answers.lifecycle(day0, day0 + timedelta(days=3), "day")

    # a campaign's broadcast to 10 contacts with a lifecycle stage: opened (and by a machine),
    # clicked, unsubscribed from; orders in EUR (the campaign's), USD (a rate) and BRL (none)
    seg = segment(api, "spring")
    people = [make_contact(api, external_id=f"c{i}", email=f"c{i}@example.com", tags=["spring"],
                           lifecycle_stage="lead") for i in range(10)]  # fmt: skip
    worker.run_once()
    cid = campaign(api)  # EUR, email at 0.01, budget 5
    bid = send_broadcast(api, worker, cid, seg, email_template(api))
    sent = messages_by_contact(engine, bid)
    clock.advance(timedelta(hours=2))
    with engine.begin() as conn:
        record(conn, [Outcome(sent[c], "opened") for c in people[:6]], clock.now())
        record(conn, [Outcome(sent[people[6]], "opened", machine=True)], clock.now())
        record(conn, [Outcome(sent[c], "clicked") for c in people[:3]], clock.now())
        record(conn, [Outcome(sent[people[3]], "unsubscribed")], clock.now())
    assert api.patch(f"/contacts/{people[0]}", {"lifecycle_stage": "mql"}).status_code == 200
    assert api.patch(f"/contacts/{people[1]}", {"lifecycle_stage": "customer"}).status_code == 200
    assert api.patch(f"/contacts/{people[2]}", {"lifecycle_stage": None}).status_code == 200
    for i in range(5):
        track(api, workspace, f"c{i}", "Product Viewed")
    for i in range(3):
        track(api, workspace, f"c{i}", "Added to Cart")
    clock.advance(timedelta(days=1))
    track(api, workspace, "c0", "Order Completed", revenue=30)
    track(api, workspace, "c1", "Order Completed", total=12.5, currency="USD")
    track(api, workspace, "c2", "Order Completed", revenue=20, currency="BRL")
    worker.run_once()

    for model in ("last", "linear"):
        plain = answers.broadcast(bid, model)
        assert "by_variant" not in plain and "experiment" not in plain
    report = answers.campaign(cid)
    assert report["totals"]["revenue_unconverted"] == {"BRL": 20.0} and report["revenue_complete"] is False
    assert report["totals"]["open_rate"] == 0.6 and report["budget"]["remaining"] is not None
    answers.campaign(cid, "first", currency="USD")

    # a revenue experiment with a holdout, in the campaign: while it tests, then judged
    identify(api, workspace, [(f"s{i}", {"email": f"s{i}@example.com"}) for i in range(100)])
    with engine.begin() as conn:
        shoppers = list(conn.execute(select(contact.c.id).where(contact.c.external_id.like("s%"))).scalars())
        add_tags(conn, workspace.id, [(c, "shoppers") for c in shoppers], clock.now())
    shop = segment(api, "shoppers")
    worker.run_once()
    a = email_template(api, "a", subject="Spring sale")
    b = email_template(api, "b", subject="Spring sale: the premium picks")
    experiment = {"variants": [{"name": "A", "template_id": a, "weight": 1}, {"name": "B", "template_id": b, "weight": 1}],
                  "holdout_percent": 20, "test_percent": 50, "metric": "revenue", "window_hours": 4}  # fmt: skip
    r = api.post("/broadcasts", {"name": "premium", "channel": "email", "campaign_id": cid,
                                 "segment_id": shop, "experiment": experiment})  # fmt: skip
    assert r.status_code == 201, r.text
    xid = int(r.json()["id"])
    assert api.post(f"/broadcasts/{xid}/schedule").status_code == 200
    worker.run_once()
    testing = answers.broadcast(xid)
    assert testing["experiment"]["state"] == "testing" and testing["experiment"]["variants"] is None
    assert [row["variant"] for row in testing["by_variant"]] == ["A", "B", "holdout"]

    group = recipients(engine, xid)
    rng = random.Random(5)
    clock.advance(timedelta(hours=1))
    bought = [(user, "Order Completed", {"revenue": amount, **({"currency": "USD"} if i % 3 == 0 else {})})
              for v, amount, share in (("A", 20.0, 0.3), ("B", 60.0, 0.3), ("holdout", 20.0, 0.2))
              for i, (_, user) in enumerate(group[v]) if rng.random() < share]  # fmt: skip
    orders(api, workspace, bought)
    with engine.begin() as conn:
        record(conn, [Outcome(mid, "opened") for mid, _ in group["A"][:5]], clock.now())
    clock.advance(timedelta(hours=3, minutes=1))
    worker.run_once()  # judged: B wins, the rest gets it
    worker.run_once()
    judged = answers.broadcast(xid, "first")
    exp = judged["experiment"]
    assert exp["state"] == "decided" and exp["winner"] is not None and exp["judged_at"] is not None
    assert {"sd", "sum_squares", "revenue"} <= set(exp["variants"]["A"])
    assert exp["lift"]["revenue_lift"] is not None and exp["lift"]["holdout"]["revenue"] > 0
    holdout = judged["by_variant"][-1]
    assert holdout["variant"] == "holdout" and holdout["sent"] == 0 and holdout["converted"] > 0
    answers.broadcast(xid, "linear", currency="USD")

    # a journey of the campaign: a split experiment on conversions with a holdout branch,
    # emails, a lifecycle stage set by the journey; undecided, then decided
    jid = journey(api, {
        "trigger": {"type": "api"}, "goal": {"event": "Order Completed"}, "start": "split",
        "nodes": {
            "split": {"type": "split", "branches": [{"name": "A", "weight": 40, "next": "a"},
                                                    {"name": "B", "weight": 40, "next": "b"},
                                                    {"name": "holdout", "weight": 20, "next": None}],
                      "experiment": {"metric": "conversion", "window_hours": 24}},
            "a": {"type": "send", "channel": "email", "template_id": a, "next": "engaged"},
            "b": {"type": "send", "channel": "email", "template_id": b, "next": "engaged"},
            "engaged": {"type": "update_contact", "lifecycle_stage": "engaged", "next": None},
        },
    }, campaign_id=cid)  # fmt: skip
    wave = enter(engine, workspace, jid, shoppers[:60], clock)
    worker.run_once()
    worker.run_once()
    branch = taken(engine, wave)
    undecided = answers.journey(jid)
    [split] = undecided["experiments"]
    assert split["decided"] is False and "leader" in split and "decided_on" not in split
    assert undecided["by_node"] and undecided["enrollments"]["entered"] == 60
    with engine.connect() as conn:  # enrollment → the contact's user id
        user = dict(conn.execute(select(enrollment.c.id, contact.c.external_id)
                                 .join(contact, contact.c.id == enrollment.c.contact_id)).all())  # fmt: skip
    clock.advance(timedelta(hours=2))
    orders(api, workspace, [(user[e], "Order Completed", {"revenue": 15})
                            for e in wave if branch[e] == "B" or (branch[e] == "A" and e % 4 == 0)])  # fmt: skip
    clock.advance(timedelta(hours=23))
    enter(engine, workspace, jid, shoppers[60:80], clock)
    worker.run_once()
    worker.run_once()
    decided = answers.journey(jid, "linear")
    [split] = decided["experiments"]
    assert split["decided"] is True and split["decided_by"] == "window" and split["decided_on"]
    assert "leader" not in split and split["lift"]["on"] == "conversion_rate"

    # the other reports over those days
    start, end = day0, day0 + timedelta(days=4)
    series = answers.timeseries("campaign", cid, start, end)
    assert series["revenue_unconverted"] == {"BRL": 20.0}
    assert set(series["days"][0]) == {"date", *reports.METRICS}
    only = answers.timeseries("broadcast", xid, start, end, metric="revenue", currency="USD")
    assert set(only["days"][0]) == {"date", "revenue"}
    answers.timeseries("journey", jid, start, end, metric="opened")
    steps = answers.funnel(["Product Viewed", "Added to Cart", "Order Completed"], start, end, 7)
    assert [s["contacts"] for s in steps["steps"]] == [5, 3, 3]
    for interval in ("day", "week", "month"):
        moves = answers.lifecycle(start, end, interval)
    assert {(t["from"], t["to"]) for t in moves["transitions"]} >= {
        (None, "lead"),
        ("lead", None),
        ("lead", "mql"),
    }
    assert None in [c["stage"] for c in moves["current"]]
    board = answers.dashboard()
    assert board["live_journeys"]["count"] == 1 and board["revenue_unconverted"] == {"BRL": 20.0}
    answers.dashboard(start, end, currency="USD")
    assert set(answers.compared) == {"broadcasts", "campaigns", "journeys", "timeseries", "funnel",
                                     "lifecycle", "dashboard"}  # fmt: skip


def test_openapi_types_every_report_answer_and_documents_the_csv(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    routes = {path: ops for path, ops in spec["paths"].items() if path.startswith("/api/v1/reports/")}
    assert len(routes) == 9
    for path, ops in routes.items():
        for method, op in ops.items():
            content = op["responses"]["200"]["content"]
            ref = content["application/json"]["schema"]["$ref"]
            assert ref.startswith("#/components/schemas/"), (path, method)
            if not path.endswith("/dashboard"):
                assert content["text/csv"] == {"schema": {"type": "string"}}, (path, method)
    schemas = spec["components"]["schemas"]
    # keys absent from some answers are optional, never null
    assert "by_variant" not in schemas["BroadcastReport"]["required"]
    assert schemas["BroadcastReport"]["properties"]["by_variant"]["type"] == "array"
    assert schemas["TimeseriesDay"]["required"] == ["date"]
    assert "from" in schemas["LifecycleTransition"]["properties"]


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01T00:00:00+01:00", "0001-01-02T00:00:00Z"), ("9999-12-30T00:00:00Z", "9999-12-31T12:00:00Z")],
)
def test_a_range_at_the_ends_of_the_calendar_is_422(api: Api, start: str, end: str) -> None:
    """A day before year 1 in UTC, or none after the last: refused, not a server error."""
    calls = [
        api.get("/reports/timeseries", params={"source": "campaign", "id": 1, "start": start, "end": end}),
        api.get("/reports/lifecycle", params={"start": start, "end": end}),
        api.get("/reports/dashboard", params={"start": start, "end": end}),
        api.post("/reports/funnel", {"steps": ["a", "b"], "start": start, "end": end}),
    ]
    assert [(r.status_code, r.json()["code"]) for r in calls] == [(422, "invalid_range")] * 4
