"""/api/v1/setup and /api/v1/session — the console's first run, sign-in and sign-out.

The session lives on the server; the browser holds only a random token in an HttpOnly,
SameSite=Lax cookie (Secure when served over https). Every answer that signs in carries the
session's CSRF token, which the console sends back in ``X-CSRF-Token`` on every change
(``api/auth.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from kairos.accounts import service as accounts
from kairos.accounts import sessions
from kairos.accounts.passwords import verify_password
from kairos.api.auth import check_csrf
from kairos.api.deps import AppState, StateDep
from kairos.db.engine import reading
from kairos.errors import InvalidInput, Unauthorized
from kairos.workspaces.clocks import sandbox_now

router = APIRouter(tags=["session"])


class UserRead(BaseModel):
    id: int
    email: str
    name: str


class MembershipRead(BaseModel):
    id: int = Field(description="The workspace's id (send it as X-Kairos-Workspace)")
    name: str
    role: Literal["admin", "marketer", "analyst", "sales"]
    approver: bool
    sandbox: bool
    time_zone: str = Field(
        description="The workspace's IANA time zone (`GET /workspace`); the console shows times in it"
    )
    now: datetime | None = Field(
        None,
        description="A sandbox's virtual now (`GET /clock`), which reports count their days up to; "
        "null for a live workspace, which runs on the real clock",
    )


class SessionRead(BaseModel):
    user: UserRead
    workspaces: list[MembershipRead]
    csrf_token: str = Field(description="Send it back in X-CSRF-Token on every change")


class SetupState(BaseModel):
    needed: bool = Field(description="true until the first user exists")


class SetupWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200, description="The one-time token `make run` printed")
    email: str = Field(min_length=3, max_length=320)
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024, description="At least 12 characters")


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


def _client(request: Request) -> tuple[str | None, str | None]:
    return (request.client.host if request.client else None), request.headers.get("user-agent")


def _answer(state: AppState, conn: Any, session: sessions.Session) -> dict[str, Any]:
    user = accounts.get_user(conn, session.user_id)
    return {
        "user": {"id": user.id, "email": user.email, "name": user.name},
        "workspaces": [
            {
                "id": m.workspace_id,
                "name": m.workspace_name,
                "role": m.role,
                "approver": m.approver,
                "sandbox": m.sandbox,
                "time_zone": m.time_zone,
                "now": sandbox_now(conn, m.workspace_id) if m.sandbox else None,
            }
            for m in accounts.memberships(conn, session.user_id)
        ],
        "csrf_token": session.csrf_token,
    }


def _set_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        sessions.COOKIE, token, max_age=int(sessions.ABSOLUTE.total_seconds()), path="/", httponly=True,
        samesite="lax", secure=request.url.scheme == "https",
    )  # fmt: skip


def _current(request: Request, state: AppState, conn: Any) -> sessions.Session:
    session = sessions.resolve(conn, request.cookies.get(sessions.COOKIE, ""), state.clock.now())
    if session is None:
        raise Unauthorized("not signed in", code="unauthorized")
    return session


@router.get("/setup", response_model=SetupState)
def setup_state(state: StateDep) -> dict[str, Any]:
    """Whether the first admin is still to be created (the console then shows its setup page)."""
    with reading(state.engine) as conn:
        return {"needed": accounts.setup_needed(conn)}


@router.post("/setup", response_model=SessionRead, status_code=201)
def setup(body: SetupWrite, request: Request, response: Response, state: StateDep) -> dict[str, Any]:
    """Create the first admin with the one-time token printed by `make run` (or
    `kairos user setup-token`), and sign them in. 422 `invalid_setup_token`, `weak_password`
    (under 12 characters); 409 `setup_done` once a user exists."""
    now = state.clock.now()
    ip, agent = _client(request)
    with state.engine.begin() as conn:
        user_id = accounts.complete_setup(conn, body.token, body.email, body.name, body.password, now)
        token, session = sessions.start(conn, user_id, now, ip, agent)
        answer = _answer(state, conn, session)
    _set_cookie(request, response, token)
    return answer


@router.post("/session", response_model=SessionRead)
def sign_in(body: SignIn, request: Request, response: Response, state: StateDep) -> dict[str, Any]:
    """Sign in: 401 `invalid_credentials`; after 10 failures for an account in 15 minutes, or
    50 from one address, 429 `too_many_attempts` with `Retry-After`."""
    now = state.clock.now()
    ip, agent = _client(request)
    try:
        with state.engine.begin() as conn:
            token, session = sessions.sign_in(conn, body.email, body.password, now, ip, agent)
            answer = _answer(state, conn, session)
    except Unauthorized:
        with state.engine.begin() as conn:  # the failure counts even though sign-in failed
            sessions.record_failure(conn, body.email, ip, now)
        raise
    _set_cookie(request, response, token)
    return answer


@router.get("/session", response_model=SessionRead)
def read_session(request: Request, state: StateDep) -> dict[str, Any]:
    """The signed-in user, their workspaces and roles, and the CSRF token; 401 when not
    signed in (or the session expired: 8 hours idle, 7 days at most)."""
    with state.engine.begin() as conn:
        return _answer(state, conn, _current(request, state, conn))


@router.delete("/session", status_code=204)
def sign_out(request: Request, state: StateDep) -> Response:
    with state.engine.begin() as conn:
        session = _current(request, state, conn)
        check_csrf(request, session)
        sessions.end(conn, session.id)
    response = Response(status_code=204)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


@router.post("/session/sign-out-everywhere", status_code=204)
def sign_out_everywhere(request: Request, state: StateDep) -> Response:
    """End every session of the signed-in user, this one included."""
    with state.engine.begin() as conn:
        session = _current(request, state, conn)
        check_csrf(request, session)
        sessions.end_all(conn, session.user_id)
    response = Response(status_code=204)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


@router.post("/session/password", status_code=204)
def change_password(body: PasswordChange, request: Request, state: StateDep) -> Response:
    """A new password (12 characters or more) ends every other session of the user."""
    now = state.clock.now()
    with state.engine.begin() as conn:
        session = _current(request, state, conn)
        check_csrf(request, session)
        user = accounts.get_user(conn, session.user_id)
        if not verify_password(user.password_hash, body.current_password):
            raise InvalidInput("the current password is wrong", code="invalid_credentials")
        accounts.set_password(conn, session.user_id, body.new_password, now)
        token, _ = sessions.start(conn, session.user_id, now, *_client(request))
    response = Response(status_code=204)
    _set_cookie(request, response, token)
    return response
