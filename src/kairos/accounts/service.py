"""Users and their workspace memberships; the first-run setup."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from kairos.accounts.passwords import hash_password
from kairos.accounts.roles import ROLES
from kairos.accounts.tables import app_user, membership, setup_token, user_session
from kairos.contacts.fields import normalize_email
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.workspaces.settings import time_zone_of
from kairos.workspaces.tables import workspace

#: how long a setup token printed in the terminal stays valid
SETUP_TOKEN_TTL = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Member:
    workspace_id: int
    workspace_name: str
    role: str
    approver: bool
    sandbox: bool
    #: the workspace's IANA time zone (``workspaces/settings.py``)
    time_zone: str = "UTC"


def _email(raw: str) -> str:
    return normalize_email(raw.strip())


def _name(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > 200:
        raise InvalidInput("a name has 1 to 200 characters", code="invalid_name")
    return name


def _role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"role is one of {', '.join(ROLES)}, not {role!r}", code="invalid_role")
    return role


def create_user(conn: Connection, email: str, name: str, password: str, now: datetime) -> int:
    address = _email(email)
    if conn.execute(select(app_user.c.id).where(app_user.c.email == address)).first() is not None:
        raise Conflict(f"a user with the email {address} exists", code="user_exists")
    return int(
        conn.execute(
            insert(app_user)
            .values(
                email=address,
                name=_name(name),
                password_hash=hash_password(password),
                created_at=now,
                updated_at=now,
            )
            .returning(app_user.c.id)
        ).scalar_one()
    )


def user_by_email(conn: Connection, email: str) -> Any:
    try:
        address = _email(email)
    except InvalidInput:
        return None
    return conn.execute(select(app_user).where(app_user.c.email == address)).first()


def get_user(conn: Connection, user_id: int) -> Any:
    row = conn.execute(select(app_user).where(app_user.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"no user {user_id}", code="user_not_found")
    return row


def set_password(conn: Connection, user_id: int, password: str, now: datetime) -> None:
    """A new password signs the user out everywhere."""
    conn.execute(
        update(app_user)
        .where(app_user.c.id == user_id)
        .values(password_hash=hash_password(password), updated_at=now)
    )
    conn.execute(delete(user_session).where(user_session.c.user_id == user_id))


def memberships(conn: Connection, user_id: int) -> list[Member]:
    rows = conn.execute(
        select(
            membership.c.workspace_id,
            workspace.c.name,
            membership.c.role,
            membership.c.approver,
            workspace.c.sandbox,
            workspace.c.settings,
        )
        .join(workspace, workspace.c.id == membership.c.workspace_id)
        .where(membership.c.user_id == user_id)
        .order_by(membership.c.workspace_id)
    ).all()
    return [
        Member(r[0], r[1], r[2], bool(r[3] or r[2] == "admin"), bool(r[4]), time_zone_of(r[5])) for r in rows
    ]


def membership_of(conn: Connection, user_id: int, workspace_id: int) -> Member | None:
    return next((m for m in memberships(conn, user_id) if m.workspace_id == workspace_id), None)


def add_member(
    conn: Connection, workspace_id: int, user_id: int, role: str, approver: bool, now: datetime
) -> None:
    exists = conn.execute(
        select(membership.c.role).where(
            membership.c.workspace_id == workspace_id, membership.c.user_id == user_id
        )
    ).first()
    if exists is not None:
        raise Conflict(f"user {user_id} is already a member of this workspace", code="member_exists")
    conn.execute(
        insert(membership).values(
            workspace_id=workspace_id, user_id=user_id, role=_role(role), approver=approver, created_at=now
        )
    )


def list_members(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            app_user.c.id,
            app_user.c.email,
            app_user.c.name,
            membership.c.role,
            membership.c.approver,
            membership.c.created_at,
            app_user.c.disabled_at,
        )
        .join(membership, membership.c.user_id == app_user.c.id)
        .where(membership.c.workspace_id == workspace_id)
        .order_by(app_user.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def member(conn: Connection, workspace_id: int, user_id: int) -> dict[str, Any]:
    found = next((m for m in list_members(conn, workspace_id) if m["id"] == user_id), None)
    if found is None:
        raise NotFound(f"no user {user_id} in this workspace", code="user_not_found")
    return found


def update_member(
    conn: Connection, workspace_id: int, user_id: int, *, role: str | None, approver: bool | None
) -> dict[str, Any]:
    current = member(conn, workspace_id, user_id)
    values: dict[str, Any] = {}
    if role is not None and role != current["role"]:
        if current["role"] == "admin":
            _keep_an_admin(conn, workspace_id, user_id)
        values["role"] = _role(role)
    if approver is not None:
        values["approver"] = approver
    if values:
        conn.execute(
            update(membership)
            .where(membership.c.workspace_id == workspace_id, membership.c.user_id == user_id)
            .values(values)
        )
    return member(conn, workspace_id, user_id)


def remove_member(conn: Connection, workspace_id: int, user_id: int) -> None:
    current = member(conn, workspace_id, user_id)
    if current["role"] == "admin":
        _keep_an_admin(conn, workspace_id, user_id)
    conn.execute(
        delete(membership).where(membership.c.workspace_id == workspace_id, membership.c.user_id == user_id)
    )


def _keep_an_admin(conn: Connection, workspace_id: int, leaving: int) -> None:
    others = conn.execute(
        select(func.count()).where(
            membership.c.workspace_id == workspace_id,
            membership.c.role == "admin",
            membership.c.user_id != leaving,
        )
    ).scalar_one()
    if not others:
        raise Conflict(
            "a workspace keeps at least one admin: make someone else admin first", code="last_admin"
        )


# --- first-run setup -----------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def setup_needed(conn: Connection) -> bool:
    """True until the first user exists."""
    return conn.execute(select(app_user.c.id).limit(1)).first() is None


def issue_setup_token(conn: Connection, now: datetime) -> str:
    """A one-time token to create the first admin from the browser (printed in the
    terminal by ``make run``); only its hash is stored."""
    token = secrets.token_urlsafe(24)
    conn.execute(insert(setup_token).values(token_hash=_token_hash(token), created_at=now,
                                            expires_at=now + SETUP_TOKEN_TTL))  # fmt: skip
    return token


def complete_setup(conn: Connection, token: str, email: str, name: str, password: str, now: datetime) -> int:
    """Create the first admin — admin and approver of every workspace — with a valid setup
    token, once."""
    if not setup_needed(conn):
        raise Conflict("Kairos is set up already: sign in", code="setup_done")
    found = conn.execute(
        update(setup_token)
        .where(
            setup_token.c.token_hash == _token_hash(token.strip()),
            setup_token.c.used_at.is_(None),
            setup_token.c.expires_at > now,
        )
        .values(used_at=now)
    ).rowcount
    if not found:
        raise InvalidInput(
            "the setup token is not valid (used, expired or mistyped); "
            "`kairos user setup-token` prints a new one",
            code="invalid_setup_token",
        )
    user_id = create_user(conn, email, name, password, now)
    for ws_id in conn.execute(select(workspace.c.id).order_by(workspace.c.id)).scalars():
        add_member(conn, ws_id, user_id, "admin", True, now)
    return user_id
