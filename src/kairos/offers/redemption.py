"""Redemption: an order event carrying a coupon code marks that code used.

A changed-contacts handler (``kairos.contacts.changes``): for the contacts of the batch that
received an order event since they were queued (``ORDER_EVENTS``), it reads those events,
takes the code from their ``coupon`` (Segment's e-commerce spec) or ``coupon_code``
property, and marks it redeemed, in the worker's transaction:

- a **pool code** is looked up in the workspace, whatever case the shopper typed. The first
  order with it wins: ``redeemed_at`` (the order's timestamp), ``redeemed_by`` (the contact
  who ordered) and ``redemption_event_id`` are set once and never overwritten. A code
  assigned to someone else still counts — the shop accepted it — and ``redeemed_by`` tells
  who actually used it. The assignment holding the code is marked redeemed with it.
- a **static code** is shared, so it redeems the orderer's own unredeemed assignment of that
  offer, if they have one; someone using a static code never given to them leaves no trace.

Codes that match nothing are ignored: the shop knows codes Kairos does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from kairos.contacts.changes import ChangeBatch, new_events
from kairos.contacts.tables import contact
from kairos.db.dialect import chunks
from kairos.events.tables import event
from kairos.offers.service import normalize_code
from kairos.offers.tables import coupon, offer_assignment

#: event names of a completed order (Segment's spec, its snake-case form, and checkouts)
ORDER_EVENTS: tuple[str, ...] = ("Order Completed", "order_completed", "Checkout Completed")
#: properties of an order event that may carry the code, first found wins
CODE_PROPERTIES = ("coupon", "coupon_code")


@dataclass(frozen=True, slots=True)
class Order:
    event_id: int
    contact_id: int
    code: str
    at: datetime


def redeem_coupons(
    conn: Connection, batch: ChangeBatch, now: datetime, order_events: Sequence[str] = ORDER_EVENTS
) -> None:
    """The changed-contacts handler: redeem the codes on the batch's new orders."""
    names = set(order_events)
    for workspace_id, changes in batch.items():
        buyers = sorted(cid for cid, change in changes.items() if change.events & names)
        orders = _orders(conn, buyers, names)
        if orders:
            left = _redeem_pool_codes(conn, workspace_id, orders)
            _redeem_static_codes(conn, workspace_id, left)


def _orders(conn: Connection, contact_ids: list[int], names: set[str]) -> list[Order]:
    """Order events with a code that these queued contacts received since they were queued,
    oldest first."""
    out: list[Order] = []
    for e in new_events(conn, contact_ids, event.c.name.in_(sorted(names))):
        code = _code(e.properties)
        if code is not None:
            out.append(Order(e.id, e.contact_id, code, e.timestamp))
    return sorted(out, key=lambda o: o.event_id)  # across chunks too


def _code(properties: Any) -> str | None:
    if not isinstance(properties, dict):
        return None
    for name in CODE_PROPERTIES:
        value = properties.get(name)
        if isinstance(value, str) and value.strip():
            return normalize_code(value)[:64]
    return None


def _redeem_pool_codes(conn: Connection, workspace_id: int, orders: list[Order]) -> list[Order]:
    """Redeem the pool codes of these orders (the first order per code); returns the orders
    whose code is not a pool code."""
    found: dict[str, tuple[int, bool]] = {}  # code → (coupon id, already redeemed)
    for part in chunks(sorted({o.code for o in orders})):
        for cid, code, redeemed_at in conn.execute(
            select(coupon.c.id, coupon.c.code, coupon.c.redeemed_at).where(
                coupon.c.workspace_id == workspace_id, coupon.c.code.in_(part)
            )
        ):
            found[code] = (cid, redeemed_at is not None)
    used: dict[int, dict[str, Any]] = {}
    for o in orders:
        if o.code in found:
            coupon_id, redeemed = found[o.code]
            if not redeemed and coupon_id not in used:
                used[coupon_id] = {"cid": coupon_id, "at": o.at, "by": o.contact_id, "ev": o.event_id}
    if used:
        # "redeemed_at IS NULL" again: a worker handling another contact may have just won
        conn.execute(
            update(coupon)
            .where(coupon.c.id == bindparam("cid"), coupon.c.redeemed_at.is_(None))
            .values(
                redeemed_at=bindparam("at"), redeemed_by=bindparam("by"), redemption_event_id=bindparam("ev")
            ),
            list(used.values()),
        )
        a = offer_assignment.c
        for ids in chunks(sorted(used)):
            conn.execute(
                update(offer_assignment)
                .where(
                    a.coupon_id == coupon.c.id,
                    coupon.c.id.in_(ids),
                    coupon.c.redeemed_at.is_not(None),
                    a.redeemed_at.is_(None),
                )
                .values(redeemed_at=coupon.c.redeemed_at, redemption_event_id=coupon.c.redemption_event_id)
            )
    return [o for o in orders if o.code not in found]


def _redeem_static_codes(conn: Connection, workspace_id: int, orders: list[Order]) -> None:
    """Redeem the orderers' own unredeemed assignments given with these (static) codes,
    counting the assignments of contacts merged into them."""
    if not orders:
        return
    owner = {o.contact_id: o.contact_id for o in orders}
    for part in chunks(sorted(owner)):
        merged = select(contact.c.id, contact.c.merged_into).where(contact.c.merged_into.in_(part))
        owner.update({loser: survivor for loser, survivor in conn.execute(merged)})
    a = offer_assignment.c
    open_: dict[tuple[int, str], list[int]] = {}  # (contact, code) → assignment ids, oldest first
    codes = sorted({o.code for o in orders})
    for part in chunks(sorted(owner)):
        for aid, cid, code in conn.execute(
            select(a.id, a.contact_id, a.code)
            .where(
                a.workspace_id == workspace_id,
                a.contact_id.in_(part),
                a.code.in_(codes),
                a.coupon_id.is_(None),
                a.redeemed_at.is_(None),
            )
            .order_by(a.id)
        ):
            open_.setdefault((owner[cid], code), []).append(aid)
    updates = []
    for o in orders:
        ids = open_.get((o.contact_id, o.code))
        if ids:
            updates.append({"aid": ids.pop(0), "at": o.at, "ev": o.event_id})
    if updates:
        conn.execute(
            update(offer_assignment)
            .where(a.id == bindparam("aid"), a.redeemed_at.is_(None))
            .values(redeemed_at=bindparam("at"), redemption_event_id=bindparam("ev")),
            updates,
        )
