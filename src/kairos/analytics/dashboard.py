"""The workspace dashboard: per UTC day, new contacts, events, messages sent, delivered,
opened and clicked, attributed conversions and their revenue; the live contacts, journeys
and broadcasts now (``docs/analytics.md``, "Dashboard").

Its cost follows the number of days and what happened in them, never the workspace's
history: events per day come from the ``event_day_count`` rollup (kept by ingest), new
contacts and sends from range scans of two partial indexes (``ix_contact_live_created``,
``ix_message_sent``), opens and clicks from ``ix_message_event_workspace_kind``, and
conversions from the attribution query (``attribution.credits``) over the range's goal
events. The counts by day are one statement: a row per day (a recursive CTE) with a
correlated count per figure, each a range scan of an index, neither a sort nor a query per
day — SQLite has no hash aggregation: one GROUP BY day over a month's sends sorted a million
rows (3x slower on the benchmark dataset), and a query per day cost 1,200 round trips for
400 days.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, delete, false, func, literal, select, text

from kairos.analytics.attribution import EPOCH, check_range, credits, parse_goal
from kairos.analytics.reports import Scope, _money, _valued
from kairos.analytics.tables import event_day_count
from kairos.campaigns.tables import broadcast
from kairos.clock import ensure_utc
from kairos.contacts.tables import contact
from kairos.db.dialect import day_number, shifted
from kairos.db.types import UTCDateTime
from kairos.errors import InvalidInput
from kairos.journeys.tables import journey
from kairos.messaging.tables import message, message_event

__all__ = ["DAY_FIGURES", "dashboard", "dashboard_range", "recount_events"]

#: the figures of each day and of the totals, in this order
DAY_FIGURES = (
    "new_contacts", "events", "sent", "delivered", "opened", "clicked", "conversions", "revenue",
)  # fmt: skip
DEFAULT_DAYS = 30
#: journeys and broadcasts listed by name (the counts are of all of them)
MAX_ITEMS = 20
RUNNING_BROADCASTS = ("scheduled", "sending", "testing")
_DAY = timedelta(days=1)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def dashboard_range(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The whole UTC days the dashboard covers: those ``[start, end)`` touches (at most 400
    days, else 422 ``invalid_range``). Without ``end``: up to the end of today (``now``'s UTC
    day); without ``start``: the 30 days up to ``end``."""
    try:
        if end is None:
            end = _midnight(ensure_utc(now).date() + _DAY)
        if start is None:
            start = ensure_utc(end) - timedelta(days=DEFAULT_DAYS)
        start, end = check_range(start, end)
        return _midnight(start.date()), _midnight((end - timedelta(microseconds=1)).date() + _DAY)
    except OverflowError:  # a day before year 1 or after 9999
        raise InvalidInput(
            "start and end must be between the years 1 and 9999", code="invalid_range"
        ) from None


def _days(start: datetime, end: datetime) -> Iterator[tuple[date, datetime, datetime]]:
    day = start
    while day < end:
        yield day.date(), day, day + timedelta(days=1)
        day += timedelta(days=1)


def dashboard(
    conn: Connection,
    ws: int,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """The dashboard of the whole UTC days ``dashboard_range`` gives; money in ``currency``
    (ISO 4217), else the exchange-rate table's base (revenue without a rate apart, per
    currency, in ``revenue_unconverted``)."""
    start, end = dashboard_range(start, end, now)
    days = {d: dict.fromkeys(DAY_FIGURES, 0) for d, _, _ in _days(start, end)}
    c, m, me = contact.c, message.c, message_event.c

    live = [c.workspace_id == ws, c.merged_into.is_(None)]  # ix_contact_live_created
    total = conn.execute(select(func.count()).where(*live)).scalar_one()
    ec = event_day_count.c
    for day, n in conn.execute(
        select(ec.day, ec.events).where(ec.workspace_id == ws, ec.day >= start.date(), ec.day < end.date())
    ):
        days[day]["events"] = int(n)

    # one row per day: [low, high) from a recursive CTE, each figure a correlated count that
    # is a range scan of an index (no sort, one statement for any number of days)
    dialect = conn.dialect.name
    series = select(literal(start, UTCDateTime()).label("low")).cte("day", recursive=True)
    series = series.union_all(select(shifted(series.c.low, _DAY, dialect)).where(series.c.low < end - _DAY))
    low, high = series.c.low, shifted(series.c.low, _DAY, dialect)

    def count(*where: Any) -> Any:
        return select(func.count()).where(*where).scalar_subquery()

    def people(kind: str) -> Any:  # distinct messages; machine opens and clicks left out
        return (
            select(func.count(func.distinct(me.message_id)))
            .where(
                me.workspace_id == ws,
                me.kind == kind,
                me.created_at >= low,
                me.created_at < high,
                me.machine == false(),
            )
            .scalar_subquery()
        )

    sent = [m.workspace_id == ws, m.sent_at.is_not(None), m.sent_at >= low, m.sent_at < high]
    for day_start, *figures in conn.execute(
        select(
            low,
            count(*live, c.created_at >= low, c.created_at < high),  # ix_contact_live_created
            count(*sent),  # ix_message_sent
            count(*sent, m.status == "delivered"),
            people("opened"),  # ix_message_event_workspace_kind
            people("clicked"),
        )
    ):
        row = days[ensure_utc(day_start).date()]
        for name, n in zip(("new_contacts", "sent", "delivered", "opened", "clicked"), figures, strict=True):
            row[name] = int(n or 0)

    money = _conversions(conn, ws, now, start, end, currency, days)
    totals = dict.fromkeys(DAY_FIGURES, 0)
    out_days = []
    for day, row in days.items():
        row["revenue"] = round(row["revenue"], 6)
        for name in DAY_FIGURES:
            totals[name] += row[name]
        out_days.append({"date": day.isoformat(), **row})
    totals["revenue"] = round(totals["revenue"], 6)
    return {
        "start": start,
        "end": end,
        "as_of": now,
        **money,
        "contacts": {"total": int(total)},
        "days": out_days,
        "totals": totals,
        "live_journeys": _listed(conn, journey, ws, journey.c.status == "active"),
        "running_broadcasts": _listed(conn, broadcast, ws, broadcast.c.status.in_(RUNNING_BROADCASTS)),
    }


def _conversions(
    conn: Connection,
    ws: int,
    now: datetime,
    start: datetime,
    end: datetime,
    currency: str | None,
    days: dict[date, dict[str, Any]],
) -> dict[str, Any]:
    """Conversions and revenue by the conversion's day, into ``days``; the money's header.

    The workspace's conversions: the default goal (``Order Completed`` within 7 days, as for
    a broadcast without a campaign) credited to any marketing message (``credits`` over the
    workspace, every message in scope). Every attribution model gives each conversion with a
    touch a total weight of 1 and its whole revenue, so the figures do not depend on the
    model: ``last`` is used."""
    goal = parse_goal(None)
    target, assumed, _ = _money(conn, ws, None, currency, now, costed=False)
    scope = Scope([], None, goal, {}, {}, currency=target, assumed=assumed)
    credit = credits(conn, ws, goal, "last", now, start, end).subquery("credit")
    day = day_number(credit.c.at, conn.dialect.name)
    found = conn.execute(
        select(
            day.label("day"),
            credit.c.currency,
            func.sum(credit.c.weight).label("n"),
            func.sum(credit.c.revenue).label("revenue"),
        )
        .where(credit.c.at < end)
        .group_by(day, credit.c.currency)
    ).all()
    valued = _valued(conn, ws, scope, [(f.currency, f.day, float(f.revenue or 0)) for f in found])
    unconverted: dict[str, float] = {}
    for f, (apart, amount) in zip(found, valued, strict=True):
        row = days.get(EPOCH + timedelta(days=int(f.day)))
        if row is None:  # before 1970, SQLite's day number rounds towards 1970 (day_number)
            continue
        row["conversions"] += round(float(f.n or 0))
        if apart is None:
            row["revenue"] += amount
        elif amount:
            unconverted[apart] = unconverted.get(apart, 0.0) + amount
    return {
        "currency": target,
        # false: some revenue had no exchange rate; it is in revenue_unconverted, not in revenue
        "revenue_complete": not unconverted,
        "revenue_unconverted": {c: round(v, 6) for c, v in sorted(unconverted.items())},
        "goal": {"event": goal.match.event, "window_days": goal.window_days},
    }


def _listed(conn: Connection, table: Any, ws: int, condition: Any) -> dict[str, Any]:
    """How many rows of ``table`` meet ``condition``, and the newest ``MAX_ITEMS`` of them."""
    where = [table.c.workspace_id == ws, condition]
    count = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    items = conn.execute(
        select(table.c.id, table.c.name).where(*where).order_by(table.c.id.desc()).limit(MAX_ITEMS)
    ).all()
    return {"count": int(count), "items": [{"id": int(r.id), "name": r.name} for r in items]}


def recount_events(conn: Connection, ws: int) -> int:
    """Rebuild the workspace's ``event_day_count`` from its stored events (one ``INSERT …
    SELECT … GROUP BY``, as migration 0018 did for every workspace): for rows written
    around the ingest pipeline, such as a benchmark's generated events. Returns the events
    counted."""
    conn.execute(delete(event_day_count).where(event_day_count.c.workspace_id == ws))
    if conn.dialect.name == "sqlite":  # epoch microseconds: whole days, floored; one date per group
        day = "(timestamp - (timestamp % 86400000000 + 86400000000) % 86400000000) / 86400000000"
        sql = f"""INSERT INTO event_day_count (workspace_id, day, events)
                  SELECT workspace_id, date(d * 86400, 'unixepoch'), count(*)
                  FROM (SELECT workspace_id, {day} AS d FROM event WHERE workspace_id = :ws) AS e
                  GROUP BY workspace_id, d"""
    else:
        sql = """INSERT INTO event_day_count (workspace_id, day, events)
                 SELECT workspace_id, (timestamp AT TIME ZONE 'UTC')::date AS day, count(*)
                 FROM event WHERE workspace_id = :ws
                 GROUP BY workspace_id, day"""
    conn.execute(text(sql), {"ws": ws})
    counted = select(func.coalesce(func.sum(event_day_count.c.events), 0)).where(
        event_day_count.c.workspace_id == ws
    )
    return int(conn.execute(counted).scalar_one())
