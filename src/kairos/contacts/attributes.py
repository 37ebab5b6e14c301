"""Typed custom attribute definitions."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from kairos.clock import Clock
from kairos.contacts.fields import ATTRIBUTE_TYPES, RESERVED_NAMES
from kairos.contacts.tables import attribute_definition
from kairos.errors import Conflict, InvalidInput

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


def attribute_types(conn: Connection, workspace_id: int) -> dict[str, str]:
    """name → type, for checking traits."""
    rows = conn.execute(
        select(attribute_definition.c.name, attribute_definition.c.type).where(
            attribute_definition.c.workspace_id == workspace_id
        )
    )
    return {name: kind for name, kind in rows}


def list_attributes(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(attribute_definition)
        .where(attribute_definition.c.workspace_id == workspace_id)
        .order_by(attribute_definition.c.name)
    )
    return [dict(r._mapping) for r in rows]


def create_attribute(
    conn: Connection,
    clock: Clock,
    workspace_id: int,
    *,
    name: str,
    type: str,
    label: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    if not _NAME.match(name):
        raise InvalidInput(
            f"attribute name {name!r} must start with a letter or _ and use only letters, "
            "digits and _ (at most 100)",
            code="invalid_attribute_name",
        )
    if name in RESERVED_NAMES:
        raise InvalidInput(f"{name!r} is a built-in contact field", code="reserved_attribute_name")
    if type not in ATTRIBUTE_TYPES:
        raise InvalidInput(
            f"attribute type must be one of {', '.join(ATTRIBUTE_TYPES)}", code="invalid_attribute_type"
        )
    values = {
        "workspace_id": workspace_id,
        "name": name,
        "type": type,
        "label": label,
        "description": description,
        "created_at": clock.now(),
    }
    try:
        with conn.begin_nested():
            new_id = conn.execute(
                insert(attribute_definition).values(values).returning(attribute_definition.c.id)
            ).scalar_one()
    except IntegrityError:
        raise Conflict(f"attribute {name!r} already exists", code="attribute_exists") from None
    return {"id": new_id, **values}
