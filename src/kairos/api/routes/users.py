"""/api/v1/users — the workspace's console users and their roles (admins only), and
/api/v1/audit-log — who changed what (admins and analysts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kairos.accounts import audit
from kairos.accounts import service as accounts
from kairos.api.deps import PrincipalDep, StateDep, WorkspaceDep
from kairos.db.engine import reading
from kairos.errors import InvalidInput

router = APIRouter(tags=["users"])

RoleName = Literal["admin", "marketer", "analyst", "sales"]


class UserRead(BaseModel):
    id: int
    email: str
    name: str
    role: RoleName
    approver: bool = Field(description="May approve campaigns (admins always may)")
    created_at: datetime = Field(description="When they joined this workspace")
    disabled_at: datetime | None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    name: str = Field(min_length=1, max_length=200)
    role: RoleName
    approver: bool = False
    password: str | None = Field(
        None,
        max_length=1024,
        description="For a new user: their first password (12+ characters). An existing user "
        "(same email) is added to this workspace as they are.",
    )


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: RoleName | None = None
    approver: bool | None = None


class UserPage(BaseModel):
    data: list[UserRead]
    next: str | None = None


@router.get("/users", response_model=UserPage)
def read_users(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": accounts.list_members(conn, ws.id), "next": None}


@router.post("/users", response_model=UserRead, status_code=201)
def add_user(body: UserCreate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Give someone a role in this workspace: a new user (with `password`) or one who has an
    account already (found by email). 409 `member_exists`, 422 `weak_password`."""
    now = state.clock.now()
    with state.engine.begin() as conn:
        existing = accounts.user_by_email(conn, body.email)
        if existing is None:
            if not body.password:
                raise InvalidInput("a new user needs a first password", code="password_required")
            user_id = accounts.create_user(conn, body.email, body.name, body.password, now)
        else:
            user_id = int(existing.id)
        accounts.add_member(conn, ws.id, user_id, body.role, body.approver, now)
        return accounts.member(conn, ws.id, user_id)


@router.get("/users/{user_id}", response_model=UserRead)
def read_user(user_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return accounts.member(conn, ws.id, user_id)


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(user_id: int, body: UserUpdate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Change a member's role or approver permission; the last admin stays admin (409
    `last_admin`)."""
    with state.engine.begin() as conn:
        return accounts.update_member(conn, ws.id, user_id, role=body.role, approver=body.approver)


@router.delete("/users/{user_id}", status_code=204)
def remove_user(user_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Take the user out of this workspace (their account stays for their other ones); not
    the last admin (409 `last_admin`)."""
    with state.engine.begin() as conn:
        accounts.remove_member(conn, ws.id, user_id)
    return Response(status_code=204)


class AuditEntry(BaseModel):
    id: int
    actor_type: Literal["user", "key", "system"]
    actor_id: int | None
    actor_label: str = Field(description="The user's name and email, or the key's prefix and name")
    action: str = Field(description="METHOD and route, e.g. `PATCH /segments/{segment_id}`")
    object_type: str | None = Field(description="The collection, e.g. `segments`")
    object_id: str | None
    status_code: int
    changes: dict[str, Any] | None = Field(
        description="Changed fields as [before, after]; secrets never appear ([redacted])"
    )
    ip: str | None
    user_agent: str | None
    created_at: datetime


class AuditPage(BaseModel):
    data: list[AuditEntry]
    next: str | None = Field(description="Pass as `before` for older entries")


@router.get("/audit-log", response_model=AuditPage)
def read_audit_log(
    state: StateDep,
    who: PrincipalDep,
    actor_type: Literal["user", "key", "system"] | None = None,
    actor_id: int | None = Query(None, ge=1, le=2**63 - 1),
    object_type: str | None = Query(None, max_length=60),
    object_id: str | None = Query(None, max_length=100),
    action: str | None = Query(None, max_length=200, description="Part of the action, e.g. `segments`"),
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    before: str | None = Query(None, max_length=20, pattern=r"^\d+$"),
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    """Every change made through the API or the console in this workspace, newest first
    (append-only): who (a user or an API key), what, to which object, the fields changed,
    from which address and browser."""
    with reading(state.engine) as conn:
        rows = audit.entries(
            conn, who.workspace.id, actor_type=actor_type, actor_id=actor_id, object_type=object_type,
            object_id=object_id, action=action, since=since, until=until,
            before_id=int(before) if before else None, limit=limit,
        )  # fmt: skip
    return {"data": rows, "next": str(rows[-1]["id"]) if len(rows) == limit else None}
