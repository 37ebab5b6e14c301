"""The offer library and coupon pools: CRUD through the API, a validation table, code
generation and import. (Matching, assignment and redemption: test_matching.py.)"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine, select

from kairos.clock import FixedClock
from kairos.contacts.tables import contact
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.offers.codes import ALPHABET, generate_codes, import_codes
from kairos.offers.service import create_offer, get_offer
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api

TEN_OFF = {"key": "shoes-10", "name": "10% off shoes", "kind": "discount_percent", "value": 10}


# --- helpers (test_matching.py uses them too) --------------------------------------------


def track(
    engine: Engine, ws: int, clock: FixedClock, users: list[str], name: str, **props: Any
) -> dict[str, int]:
    """Each user does ``name`` now; returns user → contact id."""
    messages = [
        parse_message({"type": "track", "userId": u, "event": name, "properties": props}, None, clock.now())
        for u in users
    ]
    with engine.begin() as conn:
        ingest(conn, ws, messages, clock.now())
        rows = conn.execute(
            select(contact.c.external_id, contact.c.id).where(
                contact.c.workspace_id == ws, contact.c.external_id.in_(users)
            )
        )
        return {u: cid for u, cid in rows}


def make_offer(engine: Engine, ws: int, clock: FixedClock, key: str, **fields: Any) -> dict[str, Any]:
    with engine.begin() as conn:
        return create_offer(conn, ws, clock.now(), key=key, **{"name": key.title(), "kind": "gift", **fields})


# --- CRUD --------------------------------------------------------------------------------


def test_offer_lifecycle(api: Api) -> None:
    r = api.post("/offers", {**TEN_OFF, "priority": 5, "coupon_mode": "pool",
                             "eligibility": {"type": "tag", "tag": "shoe-lover"},
                             "starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-04-01T00:00:00+02:00"})  # fmt: skip
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["key"] == "shoes-10" and created["status"] == "active"
    assert (created["per_contact_limit"], created["total_limit"], created["priority"]) == (1, None, 5)
    assert created["ends_at"] == "2026-03-31T22:00:00Z"
    assert created["eligibility"]["type"] == "tag" and created["eligibility"]["tag"] == "shoe-lover"
    assert (created["given"], created["redeemed"]) == (0, 0)
    assert created["codes"] == {"total": 0, "free": 0, "assigned": 0, "redeemed": 0}
    oid = created["id"]
    assert api.get(f"/offers/{oid}").json() == created

    r = api.patch(
        f"/offers/{oid}", {"name": "Spring shoes", "value": 15, "ends_at": None, "eligibility": None}
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert (changed["name"], changed["value"], changed["ends_at"], changed["eligibility"]) == (
        "Spring shoes", 15.0, None, None,
    )  # fmt: skip
    assert changed["starts_at"] == created["starts_at"]  # untouched fields stay

    api.post("/offers", {"key": "ship", "name": "Free shipping", "kind": "free_shipping"})
    assert [o["key"] for o in api.get("/offers").json()["data"]] == ["shoes-10", "ship"]
    page = api.get("/offers", params={"limit": 1}).json()
    assert [o["key"] for o in page["data"]] == ["shoes-10"]
    rest = api.get("/offers", params={"limit": 1, "after": page["next"]}).json()
    assert [o["key"] for o in rest["data"]] == ["ship"]

    assert api.delete(f"/offers/{oid}").status_code == 204
    assert api.get(f"/offers/{oid}").json()["status"] == "archived"  # archived, still readable
    assert [o["key"] for o in api.get("/offers", params={"status": "archived"}).json()["data"]] == [
        "shoes-10"
    ]
    assert [o["key"] for o in api.get("/offers", params={"status": "active"}).json()["data"]] == ["ship"]


def test_create_is_idempotent_with_a_key(api: Api) -> None:
    first = api.post("/offers", TEN_OFF, headers={"Idempotency-Key": "k1"})
    again = api.post("/offers", TEN_OFF, headers={"Idempotency-Key": "k1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert len(api.get("/offers").json()["data"]) == 1


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({"value": -5}, 422, "invalid_value", "value: a number greater than 0"),
        ({"value": 0}, 422, "invalid_value", "value"),
        ({"value": 150}, 422, "invalid_value", "percentage of at most 100"),
        ({"value": None}, 422, "invalid_value", "needs a value"),
        ({"kind": "points", "value": None}, 422, "invalid_value", "needs a value"),
        ({"kind": "discount_amount"}, 422, "invalid_currency", "needs its currency"),
        ({"kind": "discount_amount", "currency": "euro"}, 422, "invalid_currency", "ISO 4217"),
        ({"kind": "bogus"}, 422, "validation_error", "kind"),
        ({"key": "Big Sale!"}, 422, "invalid_key", "key"),
        ({"key": ""}, 422, "invalid_key", "key"),
        ({"name": "  "}, 422, "invalid_name", "name"),
        (
            {"starts_at": "2026-04-01T00:00:00Z", "ends_at": "2026-03-01T00:00:00Z"},
            422,
            "invalid_window",
            "ends_at",
        ),
        (
            {"starts_at": "2026-04-01T00:00:00Z", "ends_at": "2026-04-01T00:00:00Z"},
            422,
            "invalid_window",
            "ends_at",
        ),
        ({"per_contact_limit": 0}, 422, "invalid_limit", "per_contact_limit"),
        ({"total_limit": 0}, 422, "invalid_limit", "total_limit"),
        ({"coupon_mode": "static"}, 422, "invalid_code", "static_code"),
        ({"coupon_mode": "static", "static_code": "no spaces"}, 422, "invalid_code", "static_code"),
        ({"static_code": "WELCOME"}, 422, "invalid_code", "only for coupon_mode 'static'"),
        ({"status": "archived"}, 422, "validation_error", "status"),
        (
            {"eligibility": {"type": "segment", "segment_id": 999}},
            422,
            "unknown_segment",
            "eligibility.segment_id: no segment 999",
        ),
        (
            {"eligibility": {"type": "all", "conditions": [{"type": "nonsense"}]}},
            422,
            "invalid_definition",
            "eligibility.conditions[0]",
        ),
        (
            {"eligibility": {"type": "attribute", "attribute": "shoe_size", "operator": "eq", "value": 9}},
            422,
            "unknown_attribute",
            "eligibility",
        ),
        ({"surprise": 1}, 422, "validation_error", "surprise"),
    ],
)
def test_invalid_offers_are_refused_naming_the_field(
    api: Api, body: dict[str, Any], status: int, code: str, message: str
) -> None:
    r = api.post("/offers", {**TEN_OFF, **body})
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert message in r.json()["message"]


def test_conflicts_and_unknown_offers(api: Api, other_workspace: CreatedWorkspace) -> None:
    oid = api.post("/offers", TEN_OFF).json()["id"]
    r = api.post("/offers", TEN_OFF)
    assert (r.status_code, r.json()["code"]) == (409, "offer_exists")
    welcome = {
        "key": "welcome",
        "name": "Welcome",
        "kind": "gift",
        "coupon_mode": "static",
        "static_code": "hello",
    }
    assert api.post("/offers", welcome).json()["static_code"] == "HELLO"
    r = api.post("/offers", {**welcome, "key": "welcome-2", "static_code": "Hello"})
    assert (r.status_code, r.json()["code"]) == (409, "code_exists")
    r = api.patch(f"/offers/{oid}", {"key": "renamed"})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")  # keys are fixed
    r = api.patch(f"/offers/{oid}", {"value": -1})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_value")
    for r in (api.get("/offers/999"), api.patch("/offers/999", {"name": "x"}), api.delete("/offers/999")):
        assert (r.status_code, r.json()["code"]) == (404, "offer_not_found")
    other = Api(api.http, other_workspace.api_key)
    assert other.get(f"/offers/{oid}").status_code == 404
    assert other.post("/offers", TEN_OFF).status_code == 201  # keys are per workspace


# --- coupon pools ------------------------------------------------------------------------


def test_ten_thousand_generated_codes_are_distinct_and_unambiguous(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    pool = make_offer(engine, workspace.id, clock, "pool", coupon_mode="pool")
    with engine.begin() as conn:
        assert (
            generate_codes(conn, workspace.id, pool["id"], clock.now(), count=10_000, prefix="spr-") == 10_000
        )
        assert generate_codes(conn, workspace.id, pool["id"], clock.now(), count=5, length=12) == 5
    with engine.connect() as conn:
        from kairos.offers.tables import coupon

        codes = list(conn.execute(select(coupon.c.code).where(coupon.c.offer_id == pool["id"])).scalars())
        assert get_offer(conn, workspace.id, pool["id"])["codes"] == {
            "total": 10_005, "free": 10_005, "assigned": 0, "redeemed": 0,
        }  # fmt: skip
    assert len(set(codes)) == len(codes) == 10_005
    assert not set("01OIL") & set(ALPHABET)
    short = [c for c in codes if c.startswith("SPR-")]
    assert len(short) == 10_000
    assert all(re.fullmatch(f"SPR-[{ALPHABET}]{{8}}", c) for c in short)
    assert all(re.fullmatch(f"[{ALPHABET}]{{12}}", c) for c in codes if not c.startswith("SPR-"))


def test_codes_through_the_api(api: Api) -> None:
    pool = api.post("/offers", {**TEN_OFF, "coupon_mode": "pool"}).json()
    plain = api.post("/offers", {"key": "gift", "name": "Gift", "kind": "gift"}).json()
    r = api.post(f"/offers/{pool['id']}/codes/generate", {"count": 30, "prefix": "vip-", "length": 6})
    assert r.status_code == 201, r.text
    assert r.json() == {"added": 30, "duplicates": [], "duplicate_count": 0,
                        "codes": {"total": 30, "free": 30, "assigned": 0, "redeemed": 0}}  # fmt: skip
    cases = [
        (f"/offers/{pool['id']}/codes/generate", {"count": 100_001}, 422, "validation_error"),
        (f"/offers/{pool['id']}/codes/generate", {"count": 0}, 422, "validation_error"),
        (f"/offers/{pool['id']}/codes/generate", {"count": 5, "length": 4}, 422, "validation_error"),
        (f"/offers/{pool['id']}/codes/generate", {"count": 5, "prefix": "no space"}, 422, "invalid_prefix"),
        (f"/offers/{plain['id']}/codes/generate", {"count": 5}, 422, "not_a_pool"),
        (f"/offers/{plain['id']}/codes/import", {"codes": ["ABC"]}, 422, "not_a_pool"),
        ("/offers/999/codes/generate", {"count": 5}, 404, "offer_not_found"),
    ]
    for path, body, status, code in cases:
        r = api.post(path, body)
        assert (r.status_code, r.json()["code"]) == (status, code), (path, body, r.text)

    page = api.get(f"/offers/{pool['id']}/codes", params={"limit": 20}).json()
    assert len(page["data"]) == 20 and all(c["status"] == "free" for c in page["data"])
    rest = api.get(f"/offers/{pool['id']}/codes", params={"limit": 20, "after": page["next"]}).json()
    assert len(rest["data"]) == 10 and rest["next"] is None
    assert api.get(f"/offers/{pool['id']}/codes", params={"status": "assigned"}).json()["data"] == []
    r = api.get(f"/offers/{pool['id']}/codes", params={"status": "lost"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_status")


def test_import_reports_duplicates_and_refuses_malformed_codes(api: Api) -> None:
    pool = api.post("/offers", {**TEN_OFF, "coupon_mode": "pool"}).json()
    other = api.post(
        "/offers", {"key": "other", "name": "Other", "kind": "gift", "coupon_mode": "pool"}
    ).json()
    api.post(
        "/offers",
        {"key": "static", "name": "S", "kind": "gift", "coupon_mode": "static", "static_code": "SHARED"},
    )
    url = f"/offers/{pool['id']}/codes/import"

    r = api.post(url, {"codes": ["abc-1", " ABC-1 ", "xyz.9", "", "Shared"]})
    assert r.status_code == 201, r.text
    assert r.json() == {"added": 2, "duplicates": ["ABC-1", "SHARED"], "duplicate_count": 2,
                        "codes": {"total": 2, "free": 2, "assigned": 0, "redeemed": 0}}  # fmt: skip
    r = api.post(url, {"codes": ["XYZ.9", "new-1"]})
    assert (r.json()["added"], r.json()["duplicates"]) == (1, ["XYZ.9"])
    r = api.post(f"/offers/{other['id']}/codes/import", {"codes": ["abc-1", "OTHER-1"]})
    assert (r.json()["added"], r.json()["duplicates"]) == (1, ["ABC-1"])  # unique per workspace
    r = api.post(url, {"codes": ["GOOD-2", "bad code"]})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_code")
    assert r.json()["message"].startswith("codes[1]: 'bad code'")
    assert [c["code"] for c in api.get(f"/offers/{pool['id']}/codes").json()["data"]] == [
        "ABC-1",
        "XYZ.9",
        "NEW-1",
    ]
    r = api.post(
        "/offers",
        {"key": "static-2", "name": "S", "kind": "gift", "coupon_mode": "static", "static_code": "abc-1"},
    )
    assert (r.status_code, r.json()["code"]) == (409, "code_exists")  # a pool code already


def test_import_through_the_service(engine: Engine, workspace: CreatedWorkspace, clock: FixedClock) -> None:
    pool = make_offer(engine, workspace.id, clock, "pool", coupon_mode="pool")
    with engine.begin() as conn:
        result = import_codes(
            conn, workspace.id, pool["id"], clock.now(), [f"C{i:05}" for i in range(2000)] + ["C00007"]
        )
    assert (result.imported, result.duplicates) == (2000, ["C00007"])


def test_coupon_mode_is_fixed_once_the_offer_was_given(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    ann = track(engine, workspace.id, clock, ["ann"], "Signed Up")["ann"]
    oid = api.post("/offers", {"key": "gift", "name": "Gift", "kind": "gift"}).json()["id"]
    r = api.patch(f"/offers/{oid}", {"coupon_mode": "static", "static_code": "GIFT-1"})
    assert r.status_code == 200 and r.json()["static_code"] == "GIFT-1"
    assert api.post(f"/offers/{oid}/assign", {"contact_id": ann}).json()["code"] == "GIFT-1"
    r = api.patch(f"/offers/{oid}", {"coupon_mode": "pool"})
    assert (r.status_code, r.json()["code"]) == (409, "offer_in_use")
    r = api.patch(f"/offers/{oid}", {"priority": 3})
    assert r.status_code == 200 and r.json()["static_code"] == "GIFT-1"  # kept while static
