"""The Segment HTTP Tracking API, as browsers and server libraries call it."""

from __future__ import annotations

import base64
import gzip
from datetime import timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kairos.clock import FixedClock
from kairos.contacts.tables import contact, identity
from kairos.events.tables import event
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import T0


def post(client: TestClient, path: str, body: Any, key: str | None, **headers: str) -> Any:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    if key is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    headers.setdefault("Content-Type", "application/json")
    return client.post(path, content=raw, headers=headers)


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(event)).scalar_one(),
            conn.execute(select(func.count()).select_from(contact)).scalar_one(),
            conn.execute(select(func.count()).select_from(identity)).scalar_one(),
        )


def track(i: int = 0, **extra: Any) -> dict[str, Any]:
    return {"type": "track", "userId": f"user-{i}", "event": "Product Viewed", "messageId": f"m-{i}", **extra}


@pytest.mark.parametrize(
    ("path", "body", "stored_type", "stored_name"),
    [
        (
            "/v1/track",
            {"userId": "u1", "event": "Signed Up", "properties": {"plan": "pro"}},
            "track",
            "Signed Up",
        ),
        ("/v1/t", {"userId": "u1", "event": "Signed Up"}, "track", "Signed Up"),
        ("/v1/identify", {"userId": "u1", "traits": {"plan": "pro"}}, "identify", None),
        ("/v1/i", {"anonymousId": "a1", "traits": {"plan": "pro"}}, "identify", None),
        (
            "/v1/page",
            {"anonymousId": "a1", "name": "Pricing", "properties": {"path": "/pricing"}},
            "page",
            "Pricing",
        ),
        ("/v1/p", {"anonymousId": "a1", "properties": {"path": "/"}}, "page", None),
        ("/v1/screen", {"userId": "u1", "name": "Home"}, "screen", "Home"),
        ("/v1/s", {"userId": "u1", "name": "Home"}, "screen", "Home"),
        ("/v1/group", {"userId": "u1", "groupId": "g1", "traits": {"name": "Initech"}}, "group", None),
        ("/v1/g", {"userId": "u1", "groupId": "g1"}, "group", None),
        ("/v1/alias", {"userId": "u1", "previousId": "a0"}, "alias", None),
        ("/v1/a", {"userId": "u1", "previousId": "a0"}, "alias", None),
    ],
)
def test_every_endpoint_stores_its_message(
    client: TestClient,
    engine: Engine,
    workspace: CreatedWorkspace,
    path: str,
    body: dict[str, Any],
    stored_type: str,
    stored_name: str | None,
) -> None:
    r = post(client, path, body, workspace.write_key)
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True}
    with engine.connect() as conn:
        rows = conn.execute(select(event.c.type, event.c.name, event.c.workspace_id)).all()
    assert [(t, n) for t, n, _ in rows] == [(stored_type, stored_name)]
    assert rows[0].workspace_id == workspace.id


def test_write_key_in_body_with_text_plain_as_browsers_send(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace
) -> None:
    body = {"writeKey": workspace.write_key, "anonymousId": "a1", "event": "Clicked"}
    r = post(client, "/v1/t", body, None, **{"Content-Type": "text/plain"})
    assert r.status_code == 200, r.text
    assert counts(engine)[0] == 1


@pytest.mark.parametrize(
    "auth",
    [None, "Basic " + base64.b64encode(b"wk_nope:").decode(), "Bearer something", "Basic !!!notbase64"],
)
def test_bad_or_missing_write_key_is_401_and_writes_nothing(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace, auth: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    r = client.post("/v1/track", content=orjson.dumps({"userId": "u1", "event": "E"}), headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
    assert counts(engine) == (0, 0, 0)


def test_api_key_is_not_a_write_key(client: TestClient, engine: Engine, workspace: CreatedWorkspace) -> None:
    r = post(client, "/v1/track", {"userId": "u1", "event": "E"}, workspace.api_key)
    assert r.status_code == 401


def test_gzip_batch_with_batch_level_context_and_integrations(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace
) -> None:
    body = {
        "batch": [
            track(1, context={"ip": "1.2.3.4"}),
            track(2, context={"library": {"name": "own"}}, integrations={"All": False}),
        ],
        "context": {"library": {"name": "analytics-python"}, "ip": "9.9.9.9"},
        "integrations": {"Mixpanel": True},
    }
    r = post(
        client,
        "/v1/batch",
        gzip.compress(orjson.dumps(body)),
        workspace.write_key,
        **{"Content-Encoding": "gzip"},
    )
    assert r.status_code == 200, r.text
    with engine.connect() as conn:
        rows = {
            m: (c, i)
            for m, c, i in conn.execute(select(event.c.message_id, event.c.context, event.c.integrations))
        }
    assert rows["m-1"] == ({"library": {"name": "analytics-python"}, "ip": "1.2.3.4"}, {"Mixpanel": True})
    assert rows["m-2"] == ({"library": {"name": "own"}, "ip": "9.9.9.9"}, {"Mixpanel": True, "All": False})


def test_duplicate_message_ids_are_accepted_and_ignored(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace
) -> None:
    body = {"batch": [track(1), track(2), track(1)]}
    assert post(client, "/v1/batch", body, workspace.write_key).status_code == 200
    assert counts(engine)[0] == 2
    # The whole batch again, as a client retrying after a lost answer would.
    assert post(client, "/v1/batch", body, workspace.write_key).status_code == 200
    assert counts(engine)[0] == 2


def test_same_message_id_in_two_workspaces_is_two_events(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace, other_workspace: CreatedWorkspace
) -> None:
    assert post(client, "/v1/track", track(1), workspace.write_key).status_code == 200
    assert post(client, "/v1/track", track(1), other_workspace.write_key).status_code == 200
    assert counts(engine)[0] == 2


def test_timestamp_is_corrected_for_client_clock_skew(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    # The device clock runs 1 hour fast: it says the event happened at 13:00:00 and was
    # sent at 13:00:05, and the server received it at 12:00:05 (the fixed clock, T0 + 5 s).
    sent = (T0 + timedelta(hours=1, seconds=5)).isoformat()
    original = (T0 + timedelta(hours=1)).isoformat()
    clock.set(T0 + timedelta(seconds=5))
    body = {"userId": "u1", "event": "E", "timestamp": original, "sentAt": sent}
    assert post(client, "/v1/track", body, workspace.write_key).status_code == 200
    with engine.connect() as conn:
        row = conn.execute(select(event)).one()
    assert row.timestamp == T0
    assert row.original_timestamp == T0 + timedelta(hours=1)
    assert row.sent_at == T0 + timedelta(hours=1, seconds=5)
    assert row.received_at == T0 + timedelta(seconds=5)


def test_timestamp_without_sent_at_is_kept_and_missing_timestamp_is_received_at(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace
) -> None:
    body = {"batch": [track(1, timestamp="2025-12-24T18:00:00+01:00"), track(2)]}
    assert post(client, "/v1/batch", body, workspace.write_key).status_code == 200
    with engine.connect() as conn:
        got = dict(conn.execute(select(event.c.message_id, event.c.timestamp)).all())
    assert got["m-1"].isoformat() == "2025-12-24T17:00:00+00:00"
    assert got["m-2"] == T0


BAD_REQUESTS = [
    ("malformed JSON", b'{"batch": [', {}, "invalid_json"),
    ("invalid UTF-8", b'{"userId": "\xff\xfe", "event": "E"}', {}, "invalid_utf8"),
    ("not an object", b"[1, 2]", {}, "invalid_body"),
    ("bad gzip", b"not gzip at all", {"Content-Encoding": "gzip"}, "invalid_gzip"),
    ("no identity", {"batch": [track(1), {"type": "track", "event": "E"}]}, {}, "missing_identity"),
    ("track without event", {"batch": [track(1), {"type": "track", "userId": "u"}]}, {}, "missing_event"),
    ("bad timestamp", {"batch": [track(1), track(2, timestamp="yesterday")]}, {}, "invalid_timestamp"),
    ("bad sentAt", {"batch": [track(1)], "sentAt": "2026-13-45T00:00:00Z"}, {}, "invalid_timestamp"),
    ("unknown type", {"batch": [track(1), {"type": "purchase", "userId": "u"}]}, {}, "invalid_type"),
    ("batch not a list", {"batch": {"a": 1}}, {}, "invalid_batch"),
    ("too many messages", {"batch": [track(i) for i in range(2501)]}, {}, "batch_too_large"),
    (
        "message over 32 KB",
        {"batch": [track(1), track(2, properties={"x": "y" * 33_000})]},
        {},
        "message_too_large",
    ),
    (
        "request over 500 KB",
        {"batch": [track(i, properties={"x": "y" * 20_000}) for i in range(30)]},
        {},
        "request_too_large",
    ),
    (
        "bad email trait",
        {"batch": [track(1), {"type": "identify", "userId": "u", "traits": {"email": "nope"}}]},
        {},
        "invalid_email",
    ),
    (
        "bad phone trait",
        {"batch": [{"type": "identify", "userId": "u", "traits": {"phone": "12"}}]},
        {},
        "invalid_phone",
    ),
    ("NUL character", {"batch": [track(1), track(2, properties={"a": "x\u0000y"})]}, {}, "invalid_character"),
    ("messageId over 255", {"batch": [track(1, messageId="m" * 256)]}, {}, "invalid_id"),
]


@pytest.mark.parametrize(("why", "body", "headers", "code"), BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_input_is_400_naming_the_problem_and_nothing_is_written(
    client: TestClient,
    engine: Engine,
    workspace: CreatedWorkspace,
    why: str,
    body: Any,
    headers: dict[str, str],
    code: str,
) -> None:
    r = post(client, "/v1/batch", body, workspace.write_key, **headers)
    assert r.status_code == 400, r.text
    answer = r.json()
    assert answer["code"] == code
    assert answer["message"]
    assert counts(engine) == (0, 0, 0)


def test_error_names_the_offending_message(client: TestClient, workspace: CreatedWorkspace) -> None:
    r = post(
        client,
        "/v1/batch",
        {"batch": [track(0), track(1), {"type": "track", "userId": "u"}]},
        workspace.write_key,
    )
    assert "batch[2]" in r.json()["message"]


def test_single_message_over_32_kb(client: TestClient, engine: Engine, workspace: CreatedWorkspace) -> None:
    r = post(client, "/v1/track", track(1, properties={"x": "y" * 33_000}), workspace.write_key)
    assert (r.status_code, r.json()["code"]) == (400, "message_too_large")


def test_gzip_bomb_is_refused(client: TestClient, engine: Engine, workspace: CreatedWorkspace) -> None:
    bomb = gzip.compress(b'{"batch": [' + b" " * 5_000_000 + b"]}")
    r = post(client, "/v1/batch", bomb, workspace.write_key, **{"Content-Encoding": "gzip"})
    assert (r.status_code, r.json()["code"]) == (400, "request_too_large")


def test_typed_trait_misfit_rejects_the_request(
    client: TestClient, api: Any, engine: Engine, workspace: CreatedWorkspace
) -> None:
    assert api.post("/attributes", {"name": "age", "type": "number"}).status_code == 201
    r = post(client, "/v1/identify", {"userId": "u1", "traits": {"age": "old"}}, workspace.write_key)
    assert (r.status_code, r.json()["code"]) == (400, "invalid_trait")
    assert counts(engine) == (0, 0, 0)
    r = post(client, "/v1/identify", {"userId": "u1", "traits": {"age": "42"}}, workspace.write_key)
    assert r.status_code == 200
    with engine.connect() as conn:
        assert conn.execute(select(contact.c.traits)).scalar_one() == {"age": 42}


def test_cors_preflight_and_headers(client: TestClient, workspace: CreatedWorkspace) -> None:
    r = client.options(
        "/v1/t",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-retry-count",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "https://shop.example"
    allowed = r.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "x-retry-count" in allowed
    assert "POST" in r.headers["access-control-allow-methods"]
    r = post(
        client,
        "/v1/t",
        {"anonymousId": "a", "event": "E"},
        workspace.write_key,
        Origin="https://shop.example",
    )
    assert r.headers["access-control-allow-origin"] == "https://shop.example"


def test_unknown_endpoint_and_wrong_method(client: TestClient, workspace: CreatedWorkspace) -> None:
    assert post(client, "/v1/purchase", {}, workspace.write_key).status_code == 404
    r = client.get("/v1/track")
    assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed")


def test_identify_updates_profile_and_context_fills_timezone(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace
) -> None:
    body = {
        "userId": "u1",
        "traits": {
            "email": "Ada@Example.COM",
            "firstName": "Ada",
            "phone": "+44 20 7946 0958",
            "plan": "pro",
        },
        "context": {"timezone": "Europe/London", "locale": "en-GB"},
    }
    assert post(client, "/v1/identify", body, workspace.write_key).status_code == 200
    body2 = {"userId": "u1", "traits": {"plan": None, "seats": 5}, "context": {"timezone": "Asia/Tokyo"}}
    assert post(client, "/v1/identify", body2, workspace.write_key).status_code == 200
    with engine.connect() as conn:
        row = conn.execute(select(contact)).one()
    assert (row.external_id, row.email, row.first_name, row.phone) == (
        "u1",
        "ada@example.com",
        "Ada",
        "+442079460958",
    )
    assert (row.timezone, row.locale) == ("Europe/London", "en-GB")  # context never overrides
    assert row.traits == {"seats": 5}


def test_longest_allowed_ids_are_stored(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace
) -> None:
    body = track(1, messageId="m" * 255, userId="u" * 255, anonymousId="a" * 255)
    assert post(client, "/v1/track", body, workspace.write_key).status_code == 200
    with engine.connect() as conn:
        assert conn.execute(select(event.c.message_id)).scalar_one() == "m" * 255


def test_gzipped_single_message_over_32_kb(
    client: TestClient, engine: Engine, workspace: CreatedWorkspace
) -> None:
    body = gzip.compress(orjson.dumps(track(1, properties={"x": "y" * 33_000})))
    r = post(client, "/v1/track", body, workspace.write_key, **{"Content-Encoding": "gzip"})
    assert (r.status_code, r.json()["code"]) == (400, "message_too_large")
    assert counts(engine) == (0, 0, 0)
