"""The segment builder's reference is generated from the code and tells the truth: every
operator it lists, with a value of the shape it says, is accepted by a preview for every
attribute type it says it applies to; the workspace's own attributes, computed traits,
events, tags and segments are offered."""

from __future__ import annotations

import base64
from typing import Any

from tests.conftest import Api
from tests.messaging.conftest import make_contact

SAMPLES: dict[str, dict[str, Any]] = {
    "string": {"one": "gold", "list": ["gold", "silver"], "pair": ["a", "m"]},
    "number": {"one": 3, "list": [1, 2], "pair": [1, 9]},
    "boolean": {"one": True},
    "datetime": {"one": "2026-01-01T00:00:00Z", "pair": ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"]},
    "list": {"one": "gold", "list": ["gold", "silver"]},
}
SHAPES = {
    "duration": {"amount": 3, "unit": "days"},
    "duration_pair": [{"amount": 1, "unit": "days"}, {"amount": 2, "unit": "weeks"}],
    "age_range": [18, 30],
}


def test_every_listed_operator_works_for_every_type_it_lists(api: Api, workspace: Any) -> None:
    for name, kind in (("tier", "string"), ("visits", "number"), ("vip", "boolean"), ("renews_at", "datetime"),
                       ("interests", "list")):  # fmt: skip
        assert api.post("/attributes", {"name": name, "type": kind}).status_code == 201
    ref = api.get("/segments/reference").json()
    attribute_of = {f["type"]: f["name"] for f in ref["fields"] if f["source"] == "attribute"}
    assert set(attribute_of) == {"string", "number", "boolean", "datetime", "list"}
    checked = 0
    for op in ref["operators"]:
        for kind in op["types"]:
            condition: dict[str, Any] = {
                "type": "attribute",
                "attribute": attribute_of[kind],
                "operator": op["key"],
            }
            if op["value"] in SHAPES:
                condition["value"] = SHAPES[op["value"]]
            elif op["value"] != "none":
                condition["value"] = SAMPLES[kind][op["value"]]
            r = api.post("/segments/preview", {"definition": {"root": condition}})
            assert r.status_code == 200, (op, kind, r.text)
            checked += 1
    assert checked >= 40
    keys = {op["key"] for op in ref["operators"]}
    assert {"eq", "in", "more_than_ago", "between_ago", "age_between"} <= keys


def test_the_workspaces_own_choices_are_offered(api: Api, workspace: Any) -> None:
    api.post("/attributes", {"name": "plan", "type": "string", "label": "Plan"})
    api.post(
        "/computed-traits",
        {"name": "orders", "definition": {"function": "count", "event": "Order Completed"}},
    )
    cid = make_contact(api, external_id="ann")
    api.post(f"/contacts/{cid}/tags/vip")
    auth = {"Authorization": "Basic " + base64.b64encode(f"{workspace.write_key}:".encode()).decode()}
    for event in ("Product Viewed", "Order Completed", "Product Viewed", "App Opened"):
        assert (
            api.http.post("/v1/track", json={"userId": "ann", "event": event}, headers=auth).status_code
            == 200
        )
    seg = api.post("/segments", {"name": "Buyers", "definition": {"root": {"type": "performed",
                                                                             "event": "Order Completed"}}})  # fmt: skip
    ref = api.get("/segments/reference").json()
    assert ref["events"] == ["App Opened", "Order Completed", "Product Viewed"]
    assert ref["tags"] == ["vip"]
    assert ref["segments"] == [{"id": seg.json()["id"], "name": "Buyers", "kind": "dynamic"}]
    fields = {f["name"]: f for f in ref["fields"]}
    assert fields["email"] == {"name": "email", "type": "string", "source": "field", "label": None}
    assert fields["traits.plan"]["label"] == "Plan" and fields["computed.orders"]["type"] == "number"
    kinds = set(ref["definition_schema"]["$defs"])
    assert {"PerformedCondition", "SequenceCondition", "AggregateCondition", "RandomBucketCondition"} <= kinds


def test_an_events_properties_are_offered_commonest_first_with_their_types(api: Api, workspace: Any) -> None:
    write = {"Authorization": "Basic " + base64.b64encode(f"{workspace.write_key}:".encode()).decode()}
    batch = [
        {"type": "track", "userId": "u1", "event": "Order Completed", "messageId": f"m{i}",
         "properties": {"revenue": 10 + i, "currency": "EUR", **({"coupon": "X"} if i == 0 else {})}}
        for i in range(3)
    ] + [
        {"type": "track", "userId": "u1", "event": "Order Completed", "messageId": "m9",
         "properties": {"revenue": "n/a"}},
        {"type": "track", "userId": "u1", "event": "Page Viewed", "messageId": "p1", "properties": {"url": "/"}},
    ]  # fmt: skip
    assert api.http.post("/v1/batch", json={"batch": batch}, headers=write).status_code == 200
    r = api.get("/segments/reference/properties", params={"event": "Order Completed"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["event"] == "Order Completed" and body["sampled"] == 4
    assert body["properties"] == [
        {"name": "revenue", "types": ["number", "string"], "seen": 4},
        {"name": "currency", "types": ["string"], "seen": 3},
        {"name": "coupon", "types": ["string"], "seen": 1},
    ]
    nothing = api.get("/segments/reference/properties", params={"event": "Never Happened"}).json()
    assert nothing == {"event": "Never Happened", "sampled": 0, "properties": []}
    assert api.get("/segments/reference/properties").status_code == 422
