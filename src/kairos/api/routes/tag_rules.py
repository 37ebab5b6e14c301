"""/api/v1/tag-rules — thin: parse, call ``kairos.segments.tag_rules``, shape the answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from kairos.api.deps import IdempotencyKey, StateDep, WorkspaceDep
from kairos.api.schemas import Page, TagRuleCreate, TagRuleRead
from kairos.api.transactions import idempotent_create
from kairos.db.engine import reading
from kairos.segments import tag_rules

router = APIRouter(prefix="/tag-rules", tags=["tag rules"])


@router.get("", response_model=Page[TagRuleRead])
def read_tag_rules(state: StateDep, ws: WorkspaceDep, segment_id: int | None = None) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": tag_rules.list_tag_rules(conn, ws.id, segment_id), "next": None}


@router.post("", response_model=TagRuleRead, status_code=201)
def create_tag_rule(
    body: TagRuleCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Members of the segment carry the tag while they are members: the current members are
    tagged now. A segment that tests the tag (even through other rules) is refused with 422
    `tag_rule_loop`."""

    def create(conn: Any) -> tuple[int, Any]:
        rule = tag_rules.create_tag_rule(conn, ws.id, state.now(ws), **body.model_dump())
        return 201, jsonable_encoder(TagRuleRead.model_validate(rule))

    return idempotent_create(state, ws.id, idempotency_key, "POST /tag-rules", body.model_dump(), create)


@router.get("/{rule_id}", response_model=TagRuleRead)
def read_tag_rule(rule_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return tag_rules.get_tag_rule(conn, ws.id, rule_id)


@router.delete("/{rule_id}", status_code=204)
def delete_tag_rule(rule_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """The rule stops; tags it gave stay where they are."""
    with state.engine.begin() as conn:
        tag_rules.delete_tag_rule(conn, ws.id, rule_id)
    return Response(status_code=204)
