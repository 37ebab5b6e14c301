"""Leads and revenue by acquisition source (docs/leads.md, "Acquisition source").

Groups a range's figures by a value of each contact's first or last touch
(``contact_acquisition``): the channel group, the source, medium, campaign, term or content.
Three grouped queries, each starting from the range of an index and joining the touch by
the contact's key:

- ``new_contacts``: live contacts created in the range (``ix_contact_live_created``);
- ``stages``: per lifecycle stage asked for (MQL, SQL and customer by default), the
  distinct contacts that entered it in the range (``lifecycle_change``, whose rows follow a
  merged contact to its survivor);
- ``conversions`` and ``revenue``: the goal events of the range (``Order Completed`` by
  default, as the other reports) and their revenue (``revenue``, ``total`` or ``value``), in
  the report's currency at each day's exchange rate; revenue without a rate is apart, per
  currency, in ``revenue_unconverted``.

A contact without a touch (created by an import or the API, never seen on a page or form)
falls in the group ``null``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from kairos.analytics.attribution import check_range, currency_of, parse_goal, revenue_of
from kairos.analytics.reports import Scope, _money, _valued
from kairos.contacts.tables import contact, contact_acquisition, lifecycle_change
from kairos.db.dialect import day_number
from kairos.errors import InvalidInput
from kairos.events.tables import event
from kairos.segments.behaviour import matching
from kairos.segments.compiler import context

BY = ("channel", "source", "medium", "campaign", "term", "content")
TOUCHES = ("first", "last")
DEFAULT_STAGES = ("MQL", "SQL", "customer")
MAX_STAGES = 10
#: the figures of each row, in CSV order (then one column per stage)
FIGURES = ("new_contacts", "conversions", "revenue")


def check_by(by: str) -> str:
    if by not in BY:
        raise InvalidInput(f"by must be one of {', '.join(BY)}", code="invalid_by")
    return by


def check_touch(touch: str) -> str:
    if touch not in TOUCHES:
        raise InvalidInput("touch must be first or last", code="invalid_touch")
    return touch


def check_stages(stages: list[str] | None) -> list[str]:
    if not stages:
        return list(DEFAULT_STAGES)
    out: list[str] = []
    for raw in stages:
        for stage in raw.split(","):
            stage = stage.strip()
            if not 0 < len(stage) <= 40:
                raise InvalidInput("stages: each stage has 1 to 40 characters", code="invalid_stages")
            if stage not in out:
                out.append(stage)
    if len(out) > MAX_STAGES:
        raise InvalidInput(f"stages: at most {MAX_STAGES}", code="invalid_stages")
    return out


def acquisition_report(
    conn: Connection,
    ws: int,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    by: str = "channel",
    touch: str = "first",
    stages: list[str] | None = None,
    event_name: str | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """The figures of ``[start, end)`` per value of the touch's ``by`` field, most new
    contacts first, with the totals (see the module's docstring)."""
    check_by(by)
    check_touch(touch)
    start, end = check_range(start, end)
    wanted = check_stages(stages)
    goal = parse_goal({"event": event_name} if event_name else None)
    ca = contact_acquisition
    key = ca.c[f"{touch}_{by}"]
    rows: dict[str | None, dict[str, Any]] = {}

    def row(value: str | None) -> dict[str, Any]:
        found = rows.get(value)
        if found is None:
            found = rows[value] = {
                "key": value, "new_contacts": 0, "stages": dict.fromkeys(wanted, 0), "conversions": 0,
                "revenue": 0.0, "revenue_unconverted": {},
            }  # fmt: skip
        return found

    c = contact.c
    for value, n in conn.execute(
        select(key, func.count())
        .select_from(contact.outerjoin(ca, ca.c.contact_id == c.id))
        .where(c.workspace_id == ws, c.merged_into.is_(None), c.created_at >= start, c.created_at < end)
        .group_by(key)
    ):
        row(value)["new_contacts"] = int(n)

    lc = lifecycle_change.c
    for value, stage, n in conn.execute(
        select(key, lc.to_stage, func.count(func.distinct(lc.contact_id)))
        .select_from(lifecycle_change.outerjoin(ca, ca.c.contact_id == lc.contact_id))
        .where(lc.workspace_id == ws, lc.changed_at >= start, lc.changed_at < end, lc.to_stage.in_(wanted))
        .group_by(key, lc.to_stage)
    ):
        row(value)["stages"][stage] = int(n)

    money = _conversions(conn, ws, now, start, end, goal, currency, key, row)
    totals: dict[str, Any] = {
        "new_contacts": 0, "stages": dict.fromkeys(wanted, 0), "conversions": 0, "revenue": 0.0,
        "revenue_unconverted": {},
    }  # fmt: skip
    for r in rows.values():
        r["revenue"] = round(r["revenue"], 6)
        totals["new_contacts"] += r["new_contacts"]
        totals["conversions"] += r["conversions"]
        totals["revenue"] += r["revenue"]
        for stage, n in r["stages"].items():
            totals["stages"][stage] += n
        for cur, amount in r["revenue_unconverted"].items():
            totals["revenue_unconverted"][cur] = totals["revenue_unconverted"].get(cur, 0.0) + amount
        r["revenue_unconverted"] = {k: round(v, 6) for k, v in sorted(r["revenue_unconverted"].items())}
    totals["revenue"] = round(totals["revenue"], 6)
    totals["revenue_unconverted"] = {k: round(v, 6) for k, v in sorted(totals["revenue_unconverted"].items())}
    ordered = sorted(
        rows.values(), key=lambda r: (-r["new_contacts"], -r["conversions"], r["key"] is None, r["key"] or "")
    )
    return {
        "start": start,
        "end": end,
        "as_of": now,
        "by": by,
        "touch": touch,
        "stages": wanted,
        **money,
        "rows": ordered,
        "totals": totals,
    }


def _conversions(
    conn: Connection,
    ws: int,
    now: datetime,
    start: datetime,
    end: datetime,
    goal: Any,
    currency: str | None,
    key: Any,
    row: Any,
) -> dict[str, Any]:
    """Goal events of the range and their revenue, into the rows; the money's header."""
    dialect = conn.dialect.name
    target, assumed, _ = _money(conn, ws, None, currency, now, costed=False)
    scope = Scope([], None, goal, {}, {}, currency=target, assumed=assumed)
    ca = contact_acquisition
    ev = event.alias("conversion")
    day = day_number(ev.c.timestamp, dialect)
    cur = currency_of(ev, dialect)
    found = conn.execute(
        select(
            key.label("key"),
            day.label("day"),
            cur.label("currency"),
            func.count().label("n"),
            func.sum(revenue_of(ev, dialect)).label("revenue"),
        )
        .select_from(ev.outerjoin(ca, ca.c.contact_id == ev.c.contact_id))
        .where(
            ev.c.workspace_id == ws,
            ev.c.timestamp >= start,
            ev.c.timestamp < min(end, now),
            *matching(goal.match, context(conn, ws, now), "goal", ev),
        )
        .group_by(key, day, cur)
    ).all()
    valued = _valued(conn, ws, scope, [(f.currency, f.day, float(f.revenue or 0)) for f in found])
    unconverted = False
    for f, (apart, amount) in zip(found, valued, strict=True):
        r = row(f.key)
        r["conversions"] += int(f.n)
        if apart is None:
            r["revenue"] += amount
        elif amount:
            unconverted = True
            r["revenue_unconverted"][apart] = r["revenue_unconverted"].get(apart, 0.0) + amount
    return {
        "currency": target,
        "revenue_complete": not unconverted,
        "goal": {"event": goal.match.event},
    }
