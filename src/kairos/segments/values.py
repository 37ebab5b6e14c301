"""What a condition compares: contact fields, typed custom attributes, event properties and
the values written in a definition — as SQL expressions and checked Python values.

JSON members are read as one type at a time and are NULL unless they hold it, so a
string where a number is expected never matches and never breaks PostgreSQL's casts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import (
    TIMESTAMP,
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB

from kairos.clock import ensure_utc
from kairos.contacts.acquisition import ATTRIBUTES as ACQUISITION_NAMES
from kairos.contacts.acquisition import FIELDS as ACQUISITION_FIELDS
from kairos.contacts.acquisition import PREFIX as ACQUISITION
from kairos.contacts.acquisition import attribute_column
from kairos.contacts.tables import contact, contact_acquisition
from kairos.db.types import UTCDateTime
from kairos.errors import InvalidInput
from kairos.segments.anniversary import age_bounds, utc_date, window_days, window_month_days, zone_groups
from kairos.segments.definition import Duration
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

#: Acquisition attributes (docs/segments.md): ``acquisition.first|last.FIELD``, with their types.
ACQUISITION_ATTRIBUTES: dict[str, ValueType] = {
    name: ("datetime" if name.endswith(".at") else "string") for name in ACQUISITION_NAMES
}

#: The oldest age ``age_between`` takes.
MAX_AGE = 150

#: An ISO date or date-time as stored for datetime attributes (PostgreSQL casts only these).
_ISO_PREFIX = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?$"
)


@dataclass(frozen=True)
class Context:
    """What compiling needs besides the definition: the instant it is evaluated at, the
    workspace's attribute types, and the SQL dialect."""

    now: datetime
    attribute_types: dict[str, str]
    dialect: str
    #: Set when the whole workspace is evaluated: conditions then compile to sets of
    #: contacts (one scan) instead of subqueries correlated to each contact.
    workspace_id: int | None = None
    #: the workspace's subscription topics: key → (id, opt-in, channel or None)
    topics: dict[str, tuple[int, bool, str | None]] = field(default_factory=dict)
    #: Set when evaluating as of an instant (preview and explain ``as_of``): events
    #: timestamped after it are left out, whatever the window.
    events_until: datetime | None = None
    #: the workspace's score models: key → id
    score_models: dict[str, int] = field(default_factory=dict)
    #: the workspace's predictive models: key → id
    predictive_models: dict[str, int] = field(default_factory=dict)

    @property
    def whole(self) -> bool:
        return self.workspace_id is not None


# --- operands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListOperand:
    """A list attribute: ``includes`` is true when any of the values is an element."""

    column: Any
    key: str
    dialect: str

    def is_not(self, _: None) -> ColumnElement[bool]:
        present: ColumnElement[bool] = self._array().is_not(None)
        return present

    def is_(self, _: None) -> ColumnElement[bool]:
        missing: ColumnElement[bool] = self._array().is_(None)
        return missing

    def _array(self) -> Any:
        if self.dialect == "sqlite":
            where = "$." + json.dumps(self.key)
            return case((func.json_type(self.column, where) == "array", literal(1)))
        return case((func.jsonb_typeof(self.column[self.key]) == "array", literal(1)))

    def includes(self, values: list[Any]) -> ColumnElement[bool]:
        if not values:
            return false()
        if self.dialect == "sqlite":
            items = func.json_each(self.column, "$." + json.dumps(self.key)).table_valued("value", "type")
            kinds = [_sqlite_json_type(v) for v in values]
            matches = or_(
                *[and_(items.c.value == v, items.c.type.in_(k)) for v, k in zip(values, kinds, strict=True)]
            )
            return and_(
                self._array().is_not(None), exists(select(literal(1)).select_from(items).where(matches))
            )
        member = self.column[self.key]
        holds = or_(
            *[member.op("@>", return_type=Boolean)(cast(literal(json.dumps([v])), JSONB)) for v in values]
        )
        return func.coalesce(holds, false())  # type: ignore[no-any-return]


def _sqlite_json_type(value: Any) -> list[str]:
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, int | float):
        return ["integer", "real"]
    return ["text"]


@dataclass(frozen=True)
class AnniversaryOperand:
    """A date's month-day (``MM-DD``) and the contact's time zone column."""

    month_day: Any
    timezone: Any

    def anniversary_within(self, within: timedelta, now: datetime) -> ColumnElement[bool]:
        days = window_days(within)
        parts = []
        every: set[str] = set()
        for day, in_zone in local_dates(self.timezone, now):
            days_list = window_month_days(day, days)
            every.update(days_list)
            parts.append(and_(in_zone, self.month_day.in_(days_list)))
        # The union of the month-days first, as a term of its own: one test turns away all
        # but the few contacts with an anniversary near now, and only those are placed in a
        # time zone. Never NULL (a missing date is ''), so the result stays two-valued
        # without a COALESCE around it all — which would cost SQLite its short-circuit.
        known = func.coalesce(self.month_day, "").in_(sorted(every))
        return and_(known, or_(*parts))


def local_dates(timezone: Any, now: datetime) -> list[tuple[date, ColumnElement[bool]]]:
    """The two or three local dates at ``now``, each with the test that a contact's time
    zone column is on it. Never NULL, so callers stay two-valued without a COALESCE."""
    groups = zone_groups(now)
    today_utc = utc_date(now)
    out = []
    for day, zones in sorted(groups.items()):
        if day == today_utc:  # no time zone, or one we do not know, counts as UTC
            others = [z for d, zs in groups.items() if d != day for z in zs]
            in_zone: ColumnElement[bool] = or_(timezone.is_(None), timezone.not_in(others))
        else:
            in_zone = func.coalesce(timezone, "").in_(zones)
        out.append((day, in_zone))
    return out


@dataclass(frozen=True)
class AgeOperand:
    """A birth date (as the instant of a datetime attribute) and the contact's time zone."""

    born: Any
    timezone: Any

    def age_between(self, low: int, high: int, now: datetime) -> ColumnElement[bool]:
        """``low`` … ``high`` whole years old on the contact's local date: per local date at
        ``now``, a range of birth instants (bound values). The union of those ranges comes
        first, a plain range on the operand that turns most contacts away at once."""
        parts = []
        ranges = []
        for day, in_zone in local_dates(self.timezone, now):
            start, end = age_bounds(day, low, high)
            ranges.append((start, end))
            parts.append(and_(in_zone, self.born >= start, self.born < end))
        # COALESCE on the range alone: a missing birth date is false there, and with a date
        # every other term is non-NULL — the result stays two-valued, SQLite short-circuits
        known = func.coalesce(
            and_(self.born >= min(r[0] for r in ranges), self.born < max(r[1] for r in ranges)), false()
        )
        return and_(known, or_(*parts))


# --- attributes and properties ---------------------------------------------------------------


def attribute_expression(
    name: str, ctx: Context, path: str, operator: str | None = None
) -> tuple[Any, ValueType]:
    """A built-in field, an acquisition attribute or a custom attribute as SQL, with its type."""
    if name in BUILTIN_FIELDS:
        return contact.c[name], BUILTIN_FIELDS[name]
    if name.startswith(ACQUISITION):
        return acquisition_expression(name, path), ACQUISITION_ATTRIBUTES[name]
    key = name.removeprefix("traits.")
    kind = ctx.attribute_types.get(key)
    if kind is None:
        raise InvalidInput(
            f"{path}.attribute: {name!r} is neither a contact field nor a defined attribute",
            code="unknown_attribute",
        )
    if kind == "list":
        return ListOperand(contact.c.traits, key, ctx.dialect), "list"
    if kind == "datetime":
        return instant_from_text(
            json_value(contact.c.traits, key, "string", ctx.dialect), ctx.dialect
        ), "datetime"
    return json_value(contact.c.traits, key, kind, ctx.dialect, operator), kind  # type: ignore[return-value]


def acquisition_expression(name: str, path: str) -> Any:
    """``acquisition.first.channel`` …: the contact's touch value (NULL without a touch)."""
    column = attribute_column(name)
    if column is None:
        raise InvalidInput(
            f"{path}.attribute: {name!r} is not an acquisition attribute (acquisition.first.FIELD or "
            f"acquisition.last.FIELD, FIELD one of {', '.join(ACQUISITION_FIELDS)})",
            code="unknown_attribute",
        )
    return (
        select(column)
        .where(contact_acquisition.c.contact_id == contact.c.id)
        .correlate(contact)
        .scalar_subquery()
    )


def month_day_expression(name: str, ctx: Context) -> Any:
    """``MM-DD`` of a datetime attribute: the stored date, or an instant's UTC date."""
    if name in BUILTIN_FIELDS or name.startswith(ACQUISITION):
        column = contact.c[name] if name in BUILTIN_FIELDS else acquisition_expression(name, "attribute")
        if ctx.dialect == "sqlite":
            seconds = type_coerce(column, BigInteger) / 1_000_000
            return func.strftime("%m-%d", seconds, "unixepoch")
        return func.to_char(func.timezone("UTC", column), "MM-DD")
    # Unchecked JSON type: a number, boolean or list never yields a valid month-day.
    text = json_value(contact.c.traits, name.removeprefix("traits."), None, ctx.dialect)
    return func.substr(text, 6, 5)


def instant_from_text(text: Any, dialect: str) -> Any:
    """An ISO date or date-time string as an instant (seconds precision; a date is its
    midnight UTC); NULL when the text is not one."""
    if dialect == "sqlite":
        return type_coerce(func.unixepoch(text) * 1_000_000, UTCDateTime)
    return case(
        (text.op("~")(_ISO_PREFIX), func.timezone("UTC", cast(text, TIMESTAMP))),
        else_=None,
    )


#: Operators for which SQLite needs no JSON type check on string values: ``json_extract``
#: gives a number, boolean or null as a non-text value, which never equals a text.
TEXT_EQUALITY = frozenset({"eq", "in"})


def json_value(column: Any, key: str, vtype: str | None, dialect: str, operator: str | None = None) -> Any:
    """A JSON member as SQL, NULL unless it holds the wanted JSON type (a string where a
    number is expected must not match, nor make PostgreSQL's cast fail). Given the
    ``operator``, the type check is left out where it cannot change the answer (it costs
    SQLite a second parse of the document per row)."""
    if dialect == "sqlite":
        where = "$." + json.dumps(key)
        raw = func.json_extract(column, where)
        if vtype is None or (vtype == "string" and operator in TEXT_EQUALITY):
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


# --- operators and values --------------------------------------------------------------------


def operator_for(key: str, vtype: ValueType, path: str) -> Operator:
    op = OPERATORS.get(key)
    if op is None:
        raise InvalidInput(f"{path}: unknown operator {key!r}", code="unknown_operator")
    if vtype not in op.types:
        raise InvalidInput(f"{path}: {key!r} does not apply to {vtype} values", code="invalid_operator")
    return op


def compare(
    op: Operator, operand: Any, vtype: ValueType, raw: Any, ctx: Context, path: str
) -> ColumnElement[bool]:
    """``operand <op> value`` as SQL, the value checked against the operator and type."""
    return op.sql(operand, coerce_value(op, vtype, raw, f"{path}.value"), ctx.now)


def coerce_value(op: Operator, vtype: ValueType, raw: Any, path: str) -> Any:
    if op.value == "none":
        return None
    if op.value == "duration":
        return _duration(raw, path)
    if op.value == "duration_pair":
        if not isinstance(raw, list) or len(raw) != 2:
            raise InvalidInput(
                f"{path}: expected two durations like [{{'amount': 3, 'unit': 'days'}}, "
                "{'amount': 7, 'unit': 'days'}]",
                code="invalid_value",
            )
        return [_duration(v, f"{path}[{i}]") for i, v in enumerate(raw)]
    if op.value == "age_range":
        if not (
            isinstance(raw, list)
            and len(raw) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_AGE for v in raw)
            and raw[0] <= raw[1]
        ):
            raise InvalidInput(
                f"{path}: expected [low, high] whole years, 0 ≤ low ≤ high ≤ {MAX_AGE}", code="invalid_value"
            )
        return list(raw)
    if op.value == "list":
        if not isinstance(raw, list):
            raise InvalidInput(f"{path}: expected a list", code="invalid_value")
        return [_scalar(vtype, v, path) for v in raw]
    if op.value == "pair":
        if not isinstance(raw, list) or len(raw) != 2:
            raise InvalidInput(f"{path}: expected [low, high]", code="invalid_value")
        return [_scalar(vtype, v, path) for v in raw]
    return _scalar(vtype, raw, path)


def _duration(raw: Any, path: str) -> Duration:
    try:
        return Duration.model_validate(raw)
    except ValidationError:
        raise InvalidInput(
            f"{path}: expected a duration like {{'amount': 7, 'unit': 'days'}} (units: seconds, "
            "minutes, hours, days, weeks, months, years)",
            code="invalid_value",
        ) from None


def _scalar(vtype: ValueType, raw: Any, path: str) -> Any:
    if vtype in ("string", "list") and isinstance(raw, str):
        return raw
    if vtype in ("number", "list") and isinstance(raw, int | float) and not isinstance(raw, bool):
        return raw
    if vtype in ("boolean", "list") and isinstance(raw, bool):
        return raw
    if vtype == "datetime":
        if isinstance(raw, datetime):
            return ensure_utc(raw)
        if isinstance(raw, str):
            try:
                return ensure_utc(datetime.fromisoformat(raw))
            except ValueError:
                pass
    what = "a string, number or boolean element" if vtype == "list" else f"a {vtype}"
    raise InvalidInput(f"{path}: expected {what}, got {raw!r}", code="invalid_value")
