"""The changed-contacts queue the worker drains.

Ingest and API writes mark contacts changed (``service.mark_changed``); the worker claims a
batch and hands it to the handlers it was given (segments today; computed traits, scores and
journey triggers as they arrive) in the same transaction, so a crash simply leaves the batch
queued. The queue is how they learn what to re-evaluate without rescanning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, select

from kairos.contacts.tables import contact_change

#: handler(conn, workspace_id → contact ids, now)
ChangeHandler = Callable[[Connection, dict[int, list[int]], datetime], None]


def process_changes(
    conn: Connection, now: datetime, handlers: Sequence[ChangeHandler] = (), limit: int = 5000
) -> int:
    """Claim up to ``limit`` changed contacts, run the handlers, dequeue them. Returns the count."""
    stmt = (
        select(contact_change.c.contact_id, contact_change.c.workspace_id)
        .where(contact_change.c.changed_at <= now)
        .order_by(contact_change.c.changed_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = conn.execute(stmt).all()
    if not rows:
        return 0
    by_workspace: dict[int, list[int]] = {}
    for cid, ws in rows:
        by_workspace.setdefault(ws, []).append(cid)
    for handler in handlers:
        handler(conn, by_workspace, now)
    ids = [cid for cid, _ in rows]
    conn.execute(
        delete(contact_change).where(contact_change.c.contact_id.in_(ids), contact_change.c.changed_at <= now)
    )
    return len(rows)
