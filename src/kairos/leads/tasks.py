"""Human tasks: work a journey's ``task`` node hands to a person (call the lead, send a
WeChat message, visit, anything custom), with a script rendered for the contact, a due
time, and outcomes the journey branches on.

A task is assigned to the contact's sales owner (``owner``; no owner: unassigned), to a
named queue (``queue:<name>``) anyone may claim from, or to a user (``user:<id>``). The
enrollment waits at the node until the task is completed (``complete``: it wakes the
enrollment, which takes the branch of the outcome) or the node's timeout (the task is then
``expired`` and the enrollment takes ``timeout_next``). Completing records the event
``Task Completed`` {task_id, kind, outcome, title} on the contact. An open task past its due
time is escalated once (``task_overdue``) to its assignee and the admins by a worker job.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from kairos.accounts import notifications
from kairos.accounts.tables import app_user
from kairos.contacts.tables import contact
from kairos.db.dialect import chunks, insert_on_conflict
from kairos.errors import Conflict, Forbidden, InvalidInput, NotFound
from kairos.events.ingest import InternalEvent, record_internal
from kairos.journeys.tables import enrollment
from kairos.leads.tables import lead, task
from kairos.workspaces.clocks import EVERY, Scope

OPEN, DONE, EXPIRED = "open", "done", "expired"
STATUSES = (OPEN, DONE, EXPIRED)
MAX_NOTES = 5000


def _view(r: Any, now: datetime) -> dict[str, Any]:
    out = dict(r._mapping)
    out["overdue"] = out["status"] == OPEN and out["due_at"] is not None and out["due_at"] <= now
    return out


def _select() -> Any:
    return (
        select(
            task,
            contact.c.email.label("contact_email"),
            contact.c.first_name.label("contact_first_name"),
            contact.c.last_name.label("contact_last_name"),
            contact.c.lifecycle_stage.label("contact_stage"),
            app_user.c.name.label("assignee_name"),
        )
        .join(contact, contact.c.id == task.c.contact_id)
        .outerjoin(app_user, app_user.c.id == task.c.assignee_user_id)
    )


def get_task(conn: Connection, workspace_id: int, task_id: int, now: datetime) -> dict[str, Any]:
    row = conn.execute(_select().where(task.c.workspace_id == workspace_id, task.c.id == task_id)).first()
    if row is None:
        raise NotFound(f"task {task_id} not found", code="task_not_found")
    return _view(row, now)


def list_tasks(
    conn: Connection,
    workspace_id: int,
    now: datetime,
    *,
    assignee: int | None = None,
    queue: str | None = None,
    status: str | None = None,
    overdue: bool = False,
    contact_id: int | None = None,
    kind: str | None = None,
    unassigned: bool = False,
    limit: int = 50,
    after: int | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """Tasks newest first, filtered; and the cursor of the next page."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status is one of {', '.join(STATUSES)}", code="invalid_status")
    q = _select().where(task.c.workspace_id == workspace_id)
    if assignee is not None:
        q = q.where(task.c.assignee_user_id == assignee)
    if queue is not None:
        q = q.where(task.c.queue == queue)
    if status is not None:
        q = q.where(task.c.status == status)
    if overdue:
        q = q.where(task.c.status == OPEN, task.c.due_at <= now)
    if contact_id is not None:
        q = q.where(task.c.contact_id == contact_id)
    if kind is not None:
        q = q.where(task.c.kind == kind)
    if unassigned:
        q = q.where(task.c.assignee_user_id.is_(None))
    if after is not None:
        q = q.where(task.c.id < after)
    rows = list(conn.execute(q.order_by(task.c.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return [_view(r, now) for r in rows], (int(rows[-1].id) if more and rows else None)


def _open(conn: Connection, workspace_id: int, task_id: int) -> Any:
    q = select(task).where(task.c.workspace_id == workspace_id, task.c.id == task_id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise NotFound(f"task {task_id} not found", code="task_not_found")
    if row.status != OPEN:
        raise Conflict(f"the task is {row.status}", code="task_closed")
    return row


def claim(
    conn: Connection, workspace_id: int, task_id: int, user_id: int | None, now: datetime
) -> dict[str, Any]:
    """Take an unassigned or queued task (claiming one's own again changes nothing)."""
    if user_id is None:
        raise InvalidInput("only console users claim tasks (an API key is nobody)", code="users_only")
    row = _open(conn, workspace_id, task_id)
    if row.assignee_user_id not in (None, user_id):
        raise Conflict("the task is assigned to someone else", code="task_taken")
    if row.assignee_user_id is None:
        conn.execute(
            update(task).where(task.c.id == task_id).values(assignee_user_id=user_id, claimed_at=now)
        )
    return get_task(conn, workspace_id, task_id, now)


def complete(
    conn: Connection,
    workspace_id: int,
    task_id: int,
    outcome: str,
    notes: str | None,
    now: datetime,
    *,
    user_id: int | None,
    any_task: bool,
) -> dict[str, Any]:
    """Close the task with an outcome: the event ``Task Completed`` is recorded on the
    contact and the waiting enrollment moves on (the branch of that outcome)."""
    row = _open(conn, workspace_id, task_id)
    if outcome not in (row.outcomes or []):
        raise InvalidInput(
            f"outcome is one of {', '.join(row.outcomes or [])}, not {outcome!r}", code="invalid_outcome"
        )
    if notes is not None and len(notes) > MAX_NOTES:
        raise InvalidInput(f"notes: at most {MAX_NOTES} characters", code="invalid_notes")
    if not any_task and row.assignee_user_id not in (None, user_id):
        raise Forbidden("this task is someone else's", code="not_your_task")
    conn.execute(
        update(task)
        .where(task.c.id == task_id)
        .values(
            status=DONE,
            outcome=outcome,
            notes=notes,
            completed_at=now,
            completed_by=user_id,
            assignee_user_id=func.coalesce(task.c.assignee_user_id, user_id),
        )
    )
    record_internal(
        conn,
        workspace_id,
        [
            InternalEvent(
                row.contact_id,
                "Task Completed",
                {"task_id": task_id, "kind": row.kind, "outcome": outcome, "title": row.title},
                now,
                f"kairos-task-{task_id}-{secrets.token_hex(6)}",
            )
        ],
        now,
    )
    if row.enrollment_id is not None:
        conn.execute(
            update(enrollment)
            .where(
                enrollment.c.id == row.enrollment_id,
                enrollment.c.state == "active",
                enrollment.c.node == row.node,
                enrollment.c.phase == "wait",
            )
            .values(resume_at=now, woken_at=now, updated_at=now)
        )
    return get_task(conn, workspace_id, task_id, now)


# --- for the journey node -------------------------------------------------------------------


def owners(conn: Connection, contact_ids: list[int]) -> dict[int, int | None]:
    out: dict[int, int | None] = {}
    for part in chunks(contact_ids):
        out.update(
            conn.execute(
                select(lead.c.contact_id, lead.c.owner_user_id).where(lead.c.contact_id.in_(part))
            ).all()
        )
    return out


def create_tasks(
    conn: Connection, workspace_id: int, rows: list[dict[str, Any]], now: datetime
) -> dict[str, int]:
    """Insert tasks (each with its idempotency ``key``; one already there is kept) and tell
    their assignees; returns key → task id."""
    if not rows:
        return {}
    ins = insert_on_conflict(conn, task).on_conflict_do_nothing(
        index_elements=[task.c.workspace_id, task.c.key]
    )
    existing = set(
        conn.execute(
            select(task.c.key).where(
                task.c.workspace_id == workspace_id, task.c.key.in_([r["key"] for r in rows])
            )
        ).scalars()
    )
    fresh = [r for r in rows if r["key"] not in existing]
    if fresh:
        conn.execute(
            ins, [{"workspace_id": workspace_id, "status": OPEN, "created_at": now, **r} for r in fresh]
        )
    ids = dict(
        conn.execute(
            select(task.c.key, task.c.id).where(
                task.c.workspace_id == workspace_id, task.c.key.in_([r["key"] for r in rows])
            )
        ).all()
    )
    active = set(
        notifications.members(
            conn, workspace_id, {r["assignee_user_id"] for r in fresh if r.get("assignee_user_id")}
        )
    )
    for r in fresh:
        uid = r.get("assignee_user_id")
        if uid in active:
            notifications.notify(
                conn,
                workspace_id,
                [uid],
                "task_assigned",
                {"task_id": ids[r["key"]], "title": r["title"], "contact_id": r["contact_id"]},
                f"/tasks?task={ids[r['key']]}",
                now,
            )
    return {k: int(v) for k, v in ids.items()}


def outcome_of(conn: Connection, enrollment_id: int, node: str) -> tuple[int, str, str | None] | None:
    """(task id, status, outcome) of the enrollment's latest task at ``node``."""
    row = conn.execute(
        select(task.c.id, task.c.status, task.c.outcome)
        .where(task.c.enrollment_id == enrollment_id, task.c.node == node)
        .order_by(task.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row.id), row.status, row.outcome)


def expire(conn: Connection, task_ids: list[int], now: datetime) -> None:
    for part in chunks(task_ids):
        conn.execute(
            update(task)
            .where(task.c.id.in_(part), task.c.status == OPEN)
            .values(status=EXPIRED, completed_at=now)
        )


def escalate_overdue(conn: Connection, now: datetime, scope: Scope = EVERY) -> int:
    """Open tasks past their due time, escalated once each: to the assignee and the admins."""
    rows = conn.execute(
        select(
            task.c.id,
            task.c.workspace_id,
            task.c.title,
            task.c.contact_id,
            task.c.assignee_user_id,
            task.c.due_at,
        )
        .where(
            task.c.status == OPEN,
            task.c.due_at <= now,
            task.c.escalated_at.is_(None),
            scope.clause(task.c.workspace_id),
        )
        .order_by(task.c.due_at)
        .limit(500)
    ).all()
    admins: dict[int, list[int]] = {}
    for r in rows:
        if r.workspace_id not in admins:
            admins[r.workspace_id] = notifications.admins(conn, r.workspace_id)
        told = set(admins[r.workspace_id])
        if r.assignee_user_id is not None:
            told.update(notifications.members(conn, r.workspace_id, [r.assignee_user_id]))
        notifications.notify(
            conn,
            r.workspace_id,
            told,
            "task_overdue",
            {"task_id": r.id, "title": r.title, "contact_id": r.contact_id},
            f"/tasks?task={r.id}",
            now,
        )
    if rows:
        for part in chunks([r.id for r in rows]):
            conn.execute(update(task).where(task.c.id.in_(part)).values(escalated_at=now))
    return len(rows)
