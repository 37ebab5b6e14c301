"""Split experiments: an automatic winner for a journey ``split`` node.

A split with an ``experiment`` block splits enrollments by its weights, as any split, while
its test runs. The branches that lead somewhere are the candidates; branches with
``next: null`` are holdouts (they receive nothing, so the lift of the journey can be
measured) and are never chosen. The test ends ``window_hours`` after the first enrollment
reached the split, or — with ``min_per_branch`` — once every candidate has had that many
enrollments. Then the best candidate on ``metric`` wins, with the same statistics as
broadcast experiments (``campaigns/experiments.py``: a two-proportion z-test, or Welch's
t-test for revenue), and from then on every enrollment that is not bucketed into a holdout
takes the winner: holdouts keep their share.

Per branch, the outcome of each passage (a ``journey_step`` row of the split with the
branch as outcome) is, within ``window_hours`` after it and not after now:

- ``open``/``click``: the contact opened/clicked (a person, not a machine) a message this
  journey queued at or after the passage;
- ``conversion``: the contact performed the goal event; ``revenue``: the revenue of those
  events (zeros included).

The state is a ``journey_split`` row per (version, node): created by the first enrollment
(insert-or-nothing: two workers may race), decided in the transaction of the pass that
finds the test over (an update guarded on ``decided_at IS NULL``: the loser reads the
winner). All figures are grouped in SQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, false, func, select, update

from kairos.analytics.attribution import DEFAULT_EVENT
from kairos.campaigns.experiments import (
    difference_interval,
    goal_moments,
    mean_difference_interval,
    measured,
    pick_winner,
)
from kairos.db.dialect import insert_on_conflict, shifted
from kairos.journeys.definition import JourneyDefinition, SplitNode
from kairos.journeys.engine import VERSIONS, Context
from kairos.journeys.tables import journey, journey_split, journey_step, journey_version
from kairos.messaging.tables import message, message_event


def goal_event(definition: JourneyDefinition, node: SplitNode) -> str:
    """The experiment's goal event: its own, the journey goal's, or ``Order Completed``."""
    assert node.experiment is not None
    if node.experiment.goal_event:
        return node.experiment.goal_event
    if definition.goal is not None and definition.goal.event:
        return definition.goal.event
    return DEFAULT_EVENT


def candidates(node: SplitNode) -> list[str]:
    return [b.name for b in node.branches if b.next is not None]


def branch_results(
    conn: Connection, journey_id: int, version_id: int, node_id: str, node: SplitNode,
    definition: JourneyDefinition, now: datetime,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Per branch (holdouts too): ``entered``, ``successes`` and ``rate`` on the metric, and
    ``converted``/``revenue``/``sum_squares`` of the goal event (for the lift)."""
    exp = node.experiment
    assert exp is not None
    window = timedelta(hours=exp.window_hours)
    s = journey_step.c
    units = (
        select(s.outcome.label("grp"), s.id.label("uid"), s.contact_id, s.at.label("start"))
        .where(s.journey_id == journey_id, s.node == node_id, s.version_id == version_id,
               s.outcome.in_([b.name for b in node.branches]))
        .subquery("units")
    )  # fmt: skip
    goals = goal_moments(conn, units, goal_event(definition, node), until=now, window=window)
    hits: dict[str, int] = {}
    if exp.metric in ("open", "click"):
        hits = _engaged(conn, units, journey_id, "opened" if exp.metric == "open" else "clicked", window, now)
    holdouts = {b.name for b in node.branches if b.next is None}
    out = {}
    for b in node.branches:
        g = goals.get(b.name) or {"n": 0, "converted": 0, "revenue": 0.0, "sum_squares": 0.0}
        n = int(g["n"])
        successes = hits.get(b.name, 0) if exp.metric in ("open", "click") else int(g["converted"])
        out[b.name] = {
            "entered": n, "holdout": b.name in holdouts, "converted": int(g["converted"]),
            "revenue": round(g["revenue"], 6), "sum_squares": g["sum_squares"],
            **measured(exp.metric, n, successes, g["revenue"], g["sum_squares"]),
        }  # fmt: skip
    return out


def _engaged(
    conn: Connection, units: Any, journey_id: int, kind: str, window: timedelta, now: datetime
) -> dict[str, int]:
    """Per branch: passages whose contact opened (clicked) a message of this journey queued at
    or after the passage, within the window of it."""
    m, me = message.c, message_event.c
    hits = (
        select(m.contact_id, m.created_at.label("queued_at"), me.created_at.label("at"))
        .join(message_event, me.message_id == m.id)
        .where(m.source == "journey", m.source_id.like(f"{journey_id}:%"), me.kind == kind,
               me.machine == false())
        .subquery("hits")
    )  # fmt: skip
    per_unit = (
        select(units.c.grp, units.c.uid, func.count(hits.c.at).label("hits"))
        .select_from(units.outerjoin(hits, and_(
            hits.c.contact_id == units.c.contact_id, hits.c.queued_at >= units.c.start,
            hits.c.at <= shifted(units.c.start, window, conn.dialect.name), hits.c.at <= now)))
        .group_by(units.c.grp, units.c.uid)
        .subquery("per_unit")
    )  # fmt: skip
    rows = conn.execute(
        select(per_unit.c.grp, func.sum(case((per_unit.c.hits > 0, 1), else_=0))).group_by(per_unit.c.grp)
    ).all()
    return {grp: int(n or 0) for grp, n in rows}


def lift(node: SplitNode, results: dict[str, dict[str, Any]], against: str | None) -> dict[str, Any] | None:
    """The winner's (or leader's) conversion rate — revenue per enrollment for a revenue
    experiment — minus the holdouts' together, with a 95 % interval; None without holdouts."""
    assert node.experiment is not None
    held = [r for r in results.values() if r["holdout"]]
    if against is None or not held:
        return None
    best = results[against]
    n = sum(r["entered"] for r in held)
    converted = sum(r["converted"] for r in held)
    revenue = sum(r["revenue"] for r in held)
    squares = sum(r["sum_squares"] for r in held)
    if node.experiment.metric == "revenue":
        d, low, high = mean_difference_interval(best["entered"], best["revenue"], best["sum_squares"],
                                                n, revenue, squares)  # fmt: skip
        on = "revenue_per_enrollment"
    else:
        d, low, high = difference_interval(best["converted"], best["entered"], converted, n)
        on = "conversion_rate"
    return {"branch": against, "on": on, "lift": d, "ci95": [low, high],
            "holdout": {"entered": n, "converted": converted, "revenue": round(revenue, 6)}}  # fmt: skip


def _judge(node: SplitNode, results: dict[str, dict[str, Any]]) -> tuple[str | None, float | None]:
    """The best candidate and the confidence it beats the runner-up (nothing entered: none)."""
    assert node.experiment is not None
    tested = {name: results[name] for name in candidates(node)}
    if not any(r["entered"] for r in tested.values()):
        return None, None
    return pick_winner(tested, node.experiment.metric, size="entered")


def winner(ctx: Context, node_id: str, node: SplitNode) -> str | None:
    """The split's winning branch, deciding it if the test is over (None: still testing).
    Creates the state row on first use."""
    exp = node.experiment
    assert exp is not None
    conn, now = ctx.conn, ctx.now
    t = journey_split.c
    key = (t.version_id == ctx.version_id, t.node == node_id)
    row = conn.execute(select(t.started_at, t.winner).where(*key)).first()
    if row is None:
        conn.execute(
            insert_on_conflict(conn, journey_split)
            .values(version_id=ctx.version_id, node=node_id, journey_id=ctx.journey_id,
                    workspace_id=ctx.workspace_id, started_at=now)
            .on_conflict_do_nothing(index_elements=["version_id", "node"])
        )  # fmt: skip
        row = conn.execute(select(t.started_at, t.winner).where(*key)).one()
    if row.winner is not None:
        return str(row.winner)
    reason = "window" if now >= row.started_at + timedelta(hours=exp.window_hours) else None
    if reason is None and exp.min_per_branch is not None:
        s = journey_step.c
        counts: dict[str, int] = dict(
            conn.execute(
                select(s.outcome, func.count())
                .where(s.journey_id == ctx.journey_id, s.node == node_id, s.version_id == ctx.version_id,
                       s.outcome.in_(candidates(node)))
                .group_by(s.outcome)
            ).all()  # type: ignore[arg-type]
        )  # fmt: skip
        if all(counts.get(name, 0) >= exp.min_per_branch for name in candidates(node)):
            reason = "sample_size"
    if reason is None:
        return None
    results = branch_results(conn, ctx.journey_id, ctx.version_id, node_id, node, ctx.definition, now)
    name, confidence = _judge(node, results)
    if name is None:  # only holdouts have been entered so far: go on testing
        return None
    decided = {"metric": exp.metric, "goal_event": goal_event(ctx.definition, node),
               "window_hours": exp.window_hours, "decided_by": reason, "branches": results,
               "lift": lift(node, results, name)}  # fmt: skip
    done = conn.execute(
        update(journey_split)
        .where(*key, t.decided_at.is_(None))
        .values(decided_at=now, winner=name, confidence=confidence, results=decided)
    )
    if done.rowcount == 0:  # another worker decided first: its winner stands
        return conn.execute(select(t.winner).where(*key)).scalar()
    return name


def experiments(conn: Connection, ws: int, journey_id: int, now: datetime) -> list[dict[str, Any]]:
    """The journey's split experiments, for its report: every one that started (any version)
    and those of the live version that have not yet, each with its state, the live results
    per branch (holdouts included), the leader (or winner) with its confidence, and the lift
    over the holdouts; once decided, also what the decision was made on (``decided_on``)."""
    live = conn.execute(
        select(journey.c.version_id).where(journey.c.id == journey_id, journey.c.workspace_id == ws)
    ).scalar()
    t, v = journey_split.c, journey_version.c
    started = {
        (r.version_id, r.node): r
        for r in conn.execute(
            select(journey_split, v.number).join(journey_version, v.id == t.version_id)
            .where(t.journey_id == journey_id, t.workspace_id == ws)
        )
    }  # fmt: skip
    numbers = dict(conn.execute(select(v.id, v.number).where(v.journey_id == journey_id)).all())
    keys = sorted(started)
    if live is not None:
        definition = VERSIONS.get(conn, live)[2]
        tested = [n for n, x in definition.nodes.items() if isinstance(x, SplitNode) and x.experiment]
        keys += [(live, n) for n in tested if (live, n) not in started]
    out = []
    for version_id, node_id in keys:
        definition = VERSIONS.get(conn, version_id)[2]
        node = definition.nodes.get(node_id)
        if not isinstance(node, SplitNode) or node.experiment is None:
            continue
        row = started.get((version_id, node_id))
        exp = node.experiment
        entry: dict[str, Any] = {
            "node": node_id, "version": numbers.get(version_id), "metric": exp.metric,
            "goal_event": goal_event(definition, node), "window_hours": exp.window_hours,
            "min_per_branch": exp.min_per_branch, "started_at": row.started_at if row else None,
            "ends_at": row.started_at + timedelta(hours=exp.window_hours) if row else None,
            "decided": bool(row and row.winner), "decided_at": row.decided_at if row else None,
            "winner": row.winner if row else None, "confidence": row.confidence if row else None,
        }  # fmt: skip
        results = branch_results(conn, journey_id, version_id, node_id, node, definition, now)
        leader, confidence = _judge(node, results)
        if row is not None and row.winner:
            leader = row.winner
            entry["decided_by"] = (row.results or {}).get("decided_by")
            entry["decided_on"] = (row.results or {}).get("branches")
        else:
            entry["leader"], entry["leader_confidence"] = leader, confidence
        entry["branches"] = results
        entry["lift"] = lift(node, results, leader)
        out.append(entry)
    return out
