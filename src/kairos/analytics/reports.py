"""Reports per broadcast, campaign and journey; daily time series; funnels.

Every figure is aggregated in the database (GROUP BY over the messages in scope, their
message events and their attributed conversions); Python only finishes the handful of
grouped rows (costs, rates, totals). See ``docs/analytics.md`` for the definitions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, String, and_, case, cast, false, func, or_, select

from kairos.analytics.attribution import Goal, check_model, check_range, credits, day_of, funnel, parse_goal

__all__ = ["broadcast_report", "campaign_report", "funnel", "journey_report", "timeseries"]
from kairos.campaigns.tables import broadcast, broadcast_recipient, campaign
from kairos.errors import InvalidInput, NotFound
from kairos.journeys.tables import enrollment, journey, journey_version
from kairos.messaging.tables import message, message_event

#: the columns of every report row, in CSV order
FIGURES = (
    "targeted", "sent", "delivered", "opened", "clicked", "unsubscribed", "bounced", "failed",
    "skipped", "converted", "revenue", "cost", "roi", "open_rate", "click_rate", "conversion_rate",
)  # fmt: skip
_COUNTED = (
    "messages",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "unsubscribed",
    "bounced",
    "failed",
    "skipped",
)
SOURCES = ("broadcast", "campaign", "journey")
#: messages that can earn credit for a conversion (not test sends nor confirmations)
TOUCH_SOURCES = ("api", "broadcast", "journey")
METRICS = ("sent", "opened", "clicked", "converted", "revenue")
_STATES = ("converted", "active", "completed", "exited")
_EVENTS = ("delivered", "opened", "clicked", "unsubscribed", "bounced")


@dataclass
class Scope:
    """The messages a report covers, keyed for its breakdown, and how to value them."""

    where: list[Any]
    key: Any  # the breakdown column (channel, node …)
    goal: Goal
    costs: dict[str, float]
    header: dict[str, Any]


def _scoped(ws: int, scope: Scope) -> Any:
    return (
        select(
            message.c.id,
            message.c.contact_id,
            message.c.channel,
            message.c.status,
            message.c.sent_at,
            scope.key.label("key"),
        )
        .where(message.c.workspace_id == ws, *scope.where)
        .subquery("scoped")
    )


def _touches(ws: int, scoped: Any) -> Any:
    """Every marketing message sent to the contacts in scope: a conversion is shared among
    all of them (by the model), and a report counts the part credited to its own messages."""
    return (
        select(message.c.id, message.c.contact_id, message.c.sent_at)
        .where(
            message.c.workspace_id == ws,
            message.c.sent_at.is_not(None),
            message.c.source.in_(TOUCH_SOURCES),
            message.c.contact_id.in_(select(scoped.c.contact_id)),
        )
        .subquery("touches")
    )


def _flag(kind: str, humans_only: bool = False) -> Any:
    cond = message_event.c.kind == kind
    if humans_only:
        cond = and_(cond, message_event.c.machine == false())
    return func.max(case((cond, 1), else_=0))


def _rows(conn: Connection, ws: int, scope: Scope, model: str, now: datetime) -> dict[Any, dict[str, Any]]:
    """Figures per breakdown key: two grouped queries (messages with their events, and
    attributed conversions)."""
    scoped = _scoped(ws, scope)
    flags = (
        select(message_event.c.message_id, *(_flag(k, k in ("opened", "clicked")).label(k) for k in _EVENTS))
        .join(scoped, scoped.c.id == message_event.c.message_id)
        .where(message_event.c.workspace_id == ws)
        .group_by(message_event.c.message_id)
        .subquery("flags")
    )

    def total(expr: Any) -> Any:
        return func.coalesce(func.sum(expr), 0)

    counts = conn.execute(
        select(
            scoped.c.key,
            scoped.c.channel,
            func.count().label("messages"),
            func.count(scoped.c.sent_at).label("sent"),
            # a provider's delivery or bounce report sets the status, and records an event
            *(
                total(case((scoped.c.status == k, 1), else_=func.coalesce(flags.c[k], 0))).label(k)
                for k in _EVENTS
            ),
            *(total(case((scoped.c.status == k, 1), else_=0)).label(k) for k in ("failed", "skipped")),
        )
        .select_from(scoped.outerjoin(flags, flags.c.message_id == scoped.c.id))
        .group_by(scoped.c.key, scoped.c.channel)
    ).all()
    credit = credits(conn, ws, _touches(ws, scoped), scope.goal, model, now).subquery("credit")
    converted = conn.execute(
        select(
            scoped.c.key,
            func.sum(credit.c.weight).label("converted"),
            func.sum(credit.c.revenue).label("revenue"),
        )
        .join(scoped, scoped.c.id == credit.c.message_id)
        .group_by(scoped.c.key)
    ).all()
    out: dict[Any, dict[str, Any]] = defaultdict(_empty)
    for r in counts:  # one row per (key, channel)
        row = out[r.key]
        for name in _COUNTED:
            row[name] += int(getattr(r, name))
        row["cost"] += int(r.sent) * float(scope.costs.get(r.channel, 0) or 0)
    for r in converted:
        out[r.key]["converted"] += float(r.converted or 0)
        out[r.key]["revenue"] += float(r.revenue or 0)
    return dict(out)


def _empty() -> dict[str, Any]:
    return {**dict.fromkeys(_COUNTED, 0), "converted": 0.0, "revenue": 0.0, "cost": 0.0}


def _finish(row: dict[str, Any], targeted: int | None = None) -> dict[str, Any]:
    """The report row: counts, money, ROI and rates, in ``FIGURES`` order."""
    cost = round(row["cost"], 6)
    revenue = round(row["revenue"], 6)
    reached = row["delivered"] or row["sent"]

    def rate(n: float, d: float) -> float | None:
        return round(n / d, 4) if d else None

    done = {
        "targeted": row["messages"] if targeted is None else targeted,
        **{k: row[k] for k in _COUNTED if k != "messages"},
        "converted": round(row["converted"], 6),
        "revenue": revenue,
        "cost": cost,
        "roi": round((revenue - cost) / cost, 4) if cost else None,
        "open_rate": rate(row["opened"], reached),
        "click_rate": rate(row["clicked"], reached),
        "conversion_rate": rate(row["converted"], row["sent"]),
    }
    return {k: done[k] for k in FIGURES}


def _report(
    conn: Connection, ws: int, scope: Scope, model: str, now: datetime, targeted: int, by: str
) -> dict[str, Any]:
    check_model(model)
    rows = _rows(conn, ws, scope, model, now)
    totals = _empty()
    for row in rows.values():
        for k in totals:
            totals[k] += row[k]
    goal = {"event": scope.goal.match.event, "window_days": scope.goal.window_days}
    return {
        **scope.header,
        "model": model,
        "goal": goal,
        "totals": _finish(totals, targeted),
        by: [
            {by.removeprefix("by_"): key, **_finish(row)}
            for key, row in sorted(rows.items(), key=lambda kv: str(kv[0]))
        ],
    }


def _campaign_plan(conn: Connection, ws: int, campaign_id: int | None) -> Any:
    if campaign_id is None:
        return None
    return conn.execute(
        select(campaign).where(campaign.c.id == campaign_id, campaign.c.workspace_id == ws)
    ).first()


def _broadcast_scope(conn: Connection, ws: int, broadcast_id: int) -> tuple[Scope, int]:
    b = conn.execute(
        select(broadcast).where(broadcast.c.id == broadcast_id, broadcast.c.workspace_id == ws)
    ).first()
    if b is None:
        raise NotFound(f"broadcast {broadcast_id} not found", code="broadcast_not_found")
    plan = _campaign_plan(conn, ws, b.campaign_id)
    targeted = conn.execute(
        select(func.count()).where(broadcast_recipient.c.broadcast_id == broadcast_id)
    ).scalar_one()
    header = {"broadcast": {"id": b.id, "name": b.name, "channel": b.channel, "status": b.status,
                            "campaign_id": b.campaign_id}}  # fmt: skip
    where = [message.c.source == "broadcast", message.c.source_id == str(broadcast_id)]
    return Scope(where, message.c.channel, parse_goal(plan.goal if plan else None),
                 dict(plan.costs or {}) if plan else {}, header), int(targeted)  # fmt: skip


def _campaign_scope(conn: Connection, ws: int, campaign_id: int) -> tuple[Scope, int]:
    plan = _campaign_plan(conn, ws, campaign_id)
    if plan is None:
        raise NotFound(f"campaign {campaign_id} not found", code="campaign_not_found")
    ids = select(broadcast.c.id).where(broadcast.c.campaign_id == campaign_id, broadcast.c.workspace_id == ws)
    targeted = conn.execute(
        select(func.count()).where(broadcast_recipient.c.broadcast_id.in_(ids))
    ).scalar_one()
    journeys = list(
        conn.execute(
            select(journey.c.id).where(journey.c.campaign_id == campaign_id, journey.c.workspace_id == ws)
        ).scalars()
    )
    if journeys:
        targeted += conn.execute(
            select(func.count()).where(enrollment.c.journey_id.in_(journeys))
        ).scalar_one()
    header = {"campaign": {"id": plan.id, "name": plan.name, "status": plan.status}}
    parts = [
        and_(
            message.c.source == "broadcast",
            message.c.source_id.in_(select(cast(ids.subquery().c.id, String))),
        )
    ]
    parts += [and_(message.c.source == "journey", message.c.source_id.like(f"{jid}:%")) for jid in journeys]
    where = [or_(*parts)]
    return Scope(where, message.c.channel, parse_goal(plan.goal), dict(plan.costs or {}), header), int(
        targeted
    )


def _journey_scope(conn: Connection, ws: int, journey_id: int) -> tuple[Scope, dict[str, int]]:
    j = conn.execute(select(journey).where(journey.c.id == journey_id, journey.c.workspace_id == ws)).first()
    if j is None:
        raise NotFound(f"journey {journey_id} not found", code="journey_not_found")
    definition = conn.execute(
        select(journey_version.c.definition).where(journey_version.c.id == j.version_id)
    ).scalar()
    goal = parse_goal((definition or {}).get("goal") if isinstance(definition, dict) else None)
    state = enrollment.c.state
    e = conn.execute(
        select(
            func.count().label("entered"),
            *(func.coalesce(func.sum(case((state == s, 1), else_=0)), 0).label(s) for s in _STATES),
        ).where(enrollment.c.journey_id == journey_id, enrollment.c.workspace_id == ws)
    ).one()
    prefix = f"{journey_id}:"
    header = {"journey": {"id": j.id, "name": j.name, "status": j.status}}
    where = [message.c.source == "journey", message.c.source_id.like(prefix + "%")]
    node = func.substr(message.c.source_id, len(prefix) + 1)
    return Scope(where, node, goal, {}, header), {k: int(v) for k, v in e._mapping.items()}


def broadcast_report(
    conn: Connection, ws: int, broadcast_id: int, now: datetime, model: str = "last"
) -> dict[str, Any]:
    scope, targeted = _broadcast_scope(conn, ws, broadcast_id)
    return _report(conn, ws, scope, model, now, targeted, "by_channel")


def campaign_report(
    conn: Connection, ws: int, campaign_id: int, now: datetime, model: str = "last"
) -> dict[str, Any]:
    """Messages of the campaign's broadcasts and journeys, by channel, with the budget used."""
    scope, targeted = _campaign_scope(conn, ws, campaign_id)
    out = _report(conn, ws, scope, model, now, targeted, "by_channel")
    plan = _campaign_plan(conn, ws, campaign_id)
    used = out["totals"]["cost"]
    budget = plan.budget if plan is not None else None
    out["budget"] = {"budget": budget, "currency": plan.currency if plan is not None else None, "used": used,
                     "remaining": round(budget - used, 6) if budget is not None else None}  # fmt: skip
    return out


def journey_report(
    conn: Connection, ws: int, journey_id: int, now: datetime, model: str = "last"
) -> dict[str, Any]:
    """Messages the journey's nodes sent, by node, with its enrollments."""
    scope, enrollments = _journey_scope(conn, ws, journey_id)
    out = _report(conn, ws, scope, model, now, enrollments["entered"], "by_node")
    out["enrollments"] = enrollments
    return out


def _scope_of(conn: Connection, ws: int, source: str, source_id: int) -> Scope:
    if source == "broadcast":
        return _broadcast_scope(conn, ws, source_id)[0]
    if source == "campaign":
        return _campaign_scope(conn, ws, source_id)[0]
    if source == "journey":
        return _journey_scope(conn, ws, source_id)[0]
    raise InvalidInput(f"source must be one of {', '.join(SOURCES)}", code="invalid_source")


def timeseries(
    conn: Connection,
    ws: int,
    *,
    source: str,
    source_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    metric: str | None = None,
    model: str = "last",
) -> dict[str, Any]:
    """Per UTC day in [start, end): messages sent, distinct messages opened and clicked
    (people, not machines) that day, and conversions and revenue attributed that day."""
    start, end = check_range(start, end)
    if metric is not None and metric not in METRICS:
        raise InvalidInput(f"metric must be one of {', '.join(METRICS)}", code="invalid_metric")
    check_model(model)
    wanted = [metric] if metric else list(METRICS)
    scope = _scope_of(conn, ws, source, source_id)
    scoped = _scoped(ws, scope)
    d = conn.dialect.name
    series: dict[str, dict[str, float]] = defaultdict(dict)
    sent_day = day_of(scoped.c.sent_at, d)
    for day, n in conn.execute(
        select(sent_day, func.count())
        .where(scoped.c.sent_at >= start, scoped.c.sent_at < end)
        .group_by(sent_day)
    ):
        series["sent"][day] = n
    for kind in ("opened", "clicked"):
        at = day_of(message_event.c.created_at, d)
        for day, n in conn.execute(
            select(at, func.count(func.distinct(message_event.c.message_id)))
            .join(scoped, scoped.c.id == message_event.c.message_id)
            .where(
                message_event.c.workspace_id == ws,
                message_event.c.kind == kind,
                message_event.c.machine == false(),
                message_event.c.created_at >= start,
                message_event.c.created_at < end,
            )
            .group_by(at)
        ):
            series[kind][day] = n
    credit = credits(conn, ws, _touches(ws, scoped), scope.goal, model, now).subquery("credit")
    conv_day = day_of(credit.c.at, d)
    for day, n, revenue in conn.execute(
        select(conv_day, func.sum(credit.c.weight), func.sum(credit.c.revenue))
        .join(scoped, scoped.c.id == credit.c.message_id)
        .where(credit.c.at >= start, credit.c.at < end)
        .group_by(conv_day)
    ):
        series["converted"][day] = round(float(n or 0), 6)
        series["revenue"][day] = round(float(revenue or 0), 6)
    days = []
    date, last = start.date(), (end - timedelta(microseconds=1)).date()
    while date <= last:
        key = date.isoformat()
        days.append({"date": key, **{m: series[m].get(key, 0) for m in wanted}})
        date += timedelta(days=1)
    return {"source": source, "id": source_id, "start": start, "end": end, "days": days}
