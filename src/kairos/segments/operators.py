"""The operators registry: one entry per operator, read by the compiler, the validator, the
Python evaluator (tests, explanations) and any UI.

Every comparison is false when the value is missing: ``plan != "pro"`` does not match
contacts without a plan (use ``is_not_set`` for those). The SQL side keeps that two-valued
by turning each comparison's NULL into false, so ``not`` means the same in SQL and in
Python. ``contains`` and ``starts_with`` ignore case (ASCII letters on SQLite).

Three kinds of operand are richer than a column: a list attribute (``includes``), and an
anniversary or an age, which need the contact's time zone. For those the compiler hands the
builder an object with the method it calls (``ListOperand``, ``AnniversaryOperand``,
``AgeOperand``), and the Python side gets the matching plain values.

Relative dates (``within_last``, ``more_than_ago`` …) take durations (``kairos.durations``):
the boundary instant is computed from ``now`` in Python — calendar months and years included
— and bound, so the SQL is a plain range on the operand. Operators marked ``moves`` can
change their answer by the passing of time alone: segments using them are re-checked
periodically (``segments/deps.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, false, func, not_

from kairos.durations import Duration
from kairos.segments.anniversary import age_between, anniversary_within

#: The shape of an operator's value: ``pair`` is ``[low, high]``, ``duration`` a duration,
#: ``duration_pair`` two durations ``[nearest, farthest]`` (either order), ``age_range``
#: ``[low, high]`` whole years (inclusive).
ValueKind = Literal["none", "one", "list", "pair", "duration", "duration_pair", "age_range"]
ValueType = Literal["string", "number", "boolean", "datetime", "list"]
ALL_TYPES: frozenset[ValueType] = frozenset({"string", "number", "boolean", "datetime"})
ORDERED: frozenset[ValueType] = frozenset({"number", "datetime"})
WITH_LISTS: frozenset[ValueType] = ALL_TYPES | {"list"}

SqlBuilder = Callable[[Any, Any, Any], ColumnElement[bool]]  # (expression, value, now)
PyPredicate = Callable[[Any, Any, datetime], bool]  # (actual, value, now)


@dataclass(frozen=True, slots=True)
class Operator:
    key: str
    label: str
    value: ValueKind
    types: frozenset[ValueType]
    sql: SqlBuilder
    py: PyPredicate
    #: true when the passing of time alone can change the answer (periodic re-check)
    moves: bool = False


def _guard(sql: SqlBuilder) -> SqlBuilder:
    # NULL (missing) compares false, not unknown; COALESCE keeps the operand written once,
    # where "x IS NOT NULL AND x = v" would make SQLite extract a JSON member twice.
    return lambda x, v, now: func.coalesce(sql(x, v, now), false())


def _present(py: PyPredicate) -> PyPredicate:
    return lambda a, v, now: a is not None and py(a, v, now)


def _like(x: Any, v: str, pattern: str) -> ColumnElement[bool]:
    escaped = v.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(x).like(pattern.replace("V", escaped), escape="\\")  # type: ignore[no-any-return]


def _within(delta_sign: int) -> tuple[SqlBuilder, PyPredicate]:
    def sql(x: Any, v: Duration, now: Any) -> ColumnElement[bool]:
        if delta_sign < 0:
            return x.between(v.before(now), now)  # type: ignore[no-any-return]
        return x.between(now, v.after(now))  # type: ignore[no-any-return]

    def py(a: datetime, v: Duration, now: datetime) -> bool:
        return v.before(now) <= a <= now if delta_sign < 0 else now <= a <= v.after(now)

    return sql, py


_LAST, _NEXT = _within(-1), _within(1)


def _ago_range(v: list[Duration], now: datetime) -> tuple[datetime, datetime]:
    """``[N, M]`` ago as the instants ``(now - the longer, now - the shorter)``."""
    first, second = v[0].before(now), v[1].before(now)
    return min(first, second), max(first, second)


def _between_ago_sql(x: Any, v: list[Duration], now: datetime) -> ColumnElement[bool]:
    low, high = _ago_range(v, now)
    return x.between(low, high)  # type: ignore[no-any-return]


def _between_ago_py(a: datetime, v: list[Duration], now: datetime) -> bool:
    low, high = _ago_range(v, now)
    return low <= a <= high


_ENTRIES = [
    Operator(
        "eq", "equals", "one", ALL_TYPES, _guard(lambda x, v, _: x == v), _present(lambda a, v, _: a == v)
    ),
    Operator(
        "neq",
        "does not equal",
        "one",
        ALL_TYPES,
        _guard(lambda x, v, _: x != v),
        _present(lambda a, v, _: a != v),
    ),
    Operator(
        "in",
        "is one of",
        "list",
        frozenset({"string", "number"}),
        _guard(lambda x, v, _: x.in_(v) if v else false()),
        _present(lambda a, v, _: a in v),
    ),
    Operator(
        "not_in",
        "is none of",
        "list",
        frozenset({"string", "number"}),
        _guard(lambda x, v, _: x.not_in(v) if v else x.is_not(None)),
        _present(lambda a, v, _: a not in v),
    ),
    Operator(
        "contains",
        "contains",
        "one",
        frozenset({"string"}),
        _guard(lambda x, v, _: _like(x, v, "%V%")),
        _present(lambda a, v, _: v.lower() in a.lower()),
    ),
    Operator(
        "starts_with",
        "starts with",
        "one",
        frozenset({"string"}),
        _guard(lambda x, v, _: _like(x, v, "V%")),
        _present(lambda a, v, _: a.lower().startswith(v.lower())),
    ),
    Operator(
        "gt",
        "is greater than",
        "one",
        ORDERED,
        _guard(lambda x, v, _: x > v),
        _present(lambda a, v, _: a > v),
    ),
    Operator(
        "gte", "is at least", "one", ORDERED, _guard(lambda x, v, _: x >= v), _present(lambda a, v, _: a >= v)
    ),
    Operator(
        "lt", "is less than", "one", ORDERED, _guard(lambda x, v, _: x < v), _present(lambda a, v, _: a < v)
    ),
    Operator(
        "lte", "is at most", "one", ORDERED, _guard(lambda x, v, _: x <= v), _present(lambda a, v, _: a <= v)
    ),
    Operator(
        "between",
        "is between",
        "pair",
        ORDERED,
        _guard(lambda x, v, _: x.between(v[0], v[1])),
        _present(lambda a, v, _: v[0] <= a <= v[1]),
    ),
    Operator(
        "before",
        "is before",
        "one",
        frozenset({"datetime"}),
        _guard(lambda x, v, _: x < v),
        _present(lambda a, v, _: a < v),
    ),
    Operator(
        "after",
        "is after",
        "one",
        frozenset({"datetime"}),
        _guard(lambda x, v, _: x > v),
        _present(lambda a, v, _: a > v),
    ),
    Operator(
        "within_last",
        "is within the last",
        "duration",
        frozenset({"datetime"}),
        _guard(_LAST[0]),
        _present(_LAST[1]),
        moves=True,
    ),
    Operator(
        "within_next",
        "is within the next",
        "duration",
        frozenset({"datetime"}),
        _guard(_NEXT[0]),
        _present(_NEXT[1]),
        moves=True,
    ),
    Operator(
        "more_than_ago",
        "is more than … ago",
        "duration",
        frozenset({"datetime"}),
        _guard(lambda x, v, now: x < v.before(now)),
        _present(lambda a, v, now: a < v.before(now)),
        moves=True,
    ),
    Operator(
        "less_than_ago",
        "is less than … ago",
        "duration",
        frozenset({"datetime"}),
        _guard(lambda x, v, now: and_(x > v.before(now), x <= now)),
        _present(lambda a, v, now: v.before(now) < a <= now),
        moves=True,
    ),
    Operator(
        "between_ago",
        "is between … and … ago",
        "duration_pair",
        frozenset({"datetime"}),
        _guard(_between_ago_sql),
        _present(_between_ago_py),
        moves=True,
    ),
    Operator(
        "anniversary_within_next",
        "has an anniversary within the next",
        "duration",
        frozenset({"datetime"}),
        lambda x, v, now: x.anniversary_within(v.after(now) - now, now),
        _present(lambda a, v, now: anniversary_within(a[0], a[1], v.after(now) - now, now)),
        moves=True,
    ),
    Operator(
        "age_between",
        "is between … and … years old",
        "age_range",
        frozenset({"datetime"}),
        lambda x, v, now: x.age_between(v[0], v[1], now),
        _present(lambda a, v, now: age_between(a[0], a[1], v[0], v[1], now)),
        moves=True,
    ),
    Operator(
        "includes",
        "includes",
        "one",
        frozenset({"list"}),
        lambda x, v, _: x.includes([v]),
        _present(lambda a, v, _: v in a),
    ),
    Operator(
        "includes_any",
        "includes any of",
        "list",
        frozenset({"list"}),
        lambda x, v, _: x.includes(v),
        _present(lambda a, v, _: any(item in a for item in v)),
    ),
    Operator(
        "is_set", "is set", "none", WITH_LISTS, lambda x, v, _: x.is_not(None), lambda a, v, _: a is not None
    ),
    Operator(
        "is_not_set",
        "is not set",
        "none",
        WITH_LISTS,
        lambda x, v, _: x.is_(None),
        lambda a, v, _: a is None,
    ),
]

OPERATORS: dict[str, Operator] = {op.key: op for op in _ENTRIES}

#: The operators whose answer the passing of time alone can change.
MOVING: frozenset[str] = frozenset(op.key for op in _ENTRIES if op.moves)

__all__ = ["MOVING", "OPERATORS", "Operator", "ValueKind", "ValueType", "not_"]
