"""Lifecycle stages (lead → MQL → SQL → customer …): setting them, with their history.

Every change of ``contact.lifecycle_stage`` goes through ``set_stage``, which records it in
``lifecycle_change`` (read by the lifecycle movement report, ``analytics/lifecycle.py``).
Stages are free text per workspace. It is set-based: a few statements per chunk of 1,000
contacts, whatever their number, so a journey node or an import moving thousands of
contacts costs the same handful of queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, and_, bindparam, func, insert, literal, or_, select, text, update

from kairos.contacts.service import mark_changed
from kairos.contacts.tables import contact, lifecycle_change
from kairos.db.dialect import chunks
from kairos.db.types import UTCDateTime
from kairos.errors import InvalidInput

MAX_STAGE = 40
#: the console's stage filter offers at most this many stages (typing filters more)
MAX_STAGES_LISTED = 500

#: the distinct stages of live contacts, walking the partial index ix_contact_stage
#: (workspace_id, lifecycle_stage, merged_into): one seek per stage, whatever the number of
#: contacts (the same skip scan as the segment builder's event names)
_STAGES = text(
    """
    WITH RECURSIVE stages(stage) AS (
        SELECT min(lifecycle_stage) FROM contact
        WHERE workspace_id = :ws AND lifecycle_stage IS NOT NULL AND merged_into IS NULL
        UNION ALL
        SELECT (
            SELECT min(c.lifecycle_stage) FROM contact c
            WHERE c.workspace_id = :ws AND c.lifecycle_stage > stages.stage AND c.merged_into IS NULL
        )
        FROM stages WHERE stages.stage IS NOT NULL
    )
    SELECT stage FROM stages WHERE stage IS NOT NULL LIMIT :limit
    """
).bindparams(bindparam("ws"), bindparam("limit"))


def clean_stage(stage: Any) -> str | None:
    """The stage as stored: stripped, 1 to 40 characters; None clears it."""
    if stage is None:
        return None
    if not isinstance(stage, str):
        raise InvalidInput("lifecycle_stage must be a string or null", code="invalid_lifecycle_stage")
    text = stage.strip()
    if not text or len(text) > MAX_STAGE:
        raise InvalidInput(
            f"lifecycle_stage must be 1 to {MAX_STAGE} characters (null clears it)",
            code="invalid_lifecycle_stage",
        )
    return text


def set_stage(
    conn: Connection,
    workspace_id: int,
    contact_ids: Iterable[int],
    stage: str | None,
    now: datetime,
    source: str,
) -> int:
    """Set the lifecycle stage of many contacts; returns how many changed.

    Only contacts whose stage differs (NULL-safe) change: for each, a ``lifecycle_change``
    row (from, to, ``source``, ``now``) is inserted from the contact row itself
    (INSERT … SELECT), then the stage and ``updated_at`` are written and the contact is
    queued for the worker, so segments on ``lifecycle_stage`` re-evaluate. A merged
    contact's id stands for its survivor. Contacts of other workspaces are ignored.
    """
    stage = clean_stage(stage)
    if not 1 <= len(source) <= MAX_STAGE:
        raise ValueError(f"source must be 1 to {MAX_STAGE} characters")
    differs = contact.c.lifecycle_stage.is_distinct_from(stage)
    changed: set[int] = set()
    for part in chunks(set(contact_ids)):
        live = select(func.coalesce(contact.c.merged_into, contact.c.id)).where(
            contact.c.id.in_(part), contact.c.workspace_id == workspace_id
        )
        stmt = select(contact.c.id).where(
            contact.c.id.in_(live),
            contact.c.workspace_id == workspace_id,
            contact.c.merged_into.is_(None),
            differs,
        )
        if conn.dialect.name == "postgresql":
            # Lock them: a concurrent writer of the same contacts waits, then sees our stage,
            # so one change is never recorded twice. (SQLite: one writer at a time.)
            stmt = stmt.with_for_update()
        changed.update(conn.execute(stmt).scalars())
    if not changed:
        return 0
    for part in chunks(sorted(changed)):
        conn.execute(
            insert(lifecycle_change).from_select(
                ["workspace_id", "contact_id", "from_stage", "to_stage", "source", "changed_at"],
                select(
                    contact.c.workspace_id,
                    contact.c.id,
                    contact.c.lifecycle_stage,
                    literal(stage, String(MAX_STAGE)),
                    literal(source, String(MAX_STAGE)),
                    literal(now, UTCDateTime),
                ).where(contact.c.id.in_(part), differs),
            )
        )
        conn.execute(
            update(contact)
            .where(contact.c.id.in_(part), differs)
            .values(lifecycle_stage=stage, updated_at=now)
        )
    mark_changed(conn, workspace_id, changed, now)
    return len(changed)


def stages_in_use(conn: Connection, workspace_id: int, limit: int = MAX_STAGES_LISTED) -> list[str]:
    """The stages live contacts of the workspace are at now, in code-point order."""
    return list(conn.execute(_STAGES, {"ws": workspace_id, "limit": limit}).scalars())


def stage_history(
    conn: Connection,
    contact_id: int,
    *,
    limit: int,
    before: tuple[datetime, int] | None = None,
) -> list[dict[str, Any]]:
    """A live contact's stage changes, newest first (a merge brought the loser's history
    along). ``before`` is the (changed_at, id) of the last row already seen."""
    lc = lifecycle_change
    stmt = select(lc.c.id, lc.c.from_stage, lc.c.to_stage, lc.c.source, lc.c.changed_at).where(
        lc.c.contact_id == contact_id
    )
    if before is not None:
        at, last_id = before
        stmt = stmt.where(or_(lc.c.changed_at < at, and_(lc.c.changed_at == at, lc.c.id < last_id)))
    stmt = stmt.order_by(lc.c.changed_at.desc(), lc.c.id.desc()).limit(limit)
    return [dict(r._mapping) for r in conn.execute(stmt)]
