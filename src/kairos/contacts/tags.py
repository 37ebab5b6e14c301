"""Tags on contacts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, func, insert, literal, select

from kairos.contacts.tables import contact, contact_tag, tag, tag_removal
from kairos.db.dialect import chunks, insert_on_conflict
from kairos.db.types import BigID, UTCDateTime
from kairos.errors import InvalidInput

_TAG = re.compile(r"^[\w][\w\-.: ]{0,99}$")


def validate_tag(name: str) -> str:
    name = name.strip()
    if not _TAG.match(name):
        raise InvalidInput(
            f"tag {name!r} must be 1 to 100 letters, digits, spaces or - _ . :", code="invalid_tag"
        )
    return name


def ensure_tags(conn: Connection, workspace_id: int, names: Iterable[str], now: datetime) -> dict[str, int]:
    """Tag ids by name, creating the missing tags."""
    wanted = sorted({validate_tag(n) for n in names})
    if not wanted:
        return {}
    stmt = insert_on_conflict(conn, tag).on_conflict_do_nothing(index_elements=["workspace_id", "name"])
    conn.execute(stmt, [{"workspace_id": workspace_id, "name": n, "created_at": now} for n in wanted])
    ids: dict[str, int] = {}
    for part in chunks(wanted):
        rows = conn.execute(
            select(tag.c.name, tag.c.id).where(tag.c.workspace_id == workspace_id, tag.c.name.in_(part))
        )
        ids.update({name: tid for name, tid in rows})
    return ids


def add_tags(conn: Connection, workspace_id: int, pairs: Iterable[tuple[int, str]], now: datetime) -> int:
    """Add (contact_id, tag name) pairs; returns how many were new."""
    pairs = list(pairs)
    ids = ensure_tags(conn, workspace_id, (name for _, name in pairs), now)
    stmt = insert_on_conflict(conn, contact_tag).on_conflict_do_nothing()
    rows = [
        {
            "contact_id": cid,
            "tag_id": ids[validate_tag(name)],
            "workspace_id": workspace_id,
            "created_at": now,
        }
        for cid, name in pairs
    ]
    if not rows:
        return 0
    return conn.execute(stmt, rows).rowcount or 0


def _log_removals(
    conn: Connection, workspace_id: int, tag_id: int, contact_ids: list[int], now: datetime
) -> None:
    if contact_ids:
        conn.execute(
            insert(tag_removal),
            [
                {"contact_id": cid, "tag_id": tag_id, "workspace_id": workspace_id, "removed_at": now}
                for cid in contact_ids
            ],
        )


def remove_tag(conn: Connection, workspace_id: int, contact_id: int, name: str, now: datetime) -> bool:
    tag_id = conn.execute(
        select(tag.c.id).where(tag.c.workspace_id == workspace_id, tag.c.name == validate_tag(name))
    ).scalar()
    if tag_id is None:
        return False
    result = conn.execute(
        delete(contact_tag).where(contact_tag.c.contact_id == contact_id, contact_tag.c.tag_id == tag_id)
    )
    if result.rowcount:
        _log_removals(conn, workspace_id, tag_id, [contact_id], now)
    return bool(result.rowcount)


# Set-based forms for rules that tag many contacts at once (``kairos.segments.tag_rules``):
# they return the contacts whose tags changed, for the caller to mark changed.


def tag_contacts(
    conn: Connection, workspace_id: int, name: str, contact_ids: Iterable[int], now: datetime
) -> list[int]:
    """Give the tag ``name`` to these contacts (of this workspace); returns those that did not
    have it. One INSERT … SELECT per 1,000 contacts."""
    tag_id = ensure_tags(conn, workspace_id, [name], now)[validate_tag(name)]
    added: list[int] = []
    for part in chunks(dict.fromkeys(contact_ids)):
        has = select(contact_tag.c.contact_id).where(
            contact_tag.c.contact_id == contact.c.id, contact_tag.c.tag_id == tag_id
        )
        rows = select(
            contact.c.id,
            literal(tag_id, BigID),
            literal(workspace_id, BigID),
            literal(now, UTCDateTime()),
        ).where(contact.c.id.in_(part), contact.c.workspace_id == workspace_id, ~exists(has))
        stmt = insert(contact_tag).from_select(["contact_id", "tag_id", "workspace_id", "created_at"], rows)
        added += conn.execute(stmt.returning(contact_tag.c.contact_id)).scalars()
    return added


def untag_contacts(
    conn: Connection, workspace_id: int, name: str, contact_ids: Iterable[int], now: datetime
) -> list[int]:
    """Take the tag ``name`` from these contacts; returns those that had it."""
    tag_id = conn.execute(
        select(tag.c.id).where(tag.c.workspace_id == workspace_id, tag.c.name == validate_tag(name))
    ).scalar()
    if tag_id is None:
        return []
    removed: list[int] = []
    for part in chunks(dict.fromkeys(contact_ids)):
        stmt = delete(contact_tag).where(contact_tag.c.tag_id == tag_id, contact_tag.c.contact_id.in_(part))
        removed += conn.execute(stmt.returning(contact_tag.c.contact_id)).scalars()
    _log_removals(conn, workspace_id, tag_id, removed, now)
    return removed


def tags_of(conn: Connection, contact_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {cid: [] for cid in contact_ids}
    for part in chunks(contact_ids):
        rows = conn.execute(
            select(contact_tag.c.contact_id, tag.c.name)
            .join(tag, tag.c.id == contact_tag.c.tag_id)
            .where(contact_tag.c.contact_id.in_(part))
            .order_by(tag.c.name)
        )
        for cid, name in rows:
            out[cid].append(name)
    return out


def list_tags(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    counts = (
        select(contact_tag.c.tag_id, func.count().label("contacts"))
        .where(contact_tag.c.workspace_id == workspace_id)
        .group_by(contact_tag.c.tag_id)
        .subquery()
    )
    rows = conn.execute(
        select(tag.c.id, tag.c.name, tag.c.created_at, func.coalesce(counts.c.contacts, 0).label("contacts"))
        .outerjoin(counts, counts.c.tag_id == tag.c.id)
        .where(tag.c.workspace_id == workspace_id)
        .order_by(tag.c.name)
    )
    return [dict(r._mapping) for r in rows]
