"""Segment membership: who is in, and every entry and exit with its instant.

One ``refresh`` serves all three ways membership moves: a full recompute (new or changed
definition), the changed contacts the worker hands over (events or attributes moved), and
the periodic re-check of segments whose conditions look at time ("viewed in the last 7
days" is left by doing nothing). Each is two set-based statements — insert the members not
yet stored, delete the stored ones no longer matching — whose RETURNING rows become
transitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, literal, or_, select, update

from kairos.contacts.attributes import attribute_types
from kairos.db.dialect import chunks
from kairos.segments.compiler import Context, members_query, parse_definition
from kairos.segments.tables import membership_transition, segment, segment_membership

#: How often segments whose conditions look at time are fully re-checked.
TIME_REFRESH = timedelta(minutes=5)


def refresh(
    conn: Connection, seg: Any, now: datetime, contact_ids: Sequence[int] | None = None
) -> tuple[list[int], list[int]]:
    """Bring one dynamic segment's stored members in line with its definition (for all
    contacts, or only ``contact_ids``); returns (entered, exited) contact ids."""
    definition = parse_definition(seg.definition)
    ctx = Context(now, attribute_types(conn, seg.workspace_id), conn.dialect.name)
    if contact_ids is None:
        return _apply(conn, seg, definition, ctx, now, None)
    entered: list[int] = []
    exited: list[int] = []
    for part in chunks(contact_ids):
        e, x = _apply(conn, seg, definition, ctx, now, part)
        entered += e
        exited += x
    return entered, exited


def _apply(
    conn: Connection, seg: Any, definition: Any, ctx: Context, now: datetime, ids: Sequence[int] | None
) -> tuple[list[int], list[int]]:
    matching = members_query(seg.workspace_id, definition, ctx, ids).subquery()
    stored = select(segment_membership.c.contact_id).where(segment_membership.c.segment_id == seg.id)
    new_members = select(
        literal(seg.id),
        matching.c.id,
        literal(seg.workspace_id),
        literal(now, segment_membership.c.entered_at.type),
    ).where(matching.c.id.not_in(stored))
    entered = list(
        conn.execute(
            insert(segment_membership)
            .from_select(["segment_id", "contact_id", "workspace_id", "entered_at"], new_members)
            .returning(segment_membership.c.contact_id)
        ).scalars()
    )
    gone = delete(segment_membership).where(
        segment_membership.c.segment_id == seg.id,
        segment_membership.c.contact_id.not_in(select(matching.c.id)),
    )
    if ids is not None:
        gone = gone.where(segment_membership.c.contact_id.in_(list(ids)))
    exited = list(conn.execute(gone.returning(segment_membership.c.contact_id)).scalars())
    _record(conn, seg, now, entered, exited)
    return entered, exited


def reevaluate_contacts(conn: Connection, by_workspace: dict[int, list[int]], now: datetime) -> None:
    """Changed-contacts handler: re-check these contacts against their workspace's dynamic
    segments (every one, until the dependency index narrows it to those that can change)."""
    segs = conn.execute(
        select(segment).where(
            segment.c.workspace_id.in_(list(by_workspace)),
            segment.c.kind == "dynamic",
            segment.c.needs_refresh.is_(False),  # the full refresh will cover these contacts
        )
    ).all()
    for seg in segs:
        refresh(conn, seg, now, by_workspace[seg.workspace_id])


def refresh_due(conn: Connection, now: datetime) -> int:
    """Worker job: fully refresh segments that are new or changed, and time-dependent ones
    not re-checked for ``TIME_REFRESH``. One segment per call (one transaction)."""
    seg = conn.execute(
        select(segment)
        .where(
            segment.c.kind == "dynamic",
            or_(
                segment.c.needs_refresh.is_(True),
                and_(segment.c.time_dependent.is_(True), segment.c.refreshed_at <= now - TIME_REFRESH),
            ),
        )
        .order_by(segment.c.refreshed_at.is_not(None), segment.c.refreshed_at)
        .limit(1)
    ).first()
    if seg is None:
        return 0
    refresh(conn, seg, now)
    conn.execute(update(segment).where(segment.c.id == seg.id).values(needs_refresh=False, refreshed_at=now))
    return 1


def add_members(conn: Connection, seg: Any, contact_ids: Sequence[int], now: datetime) -> list[int]:
    """Static lists: add contacts (already live ids of the segment's workspace); returns
    those that entered (the others were members already)."""
    present: set[int] = set()
    for part in chunks(contact_ids):
        present.update(
            conn.execute(
                select(segment_membership.c.contact_id).where(
                    segment_membership.c.segment_id == seg.id, segment_membership.c.contact_id.in_(part)
                )
            ).scalars()
        )
    entered = [cid for cid in dict.fromkeys(contact_ids) if cid not in present]
    if entered:
        conn.execute(
            insert(segment_membership),
            [
                {"segment_id": seg.id, "contact_id": c, "workspace_id": seg.workspace_id, "entered_at": now}
                for c in entered
            ],
        )
        _record(conn, seg, now, entered, [])
    return entered


def remove_member(conn: Connection, seg: Any, contact_id: int, now: datetime) -> bool:
    gone = conn.execute(
        delete(segment_membership).where(
            segment_membership.c.segment_id == seg.id, segment_membership.c.contact_id == contact_id
        )
    ).rowcount
    if gone:
        _record(conn, seg, now, [], [contact_id])
    return bool(gone)


def _record(conn: Connection, seg: Any, now: datetime, entered: list[int], exited: list[int]) -> None:
    rows = [
        {"workspace_id": seg.workspace_id, "segment_id": seg.id, "contact_id": cid, "kind": kind, "at": now}
        for kind, cids in (("entered", entered), ("exited", exited))
        for cid in cids
    ]
    if rows:
        conn.execute(insert(membership_transition), rows)
