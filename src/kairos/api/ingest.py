"""``/v1/*``: Segment's HTTP Tracking API, as a bare ASGI app.

It bypasses FastAPI's request model on purpose: a single ``/v1/track`` should cost a header
scan, an orjson parse and a hand-off to the group-commit writer, nothing more.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any

import anyio.to_thread
import orjson

from kairos import metrics
from kairos.api.errors import RETRY_AFTER
from kairos.clock import Clock
from kairos.errors import InvalidInput, KairosError, Unauthorized, Unavailable
from kairos.events.messages import ENDPOINTS, MAX_REQUEST_BYTES, decode_body, parse_request
from kairos.events.writer import IngestWriter
from kairos.workspaces.service import KeyResolver, Workspace

Scope = dict[str, Any]

_OK = orjson.dumps({"success": True})
_ALLOW_HEADERS = b"Authorization, Content-Type, Content-Encoding, X-Retry-Count"


class IngestApp:
    def __init__(
        self,
        writer: IngestWriter,
        keys: KeyResolver,
        clock: Clock,
        cors_origins: str,
        workspace_now: Callable[[int], datetime] | None = None,
    ) -> None:
        self.writer = writer
        self.keys = keys
        self.clock = clock
        #: a sandbox workspace's virtual now (``AppState.now``), read only for sandboxes
        self.workspace_now = workspace_now
        origins = [o.strip() for o in cors_origins.split(",") if o.strip()]
        self.any_origin = "*" in origins
        self.origins = {o.encode() for o in origins}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        cors = self._cors(headers.get(b"origin"))
        parts = scope["path"].strip("/").split("/")
        kind = ENDPOINTS.get(parts[1]) if len(parts) == 2 and parts[0] == "v1" else None
        if kind is None:
            await _answer(send, 404, _error("not_found", "no such ingest endpoint"), cors)
            return
        method = scope["method"]
        if method == "OPTIONS":
            await _answer(send, 204, b"", cors, preflight=True)
            return
        if method != "POST":
            await _answer(send, 405, _error("method_not_allowed", "use POST"), cors)
            return
        try:
            await self._handle(kind, headers, receive)
        except KairosError as exc:
            status = 401 if isinstance(exc, Unauthorized) else 503 if isinstance(exc, Unavailable) else 400
            metrics.ingest_rejected(exc.code)  # a code of ours, never input: a bounded label set
            await _answer(send, status, _error(exc.code, exc.message), cors)
            return
        await _answer(send, 200, _OK, cors)

    async def _handle(self, kind: str, headers: dict[bytes, bytes], receive: Any) -> None:
        received_at = self.clock.now()
        workspace = self._from_header(headers.get(b"authorization"))
        raw = await _read_body(receive)
        encoding = headers.get(b"content-encoding")
        body, size = decode_body(raw, encoding.decode("latin-1") if encoding else None)
        if workspace is None:
            workspace = self._from_body(body)
        virtual: datetime | None = None
        if workspace.sandbox and self.workspace_now is not None:
            # received at the sandbox's now: events sent in real time land in its virtual time
            virtual = received_at = await anyio.to_thread.run_sync(self.workspace_now, workspace.id)
        messages = parse_request(
            kind,
            body,
            received_at,
            default_country=workspace.default_country,
            body_size=size,
        )
        await self.writer.submit(workspace.id, messages, now=virtual)
        metrics.ingest_accepted(len(messages))

    def _from_header(self, value: bytes | None) -> Workspace | None:
        if not value:
            return None
        workspace = self.keys.resolve(basic_user(value.decode("latin-1")), "write")
        if workspace is None:
            raise Unauthorized("unknown or revoked write key", code="unauthorized")
        return workspace

    def _from_body(self, body: dict[str, Any]) -> Workspace:
        key = body.get("writeKey")
        if not isinstance(key, str) or not key:
            raise Unauthorized(
                "missing write key: send HTTP Basic auth or 'writeKey' in the body", code="unauthorized"
            )
        workspace = self.keys.resolve(key, "write")
        if workspace is None:
            raise Unauthorized("unknown or revoked write key", code="unauthorized")
        return workspace

    def _cors(self, origin: bytes | None) -> bytes | None:
        if origin is None:
            return None
        if self.any_origin or origin in self.origins:
            return origin
        return None


async def _read_body(receive: Any) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidInput("client disconnected", code="disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise InvalidInput(f"request body is over {MAX_REQUEST_BYTES} bytes", code="request_too_large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def basic_user(header: str | None) -> str:
    """The user name of an ``Authorization: Basic`` header (the write key, as Segment's
    libraries send it); ``Unauthorized`` for any other scheme or malformed credentials —
    non-ASCII or non-UTF-8 bytes included."""
    scheme, _, credentials = (header or "").partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized("use HTTP Basic auth with the write key as user name", code="unauthorized")
    try:
        return base64.b64decode(credentials.strip(), validate=True).decode().partition(":")[0]
    except ValueError:  # binascii.Error, UnicodeDecodeError, non-ASCII text
        raise Unauthorized("malformed Basic credentials", code="unauthorized") from None


def _error(code: str, message: str) -> bytes:
    return orjson.dumps({"code": code, "message": message})


async def _answer(
    send: Any, status: int, body: bytes, origin: bytes | None, *, preflight: bool = False
) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    if status == 503:  # as the management API: the client retries after a pause
        headers.append((b"retry-after", str(RETRY_AFTER).encode()))
    if origin is not None:
        headers += [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
        if preflight:
            headers += [
                (b"access-control-allow-methods", b"POST, OPTIONS"),
                (b"access-control-allow-headers", _ALLOW_HEADERS),
                (b"access-control-max-age", b"86400"),
            ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
