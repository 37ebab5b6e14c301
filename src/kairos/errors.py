"""Domain errors. Domain code raises these; ``api/`` maps them to HTTP answers.

Every error carries a stable machine ``code`` and a human ``message`` naming the problem.
"""

from __future__ import annotations


class KairosError(Exception):
    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(KairosError):
    """The caller sent something malformed or out of bounds (HTTP 400/422)."""

    code = "invalid_input"


class NotFound(KairosError):
    code = "not_found"


class Conflict(KairosError):
    code = "conflict"


class Unauthorized(KairosError):
    code = "unauthorized"


class Unavailable(KairosError):
    """A transient failure (database busy or restarting); the caller should retry."""

    code = "unavailable"
