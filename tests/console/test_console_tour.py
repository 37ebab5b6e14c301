"""Every page of the console, in English and in Chinese, on a workspace with data: each page
shows its heading in the language chosen, passes an axe-core scan (no serious or critical
violation) and is photographed for the README (``make screenshots``)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Engine

from kairos.clock import SystemClock
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import LiveServer, settle
from tests.console.conftest import Console, make_user

#: (screenshot name, path or a function of the seeded ids, English heading, Chinese heading)
Page = tuple[str, str | Callable[[dict[str, Any]], str], str, str]

PAGES: list[Page] = [
    # the dashboard, the reports index, campaign, broadcast and funnel reports: in
    # test_console_analytics.py, on a campaign that was sent; settings pages but users, keys and
    # the audit log: test_console_settings.py; templates: test_console_content.py
    ("reports-journey", lambda ids: f"/reports/journeys/{ids['journey']}", "Journey: Welcome", "旅程\uff1aWelcome"),
    ("reports-timeseries", "/reports/timeseries", "Time series", "趋势分析"),
    ("reports-lifecycle", "/reports/lifecycle", "Lifecycle movement", "生命周期流转"),
    ("contacts", "/contacts", "Contacts", "联系人"),
    ("contact-profile", lambda ids: f"/contacts/{ids['contact']}", "Ann", "Ann"),
    ("segments", "/segments", "Segments", "细分"),
    ("segment", lambda ids: f"/segments/{ids['segment']}", "Product viewers", "Product viewers"),
    ("segment-new", "/segments/new", "New segment", "新建细分"),
    ("computed-traits", "/computed-traits", "Computed traits", "计算属性"),
    ("tag-rules", "/tag-rules", "Tag rules", "标签规则"),
    ("settings-users", "/settings/users", "Users and roles", "用户与角色"),
    ("settings-keys", "/settings/keys", "API keys", "API 密钥"),
    ("settings-audit-log", "/settings/audit-log", "Audit log", "审计日志"),
]


def _seed(server: LiveServer, ws: CreatedWorkspace, engine: Engine) -> dict[str, Any]:
    api = httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {ws.api_key}"})
    write = {"Authorization": "Basic " + base64.b64encode(f"{ws.write_key}:".encode()).decode()}

    def ok(r: httpx.Response) -> Any:
        assert r.status_code in (200, 201), r.text
        return r.json()

    ok(api.post("/attributes", json={"name": "plan", "type": "string", "label": "Plan"}))
    people = [("ann", "Ann", "Lee", "pro"), ("bo", "Bo", "Chen", "free"), ("cy", "Cy", "Wu", "pro")]
    ids = {}
    for user, first, last, plan in people:
        body = {"external_id": user, "email": f"{user}@example.com", "first_name": first, "last_name": last,
                "traits": {"plan": plan}}  # fmt: skip
        ids[user] = ok(api.post("/contacts", json=body))["id"]
    batch = [
        {"type": "track", "userId": user, "event": event, "messageId": f"{user}-{event}-{i}",
         "properties": {"product": "A", "revenue": 30.0} if event == "Order Completed" else {"product": "A"}}
        for user, events in (("ann", ["Product Viewed"] * 3 + ["Order Completed"]), ("bo", ["Product Viewed"]))
        for i, event in enumerate(events)
    ]  # fmt: skip
    assert httpx.post(server.url + "/v1/batch", json={"batch": batch}, headers=write).status_code == 200
    settle(engine)  # the server makes the events within milliseconds; do not race it
    ok(api.post(f"/contacts/{ids['ann']}/tags/vip"))
    segment = ok(api.post("/segments", json={"name": "Product viewers", "definition": {"root": {
        "type": "performed", "event": "Product Viewed", "count": {"op": ">=", "value": 1}}}}))  # fmt: skip
    listed = ok(api.post("/segments", json={"name": "Newsletter list", "kind": "static"}))
    ok(api.post(f"/segments/{listed['id']}/members", json={"contact_ids": [ids["bo"]]}))
    ok(api.post("/computed-traits", json={"name": "orders", "definition": {
        "function": "count", "event": "Order Completed"}}))  # fmt: skip
    ok(api.post("/tag-rules", json={"name": "viewers", "segment_id": segment["id"], "tag": "viewer"}))
    ok(api.post("/topics", json={"key": "news", "name": "Newsletter"}))
    ok(api.patch(f"/contacts/{ids['ann']}", json={"lifecycle_stage": "customer"}))
    journey = ok(api.post("/journeys", json={"name": "Welcome", "definition": {
        "trigger": {"type": "api"}, "start": "tag",
        "nodes": {"tag": {"type": "update_contact", "add_tags": ["welcomed"], "next": None}}}}))  # fmt: skip
    ok(api.post(f"/journeys/{journey['id']}/publish"))
    ok(api.post(f"/journeys/{journey['id']}/enrollments", json={"contact_id": ids["bo"]}))
    Worker(engine, SystemClock()).run_once()
    api.close()
    return {"contact": ids["ann"], "segment": segment["id"], "list": listed["id"], "journey": journey["id"]}


def test_every_page_in_english_and_chinese_passes_axe(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    make_user(engine, console_workspace.id, "tour@example.com", "admin", "Tara Admin")
    ids = _seed(live_server, console_workspace, engine)
    console.sign_in("tour@example.com")
    page = console.page
    failures: dict[str, list[dict[str, Any]]] = {}
    for lang, column in (("en", 2), ("zh", 3)):
        page.evaluate(f"localStorage.setItem('kairos.language', '{'zh-CN' if lang == 'zh' else 'en'}')")
        for entry in PAGES:
            name, where = entry[0], entry[1]
            heading = str(entry[column])
            path = where(ids) if callable(where) else where
            console.open(path).get_by_role("heading", name=heading, level=1).wait_for()
            assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
            found = console.axe()
            if found:
                failures[f"{name}.{lang}"] = found
            console.shot(f"{name}.{lang}")
    assert failures == {}
