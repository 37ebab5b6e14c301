"""Reading scores: a contact's scores with their latest reasons, and the model report
(distribution in buckets, movement per day over a range)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from kairos.contacts.tables import contact
from kairos.db.dialect import day_number
from kairos.scoring.service import model_by_key
from kairos.scoring.tables import contact_score, score_ledger, score_model, score_rule

LEDGER_COLUMNS = (
    "id",
    "kind",
    "delta",
    "score",
    "reason",
    "params",
    "rule_id",
    "event_id",
    "occurred_at",
    "at",
)


def _ref(m: Any) -> dict[str, Any]:
    return {"id": m["id"], "key": m["key"], "name": m["name"], "is_default": m["is_default"]}


def contact_scores(conn: Connection, workspace_id: int, contact_id: int, latest: int) -> list[dict[str, Any]]:
    """Per model of the workspace: the contact's score (0 without a row), its last change
    and its ``latest`` ledger entries, newest first."""
    models = conn.execute(
        select(score_model).where(score_model.c.workspace_id == workspace_id).order_by(score_model.c.id)
    ).mappings()
    out = []
    lg = score_ledger.c
    for m in list(models):
        row = conn.execute(
            select(contact_score.c.score, contact_score.c.changed_at).where(
                contact_score.c.model_id == m["id"], contact_score.c.contact_id == contact_id
            )
        ).first()
        ledger = conn.execute(
            select(*(lg[c] for c in LEDGER_COLUMNS))
            .where(lg.model_id == m["id"], lg.contact_id == contact_id)
            .order_by(lg.id.desc())
            .limit(latest)
        ).mappings()
        out.append(
            {
                "model": _ref(m),
                "score": row.score if row else 0.0,
                "changed_at": row.changed_at if row else None,
                "ledger": [dict(r) for r in ledger],
            }
        )
    return out


def _edges(low: float, high: float, buckets: int) -> list[float]:
    """``buckets`` equal-width edges over [low, high], on round numbers."""
    if high <= low:
        return [low, low + 1]
    raw = (high - low) / buckets
    magnitude = 10 ** math.floor(math.log10(raw))
    width = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / width) * width
    edges = [start]
    while edges[-1] <= high:
        edges.append(edges[-1] + width)
    return edges


def score_report(
    conn: Connection, workspace_id: int, key: str, since: datetime, until: datetime, buckets: int
) -> dict[str, Any]:
    m = model_by_key(conn, workspace_id, key)
    cs = contact_score.c
    live = and_(contact.c.id == cs.contact_id, contact.c.merged_into.is_(None))

    stats = conn.execute(
        select(func.count(), func.min(cs.score), func.max(cs.score), func.avg(cs.score))
        .select_from(contact_score.join(contact, live))
        .where(cs.model_id == m["id"])
    ).one()
    scored, low, high, avg = int(stats[0]), stats[1], stats[2], stats[3]
    total = conn.execute(
        select(func.count()).where(contact.c.workspace_id == workspace_id, contact.c.merged_into.is_(None))
    ).scalar_one()
    out_buckets: list[dict[str, Any]] = []
    if scored:
        edges = _edges(float(low), float(high), buckets)
        counts: dict[int, int] = {0: scored}  # every score the same: one bucket (a CASE needs a WHEN)
        if len(edges) > 2:
            index = case(
                *((cs.score < edges[i + 1], i) for i in range(len(edges) - 2)), else_=len(edges) - 2
            ).label("bucket")
            counts = dict(
                conn.execute(
                    select(index, func.count())
                    .select_from(contact_score.join(contact, live))
                    .where(cs.model_id == m["id"])
                    .group_by(index)
                ).all()
            )
        out_buckets = [
            {"low": edges[i], "high": edges[i + 1], "contacts": int(counts.get(i, 0))}
            for i in range(len(edges) - 1)
        ]

    lg = score_ledger.c
    day = day_number(lg.at, conn.dialect.name).label("day")
    in_range = [lg.model_id == m["id"], lg.at >= since, lg.at < until]
    movement = [
        {
            "day": (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=int(d))).date().isoformat(),
            "gained": float(g or 0),
            "lost": float(lo or 0),
            "contacts": int(n),
        }
        for d, g, lo, n in conn.execute(
            select(
                day,
                func.sum(case((lg.delta > 0, lg.delta), else_=0.0)),
                func.sum(case((lg.delta < 0, lg.delta), else_=0.0)),
                func.count(func.distinct(lg.contact_id)),
            )
            .where(*in_range)
            .group_by(day)
            .order_by(day)
        )
    ]
    by_reason = [
        {"rule_id": rid, "name": name or kind, "kind": kind, "points": float(pts or 0), "changes": int(n)}
        for rid, name, kind, pts, n in conn.execute(
            select(lg.rule_id, score_rule.c.name, lg.kind, func.sum(lg.delta), func.count())
            .select_from(score_ledger.outerjoin(score_rule, score_rule.c.id == lg.rule_id))
            .where(*in_range)
            .group_by(lg.rule_id, score_rule.c.name, lg.kind)
            .order_by(func.sum(lg.delta).desc())
        )
    ]
    return {
        "model": _ref(m),
        "scored": scored,
        "unscored": max(int(total) - scored, 0),
        "average": float(avg) if avg is not None else None,
        "buckets": out_buckets,
        "since": since,
        "until": until,
        "movement": movement,
        "by_reason": by_reason,
    }
