"""Every error answer is ``{"code", "message"}`` with a precise status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from kairos.db.faults import classify, reason
from kairos.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    KairosError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
    validation_message,
)

log = logging.getLogger(__name__)

#: seconds a client is asked to wait after a 503
RETRY_AFTER = 5

STATUS: list[tuple[type[KairosError], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (Unauthorized, 401),
    (Forbidden, 403),
    (RateLimited, 429),
    (Unavailable, 503),
    (InvalidInput, 422),
]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    headers = (
        {"WWW-Authenticate": "Bearer"}
        if status == 401
        else {"Retry-After": str(RETRY_AFTER)}
        if status == 503
        else None
    )
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def _internal(request: Request, exc: BaseException) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "the server failed to answer; the error was logged")


def install(app: FastAPI) -> None:
    @app.exception_handler(KairosError)
    async def _domain(_: Request, exc: KairosError) -> JSONResponse:
        status = next((s for cls, s in STATUS if isinstance(exc, cls)), 500)
        response = error_response(status, exc.code, exc.message)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            err = {**err, "loc": tuple(p for p in err.get("loc", ()) if p != "body") or ("request",)}
            problems.append(validation_message(err))
        return error_response(422, "validation_error", "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail))

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        # The database cannot be reached or written (disk full, read-only, I/O error,
        # connection lost, locked too long), or a concurrent transaction won: the request
        # changed nothing and may be retried. Anything else is a bug: 500, logged.
        fault = classify(exc)
        if fault is None:
            return _internal(request, exc)
        log.warning("%s %s: database %s: %s", request.method, request.url.path, fault, reason(exc))
        message = (
            "the database cannot take this request now; retry"
            if fault == "unavailable"
            else "a concurrent change got in the way; retry"
        )
        return error_response(503, "unavailable", message)

    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(PoolTimeout, _database)
    app.add_middleware(_CatchAll)


class _CatchAll:
    """Any other exception: a JSON 500 ``internal_error`` (and its traceback in the log)
    instead of Starlette's plain-text one. Sits inside Starlette's outermost error
    middleware, which would answer in plain text and log the exception a second time."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def _send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, _send)
        except Exception as exc:
            if started:  # too late for an answer of our own: let the server log and close
                raise
            await _internal(Request(scope), exc)(scope, receive, send)
