"""/api/v1/notifications — the signed-in user's in-app notifications (approval requests,
decisions and comments on campaigns). Thin: ``kairos.accounts.notifications``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kairos.accounts import notifications
from kairos.api.deps import PrincipalDep, StateDep, encode_cursor, int_cursor
from kairos.db.engine import reading
from kairos.errors import NotFound

router = APIRouter(tags=["notifications"])


class NotificationParams(BaseModel):
    campaign_id: int | None = None
    campaign: str | None = Field(None, description="The campaign's name when it happened")
    actor: str | None = Field(None, description="Who did it: a user's name or an API key's")
    comment: str | None = Field(None, description="The comment's beginning (plain text)")
    contact_id: int | None = Field(None, description="Leads and tasks: the contact")
    contact: str | None = Field(None, description="Leads: the contact's name or email")
    stage: str | None = Field(None, description="Leads: the stage")
    hours: float | None = Field(None, description="lead_sla_breached: the stage's SLA")
    task_id: int | None = None
    title: str | None = Field(None, description="Tasks: the task's title")


class NotificationRead(BaseModel):
    id: int
    kind: Literal[
        "approval_requested",
        "campaign_approved",
        "campaign_rejected",
        "campaign_comment",
        "lead_assigned",
        "lead_sla_breached",
        "task_assigned",
        "task_overdue",
    ] = Field(description="What happened; the console words it in the reader's language from `params`")
    params: NotificationParams
    link: str = Field(description="The console page it leads to, e.g. /campaigns/12")
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    data: list[NotificationRead]
    next: str | None = Field(None, description="Pass as `after` to get the next page; null at the end")
    unread: int = Field(description="The caller's unread notifications in this workspace (all pages)")


class ReadAll(BaseModel):
    marked: int = Field(description="How many were unread")
    unread: int


@router.get("/notifications", response_model=NotificationPage, response_model_exclude_unset=True)
def read_notifications(
    state: StateDep,
    who: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[str | None, Query(description="The `next` cursor of the previous page")] = None,
    unread: Annotated[bool, Query(description="Only the unread ones")] = False,
) -> dict[str, Any]:
    """The caller's notifications in this workspace, newest first, with the unread count
    (`limit: 1` is the cheap way to poll the count). An API key has none: an empty list."""
    if who.user_id is None:
        return {"data": [], "next": None, "unread": 0}
    with reading(state.engine) as conn:
        rows, more = notifications.list_notifications(
            conn, who.workspace.id, who.user_id, limit, int_cursor(after), unread
        )
        count = notifications.unread_count(conn, who.workspace.id, who.user_id)
    return {"data": rows, "next": encode_cursor(more) if more is not None else None, "unread": count}


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationRead,
    response_model_exclude_unset=True,
)
def mark_read(notification_id: int, state: StateDep, who: PrincipalDep) -> dict[str, Any]:
    """Marks one of the caller's notifications read (404 `notification_not_found` for any
    other, an API key's included)."""
    if who.user_id is None:
        raise NotFound(f"no notification {notification_id}", code="notification_not_found")
    ws = who.workspace
    with state.engine.begin() as conn:
        return notifications.mark_read(conn, ws.id, who.user_id, notification_id, state.now(ws))


@router.post("/notifications/read-all", response_model=ReadAll)
def mark_all_read(state: StateDep, who: PrincipalDep) -> dict[str, Any]:
    """Marks every notification of the caller in this workspace read."""
    if who.user_id is None:
        return {"marked": 0, "unread": 0}
    ws = who.workspace
    with state.engine.begin() as conn:
        marked = notifications.mark_all_read(conn, ws.id, who.user_id, state.now(ws))
    return {"marked": marked, "unread": 0}


__all__ = ["router"]
