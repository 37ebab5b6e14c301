"""Request body limits for everything outside ``/v1`` (ingest enforces its own 500 KB).

A body over its route's limit is refused with ``413 request_too_large`` before it is read
into memory: at once when ``Content-Length`` declares it, otherwise as soon as the bytes
received pass the limit (chunked uploads). Without this, a 150 MB POST to a public form was
buffered whole by the form parser. Limits (docs/security.md, "Request limits"):

* ``KAIROS_MAX_REQUEST_BYTES`` (2 MiB): the management API;
* 8 MiB for offer code imports (100,000 codes), 50 MiB for CSV list imports;
* 256 KiB for the public endpoints: hosted forms, the inbox, delivery reports,
  unsubscribe and preference pages.

Why not FastAPI's own ``max_body_size``: its refusal is Starlette's plain-text or
``{"detail"}`` 413 depending on where the limit trips, and every error here must be
``{code, message}``; one middleware, with the limits by path in one table, keeps that.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.exceptions import HTTPException as StarletteHTTPException

from kairos.segments.lists import MAX_IMPORT_BYTES

PUBLIC_LIMIT = 256 * 1024
CODES_IMPORT_LIMIT = 8 * 1024 * 1024
_LARGER: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"^/api/v1/segments/[^/]+/members/import$"), MAX_IMPORT_BYTES),
    (re.compile(r"^/api/v1/offers/[^/]+/codes/import$"), CODES_IMPORT_LIMIT),
]


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive``: an HTTP exception, so that FastAPI's body parsing passes it
    on to the app's handler (``{code: request_too_large, message}``) instead of a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _message(limit))


def _message(limit: int) -> str:
    return f"the request body is over {limit} bytes, this route's limit"


def limit_for(path: str, api_limit: int) -> int:
    for pattern, limit in _LARGER:
        if pattern.match(path):
            return limit
    return api_limit if path.startswith("/api/") else PUBLIC_LIMIT


class BodyLimit:
    """ASGI middleware enforcing ``limit_for`` on every HTTP request it wraps."""

    def __init__(self, app: Any, api_limit: int) -> None:
        self.app = app
        self.api_limit = api_limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"], self.api_limit)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(send, limit)


async def _refuse(send: Any, limit: int) -> None:
    body = orjson.dumps({"code": "request_too_large", "message": _message(limit)})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
