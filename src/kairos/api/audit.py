"""The audit trail: every change accepted by ``/api/v1`` is written to the audit log.

It wraps the management API as ASGI middleware, so no route can forget it. For a request
that may change something (not GET, not a read-only POST such as a preview), it:

1. finds the object the request acts on — the request path or its nearest parent that has a
   ``GET …/{id}`` route (``PATCH /segments/7``, ``POST /journeys/3/publish`` → ``/journeys/3``,
   ``POST /contacts/5/tags/vip`` → ``/contacts/5``) — and reads it with an internal GET, as
   the caller (so it sees what the caller may see);
2. runs the request, holding its answer back;
3. when it succeeded, reads the object again (or takes the created object from the answer),
   and writes who (the principal ``api/auth.py`` left on the request), what (method and
   route), which object, the fields that changed (``accounts/audit.diff``, secrets redacted),
   the client's address and browser — then lets the answer go.

A settings document without an id — ``PATCH /workspace``, ``PUT /messaging/policy``,
``PUT /exchange-rates``: a path served by both a ``GET`` and a ``PUT`` or ``PATCH`` — is its
own object, read before and after the same way. A ``GET`` that reveals a secret (a webhook's
signing secret, the inbox identity secret: ``REVEALS``) is recorded too — who read it and
when, never the value.

The log row is written after the change is committed, in a transaction of its own: a crash
between the two would lose the row, never the change; it is logged when writing fails.
An erased contact's entries keep no field values (``DELETE /contacts/{id}`` records none, and
erasure clears earlier ones).
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import anyio.to_thread
import orjson
from fastapi import FastAPI
from fastapi.routing import APIRoute

from kairos.accounts import audit
from kairos.api.auth import PERMISSIONS, SAFE_METHODS, permission_for

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
#: routes that sign in and out: not changes to a workspace
UNAUDITED = ("/api/v1/session", "/api/v1/setup")
#: objects whose field values are personal data: never kept for their erasure
PERSONAL = "contacts"
#: secrets a creation answers once (an issued key), never written to the log
SHOWN_ONCE = {"keys": "key"}
#: reads that answer a secret: who read it is recorded (the value never is)
REVEALS = ("/channels/{channel_id}/signing-secret", "/inbox/identity-secret")


class AuditTrail:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._items: list[re.Pattern[str]] | None = None
        self._documents: list[re.Pattern[str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path: str = scope.get("path", "")
        reveal = scope["type"] == "http" and scope["method"] == "GET"
        reveal = reveal and any(r.fullmatch(path) for r in _REVEALS)
        if not reveal and (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not path.startswith(PREFIX + "/")
            or path.startswith(UNAUDITED)
            or any(p.fullmatch(path) for p in _READ_ONLY_POSTS if scope["method"] == "POST")
        ):
            await self.app(scope, receive, send)
            return
        target = None if reveal else self._object_path(path)
        before = await self._read(scope, target) if target else None
        held: list[MutableMapping[str, Any]] = []

        async def hold(message: MutableMapping[str, Any]) -> None:
            held.append(message)

        scope.setdefault("state", {})
        try:
            await self.app(scope, receive, hold)
        finally:
            try:
                await self._record(scope, held, target, before)
            except Exception:
                log.exception("writing the audit log failed for %s %s", scope["method"], path)
            for message in held:
                await send(message)

    async def _record(
        self, scope: dict[str, Any], held: list[MutableMapping[str, Any]], target: str | None, before: Any
    ) -> None:
        start = next((m for m in held if m["type"] == "http.response.start"), None)
        principal = scope["state"].get("principal")
        route = scope.get("route")
        if start is None or start["status"] >= 400 or principal is None or route is None:
            return
        template = getattr(route, "path", scope["path"])
        if permission_for(scope["method"], template) == "read":
            return
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        segments = scope["path"][len(PREFIX) :].strip("/").split("/")
        object_type = segments[0] if segments and segments[0] else None
        if scope["method"] == "GET":  # a secret revealed: who and when, no values
            after = None
            object_id: str | None = segments[1] if len(segments) > 2 else None
        elif target is not None:
            document = any(p.fullmatch(target) for p in self._documents)
            object_id = None if document else target.rsplit("/", 1)[1]
            after = await self._read(scope, target)
        elif scope["method"] == "POST":  # a creation: the answer is the new object
            created = _json(body)
            after = created if isinstance(created, dict) else None
            if after is not None and object_type in SHOWN_ONCE:
                after = {k: v for k, v in after.items() if k != SHOWN_ONCE[object_type]}
            object_id = str(after["id"]) if after and "id" in after else None
        else:  # e.g. DELETE /keys/3, which has no GET of its own
            after = None
            object_id = segments[-1] if len(segments) > 1 else None
        changes = audit.diff(_dict(before), _dict(after))
        if object_type == PERSONAL and scope["method"] == "DELETE" and target is not None:
            changes = {}
        headers = dict(scope.get("headers") or [])
        client = scope.get("client")
        state = self.app.state.kairos
        kind, actor_id = principal.actor
        values = dict(
            workspace_id=principal.workspace.id, actor_type=kind, actor_id=actor_id,
            actor_label=principal.label,
            action=f"{scope['method']} {template}", object_type=object_type, object_id=object_id,
            status_code=start["status"], changes=changes, ip=client[0] if client else None,
            user_agent=headers.get(b"user-agent", b"").decode("latin-1") or None, now=state.clock.now(),
        )  # fmt: skip

        def write() -> None:
            with state.engine.begin() as conn:
                audit.record(conn, **values)

        await anyio.to_thread.run_sync(write)

    def _object_path(self, path: str) -> str | None:
        """The path itself or its nearest parent that is a ``GET /things/{id}`` route; or the
        path itself when it is a settings document (``GET`` and ``PUT``/``PATCH`` on it)."""
        if self._items is None:
            self._items, self._documents = _item_routes(self.app)
        if any(p.fullmatch(path.rstrip("/")) for p in self._documents):
            return path.rstrip("/")
        parts = path.rstrip("/").split("/")
        for cut in range(0, 3):
            candidate = "/".join(parts[: len(parts) - cut])
            if candidate.startswith(PREFIX + "/") and any(p.fullmatch(candidate) for p in self._items):
                return candidate
        return None

    async def _read(self, scope: dict[str, Any], path: str | None) -> Any:
        """The object at ``path`` as the caller sees it (None if it is not there)."""
        if path is None:
            return None
        headers = [
            (k, v) for k, v in scope.get("headers", []) if k not in (b"content-length", b"content-type")
        ]
        sub = {**scope, "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
               "headers": headers, "state": {}}  # fmt: skip
        sub.pop("route", None)
        sub.pop("endpoint", None)
        sub.pop("path_params", None)
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def collect(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(sub, receive, collect)
        return _json(b"".join(chunks)) if status == 200 else None


def _pattern(template: str) -> re.Pattern[str]:
    """``/api/v1/segments/{segment_id}`` → a regular expression matching its paths."""
    return re.compile("[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", template)))


#: POSTs that only read (previews, simulations): nothing to audit
_READ_ONLY_POSTS = [
    _pattern(PREFIX + path) for (method, path), p in PERMISSIONS.items() if method == "POST" and p == "read"
]


_REVEALS = [_pattern(PREFIX + path) for path in REVEALS]


def _item_routes(app: FastAPI) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]]]:
    """Patterns of the ``GET`` routes whose path ends in a parameter (one object), and of
    the settings documents: paths without a parameter at the end served by a ``GET`` and a
    ``PUT`` or ``PATCH``."""
    methods: dict[str, set[str]] = {}
    for route in app.routes:
        context = getattr(route, "include_context", None)
        subs = route.original_router.routes if context is not None else [route]  # type: ignore[attr-defined]
        prefix = context.prefix if context is not None else ""
        for sub in subs:
            if isinstance(sub, APIRoute) and (prefix + sub.path).startswith(PREFIX + "/"):
                methods.setdefault(prefix + sub.path, set()).update(sub.methods or ())
    items = [_pattern(path) for path, m in methods.items() if "GET" in m and path.endswith("}")]
    documents = [
        _pattern(path)
        for path, m in methods.items()
        if "GET" in m and not path.endswith("}") and m & {"PUT", "PATCH"}
    ]
    return items, documents


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None


def _dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None
