"""Running a create inside one transaction together with its Idempotency-Key record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from kairos.api.deps import AppState
from kairos.workspaces.idempotency import request_fingerprint, run_once


def idempotent_create(
    state: AppState,
    workspace_id: int,
    key: str | None,
    operation: str,
    body: Any,
    create: Callable[[Connection], tuple[int, Any]],
) -> JSONResponse:
    """Run ``create`` (status, JSON body) in one transaction with its Idempotency-Key record,
    and answer with the stored result on a replay."""
    fingerprint = request_fingerprint("POST", operation, body)
    for attempt in range(2):
        try:
            with state.engine.begin() as conn:
                status, payload = run_once(
                    conn, workspace_id, key, fingerprint, state.clock.now(), lambda: create(conn)
                )
            return JSONResponse(payload, status_code=status)
        except IntegrityError:
            # Another request with the same key (or creating the same object) committed
            # first; once more, and we will find its answer.
            if attempt == 1 or key is None:
                raise
    raise AssertionError("unreachable")
