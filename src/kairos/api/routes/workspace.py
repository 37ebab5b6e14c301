"""/api/v1/workspace — the workspace's own settings: name, time zone, default country and
currency (``kairos.workspaces.settings``). Everyone reads them; admins change them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from kairos.api.deps import StateDep, WorkspaceDep
from kairos.db.engine import reading
from kairos.workspaces.settings import read_workspace, update_workspace

router = APIRouter(prefix="/workspace", tags=["workspace"])


class WorkspaceRead(BaseModel):
    id: int
    name: str
    time_zone: str = Field(
        description="IANA time zone (default UTC): quiet hours and journeys' local times for contacts "
        "without a zone of their own, schedule triggers, and the console's dates"
    )
    default_country: str | None = Field(
        description="ISO 3166 alpha-2: the country of phone numbers written without +country code"
    )
    currency: str | None = Field(
        description="ISO 4217: the default currency of new campaigns, and the currency reports and the "
        "dashboard value money in when neither `?currency=` nor the campaign names one"
    )
    sandbox: bool = Field(description="A sandbox runs on a virtual clock (docs/sandbox.md); set at creation")
    created_at: datetime


class WorkspaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="1 to 200 characters (422 `invalid_name`)")
    time_zone: str | None = Field(
        None, description="An IANA name such as Europe/Paris or Asia/Shanghai (422 `invalid_timezone`)"
    )
    default_country: str | None = Field(
        None, description="ISO 3166 alpha-2 such as FR or CN (422 `invalid_country`); null clears it"
    )
    currency: str | None = Field(
        None, description="ISO 4217 such as EUR or CNY (422 `invalid_currency`); null clears it"
    )


@router.get("", response_model=WorkspaceRead)
def read_settings(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The workspace of the API key (or the one the console user chose)."""
    with reading(state.engine) as conn:
        return read_workspace(conn, ws.id)


@router.patch("", response_model=WorkspaceRead)
def update_settings(body: WorkspaceUpdate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Change any of the fields given (admins only). The time zone is the workspace's only
    one: the messaging policy's `timezone` is this same setting. The change is in the
    audit log like every other."""
    with state.engine.begin() as conn:
        answer = update_workspace(conn, ws.id, body.model_dump(exclude_unset=True))
    state.keys.forget()  # cached workspaces (default country) are read again
    return answer
