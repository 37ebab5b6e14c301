"""Attribution: which sent messages a conversion (a goal event) is credited to; funnels.

A conversion is a goal event a contact performed within ``window_days`` after a message was
sent to them (``message.sent_at``). Everything is computed in SQL: events are joined to the
touching messages on the contact and the time window, and ranked per event with window
functions, so a report reads one aggregate, never each contact in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Float,
    Interval,
    Select,
    and_,
    bindparam,
    cast,
    func,
    literal,
    select,
    type_coerce,
)

from kairos.clock import ensure_utc
from kairos.errors import InvalidInput
from kairos.events.tables import event
from kairos.segments.behaviour import matching
from kairos.segments.compiler import context
from kairos.segments.definition import EventMatch
from kairos.segments.values import json_value

MODELS = ("last", "first", "linear")
DEFAULT_EVENT = "Order Completed"
DEFAULT_WINDOW_DAYS = 7
#: event properties read as the revenue of a conversion, first found wins
REVENUE_KEYS = ("revenue", "total", "value")
MAX_DAYS = 400
MAX_STEPS = 10


@dataclass(frozen=True)
class Goal:
    match: EventMatch
    window_days: int


def parse_goal(raw: Any, default_window: int = DEFAULT_WINDOW_DAYS) -> Goal:
    """A goal from a campaign's ``goal`` (``{event, where, window_days}``) or a journey's
    ``goal`` (an event match); the default is ``Order Completed`` within 7 days."""
    raw = raw if isinstance(raw, dict) else {}
    try:
        match = EventMatch.model_validate(
            {"event": raw.get("event") or DEFAULT_EVENT, "where": raw.get("where") or []}
        )
    except ValueError as exc:
        raise InvalidInput(f"the conversion goal is not valid: {exc}", code="invalid_goal") from exc
    window = raw.get("window_days") or default_window
    return Goal(match, int(window))


def check_model(model: str) -> str:
    if model not in MODELS:
        raise InvalidInput(f"model must be one of {', '.join(MODELS)}", code="invalid_model")
    return model


def plus_days(col: Any, days: int, dialect: str) -> ColumnElement[Any]:
    """``col + days`` for an instant column (integer microseconds on SQLite)."""
    if dialect == "sqlite":
        return type_coerce(col, BigInteger) + literal(days * 86_400_000_000, BigInteger)
    out: ColumnElement[Any] = col + bindparam(None, timedelta(days=days), type_=Interval)
    return out


def day_of(col: Any, dialect: str) -> ColumnElement[str]:
    """The UTC date of an instant column as ``YYYY-MM-DD`` text."""
    if dialect == "sqlite":
        return func.date(type_coerce(col, BigInteger) / 1_000_000, "unixepoch")
    return func.to_char(func.timezone("UTC", col), "YYYY-MM-DD")


def revenue_of(ev: Any, dialect: str) -> ColumnElement[float]:
    values = [cast(json_value(ev.c.properties, key, "number", dialect), Float) for key in REVENUE_KEYS]
    return func.coalesce(*values, literal(0.0, Float))


def credits(
    conn: Connection, workspace_id: int, touches: Any, goal: Goal, model: str, now: datetime
) -> Select[Any]:
    """Per credited touch: ``message_id``, ``event_id``, ``contact_id``, ``at`` (the
    conversion's instant), ``weight`` (1, or 1/n under ``linear``) and ``revenue`` (the
    event's, times the weight). ``touches`` is a subquery of the messages that may get the
    credit, with ``id``, ``contact_id`` and ``sent_at`` (messages never sent take no part)."""
    check_model(model)
    dialect = conn.dialect.name
    ctx = context(conn, workspace_id, now)
    ev = event.alias("conversion")
    order = touches.c.sent_at.asc() if model == "first" else touches.c.sent_at.desc()
    tie = touches.c.id.asc() if model == "first" else touches.c.id.desc()
    joined = (
        select(
            touches.c.id.label("message_id"),
            ev.c.id.label("event_id"),
            ev.c.contact_id.label("contact_id"),
            ev.c.timestamp.label("at"),
            revenue_of(ev, dialect).label("revenue"),
            func.row_number().over(partition_by=ev.c.id, order_by=(order, tie)).label("rank"),
            func.count().over(partition_by=ev.c.id).label("touches"),
        )
        .select_from(touches)
        .join(
            ev,
            and_(
                ev.c.contact_id == touches.c.contact_id,
                ev.c.workspace_id == workspace_id,
                ev.c.timestamp > touches.c.sent_at,
                ev.c.timestamp <= now,
                ev.c.timestamp <= plus_days(touches.c.sent_at, goal.window_days, dialect),
            ),
        )
        .where(touches.c.sent_at.is_not(None), *matching(goal.match, ctx, "goal", ev))
    ).subquery("touched")
    if model == "linear":
        weight: ColumnElement[Any] = literal(1.0, Float) / cast(joined.c.touches, Float)
        q = select(
            joined.c.message_id, joined.c.event_id, joined.c.contact_id, joined.c.at, weight.label("weight")
        )
    else:
        q = select(
            joined.c.message_id,
            joined.c.event_id,
            joined.c.contact_id,
            joined.c.at,
            literal(1.0, Float).label("weight"),
        ).where(joined.c.rank == 1)
    return q.add_columns((joined.c.revenue * q.selected_columns.weight).label("revenue"))


def attribute(
    conn: Connection, workspace_id: int, touches: Any, goal: Goal, now: datetime, model: str = "last"
) -> list[dict[str, Any]]:
    """Per conversion: its event, when, and the credited message(s) with their weight."""
    q = credits(conn, workspace_id, touches, goal, model, now).subquery("credit")
    rows = conn.execute(select(q).order_by(q.c.event_id, q.c.message_id)).all()
    out: dict[int, dict[str, Any]] = {}
    for r in rows:  # one row per credited touch of a conversion (a handful at most)
        conv = out.setdefault(
            r.event_id, {"event_id": r.event_id, "contact_id": r.contact_id, "at": r.at, "credits": []}
        )
        conv["credits"].append({"message_id": r.message_id, "weight": r.weight, "revenue": r.revenue})
    return list(out.values())


def check_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = ensure_utc(start), ensure_utc(end)
    if end <= start:
        raise InvalidInput("end must be after start", code="invalid_range")
    if end - start > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"the range is at most {MAX_DAYS} days", code="invalid_range")
    return start, end


def funnel(
    conn: Connection, ws: int, steps: list[str], start: datetime, end: datetime, within_days: int
) -> dict[str, Any]:
    """Contacts who performed ``steps[0]`` in [start, end), then each next step at or
    after the previous one, all within ``within_days`` of their first step. One query per
    step, each joining the first occurrence times of the step before."""
    start, end = check_range(start, end)
    if not 2 <= len(steps) <= MAX_STEPS or any(not s for s in steps):
        raise InvalidInput(f"a funnel has 2 to {MAX_STEPS} named steps", code="invalid_steps")
    if not 1 <= within_days <= 365:
        raise InvalidInput("within_days must be between 1 and 365", code="invalid_window")
    d = conn.dialect.name
    prev = (
        select(
            event.c.contact_id,
            func.min(event.c.timestamp).label("t0"),
            func.min(event.c.timestamp).label("t"),
        )
        .where(
            event.c.workspace_id == ws,
            event.c.name == steps[0],
            event.c.timestamp >= start,
            event.c.timestamp < end,
        )
        .group_by(event.c.contact_id)
        .subquery("step0")
    )
    counts = [int(conn.execute(select(func.count()).select_from(prev)).scalar_one())]
    for i, name in enumerate(steps[1:], start=1):
        ev = event.alias(f"e{i}")
        after = ev.c.timestamp > prev.c.t if name == steps[i - 1] else ev.c.timestamp >= prev.c.t
        prev = (
            select(prev.c.contact_id, func.min(prev.c.t0).label("t0"), func.min(ev.c.timestamp).label("t"))
            .select_from(prev)
            .join(
                ev,
                and_(
                    ev.c.contact_id == prev.c.contact_id,
                    ev.c.workspace_id == ws,
                    ev.c.name == name,
                    after,
                    ev.c.timestamp <= plus_days(prev.c.t0, within_days, d),
                ),
            )
            .group_by(prev.c.contact_id)
            .subquery(f"step{i}")
        )
        counts.append(int(conn.execute(select(func.count()).select_from(prev)).scalar_one()))
    out = []
    for i, (name, n) in enumerate(zip(steps, counts, strict=True)):
        out.append({
            "event": name,
            "contacts": n,
            "from_previous": (round(n / counts[i - 1], 4) if counts[i - 1] else None) if i else None,
            "from_first": round(n / counts[0], 4) if counts[0] else None,
        })  # fmt: skip
    return {"start": start, "end": end, "within_days": within_days, "steps": out}
