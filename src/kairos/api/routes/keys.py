"""/api/v1/keys — the workspace's write and API keys: issue (the secret shown once), list and
revoke (never a secret). Admins only."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from kairos.api.deps import PrincipalDep, StateDep, WorkspaceDep
from kairos.api.schemas import Page
from kairos.db.engine import reading
from kairos.workspaces.service import create_key, hash_key, list_keys, revoke_key
from kairos.workspaces.tables import api_key

router = APIRouter(prefix="/keys", tags=["keys"])


class KeyRead(BaseModel):
    id: int
    kind: Literal["write", "api"] = Field(description="write: ingest (/v1/*); api: management (/api/v1)")
    name: str
    prefix: str = Field(description="The key's first 10 characters, to tell keys apart; not a secret")
    role: Literal["admin", "marketer", "analyst", "sales"] = Field(description="What an API key may do")
    created_at: datetime
    last_used_at: datetime | None = Field(
        description="API keys: when last used (to the minute, within 30 s); write keys: not tracked"
    )
    revoked_at: datetime | None


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["write", "api"] = "api"
    role: Literal["admin", "marketer", "analyst", "sales"] = Field(
        "admin", description="For API keys: what the key may do, as a user of that role"
    )


class KeyCreated(KeyRead):
    key: str = Field(description="The key itself: shown only now (only its hash is stored)")


@router.get("", response_model=Page[KeyRead])
def read_keys(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Every key of the workspace, revoked ones included, oldest first. Keys themselves are
    shown once, when issued (`kairos workspace key`); only their hashes are stored."""
    with reading(state.engine) as conn:
        return {"data": list_keys(conn, ws.id), "next": None}


@router.post("", response_model=KeyCreated, status_code=201)
def issue_key(body: KeyCreate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """A new key; the answer carries the key itself, which is never shown again."""
    with state.engine.begin() as conn:
        raw = create_key(conn, state.clock, ws.id, body.kind, body.name, body.role)
        key_id = conn.execute(select(api_key.c.id).where(api_key.c.key_hash == hash_key(raw))).scalar_one()
        created = next(k for k in list_keys(conn, ws.id) if k["id"] == key_id)
    return {**created, "key": raw}


@router.delete("/{key_id}", status_code=204)
def delete_key(key_id: int, state: StateDep, who: PrincipalDep) -> Response:
    """Revoke a key: refused for the key making the request (409 `key_in_use`) and for the
    last API key (409 `last_api_key`). It stops working at once on this server process and
    within 30 s on the others (docs/operations.md). Revoking a revoked key is a no-op."""
    with state.engine.begin() as conn:
        revoke_key(conn, state.clock, who.workspace.id, key_id, requesting_key_id=who.key_id)
    state.keys.forget()
    return Response(status_code=204)
