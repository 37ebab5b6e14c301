"""/api/v1/accounts (B2B accounts: companies contacts belong to) and /api/v1/account-scores —
thin: parse, call ``kairos.b2b``, shape the answer (docs/leads.md, "Accounts (B2B)")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from kairos.api.account_schemas import (
    AccountCreate,
    AccountMemberRead,
    AccountMembersAdd,
    AccountRead,
    AccountScoreSetting,
    AccountScoreSettingUpdate,
    AccountUpdate,
)
from kairos.api.deps import IdempotencyKey, PageDep, StateDep, WorkspaceDep, encode_cursor, int_cursor
from kairos.api.schemas import Page
from kairos.api.transactions import idempotent_create
from kairos.b2b import service
from kairos.db.engine import reading

router = APIRouter(tags=["accounts"])


@router.get("/accounts", response_model=Page[AccountRead])
def read_accounts(
    state: StateDep,
    ws: WorkspaceDep,
    page: PageDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Name or domain starts with (any case)")
    ] = None,
    domain: Annotated[str | None, Query(max_length=300)] = None,
    external_id: Annotated[str | None, Query(max_length=255)] = None,
    owner_user_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    contact_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="The accounts this contact belongs to")
    ] = None,
) -> dict[str, Any]:
    """B2B accounts in id order, with their members' scores rolled up per score model.
    Filters combine (all must hold); an unknown `contact_id` is 404 `contact_not_found`."""
    after = int_cursor(page.after)
    with reading(state.engine) as conn:
        rows = service.list_accounts(
            conn, ws.id, limit=page.limit, after=after, q=q, domain=domain, external_id=external_id,
            owner_user_id=owner_user_id, contact_id=contact_id,
        )  # fmt: skip
    nxt = encode_cursor(rows[-1]["id"]) if len(rows) == page.limit else None
    return {"data": rows, "next": nxt}


@router.post(
    "/accounts", response_model=AccountRead, status_code=201, responses={200: {"model": AccountRead}}
)
def create_account(
    body: AccountCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Create an account, or update the one with this `external_id` (201 created, 200
    updated), as a Segment `group` call does. An `Idempotency-Key` replays the first answer.
    422: `invalid_domain`, `invalid_owner` (not an active member), `traits_too_large`."""

    def create(conn: Any) -> tuple[int, Any]:
        found, created = service.upsert_account(
            conn, ws.id, body.model_dump(exclude_unset=True), state.now(ws)
        )
        return (201 if created else 200), jsonable_encoder(AccountRead.model_validate(found))

    return idempotent_create(state, ws.id, idempotency_key, "POST /accounts", body.model_dump(), create)


@router.get("/accounts/{account_id}", response_model=AccountRead)
def read_account(account_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return service.get_account(conn, ws.id, account_id)


@router.patch("/accounts/{account_id}", response_model=AccountRead)
def update_account(account_id: int, body: AccountUpdate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Only the fields sent change. Another account's `external_id` is 422
    `external_id_taken`. Segments testing accounts follow within a worker pass."""
    with state.engine.begin() as conn:
        return service.update_account(
            conn, ws.id, account_id, body.model_dump(exclude_unset=True), state.now(ws)
        )


@router.delete("/accounts/{account_id}", status_code=204)
def delete_account(account_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Delete the account; its members stay contacts and simply leave it."""
    with state.engine.begin() as conn:
        service.delete_account(conn, ws.id, account_id, state.now(ws))
    return Response(status_code=204)


@router.get("/accounts/{account_id}/contacts", response_model=Page[AccountMemberRead])
def read_account_contacts(
    account_id: int, state: StateDep, ws: WorkspaceDep, page: PageDep
) -> dict[str, Any]:
    """The account's contacts in id order, with their role there and how they joined."""
    after = int_cursor(page.after)
    with reading(state.engine) as conn:
        rows = service.list_members(conn, ws.id, account_id, limit=page.limit, after=after)
    nxt = encode_cursor(rows[-1]["id"]) if len(rows) == page.limit else None
    return {"data": rows, "next": nxt}


@router.post("/accounts/{account_id}/contacts", response_model=AccountRead)
def add_account_contacts(
    account_id: int, body: AccountMembersAdd, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """Add contacts (a merged id adds its survivor), each with an optional role. Idempotent:
    a member stays one, its role replaced when one is given. An unknown contact is 404
    `contact_not_found` and nothing is added."""
    with state.engine.begin() as conn:
        service.add_members(
            conn, ws.id, account_id, [(m.contact_id, m.role) for m in body.contacts], state.now(ws)
        )
        return service.get_account(conn, ws.id, account_id)


@router.delete("/accounts/{account_id}/contacts/{contact_id}", status_code=204)
def remove_account_contact(account_id: int, contact_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Idempotent: removing a contact that is not a member is not an error."""
    with state.engine.begin() as conn:
        service.remove_member(conn, ws.id, account_id, contact_id, state.now(ws))
    return Response(status_code=204)


@router.get("/account-scores", response_model=Page[AccountScoreSetting])
def read_account_score_settings(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Per score model, the score from which an account's member counts as engaged."""
    with reading(state.engine) as conn:
        return {"data": service.score_settings(conn, ws.id), "next": None}


@router.put("/account-scores/{key}", response_model=AccountScoreSetting)
def update_account_score_setting(
    key: str, body: AccountScoreSettingUpdate, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """Set a score model's engaged threshold; every account is rolled up again by the worker.
    An unknown model is 404 `score_model_not_found`."""
    with state.engine.begin() as conn:
        return service.set_engaged_threshold(conn, ws.id, key, body.engaged_threshold, state.now(ws))
