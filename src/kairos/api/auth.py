"""Who is calling, in which workspace, and may they: one place for every management route.

Two kinds of caller reach ``/api/v1``:

- **API keys** (``Authorization: Bearer ak_…``), for automation. A key belongs to one
  workspace and carries a role (``admin`` unless issued otherwise).
- **Console users**, with the session cookie (``kairos_session``, HttpOnly, SameSite=Lax).
  They name the workspace with ``X-Kairos-Workspace`` (optional when they belong to one),
  and their role there decides. A request that changes anything must also carry the
  session's CSRF token in ``X-CSRF-Token``, and, when the browser sends an ``Origin``, come
  from this server's own origin.

Every route's permission (``accounts/roles.py``) comes from ``PERMISSIONS`` or, when it is
not listed, from its method: reading routes need ``read``, the others ``write``. A test
walks the route table so that no route is left to chance.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request

from kairos.accounts import service as accounts
from kairos.accounts import sessions
from kairos.accounts.roles import allows
from kairos.errors import Forbidden, InvalidInput, Unauthorized
from kairos.workspaces.service import Workspace

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WORKSPACE_HEADER = "x-kairos-workspace"
CSRF_HEADER = "x-csrf-token"

#: (method, path under /api/v1) → permission, where the method's default is not right
PERMISSIONS: dict[tuple[str, str], str] = {
    # POSTs that only read
    ("POST", "/segments/preview"): "read",
    ("POST", "/templates/preview"): "read",
    ("POST", "/templates/{template_id}/preview"): "read",
    ("POST", "/journeys/{journey_id}/simulate"): "read",
    ("POST", "/offers/match"): "read",
    ("POST", "/forms/preview"): "read",
    ("POST", "/landing-pages/preview"): "read",
    ("POST", "/reports/funnel"): "read",
    # users, keys, secrets, settings, erasure: admins only
    ("GET", "/keys"): "admin",
    ("POST", "/keys"): "admin",
    ("DELETE", "/keys/{key_id}"): "admin",
    ("GET", "/users"): "admin",
    ("POST", "/users"): "admin",
    ("GET", "/users/{user_id}"): "admin",
    ("PATCH", "/users/{user_id}"): "admin",
    ("DELETE", "/users/{user_id}"): "admin",
    ("POST", "/channels"): "admin",
    ("PATCH", "/channels/{channel_id}"): "admin",
    ("DELETE", "/channels/{channel_id}"): "admin",
    ("POST", "/channels/{channel_id}/verify"): "admin",
    ("GET", "/channels/{channel_id}/signing-secret"): "admin",
    ("GET", "/inbox/identity-secret"): "admin",
    ("PUT", "/messaging/policy"): "admin",
    ("PATCH", "/workspace"): "admin",
    ("PUT", "/exchange-rates"): "admin",
    ("DELETE", "/suppressions/{channel}/{address}"): "admin",
    ("DELETE", "/contacts/{contact_id}"): "admin",
    # approvals are a permission of their own
    ("POST", "/campaigns/{campaign_id}/approve"): "approve",
    ("POST", "/campaigns/{campaign_id}/reject"): "approve",
    # a campaign's thread: those who change campaigns, and those who approve them
    ("POST", "/campaigns/{campaign_id}/comments"): "comment",
    # everyone reads and clears their own notifications
    ("POST", "/notifications/{notification_id}/read"): "read",
    ("POST", "/notifications/read-all"): "read",
    ("GET", "/audit-log"): "audit",
    # CRM connections hold credentials: admins only (reading them and the sync log: any role)
    ("POST", "/crm-connections"): "admin",
    ("PATCH", "/crm-connections/{connection_id}"): "admin",
    ("DELETE", "/crm-connections/{connection_id}"): "admin",
    ("POST", "/crm-connections/{connection_id}/verify"): "admin",
    ("POST", "/crm-connections/{connection_id}/resync"): "admin",
    ("GET", "/crm-connections/{connection_id}/signing-secret"): "admin",
    # lead work: sales users (and admins, marketers), not analysts
    ("POST", "/leads/{contact_id}/accept"): "sales",
    ("POST", "/leads/{contact_id}/reject"): "sales",
    ("POST", "/tasks/{task_id}/claim"): "sales",
    ("POST", "/tasks/{task_id}/complete"): "sales",
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request."""

    workspace: Workspace
    role: str
    approver: bool
    label: str  # "Ann Lee <ann@example.com>" or "API key ak_xxxxxxx… (name)"
    user_id: int | None = None
    key_id: int | None = None

    @property
    def actor(self) -> tuple[str, int]:
        if self.user_id is not None:
            return ("user", self.user_id)
        assert self.key_id is not None
        return ("key", self.key_id)


def permission_for(method: str, path: str) -> str:
    return PERMISSIONS.get((method, path), "read" if method in SAFE_METHODS else "write")


def authorize(request: Request, authorization: str | None) -> Principal:
    """Authenticate the caller, check the route's permission, remember the principal on the
    request (the audit trail reads it) and return it."""
    principal = _authenticate(request, authorization)
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    permission = permission_for(request.method, path)
    if not allows(principal.role, principal.approver, permission):
        what = {"approve": "approve campaigns", "admin": "do this (admins only)",
                "audit": "read the audit log", "comment": "comment on campaigns",
                "sales": "work leads and tasks"}  # fmt: skip
        raise Forbidden(
            f"your role ({principal.role}) cannot {what.get(permission, 'change anything')}", code="forbidden"
        )
    request.state.principal = principal
    return principal


def _authenticate(request: Request, authorization: str | None) -> Principal:
    state = request.app.state.kairos
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use Authorization: Bearer <api key>", code="unauthorized")
        key = state.keys.resolve_key(token.strip(), "api")
        if key is None:
            raise Unauthorized("unknown or revoked API key", code="unauthorized")
        return Principal(key.workspace, key.role, True, key.label, key_id=key.key_id)
    cookie = request.cookies.get(sessions.COOKIE)
    if not cookie:
        raise Unauthorized(
            "missing Authorization: Bearer <api key> (or sign in to the console)", code="unauthorized"
        )
    now = state.clock.now()
    with state.engine.begin() as conn:
        session = sessions.resolve(conn, cookie, now)
        if session is None:
            raise Unauthorized("the session has ended: sign in again", code="unauthorized")
        user = accounts.get_user(conn, session.user_id)
        members = accounts.memberships(conn, session.user_id)
    if request.method not in SAFE_METHODS:
        check_csrf(request, session)
    member = _workspace(request, members)
    ws = state.keys.workspace(member.workspace_id)
    return Principal(ws, member.role, member.approver, f"{user.name} <{user.email}>", user_id=int(user.id))


def _workspace(request: Request, members: list[accounts.Member]) -> accounts.Member:
    raw = request.headers.get(WORKSPACE_HEADER)
    if raw is None:
        if len(members) == 1:
            return members[0]
        raise InvalidInput(
            "name the workspace with the X-Kairos-Workspace header (you belong to several)",
            code="workspace_required",
        )
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("X-Kairos-Workspace is a workspace id", code="workspace_required")
    found = next((m for m in members if m.workspace_id == int(raw)), None)
    if found is None:
        raise Forbidden(f"you are not a member of workspace {raw}", code="forbidden")
    return found


def check_csrf(request: Request, session: sessions.Session) -> None:
    """A cookie request that changes something carries the session's CSRF token, and comes
    from this server's origin when the browser says where it comes from."""
    origin = request.headers.get("origin")
    if origin is not None and not same_origin(request, origin):
        raise Forbidden("the request comes from another site", code="csrf_failed")
    if not sessions.csrf_matches(session, request.headers.get(CSRF_HEADER)):
        raise Forbidden("missing or wrong X-CSRF-Token (reload the console)", code="csrf_failed")


def same_origin(request: Request, origin: str) -> bool:
    state = request.app.state.kairos
    parts = urlsplit(origin)
    mine = {f"{request.url.scheme}://{request.headers.get('host', '')}".lower()}
    base = urlsplit(state.settings.base_url)
    if base.scheme and base.netloc:
        mine.add(f"{base.scheme}://{base.netloc}".lower())
    return f"{parts.scheme}://{parts.netloc}".lower() in mine
