"""GET /api/v1/journeys/schema: the JSON Schema the console's journey editor draws its
inspectors from, readable by every role."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kairos.journeys.definition import JourneyDefinition
from tests.conftest import Api


def test_the_schema_names_every_trigger_and_node_kind(api: Api) -> None:
    r = api.get("/journeys/schema")
    assert r.status_code == 200, r.text
    schema = r.json()
    assert schema == JourneyDefinition.model_json_schema(mode="validation")
    defs = schema["$defs"]
    triggers = set(schema["properties"]["trigger"]["discriminator"]["mapping"])
    assert triggers == {
        "event", "segment_entered", "segment_exited", "tag_added", "tag_removed",
        "attribute_changed", "date", "schedule", "score_crossed", "predicted_crossed", "api",
    }  # fmt: skip
    nodes = set(schema["properties"]["nodes"]["additionalProperties"]["discriminator"]["mapping"])
    assert nodes == {
        "wait", "wait_until", "wait_until_date", "wait_for_event", "condition", "branch", "split",
        "send", "update_contact", "webhook", "notify_sales", "assign_offer", "task", "exit",
    }  # fmt: skip
    # what the inspectors read: required fields, enums, limits, descriptions
    assert defs["SendNode"]["required"] == ["channel", "template_id"]
    assert "sms" in defs["SendNode"]["properties"]["channel"]["enum"]
    assert defs["Duration"]["properties"]["unit"]["enum"][0] == "seconds"
    assert "holdout" in defs["SplitBranch"]["properties"]["next"]["description"]


def test_an_analyst_reads_it_and_an_anonymous_caller_does_not(client: TestClient, api: Api) -> None:
    key = api.post("/keys", {"name": "reader", "role": "analyst"}).json()["key"]
    r = client.get("/api/v1/journeys/schema", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and "$defs" in r.json()
    r = client.get("/api/v1/journeys/schema")
    assert r.status_code == 401 and set(r.json()) == {"code", "message"}
