"""A straightforward Python evaluator of segment definitions: the reference the compiled SQL
is checked against. It shares only the operators' meaning (``Operator.py``) and value
parsing with the compiler, none of its SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from kairos.segments.compiler import BUILTIN_FIELDS, bucket_of, coerce_value, property_type
from kairos.segments.definition import (
    AggregateCondition,
    All,
    AnyOf,
    AttributeCondition,
    Condition,
    EventMatch,
    FirstPerformedCondition,
    LastPerformedCondition,
    Not,
    NotPerformedCondition,
    PerformedCondition,
    RandomBucketCondition,
    SegmentMembershipCondition,
    SequenceCondition,
    TagCondition,
    Window,
)
from kairos.segments.operators import OPERATORS

_COUNT = {
    ">=": lambda n, want: n >= want, ">": lambda n, want: n > want, "=": lambda n, want: n == want,
    "!=": lambda n, want: n != want, "<": lambda n, want: n < want, "<=": lambda n, want: n <= want,
}  # fmt: skip


@dataclass
class Person:
    id: int
    fields: dict[str, Any]
    traits: dict[str, Any]
    tags: set[str] = field(default_factory=set)
    events: list[tuple[str, datetime, dict[str, Any]]] = field(default_factory=list)
    segments: set[int] = field(default_factory=set)


def typed(value: Any, vtype: str | None) -> Any:
    """What SQL sees of a JSON value read as ``vtype``: NULL unless the JSON type matches."""
    if vtype is None or value is None:
        return value
    if vtype == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if vtype == "boolean":
        return value if isinstance(value, bool) else None
    if vtype == "datetime":
        return _instant(value) if isinstance(value, str) else None
    if vtype == "list":
        return value if isinstance(value, list) else None
    return value if isinstance(value, str) else None


def _instant(text: str) -> datetime | None:
    """What SQL reads of a stored date or date-time: to the second, a date at midnight UTC."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        return datetime.fromisoformat(text).astimezone(UTC).replace(microsecond=0)
    except ValueError:
        return None


def _date_of(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def holds(node: Condition, p: Person, now: datetime, types: dict[str, str]) -> bool:
    if isinstance(node, All):
        return all(holds(c, p, now, types) for c in node.conditions)
    if isinstance(node, AnyOf):
        return any(holds(c, p, now, types) for c in node.conditions)
    if isinstance(node, Not):
        return not holds(node.condition, p, now, types)
    if isinstance(node, AttributeCondition):
        if node.attribute in BUILTIN_FIELDS:
            vtype, raw = BUILTIN_FIELDS[node.attribute], p.fields.get(node.attribute)
            actual = raw
        else:
            key = node.attribute.removeprefix("traits.")
            vtype, raw = types[key], p.traits.get(key)  # type: ignore[assignment]
            actual = typed(raw, vtype)
        op = OPERATORS[node.operator]
        if op.key == "anniversary_within_next":
            day = _date_of(raw if node.attribute in BUILTIN_FIELDS else typed(raw, "string"))
            actual = None if day is None else (day, p.fields.get("timezone"))
        return op.py(actual, coerce_value(op, vtype, node.value, "x"), now)
    if isinstance(node, TagCondition):
        return (node.tag in p.tags) == node.present
    if isinstance(node, SegmentMembershipCondition):
        return (node.segment_id in p.segments) == node.member
    if isinstance(node, PerformedCondition | NotPerformedCondition):
        n = len(_events(p, node, node.window, now))
        if isinstance(node, NotPerformedCondition):
            return n == 0
        return _COUNT[node.count.op](n, node.count.value)
    if isinstance(node, AggregateCondition):
        amounts = [
            typed(props.get(node.property), "number") for _, _, props in _events(p, node, node.window, now)
        ]
        present = [a for a in amounts if a is not None]
        if node.function == "sum":
            value: Any = sum(present)
        elif not present:
            value = None
        else:
            value = {"avg": lambda xs: sum(xs) / len(xs), "min": min, "max": max}[node.function](present)
        op = OPERATORS[node.operator]
        return op.py(value, coerce_value(op, "number", node.value, "x"), now)
    if isinstance(node, FirstPerformedCondition | LastPerformedCondition):
        times = [ts for _, ts, _ in _events(p, node, Window(), now)]
        pick = min if isinstance(node, FirstPerformedCondition) else max
        op = OPERATORS[node.operator]
        return op.py(pick(times) if times else None, coerce_value(op, "datetime", node.value, "x"), now)
    if isinstance(node, SequenceCondition):
        return any(
            _followed_as_expected(node, p, ts, now) for _, ts, _ in _events(p, node.first, node.window, now)
        )
    if isinstance(node, RandomBucketCondition):
        return bucket_of(p.id, node.salt) < node.percent * 100
    raise AssertionError(node)


def _events(
    p: Person, m: EventMatch, window: Window, now: datetime
) -> list[tuple[str, datetime, dict[str, Any]]]:
    return [
        e
        for e in p.events
        if (m.event is None or e[0] == m.event)
        and _in_window(window, e[1], now)
        and all(_filter(f, e[2], now) for f in m.where)
    ]


def _followed_as_expected(node: SequenceCondition, p: Person, start: datetime, now: datetime) -> bool:
    within = node.within.to_timedelta() if node.within is not None else None
    followed = any(
        start < ts and (within is None or ts <= start + within)
        for then in node.then
        for _, ts, _ in _events(p, then, Window(), now)
    )
    if node.expect == "present":
        return followed
    return not followed and (within is None or start <= now - within)


def _in_window(w: Window, ts: datetime, now: datetime) -> bool:
    if w.last is not None:
        return now - w.last.to_timedelta() <= ts <= now
    return (w.since is None or ts >= w.since) and (w.until is None or ts < w.until)


def _filter(f: Any, props: dict[str, Any], now: datetime) -> bool:
    vtype = property_type(f.operator, f.value, "x")
    op = OPERATORS[f.operator]
    return op.py(typed(props.get(f.property), vtype), coerce_value(op, vtype or "string", f.value, "x"), now)
