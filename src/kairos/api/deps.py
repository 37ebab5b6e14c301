"""Dependencies shared by the management routes (``Annotated`` aliases, FastAPI style)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import Depends, Header, Query, Request
from sqlalchemy import Engine

from kairos.api.auth import Principal, authorize
from kairos.clock import Clock
from kairos.config import Settings
from kairos.crypto import Keyring
from kairos.db.engine import reading
from kairos.errors import InvalidInput
from kairos.messaging.tracking import Links
from kairos.workspaces.clocks import workspace_now
from kairos.workspaces.service import KeyResolver, Workspace

if TYPE_CHECKING:
    from kairos.worker.sandbox import Advancer


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    clock: Clock
    keys: KeyResolver
    keyring: Keyring
    links: Links
    #: new work was committed (e.g. a message queued): wake the embedded worker, if any
    wake: Callable[[], None] = lambda: None
    #: advances sandbox clocks (``worker/sandbox.py``); built by ``create_app``
    advancer: Advancer | None = None

    def now(self, ws: Workspace | int) -> datetime:
        """The workspace's now: the real clock's, or a sandbox's virtual one (read from the
        database, since another process may have advanced it)."""
        if isinstance(ws, Workspace) and not ws.sandbox:
            return self.clock.now()
        with reading(self.engine) as conn:
            return workspace_now(conn, ws.id if isinstance(ws, Workspace) else ws, self.clock)


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.kairos
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def current_principal(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    """The caller (an API key, or a console user in a workspace), allowed this route
    (``api/auth.py``)."""
    return authorize(request, authorization)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def current_workspace(principal: PrincipalDep) -> Workspace:
    return principal.workspace


WorkspaceDep = Annotated[Workspace, Depends(current_workspace)]

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=255, description="Replays return the first answer"),
]


@dataclass
class PageParams:
    limit: int
    after: str | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size")] = 50,
    after: Annotated[str | None, Query(description="The `next` cursor of the previous page")] = None,
) -> PageParams:
    return PageParams(limit=limit, after=after)


PageDep = Annotated[PageParams, Depends(page_params)]


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise InvalidInput("the 'after' cursor is not one this API issued", code="invalid_cursor") from None


def int_cursor(after: str | None) -> int | None:
    """An id cursor (lists in id order)."""
    if after is None:
        return None
    value = decode_cursor(after)
    if not isinstance(value, int):
        raise InvalidInput("the 'after' cursor is not one this API issued", code="invalid_cursor")
    return value
