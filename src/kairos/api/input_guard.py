"""One dependency, on every management and public route: the request's JSON body, query
and path values go through ``kairos.json_input`` before any route sees them, so input that
cannot be stored is a ``422 {code, message}`` up front — never a ``500`` from deep inside.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request

from kairos.errors import InvalidInput
from kairos.json_input import INT_MAX, INT_MIN, check_text, loads

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _check_param(value: str, where: str) -> None:
    check_text(value, where)
    digits = value.strip()
    if digits.lstrip("+-").isdigit() and len(digits) > 18 and not INT_MIN <= int(digits) <= INT_MAX:
        # ids are 64-bit: a larger one can name nothing, and SQLite cannot even compare it
        raise InvalidInput(
            f"{where}: the number {digits} is outside 64-bit integers", code="number_out_of_range"
        )


async def guard_input(request: Request) -> None:
    for name, value in request.path_params.items():
        if isinstance(value, str):
            _check_param(value, f"path {name}")
    for name, value in request.query_params.multi_items():
        check_text(name, "a query parameter name")
        _check_param(value, f"query {name}")
    if request.method in _BODY_METHODS:
        media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media == "application/json" or media.endswith("+json"):
            raw = await request.body()
            if raw:
                loads(raw)


async def form_body(request: Request, max_fields: int) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body (hosted forms, the preference centre,
    Twilio's callbacks): at most ``max_fields`` fields, every name and value checked."""
    text = (await request.body()).decode("utf-8", "replace")
    try:
        fields = parse_qs(text, max_num_fields=max_fields)
    except ValueError:
        raise InvalidInput(f"the form has more than {max_fields} fields", code="too_many_fields") from None
    for name, values in fields.items():
        check_text(name, "a form field name")
        for value in values:
            check_text(value, f"form field {name[:40]}")
    return fields
