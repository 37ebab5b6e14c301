"""Computed trait definitions, and the one statement that computes a trait's values.

A definition is JSON with a ``schema_version``: a ``function`` over the events named ``event``
(``null``: any event) whose properties match ``where``, in a ``window``. The filters and
windows are the segment definition's own (``PropertyFilter``, ``Window``), compiled by the
segment compiler's helpers, so a filter means exactly what it means in a segment.

The values of every contact (or of a few, on the incremental path) come from one SELECT
grouped by contact; ``first``, ``last`` and ``most_frequent`` rank with ``row_number()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import ColumnElement, Float, Select, Text, cast, distinct, func, literal, null, select

from kairos.db.types import BigID, UTCDateTime
from kairos.errors import InvalidInput, plain_message
from kairos.events.tables import event
from kairos.segments.behaviour import matching, window_conditions
from kairos.segments.definition import PropertyFilter, Window
from kairos.segments.operators import ValueType
from kairos.segments.values import Context, json_value

SCHEMA_VERSION: Literal[1] = 1

Function = Literal[
    "count", "sum", "avg", "min", "max", "first", "last",
    "first_seen", "last_seen", "distinct_count", "most_frequent",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    #: Property types the function reads, the default first; empty: it takes no property.
    reads: tuple[ValueType, ...]
    #: The trait's value type; None: the type the property is read as.
    result: ValueType | None
    #: A contact without matching events has 0 (not stored) rather than no value.
    zero: bool = False


_NUMBER: tuple[ValueType, ...] = ("number",)
_ANY: tuple[ValueType, ...] = ("string", "number")

FUNCTIONS: dict[str, FunctionSpec] = {
    "count": FunctionSpec((), "number", zero=True),
    "sum": FunctionSpec(_NUMBER, "number", zero=True),
    "avg": FunctionSpec(_NUMBER, "number"),
    "min": FunctionSpec(_NUMBER, "number"),
    "max": FunctionSpec(_NUMBER, "number"),
    "first": FunctionSpec(_ANY, None),
    "last": FunctionSpec(_ANY, None),
    "first_seen": FunctionSpec((), "datetime"),
    "last_seen": FunctionSpec((), "datetime"),
    "distinct_count": FunctionSpec(_ANY, "number", zero=True),
    "most_frequent": FunctionSpec(_ANY, None),
}

#: Functions whose value for a contact without matching events is 0.
ZERO_FUNCTIONS: tuple[str, ...] = tuple(name for name, spec in FUNCTIONS.items() if spec.zero)

#: The value column of each value type in ``computed_trait_value``.
VALUE_COLUMNS: dict[str, str] = {"number": "number", "string": "text", "datetime": "instant"}


class TraitDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    function: Function
    event: str | None = Field(min_length=1, description="Event name; null for any event")
    property: str | None = Field(None, min_length=1)
    property_type: Literal["string", "number"] | None = None
    where: list[PropertyFilter] = Field(default_factory=list)
    window: Window = Field(default_factory=Window)


def parse_trait_definition(data: Any) -> TraitDefinition:
    """A definition from JSON-like data; every problem names the path of its field."""
    try:
        d = TraitDefinition.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidInput(
            f"{_path(err['loc'])}: {plain_message(err['msg'])}", code="invalid_definition"
        ) from None
    spec = FUNCTIONS[d.function]
    if spec.reads and d.property is None:
        raise InvalidInput(f"definition.property: {d.function!r} needs a property", code="invalid_definition")
    if not spec.reads and d.property is not None:
        raise InvalidInput(
            f"definition.property: {d.function!r} takes no property", code="invalid_definition"
        )
    if d.property_type is not None and d.property_type not in spec.reads:
        raise InvalidInput(
            f"definition.property_type: {d.function!r} reads "
            + (" or ".join(spec.reads) + " values" if spec.reads else "no property"),
            code="invalid_definition",
        )
    return d


def _path(loc: tuple[int | str, ...]) -> str:
    out = "definition"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def property_type_of(d: TraitDefinition) -> ValueType | None:
    """The type the property is read as (values of another JSON type are ignored)."""
    reads = FUNCTIONS[d.function].reads
    if not reads:
        return None
    return d.property_type or reads[0]


def value_type_of(d: TraitDefinition) -> ValueType:
    result = FUNCTIONS[d.function].result
    return result or property_type_of(d) or "string"


def time_dependent(d: TraitDefinition) -> bool:
    """Whether the passing of time alone can change values (a ``last`` window)."""
    return d.window.last is not None or any(f.operator in ("within_last", "within_next") for f in d.where)


# --- SQL ---------------------------------------------------------------------------------


def matching_conditions(d: TraitDefinition, now: datetime, dialect: str) -> list[ColumnElement[bool]]:
    """The events that count: name, window and property filters, exactly as a segment's
    ``performed`` reads them."""
    ctx = Context(now, {}, dialect)
    return matching(d, ctx, "definition") + window_conditions(d.window, now)  # type: ignore[arg-type]


#: Functions computed by one aggregate per contact, given the property expression.
_GROUPED: dict[str, Any] = {
    "count": lambda _: func.count(),
    "sum": func.sum,
    "avg": func.avg,
    "min": func.min,
    "max": func.max,
    "distinct_count": lambda x: func.count(distinct(x)),
    "first_seen": lambda _: func.min(event.c.timestamp),
    "last_seen": lambda _: func.max(event.c.timestamp),
}


def values_select(
    trait_id: int,
    workspace_id: int,
    d: TraitDefinition,
    now: datetime,
    dialect: str,
    contact_ids: Sequence[int] | None = None,
) -> Select[Any]:
    """Rows of ``computed_trait_value`` for every contact with a value (or those among
    ``contact_ids``), in its column order. Filter errors surface here, naming their path."""
    conds = [event.c.workspace_id == workspace_id, *matching_conditions(d, now, dialect)]
    if contact_ids is not None:
        conds.append(event.c.contact_id.in_(list(contact_ids)))
    ptype = property_type_of(d)
    prop: Any = None
    if d.property is not None:
        prop = json_value(event.c.properties, d.property, ptype, dialect)
        conds.append(prop.is_not(None))  # an event without the property (of that type) is skipped
    who = event.c.contact_id
    if d.function in _GROUPED:
        value = _GROUPED[d.function](prop)
        per_contact = select(who, value.label("v")).where(*conds).group_by(who).subquery()
    elif d.function in ("first", "last"):
        order = (event.c.timestamp, event.c.id)
        if d.function == "last":
            order = (event.c.timestamp.desc(), event.c.id.desc())  # type: ignore[assignment]
        per_contact = _top(select(who, prop.label("v")).where(*conds), who, order)
    else:  # most_frequent: the value seen most often; a tie goes to the one seen last
        arrival = func.row_number().over(partition_by=who, order_by=(event.c.timestamp, event.c.id))
        events = select(who, prop.label("v"), arrival.label("seq")).where(*conds).subquery()
        counted = (
            select(
                events.c.contact_id,
                events.c.v,
                func.count().label("n"),
                func.max(events.c.seq).label("latest"),
            )
            .group_by(events.c.contact_id, events.c.v)
            .subquery()
        )
        per_contact = _top(
            select(counted.c.contact_id, counted.c.v),
            counted.c.contact_id,
            (counted.c.n.desc(), counted.c.latest.desc()),
        )
    vcol = VALUE_COLUMNS[value_type_of(d)]
    typed: dict[str, Any] = {
        "number": cast(null(), Float),
        "text": cast(null(), Text),
        "instant": cast(null(), UTCDateTime()),
    }
    typed[vcol] = per_contact.c.v
    return select(
        literal(trait_id, BigID).label("trait_id"),
        per_contact.c.contact_id,
        literal(workspace_id, BigID).label("workspace_id"),
        typed["number"].label("number"),
        typed["text"].label("text"),
        typed["instant"].label("instant"),
        literal(now, UTCDateTime()).label("updated_at"),
    ).where(per_contact.c.v.is_not(None))  # also keeps SQLite's INSERT … SELECT … ON CONFLICT unambiguous


def _top(rows: Select[Any], partition: Any, order: tuple[Any, ...]) -> Any:
    """The first row of ``rows`` per contact in ``order``."""
    ranked = rows.add_columns(func.row_number().over(partition_by=partition, order_by=order).label("rn"))
    sub = ranked.subquery()
    return select(sub.c.contact_id, sub.c.v).where(sub.c.rn == 1).subquery()
