"""Compiles a segment definition into one SQLAlchemy Core condition over ``contact``.

Values are always bound parameters. Two entry points: ``members_query`` for a whole
workspace, and the same with ``contact_ids`` to re-evaluate a few contacts (the incremental
path). Every problem in a definition is an ``InvalidInput`` naming the path of its node
(``root.conditions[2].operator``).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Float,
    Select,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)

from kairos.clock import ensure_utc
from kairos.contacts.attributes import attribute_types
from kairos.contacts.tables import contact, contact_tag, tag
from kairos.db.dialect import chunks
from kairos.errors import InvalidInput
from kairos.events.tables import event
from kairos.segments.definition import (
    All,
    AnyOf,
    AttributeCondition,
    Condition,
    Duration,
    Not,
    PerformedCondition,
    RandomBucketCondition,
    SegmentDefinition,
    TagCondition,
)
from kairos.segments.operators import OPERATORS, Operator, ValueType

#: Built-in contact fields a condition can test, with their types.
BUILTIN_FIELDS: dict[str, ValueType] = {
    "external_id": "string",
    "email": "string",
    "phone": "string",
    "first_name": "string",
    "last_name": "string",
    "timezone": "string",
    "locale": "string",
    "lifecycle_stage": "string",
    "score": "number",
    "created_at": "datetime",
    "updated_at": "datetime",
}

#: Custom attribute types a condition can test so far (datetime and list traits: next step).
TRAIT_TYPES: frozenset[str] = frozenset({"string", "number", "boolean"})

BUCKETS = 10_000


@dataclass(frozen=True)
class Context:
    now: datetime
    attribute_types: dict[str, str]
    dialect: str


def parse_definition(data: Any) -> SegmentDefinition:
    """A definition from JSON-like data; shape errors name the path of the bad node."""
    try:
        return SegmentDefinition.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidInput(f"{_path(err['loc'])}: {err['msg']}", code="invalid_definition") from None


_NODE_TYPES = frozenset({"all", "any", "not", "attribute", "tag", "performed", "random_bucket"})


def _path(loc: tuple[int | str, ...]) -> str:
    """pydantic's error location as the compiler writes paths: ``root.conditions[0].tag``
    (pydantic puts the union's tag after each node position; it is left out)."""
    out = ""
    previous: int | str | None = None
    for part in loc:
        at_node = previous in ("root", "condition") or isinstance(previous, int)
        if not (at_node and part in _NODE_TYPES):
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        previous = part
    return out or "definition"


def compile_definition(definition: SegmentDefinition, ctx: Context) -> ColumnElement[bool]:
    return compile_condition(definition.root, ctx, "root")


def members_query(
    workspace_id: int,
    definition: SegmentDefinition,
    ctx: Context,
    contact_ids: Iterable[int] | None = None,
) -> Select[Any]:
    stmt = select(contact.c.id).where(
        contact.c.workspace_id == workspace_id,
        contact.c.merged_into.is_(None),
        compile_definition(definition, ctx),
    )
    if contact_ids is not None:
        stmt = stmt.where(contact.c.id.in_(list(contact_ids)))
    return stmt


def evaluate(
    conn: Connection,
    workspace_id: int,
    definition: SegmentDefinition,
    now: datetime,
    contact_ids: Iterable[int] | None = None,
) -> set[int]:
    """Ids of the contacts (all, or among ``contact_ids``) matching the definition at ``now``."""
    ctx = Context(ensure_utc(now), attribute_types(conn, workspace_id), conn.dialect.name)
    if contact_ids is None:
        return {row[0] for row in conn.execute(members_query(workspace_id, definition, ctx))}
    found: set[int] = set()
    for part in chunks(contact_ids):
        found.update(row[0] for row in conn.execute(members_query(workspace_id, definition, ctx, part)))
    return found


# --- nodes -------------------------------------------------------------------------------


def compile_condition(node: Condition, ctx: Context, path: str) -> ColumnElement[bool]:
    if isinstance(node, All):
        parts = [compile_condition(c, ctx, f"{path}.conditions[{i}]") for i, c in enumerate(node.conditions)]
        return and_(true(), *parts)
    if isinstance(node, AnyOf):
        parts = [compile_condition(c, ctx, f"{path}.conditions[{i}]") for i, c in enumerate(node.conditions)]
        return or_(false(), *parts)
    if isinstance(node, Not):
        return not_(compile_condition(node.condition, ctx, f"{path}.condition"))
    if isinstance(node, AttributeCondition):
        expr, vtype = attribute_expression(node.attribute, ctx, path)
        op = operator_for(node.operator, vtype, f"{path}.operator")
        return op.sql(expr, coerce_value(op, vtype, node.value, f"{path}.value"), ctx.now)
    if isinstance(node, TagCondition):
        has = exists(
            select(contact_tag.c.tag_id)
            .join(tag, tag.c.id == contact_tag.c.tag_id)
            .where(contact_tag.c.contact_id == contact.c.id, tag.c.name == node.tag)
        )
        return has if node.present else not_(has)
    if isinstance(node, PerformedCondition):
        return _performed(node, ctx, path)
    if isinstance(node, RandomBucketCondition):
        below: ColumnElement[bool] = bucket_expression(node.salt) < node.percent * BUCKETS / 100
        return below
    raise InvalidInput(f"{path}: unknown condition", code="invalid_definition")  # pragma: no cover


def _performed(node: PerformedCondition, ctx: Context, path: str) -> ColumnElement[bool]:
    conds: list[ColumnElement[bool]] = [event.c.contact_id == contact.c.id, event.c.name == node.event]
    conds += window_conditions(node, ctx.now)
    for i, flt in enumerate(node.where):
        where = f"{path}.where[{i}]"
        vtype = property_type(flt.operator, flt.value, where)
        op = operator_for(flt.operator, vtype or "string", f"{where}.operator")
        value = coerce_value(op, vtype or "string", flt.value, f"{where}.value")
        conds.append(op.sql(json_value(event.c.properties, flt.property, vtype, ctx.dialect), value, ctx.now))
    n, cmp = node.count.value, node.count.op
    if (cmp, n) in ((">=", 1), (">", 0), ("!=", 0)):
        return exists(select(event.c.id).where(*conds))
    if (cmp, n) in (("=", 0), ("<", 1), ("<=", 0)):
        return not_(exists(select(event.c.id).where(*conds)))
    counted = select(func.count()).where(*conds).scalar_subquery()
    return {
        ">=": counted >= n, ">": counted > n, "=": counted == n,
        "!=": counted != n, "<": counted < n, "<=": counted <= n,
    }[cmp]  # fmt: skip


def window_conditions(node: PerformedCondition, now: datetime) -> list[ColumnElement[bool]]:
    w = node.window
    if w.last is not None:
        return [event.c.timestamp >= now - w.last.to_timedelta(), event.c.timestamp <= now]
    out = []
    if w.since is not None:
        out.append(event.c.timestamp >= ensure_utc(w.since))
    if w.until is not None:
        out.append(event.c.timestamp < ensure_utc(w.until))
    return out


# --- attributes, properties, values ------------------------------------------------------


def attribute_expression(name: str, ctx: Context, path: str) -> tuple[Any, ValueType]:
    if name in BUILTIN_FIELDS:
        return contact.c[name], BUILTIN_FIELDS[name]
    key = name.removeprefix("traits.")
    kind = ctx.attribute_types.get(key)
    if kind is None:
        raise InvalidInput(
            f"{path}.attribute: {name!r} is neither a contact field nor a defined attribute",
            code="unknown_attribute",
        )
    if kind not in TRAIT_TYPES:
        raise InvalidInput(
            f"{path}.attribute: conditions on {kind} attributes are not supported yet",
            code="unsupported_attribute",
        )
    return json_value(contact.c.traits, key, kind, ctx.dialect), kind  # type: ignore[return-value]


def json_value(column: Any, key: str, vtype: str | None, dialect: str) -> Any:
    """A JSON member as SQL, NULL unless it holds the wanted JSON type (a string where a
    number is expected must not match, nor make PostgreSQL's cast fail)."""
    if dialect == "sqlite":
        where = "$." + json.dumps(key)
        raw = func.json_extract(column, where)
        if vtype is None:
            return raw
        kinds = {"string": ["text"], "number": ["integer", "real"], "boolean": ["true", "false"]}[vtype]
        return case((func.json_type(column, where).in_(kinds), raw))
    text = column[key].as_string()
    if vtype is None:
        return text
    typeof = func.jsonb_typeof(column[key])
    if vtype == "string":
        return case((typeof == "string", text))
    if vtype == "number":
        return case((typeof == "number", cast(text, Float)))
    return case((typeof == "boolean", cast(text, Boolean)))


def property_type(operator: str, value: Any, path: str) -> ValueType | None:
    """Event properties are untyped: the filter's value says what to compare as."""
    sample = value[0] if isinstance(value, list) and value else value
    if sample is None:
        return None
    if isinstance(sample, bool):
        return "boolean"
    if isinstance(sample, int | float):
        return "number"
    if isinstance(sample, str):
        return "string"
    raise InvalidInput(f"{path}.value: {value!r} cannot be compared", code="invalid_value")


def operator_for(key: str, vtype: ValueType, path: str) -> Operator:
    op = OPERATORS.get(key)
    if op is None:
        raise InvalidInput(f"{path}: unknown operator {key!r}", code="unknown_operator")
    if vtype not in op.types:
        raise InvalidInput(f"{path}: {key!r} does not apply to {vtype} values", code="invalid_operator")
    return op


def coerce_value(op: Operator, vtype: ValueType, raw: Any, path: str) -> Any:
    if op.value == "none":
        return None
    if op.value == "duration":
        try:
            return Duration.model_validate(raw).to_timedelta()
        except ValidationError:
            raise InvalidInput(
                f"{path}: expected a duration like {{'amount': 7, 'unit': 'days'}}", code="invalid_value"
            ) from None
    if op.value == "list":
        if not isinstance(raw, list):
            raise InvalidInput(f"{path}: expected a list", code="invalid_value")
        return [_scalar(vtype, v, path) for v in raw]
    if op.value == "pair":
        if not isinstance(raw, list) or len(raw) != 2:
            raise InvalidInput(f"{path}: expected [low, high]", code="invalid_value")
        return [_scalar(vtype, v, path) for v in raw]
    return _scalar(vtype, raw, path)


def _scalar(vtype: ValueType, raw: Any, path: str) -> Any:
    if vtype == "string" and isinstance(raw, str):
        return raw
    if vtype == "number" and isinstance(raw, int | float) and not isinstance(raw, bool):
        return raw
    if vtype == "boolean" and isinstance(raw, bool):
        return raw
    if vtype == "datetime":
        if isinstance(raw, datetime):
            return ensure_utc(raw)
        if isinstance(raw, str):
            try:
                return ensure_utc(datetime.fromisoformat(raw))
            except ValueError:
                pass
    raise InvalidInput(f"{path}: expected a {vtype}, got {raw!r}", code="invalid_value")


def bucket_salt(salt: str) -> int:
    return zlib.crc32(salt.encode()) % 1_000_003


def bucket_expression(salt: str) -> Any:
    """Contact id → 0 … 9,999, stable and the same on every database."""
    return ((contact.c.id % 1_000_003) * 7919 + bucket_salt(salt)) % BUCKETS


def bucket_of(contact_id: int, salt: str) -> int:
    return ((contact_id % 1_000_003) * 7919 + bucket_salt(salt)) % BUCKETS
