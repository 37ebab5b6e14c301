"""A hypothetical contact in a simulation can carry tags and static-list memberships, so a
marketer can see the branch a VIP or a list member takes without making a real contact."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from kairos.contacts.tables import contact
from kairos.worker.loop import Worker
from tests.conftest import Api
from tests.journeys.conftest import journey


def _branching(api: Api, condition: dict[str, Any]) -> int:
    return journey(api, {
        "trigger": {"type": "api"},
        "start": "check",
        "nodes": {
            "check": {"type": "condition", "condition": condition, "yes": "vip", "no": "regular"},
            "vip": {"type": "exit"},
            "regular": {"type": "exit"},
        },
    }, publish=False)  # fmt: skip


def _path(api: Api, jid: int, contact: dict[str, Any]) -> list[str]:
    r = api.post(f"/journeys/{jid}/simulate", {"contact": contact, "until": {"days": 1}})
    assert r.status_code == 200, r.text
    return [s["node"] for s in r.json()["path"]]


def test_a_hypothetical_contact_with_a_tag_takes_the_tagged_branch(
    api: Api, engine: Engine, worker: Worker
) -> None:
    vip = api.post(
        "/segments", {"name": "vips", "definition": {"root": {"type": "tag", "tag": "vip"}}}
    ).json()
    worker.run_once()  # the segment's first full refresh
    jid = _branching(api, {"type": "segment", "segment_id": vip["id"]})
    assert _path(api, jid, {"first_name": "Ann", "tags": ["vip"]}) == ["check", "vip"]
    assert _path(api, jid, {"first_name": "Bob"}) == ["check", "regular"]
    with engine.connect() as conn:  # nothing of the hypothetical contacts is left behind
        assert conn.execute(select(func.count()).select_from(contact)).scalar_one() == 0


def test_a_hypothetical_contact_on_a_static_list(api: Api) -> None:
    lst = api.post("/segments", {"name": "webinar attendees", "kind": "static"}).json()
    jid = _branching(api, {"type": "segment", "segment_id": lst["id"]})
    assert _path(api, jid, {"first_name": "Ann", "list_ids": [lst["id"]]}) == ["check", "vip"]
    assert _path(api, jid, {"first_name": "Bob"}) == ["check", "regular"]

    dynamic = api.post("/segments", {"name": "d", "definition": {"root": {"type": "tag", "tag": "x"}}}).json()
    r = api.post(f"/journeys/{jid}/simulate", {"contact": {"list_ids": [dynamic["id"]]}})
    assert r.status_code == 409 and r.json()["code"] == "segment_is_dynamic"
    r = api.post(f"/journeys/{jid}/simulate", {"contact": {"list_ids": [999_999]}})
    assert r.status_code == 404
