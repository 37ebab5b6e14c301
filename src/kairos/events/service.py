"""Reading events: the contact timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from kairos.events.tables import event


def list_events(
    conn: Connection,
    contact_id: int,
    *,
    limit: int,
    name: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: tuple[datetime, int] | None = None,
) -> list[dict[str, Any]]:
    """Newest first. ``before`` is the (timestamp, id) of the last row already seen."""
    stmt = select(
        event.c.id,
        event.c.type,
        event.c.name,
        event.c.message_id,
        event.c.user_id,
        event.c.anonymous_id,
        event.c.properties,
        event.c.context,
        event.c.timestamp,
        event.c.original_timestamp,
        event.c.sent_at,
        event.c.received_at,
    ).where(event.c.contact_id == contact_id)
    if name is not None:
        stmt = stmt.where(event.c.name == name)
    if since is not None:
        stmt = stmt.where(event.c.timestamp >= since)
    if until is not None:
        stmt = stmt.where(event.c.timestamp < until)
    if before is not None:
        ts, last_id = before
        stmt = stmt.where(or_(event.c.timestamp < ts, and_(event.c.timestamp == ts, event.c.id < last_id)))
    stmt = stmt.order_by(event.c.timestamp.desc(), event.c.id.desc()).limit(limit)
    return [dict(r._mapping) for r in conn.execute(stmt)]
