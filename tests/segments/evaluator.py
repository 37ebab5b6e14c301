"""A straightforward Python evaluator of segment definitions: the reference the compiled SQL
is checked against. It shares only the operators' meaning (``Operator.py``) and value
parsing with the compiler, none of its SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kairos.segments.compiler import BUILTIN_FIELDS, bucket_of, coerce_value, property_type
from kairos.segments.definition import (
    All,
    AnyOf,
    AttributeCondition,
    Condition,
    Not,
    PerformedCondition,
    RandomBucketCondition,
    TagCondition,
)
from kairos.segments.operators import OPERATORS


@dataclass
class Person:
    id: int
    fields: dict[str, Any]
    traits: dict[str, Any]
    tags: set[str] = field(default_factory=set)
    events: list[tuple[str, datetime, dict[str, Any]]] = field(default_factory=list)


def typed(value: Any, vtype: str | None) -> Any:
    """What SQL sees of a JSON value read as ``vtype``: NULL unless the JSON type matches."""
    if vtype is None or value is None:
        return value
    if vtype == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if vtype == "boolean":
        return value if isinstance(value, bool) else None
    return value if isinstance(value, str) else None


def holds(node: Condition, p: Person, now: datetime, types: dict[str, str]) -> bool:
    if isinstance(node, All):
        return all(holds(c, p, now, types) for c in node.conditions)
    if isinstance(node, AnyOf):
        return any(holds(c, p, now, types) for c in node.conditions)
    if isinstance(node, Not):
        return not holds(node.condition, p, now, types)
    if isinstance(node, AttributeCondition):
        if node.attribute in BUILTIN_FIELDS:
            vtype, actual = BUILTIN_FIELDS[node.attribute], p.fields.get(node.attribute)
        else:
            key = node.attribute.removeprefix("traits.")
            vtype = types[key]  # type: ignore[assignment]
            actual = typed(p.traits.get(key), vtype)
        op = OPERATORS[node.operator]
        return op.py(actual, coerce_value(op, vtype, node.value, "x"), now)
    if isinstance(node, TagCondition):
        return (node.tag in p.tags) == node.present
    if isinstance(node, PerformedCondition):
        n = sum(
            1
            for name, ts, props in p.events
            if name == node.event
            and _in_window(node, ts, now)
            and all(_filter(f, props, now) for f in node.where)
        )
        want = node.count.value
        return {
            ">=": n >= want,
            ">": n > want,
            "=": n == want,
            "!=": n != want,
            "<": n < want,
            "<=": n <= want,
        }[node.count.op]
    if isinstance(node, RandomBucketCondition):
        return bucket_of(p.id, node.salt) < node.percent * 100
    raise AssertionError(node)


def _in_window(node: PerformedCondition, ts: datetime, now: datetime) -> bool:
    w = node.window
    if w.last is not None:
        return now - w.last.to_timedelta() <= ts <= now
    return (w.since is None or ts >= w.since) and (w.until is None or ts < w.until)


def _filter(f: Any, props: dict[str, Any], now: datetime) -> bool:
    vtype = property_type(f.operator, f.value, "x")
    op = OPERATORS[f.operator]
    return op.py(typed(props.get(f.property), vtype), coerce_value(op, vtype or "string", f.value, "x"), now)
