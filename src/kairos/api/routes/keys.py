"""/api/v1/keys — the workspace's write and API keys: list and revoke (never a secret)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from kairos.api.deps import ApiKeyIdDep, StateDep, WorkspaceDep
from kairos.api.schemas import Page
from kairos.db.engine import reading
from kairos.workspaces.service import list_keys, revoke_key

router = APIRouter(prefix="/keys", tags=["keys"])


class KeyRead(BaseModel):
    id: int
    kind: Literal["write", "api"] = Field(description="write: ingest (/v1/*); api: management (/api/v1)")
    name: str
    prefix: str = Field(description="The key's first 10 characters, to tell keys apart; not a secret")
    created_at: datetime
    revoked_at: datetime | None


@router.get("", response_model=Page[KeyRead])
def read_keys(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Every key of the workspace, revoked ones included, oldest first. Keys themselves are
    shown once, when issued (`kairos workspace key`); only their hashes are stored."""
    with reading(state.engine) as conn:
        return {"data": list_keys(conn, ws.id), "next": None}


@router.delete("/{key_id}", status_code=204)
def delete_key(key_id: int, state: StateDep, ws: WorkspaceDep, current: ApiKeyIdDep) -> Response:
    """Revoke a key: refused for the key making the request (409 `key_in_use`) and for the
    last API key (409 `last_api_key`). It stops working at once on this server process and
    within 30 s on the others (docs/operations.md). Revoking a revoked key is a no-op."""
    with state.engine.begin() as conn:
        revoke_key(conn, state.clock, ws.id, key_id, requesting_key_id=current)
    state.keys.forget()
    return Response(status_code=204)
