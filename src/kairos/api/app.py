"""The ASGI application: ``/v1/*`` goes straight to the ingest app, the rest to FastAPI."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi_offline import FastAPIOffline

from kairos import __version__, metrics
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
from kairos.errors import Forbidden, NotFound, Unauthorized
from kairos.events.log import IngestProcessor
from kairos.events.writer import IngestWriter
from kairos.logs import configure as configure_logging
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

    def __init__(self, api: FastAPI, ingest: IngestApp, processor: IngestProcessor) -> None:
        self.state: AppState = api.state.kairos
        self.api = api
        # all but /v1: bodies bounded, then every accepted change written to the audit log
        self.limited = BodyLimit(AuditTrail(api), self.state.settings.max_request_bytes)
        self.ingest = ingest
        self.processor = processor
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
        Worker(
            engine,
            clock,
            settings.worker_interval,
            build_dispatcher(settings, engine, clock),
            event_retention_days=settings.event_retention_days,
        )
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
    # /v1 answers once a request is in the ingest log; the processor turns it into events
    processor = IngestProcessor(
        engine,
        clock,
        settings.ingest_process_batch,
        on_commit=worker.wake if worker is not None else None,
        poll_interval=settings.ingest_poll_interval,
    )
    writer = IngestWriter(
        engine,
        clock,
        max_batch=settings.ingest_max_batch,
        on_commit=processor.appended if settings.ingest_processor else None,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        writer.start()
        if settings.ingest_processor:
            processor.start()
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
            processor.stop()  # after the writer: what it appended last is processed
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
    @api.get("/ready", tags=["meta"])
    def ready() -> dict[str, str]:
        """Readiness: the database accepts a write transaction now (nothing is written);
        otherwise 503 ``database_unavailable`` with ``Retry-After``."""
        check_writable(engine)
        return {"status": "ready", "version": __version__}

    scrape = api.state.metrics = metrics.exposition(engine, clock)  # also a serve's admin port

    @api.get("/metrics", tags=["meta"], include_in_schema=False)
    def metrics_route(request: Request) -> Response:
        """Prometheus metrics (docs/operations.md), for ``Authorization: Bearer`` the
        ``KAIROS_METRICS_KEY``; without a key configured the route does not exist (404)."""
        key = settings.metrics_key.get_secret_value() if settings.metrics_key is not None else ""
        if not key:
            raise NotFound("no such route")
        given = request.headers.get("authorization", "")
        if not given.startswith("Bearer "):
            raise Unauthorized("GET /metrics needs Authorization: Bearer <KAIROS_METRICS_KEY>")
        if not hmac.compare_digest(given.removeprefix("Bearer ").encode(), key.encode()):
            raise Forbidden("wrong metrics key")
        body, content_type = metrics.render(scrape, request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    # also usable without a lifespan (tests calling the app directly); the processor runs only
    # in the lifespan, so an app nobody stops leaves no thread draining the log behind
    writer.start()
    return Kairos(api, IngestApp(writer, state.keys, clock, settings.cors_origins, state.now), processor)


def app_from_env() -> Kairos:
    """Factory for ``uvicorn --factory`` (``kairos serve --workers N`` starts N of these)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)  # a spawned process: not set up yet
    embedded = os.environ.get("KAIROS_EMBEDDED_WORKER", "1") == "1"
    application = create_app(settings, embedded_worker=embedded)
    tune_gc()  # after the app is built: what it allocated lives as long as the process
    return application
