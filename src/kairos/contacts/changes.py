"""The changed-contacts queue the worker drains, and what changed for each contact.

Ingest and API writes mark contacts changed (``service.mark_changed``) with the instant of
the change; the queue keeps the earliest unprocessed one. The worker claims a batch, reads
from the data what happened to each contact since (``what_changed``), and hands that to the
handlers it was given (computed traits, then segments; scores and journey triggers as they
arrive) in the same transaction, so a crash simply leaves the batch queued. Handlers use it
to re-evaluate only what depends on what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from kairos.contacts.tables import contact, contact_change, contact_merge, contact_tag
from kairos.db.dialect import chunks, in_ids
from kairos.events.tables import event
from kairos.workspaces.clocks import EVERY, Scope


@dataclass(frozen=True, slots=True)
class Change:
    """What changed for a contact since it was queued: names of events received, whether its
    profile (fields, attributes, tags) may have changed, or everything (new or merged)."""

    events: frozenset[str] = frozenset()
    profile: bool = False
    everything: bool = False


#: workspace id → contact id → what changed
ChangeBatch = dict[int, dict[int, Change]]
#: handler(conn, batch, now)
ChangeHandler = Callable[[Connection, ChangeBatch, datetime], None]


def process_changes(
    conn: Connection,
    now: datetime,
    handlers: Sequence[ChangeHandler] = (),
    limit: int = 5000,
    scope: Scope = EVERY,
) -> int:
    """Claim up to ``limit`` changed contacts, run the handlers, dequeue them. Returns the count."""
    stmt = (
        select(contact_change.c.contact_id, contact_change.c.workspace_id)
        .where(contact_change.c.changed_at <= now, scope.clause(contact_change.c.workspace_id))
        .order_by(contact_change.c.changed_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = conn.execute(stmt).all()
    if not rows:
        return 0
    changes = what_changed(conn, [cid for cid, _ in rows])
    batch: ChangeBatch = {}
    for cid, ws in rows:
        batch.setdefault(ws, {})[cid] = changes[cid]
    for handler in handlers:
        handler(conn, batch, now)
    ids = [cid for cid, _ in rows]
    conn.execute(
        delete(contact_change).where(contact_change.c.contact_id.in_(ids), contact_change.c.changed_at <= now)
    )
    return len(rows)


def new_events(conn: Connection, contact_ids: Sequence[int], *where: Any) -> list[Any]:
    """The events (id, contact_id, name, properties, timestamp, received_at) these queued
    contacts received since they were queued, matching ``where``, oldest first: what change
    handlers (journey triggers, coupon redemption) react to."""
    e = event.c
    out: list[Any] = []
    for part in chunks(contact_ids):
        out.extend(
            conn.execute(
                select(e.id, e.contact_id, e.name, e.properties, e.timestamp, e.received_at)
                .join(contact_change, contact_change.c.contact_id == e.contact_id)
                .where(e.contact_id.in_(part), e.received_at >= contact_change.c.changed_at, *where)
                .order_by(e.id)
            ).all()
        )
    return out


def what_changed(conn: Connection, contact_ids: Sequence[int]) -> dict[int, Change]:
    """What changed for these queued contacts since they were queued: events received
    since (by name), profile or tag writes since, merges into them since, their creation —
    each found by comparing with the queue row's instant in SQL. A contact with nothing to
    show for it changed in a way that left no trace (a tag removed, a trait unset): its
    profile is taken as changed."""
    queued = contact_change.c
    events: dict[int, set[str]] = {}
    profile: set[int] = set()
    everything: set[int] = set()
    found: set[int] = set()
    mine = in_ids(queued.contact_id, contact_ids, conn.dialect.name)
    for cid, name in conn.execute(
        select(event.c.contact_id, event.c.name)
        .join(contact_change, queued.contact_id == event.c.contact_id)
        .where(mine, event.c.received_at >= queued.changed_at)
        .group_by(event.c.contact_id, event.c.name)
    ).all():
        events.setdefault(cid, set()).add(name)
    for cid, created in conn.execute(
        select(contact.c.id, contact.c.created_at >= queued.changed_at)
        .join(contact_change, queued.contact_id == contact.c.id)
        .where(mine, contact.c.updated_at >= queued.changed_at)
    ).all():
        (everything if created else profile).add(cid)
    profile.update(
        conn.execute(
            select(contact_tag.c.contact_id)
            .join(contact_change, queued.contact_id == contact_tag.c.contact_id)
            .where(mine, contact_tag.c.created_at >= queued.changed_at)
        ).scalars().all()
    )
    everything.update(
        conn.execute(
            select(contact_merge.c.survivor_id)
            .join(contact_change, queued.contact_id == contact_merge.c.survivor_id)
            .where(mine, contact_merge.c.created_at >= queued.changed_at)
        ).scalars().all()
    )
    found.update(conn.execute(select(queued.contact_id).where(mine)).scalars().all())
    return {
        cid: Change(
            frozenset(events.get(cid, ())),
            profile=cid in profile or cid not in events,
            everything=cid in everything,
        )
        for cid in found
    }
