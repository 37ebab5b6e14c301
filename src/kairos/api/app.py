"""The ASGI application: ``/v1/*`` goes straight to the ingest app, the rest to FastAPI."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline

from kairos import __version__
from kairos.api import errors
from kairos.api.audit import AuditTrail
from kairos.api.console import ConsoleApp, is_console_path, reserved_segments
from kairos.api.deps import AppState
from kairos.api.ingest import IngestApp
from kairos.api.input_guard import guard_input
from kairos.api.limits import BodyLimit
from kairos.api.routes import (
    accounts,
    attributes,
    campaigns,
    computed_traits,
    consent,
    contacts,
    crm,
    exchange_rates,
    forms,
    forms_public,
    journey_simulation,
    journeys,
    keys,
    leads,
    messaging,
    notifications,
    offers,
    predict,
    public,
    reports,
    sandbox,
    scoring,
    segments,
    session,
    tag_rules,
    tags,
    users,
    workspace,
)
from kairos.clock import Clock, SystemClock
from kairos.config import Settings, get_settings
from kairos.crypto import Keyring
from kairos.db.engine import WalCheckpointer, make_engine
from kairos.db.faults import check_writable
from kairos.events.writer import IngestWriter
from kairos.messaging.tracking import Links
from kairos.runtime import tune_gc
from kairos.worker.loop import Worker, build_dispatcher
from kairos.worker.sandbox import Advancer
from kairos.workspaces.service import KeyResolver

log = logging.getLogger(__name__)

DESCRIPTION = """
Management API of Kairos. Authenticate with `Authorization: Bearer <api key>`.
Lists are cursor-paginated: pass `limit`, and the `next` of one page as `after` for the next.
Errors are `{"code": ..., "message": ...}`. Creates honour an `Idempotency-Key` header.

Event ingest (`/v1/track`, `/v1/identify`, `/v1/batch`, …) follows Segment's HTTP Tracking
API and is documented in docs/api.md.
"""


class Kairos:
    """Dispatches by path so ingest pays for no framework routing or middleware."""

    def __init__(self, api: FastAPI, ingest: IngestApp) -> None:
        self.state: AppState = api.state.kairos
        self.api = api
        # all but /v1: bodies bounded, then every accepted change written to the audit log
        self.limited = BodyLimit(AuditTrail(api), self.state.settings.max_request_bytes)
        self.ingest = ingest
        self.console = ConsoleApp()
        self.reserved = reserved_segments(api)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            await self.ingest(scope, receive, send)
        elif scope["type"] == "http" and is_console_path(scope["method"], scope["path"], self.reserved):
            await self.console(scope, receive, send)
        else:
            await self.limited(scope, receive, send)


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, embedded_worker: bool = False
) -> Kairos:
    settings = settings or get_settings()
    clock = clock or SystemClock()
    if (problem := settings.base_url_problem()) is not None:
        log.warning(problem)
    engine = make_engine(settings, background_checkpoints=True)
    checkpointer = WalCheckpointer(engine)
    keyring = Keyring(settings.resolved_secret_key())
    worker = (
        Worker(engine, clock, settings.worker_interval, build_dispatcher(settings, engine, clock))
        if embedded_worker
        else None
    )
    state = AppState(
        settings=settings,
        engine=engine,
        clock=clock,
        keys=KeyResolver(engine, clock=clock),
        keyring=keyring,
        links=Links(keyring, settings.base_url),
        wake=worker.wake if worker is not None else lambda: None,
        advancer=Advancer(settings, engine, clock),
    )
    writer = IngestWriter(
        engine,
        clock,
        max_batch=settings.ingest_max_batch,
        on_commit=worker.wake if worker is not None else None,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        writer.start()
        checkpointer.start()
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if state.advancer is not None:
                state.advancer.close()
            writer.stop()
            checkpointer.stop()
            engine.dispose()

    # /docs and /redoc serve Swagger UI's and ReDoc's assets themselves: they work offline
    api = FastAPIOffline(
        title="Kairos",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(guard_input)],
    )
    api.state.kairos = state
    errors.install(api)
    for module in (
        contacts,
        accounts,
        tags,
        attributes,
        segments,
        computed_traits,
        scoring,
        predict,
        tag_rules,
        messaging,
        consent,
        crm,
        journeys,
        journey_simulation,
        leads,
        campaigns,
        notifications,
        offers,
        reports,
        exchange_rates,
        forms,
        keys,
        sandbox,
        session,
        users,
        workspace,
    ):
        api.include_router(module.router, prefix="/api/v1")
    api.include_router(public.router)
    api.include_router(forms_public.router)

    @api.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness: the process answers. It does not look at the database."""
        return {"status": "ok", "version": __version__}

    @api.get("/health/ready", tags=["meta"])
    def ready() -> dict[str, str]:
        """Readiness: the database accepts a write transaction now (nothing is written);
        otherwise 503 ``database_unavailable`` with ``Retry-After``."""
        check_writable(engine)
        return {"status": "ready", "version": __version__}

    writer.start()  # also usable without a lifespan (tests calling the app directly)
    return Kairos(api, IngestApp(writer, state.keys, clock, settings.cors_origins, state.now))


def app_from_env() -> Kairos:
    """Factory for ``uvicorn --factory`` (``kairos serve --workers N`` starts N of these)."""
    tune_gc()
    embedded = os.environ.get("KAIROS_EMBEDDED_WORKER", "1") == "1"
    return create_app(get_settings(), embedded_worker=embedded)
