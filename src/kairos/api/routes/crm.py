"""/api/v1/crm-connections and /contacts/{id}/crm-sync — thin: parse, call ``kairos.crm``, shape."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from kairos.api.crm_schemas import (
    AccountCrmSync,
    ContactCrmSync,
    CrmConnectionCreate,
    CrmConnectionRead,
    CrmConnectionUpdate,
    CrmProviderRead,
    CrmPushRequest,
    CrmQueued,
)
from kairos.api.deps import IdempotencyKey, PrincipalDep, StateDep, WorkspaceDep
from kairos.api.schemas import Page
from kairos.api.transactions import idempotent_create
from kairos.b2b.service import get_account
from kairos.contacts.service import live_contact_id
from kairos.crm import service
from kairos.crm.adapters import load_crm_providers
from kairos.db.engine import reading

router = APIRouter(tags=["crm"])


@router.get("/crm-connections/providers", response_model=Page[CrmProviderRead])
def read_providers(principal: PrincipalDep) -> dict[str, Any]:
    """The CRMs a connection can use, with the JSON Schemas of their `settings` and (write-only)
    `secrets` and their default field mapping: clients build connection forms from them."""
    del principal
    data = [
        {"name": p.name, "description": p.description, "deals": p.deals,
         "settings_schema": p.settings_model.model_json_schema(),
         "secrets_schema": p.secrets_model.model_json_schema(),
         "default_mapping": [{"source": s, "target": t} for s, t in p.default_mapping],
         "default_account_mapping": [{"source": s, "target": t} for s, t in p.default_account_mapping]}
        for p in load_crm_providers().values()
    ]  # fmt: skip
    return {"data": data, "next": None}


@router.get("/crm-connections", response_model=Page[CrmConnectionRead])
def read_connections(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The workspace's connections, each with its contacts per sync status (`counts`), the
    last successful push (`last_synced_at`) and the last error."""
    with reading(state.engine) as conn:
        return {"data": service.list_connections(conn, ws.id, state.keyring), "next": None}


@router.post("/crm-connections", response_model=CrmConnectionRead, status_code=201)
def create_connection(
    body: CrmConnectionCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Connect a CRM (admins). Secrets are encrypted and never returned. The connection's
    selected contacts are queued for a first push at once, with their B2B accounts unless
    `push_accounts` is false (HubSpot companies, Salesforce Accounts, the webhook's
    `account.upsert`, mapped by `account_mapping`: 422 `invalid_account_mapping`); URLs inside
    the server's network are refused (422 `url_not_allowed`) unless the operator allows
    private targets."""

    def create(conn: Any) -> tuple[int, Any]:
        row = service.create_connection(
            conn, ws.id, state.keyring, state.now(ws), body.model_dump(),
            allow_private=state.settings.allow_private_targets,
        )  # fmt: skip
        return 201, jsonable_encoder(CrmConnectionRead.model_validate(row))

    fingerprint = body.model_dump(exclude={"secrets"}) | {"secrets": sorted(body.secrets)}
    return idempotent_create(state, ws.id, idempotency_key, "POST /crm-connections", fingerprint, create)


@router.get("/crm-connections/{connection_id}", response_model=CrmConnectionRead)
def read_connection(connection_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """A connection, with how many of its contacts are queued, sending, synced and failed."""
    with reading(state.engine) as conn:
        row = service.get_connection(conn, ws.id, connection_id, state.keyring)
        row["counts"] = service.connection_stats(conn, ws.id, connection_id)
        row["last_synced_at"] = service.last_synced_at(conn, ws.id, connection_id)
    return row


@router.patch("/crm-connections/{connection_id}", response_model=CrmConnectionRead)
def update_connection(
    connection_id: int, body: CrmConnectionUpdate, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """Change a connection; `settings` and `secrets` are merged into the current ones. A new
    mapping or selection (or `push_accounts` turned on) queues the selected contacts again; a
    new `account_mapping` queues every account the connection holds."""
    with state.engine.begin() as conn:
        return service.update_connection(
            conn, ws.id, connection_id, state.keyring, state.now(ws), body.model_dump(exclude_unset=True),
            allow_private=state.settings.allow_private_targets,
        )  # fmt: skip


@router.delete("/crm-connections/{connection_id}", status_code=204)
def delete_connection(connection_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Delete a connection with its queued syncs, log and deals (the CRM keeps its data)."""
    with state.engine.begin() as conn:
        service.delete_connection(conn, ws.id, connection_id)
    return Response(status_code=204)


@router.post("/crm-connections/{connection_id}/verify", status_code=204)
def verify_connection(connection_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Test the connection without changing anything in the CRM (HubSpot: read one contact;
    Salesforce: log in and describe the object). 422 `crm_unreachable` says what failed."""
    with reading(state.engine) as conn:
        service.verify_connection(
            conn, ws.id, connection_id, state.keyring, allow_private=state.settings.allow_private_targets
        )
    return Response(status_code=204)


@router.post("/crm-connections/{connection_id}/resync", response_model=CrmQueued)
def resync(connection_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, int]:
    """Queue every contact the connection selects for a push (409 `crm_push_disabled` when it
    does not push)."""
    with state.engine.begin() as conn:
        return {"queued": service.resync(conn, ws.id, connection_id, state.now(ws))}


@router.get("/crm-connections/{connection_id}/signing-secret")
def read_signing_secret(connection_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, str]:
    """A webhook connection's signing secret (`whsec_…`, Standard Webhooks) for the receiver."""
    with reading(state.engine) as conn:
        return {"signing_secret": service.signing_secret(conn, ws.id, connection_id, state.keyring)}


@router.get("/contacts/{contact_id}/crm-sync", response_model=ContactCrmSync)
def read_contact_sync(contact_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The contact's id in each CRM, its sync status per connection and its latest 50 sync
    log entries (pushes, retries, failures, deal changes read back)."""
    with reading(state.engine) as conn:
        contact_id = live_contact_id(conn, ws.id, contact_id)
        return service.contact_sync(conn, ws.id, contact_id)


@router.post("/contacts/{contact_id}/crm-sync", response_model=CrmQueued, status_code=202)
def push_contact(
    contact_id: int, state: StateDep, ws: WorkspaceDep, body: CrmPushRequest | None = None
) -> dict[str, int]:
    """Push this contact now, whatever the connections' selection (the worker sends it on its
    next pass); `queued` is the number of connections."""
    with state.engine.begin() as conn:
        contact_id = live_contact_id(conn, ws.id, contact_id)
        n = service.push_contact(conn, ws.id, contact_id, state.now(ws), body.connection_id if body else None)
    return {"queued": n}


@router.get("/accounts/{account_id}/crm-sync", response_model=AccountCrmSync)
def read_account_sync(account_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The account's id in each CRM (HubSpot company, Salesforce Account), its sync status per
    connection and its latest 50 push log entries (404 `account_not_found`)."""
    with reading(state.engine) as conn:
        get_account(conn, ws.id, account_id)
        return service.account_sync(conn, ws.id, account_id)
