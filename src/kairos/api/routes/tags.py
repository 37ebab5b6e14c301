"""/api/v1/tags"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kairos.api.deps import StateDep, WorkspaceDep
from kairos.api.schemas import Page, TagRead
from kairos.contacts.tags import list_tags
from kairos.db.engine import reading

router = APIRouter(prefix="/tags", tags=["tags"])


@router.get("", response_model=Page[TagRead])
def read_tags(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Every tag of the workspace with how many contacts carry it."""
    with reading(state.engine) as conn:
        return {"data": list_tags(conn, ws.id), "next": None}
