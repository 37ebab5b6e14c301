"""/api/v1/offers — thin: parse, call ``kairos.offers``, shape the answer."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from kairos.api.deps import IdempotencyKey, PageDep, StateDep, WorkspaceDep, encode_cursor, int_cursor
from kairos.api.offer_schemas import (
    AssignmentRead,
    CodeCounts,
    CodesAdded,
    CodesGenerate,
    CodesImport,
    ContactRef,
    CouponRead,
    MatchResult,
    OfferCreate,
    OfferRead,
    OfferUpdate,
)
from kairos.api.schemas import Page
from kairos.api.transactions import idempotent_create
from kairos.db.engine import reading
from kairos.errors import Conflict, NotFound
from kairos.offers import codes, matching, service
from kairos.offers.assignment import UNKNOWN_CONTACT, assign

router = APIRouter(prefix="/offers", tags=["offers"])

#: duplicates listed in an answer; the count says how many there were
_DUPLICATES_SHOWN = 1000


def _page(rows: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    return {"data": rows, "next": encode_cursor(rows[-1]["id"]) if len(rows) == limit else None}


@router.get("", response_model=Page[OfferRead])
def read_offers(
    state: StateDep,
    ws: WorkspaceDep,
    page: PageDep,
    status: Annotated[str | None, Query(description="active, paused or archived")] = None,
) -> dict[str, Any]:
    with reading(state.engine) as conn:
        rows = service.list_offers(conn, ws.id, status=status, limit=page.limit, after=int_cursor(page.after))
    return _page(rows, page.limit)


@router.post("", response_model=OfferRead, status_code=201)
def create_offer(
    body: OfferCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """A new offer. 409 `offer_exists` when the key is taken; 422 names the bad field
    (an eligibility condition's errors are paths under `eligibility`)."""

    def create(conn: Any) -> tuple[int, Any]:
        offer = service.create_offer(conn, ws.id, state.now(ws), **body.model_dump())
        return 201, jsonable_encoder(OfferRead.model_validate(offer))

    return idempotent_create(
        state, ws.id, idempotency_key, "POST /offers", body.model_dump(mode="json"), create
    )


@router.post("/match", response_model=MatchResult)
def match_offer(body: ContactRef, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The offer the contact would be given now, and for every offer why it was or was not
    chosen. Gives nothing: use `POST /offers/{id}/assign`."""
    with reading(state.engine) as conn:
        explanation = matching.explain(conn, ws.id, body.contact_id, state.now(ws))
    return asdict(explanation)


@router.get("/{offer_id}", response_model=OfferRead)
def read_offer(offer_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return service.get_offer(conn, ws.id, offer_id)


@router.patch("/{offer_id}", response_model=OfferRead)
def update_offer(offer_id: int, body: OfferUpdate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Change fields; the whole offer is validated again. The key is fixed; the coupon mode
    is fixed once the offer has been given (409 `offer_in_use`)."""
    with state.engine.begin() as conn:
        return service.update_offer(conn, ws.id, offer_id, state.now(ws), body.model_dump(exclude_unset=True))


@router.delete("/{offer_id}", status_code=204)
def archive_offer(offer_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Archives the offer: never matched nor assigned again; codes already given still
    redeem, and it stays readable (`GET /offers?status=archived`)."""
    with state.engine.begin() as conn:
        service.archive_offer(conn, ws.id, offer_id, state.now(ws))
    return Response(status_code=204)


def _added(conn: Any, offer_id: int, added: int, duplicates: list[str]) -> dict[str, Any]:
    counts = CodeCounts(**service.pool_counts(conn, [offer_id])[offer_id])
    shown = duplicates[:_DUPLICATES_SHOWN]
    added_ = CodesAdded(added=added, duplicates=shown, duplicate_count=len(duplicates), codes=counts)
    out: dict[str, Any] = jsonable_encoder(added_)
    return out


@router.post("/{offer_id}/codes/generate", response_model=CodesAdded, status_code=201)
def generate_codes(
    offer_id: int,
    body: CodesGenerate,
    state: StateDep,
    ws: WorkspaceDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Adds `count` random unique codes (no look-alike characters) to a pool offer's pool."""

    def create(conn: Any) -> tuple[int, Any]:
        n = codes.generate_codes(conn, ws.id, offer_id, state.now(ws), **body.model_dump())
        return 201, _added(conn, offer_id, n, [])

    operation = f"POST /offers/{offer_id}/codes/generate"
    return idempotent_create(state, ws.id, idempotency_key, operation, body.model_dump(), create)


@router.post("/{offer_id}/codes/import", response_model=CodesAdded, status_code=201)
def import_codes(
    offer_id: int,
    body: CodesImport,
    state: StateDep,
    ws: WorkspaceDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Adds given codes to a pool offer's pool. Codes already in the workspace (or twice in
    the list) are reported in `duplicates`, not fatal; a malformed one is a 422 naming it."""

    def create(conn: Any) -> tuple[int, Any]:
        result = codes.import_codes(conn, ws.id, offer_id, state.now(ws), body.codes)
        return 201, _added(conn, offer_id, result.imported, result.duplicates)

    operation = f"POST /offers/{offer_id}/codes/import"
    return idempotent_create(state, ws.id, idempotency_key, operation, body.model_dump(), create)


@router.get("/{offer_id}/codes", response_model=Page[CouponRead])
def read_codes(
    offer_id: int,
    state: StateDep,
    ws: WorkspaceDep,
    page: PageDep,
    status: Annotated[str | None, Query(description="free, assigned or redeemed")] = None,
) -> dict[str, Any]:
    with reading(state.engine) as conn:
        rows = codes.list_codes(
            conn, ws.id, offer_id, status=status, limit=page.limit, after=int_cursor(page.after)
        )
    return _page(rows, page.limit)


@router.post("/{offer_id}/assign", response_model=AssignmentRead)
def assign_offer(offer_id: int, body: ContactRef, state: StateDep, ws: WorkspaceDep) -> JSONResponse:
    """Gives the offer (and a code, if it has codes) to the contact: 201 when new, 200 with the
    same assignment when the contact already holds it. Refusals are 409 with the reason as
    code: `no_codes_left`, `sold_out`, `already_given`, `inactive`, `not_started`, `expired`.
    Eligibility is not checked here (see `POST /offers/match`)."""
    with state.engine.begin() as conn:
        result = assign(conn, ws.id, offer_id, [body.contact_id], state.now(ws), source="api")
    reason = result.refused.get(body.contact_id)
    if reason == UNKNOWN_CONTACT:
        raise NotFound(f"contact {body.contact_id} not found", code="contact_not_found")
    if reason is not None:
        raise Conflict(
            f"offer {offer_id} cannot be given to contact {body.contact_id}: {reason}", code=reason
        )
    a = result.assigned[body.contact_id]
    read = AssignmentRead(**{**asdict(a), "offer": a.template()})
    return JSONResponse(jsonable_encoder(read), status_code=201 if a.new else 200)
