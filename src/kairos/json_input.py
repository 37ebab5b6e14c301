"""What JSON Kairos accepts from a request, on every API alike.

``check_json`` refuses what would otherwise fail later, deep inside a transaction or a worker
pass, as a ``500``: nesting deeper than ``MAX_DEPTH`` (orjson cannot write back past 255
levels), NUL characters (PostgreSQL cannot store them in text or JSON), lone surrogates (not
Unicode: no encoder writes them), ``NaN`` and infinite numbers (not JSON) and integers outside
64 bits (no column or JSON encoder here takes them). Each is a ``422`` naming where it was
found. The ingest API parses with orjson, which refuses surrogates and non-finite numbers
itself and reads large integers as floats; the management API parses with the standard
library, as FastAPI does, so ``loads`` checks exactly what the routes will be given.
"""

from __future__ import annotations

import json
import math
from typing import Any

from kairos.errors import InvalidInput

MAX_DEPTH = 64
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def loads(raw: bytes) -> Any:
    """Parse a request body as FastAPI does (standard library) and check it; text that is
    not JSON is left to FastAPI's own error."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    check_json(value)
    return value


def check_json(value: Any, where: str = "body") -> None:
    """Raise ``InvalidInput`` for values that cannot be stored (see the module docstring)."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict):
            if depth >= MAX_DEPTH:
                raise InvalidInput(f"{path}: nested deeper than {MAX_DEPTH} levels", code="too_deep")
            for key, child in item.items():
                check_text(key, f"{path}: a key")
                stack.append((child, f"{path}.{key}", depth + 1))
        elif isinstance(item, list):
            if depth >= MAX_DEPTH:
                raise InvalidInput(f"{path}: nested deeper than {MAX_DEPTH} levels", code="too_deep")
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
        elif isinstance(item, str):
            check_text(item, path)
        elif isinstance(item, int) and not isinstance(item, bool) and not INT_MIN <= item <= INT_MAX:
            raise InvalidInput(
                f"{path}: the number {item} is outside 64-bit integers", code="number_out_of_range"
            )
        elif isinstance(item, float) and not math.isfinite(item):
            raise InvalidInput(f"{path}: {item} is not a finite number", code="number_out_of_range")


def check_text(text: str, where: str) -> None:
    if "\x00" in text:
        raise InvalidInput(f"{where} contains a NUL character (\\u0000)", code="invalid_character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"{where} contains a lone surrogate (not valid Unicode)", code="invalid_character"
        ) from None
