"""A template that something will still send cannot be deleted; a 409 names what uses it."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.journeys.conftest import journey
from tests.messaging.conftest import email_template


def sends(template_id: int) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "trigger": {"type": "event", "event": "Signed Up"},
        "start": "mail",
        "nodes": {"mail": {"type": "send", "channel": "email", "template_id": template_id, "next": None}},
    }


def refused(api: Api, template_id: int) -> str:
    r = api.delete(f"/templates/{template_id}")
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "template_in_use"
    return str(r.json()["message"])


def test_a_template_nothing_uses_is_deleted(api: Api) -> None:
    tid = email_template(api)
    assert api.delete(f"/templates/{tid}").status_code == 204
    assert api.get(f"/templates/{tid}").status_code == 404


def test_a_journey_draft_and_its_live_version_hold_the_template(api: Api) -> None:
    old, new = email_template(api, name="old"), email_template(api, name="new")
    jid = journey(api, sends(old), name="Welcome", publish=False)
    assert 'journey "Welcome" (draft)' in refused(api, old)

    assert api.post(f"/journeys/{jid}/publish").status_code == 200
    assert api.patch(f"/journeys/{jid}", {"definition": sends(new)}).status_code == 200
    # the draft moved on, but version 1 is live and still sends it
    message = refused(api, old)
    assert 'journey "Welcome" (version 1)' in message and "draft" not in message
    assert 'journey "Welcome" (draft)' in refused(api, new)

    assert api.post(f"/journeys/{jid}/archive").status_code == 200
    # archived with nobody in it: nothing will send either
    assert api.delete(f"/templates/{old}").status_code == 204
    assert api.delete(f"/templates/{new}").status_code == 204


def test_a_broadcast_variant_holds_the_template_until_the_broadcast_is_cancelled(api: Api) -> None:
    a, b = email_template(api, name="a"), email_template(api, name="b")
    segment = api.post(
        "/segments", {"name": "all", "definition": {"root": {"type": "all", "conditions": []}}}
    )
    assert segment.status_code == 201, segment.text
    r = api.post("/broadcasts", {
        "name": "Back to school", "segment_id": segment.json()["id"], "channel": "email",
        "experiment": {"variants": [{"name": "A", "template_id": a, "weight": 1},
                                    {"name": "B", "template_id": b, "weight": 1}], "metric": "open"},
    })  # fmt: skip
    assert r.status_code == 201, r.text
    assert 'broadcast "Back to school"' in refused(api, b)

    assert api.post(f"/broadcasts/{r.json()['id']}/cancel").status_code == 200
    assert api.delete(f"/templates/{b}").status_code == 204
    assert api.get(f"/broadcasts/{r.json()['id']}").status_code == 200
