"""The workspace's own settings (GET/PATCH /api/v1/workspace): name, time zone, default
country and currency — validated with precise codes, changed by admins only, audited; the
time zone kept once and shared with the messaging policy; the currency the default of new
campaigns and of reports; the channel provider schemas and write-only secrets."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from kairos.clock import FixedClock
from kairos.config import Settings
from kairos.db.engine import make_engine
from kairos.db.migrate import upgrade
from kairos.worker.loop import Worker, build_dispatcher
from kairos.workspaces.service import CreatedWorkspace
from kairos.workspaces.tables import workspace as workspace_table
from tests.api.test_console_auth import Browser, user
from tests.conftest import Api

SIGNING = "whsec_czNjcjN0LXZhbHVlLW9mLXRoaXJ0eS10d28tYnl0ZXM="


def test_everyone_reads_the_workspace_and_an_admin_changes_it(
    api: Api, client: TestClient, workspace: CreatedWorkspace
) -> None:
    r = api.get("/workspace")
    assert r.status_code == 200, r.text
    first = r.json()
    assert {k: first[k] for k in ("id", "name", "time_zone", "default_country", "currency", "sandbox")} == {
        "id": workspace.id, "name": "Acme", "time_zone": "UTC", "default_country": None, "currency": None,
        "sandbox": False,
    }  # fmt: skip

    change = {
        "name": "  Acme China ",
        "time_zone": "Asia/Shanghai",
        "default_country": "cn",
        "currency": "cny",
    }
    r = api.patch("/workspace", change)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("name", "time_zone", "default_country", "currency")} == {
        "name": "Acme China", "time_zone": "Asia/Shanghai", "default_country": "CN", "currency": "CNY",
    }  # fmt: skip
    assert api.get("/workspace").json() == r.json()

    # only what is given changes; null clears the country and the currency
    r = api.patch("/workspace", {"default_country": None, "currency": None})
    assert (r.json()["name"], r.json()["time_zone"], r.json()["default_country"], r.json()["currency"]) == (
        "Acme China", "Asia/Shanghai", None, None,
    )  # fmt: skip

    for role in ("marketer", "analyst"):
        key = api.post("/keys", {"name": f"{role} key", "role": role}).json()["key"]
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/api/v1/workspace", headers=headers).json()["name"] == "Acme China"
        refused = client.patch("/api/v1/workspace", json={"name": "Mine"}, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert api.get("/workspace").json()["name"] == "Acme China"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"time_zone": "Mars/Olympus"}, "invalid_timezone"),
        ({"time_zone": "../../etc/passwd"}, "invalid_timezone"),
        ({"time_zone": ""}, "invalid_timezone"),
        ({"time_zone": None}, "invalid_timezone"),
        ({"default_country": "XX"}, "invalid_country"),
        ({"default_country": "FRA"}, "invalid_country"),
        ({"default_country": "EU"}, "invalid_country"),
        ({"currency": "EURO"}, "invalid_currency"),
        ({"currency": "ABC"}, "invalid_currency"),
        ({"name": "   "}, "invalid_name"),
        ({"name": None}, "invalid_name"),
        ({"name": "x" * 201}, "invalid_name"),
        ({"locale": "fr"}, "validation_error"),
    ],
)
def test_a_bad_setting_is_refused_with_its_code(api: Api, change: dict[str, Any], code: str) -> None:
    r = api.patch("/workspace", {"currency": "EUR", **change})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    field = next(iter(change))
    if code != "validation_error":
        assert field in r.json()["message"]
    assert api.get("/workspace").json()["currency"] is None  # nothing of a refused change is kept


def test_the_time_zone_is_kept_once_and_the_messaging_policy_reads_it(api: Api, engine: Engine) -> None:
    assert api.get("/messaging/policy").json()["timezone"] == "UTC"
    assert api.patch("/workspace", {"time_zone": "Europe/Paris"}).status_code == 200
    assert api.get("/messaging/policy").json()["timezone"] == "Europe/Paris"

    # a policy PUT without a zone keeps the workspace's; one with a zone sets it
    caps = {"frequency_caps": [{"limit": 2, "days": 7}], "quiet_hours": {"start": "21:00", "end": "09:00"}}
    r = api.put("/messaging/policy", caps)
    assert r.status_code == 200, r.text
    assert r.json()["timezone"] == "Europe/Paris" and r.json()["frequency_caps"][0]["limit"] == 2
    r = api.put("/messaging/policy", {**caps, "timezone": "America/New_York"})
    assert r.json()["timezone"] == "America/New_York"
    assert api.get("/workspace").json()["time_zone"] == "America/New_York"
    bad = api.put("/messaging/policy", {**caps, "timezone": "Mars/Olympus"})
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")

    with engine.connect() as conn:
        settings = conn.execute(select(workspace_table.c.settings)).scalar_one()
    assert settings["time_zone"] == "America/New_York"
    assert "timezone" not in settings["messaging_policy"]  # one place only
    # the caps survive a change of the workspace's settings
    assert api.patch("/workspace", {"name": "Acme US"}).status_code == 200
    assert api.get("/messaging/policy").json()["frequency_caps"] == [
        {"channel": None, "limit": 2, "days": 7.0}
    ]


def test_the_session_names_each_workspace_time_zone(
    api: Api, client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    user(engine, clock, workspace.id, "ann@example.com", "analyst")
    assert api.patch("/workspace", {"time_zone": "Asia/Tokyo"}).status_code == 200
    browser = Browser(client)
    [member] = browser.sign_in("ann@example.com").json()["workspaces"]
    assert (member["id"], member["time_zone"]) == (workspace.id, "Asia/Tokyo")
    assert browser.call("GET", "/session").json()["workspaces"][0]["time_zone"] == "Asia/Tokyo"


def test_a_new_default_country_applies_at_once(api: Api) -> None:
    assert (
        api.post("/contacts", {"external_id": "a", "phone": "06 12 34 56 78"}).json()["code"]
        == "invalid_phone"
    )
    assert api.patch("/workspace", {"default_country": "FR"}).status_code == 200
    r = api.post("/contacts", {"external_id": "a", "phone": "06 12 34 56 78"})
    assert r.status_code == 201, r.text
    assert r.json()["phone"] == "+33612345678"


def test_changes_to_the_workspace_and_the_policy_are_audited(
    api: Api, client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    uid = user(engine, clock, workspace.id, "ann@example.com", "admin")
    browser = Browser(client)
    browser.sign_in("ann@example.com")
    assert (
        browser.call("PATCH", "/workspace", {"time_zone": "Asia/Shanghai", "currency": "CNY"}).status_code
        == 200
    )
    quiet = {"quiet_hours": {"start": "22:00", "end": "08:00"}}
    assert browser.call("PUT", "/messaging/policy", quiet).status_code == 200
    hook = browser.call("POST", "/channels", {"name": "crm", "provider": "webhook",
                                              "secrets": {"signing_secret": SIGNING}}).json()  # fmt: skip
    revealed = browser.call("GET", f"/channels/{hook['id']}/signing-secret")
    assert revealed.json() == {"signing_secret": SIGNING}
    browser.call("GET", "/workspace")  # reads are not logged

    log = browser.call("GET", "/audit-log").json()["data"]
    assert [e["action"] for e in log] == [
        "GET /channels/{channel_id}/signing-secret", "POST /channels", "PUT /messaging/policy", "PATCH /workspace",
    ]  # fmt: skip
    reveal, _, policy, settings = log
    assert (settings["actor_id"], settings["object_type"], settings["object_id"]) == (uid, "workspace", None)
    assert settings["changes"] == {"time_zone": ["UTC", "Asia/Shanghai"], "currency": [None, "CNY"]}
    assert policy["object_type"] == "messaging"
    assert policy["changes"] == {"quiet_hours": [None, {"start": "22:00:00", "end": "08:00:00",
                                                        "channels": ["email", "sms", "push", "wechat"]}]}  # fmt: skip
    # who read the secret, and when; never the secret
    assert (reveal["object_type"], reveal["object_id"], reveal["changes"]) == (
        "channels",
        str(hook["id"]),
        None,
    )
    assert SIGNING not in str(log) and SIGNING[6:] not in str(log)


def test_the_workspace_currency_is_the_default_of_campaigns_and_reports(api: Api) -> None:
    before = api.post("/campaigns", {"name": "Before"}).json()
    assert before["currency"] is None
    assert api.get("/reports/dashboard").json()["currency"] is None

    assert api.patch("/workspace", {"currency": "EUR"}).status_code == 200
    assert api.post("/campaigns", {"name": "Spring"}).json()["currency"] == "EUR"
    assert api.post("/campaigns", {"name": "Tokyo", "currency": "JPY"}).json()["currency"] == "JPY"
    # reports: the campaign's currency, else the workspace's; ?currency= wins
    assert api.get("/reports/dashboard").json()["currency"] == "EUR"
    assert api.get(f"/reports/campaigns/{before['id']}").json()["currency"] == "EUR"

    # the exchange-rate table's base is the fallback only when the workspace has no currency
    rates = {"base": "USD", "rates": [{"currency": "EUR", "rate": 0.9, "valid_from": "2026-01-01"}]}
    assert api.put("/exchange-rates", rates).status_code == 200
    assert api.get("/reports/dashboard").json()["currency"] == "EUR"
    assert api.get("/reports/dashboard", params={"currency": "USD"}).json()["currency"] == "USD"
    assert api.patch("/workspace", {"currency": None}).status_code == 200
    assert api.get("/reports/dashboard").json()["currency"] == "USD"


def test_orders_without_a_currency_are_taken_in_the_workspace_currency(
    api: Api,
    client: TestClient,
    engine: Engine,
    clock: FixedClock,
    workspace: CreatedWorkspace,
    settings: Settings,
) -> None:
    """The dashboard in EUR, the workspace's currency: an order of 100 in no currency is 100
    EUR, one of 10 USD is 5 EUR through the table (1 USD = 0.5 EUR)."""
    assert api.patch("/workspace", {"currency": "EUR"}).status_code == 200
    rates = {"base": "USD", "rates": [{"currency": "EUR", "rate": 0.5, "valid_from": "2026-01-01"}]}
    assert api.put("/exchange-rates", rates).status_code == 200
    contact = api.post("/contacts", {"external_id": "buyer", "email": "buyer@example.com"}).json()
    assert api.post("/channels", {"name": "inbox", "provider": "inapp"}).status_code == 201
    sent = api.post("/messages", {"contact_id": contact["id"], "channel": "inapp", "transactional": False,
                                  "content": {"title": "Sale", "body": "Now"}})  # fmt: skip
    assert sent.status_code == 202, sent.text
    worker = Worker(engine, clock, dispatcher=build_dispatcher(settings, engine, clock))
    try:
        worker.run_once()
    finally:
        assert worker.dispatcher is not None
        worker.dispatcher.close()
    assert api.get(f"/messages/{sent.json()['id']}").json()["status"] == "sent"
    clock.advance(timedelta(hours=1))
    auth = {"Authorization": "Basic " + base64.b64encode(f"{workspace.write_key}:".encode()).decode()}
    for i, props in enumerate(({"revenue": 100}, {"revenue": 10, "currency": "USD"})):
        r = client.post("/v1/track", headers=auth, json={
            "userId": "buyer", "event": "Order Completed", "properties": props, "messageId": f"o{i}"})  # fmt: skip
        assert r.status_code == 200, r.text
    clock.advance(timedelta(hours=1))
    board = api.get("/reports/dashboard").json()
    assert board["currency"] == "EUR"
    assert board["totals"]["conversions"] == 2
    assert board["totals"]["revenue"] == pytest.approx(105.0)
    assert board["revenue_unconverted"] == {}


def test_channel_forms_come_from_the_provider_schemas_and_secrets_stay_write_only(api: Api) -> None:
    r = api.get("/channels/providers")
    assert r.status_code == 200, r.text
    providers = {p["name"]: p for p in r.json()["data"]}
    assert set(providers) == {"fcm", "inapp", "smtp", "twilio", "webhook", "wechat"}
    smtp = providers["smtp"]
    assert smtp["kind"] == "email" and smtp["verify"] is True
    assert {"host", "port", "security", "from_email"} <= set(smtp["settings_schema"]["properties"])
    assert set(smtp["settings_schema"]["required"]) == {"host", "from_email"}
    assert smtp["settings_schema"]["properties"]["security"]["enum"] == ["starttls", "ssl", "none"]
    assert set(smtp["secrets_schema"]["properties"]) == {"password"}
    assert set(providers["webhook"]["secrets_schema"]["properties"]) == {"signing_secret", "headers"}

    token = "Bearer s3cret-token-value"
    created = api.post("/channels", {"name": "crm", "provider": "webhook", "settings": {"headers": {"X-Tenant": "acme"}},
                                     "secrets": {"headers": {"Authorization": token}}})  # fmt: skip
    assert created.status_code == 201, created.text
    channel = created.json()
    assert channel["secrets_set"] == ["headers", "signing_secret"]
    for answer in (created.text, api.get("/channels").text, api.get(f"/channels/{channel['id']}").text):
        assert token not in answer and "s3cret" not in answer
    # a PATCH that leaves the secrets out keeps them
    r = api.patch(f"/channels/{channel['id']}", {"name": "crm2", "settings": {"timeout": 5}})
    assert r.json()["secrets_set"] == ["headers", "signing_secret"] and r.json()["settings"]["timeout"] == 5
    bad = api.post("/channels", {"name": "bad", "provider": "webhook",
                                 "secrets": {"headers": {"Bad Name": "x"}}})  # fmt: skip
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_channel_config")


def test_an_old_policy_time_zone_moves_to_the_workspace(tmp_path: Path) -> None:
    engine = make_engine(
        Settings(database_url=f"sqlite:///{tmp_path}/old.db", secret_key="x" * 12, _env_file=None)  # type: ignore[call-arg]
    )
    upgrade(engine, "0019")
    old = '{"default_country": "JP", "messaging_policy": {"timezone": "Asia/Tokyo", "frequency_caps": []}}'
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspace (id, name, settings, created_at, sandbox) "
                          "VALUES (1, 'Old', :s, 0, 0)"), {"s": old})  # fmt: skip
        conn.execute(text("INSERT INTO workspace (id, name, settings, created_at, sandbox) "
                          "VALUES (2, 'Plain', '{}', 0, 0)"))  # fmt: skip
    upgrade(engine)
    with engine.connect() as conn:
        docs = dict(conn.execute(select(workspace_table.c.id, workspace_table.c.settings)).all())
    engine.dispose()
    assert docs[1] == {
        "default_country": "JP",
        "time_zone": "Asia/Tokyo",
        "messaging_policy": {"frequency_caps": []},
    }
    assert docs[2] == {}
