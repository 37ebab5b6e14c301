"""The offer library: create, change, read and archive offers (docs/offers.md).

An offer says what a contact may be given (``kind`` and ``value``), to whom (``eligibility``,
a segment condition evaluated when offers are matched), when (``starts_at`` … ``ends_at``),
how often (``per_contact_limit``, ``total_limit``), which one wins when several fit
(``priority``), and whether it comes with a code (``coupon_mode``: none, a pool of unique
codes, or one static code shared by everyone). Every rule is checked here, on save, with a
422 naming the field, so matching and assignment never meet a malformed offer.

Offers are archived, never deleted: assignments and redemptions keep pointing at them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kairos.clock import ensure_utc
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.offers.tables import coupon, offer, offer_assignment
from kairos.segments.service import check_definition

KINDS = ("discount_percent", "discount_amount", "free_shipping", "gift", "points")
#: kinds that mean nothing without a value ("10" % off, 5 EUR off, 100 points)
VALUED_KINDS = ("discount_percent", "discount_amount", "points")
STATUSES = ("active", "paused", "archived")
COUPON_MODES = ("none", "pool", "static")

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{2,63}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

#: fields a create may set (``key`` is fixed afterwards: journeys and templates refer to it)
FIELDS = (
    "name", "description", "kind", "value", "currency", "eligibility", "priority", "starts_at",
    "ends_at", "per_contact_limit", "total_limit", "status", "coupon_mode", "static_code",
)  # fmt: skip
DEFAULTS: dict[str, Any] = {
    "description": None, "value": None, "currency": None, "eligibility": None, "priority": 0,
    "starts_at": None, "ends_at": None, "per_contact_limit": 1, "total_limit": None,
    "status": "active", "coupon_mode": "none", "static_code": None,
}  # fmt: skip


def normalize_code(code: str) -> str:
    """Codes compare case-insensitively: they are stored and looked up upper-case."""
    return code.strip().upper()


def check_code(code: str, path: str) -> str:
    """A code as stored, or a 422 naming ``path``: 3 to 64 of A-Z, 0-9, '.', '_', '-'."""
    normal = normalize_code(code)
    if not _CODE.match(normal):
        raise InvalidInput(
            f"{path}: {code!r} must be 3 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            code="invalid_code",
        )
    return normal


# --- validation --------------------------------------------------------------------------


def _check(
    conn: Connection, workspace_id: int, values: dict[str, Any], now: datetime, *, eligibility: bool = True
) -> dict[str, Any]:
    """The offer's fields, normalised, or a 422 naming the first bad one. ``eligibility``:
    whether to check it too (an update leaving it alone does not re-check a stored one)."""
    out = dict(values)
    name = (out.get("name") or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("name: an offer needs a name of at most 200 characters", code="invalid_name")
    out["name"] = name
    _one_of("kind", out["kind"], KINDS)
    _one_of("status", out["status"], STATUSES)
    _one_of("coupon_mode", out["coupon_mode"], COUPON_MODES)
    _check_value(out)
    if out["currency"] is not None:
        out["currency"] = out["currency"].strip().upper()
        if not _CURRENCY.match(out["currency"]):
            raise InvalidInput("currency: an ISO 4217 code such as EUR", code="invalid_currency")
    if out["kind"] == "discount_amount" and out["currency"] is None:
        raise InvalidInput("currency: an amount off needs its currency", code="invalid_currency")
    for field in ("starts_at", "ends_at"):
        if out[field] is not None:
            out[field] = ensure_utc(out[field])
    if out["starts_at"] is not None and out["ends_at"] is not None and out["ends_at"] <= out["starts_at"]:
        raise InvalidInput("ends_at: must be after starts_at", code="invalid_window")
    if not isinstance(out["priority"], int) or abs(out["priority"]) > 1_000_000:
        raise InvalidInput("priority: a whole number between -1000000 and 1000000", code="invalid_priority")
    if not isinstance(out["per_contact_limit"], int) or not 1 <= out["per_contact_limit"] <= 1000:
        raise InvalidInput("per_contact_limit: between 1 and 1000", code="invalid_limit")
    if out["total_limit"] is not None and (not isinstance(out["total_limit"], int) or out["total_limit"] < 1):
        raise InvalidInput("total_limit: at least 1, or null for no limit", code="invalid_limit")
    if out["coupon_mode"] == "static":
        if not out["static_code"]:
            raise InvalidInput("static_code: a static coupon mode needs the code", code="invalid_code")
        out["static_code"] = check_code(out["static_code"], "static_code")
    elif out["static_code"] is not None:
        raise InvalidInput("static_code: only for coupon_mode 'static'", code="invalid_code")
    if eligibility and out["eligibility"] is not None:
        out["eligibility"] = _check_eligibility(conn, workspace_id, out["eligibility"], now)
    return out


def _one_of(field: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InvalidInput(f"{field}: one of {', '.join(allowed)}", code=f"invalid_{field}")


def _check_value(out: dict[str, Any]) -> None:
    value = out["value"]
    if value is None:
        if out["kind"] in VALUED_KINDS:
            raise InvalidInput(f"value: a {out['kind']} offer needs a value", code="invalid_value")
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value <= 0:
        raise InvalidInput("value: a number greater than 0", code="invalid_value")
    if out["kind"] == "discount_percent" and value > 100:
        raise InvalidInput("value: a percentage of at most 100", code="invalid_value")
    out["value"] = float(value)


def _check_eligibility(conn: Connection, workspace_id: int, root: Any, now: datetime) -> Any:
    """The root condition as stored, parsed and compiled once like a segment's definition
    (unknown attributes and segments are refused now), paths relative to ``eligibility``."""
    try:
        parsed = check_definition(conn, workspace_id, {"schema_version": 1, "root": root}, now)
    except InvalidInput as exc:
        message = exc.message
        if message.startswith("root"):
            message = "eligibility" + message.removeprefix("root")
        elif message.startswith("definition"):
            message = "eligibility" + message.removeprefix("definition")
        else:
            message = f"eligibility: {message}"
        raise InvalidInput(message, code=exc.code) from None
    return parsed.model_dump(mode="json")["root"]


def _check_static_code_free(conn: Connection, workspace_id: int, code: str, offer_id: int | None) -> None:
    """A static code must lead to one offer: not another's static code, not a pool code."""
    other = conn.execute(
        select(offer.c.id).where(
            offer.c.workspace_id == workspace_id,
            offer.c.static_code == code,
            offer.c.id != (offer_id or 0),
        )
    ).first()
    pooled = conn.execute(
        select(coupon.c.id).where(coupon.c.workspace_id == workspace_id, coupon.c.code == code)
    ).first()
    if other is not None or pooled is not None:
        raise Conflict(f"static_code: {code!r} is already a code of another offer", code="code_exists")


# --- offers ------------------------------------------------------------------------------


def create_offer(
    conn: Connection, workspace_id: int, now: datetime, *, key: str, **fields: Any
) -> dict[str, Any]:
    """A new offer. Unknown fields are a programming error (TypeError), not user input."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown offer fields: {sorted(unknown)}")
    if not isinstance(key, str) or not _KEY.match(key):
        raise InvalidInput(
            f"key: {key!r} must be lower-case letters, digits, '-' or '_' (at most 100)", code="invalid_key"
        )
    values = _check(conn, workspace_id, {**DEFAULTS, **fields}, now)
    if values["status"] == "archived":
        raise InvalidInput("status: a new offer is active or paused", code="invalid_status")
    if values["static_code"] is not None:
        _check_static_code_free(conn, workspace_id, values["static_code"], None)
    row = {**values, "workspace_id": workspace_id, "key": key, "created_at": now, "updated_at": now}
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(offer).values(row).returning(offer.c.id)).scalar_one()
    except IntegrityError:
        raise Conflict(f"key: an offer with key {key!r} exists", code="offer_exists") from None
    return get_offer(conn, workspace_id, new_id)


def update_offer(
    conn: Connection, workspace_id: int, offer_id: int, now: datetime, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change some fields; the whole offer is validated again. Once an offer has been given,
    its coupon mode stays (codes already sent would lose their meaning)."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise InvalidInput(f"{sorted(unknown)[0]}: cannot be changed", code="invalid_field")
    current = offer_row(conn, workspace_id, offer_id, lock=True)
    merged = {f: current[f] for f in FIELDS} | changes
    if changes.get("coupon_mode", current["coupon_mode"]) != "static":
        merged["static_code"] = changes.get("static_code")  # leaving static mode drops the code
    values = _check(conn, workspace_id, merged, now, eligibility="eligibility" in changes)
    if values["coupon_mode"] != current["coupon_mode"] and given_counts(conn, [offer_id]).get(offer_id, 0):
        raise Conflict(
            "coupon_mode: the offer has been given; create a new offer instead", code="offer_in_use"
        )
    if values["static_code"] is not None and values["static_code"] != current["static_code"]:
        _check_static_code_free(conn, workspace_id, values["static_code"], offer_id)
    changed = {f: v for f, v in values.items() if v != current[f]}
    if changed:
        conn.execute(update(offer).where(offer.c.id == offer_id).values({**changed, "updated_at": now}))
    return get_offer(conn, workspace_id, offer_id)


def archive_offer(conn: Connection, workspace_id: int, offer_id: int, now: datetime) -> dict[str, Any]:
    """Archived offers are never matched nor assigned; codes already given still redeem."""
    return update_offer(conn, workspace_id, offer_id, now, {"status": "archived"})


def offer_row(conn: Connection, workspace_id: int, offer_id: int, *, lock: bool = False) -> dict[str, Any]:
    """The stored offer. ``lock``: on PostgreSQL, held against other writers of the row until
    commit (FOR NO KEY UPDATE: rows referring to it can still be inserted)."""
    stmt = select(offer).where(offer.c.id == offer_id, offer.c.workspace_id == workspace_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(key_share=True)
    row = conn.execute(stmt).first()
    if row is None:
        raise NotFound(f"offer {offer_id} not found", code="offer_not_found")
    return dict(row._mapping)


def get_offer(conn: Connection, workspace_id: int, offer_id: int) -> dict[str, Any]:
    """The offer with its figures: ``given``, ``redeemed`` (assignments) and ``codes``
    (pool counts; None without a pool)."""
    return _with_stats(conn, [offer_row(conn, workspace_id, offer_id)])[0]


def list_offers(
    conn: Connection,
    workspace_id: int,
    *,
    status: str | None = None,
    limit: int = 50,
    after: int | None = None,
) -> list[dict[str, Any]]:
    """Offers in id order (``after``: the last id of the previous page)."""
    stmt = select(offer).where(offer.c.workspace_id == workspace_id)
    if status is not None:
        _one_of("status", status, STATUSES)
        stmt = stmt.where(offer.c.status == status)
    if after is not None:
        stmt = stmt.where(offer.c.id > after)
    rows = [dict(r._mapping) for r in conn.execute(stmt.order_by(offer.c.id).limit(limit))]
    return _with_stats(conn, rows)


def given_counts(conn: Connection, offer_ids: Sequence[int]) -> dict[int, int]:
    rows = conn.execute(
        select(offer_assignment.c.offer_id, func.count())
        .where(offer_assignment.c.offer_id.in_(list(offer_ids)))
        .group_by(offer_assignment.c.offer_id)
    )
    return {oid: n for oid, n in rows}


def pool_counts(conn: Connection, offer_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per offer: codes in the pool by state — ``free``, ``assigned`` (given, not used yet),
    ``redeemed`` (used on an order) — and their ``total``."""
    if not offer_ids:
        return {}
    c = coupon.c
    rows = conn.execute(
        select(
            c.offer_id,
            func.count(),
            func.count(c.redeemed_at),
            func.sum(case((c.assigned_at.is_(None) & c.redeemed_at.is_(None), 1), else_=0)),
        )
        .where(c.offer_id.in_(list(offer_ids)))
        .group_by(c.offer_id)
    )
    counts = {oid: {"total": 0, "free": 0, "assigned": 0, "redeemed": 0} for oid in offer_ids}
    for oid, total, redeemed, free in rows:
        free = int(free or 0)
        counts[oid] = {
            "total": total,
            "free": free,
            "assigned": total - free - redeemed,
            "redeemed": redeemed,
        }
    return counts


def _with_stats(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not rows:
        return rows
    ids = [r["id"] for r in rows]
    a = offer_assignment.c
    stats = {
        oid: (given, redeemed)
        for oid, given, redeemed in conn.execute(
            select(a.offer_id, func.count(), func.count(a.redeemed_at))
            .where(a.offer_id.in_(ids))
            .group_by(a.offer_id)
        )
    }
    pools = pool_counts(conn, [r["id"] for r in rows if r["coupon_mode"] == "pool"])
    return [
        {
            **r,
            "given": stats.get(r["id"], (0, 0))[0],
            "redeemed": stats.get(r["id"], (0, 0))[1],
            "codes": pools.get(r["id"]),
        }
        for r in rows
    ]
