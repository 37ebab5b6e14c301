"""Domain errors. Domain code raises these; ``api/`` maps them to HTTP answers.

Every error carries a stable machine ``code`` and a human ``message`` naming the problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T")


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


class Forbidden(KairosError):
    """Authenticated, but the caller's role does not allow this (HTTP 403)."""

    code = "forbidden"


class RateLimited(KairosError):
    """Too many attempts: retry after ``retry_after`` seconds (HTTP 429)."""

    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Unavailable(KairosError):
    """A transient failure (database busy or restarting); the caller should retry."""

    code = "unavailable"


_MESSAGE_PREFIXES = ("Value error, ", "Assertion failed, ")


def field_path(loc: tuple[int | str, ...] | list[int | str], prefix: str = "") -> str:
    """A validation error's location as users write it: ``variants[1].template_id``, with
    pydantic's internal steps (``function-after[…]``, ``union[…]``) left out."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in part and part.endswith("]") and not part.startswith("["):
            continue  # a validator's or union's own name, not a field
        else:
            out += f".{part}" if out else part
    return out


def validation_message(err: dict[str, object] | object, prefix: str = "") -> str:
    """One pydantic error as ``field.path: what to change`` — never ``"x.: Value error, …"``."""
    assert isinstance(err, dict)
    loc = err.get("loc", ())
    where = field_path(tuple(loc) if isinstance(loc, list | tuple) else (), prefix)  # type: ignore[arg-type]
    message = plain_message(str(err.get("msg", "invalid")))
    return f"{where}: {message}" if where else message


def plain_message(message: str) -> str:
    """pydantic's message without its ``Value error, `` prefix."""
    for p in _MESSAGE_PREFIXES:
        message = message.removeprefix(p)
    return message


def one_of(options: Mapping[str, T], name: str, field: str, code: str) -> T:
    """``options[name]``, or InvalidInput listing the names there are."""
    found = options.get(name)
    if found is None:
        raise InvalidInput(f"{field} must be one of {', '.join(sorted(options))}, not {name!r}", code=code)
    return found


def validated(model: type[BaseModel], data: dict[str, Any], what: str, code: str) -> dict[str, Any]:
    """``data`` checked by ``model`` and dumped as JSON-ready values; InvalidInput naming the
    first problem as ``what.field: …``."""
    try:
        return dict(model.model_validate(data).model_dump(mode="json"))
    except ValidationError as exc:
        raise InvalidInput(validation_message(exc.errors()[0], what), code=code) from None
