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

from sqlalchemy import Connection, delete, func, select

from kairos.contacts.tables import contact, contact_change, contact_merge, contact_tag
from kairos.db.dialect import chunks
from kairos.events.tables import event


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
    conn: Connection, now: datetime, handlers: Sequence[ChangeHandler] = (), limit: int = 5000
) -> int:
    """Claim up to ``limit`` changed contacts, run the handlers, dequeue them. Returns the count."""
    stmt = (
        select(contact_change.c.contact_id, contact_change.c.workspace_id, contact_change.c.changed_at)
        .where(contact_change.c.changed_at <= now)
        .order_by(contact_change.c.changed_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = conn.execute(stmt).all()
    if not rows:
        return 0
    changes = _changes_since(conn, {cid: at for cid, _, at in rows})
    batch: ChangeBatch = {}
    for cid, ws, _ in rows:
        batch.setdefault(ws, {})[cid] = changes[cid]
    for handler in handlers:
        handler(conn, batch, now)
    ids = [cid for cid, _, _ in rows]
    conn.execute(
        delete(contact_change).where(contact_change.c.contact_id.in_(ids), contact_change.c.changed_at <= now)
    )
    return len(rows)


def what_changed(conn: Connection, contact_ids: Sequence[int]) -> dict[int, Change]:
    """What changed for these queued contacts since they were queued."""
    since: dict[int, datetime] = {}
    for part in chunks(contact_ids):
        rows = conn.execute(
            select(contact_change.c.contact_id, contact_change.c.changed_at).where(
                contact_change.c.contact_id.in_(part)
            )
        )
        since.update({cid: at for cid, at in rows})
    return _changes_since(conn, since)


def _changes_since(conn: Connection, since: dict[int, datetime]) -> dict[int, Change]:
    """Read from the data what happened to contacts since the given instants: events
    received since (by name), profile or tag writes since, merges into them since, their
    creation. A contact with nothing to show for it changed in a way that left no trace (a
    tag removed, a trait unset): its profile is taken as changed."""
    if not since:
        return {}
    start = min(since.values())
    events: dict[int, set[str]] = {}
    profile: set[int] = set()
    everything: set[int] = set()
    for part in chunks(list(since)):
        for cid, name, received in conn.execute(
            select(event.c.contact_id, event.c.name, func.max(event.c.received_at))
            .where(event.c.contact_id.in_(part), event.c.received_at >= start)
            .group_by(event.c.contact_id, event.c.name)
        ):
            if received >= since[cid]:
                events.setdefault(cid, set()).add(name)
        for cid, created, updated in conn.execute(
            select(contact.c.id, contact.c.created_at, contact.c.updated_at).where(contact.c.id.in_(part))
        ):
            if created >= since[cid]:
                everything.add(cid)
            elif updated >= since[cid]:
                profile.add(cid)
        for cid, tagged in conn.execute(
            select(contact_tag.c.contact_id, func.max(contact_tag.c.created_at))
            .where(contact_tag.c.contact_id.in_(part), contact_tag.c.created_at >= start)
            .group_by(contact_tag.c.contact_id)
        ):
            if tagged >= since[cid]:
                profile.add(cid)
        for cid, merged in conn.execute(
            select(contact_merge.c.survivor_id, func.max(contact_merge.c.created_at))
            .where(contact_merge.c.survivor_id.in_(part), contact_merge.c.created_at >= start)
            .group_by(contact_merge.c.survivor_id)
        ):
            if merged >= since[cid]:
                everything.add(cid)
    return {
        cid: Change(
            frozenset(events.get(cid, ())),
            profile=cid in profile or cid not in events,
            everything=cid in everything,
        )
        for cid in since
    }


