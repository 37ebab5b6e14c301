"""What the console's Live view reads: per-node figures and totals of one version, the
enrollments at a node with their contacts, and who published each version."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kairos.clock import FixedClock
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.journeys.conftest import journey, track
from tests.messaging.conftest import email_template, make_contact


def definition(api: Api, wait_days: int = 1) -> dict[str, Any]:
    """Wait, send, wait three days; the goal is an order."""
    found = [t["id"] for t in api.get("/templates").json()["data"] if t["name"] == "welcome"]
    template_id = found[0] if found else email_template(api)
    return {
        "trigger": {"type": "api"},
        "goal": {"event": "Order Completed"},
        "start": "pause",
        "nodes": {
            "pause": {"type": "wait", "duration": {"amount": wait_days, "unit": "days"}, "next": "welcome"},
            "welcome": {"type": "send", "channel": "email", "template_id": template_id, "next": "cool"},
            "cool": {"type": "wait", "duration": {"amount": 3, "unit": "days"}, "next": None},
        },
    }


def enroll(api: Api, journey_id: int, contact_id: int) -> dict[str, Any]:
    r = api.post(f"/journeys/{journey_id}/enrollments", {"contact_id": contact_id})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_stats_per_version_with_totals(
    api: Api, workspace: CreatedWorkspace, worker: Worker, clock: FixedClock
) -> None:
    jid = journey(api, definition(api))
    ann = make_contact(api, email="ann@example.com", external_id="ann", first_name="Ann")
    bob = make_contact(api, email="bob@example.com", external_id="bob")
    cy = make_contact(api, email="cy@example.com", external_id="cy")
    for cid in (ann, bob, cy):
        enroll(api, jid, cid)
    worker.run_once()
    clock.advance(timedelta(days=1, minutes=1))
    worker.run_once()  # all three sent the email, now cooling down
    track(api, workspace.write_key, "ann", "Order Completed", revenue=10)
    worker.run_once()  # Ann converts
    removed = next(
        e for e in api.get(f"/journeys/{jid}/enrollments").json()["data"] if e["contact_id"] == bob
    )
    assert api.delete(f"/journeys/{jid}/enrollments/{removed['id']}").status_code == 204

    # version 2: a longer first wait; Dee enters it
    assert api.patch(f"/journeys/{jid}", {"definition": definition(api, wait_days=2)}).status_code == 200
    assert api.post(f"/journeys/{jid}/publish").status_code == 200
    dee = make_contact(api, email="dee@example.com", external_id="dee")
    enroll(api, jid, dee)
    worker.run_once()

    everything = api.get(f"/journeys/{jid}/stats").json()
    assert (everything["version"], everything["live_version"]) == (None, 2)
    assert everything["totals"] == {"entered": 4, "active": 2, "completed": 0, "converted": 1, "exited": 1}
    assert everything["nodes"]["pause"]["current"] == 1 and everything["nodes"]["pause"]["entered"] == 4
    assert everything["nodes"]["cool"] == {
        "entered": 3, "current": 1, "passed": 0, "exited": 1, "converted": 1,
        "outcomes": {"waiting": 3, "goal": 1, "removed": 1},
    }  # fmt: skip

    first = api.get(f"/journeys/{jid}/stats", params={"version": 1}).json()
    assert first["version"] == 1
    assert first["totals"] == {"entered": 3, "active": 1, "completed": 0, "converted": 1, "exited": 1}
    assert first["nodes"]["pause"] == {
        "entered": 3, "current": 0, "passed": 3, "exited": 0, "converted": 0,
        "outcomes": {"waiting": 3, "next": 3},
    }  # fmt: skip
    assert first["nodes"]["welcome"]["passed"] == 3

    live = api.get(f"/journeys/{jid}/stats", params={"version": 2}).json()
    assert live["totals"] == {"entered": 1, "active": 1, "completed": 0, "converted": 0, "exited": 0}
    assert set(live["nodes"]) == {"pause"}
    assert live["nodes"]["pause"]["current"] == 1

    r = api.get(f"/journeys/{jid}/stats", params={"version": 3})
    assert (r.status_code, r.json()["code"]) == (404, "version_not_found")
    assert api.get(f"/journeys/{jid}/stats", params={"version": 0}).status_code == 422
    assert api.get("/journeys/999999/stats").json()["code"] == "journey_not_found"


def test_enrollments_by_node_and_state_with_their_contacts(
    api: Api, workspace: CreatedWorkspace, worker: Worker, clock: FixedClock
) -> None:
    jid = journey(api, definition(api))
    ann = make_contact(api, email="ann@example.com", external_id="ann", first_name="Ann", last_name="Lee")
    others = [make_contact(api, email=f"c{i}@example.com", external_id=f"c{i}") for i in range(4)]
    for cid in (ann, *others):
        enroll(api, jid, cid)
    worker.run_once()
    clock.advance(timedelta(days=1, minutes=1))
    worker.run_once()
    track(api, workspace.write_key, "ann", "Order Completed")
    worker.run_once()

    def page(**params: Any) -> dict[str, Any]:
        r = api.get(f"/journeys/{jid}/enrollments", params=params)
        assert r.status_code == 200, r.text
        return dict(r.json())

    waiting = page(node="cool", enrollment_state="active")["data"]
    assert [e["contact_id"] for e in waiting] == others
    first = waiting[0]
    assert first["contact"] == {"id": others[0], "external_id": "c0", "email": "c0@example.com",
                                "phone": None, "first_name": None, "last_name": None}  # fmt: skip
    assert first["node"] == "cool" and first["phase"] == "wait"
    assert first["node_at"] is not None and first["resume_at"] is not None
    [converted] = page(node="cool", enrollment_state="converted")["data"]
    assert converted["contact"]["first_name"] == "Ann" and converted["contact"]["last_name"] == "Lee"
    assert page(node="pause")["data"] == []

    # cursor pages
    one = page(node="cool", limit=2)
    assert [e["contact_id"] for e in one["data"]] == [ann, others[0]] and one["next"]
    two = page(node="cool", limit=2, after=one["next"])
    assert [e["contact_id"] for e in two["data"]] == others[1:3]

    r = api.get(f"/journeys/{jid}/enrollments", params={"enrollment_state": "lost"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_state")
    assert api.get(f"/journeys/{jid}/enrollments", params={"node": "x" * 65}).status_code == 422
    # the contact's own list is unchanged: no contact object, but when it reached its node
    mine = api.get(f"/contacts/{ann}/enrollments").json()["data"][0]
    assert "contact" not in mine and mine["node_at"] is not None


def test_versions_name_who_published_them(api: Api, client: Any, worker: Worker) -> None:
    jid = journey(api, definition(api), publish=False)
    assert api.post(f"/journeys/{jid}/publish").status_code == 200
    assert api.post(f"/journeys/{jid}/publish").status_code == 200
    versions = api.get(f"/journeys/{jid}/versions").json()["data"]
    assert [v["number"] for v in versions] == [1, 2]
    # the API key that published, as the audit log names it
    assert all(v["published_by"] for v in versions)
    log = api.get("/audit-log", params={"object_type": "journeys", "object_id": str(jid)}).json()["data"]
    publishes = [e for e in log if e["action"] == "POST /journeys/{journey_id}/publish"]
    assert {e["actor_label"] for e in publishes} == {versions[0]["published_by"]}
