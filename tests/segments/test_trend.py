"""A segment's membership trend: members at the end of each day, entries and exits during it,
read back from the entry and exit log — what the segment list's sparkline and a marketer's
"how is this audience growing" rely on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kairos.clock import FixedClock
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.messaging.conftest import make_contact


def _list(api: Api, name: str) -> int:
    r = api.post("/segments", {"name": name, "kind": "static"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_members_entries_and_exits_per_day(api: Api, workspace: Any, clock: FixedClock) -> None:
    ids = [make_contact(api, email=f"p{i}@example.com") for i in range(5)]
    vip, other = _list(api, "VIP"), _list(api, "Other")
    start = clock.now().date()
    assert api.post(f"/segments/{vip}/members", {"contact_ids": ids[:3]}).json() == {"added": 3}
    clock.advance(timedelta(days=1))
    assert api.post(f"/segments/{vip}/members", {"contact_ids": ids[3:]}).json() == {"added": 2}
    assert api.delete(f"/segments/{vip}/members/{ids[0]}").status_code == 204
    clock.advance(timedelta(days=2))  # a quiet day, then today
    assert api.post(f"/segments/{other}/members", {"contact_ids": ids[:1]}).json() == {"added": 1}

    r = api.get("/segments/trends", params={"days": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["days"] == [(start + timedelta(days=i - 1)).isoformat() for i in range(5)]
    by_id = {s["segment_id"]: s for s in body["segments"]}
    assert by_id[vip] == {
        "segment_id": vip,
        "members": [0, 3, 4, 4, 4],
        "entered": [0, 3, 2, 0, 0],
        "exited": [0, 0, 1, 0, 0],
    }
    assert by_id[other]["members"] == [0, 0, 0, 0, 1]
    assert api.get(f"/segments/{vip}").json()["member_count"] == by_id[vip]["members"][-1]

    only = api.get("/segments/trends", params=[("days", "2"), ("segment_id", str(other))]).json()
    assert [s["segment_id"] for s in only["segments"]] == [other]
    assert only["segments"][0]["members"] == [0, 1]


def test_another_workspaces_segments_are_not_shown(api: Api, other_workspace: CreatedWorkspace) -> None:
    theirs = _list(Api(api.http, other_workspace.api_key), "Theirs")
    mine = _list(api, "Mine")
    body = api.get("/segments/trends", params=[("segment_id", str(theirs)), ("segment_id", str(mine))]).json()
    assert [s["segment_id"] for s in body["segments"]] == [mine]


def test_the_window_is_bounded(api: Api, workspace: Any) -> None:
    for days in ("0", "401"):
        r = api.get("/segments/trends", params={"days": days})
        assert r.status_code == 422
        assert r.json()["code"] == "validation_error"
        assert "days" in r.json()["message"]
