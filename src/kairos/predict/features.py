"""The features of a contact as of a cut-off instant T, computed set-based in SQL.

Contacts are read in keyset pages (``PAGE`` ids at a time); for each page a handful of
``GROUP BY contact_id`` statements over the page's id range give every feature, so memory
grows with the page, not with the workspace, and no statement runs per contact. Nothing
after T is read, except the label (the goal event in ``[T, T + within)``), which is asked
for separately (``labels``):

- ``recency_days``: days since the contact's last event before T (``NO_EVENT_DAYS`` when none);
- ``events_7d`` / ``events_30d`` / ``events_90d``: events in the 7, 30, 90 days before T;
- ``revenue_90d``: the sum of the numeric ``revenue`` property in the 90 days before T, of
  the events whose name carries one (among the counted names below: found from each name's
  latest ``REVENUE_SAMPLE`` events, so no other event's JSON is ever parsed);
- ``event_30d:<name>`` / ``event_90d:<name>``: counts of each of the workspace's ``TOP_EVENTS``
  most frequent event names (and always the goal event);
- ``days_since_created``; ``stage:<stage>``: the lifecycle stage the contact had at T (from
  the stage history; one-hot over the workspace's most common stages);
- ``email_opens_30d`` / ``email_clicks_30d``: human opens and clicks of its messages
  (``message_event``, machine opens left out) in the 30 days before T;
- ``score:<model>``: its score in each score model at T (the sum of the ledger's changes up
  to T: event awards count at the event's timestamp, other changes when they were applied).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Connection, and_, case, distinct, func, select, type_coerce

from kairos.contacts.tables import contact, lifecycle_change
from kairos.events.tables import event
from kairos.messaging.tables import message_event
from kairos.scoring.tables import score_ledger, score_model
from kairos.segments.values import json_value

#: Contacts per keyset page.
PAGE = 20_000
#: How many of the most frequent event names get counts of their own.
TOP_EVENTS = 12
#: How many lifecycle stages get a one-hot column.
TOP_STAGES = 8
#: Latest events of each counted name looked at to tell whether the name carries a revenue.
REVENUE_SAMPLE = 200
#: ``recency_days`` of a contact without any event before T.
NO_EVENT_DAYS = 365.0
DAY = timedelta(days=1)


@dataclass(frozen=True)
class FeatureSpec:
    """What the columns of a model's feature matrix are (stored with the model)."""

    event_names: list[str]
    stages: list[str]
    score_models: list[tuple[int, str]]  # (id, key)
    revenue_events: list[str] = field(default_factory=list)  # names whose events carry a revenue
    names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        names = ["recency_days", "events_7d", "events_30d", "events_90d", "revenue_90d"]
        for n in self.event_names:
            names += [f"event_30d:{n}", f"event_90d:{n}"]
        names += ["days_since_created", *(f"stage:{s}" for s in self.stages)]
        names += ["email_opens_30d", "email_clicks_30d", *(f"score:{k}" for _, k in self.score_models)]
        object.__setattr__(self, "names", names)

    def to_json(self) -> dict[str, Any]:
        return {
            "event_names": self.event_names,
            "stages": self.stages,
            "score_models": [[i, k] for i, k in self.score_models],
            "revenue_events": self.revenue_events,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(
            list(data["event_names"]),
            list(data["stages"]),
            [(int(i), str(k)) for i, k in data["score_models"]],
            list(data.get("revenue_events", [])),
        )


def build_spec(conn: Connection, workspace_id: int, goal_event: str, now: datetime) -> FeatureSpec:
    """The workspace's most frequent event names of the 90 days before ``now`` (the goal
    event always among them), its most common lifecycle stages and its score models."""
    e = event.c
    top = conn.execute(
        select(e.name)
        .where(e.workspace_id == workspace_id, e.name.is_not(None), e.timestamp >= now - 90 * DAY,
               e.timestamp < now)
        .group_by(e.name)
        .order_by(func.count().desc(), e.name)
        .limit(TOP_EVENTS)
    ).scalars().all()  # fmt: skip
    names = [goal_event, *(n for n in top if n != goal_event)][:TOP_EVENTS]
    c = contact.c
    stages = (
        conn.execute(
            select(c.lifecycle_stage)
            .where(c.workspace_id == workspace_id, c.merged_into.is_(None), c.lifecycle_stage.is_not(None))
            .group_by(c.lifecycle_stage)
            .order_by(func.count().desc(), c.lifecycle_stage)
            .limit(TOP_STAGES)
        )
        .scalars()
        .all()
    )
    models = conn.execute(
        select(score_model.c.id, score_model.c.key)
        .where(score_model.c.workspace_id == workspace_id)
        .order_by(score_model.c.id)
    ).all()
    with_revenue = []
    for name in names:
        latest = (
            select(e.properties)
            .where(e.workspace_id == workspace_id, e.name == name, e.timestamp < now)
            .order_by(e.timestamp.desc())
            .limit(REVENUE_SAMPLE)
            .subquery()
        )
        found = conn.execute(
            select(func.count())
            .select_from(latest)
            .where(json_value(latest.c.properties, "revenue", "number", conn.dialect.name).is_not(None))
        ).scalar_one()
        if found:
            with_revenue.append(name)
    return FeatureSpec(names, list(stages), [(int(i), str(k)) for i, k in models], with_revenue)


def page_after(
    conn: Connection, workspace_id: int, after: int, created_before: datetime | None = None, page: int = PAGE
) -> list[tuple[int, datetime]]:
    """The next keyset page of live contacts (created before ``created_before`` when given)
    after id ``after``: ``(id, created_at)`` in id order."""
    c = contact.c
    stmt = select(c.id, c.created_at).where(
        c.workspace_id == workspace_id, c.merged_into.is_(None), c.id > after
    )
    if created_before is not None:
        stmt = stmt.where(c.created_at < created_before)
    return [(int(i), at) for i, at in conn.execute(stmt.order_by(c.id).limit(page))]


def contact_pages(
    conn: Connection, workspace_id: int, created_before: datetime | None = None, page: int = PAGE
) -> Iterator[list[tuple[int, datetime]]]:
    """Every page of ``page_after`` in turn."""
    after = 0
    while rows := page_after(conn, workspace_id, after, created_before, page):
        yield rows
        after = rows[-1][0]


def page_features(
    conn: Connection, workspace_id: int, spec: FeatureSpec, at: datetime, rows: list[tuple[int, datetime]]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The feature matrix (one row per contact of ``rows``, columns ``spec.names``) at ``at``."""
    ids = [cid for cid, _ in rows]
    lo, hi = ids[0], ids[-1]
    index = {cid: i for i, cid in enumerate(ids)}
    out = np.zeros((len(ids), len(spec.names)), dtype=np.float64)
    col = {name: j for j, name in enumerate(spec.names)}
    out[:, col["recency_days"]] = NO_EVENT_DAYS

    e = event.c
    d7, d30, d90 = at - 7 * DAY, at - 30 * DAY, at - 90 * DAY

    def count(*cond: Any) -> Any:
        return func.sum(case((and_(*cond), 1), else_=0))

    # Counts per (contact, name) from ix_event_contact_name_ts alone (an index-only scan: no
    # workspace filter, the page's ids are the workspace's), summed up per contact in numpy;
    # the last instant as a number (SQLite: the stored microseconds; PostgreSQL: epoch
    # seconds), not 100k datetimes built in Python.
    sqlite = conn.dialect.name == "sqlite"
    latest = (
        type_coerce(func.max(e.timestamp), BigInteger)
        if sqlite
        else func.extract("epoch", func.max(e.timestamp))
    )
    unit = 1_000_000 if sqlite else 1
    found = conn.execute(
        select(e.contact_id, e.name, latest, count(e.timestamp >= d7),
               count(e.timestamp >= d30), count(e.timestamp >= d90))
        .where(e.contact_id >= lo, e.contact_id <= hi, e.timestamp < at)
        .group_by(e.contact_id, e.name)
    ).all()  # fmt: skip
    if found:
        found_ids, found_names, last, c7, c30, c90 = zip(*found, strict=True)
        page_ids = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(page_ids, np.asarray(found_ids, dtype=np.int64))
        pos = np.minimum(pos, len(ids) - 1)
        mine = page_ids[pos] == np.asarray(found_ids, dtype=np.int64)
        ago = (at.timestamp() - np.asarray(last, dtype=np.float64) / unit) / 86_400
        recency = np.full(len(ids), NO_EVENT_DAYS)
        np.minimum.at(recency, pos[mine], np.minimum(ago[mine], NO_EVENT_DAYS))
        out[:, col["recency_days"]] = recency
        counts = [np.asarray(c, dtype=np.float64) for c in (c7, c30, c90)]
        for feature, values in zip(("events_7d", "events_30d", "events_90d"), counts, strict=True):
            np.add.at(out[:, col[feature]], pos[mine], values[mine])
        which = {n: k for k, n in enumerate(spec.event_names)}
        named = np.fromiter((which.get(n, -1) for n in found_names), dtype=np.int64, count=len(found_names))
        for k, n in enumerate(spec.event_names):
            hit = mine & (named == k)
            out[pos[hit], col[f"event_30d:{n}"]] = counts[1][hit]
            out[pos[hit], col[f"event_90d:{n}"]] = counts[2][hit]

    if spec.revenue_events:
        revenue = json_value(e.properties, "revenue", "number", conn.dialect.name)
        j = col["revenue_90d"]
        for cid_, total in conn.execute(
            select(e.contact_id, func.sum(func.coalesce(revenue, 0.0)))
            .where(
                e.contact_id >= lo, e.contact_id <= hi, e.name.in_(spec.revenue_events), e.timestamp >= d90,
                e.timestamp < at,
            )
            .group_by(e.contact_id)
        ):  # fmt: skip
            i = index.get(cid_)
            if i is not None:
                out[i, j] = float(total or 0.0)

    for i, (_, created) in enumerate(rows):
        out[i, col["days_since_created"]] = max((at - created).total_seconds() / 86_400, 0.0)

    if spec.stages:
        stage_col = {s: col[f"stage:{s}"] for s in spec.stages}
        for cid, stage in _stages_at(conn, workspace_id, at, lo, hi):
            i = index.get(cid)
            at_stage = stage_col.get(stage) if stage is not None else None
            if i is not None and at_stage is not None:
                out[i, at_stage] = 1.0

    me = message_event.c
    opens, clicks = col["email_opens_30d"], col["email_clicks_30d"]
    for cid, opened, clicked in conn.execute(
        select(me.contact_id, count(me.kind == "opened"), count(me.kind == "clicked"))
        .where(
            me.workspace_id == workspace_id, me.contact_id >= lo, me.contact_id <= hi,
            me.kind.in_(["opened", "clicked"]), me.machine.is_(False), me.created_at >= d30,
            me.created_at < at,
        )
        .group_by(me.contact_id)
    ):  # fmt: skip
        i = index.get(cid)
        if i is not None:
            out[i, opens], out[i, clicks] = opened or 0, clicked or 0

    if spec.score_models:
        lg = score_ledger.c
        score_col = {mid: col[f"score:{key}"] for mid, key in spec.score_models}
        for cid, mid, total in conn.execute(
            select(lg.contact_id, lg.model_id, func.sum(lg.delta))
            .where(
                lg.workspace_id == workspace_id, lg.contact_id >= lo, lg.contact_id <= hi,
                lg.model_id.in_(list(score_col)), func.coalesce(lg.occurred_at, lg.at) <= at,
            )
            .group_by(lg.contact_id, lg.model_id)
        ):  # fmt: skip
            i = index.get(cid)
            if i is not None:
                out[i, score_col[int(mid)]] = float(total or 0.0)
    return out


def _stages_at(conn: Connection, workspace_id: int, at: datetime, lo: int, hi: int) -> list[tuple[int, Any]]:
    """Each contact's stage at ``at``: the stage its last change up to then set; without one,
    the stage its first later change left; without any change, its current stage."""
    lc = lifecycle_change.c
    in_page = and_(lc.workspace_id == workspace_id, lc.contact_id >= lo, lc.contact_id <= hi)
    last_before = select(func.max(lc.id)).where(in_page, lc.changed_at <= at).group_by(lc.contact_id)
    first_after = select(func.min(lc.id)).where(in_page, lc.changed_at > at).group_by(lc.contact_id)
    found: dict[int, Any] = {}
    for cid, stage in conn.execute(select(lc.contact_id, lc.from_stage).where(lc.id.in_(first_after))):
        found[int(cid)] = stage
    for cid, stage in conn.execute(select(lc.contact_id, lc.to_stage).where(lc.id.in_(last_before))):
        found[int(cid)] = stage
    c = contact.c
    changed = select(lc.contact_id).where(in_page)
    for cid, stage in conn.execute(
        select(c.id, c.lifecycle_stage).where(
            c.workspace_id == workspace_id, c.id >= lo, c.id <= hi, c.lifecycle_stage.is_not(None),
            c.id.not_in(changed),
        )
    ):  # fmt: skip
        found[int(cid)] = stage
    return list(found.items())


def labels(
    conn: Connection, workspace_id: int, goal_event: str, start: datetime, end: datetime, lo: int, hi: int
) -> set[int]:
    """Contacts (ids in ``[lo, hi]``) that performed the goal event in ``[start, end)``."""
    e = event.c
    return {
        int(cid)
        for cid in conn.execute(
            select(e.contact_id)
            .where(
                e.workspace_id == workspace_id, e.name == goal_event, e.timestamp >= start, e.timestamp < end,
                e.contact_id >= lo, e.contact_id <= hi,
            )
            .distinct()
        ).scalars()
    }  # fmt: skip


def count_converted(
    conn: Connection, workspace_id: int, goal_event: str, start: datetime, end: datetime
) -> int:
    """How many contacts performed the goal event in ``[start, end)`` (one index range scan)."""
    e = event.c
    return int(
        conn.execute(
            select(func.count(distinct(e.contact_id))).where(
                e.workspace_id == workspace_id, e.name == goal_event, e.timestamp >= start, e.timestamp < end
            )
        ).scalar_one()
    )


def matrix(
    conn: Connection,
    workspace_id: int,
    spec: FeatureSpec,
    at: datetime,
    goal_event: str | None = None,
    until: datetime | None = None,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Every contact created before ``at``: (ids, features as float32, labels — the goal
    event in ``[at, until)`` — as 0/1, empty when no goal is given)."""
    ids: list[np.ndarray[Any, Any]] = []
    xs: list[np.ndarray[Any, Any]] = []
    ys: list[np.ndarray[Any, Any]] = []
    for rows in contact_pages(conn, workspace_id, created_before=at):
        ids.append(np.fromiter((cid for cid, _ in rows), dtype=np.int64, count=len(rows)))
        xs.append(page_features(conn, workspace_id, spec, at, rows).astype(np.float32))
        if goal_event is not None and until is not None:
            hit = labels(conn, workspace_id, goal_event, at, until, rows[0][0], rows[-1][0])
            ys.append(np.fromiter((cid in hit for cid, _ in rows), dtype=np.int8, count=len(rows)))
    width = len(spec.names)
    return (
        np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64),
        np.concatenate(xs) if xs else np.zeros((0, width), dtype=np.float32),
        np.concatenate(ys) if ys else np.zeros(0, dtype=np.int8),
    )
