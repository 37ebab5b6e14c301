"""Revenue in several currencies: kept with its currency, converted with the workspace's
exchange-rate table at the rate of the order's date, and reported apart when there is no
rate — never added to another currency as is (issue 13)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kairos.clock import FixedClock
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.analytics.test_reports import segment, send_broadcast, track
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact


def usd_campaign(api: Api) -> int:
    r = api.post("/campaigns", {"name": "brasil", "goal": {"event": "Order Completed", "window_days": 7},
                                "costs": {"email": 0.01}, "budget": 5, "currency": "USD"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert api.post(f"/campaigns/{r.json()['id']}/launch").status_code == 200  # its broadcasts may go
    return int(r.json()["id"])


def test_revenue_is_converted_at_the_rate_of_the_order_date_or_reported_apart(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, clock: FixedClock,
    workspace: CreatedWorkspace,
) -> None:  # fmt: skip
    seg = segment(api, "br")
    for i in range(4):
        make_contact(api, external_id=f"c{i}", email=f"c{i}@example.com", tags=["br"])
    worker.run_once()
    cid = usd_campaign(api)
    bid = send_broadcast(api, worker, cid, seg, email_template(api))  # 2026-03-02
    clock.advance(timedelta(days=1))  # 2026-03-03
    track(api, workspace, "c0", "Order Completed", revenue=30)  # no currency: the campaign's (USD)
    track(api, workspace, "c1", "Order Completed", revenue=100, currency="BRL")
    clock.advance(timedelta(days=2))  # 2026-03-05
    track(api, workspace, "c2", "Order Completed", revenue=200, currency=" brl")
    track(api, workspace, "c3", "Order Completed", revenue=10, currency="EUR")
    worker.run_once()

    # no rates: only the USD order is revenue; BRL and EUR are listed apart, not added
    report = api.get(f"/reports/campaigns/{cid}").json()
    totals = report["totals"]
    assert (report["currency"], report["revenue_complete"]) == ("USD", False)
    assert (totals["converted"], totals["revenue"], totals["cost"]) == (4, 30, 0.04)
    assert totals["revenue_unconverted"] == {"BRL": 300, "EUR": 10}
    assert totals["roi"] == round((30 - 0.04) / 0.04, 4)
    assert report["by_channel"][0]["revenue_unconverted"] == {"BRL": 300, "EUR": 10}

    assert api.get("/exchange-rates").json() == {"base": None, "rates": []}
    rates = {"base": "USD", "rates": [
        {"currency": "BRL", "rate": 5.0, "valid_from": "2026-03-01"},
        {"currency": "BRL", "rate": 4.0, "valid_from": "2026-03-04"},
        {"currency": "BRL", "rate": 2.0, "valid_from": "2026-03-20"},  # later than every order
    ]}  # fmt: skip
    r = api.put("/exchange-rates", rates)
    assert r.status_code == 200, r.text
    assert r.json() == api.get("/exchange-rates").json() == rates

    # BRL at 5 on 2026-03-03 (100 → 20) and at 4 on 2026-03-05 (200 → 50); EUR still apart
    report = api.get(f"/reports/campaigns/{cid}").json()
    totals = report["totals"]
    assert (totals["revenue"], totals["revenue_unconverted"], report["revenue_complete"]) == (
        100, {"EUR": 10}, False)  # fmt: skip
    assert totals["roi"] == round((100 - 0.04) / 0.04, 4)
    b = api.get(f"/reports/broadcasts/{bid}", params={"model": "linear"}).json()
    assert (b["currency"], b["totals"]["revenue"], b["totals"]["revenue_unconverted"]) == (
        "USD",
        100,
        {"EUR": 10},
    )

    series = api.get("/reports/timeseries", params={
        "source": "campaign", "id": cid, "start": "2026-03-02T00:00:00Z", "end": "2026-03-06T00:00:00Z"}).json()  # fmt: skip
    assert (series["currency"], series["revenue_unconverted"]) == ("USD", {"EUR": 10})
    assert {d["date"]: d["revenue"] for d in series["days"]} == {
        "2026-03-02": 0, "2026-03-03": 50, "2026-03-04": 0, "2026-03-05": 50}  # fmt: skip

    lines = api.get(f"/reports/campaigns/{cid}", params={"format": "csv"}).text.splitlines()
    assert lines[0].endswith(",conversion_rate,revenue_unconverted")
    assert lines[1].startswith("total,4,4,") and lines[1].endswith(",EUR 10.0")

    # in BRL: the USD order at 5 on its date, costs and budget at today's rate (4)
    brl = api.get(f"/reports/campaigns/{cid}", params={"currency": "brl"}).json()
    assert (brl["currency"], brl["totals"]["revenue"], brl["totals"]["cost"]) == ("BRL", 450, 0.16)
    assert brl["budget"] == {"budget": 20.0, "currency": "BRL", "used": 0.16, "remaining": 19.84}
    assert brl["totals"]["roi"] == round((450 - 0.16) / 0.16, 4)

    # costs cannot be valued in a currency without a rate; codes are ISO 4217
    r = api.get(f"/reports/campaigns/{cid}", params={"currency": "JPY"})
    assert (r.status_code, r.json()["code"]) == (422, "no_exchange_rate")
    r = api.get(f"/reports/campaigns/{cid}", params={"currency": "ZZZ"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_currency")

    # PUT replaces the table: with EUR every order is converted (EUR → BRL through USD)
    rates["rates"].append({"currency": "EUR", "rate": 0.8, "valid_from": "2026-01-01"})
    assert api.put("/exchange-rates", rates).status_code == 200
    report = api.get(f"/reports/campaigns/{cid}").json()
    assert (report["totals"]["revenue"], report["totals"]["revenue_unconverted"]) == (112.5, {})
    assert report["revenue_complete"] is True
    brl = api.get(f"/reports/campaigns/{cid}", params={"currency": "BRL"}).json()
    assert (brl["totals"]["revenue"], brl["revenue_complete"]) == (500, True)


def test_exchange_rates_are_validated(api: Api) -> None:
    def put(body: dict[str, Any]) -> tuple[int, str | None]:
        r = api.put("/exchange-rates", body)
        return r.status_code, r.json().get("code")

    day = "2026-03-01"
    assert put({"base": "usd", "rates": []}) == (422, "invalid_currency")
    assert put({"base": "USD", "rates": [{"currency": "ZZZ", "rate": 1, "valid_from": day}]}) == (
        422, "invalid_currency")  # fmt: skip
    assert put({"base": "USD", "rates": [{"currency": "USD", "rate": 1, "valid_from": day}]}) == (
        422, "invalid_rate")  # fmt: skip
    assert put({"base": "USD", "rates": [{"currency": "BRL", "rate": 0, "valid_from": day}]})[0] == 422
    twice = [{"currency": "BRL", "rate": 5, "valid_from": day}] * 2
    assert put({"base": "USD", "rates": twice}) == (422, "duplicate_rate")
    assert api.get("/exchange-rates").json() == {"base": None, "rates": []}
    assert put({"base": "EUR", "rates": twice[:1]}) == (200, None)
    assert api.get("/exchange-rates").json()["base"] == "EUR"
