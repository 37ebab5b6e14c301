"""Merging contacts: everything the loser owns moves to the survivor, and the merge is recorded.

The loser row stays, pointing at its survivor through ``merged_into`` (chains are kept one
hop long), so an id handed out earlier still leads somewhere. Every table that refers to a
contact is listed in ``CONTACT_REFERENCES``; a package that adds such a table adds it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, or_, select, update

from kairos.b2b.tables import account, account_contact
from kairos.contacts.acquisition import merge_touches
from kairos.contacts.fields import PROFILE_FIELDS
from kairos.contacts.tables import (
    contact,
    contact_change,
    contact_merge,
    contact_tag,
    identity,
    lifecycle_change,
)
from kairos.db.dialect import chunks, insert_on_conflict
from kairos.events.tables import event
from kairos.segments.tables import segment, segment_membership


@dataclass(slots=True)
class Merge:
    loser: int
    survivor: int
    reason: str


#: (table, column) pairs whose rows simply move from loser to survivor.
CONTACT_REFERENCES: list[tuple[Table, str]] = [
    (identity, "contact_id"),
    (event, "contact_id"),
    (lifecycle_change, "contact_id"),  # the person's stage history goes with them
]


def apply_merges(conn: Connection, workspace_id: int, merges: list[Merge], now: datetime) -> None:
    if not merges:
        return
    pairs = [{"l": m.loser, "s": m.survivor} for m in merges]
    for table, column in CONTACT_REFERENCES:
        col = table.c[column]
        conn.execute(update(table).where(col == bindparam("l")).values({column: bindparam("s")}), pairs)

    # Tags: the survivor keeps one row per tag.
    moved_tags = conn.execute(
        select(contact_tag.c.contact_id, contact_tag.c.tag_id, contact_tag.c.created_at).where(
            contact_tag.c.contact_id.in_([m.loser for m in merges])
        )
    ).all()
    if moved_tags:
        survivor_of = {m.loser: m.survivor for m in merges}
        stmt = insert_on_conflict(conn, contact_tag).on_conflict_do_nothing()
        conn.execute(
            stmt,
            [
                {
                    "contact_id": survivor_of[cid],
                    "tag_id": tag_id,
                    "workspace_id": workspace_id,
                    "created_at": created,
                }
                for cid, tag_id, created in moved_tags
            ],
        )
        conn.execute(delete(contact_tag).where(contact_tag.c.contact_id.in_(list(survivor_of))))

    _merge_profiles(conn, merges, now)
    merge_touches(conn, [(m.loser, m.survivor) for m in merges], now)

    conn.execute(
        update(contact)
        .where(contact.c.id == bindparam("l"))
        .values(merged_into=bindparam("s"), updated_at=now),
        pairs,
    )
    conn.execute(
        update(contact).where(contact.c.merged_into == bindparam("l")).values(merged_into=bindparam("s")),
        pairs,
    )
    _move_account_links(conn, merges)
    losers = [m.loser for m in merges]
    conn.execute(delete(contact_change).where(contact_change.c.contact_id.in_(losers)))
    _move_list_memberships(conn, merges)
    # The survivor is re-evaluated as a changed contact; the loser simply stops being a member.
    conn.execute(delete(segment_membership).where(segment_membership.c.contact_id.in_(losers)))
    conn.execute(
        insert(contact_merge),
        [
            {
                "workspace_id": workspace_id,
                "survivor_id": m.survivor,
                "merged_id": m.loser,
                "reason": m.reason,
                "created_at": now,
            }
            for m in merges
        ],
    )


def merges_into(
    conn: Connection, workspace_id: int, contact_id: int, *, limit: int, before: int | None = None
) -> list[dict[str, Any]]:
    """The merges a live contact absorbed, newest first: those into it and, a chain having
    collapsed (A into B, then B into C), those into the contacts merged into it. Each names
    the contact merged away, the one it was merged into, the identifiers that tied them and
    when. ``before`` is the id of the last merge already seen."""
    cm = contact_merge
    absorbed = select(contact.c.id).where(
        contact.c.workspace_id == workspace_id,
        or_(contact.c.id == contact_id, contact.c.merged_into == contact_id),
    )
    stmt = select(cm.c.id, cm.c.merged_id, cm.c.survivor_id, cm.c.reason, cm.c.created_at).where(
        cm.c.workspace_id == workspace_id, cm.c.survivor_id.in_(absorbed)
    )
    if before is not None:
        stmt = stmt.where(cm.c.id < before)
    rows = conn.execute(stmt.order_by(cm.c.id.desc()).limit(limit))
    return [
        {
            "id": r.id,
            "merged_id": r.merged_id,
            "into_id": r.survivor_id,
            "reason": r.reason,
            "merged_at": r.created_at,
        }
        for r in rows
    ]


def _merge_profiles(conn: Connection, merges: list[Merge], now: datetime) -> None:
    """Combine two profiles on the survivor's row.

    The identified profile's values win (an anonymous visitor's guesses never overwrite what
    a known customer told us); between two profiles alike, the survivor's. Blanks are filled
    from the other, custom traits are combined key by key the same way.
    """
    ids = {m.loser for m in merges} | {m.survivor for m in merges}
    cols = [
        contact.c.id,
        contact.c.external_id,
        contact.c.created_at,
        contact.c.traits,
        *(contact.c[f] for f in PROFILE_FIELDS),
    ]
    rows: dict[int, dict[str, Any]] = {}
    for part in chunks(ids):
        for row in conn.execute(select(*cols).where(contact.c.id.in_(part))):
            rows[row.id] = dict(row._mapping)
    merged: dict[int, dict[str, Any]] = {}
    for m in merges:
        loser, survivor = rows[m.loser], merged.get(m.survivor) or dict(rows[m.survivor])
        if loser["external_id"] and not survivor["external_id"]:
            first, second = loser, survivor
        else:
            first, second = survivor, loser
        for f in PROFILE_FIELDS:
            survivor[f] = first[f] if first[f] is not None else second[f]
        survivor["traits"] = {**(second["traits"] or {}), **(first["traits"] or {})}
        survivor["external_id"] = survivor["external_id"] or loser["external_id"]
        survivor["created_at"] = min(survivor["created_at"], loser["created_at"])
        merged[m.survivor] = survivor
    conn.execute(
        update(contact)
        .where(contact.c.id == bindparam("sid"))
        .values(
            {**{f: bindparam(f"v_{f}") for f in (*PROFILE_FIELDS, "traits", "created_at")}, "updated_at": now}
        ),
        [
            {"sid": sid, **{f"v_{f}": row[f] for f in (*PROFILE_FIELDS, "traits", "created_at")}}
            for sid, row in merged.items()
        ],
    )


def _move_account_links(conn: Connection, merges: list[Merge]) -> None:
    """B2B account memberships go to the survivor (one per account, the first role kept);
    the accounts are rolled up again (``b2b/rollup.py``)."""
    survivor_of = {m.loser: m.survivor for m in merges}
    ac = account_contact.c
    rows = conn.execute(
        select(ac.account_id, ac.contact_id, ac.workspace_id, ac.role, ac.source, ac.created_at).where(
            ac.contact_id.in_(list(survivor_of))
        )
    ).all()
    if not rows:
        return
    conn.execute(
        insert_on_conflict(conn, account_contact).on_conflict_do_nothing(),
        [
            {"account_id": a, "contact_id": survivor_of[c], "workspace_id": ws, "role": role,
             "source": source, "created_at": at}
            for a, c, ws, role, source, at in rows
        ],
    )  # fmt: skip
    conn.execute(delete(account_contact).where(ac.contact_id.in_(list(survivor_of))))
    conn.execute(update(account).where(account.c.id.in_({r[0] for r in rows})).values(rollup_stale=True))


def _move_list_memberships(conn: Connection, merges: list[Merge]) -> None:
    """Static lists keep the person: the survivor takes the loser's place (no transition is
    recorded — the same person was on the list all along). Dynamic segments need no such
    care; the worker re-evaluates the survivor."""
    survivor_of = {m.loser: m.survivor for m in merges}
    rows = conn.execute(
        select(
            segment_membership.c.segment_id,
            segment_membership.c.contact_id,
            segment_membership.c.workspace_id,
            segment_membership.c.entered_at,
        )
        .join(segment, segment.c.id == segment_membership.c.segment_id)
        .where(segment.c.kind == "static", segment_membership.c.contact_id.in_(list(survivor_of)))
    ).all()
    if rows:
        conn.execute(
            insert_on_conflict(conn, segment_membership).on_conflict_do_nothing(),
            [
                {"segment_id": sid, "contact_id": survivor_of[cid], "workspace_id": ws, "entered_at": at}
                for sid, cid, ws, at in rows
            ],
        )
