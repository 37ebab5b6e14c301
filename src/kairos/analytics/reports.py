"""Reports per broadcast, campaign and journey; daily time series; funnels.

Every figure is aggregated in the database (GROUP BY over the messages in scope, their
message events and their attributed conversions); Python only finishes the handful of
grouped rows (costs, rates, totals). See ``docs/analytics.md`` for the definitions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, false, func, or_, select

from kairos.analytics.attribution import (
    EPOCH,
    Goal,
    check_model,
    check_range,
    credits,
    currency_of,
    epoch_day,
    funnel,
    parse_goal,
    revenue_of,
)

__all__ = ["broadcast_report", "campaign_report", "funnel", "journey_report", "timeseries"]
from kairos.analytics.currency import Rates, check_currency, normal
from kairos.campaigns.tables import broadcast, broadcast_recipient, campaign
from kairos.db.dialect import day_number
from kairos.errors import InvalidInput, NotFound
from kairos.events.tables import event
from kairos.journeys.splits import experiments as split_experiments
from kairos.journeys.tables import enrollment, journey, journey_version
from kairos.messaging.tables import message, message_event
from kairos.segments.behaviour import matching
from kairos.segments.compiler import context
from kairos.workspaces.settings import workspace_currency

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
METRICS = ("sent", "opened", "clicked", "converted", "revenue")
_STATES = ("converted", "active", "completed", "exited")
#: figures counted from the message status, and from message events (people, not machines)
_STATUSES = ("delivered", "bounced", "failed", "skipped")
_ENGAGEMENT = ("opened", "clicked", "unsubscribed")
#: the channels whose opens and clicks Kairos can see: an email's pixel and tracked links,
#: an in-app message read. An SMS or a push sent says nothing of either, so its rates are
#: null (not 0 %), and it does not dilute a mixed row's rates.
OPENS_SEEN = frozenset({"email", "inapp"})
CLICKS_SEEN = frozenset({"email"})
#: ISO 4217's "no currency": revenue without a currency where the report has none to assume
NO_CURRENCY = "XXX"


@dataclass
class Scope:
    """The messages a report covers, keyed for its breakdown, and how to value them."""

    where: list[Any]
    key: Any  # the breakdown column (channel, node …)
    goal: Goal
    costs: dict[str, float]
    header: dict[str, Any]
    #: alternatives whose OR is ``where``, each seeking ix_message_source on its own
    #: (SQLite does not split an OR under a common AND into index lookups)
    parts: list[Any] = field(default_factory=list)
    #: the currency of the report's money (``None``: unknown, nothing to convert to)
    currency: str | None = None
    #: the currency of revenue whose event names none
    assumed: str | None = None
    #: what 1 unit of the campaign's money (costs, budget) is worth in ``currency``
    cost_factor: float = 1.0


def _money(
    conn: Connection, ws: int, plan: Any, wanted: str | None, now: datetime, costed: bool = True
) -> tuple[str | None, str | None, float]:
    """The report's currency (``wanted``, else the campaign's, else the workspace's own
    currency, else its exchange-rate base), the currency assumed for revenue without one
    (the campaign's, else the workspace's, else the base), and what 1 unit of the campaign's
    costs and budget (in its currency, else the assumed one) is worth in the report's
    currency at the latest rate on or before today."""
    own = normal(plan.currency) if plan is not None else None
    if wanted is not None:
        wanted = check_currency(normal(wanted))
    home = workspace_currency(conn, ws)
    rates = Rates.load(conn, ws, [own, wanted, home])
    assumed = own or home or rates.base
    target = wanted or assumed
    factor = rates.factor(assumed, target, now.date())
    if factor is None:
        if costed and plan is not None and (plan.budget or any((plan.costs or {}).values())):
            raise InvalidInput(
                f"the campaign's costs are in {assumed or 'no currency'}: no rate to {target} on or before"
                f" {now.date()} (PUT /exchange-rates)", code="no_exchange_rate",
            )  # fmt: skip
        factor = 1.0
    return target, assumed, factor


def _valued(
    conn: Connection, ws: int, scope: Scope, groups: list[tuple[Any, Any, float]]
) -> list[tuple[str | None, float]]:
    """Amounts of revenue grouped by ``(currency, day number)``, in the report's currency:
    ``(None, value)``, or ``(currency, amount)`` as it was when that currency has no rate on
    or before the day (the day of the conversion)."""
    if not groups:
        return []
    rates = Rates.load(conn, ws, [scope.currency, *(c for c, _, _ in groups)])
    out: list[tuple[str | None, float]] = []
    for currency, day, amount in groups:
        source = currency or scope.assumed
        factor = rates.factor(source, scope.currency, EPOCH + timedelta(days=int(day)))
        out.append((None, amount * factor) if factor is not None else (source or NO_CURRENCY, amount))
    return out


def _in_scope(ws: int, scope: Scope) -> list[Any]:
    return [message.c.workspace_id == ws, *scope.where]


def _in_index_order(keys: tuple[Any, ...]) -> list[Any]:
    """GROUP BY the keys, channel and status in the order of ``ix_message_source`` (channel,
    status, variant) where the keys allow, so SQLite reads the index without sorting."""
    m = message.c
    rest = [k for k in keys if k is not m.channel and k is not m.variant]
    if rest:
        return [*keys, m.channel, m.status]
    return [m.channel, m.status, *(k for k in keys if k is m.variant)]


def _seeks(ws: int, scope: Scope) -> list[list[Any]]:
    """``_in_scope`` as a list of alternatives to query one by one and add up."""
    if not scope.parts:
        return [_in_scope(ws, scope)]
    return [[message.c.workspace_id == ws, part] for part in scope.parts]


def _rows(conn: Connection, ws: int, scope: Scope, model: str, now: datetime) -> dict[Any, dict[str, Any]]:
    """Figures per breakdown key, in three grouped queries:

    - the messages by status (one pass over ``ix_message_source``): sent, delivered,
      bounced, failed, skipped — a provider's delivery or bounce report sets the status;
    - the messages opened or clicked by people (machine opens excluded) and the
      unsubscribes, from their message events since the first send;
    - the conversions credited to the messages (``attribution.credits``), from the goal
      events between the first send and the goal's window after the last one.
    """
    m = message.c
    where = _in_scope(ws, scope)
    keys = scope.key if isinstance(scope.key, tuple) else (scope.key,)
    labelled = [k.label(f"k{i}") for i, k in enumerate(keys)]

    def key_of(r: Any) -> Any:
        return tuple(r[: len(keys)]) if len(keys) > 1 else r[0]

    counts = [
        row
        for seek in _seeks(ws, scope)
        for row in conn.execute(
            select(
                *labelled,
                m.channel,
                m.status,
                func.count().label("messages"),
                func.count(m.sent_at).label("sent"),
                func.min(m.sent_at).label("first"),
                func.max(m.sent_at).label("last"),
            )
            .where(*seek)
            .group_by(*_in_index_order(keys))
        )
    ]
    out: dict[Any, dict[str, Any]] = defaultdict(_empty)
    first = min((r.first for r in counts if r.first is not None), default=None)
    last = max((r.last for r in counts if r.last is not None), default=None)
    for r in counts:  # one row per (key, channel, status)
        row = out[key_of(r)]
        row["messages"] += int(r.messages)
        row["sent"] += int(r.sent)
        if r.status in _STATUSES:
            row[r.status] += int(r.messages)
        row["cost"] += int(r.sent) * float(scope.costs.get(r.channel, 0) or 0)
        for seen, channels in (("open_base", OPENS_SEEN), ("click_base", CLICKS_SEEN)):
            if r.channel in channels:
                row[f"{seen}_sent"] += int(r.sent)
                row[f"{seen}_delivered"] += int(r.messages) if r.status == "delivered" else 0
    if first is None or last is None:
        return dict(out)
    me = message_event.c
    engaged = conn.execute(
        select(*labelled, me.kind, func.count(func.distinct(me.message_id)).label("n"))
        .select_from(message_event.join(message, message.c.id == me.message_id))
        .where(
            me.workspace_id == ws,
            me.kind.in_(_ENGAGEMENT),
            me.created_at >= first,
            or_(me.kind == "unsubscribed", me.machine == false()),
            *where,
        )
        .group_by(*keys, me.kind)
    ).all()
    for r in engaged:
        out[key_of(r)][r.kind] += int(r.n)
    until = last + timedelta(days=scope.goal.window_days)
    credit = credits(conn, ws, scope.goal, model, now, first, until).subquery("credit")
    # by currency and day too: each amount is converted at the rate of its day
    day = day_number(credit.c.at, conn.dialect.name)
    converted = conn.execute(
        select(
            *labelled,
            credit.c.currency,
            day.label("day"),
            func.sum(credit.c.weight).label("converted"),
            func.sum(credit.c.revenue).label("revenue"),
        )
        .select_from(credit.join(message, message.c.id == credit.c.message_id))
        .where(*where)
        .group_by(*keys, credit.c.currency, day)
    ).all()
    valued = _valued(conn, ws, scope, [(r.currency, r.day, float(r.revenue or 0)) for r in converted])
    for r, (apart, amount) in zip(converted, valued, strict=True):
        row = out[key_of(r)]
        row["converted"] += float(r.converted or 0)
        _earn(row, apart, amount)
    return dict(out)


def _earn(row: dict[str, Any], apart: str | None, amount: float) -> None:
    """Revenue into a row: converted, or apart under its currency."""
    if apart is None:
        row["revenue"] += amount
    elif amount:
        row["unconverted"][apart] = row["unconverted"].get(apart, 0.0) + amount


def _add(into: dict[str, Any], row: dict[str, Any]) -> None:
    for name, value in row.items():
        if name == "unconverted":
            for currency, amount in value.items():
                into[name][currency] = into[name].get(currency, 0.0) + amount
        else:
            into[name] += value


def _rollup(rows: dict[Any, dict[str, Any]], part: int) -> dict[Any, dict[str, Any]]:
    """Rows keyed by tuples, added up by one element of their key."""
    out: dict[Any, dict[str, Any]] = defaultdict(_empty)
    for key, row in rows.items():
        _add(out[key[part]], row)
    return dict(out)


def _empty() -> dict[str, Any]:
    bases = dict.fromkeys(
        ("open_base_sent", "open_base_delivered", "click_base_sent", "click_base_delivered"), 0
    )
    return {
        **dict.fromkeys(_COUNTED, 0),
        **bases,
        "converted": 0.0,
        "revenue": 0.0,
        "cost": 0.0,
        "unconverted": {},
    }


def _finish(row: dict[str, Any], targeted: int | None = None) -> dict[str, Any]:
    """The report row: counts, money, ROI and rates, in ``FIGURES`` order, then
    ``revenue_unconverted`` (per currency: revenue without a rate, in neither ``revenue``
    nor ``roi``)."""
    cost = round(row["cost"], 6)
    revenue = round(row["revenue"], 6)
    # opened (clicked) / delivered — or / sent where nothing reported delivery — over the
    # messages of the channels where an open (a click) can be seen at all
    opens_reached = row["open_base_delivered"] or row["open_base_sent"]
    clicks_reached = row["click_base_delivered"] or row["click_base_sent"]

    def rate(n: float, d: float) -> float | None:
        return round(n / d, 4) if d else None

    done = {
        "targeted": row["messages"] if targeted is None else targeted,
        **{k: row[k] for k in _COUNTED if k != "messages"},
        "converted": round(row["converted"], 6),
        "revenue": revenue,
        "cost": cost,
        "roi": round((revenue - cost) / cost, 4) if cost else None,
        "open_rate": rate(row["opened"], opens_reached),
        "click_rate": rate(row["clicked"], clicks_reached),
        "conversion_rate": rate(row["converted"], row["sent"]),
    }
    unconverted = {c: round(v, 6) for c, v in sorted(row["unconverted"].items())}
    return {**{k: done[k] for k in FIGURES}, "revenue_unconverted": unconverted}


def _report(
    conn: Connection,
    ws: int,
    scope: Scope,
    model: str,
    now: datetime,
    targeted: int,
    by: str,
    rows: dict[Any, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    check_model(model)
    if rows is None:
        rows = _rows(conn, ws, scope, model, now)
    totals = _empty()
    for row in rows.values():
        _add(totals, row)
    goal = {"event": scope.goal.match.event, "window_days": scope.goal.window_days}
    return {
        **scope.header,
        "model": model,
        "goal": goal,
        "currency": scope.currency,
        # false: some revenue had no exchange rate; it is in revenue_unconverted, not in revenue nor roi
        "revenue_complete": not any(totals["unconverted"].values()),
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


def _priced(
    conn: Connection,
    ws: int,
    scope: Scope,
    plan: Any,
    currency: str | None,
    now: datetime,
    costed: bool = True,
) -> Scope:
    """The scope valued in the report's currency (``_money``): its costs converted."""
    target, assumed, factor = _money(conn, ws, plan, currency, now, costed)
    costs = {k: float(v or 0) * factor for k, v in scope.costs.items()}
    return replace(scope, costs=costs, currency=target, assumed=assumed, cost_factor=factor)


def _broadcast_scope(
    conn: Connection, ws: int, broadcast_id: int, now: datetime, currency: str | None = None
) -> tuple[Scope, int]:
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
    scope = Scope(where, message.c.channel, parse_goal(plan.goal if plan else None),
                  dict(plan.costs or {}) if plan else {}, header)  # fmt: skip
    return _priced(conn, ws, scope, plan, currency, now), int(targeted)


def _campaign_scope(
    conn: Connection, ws: int, campaign_id: int, now: datetime, currency: str | None = None
) -> tuple[Scope, int]:
    plan = _campaign_plan(conn, ws, campaign_id)
    if plan is None:
        raise NotFound(f"campaign {campaign_id} not found", code="campaign_not_found")
    mine = select(broadcast.c.id).where(
        broadcast.c.campaign_id == campaign_id, broadcast.c.workspace_id == ws
    )
    ids = [str(i) for i in conn.execute(mine).scalars()]
    targeted = conn.execute(
        select(func.count()).where(broadcast_recipient.c.broadcast_id.in_([int(i) for i in ids]))
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
    # exact (source, source_id) lists: each part seeks ix_message_source
    parts = [and_(message.c.source == "broadcast", message.c.source_id.in_(ids or ["-"]))]
    if journeys:
        nodes = _node_sources(conn, journeys)
        parts.append(and_(message.c.source == "journey", message.c.source_id.in_(nodes)))
    scope = Scope(
        [or_(*parts)], message.c.channel, parse_goal(plan.goal), dict(plan.costs or {}), header, parts
    )
    return _priced(conn, ws, scope, plan, currency, now), int(targeted)


def _node_sources(conn: Connection, journey_ids: list[int]) -> list[str]:
    """The ``source_id`` of the messages these journeys can have sent: ``{journey}:{node}``
    for every node of every published version (an exact list the source index can seek)."""
    out: set[str] = set()
    for jid, definition in conn.execute(
        select(journey_version.c.journey_id, journey_version.c.definition).where(
            journey_version.c.journey_id.in_(journey_ids)
        )
    ):
        out.update(f"{jid}:{node}" for node in ((definition or {}).get("nodes") or {}))
    return sorted(out) or ["-"]


def _journey_scope(
    conn: Connection, ws: int, journey_id: int, now: datetime, currency: str | None = None
) -> tuple[Scope, dict[str, int]]:
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
    where = [message.c.source == "journey", message.c.source_id.in_(_node_sources(conn, [journey_id]))]
    node = func.substr(message.c.source_id, len(prefix) + 1)
    # no costs; revenue without a currency is in its campaign's
    plan = _campaign_plan(conn, ws, j.campaign_id)
    scope = _priced(conn, ws, Scope(where, node, goal, {}, header), plan, currency, now, costed=False)
    return scope, {k: int(v) for k, v in e._mapping.items()}


def broadcast_report(
    conn: Connection,
    ws: int,
    broadcast_id: int,
    now: datetime,
    model: str = "last",
    currency: str | None = None,
) -> dict[str, Any]:
    scope, targeted = _broadcast_scope(conn, ws, broadcast_id, now, currency)
    b = conn.execute(select(broadcast).where(broadcast.c.id == broadcast_id)).one()
    if b.experiment is None:
        return _report(conn, ws, scope, model, now, targeted, "by_channel")
    # one set of queries by (channel, variant), added up both ways
    check_model(model)
    rows = _rows(conn, ws, replace(scope, key=(message.c.channel, message.c.variant)), model, now)
    out = _report(conn, ws, scope, model, now, targeted, "by_channel", _rollup(rows, 0))
    out.update(_by_variant(conn, ws, b, scope, model, now, _rollup(rows, 1)))
    return out


def _by_variant(
    conn: Connection,
    ws: int,
    b: Any,
    scope: Scope,
    model: str,
    now: datetime,
    rows: dict[Any, dict[str, Any]],
) -> dict[str, Any]:
    """An experiment's broadcast by variant: the messages' figures grouped by their variant
    (``message.variant``, set when queued), targeted = the recipients assigned to it; the
    holdout's goal events in the window after the snapshot (it has no messages); and the
    experiment's state (winner, confidence, lift)."""
    r = broadcast_recipient.c
    assigned: dict[str | None, int] = dict(
        conn.execute(select(r.variant, func.count()).where(r.broadcast_id == b.id).group_by(r.variant)).all()
    )
    names = [v["name"] for v in b.experiment["variants"]]
    by_variant = [{"variant": name, **_finish(rows.get(name, _empty()), int(assigned.get(name, 0)))}
                  for name in names]  # fmt: skip
    holdout = _empty()
    if b.snapshot_at is not None and assigned.get("holdout"):
        holdout = _holdout_conversions(conn, ws, b, scope, now)
    by_variant.append({"variant": "holdout", **_finish(holdout, int(assigned.get("holdout", 0)))})
    exp, results = b.experiment, b.results or {}
    # "measured": judged without a winner (variants of different audiences)
    state = ("decided" if b.winner else "measured" if results.get("judged_at")
             else "testing" if b.status == "testing" else "pending")  # fmt: skip
    return {
        "by_variant": by_variant,
        "experiment": {
            "metric": exp.get("metric"), "goal_event": exp.get("goal_event"),
            "window_hours": exp.get("window_hours"), "holdout_percent": exp.get("holdout_percent"),
            "test_percent": exp.get("test_percent"), "state": state, "test_ends_at": b.test_ends_at,
            "waiting": int(assigned.get(None, 0)), "winner": b.winner,
            "confidence": results.get("confidence"), "judged_at": results.get("judged_at"),
            "variants": results.get("variants"), "lift": results.get("holdout"),
        },
    }  # fmt: skip


def _holdout_conversions(conn: Connection, ws: int, b: Any, scope: Scope, now: datetime) -> dict[str, Any]:
    """Goal events (and their revenue) of the holdout's contacts after the audience snapshot,
    within the goal's window of it and not after now: the conversions they made unprompted
    (a report row with only ``converted``, ``revenue`` and ``unconverted``)."""
    goal, d = scope.goal, conn.dialect.name
    ev = event.alias("conversion")
    r = broadcast_recipient.c
    until = min(now, b.snapshot_at + timedelta(days=goal.window_days))
    currency, day = currency_of(ev, d), day_number(ev.c.timestamp, d)
    found = conn.execute(
        select(currency.label("currency"), day.label("day"), func.count(ev.c.id).label("n"),
               func.coalesce(func.sum(revenue_of(ev, d)), 0).label("revenue"))
        .select_from(broadcast_recipient)
        .join(ev, and_(ev.c.contact_id == r.contact_id, ev.c.workspace_id == ws,
                       ev.c.timestamp > b.snapshot_at, ev.c.timestamp <= until))
        .where(r.broadcast_id == b.id, r.variant == "holdout",
               *matching(goal.match, context(conn, ws, now), "goal", ev))
        .group_by(currency, day)
    ).all()  # fmt: skip
    row = _empty()
    valued = _valued(conn, ws, scope, [(f.currency, f.day, float(f.revenue or 0)) for f in found])
    for f, (apart, amount) in zip(found, valued, strict=True):
        row["converted"] += float(f.n or 0)
        _earn(row, apart, amount)
    return row


def campaign_report(
    conn: Connection,
    ws: int,
    campaign_id: int,
    now: datetime,
    model: str = "last",
    currency: str | None = None,
) -> dict[str, Any]:
    """Messages of the campaign's broadcasts and journeys, by channel, with the budget used
    (in the report's currency, like the costs)."""
    scope, targeted = _campaign_scope(conn, ws, campaign_id, now, currency)
    out = _report(conn, ws, scope, model, now, targeted, "by_channel")
    plan = _campaign_plan(conn, ws, campaign_id)
    used = out["totals"]["cost"]
    budget = (
        round(plan.budget * scope.cost_factor, 6) if plan is not None and plan.budget is not None else None
    )
    out["budget"] = {"budget": budget, "currency": scope.currency, "used": used,
                     "remaining": round(budget - used, 6) if budget is not None else None}  # fmt: skip
    return out


def journey_report(
    conn: Connection,
    ws: int,
    journey_id: int,
    now: datetime,
    model: str = "last",
    currency: str | None = None,
) -> dict[str, Any]:
    """Messages the journey's nodes sent, by node, with its enrollments and its split
    experiments (``journeys/splits.py``)."""
    scope, enrollments = _journey_scope(conn, ws, journey_id, now, currency)
    out = _report(conn, ws, scope, model, now, enrollments["entered"], "by_node")
    out["enrollments"] = enrollments
    out["experiments"] = split_experiments(conn, ws, journey_id, now)
    return out


def _scope_of(
    conn: Connection, ws: int, source: str, source_id: int, now: datetime, currency: str | None
) -> Scope:
    if source == "broadcast":
        return _broadcast_scope(conn, ws, source_id, now, currency)[0]
    if source == "campaign":
        return _campaign_scope(conn, ws, source_id, now, currency)[0]
    if source == "journey":
        return _journey_scope(conn, ws, source_id, now, currency)[0]
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
    currency: str | None = None,
) -> dict[str, Any]:
    """Per UTC day in [start, end): messages sent, distinct messages opened and clicked
    (people, not machines) that day, and conversions and revenue attributed that day (in the
    report's ``currency``; revenue without a rate is left out of the days and added up per
    currency in ``revenue_unconverted``)."""
    start, end = check_range(start, end)
    if metric is not None and metric not in METRICS:
        raise InvalidInput(f"metric must be one of {', '.join(METRICS)}", code="invalid_metric")
    check_model(model)
    wanted = [metric] if metric else list(METRICS)
    scope = _scope_of(conn, ws, source, source_id, now, currency)
    money: dict[str, Any] = {"currency": scope.currency, "revenue_unconverted": {}}
    where = _in_scope(ws, scope)
    d = conn.dialect.name
    series: dict[str, dict[str, float]] = defaultdict(dict)
    m = message.c
    sent_day = day_number(m.sent_at, d)
    in_range = and_(m.sent_at >= start, m.sent_at < end)
    first: datetime | None = None
    last: datetime | None = None
    for seek in _seeks(ws, scope):  # one pass over the scope: sends per day, first and last
        for day, n, low, high in conn.execute(
            select(sent_day, func.sum(case((in_range, 1), else_=0)), func.min(m.sent_at), func.max(m.sent_at))
            .where(*seek, m.sent_at.is_not(None))
            .group_by(sent_day)
        ):
            key = epoch_day(day)
            series["sent"][key] = series["sent"].get(key, 0) + int(n)
            first = low if first is None else min(first, low)
            last = high if last is None else max(last, high)
    if first is None or last is None:  # nothing sent: nothing opened, clicked or converted
        return _days(source, source_id, start, end, series, wanted, money)
    me = message_event.c
    at = day_number(me.created_at, d)
    for day, kind, n in conn.execute(
        select(at, me.kind, func.count(func.distinct(me.message_id)))
        .select_from(message_event.join(message, message.c.id == me.message_id))
        .where(
            me.workspace_id == ws,
            me.kind.in_(("opened", "clicked")),
            me.machine == false(),
            me.created_at >= max(start, first),
            me.created_at < end,
            *where,
        )
        .group_by(at, me.kind)
    ):
        series[kind][epoch_day(day)] = n
    # conversions credited to the scope come after its first send and within the window of its last
    since, until = max(start, first), min(end, last + timedelta(days=scope.goal.window_days))
    credit = credits(conn, ws, scope.goal, model, now, since, until).subquery("credit")
    conv_day = day_number(credit.c.at, d)
    found = conn.execute(
        select(conv_day.label("day"), credit.c.currency, func.sum(credit.c.weight).label("n"),
               func.sum(credit.c.revenue).label("revenue"))
        .select_from(credit.join(message, message.c.id == credit.c.message_id))
        .where(credit.c.at < end, *where)
        .group_by(conv_day, credit.c.currency)
    ).all()  # fmt: skip
    days: dict[str, dict[str, Any]] = defaultdict(_empty)
    valued = _valued(conn, ws, scope, [(f.currency, f.day, float(f.revenue or 0)) for f in found])
    for f, (apart, amount) in zip(found, valued, strict=True):
        row = days[epoch_day(f.day)]
        row["converted"] += float(f.n or 0)
        _earn(row, apart, amount)
    total = _empty()
    for key, row in days.items():
        series["converted"][key] = round(row["converted"], 6)
        series["revenue"][key] = round(row["revenue"], 6)
        _add(total, row)
    money["revenue_unconverted"] = {c: round(v, 6) for c, v in sorted(total["unconverted"].items())}
    return _days(source, source_id, start, end, series, wanted, money)


def _days(
    source: str, source_id: int, start: datetime, end: datetime, series: dict[str, dict[str, float]],
    wanted: list[str], money: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    days = []
    date, last = start.date(), (end - timedelta(microseconds=1)).date()
    while date <= last:
        key = date.isoformat()
        days.append({"date": key, **{m: series[m].get(key, 0) for m in wanted}})
        date += timedelta(days=1)
    return {"source": source, "id": source_id, "start": start, "end": end, **money, "days": days}
