"""Computed traits: named per-contact values computed from events ("orders in the last 30
days", "favourite category"), stored, kept up to date by the worker, and readable by segment
conditions (``computed.NAME``) and API responses.

Values are kept true three ways, like segment membership: **fully** when a trait is created
or its definition changes, **incrementally** for the contacts the changed-contacts queue
hands over (before segments are re-evaluated, so they see the new values), and **by time**
for traits with a ``last`` window. Each is an upsert from one SELECT grouped by contact
(``trait_definition.values_select``) and a delete of the values no longer there, both
set-based. A contact without matching events has no stored value: it reads as 0 for
``count``, ``sum`` and ``distinct_count``, and as not set for every other function.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from kairos.contacts.changes import ChangeBatch
from kairos.contacts.service import mark_changed
from kairos.contacts.tables import contact
from kairos.db.dialect import chunks, in_ids, insert_on_conflict
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.segments.deps import stored_dependencies
from kairos.segments.operators import ValueType
from kairos.segments.tables import computed_trait, computed_trait_value, segment
from kairos.segments.trait_definition import (
    FUNCTIONS,
    VALUE_COLUMNS,
    ZERO_FUNCTIONS,
    TraitDefinition,
    parse_trait_definition,
    time_dependent,
    value_type_of,
    values_select,
)
from kairos.workspaces.clocks import EVERY, Scope

#: How often traits with a ``last`` window are fully recomputed.
TIME_REFRESH = timedelta(minutes=5)


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
_VALUES = computed_trait_value
_VALUE_COLUMNS = ("number", "text", "instant")


# --- definitions -------------------------------------------------------------------------


def check_definition(conn: Connection, workspace_id: int, data: Any, now: datetime) -> TraitDefinition:
    """Parse and build the SQL once: every problem surfaces now, naming its field, not in the worker."""
    parsed = parse_trait_definition(data)
    values_select(0, workspace_id, parsed, now, conn.dialect.name)
    return parsed


def _stored(parsed: TraitDefinition) -> dict[str, Any]:
    return {
        "definition": parsed.model_dump(mode="json"),
        "function": parsed.function,
        "value_type": value_type_of(parsed),
        "time_dependent": time_dependent(parsed),
        "needs_refresh": True,
    }


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidInput(
            f"name: {name!r} must start with a letter or _ and use only letters, digits and _ (at most 100)",
            code="invalid_trait_name",
        )
    return name


def create_trait(
    conn: Connection,
    workspace_id: int,
    now: datetime,
    *,
    name: str,
    definition: Any,
    description: str | None = None,
) -> dict[str, Any]:
    """A new trait; its values are computed by the worker's next pass."""
    values = {"workspace_id": workspace_id, "name": _check_name(name), "description": description,
              "created_at": now, "updated_at": now}  # fmt: skip
    values |= _stored(check_definition(conn, workspace_id, definition, now))
    try:
        with conn.begin_nested():
            new_id = conn.execute(
                insert(computed_trait).values(values).returning(computed_trait.c.id)
            ).scalar_one()
    except IntegrityError:
        raise Conflict(f"a computed trait named {name!r} exists", code="computed_trait_exists") from None
    return get_trait(conn, workspace_id, new_id)


def update_trait(
    conn: Connection, workspace_id: int, trait_id: int, now: datetime, changes: dict[str, Any]
) -> dict[str, Any]:
    """Rename, describe or redefine. A new definition is recomputed for everyone by the worker.
    A trait that segments test keeps its name and value type (their conditions would break)."""
    current = get_trait(conn, workspace_id, trait_id)
    values: dict[str, Any] = {"updated_at": now}
    if "description" in changes:
        values["description"] = changes["description"]
    if changes.get("name") is not None and changes["name"] != current["name"]:
        _refuse_if_used(conn, workspace_id, current["name"], "renamed")
        values["name"] = _check_name(changes["name"])
    if changes.get("definition") is not None:
        stored = _stored(check_definition(conn, workspace_id, changes["definition"], now))
        if stored["value_type"] != current["value_type"]:
            _refuse_if_used(conn, workspace_id, current["name"], f"changed to a {stored['value_type']}")
        values |= stored
    try:
        with conn.begin_nested():
            conn.execute(update(computed_trait).where(computed_trait.c.id == trait_id).values(values))
    except IntegrityError:
        raise Conflict(
            f"a computed trait named {values.get('name')!r} exists", code="computed_trait_exists"
        ) from None
    return get_trait(conn, workspace_id, trait_id)


def delete_trait(conn: Connection, workspace_id: int, trait_id: int) -> None:
    current = get_trait(conn, workspace_id, trait_id)
    _refuse_if_used(conn, workspace_id, current["name"], "deleted")
    conn.execute(delete(computed_trait).where(computed_trait.c.id == trait_id))


def get_trait(conn: Connection, workspace_id: int, trait_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(computed_trait).where(
            computed_trait.c.id == trait_id, computed_trait.c.workspace_id == workspace_id
        )
    ).first()
    if row is None:
        raise NotFound(f"computed trait {trait_id} not found", code="computed_trait_not_found")
    return dict(row._mapping)


def list_traits(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(computed_trait)
        .where(computed_trait.c.workspace_id == workspace_id)
        .order_by(computed_trait.c.id)
    )
    return [dict(r._mapping) for r in rows]


def segments_using(conn: Connection, workspace_id: int, name: str) -> list[str]:
    """Names of the dynamic segments whose definition tests ``computed.NAME``."""
    rows = conn.execute(
        select(segment.c.name, segment.c.definition).where(
            segment.c.workspace_id == workspace_id, segment.c.kind == "dynamic"
        )
    )
    return [seg_name for seg_name, definition in rows if name in stored_dependencies(definition).traits]


def _refuse_if_used(conn: Connection, workspace_id: int, name: str, what: str) -> None:
    users = segments_using(conn, workspace_id, name)
    if users:
        raise Conflict(
            f"computed trait {name!r} cannot be {what}: segments test it ({', '.join(map(repr, users))})",
            code="computed_trait_in_use",
        )


# --- computing ---------------------------------------------------------------------------


def recompute(
    conn: Connection, trait: Any, now: datetime, contact_ids: Sequence[int] | None = None
) -> list[int]:
    """Bring one trait's stored values in line with its definition at ``now`` (for everyone,
    or only ``contact_ids``); returns the contacts whose value changed."""
    parsed = parse_trait_definition(trait.definition)
    if contact_ids is None:
        return _apply(conn, trait, parsed, now, None)
    changed: list[int] = []
    for part in chunks(contact_ids):
        changed += _apply(conn, trait, parsed, now, part)
    return changed


def _apply(
    conn: Connection, trait: Any, parsed: TraitDefinition, now: datetime, ids: Sequence[int] | None
) -> list[int]:
    rows = values_select(trait.id, trait.workspace_id, parsed, now, conn.dialect.name, ids)
    upsert = insert_on_conflict(conn, _VALUES).from_select([c.name for c in _VALUES.c], rows)
    new = upsert.excluded
    upsert = upsert.on_conflict_do_update(
        index_elements=["trait_id", "contact_id"],
        set_={c: new[c] for c in (*_VALUE_COLUMNS, "updated_at")},
        where=or_(*(_VALUES.c[c].is_distinct_from(new[c]) for c in _VALUE_COLUMNS)),
    )
    changed = list(conn.execute(upsert.returning(_VALUES.c.contact_id)).scalars())
    holders = rows.subquery()
    gone = delete(_VALUES).where(
        _VALUES.c.trait_id == trait.id, _VALUES.c.contact_id.not_in(select(holders.c.contact_id))
    )
    if ids is not None:
        gone = gone.where(_VALUES.c.contact_id.in_(list(ids)))
    changed += conn.execute(gone.returning(_VALUES.c.contact_id)).scalars()
    return changed


def recompute_traits(conn: Connection, batch: ChangeBatch, now: datetime) -> None:
    """Changed-contacts handler: recompute the values of the traits whose events these
    contacts just performed (all of them for new and merged contacts). Runs before segments
    re-evaluate the same contacts, so it marks nothing changed."""
    traits = conn.execute(
        select(computed_trait).where(
            computed_trait.c.workspace_id.in_(list(batch)),
            computed_trait.c.needs_refresh.is_(False),  # the full recompute will cover these contacts
        )
    ).all()
    for ws in {t.workspace_id for t in traits}:
        for part in chunks(list(batch[ws])):
            # Contacts merged into these ones: their events moved here, their values go.
            merged = select(contact.c.id).where(contact.c.merged_into.in_(part))
            conn.execute(delete(_VALUES).where(_VALUES.c.contact_id.in_(merged)))
    for trait in traits:
        name = parse_trait_definition(trait.definition).event
        ids = [
            cid
            for cid, change in batch[trait.workspace_id].items()
            if change.everything or (name in change.events if name is not None else bool(change.events))
        ]
        if ids:
            recompute(conn, trait, now, ids)


def refresh_traits_due(conn: Connection, now: datetime, scope: Scope = EVERY) -> int:
    """Worker job: fully recompute a trait that is new or redefined, or has a ``last`` window
    and was not recomputed for ``TIME_REFRESH``. One trait per call (one transaction).

    Contacts whose value changed are marked changed when a segment tests the trait, so the
    segment follows; other changes are left alone (a new trait would re-queue everyone)."""
    stmt = (
        select(computed_trait)
        .where(
            scope.clause(computed_trait.c.workspace_id),
            or_(
                computed_trait.c.needs_refresh.is_(True),
                and_(
                    computed_trait.c.time_dependent.is_(True),
                    computed_trait.c.refreshed_at <= now - TIME_REFRESH,
                ),
            ),
        )
        .order_by(computed_trait.c.refreshed_at.is_not(None), computed_trait.c.refreshed_at)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        # Another worker takes another trait; a concurrent PATCH waits for this commit.
        # NO KEY UPDATE: inserts of values that refer to the row are not blocked.
        stmt = stmt.with_for_update(skip_locked=True, key_share=True)
    trait = conn.execute(stmt).first()
    if trait is None:
        return 0
    changed = recompute(conn, trait, now)
    if changed and segments_using(conn, trait.workspace_id, trait.name):
        mark_changed(conn, trait.workspace_id, changed, now)
    conn.execute(
        update(computed_trait)
        .where(computed_trait.c.id == trait.id)
        .values(needs_refresh=False, refreshed_at=now)
    )
    return 1


# --- reading -----------------------------------------------------------------------------


def trait_types(conn: Connection, workspace_id: int) -> dict[str, str]:
    """name → value type (number, string or datetime) of the workspace's traits."""
    rows = conn.execute(
        select(computed_trait.c.name, computed_trait.c.value_type).where(
            computed_trait.c.workspace_id == workspace_id
        )
    )
    return {name: vtype for name, vtype in rows}


def trait_expression(
    name: str, ctx_dialect: str, workspace_trait_types: dict[str, str], path: str | None = None
) -> tuple[Any, ValueType]:
    """The value of trait ``name`` (without ``computed.``) for the contact of the enclosing
    query, as a scalar subquery correlated to ``contact.c.id`` and ``contact.c.workspace_id``,
    with its value type. NULL when the contact has no value, except 0 for ``count``, ``sum``
    and ``distinct_count``. Typed like the value column (``UTCDateTime`` for instants), so
    compared values bind as that type on either database. ``ctx_dialect`` is unused today.
    An unknown name is ``unknown_attribute``, its message prefixed with ``path``."""
    vtype = workspace_trait_types.get(name)
    if vtype is None:
        where = f"{path}: " if path else ""
        raise InvalidInput(f"{where}no computed trait named {name!r}", code="unknown_attribute")
    t, v = computed_trait, _VALUES
    value: Any = v.c[VALUE_COLUMNS[vtype]]
    if vtype == "number":
        value = func.coalesce(value, case((t.c.function.in_(ZERO_FUNCTIONS), 0.0)))
    sub = (
        select(value)
        .select_from(t.outerjoin(v, and_(v.c.trait_id == t.c.id, v.c.contact_id == contact.c.id)))
        .where(t.c.workspace_id == contact.c.workspace_id, t.c.name == name)
        .correlate(contact)
        .scalar_subquery()
    )
    return sub, vtype  # type: ignore[return-value]


def present(function: str, value_type: str, number: Any, text: Any, instant: Any) -> Any:
    """A stored value (or its absence) as readers see it."""
    if value_type == "string":
        return text
    if value_type == "datetime":
        return instant
    if number is None:
        return 0 if FUNCTIONS[function].zero else None
    if function in ("count", "distinct_count"):
        return int(number)
    return number


def traits_of(conn: Connection, contact_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """contact id → {trait name: value} for every trait of the contact's workspace."""
    out: dict[int, dict[str, Any]] = {cid: {} for cid in contact_ids}
    t, v = computed_trait, _VALUES
    for part in chunks(contact_ids):
        rows = conn.execute(
            select(contact.c.id, t.c.name, t.c.function, t.c.value_type, v.c.number, v.c.text, v.c.instant)
            .select_from(
                contact.join(t, t.c.workspace_id == contact.c.workspace_id).outerjoin(
                    v, and_(v.c.trait_id == t.c.id, v.c.contact_id == contact.c.id)
                )
            )
            .where(in_ids(contact.c.id, part, conn.dialect.name))
            .order_by(contact.c.id, t.c.name)
        )
        for cid, name, function, vtype, number, text, instant in rows:
            out[cid][name] = present(function, vtype, number, text, instant)
    return out


def list_values(
    conn: Connection, workspace_id: int, trait_id: int, *, limit: int, after: int | None
) -> list[dict[str, Any]]:
    """Stored values in contact id order (a 0 count or sum is not stored, so not listed)."""
    trait = get_trait(conn, workspace_id, trait_id)
    stmt = (
        select(
            contact.c.id,
            contact.c.external_id,
            contact.c.email,
            *(_VALUES.c[c] for c in _VALUE_COLUMNS),
            _VALUES.c.updated_at,
        )
        .join(_VALUES, _VALUES.c.contact_id == contact.c.id)
        .where(_VALUES.c.trait_id == trait_id, contact.c.merged_into.is_(None))
    )
    if after is not None:
        stmt = stmt.where(contact.c.id > after)
    return [
        {
            "contact_id": r.id,
            "external_id": r.external_id,
            "email": r.email,
            "updated_at": r.updated_at,
            "value": present(trait["function"], trait["value_type"], r.number, r.text, r.instant),
        }
        for r in conn.execute(stmt.order_by(contact.c.id).limit(limit))
    ]
