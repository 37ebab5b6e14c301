"""Which offer fits a contact best, and why — set-based for a batch of contacts.

The rule: among the workspace's offers (or those named by ``offer_keys``), those that can
still be given — active, inside their validity window, under their total limit, with codes
left in their pool, not yet given to the contact as often as ``per_contact_limit`` allows
(nor held unredeemed) — and whose eligibility condition holds for the contact; of those, the
highest ``priority``, ties to the oldest offer (lowest id). Nothing fits: None.

Offers are visited in that order and each one's eligibility is evaluated once for all the
contacts of the batch still without an offer (one query per offer, never per contact), so a
batch costs at most as many queries as there are offers. ``explain`` runs the same rule for
one contact over every offer, and says for each why it was or was not chosen.

Matching reserves nothing: a pool with 600 codes left is a fit for 1,000 contacts, and
``assignment.assign`` then reports the 400 it could not serve (``no_codes_left``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, select

from kairos.clock import ensure_utc
from kairos.contacts.tables import contact
from kairos.db.dialect import chunks
from kairos.errors import NotFound
from kairos.offers.assignment import (
    ALREADY_GIVEN,
    NO_CODES_LEFT,
    SOLD_OUT,
    Holding,
    availability,
    holdings,
    live_contacts,
)
from kairos.offers.service import given_counts
from kairos.offers.tables import coupon, offer
from kairos.segments.compiler import Context, context, members_query, parse_definition
from kairos.segments.explain import explain as explain_definition

NOT_ELIGIBLE, CHOSEN, OUTRANKED = "not_eligible", "chosen", "outranked"


@dataclass(frozen=True, slots=True)
class Match:
    """The offer chosen for a contact."""

    offer_id: int
    key: str
    name: str
    kind: str
    value: float | None
    currency: str | None
    priority: int
    coupon_mode: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """One offer's fate for one contact. ``eligibility``: the condition tree with ``holds``
    on every node, when it was evaluated."""

    offer_id: int
    key: str
    name: str
    priority: int
    reason: str
    detail: str
    eligibility: dict[str, Any] | None = None


def best_offers(
    conn: Connection,
    workspace_id: int,
    contact_ids: Sequence[int],
    now: datetime,
    *,
    offer_keys: Sequence[str] | None = None,
) -> dict[int, Match | None]:
    """Contact id → the best offer it can be given now, or None."""
    now = ensure_utc(now)
    best: dict[int, Match | None] = dict.fromkeys(contact_ids)
    offers = _offers(conn, workspace_id, offer_keys, ["active"])
    waiting = sorted(live_contacts(conn, workspace_id, contact_ids))
    usable = [
        o for o, reason in zip(offers, _offer_reasons(conn, offers, now), strict=True) if reason is None
    ]
    held = holdings(conn, [o["id"] for o in usable], waiting) if waiting else {}
    ctx = context(conn, workspace_id, now)  # attribute and trait types, read once per batch
    for row in usable:
        if not waiting:
            break
        free = [cid for cid in waiting if not _holds(held, row, cid)]
        for cid in _eligible(conn, workspace_id, row, free, ctx):
            best[cid] = _match(row)
        waiting = [cid for cid in waiting if best[cid] is None]
    return best


@dataclass(frozen=True, slots=True)
class Explanation:
    chosen: Match | None
    #: every offer that is not archived, best first
    offers: list[Verdict]


def explain(conn: Connection, workspace_id: int, contact_id: int, now: datetime) -> Explanation:
    """The offer ``best_offers`` would choose for the contact, and for every offer that is not
    archived, best first, why it was (``chosen``) or was not chosen: ``inactive``,
    ``not_started``, ``expired``, ``sold_out``, ``no_codes_left``, ``already_given``,
    ``not_eligible``, ``outranked``."""
    now = ensure_utc(now)
    found = conn.execute(
        select(contact.c.id).where(
            contact.c.id == contact_id,
            contact.c.workspace_id == workspace_id,
            contact.c.merged_into.is_(None),
        )
    ).first()
    if found is None:
        raise NotFound(f"contact {contact_id} not found", code="contact_not_found")
    offers = _offers(conn, workspace_id, None, ["active", "paused"])
    reasons = _offer_reasons(conn, offers, now)
    held = holdings(conn, [o["id"] for o in offers], [contact_id])
    verdicts: list[Verdict] = []
    chosen: Match | None = None
    for row, reason in zip(offers, reasons, strict=True):
        tree = None
        if reason is None and _holds(held, row, contact_id):
            reason = ALREADY_GIVEN
        if reason is None:
            if row["eligibility"] is not None:
                definition = parse_definition({"schema_version": 1, "root": row["eligibility"]})
                tree = explain_definition(conn, workspace_id, definition, contact_id, now)
            if tree is not None and not tree["holds"]:
                reason = NOT_ELIGIBLE
            else:
                reason = OUTRANKED if chosen else CHOSEN
                chosen = chosen or _match(row)
        detail = _detail(row, reason, held.get((row["id"], contact_id), Holding()))
        verdicts.append(Verdict(row["id"], row["key"], row["name"], row["priority"], reason, detail, tree))
    return Explanation(chosen, verdicts)


def _offers(
    conn: Connection, workspace_id: int, keys: Sequence[str] | None, statuses: list[str]
) -> list[dict[str, Any]]:
    """The offers in matching order: priority first, then age."""
    stmt = select(offer).where(offer.c.workspace_id == workspace_id, offer.c.status.in_(statuses))
    if keys is not None:
        stmt = stmt.where(offer.c.key.in_(list(keys)))
    return [dict(r._mapping) for r in conn.execute(stmt.order_by(offer.c.priority.desc(), offer.c.id))]


def _offer_reasons(conn: Connection, offers: list[dict[str, Any]], now: datetime) -> list[str | None]:
    """Why nobody can be given each offer now (status, window, total limit, codes), or None."""
    limited = [o["id"] for o in offers if o["total_limit"] is not None]
    given = given_counts(conn, limited) if limited else {}
    stocked = _with_free_codes(conn, [o["id"] for o in offers if o["coupon_mode"] == "pool"])
    out: list[str | None] = []
    for o in offers:
        reason = availability(o, now)
        if reason is None and o["total_limit"] is not None and given.get(o["id"], 0) >= o["total_limit"]:
            reason = SOLD_OUT
        if reason is None and o["coupon_mode"] == "pool" and o["id"] not in stocked:
            reason = NO_CODES_LEFT
        out.append(reason)
    return out


def _with_free_codes(conn: Connection, offer_ids: list[int]) -> set[int]:
    """Those pool offers with at least one free code (an index probe each, not a count)."""
    if not offer_ids:
        return set()
    free = select(coupon.c.id).where(
        coupon.c.offer_id == offer.c.id, coupon.c.assigned_at.is_(None), coupon.c.redeemed_at.is_(None)
    )
    return set(conn.execute(select(offer.c.id).where(offer.c.id.in_(offer_ids), exists(free))).scalars())


def _holds(held: dict[tuple[int, int], Holding], row: dict[str, Any], contact_id: int) -> bool:
    """The contact holds the offer unredeemed, or was given it as often as allowed."""
    h = held.get((row["id"], contact_id))
    return h is not None and (h.open is not None or h.given >= row["per_contact_limit"])


def _eligible(
    conn: Connection, workspace_id: int, row: dict[str, Any], contact_ids: list[int], ctx: Context
) -> set[int]:
    """Those of ``contact_ids`` meeting the offer's eligibility (one query per 1,000)."""
    if not contact_ids or row["eligibility"] is None:
        return set(contact_ids)
    definition = parse_definition({"schema_version": 1, "root": row["eligibility"]})
    found: set[int] = set()
    for part in chunks(contact_ids):
        found.update(conn.execute(members_query(workspace_id, definition, ctx, part)).scalars())
    return found


def _match(row: dict[str, Any]) -> Match:
    return Match(
        offer_id=row["id"],
        key=row["key"],
        name=row["name"],
        kind=row["kind"],
        value=row["value"],
        currency=row["currency"],
        priority=row["priority"],
        coupon_mode=row["coupon_mode"],
    )


def _detail(row: dict[str, Any], reason: str, held: Holding) -> str:
    """The reason in words, for the console and the API."""
    if reason == "inactive":
        return f"the offer is {row['status']}"
    if reason == "not_started":
        return f"the offer starts at {ensure_utc(row['starts_at']).isoformat()}"
    if reason == "expired":
        return f"the offer ended at {ensure_utc(row['ends_at']).isoformat()}"
    if reason == SOLD_OUT:
        return f"all {row['total_limit']} of the offer's assignments are given"
    if reason == NO_CODES_LEFT:
        return "the offer's coupon pool has no free code"
    if reason == ALREADY_GIVEN:
        if held.open is not None:
            since = ensure_utc(held.open.assigned_at).isoformat()
            return f"the contact holds it since {since}, not yet redeemed"
        return f"given {held.given} time(s), the most per contact"
    if reason == NOT_ELIGIBLE:
        return "the contact does not meet the eligibility condition"
    if reason == OUTRANKED:
        return "eligible, but an offer ranked higher was chosen"
    return "the best offer the contact can be given"
