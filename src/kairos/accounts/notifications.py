"""In-app notifications: what a console user should know about, in one workspace.

A notification stores a ``kind`` and its ``params`` — never a sentence: the console words it
in the reader's language (``approval_requested`` with ``{campaign, actor, comment}`` reads
"Ann asked you to approve Spring sale"). It is written in the same transaction as the action
it tells about, so there is none for an action that was rolled back. Each names the console
page it leads to (``link``). Only users have notifications; an API key has none.

Kinds: ``approval_requested`` (to every approver but the requester), ``campaign_approved``,
``campaign_rejected`` (to the requester), ``campaign_comment`` (to the requester and the
thread's other participants); lead management (``kairos.leads``): ``lead_assigned`` (to the
new owner), ``lead_sla_breached`` (to the owner and the admins), ``task_assigned`` (to the
assignee), ``task_overdue`` (to the assignee, or the admins for a queue's task).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from kairos.accounts.tables import app_user, membership, notification
from kairos.errors import NotFound

KINDS = (
    "approval_requested", "campaign_approved", "campaign_rejected", "campaign_comment",
    "lead_assigned", "lead_sla_breached", "task_assigned", "task_overdue",
)  # fmt: skip
#: a comment is quoted in a notification up to this many characters
EXCERPT = 280


def excerpt(text: str | None) -> str | None:
    if not text:
        return None
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def approvers(conn: Connection, workspace_id: int) -> list[int]:
    """The active users who may approve campaigns here: admins, and members with the
    approver permission."""
    rows = conn.execute(
        select(membership.c.user_id)
        .join(app_user, app_user.c.id == membership.c.user_id)
        .where(
            membership.c.workspace_id == workspace_id,
            or_(membership.c.role == "admin", membership.c.approver.is_(True)),
            app_user.c.disabled_at.is_(None),
        )
        .order_by(membership.c.user_id)
    )
    return [int(r.user_id) for r in rows]


def admins(conn: Connection, workspace_id: int) -> list[int]:
    """The workspace's active admins."""
    rows = conn.execute(
        select(membership.c.user_id)
        .join(app_user, app_user.c.id == membership.c.user_id)
        .where(
            membership.c.workspace_id == workspace_id,
            membership.c.role == "admin",
            app_user.c.disabled_at.is_(None),
        )
        .order_by(membership.c.user_id)
    )
    return [int(r.user_id) for r in rows]


def members(conn: Connection, workspace_id: int, user_ids: Iterable[int]) -> list[int]:
    """Of ``user_ids``, those still active members of the workspace (a user removed since
    is told nothing)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return []
    rows = conn.execute(
        select(membership.c.user_id)
        .join(app_user, app_user.c.id == membership.c.user_id)
        .where(
            membership.c.workspace_id == workspace_id,
            membership.c.user_id.in_(wanted),
            app_user.c.disabled_at.is_(None),
        )
    )
    return sorted(int(r.user_id) for r in rows)


def notify(
    conn: Connection,
    workspace_id: int,
    user_ids: Iterable[int],
    kind: str,
    params: dict[str, Any],
    link: str,
    now: datetime,
) -> int:
    """One notification per user (duplicates dropped); returns how many were written."""
    assert kind in KINDS, kind
    users = sorted(set(user_ids))
    if users:
        conn.execute(
            insert(notification),
            [
                {"workspace_id": workspace_id, "user_id": u, "kind": kind, "params": params, "link": link,
                 "created_at": now, "read_at": None}
                for u in users
            ],
        )  # fmt: skip
    return len(users)


def _mine(workspace_id: int, user_id: int) -> Any:
    return (notification.c.workspace_id == workspace_id) & (notification.c.user_id == user_id)


def unread_count(conn: Connection, workspace_id: int, user_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).where(_mine(workspace_id, user_id), notification.c.read_at.is_(None))
        ).scalar_one()
    )


def list_notifications(
    conn: Connection,
    workspace_id: int,
    user_id: int,
    limit: int,
    before: int | None,
    unread_only: bool = False,
) -> tuple[list[dict[str, Any]], int | None]:
    """The user's notifications newest first, ``limit`` of them below id ``before``; and the
    cursor of the next page (the last id), or None at the end."""
    q = select(notification).where(_mine(workspace_id, user_id))
    if before is not None:
        q = q.where(notification.c.id < before)
    if unread_only:
        q = q.where(notification.c.read_at.is_(None))
    rows = [dict(r) for r in conn.execute(q.order_by(notification.c.id.desc()).limit(limit + 1)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (int(rows[-1]["id"]) if more and rows else None)


def mark_read(
    conn: Connection, workspace_id: int, user_id: int, notification_id: int, now: datetime
) -> dict[str, Any]:
    """Marks one of the user's notifications read (reading it again keeps the first time)."""
    row = conn.execute(
        select(notification).where(_mine(workspace_id, user_id), notification.c.id == notification_id)
    ).mappings().first()  # fmt: skip
    if row is None:
        raise NotFound(f"no notification {notification_id}", code="notification_not_found")
    if row["read_at"] is None:
        conn.execute(update(notification).where(notification.c.id == notification_id).values(read_at=now))
        return {**dict(row), "read_at": now}
    return dict(row)


def mark_all_read(conn: Connection, workspace_id: int, user_id: int, now: datetime) -> int:
    """Marks every unread notification of the user read; returns how many."""
    result = conn.execute(
        update(notification)
        .where(_mine(workspace_id, user_id), notification.c.read_at.is_(None))
        .values(read_at=now)
    )
    return int(result.rowcount or 0)
