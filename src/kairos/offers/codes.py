"""Coupon pools: unique codes generated or imported for an offer, listed by state.

Generated codes are drawn from the operating system's CSPRNG (``secrets``) over an alphabet
without look-alikes (no 0/O, 1/I/L), so a code read aloud or typed from an SMS survives,
and cannot be guessed from another. Codes are unique per workspace (an order's code must
lead to one coupon): both paths insert with ON CONFLICT DO NOTHING, so a collision costs
nothing but a retry, and never an error half-way through 100,000 codes.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, select

from kairos.db.dialect import chunks, insert_on_conflict
from kairos.errors import InvalidInput
from kairos.events.tables import event
from kairos.offers.service import check_code, normalize_code, offer_row
from kairos.offers.tables import coupon, offer
from kairos.segments.values import json_value

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MAX_CODES = 100_000
MIN_LENGTH, MAX_LENGTH = 6, 32
_PREFIX = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
#: rows per INSERT: 4 parameters each, far below every database's limit
_BATCH = 500
#: rounds of regeneration for codes that collided; with 31^6 codes and more, one is plenty
_ROUNDS = 20

STATES = ("free", "assigned", "redeemed")


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    #: codes not imported because they already exist (in the list, or in the workspace)
    duplicates: list[str] = field(default_factory=list)


def _pool_offer(conn: Connection, workspace_id: int, offer_id: int) -> dict[str, Any]:
    row = offer_row(conn, workspace_id, offer_id)
    if row["coupon_mode"] != "pool":
        raise InvalidInput(
            f"offer {offer_id} has coupon_mode {row['coupon_mode']!r}; codes belong to 'pool' offers",
            code="not_a_pool",
        )
    return row


def random_codes(count: int, length: int, prefix: str = "") -> set[str]:
    """``count`` distinct codes: ``prefix`` + ``length`` characters of ``ALPHABET``."""
    n = len(ALPHABET)
    limit = 256 - 256 % n  # rejection sampling keeps every character equally likely
    codes: set[str] = set()
    while len(codes) < count:
        need = (count - len(codes)) * length
        usable = [b % n for b in secrets.token_bytes(need + need // 4 + 16) if b < limit]
        for i in range(0, len(usable) - length + 1, length):
            codes.add(prefix + "".join(ALPHABET[j] for j in usable[i : i + length]))
            if len(codes) == count:
                break
    return codes


def generate_codes(
    conn: Connection,
    workspace_id: int,
    offer_id: int,
    now: datetime,
    *,
    count: int,
    prefix: str | None = None,
    length: int = 8,
) -> int:
    """Add ``count`` new random codes to the offer's pool; returns how many (always ``count``).
    Codes that collide with any code of the workspace are drawn again."""
    _pool_offer(conn, workspace_id, offer_id)
    if not 1 <= count <= MAX_CODES:
        raise InvalidInput(f"count: between 1 and {MAX_CODES}", code="invalid_count")
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise InvalidInput(f"length: between {MIN_LENGTH} and {MAX_LENGTH}", code="invalid_length")
    head = normalize_code(prefix or "")
    if head and not _PREFIX.match(head):
        raise InvalidInput(
            "prefix: up to 20 letters, digits, '-' or '_', starting with a letter or digit",
            code="invalid_prefix",
        )
    taken = _static_codes(conn, workspace_id)
    created = 0
    for _ in range(_ROUNDS):
        fresh = random_codes(count - created, length, head) - taken
        created += len(_insert(conn, workspace_id, offer_id, now, fresh))
        if created == count:
            return created
    raise InvalidInput(
        f"length: only {created} of {count} codes could be made unique; use a longer length",
        code="code_space_exhausted",
    )


def import_codes(
    conn: Connection, workspace_id: int, offer_id: int, now: datetime, codes: Sequence[str]
) -> ImportResult:
    """Add given codes (from a shop system, a printed batch) to the offer's pool. Codes that
    already exist are reported back, not fatal; a malformed code is a 422 naming its index
    (a file that needs fixing should be fixed before half of it is in). Blank lines are skipped."""
    _pool_offer(conn, workspace_id, offer_id)
    if len(codes) > MAX_CODES:
        raise InvalidInput(f"codes: at most {MAX_CODES} per import", code="invalid_count")
    wanted: list[str] = []
    seen: set[str] = set()
    duplicates: list[str] = []
    for i, raw in enumerate(codes):
        if not raw.strip():
            continue
        code = check_code(raw, f"codes[{i}]")
        (duplicates if code in seen else wanted).append(code)
        seen.add(code)
    taken = _static_codes(conn, workspace_id)
    duplicates += [c for c in wanted if c in taken]
    inserted = _insert(conn, workspace_id, offer_id, now, [c for c in wanted if c not in taken])
    duplicates += [c for c in wanted if c not in taken and c not in inserted]
    return ImportResult(imported=len(inserted), duplicates=duplicates)


def _static_codes(conn: Connection, workspace_id: int) -> set[str]:
    return set(
        conn.execute(
            select(offer.c.static_code).where(
                offer.c.workspace_id == workspace_id, offer.c.static_code.is_not(None)
            )
        ).scalars()
    )


def _insert(
    conn: Connection, workspace_id: int, offer_id: int, now: datetime, codes: Iterable[str]
) -> set[str]:
    """Insert the codes that are new to the workspace; returns those."""
    inserted: set[str] = set()
    for part in chunks(sorted(codes), _BATCH):
        rows = [
            {"workspace_id": workspace_id, "offer_id": offer_id, "code": c, "created_at": now} for c in part
        ]
        stmt = (
            insert_on_conflict(conn, coupon)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["workspace_id", "code"])
            .returning(coupon.c.code)
        )
        inserted.update(conn.execute(stmt).scalars())
    return inserted


def _state_filter(state: str) -> ColumnElement[bool]:
    c = coupon.c
    if state == "free":
        return and_(c.assigned_at.is_(None), c.redeemed_at.is_(None))
    if state == "assigned":
        return and_(c.assigned_at.is_not(None), c.redeemed_at.is_(None))
    return c.redeemed_at.is_not(None)


def list_codes(
    conn: Connection,
    workspace_id: int,
    offer_id: int,
    *,
    status: str | None = None,
    limit: int = 50,
    after: int | None = None,
) -> list[dict[str, Any]]:
    """The pool's codes in id order, each with its ``status`` (free, assigned, redeemed) and,
    once redeemed, the ``order_id`` of the order event that used it (when it has one)."""
    _pool_offer(conn, workspace_id, offer_id)
    # the order's id from the redeeming event (gone when events were purged): by primary key
    order_id = json_value(event.c.properties, "order_id", None, conn.dialect.name)
    joined = coupon.outerjoin(
        event, and_(event.c.id == coupon.c.redemption_event_id, event.c.workspace_id == workspace_id)
    )
    stmt = select(coupon, order_id.label("order_id")).select_from(joined).where(coupon.c.offer_id == offer_id)
    if status is not None:
        if status not in STATES:
            raise InvalidInput(f"status: one of {', '.join(STATES)}", code="invalid_status")
        stmt = stmt.where(_state_filter(status))
    if after is not None:
        stmt = stmt.where(coupon.c.id > after)
    rows = conn.execute(stmt.order_by(coupon.c.id).limit(limit))
    return [{**r._mapping, "status": _state_of(r)} for r in rows]


def _state_of(row: Any) -> str:
    if row.redeemed_at is not None:
        return "redeemed"
    return "assigned" if row.assigned_at is not None else "free"
