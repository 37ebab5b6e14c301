"""Serves the built console (``console/`` → ``kairos/console_dist``) at ``/``.

Any GET outside the API and the public routes is the console's: a file of the build when it
exists (``/assets/…``, hashed names, cached for a year), else ``index.html`` (the single-page
app routes in the browser, so ``/contacts/42`` reloads fine). Every answer carries a
Content-Security-Policy without inline scripts or ``eval`` (inline styles are allowed: the
component library injects them) and ``frame-ancestors 'none'``; the console talks only to this
origin.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from starlette.responses import FileResponse, PlainTextResponse, Response

DIST = Path(__file__).resolve().parent.parent / "console_dist"


POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https:",
        "font-src 'self' data:",
        "connect-src 'self'",
        # previews of emails and pages: sandboxed srcdoc frames, never scripts
        "frame-src 'self' about:",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def reserved_segments(app: Any) -> frozenset[str]:
    """The first path segments the server itself answers (``api``, ``docs``, ``t``, ``v1``…),
    read from the app's own routes and mounts: they are never the console's."""
    found = {"v1"}
    for route in app.routes:
        context = getattr(route, "include_context", None)
        paths = (
            [context.prefix + sub.path for sub in route.original_router.routes] if context else [route.path]
        )
        for path in paths:
            first = path.strip("/").split("/", 1)[0]
            if first and not first.startswith("{"):
                found.add(first)
    return frozenset(found)


def is_console_path(method: str, path: str, reserved: frozenset[str]) -> bool:
    return method in ("GET", "HEAD") and path.strip("/").split("/", 1)[0] not in reserved


class ConsoleApp:
    def __init__(self, dist: Path = DIST) -> None:
        self.dist = dist.resolve()

    @property
    def built(self) -> bool:
        return (self.dist / "index.html").is_file()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        response = self._response(scope["path"])
        await response(scope, receive, send)

    def _response(self, path: str) -> Response:
        if not self.built:
            return PlainTextResponse(
                "The console is not built: run `make console` (Node 20+), or `make run`.",
                status_code=404,
                headers=HEADERS,
            )
        relative = path.lstrip("/")
        candidate = (self.dist / relative).resolve() if relative else self.dist / "index.html"
        if relative and candidate.is_file() and candidate.is_relative_to(self.dist):
            cache = "public, max-age=31536000, immutable" if relative.startswith("assets/") else "no-cache"
            media = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
            return FileResponse(candidate, media_type=media, headers={**HEADERS, "Cache-Control": cache})
        if relative.startswith("assets/"):  # a missing asset is a 404, not the app
            return PlainTextResponse("not found", status_code=404, headers=HEADERS)
        return FileResponse(self.dist / "index.html", media_type="text/html",
                            headers={**HEADERS, "Cache-Control": "no-cache"})  # fmt: skip
