"""Typed custom attribute definitions."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, bindparam, cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.exc import IntegrityError

from kairos.clock import Clock
from kairos.contacts.fields import ATTRIBUTE_TYPES, RESERVED_NAMES, coerce_trait
from kairos.contacts.tables import attribute_definition, contact
from kairos.db.dialect import json_converter
from kairos.errors import Conflict, InvalidInput, NotFound

#: Contacts read per statement while converting stored values to a declared type.
CONVERT_BATCH = 5000
#: How many unconvertible contacts a conversion report names.
EXAMPLES = 10

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
    dry_run: bool = False,
) -> dict[str, Any]:
    """Declare a typed attribute and convert the values contacts already hold to its type
    (``convert_stored_values``); the answer carries that report as ``conversion``. With
    ``dry_run`` nothing is written: the answer is the report the declaration would give."""
    check_definition(name, type)
    if dry_run:
        exists = conn.execute(
            select(attribute_definition.c.id).where(
                attribute_definition.c.workspace_id == workspace_id, attribute_definition.c.name == name
            )
        ).first()
        if exists is not None:
            raise Conflict(f"attribute {name!r} already exists", code="attribute_exists")
        report = convert_stored_values(conn, workspace_id, name, type, clock.now(), dry_run=True)
        return {"name": name, "type": type, "dry_run": True, "conversion": report}
    now = clock.now()
    values: dict[str, Any] = {
        "workspace_id": workspace_id,
        "name": name,
        "type": type,
        "label": label,
        "description": description,
        "created_at": now,
    }
    try:
        with conn.begin_nested():
            new_id = conn.execute(
                insert(attribute_definition).values(values).returning(attribute_definition.c.id)
            ).scalar_one()
    except IntegrityError:
        raise Conflict(f"attribute {name!r} already exists", code="attribute_exists") from None
    report = convert_stored_values(conn, workspace_id, name, type, now)
    return {"id": new_id, **values, "conversion": report}


def update_attribute(
    conn: Connection,
    clock: Clock,
    workspace_id: int,
    name: str,
    changes: dict[str, Any],
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Change an attribute's label, description or type. A new type converts the values
    contacts hold, as declaring does (``conversion`` in the answer; ``None`` when the type
    stays). Segments compile their conditions against the type, so an attribute that a
    segment tests keeps its type (409 ``attribute_in_use``)."""
    row = conn.execute(
        select(attribute_definition).where(
            attribute_definition.c.workspace_id == workspace_id, attribute_definition.c.name == name
        )
    ).first()
    if row is None:
        raise NotFound(
            "no attribute of that name in this workspace (GET /api/v1/attributes lists them)",
            code="attribute_not_found",
        )
    current = dict(row._mapping)
    kind = changes.get("type") or current["type"]
    retyped = kind != current["type"]
    if retyped:
        check_definition(name, kind)
        users = segments_testing(conn, workspace_id, name)
        if users:
            raise Conflict(
                f"attribute {name!r} cannot change type: segments test it ({', '.join(map(repr, users))})",
                code="attribute_in_use",
            )
    now = clock.now()
    report = convert_stored_values(conn, workspace_id, name, kind, now, dry_run=dry_run) if retyped else None
    values: dict[str, Any] = {k: changes[k] for k in ("label", "description") if k in changes}
    if retyped:
        values["type"] = kind
    if dry_run:
        return {**current, **values, "dry_run": True, "conversion": report}
    if values:
        conn.execute(
            update(attribute_definition).where(attribute_definition.c.id == current["id"]).values(values)
        )
    return {**current, **values, "conversion": report}


def segments_testing(conn: Connection, workspace_id: int, name: str) -> list[str]:
    """Names of the workspace's segments whose definition has a condition on the attribute."""
    from kairos.segments.tables import segment  # here: segments import contacts

    wanted = {name, "traits." + name}

    def tests(node: Any) -> bool:
        if isinstance(node, dict):
            if node.get("type") == "attribute" and node.get("attribute") in wanted:
                return True
            return any(tests(v) for v in node.values())
        if isinstance(node, list):
            return any(tests(v) for v in node)
        return False

    rows = conn.execute(
        select(segment.c.name, segment.c.definition).where(segment.c.workspace_id == workspace_id)
    )
    return [seg_name for seg_name, definition in rows if tests(definition)]


def check_definition(name: str, type: str) -> None:
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


def convert_stored_values(
    conn: Connection, workspace_id: int, name: str, kind: str, now: datetime, *, dry_run: bool = False
) -> dict[str, Any]:
    """Convert the trait ``name`` of every live contact of the workspace to ``kind`` with the
    rules ingest applies (``coerce_trait``: "61" → 61, "true" → true, a date-time → UTC …).

    Set-based: contacts holding the trait are read in id order, ``CONVERT_BATCH`` at a time,
    and each batch's converted values are written with one executemany that sets only that
    member of ``traits`` (other traits written meanwhile are kept). Converted contacts are
    queued for re-evaluation (``mark_changed``), so segments see the typed values.

    A value that cannot be converted without loss ("unknown" for a number) is left as it is
    — a typed condition never matches it — and counted, with the first ``EXAMPLES`` contact
    ids, so that nothing is silent. Returns ``{contacts_with_value, converted, already_typed,
    unconvertible, unconvertible_contact_ids}``."""
    from kairos.contacts.service import mark_changed  # here: service imports this module

    dialect = conn.dialect.name
    path = "$." + json.dumps(name)
    if dialect == "sqlite":
        has_value = func.json_type(contact.c.traits, path) != "null"  # NULL when absent
        new_traits = func.json_set(contact.c.traits, path, func.json(bindparam("v", type_=String)))
    else:
        has_value = func.jsonb_typeof(contact.c.traits.op("->")(name)) != "null"
        new_traits = func.jsonb_set(
            contact.c.traits, cast([name], ARRAY(String)), cast(bindparam("v", type_=String), JSONB)
        )
    write = (
        update(contact)
        .where(contact.c.id == bindparam("cid"))
        .values(traits=new_traits, updated_at=bindparam("stamp"))
    )
    j = json_converter(conn)
    report: dict[str, Any] = {
        "contacts_with_value": 0,
        "converted": 0,
        "already_typed": 0,
        "unconvertible": 0,
        "unconvertible_contact_ids": [],
    }
    after = 0
    while True:
        rows = conn.execute(
            select(contact.c.id, contact.c.traits)
            .where(
                contact.c.workspace_id == workspace_id,
                contact.c.merged_into.is_(None),
                contact.c.id > after,
                has_value,
            )
            .order_by(contact.c.id)
            .limit(CONVERT_BATCH)
        ).all()
        if not rows:
            break
        after = rows[-1].id
        changed: list[dict[str, Any]] = []
        for cid, traits in rows:
            old = (traits or {}).get(name)
            report["contacts_with_value"] += 1
            try:
                new = coerce_trait(name, kind, old)
            except InvalidInput:
                report["unconvertible"] += 1
                if len(report["unconvertible_contact_ids"]) < EXAMPLES:
                    report["unconvertible_contact_ids"].append(cid)
                continue
            if new == old and type(new) is type(old):
                report["already_typed"] += 1
            else:
                report["converted"] += 1
                changed.append({"cid": cid, "v": j(new), "stamp": now})
        if changed and not dry_run:
            conn.execute(write, changed)
            mark_changed(conn, workspace_id, [c["cid"] for c in changed], now)
    return report
