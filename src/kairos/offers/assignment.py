"""Giving an offer to contacts: exactly once per (offer, contact), race-free, set-based.

Each giving is one ``offer_assignment`` row numbered ``nth`` for its contact; the unique
(offer, contact, nth) constraint is the guarantee, the code around it only avoids needing it.
Assigning again while the contact holds an unredeemed assignment gives the same row (and
code) back: a journey step retried after a crash, or an SMS resent, shows one code. A next
one (``nth`` + 1) exists only when the previous was redeemed and ``per_contact_limit``
allows it.

Pool codes are claimed set-based: the batch's free codes in one SELECT — ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so concurrent workers take different codes without waiting; SQLite's
single writer serialises them — then one INSERT of the assignments. An insert lost to a
concurrent assignment of the same (offer, contact, nth) leaves its claimed code free, and the
contact gets the winner's row. ``total_limit`` is counted under a lock on the offer row.

Assignment checks the offer's own rules (status, validity window, limits, codes left), not
its eligibility: targeting is matching's job (``matching.best_offers``, which a journey
calls first), and an explicit assignment — support staff compensating a customer — may
override it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from kairos.clock import ensure_utc, isoformat_z
from kairos.contacts.tables import contact
from kairos.db.dialect import chunks, insert_on_conflict
from kairos.offers.service import offer_row
from kairos.offers.tables import coupon, offer_assignment

#: refusals, shared with matching's explanations
INACTIVE, NOT_STARTED, EXPIRED = "inactive", "not_started", "expired"
SOLD_OUT, NO_CODES_LEFT, ALREADY_GIVEN = "sold_out", "no_codes_left", "already_given"
UNKNOWN_CONTACT = "unknown_contact"


@dataclass(frozen=True, slots=True)
class Assignment:
    """One giving of an offer to a contact, and what a message about it needs."""

    id: int
    offer_id: int
    contact_id: int
    nth: int
    code: str | None
    assigned_at: datetime
    redeemed_at: datetime | None
    #: given by this call (False: the contact already held it)
    new: bool
    #: the offer's fields templates show (key, name, description, kind, value, currency, ends_at)
    offer: dict[str, Any] = field(default_factory=dict)

    def template(self) -> dict[str, Any]:
        """What templates see as ``{{ offer.… }}``: the offer's fields and this ``code``."""
        return {**self.offer, "code": self.code}


@dataclass(slots=True)
class AssignResult:
    assigned: dict[int, Assignment] = field(default_factory=dict)
    #: contact id → why it got nothing (``no_codes_left``, ``sold_out``, ``already_given``, …)
    refused: dict[int, str] = field(default_factory=dict)


@dataclass(slots=True)
class Holding:
    """What one contact (with the contacts merged into it) holds of one offer."""

    given: int = 0
    open: Any = None  # the unredeemed assignment row, if any


def availability(row: dict[str, Any], now: datetime) -> str | None:
    """Why nobody can be given the offer at ``now`` for its status or window, or None."""
    if row["status"] != "active":
        return INACTIVE
    if row["starts_at"] is not None and ensure_utc(row["starts_at"]) > now:
        return NOT_STARTED
    if row["ends_at"] is not None and ensure_utc(row["ends_at"]) <= now:
        return EXPIRED
    return None


def template_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": row["key"],
        "name": row["name"],
        "description": row["description"],
        "kind": row["kind"],
        "value": row["value"],
        "currency": row["currency"],
        "ends_at": isoformat_z(row["ends_at"]),
    }


#: what a preview shows as ``{{ offer.code }}`` of a pool offer the contact holds no code of
SAMPLE_CODE = "SAMPLE00"


def sample_template(
    conn: Connection, workspace_id: int, offer_id: int, contact_id: int | None
) -> dict[str, Any]:
    """What ``{{ offer.… }}`` shows in a template preview or test send: the offer's fields
    with the code the contact holds (its unredeemed assignment), else the offer's static
    code, else ``SAMPLE_CODE`` for a pool offer (None without coupons). Nothing is assigned:
    a preview never uses up a code."""
    row = offer_row(conn, workspace_id, offer_id)
    code: str | None = None
    if contact_id is not None:
        held = holdings(conn, [offer_id], [contact_id]).get((offer_id, contact_id))
        if held is not None and held.open is not None:
            code = held.open.code
    if code is None and row["coupon_mode"] == "static":
        code = row["static_code"]
    elif code is None and row["coupon_mode"] == "pool":
        code = SAMPLE_CODE
    return {**template_fields(row), "code": code}


def holdings(
    conn: Connection, offer_ids: Sequence[int], contact_ids: Sequence[int]
) -> dict[tuple[int, int], Holding]:
    """(offer id, contact id) → what the contact holds, counting the assignments of contacts
    merged into it (merges do not move assignments, so a shopper who identified on a second
    device still holds the coupon the first one got)."""
    owner = {cid: cid for cid in contact_ids}
    for part in chunks(contact_ids):
        merged = select(contact.c.id, contact.c.merged_into).where(contact.c.merged_into.in_(part))
        owner.update({loser: survivor for loser, survivor in conn.execute(merged)})
    out: dict[tuple[int, int], Holding] = {}
    if not offer_ids:
        return out
    a = offer_assignment.c
    for part in chunks(list(owner)):
        for row in conn.execute(
            select(offer_assignment).where(a.offer_id.in_(list(offer_ids)), a.contact_id.in_(part))
        ):
            held = out.setdefault((row.offer_id, owner[row.contact_id]), Holding())
            held.given += 1
            if row.redeemed_at is None and (held.open is None or row.nth > held.open.nth):
                held.open = row
    return out


def assign(
    conn: Connection,
    workspace_id: int,
    offer_id: int,
    contact_ids: Sequence[int],
    now: datetime,
    *,
    source: str | None = None,
) -> AssignResult:
    """Give the offer to these contacts (each at most once per ``nth``), returning each
    one's assignment — the one it already held, or a new one — or why it got none.
    ``source`` (``journey:12``, ``api``) is recorded on new assignments, so that reports
    can credit a redemption to what gave the code."""
    row = offer_row(conn, workspace_id, offer_id)
    if row["total_limit"] is not None:  # the count below must not move until commit
        row = offer_row(conn, workspace_id, offer_id, lock=True)
    view = template_fields(row)
    result = AssignResult()
    wanted = sorted(set(contact_ids))
    live = live_contacts(conn, workspace_id, wanted)
    result.refused.update({cid: UNKNOWN_CONTACT for cid in wanted if cid not in live})
    held = holdings(conn, [offer_id], sorted(live))
    needed: list[tuple[int, int]] = []  # (contact id, nth)
    for cid in sorted(live):
        h = held.get((offer_id, cid), Holding())
        if h.open is not None:
            result.assigned[cid] = _assignment(h.open, view, cid, new=False)
        elif h.given >= row["per_contact_limit"]:
            result.refused[cid] = ALREADY_GIVEN
        else:
            needed.append((cid, h.given + 1))
    reason = availability(row, ensure_utc(now))
    if reason is not None:
        result.refused.update({cid: reason for cid, _ in needed})
        return result
    if row["total_limit"] is not None:
        total = conn.execute(select(func.count()).where(offer_assignment.c.offer_id == offer_id)).scalar_one()
        room = max(row["total_limit"] - total, 0)
        result.refused.update({cid: SOLD_OUT for cid, _ in needed[room:]})
        needed = needed[:room]
    codes: list[tuple[int | None, str | None]]
    if row["coupon_mode"] == "pool":
        codes = _claim_codes(conn, offer_id, len(needed))
        result.refused.update({cid: NO_CODES_LEFT for cid, _ in needed[len(codes) :]})
        needed = needed[: len(codes)]
    else:
        codes = [(None, row["static_code"])] * len(needed)
    rows = list(zip(needed, codes, strict=True))
    _insert(conn, workspace_id, offer_id, rows, now, source, view, result)
    return result


def live_contacts(conn: Connection, workspace_id: int, contact_ids: Sequence[int]) -> set[int]:
    """Those of ``contact_ids`` that are contacts of the workspace, not merged away."""
    found: set[int] = set()
    for part in chunks(contact_ids):
        found.update(
            conn.execute(
                select(contact.c.id).where(
                    contact.c.workspace_id == workspace_id,
                    contact.c.id.in_(part),
                    contact.c.merged_into.is_(None),
                )
            ).scalars()
        )
    return found


def _claim_codes(conn: Connection, offer_id: int, count: int) -> list[tuple[int | None, str | None]]:
    """Up to ``count`` free codes of the pool, locked for this transaction, oldest first."""
    if count == 0:
        return []
    stmt = (
        select(coupon.c.id, coupon.c.code)
        .where(coupon.c.offer_id == offer_id, coupon.c.assigned_at.is_(None), coupon.c.redeemed_at.is_(None))
        .order_by(coupon.c.id)
        .limit(count)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return [(cid, code) for cid, code in conn.execute(stmt)]


def _insert(
    conn: Connection,
    workspace_id: int,
    offer_id: int,
    rows: list[tuple[tuple[int, int], tuple[int | None, str | None]]],
    now: datetime,
    source: str | None,
    view: dict[str, Any],
    result: AssignResult,
) -> None:
    """Insert the assignments; mark the codes of those inserted as assigned; give those that
    lost a race the winner's row."""
    a = offer_assignment.c
    lost: list[tuple[int, int]] = []
    claimed: list[dict[str, Any]] = []
    for part in chunks(rows, 500):
        values = [
            {
                "workspace_id": workspace_id,
                "offer_id": offer_id,
                "contact_id": cid,
                "nth": nth,
                "coupon_id": coupon_id,
                "code": code,
                "source": source,
                "assigned_at": now,
            }
            for (cid, nth), (coupon_id, code) in part
        ]
        stmt = (
            insert_on_conflict(conn, offer_assignment)
            .values(values)
            .on_conflict_do_nothing()
            .returning(*offer_assignment.c)
        )
        won = {r.contact_id: r for r in conn.execute(stmt)}
        for (cid, nth), (coupon_id, _) in part:
            if cid in won:
                result.assigned[cid] = _assignment(won[cid], view, cid, new=True)
                if coupon_id is not None:
                    claimed.append({"coupon": coupon_id, "contact": cid})
            else:
                lost.append((cid, nth))
    if claimed:
        conn.execute(
            update(coupon)
            .where(coupon.c.id == bindparam("coupon"))
            .values(contact_id=bindparam("contact"), assigned_at=now),
            claimed,
        )
    for cid, nth in lost:  # rare: a concurrent assignment of the same contact won
        winner = conn.execute(
            select(offer_assignment).where(a.offer_id == offer_id, a.contact_id == cid, a.nth == nth)
        ).one()
        result.assigned[cid] = _assignment(winner, view, cid, new=False)


def _assignment(row: Any, view: dict[str, Any], contact_id: int, *, new: bool) -> Assignment:
    return Assignment(
        id=row.id,
        offer_id=row.offer_id,
        contact_id=contact_id,
        nth=row.nth,
        code=row.code,
        assigned_at=ensure_utc(row.assigned_at),
        redeemed_at=row.redeemed_at,
        new=new,
        offer=view,
    )
