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

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Float,
    and_,
    case,
    cast,
    distinct,
    func,
    select,
    type_coerce,
)

from kairos.contacts.tables import contact, lifecycle_change
from kairos.db.engine import reading
from kairos.events.tables import event
from kairos.messaging.tables import message_event
from kairos.scoring.tables import score_ledger, score_model
from kairos.segments.values import json_value

#: Contacts per keyset page.
PAGE = 20_000
#: Pages read at once by ``feature_pages`` (threads, each with a connection of its own).
READ_AHEAD = 2
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


@dataclass(frozen=True)
class Page:
    """A keyset page of live contacts: ids ascending, creation instants in epoch seconds."""

    ids: np.ndarray[Any, np.dtype[np.int64]]
    created: np.ndarray[Any, np.dtype[np.float64]]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lo(self) -> int:
        return int(self.ids[0])

    @property
    def hi(self) -> int:
        return int(self.ids[-1])


def _epoch(column: Any, dialect: str) -> Any:
    """``column`` (an instant) as a plain number — SQLite's stored microseconds, PostgreSQL's
    epoch seconds (``_epoch_unit`` per second) — so no datetime is built per row."""
    if dialect == "sqlite":
        return type_coerce(column, BigInteger)
    return cast(func.extract("epoch", column), Float)


def _epoch_unit(dialect: str) -> float:
    return 1_000_000.0 if dialect == "sqlite" else 1.0


def page_after(
    conn: Connection, workspace_id: int, after: int, created_before: datetime | None = None, page: int = PAGE
) -> Page | None:
    """The next keyset page of live contacts (created before ``created_before`` when given)
    after id ``after``, or None at the end."""
    c = contact.c
    dialect = conn.dialect.name
    stmt = select(c.id, _epoch(c.created_at, dialect)).where(
        c.workspace_id == workspace_id, c.merged_into.is_(None), c.id > after
    )
    if created_before is not None:
        stmt = stmt.where(c.created_at < created_before)
    found = conn.execute(stmt.order_by(c.id).limit(page)).all()
    if not found:
        return None
    created = np.array([r[1] for r in found], dtype=np.float64) / _epoch_unit(dialect)
    return Page(np.array([r[0] for r in found], dtype=np.int64), created)


def feature_pages(
    engine: Engine,
    workspace_id: int,
    spec: FeatureSpec,
    at: datetime,
    created_before: datetime | None = None,
    page: int = PAGE,
    ahead: int = READ_AHEAD,
) -> Iterator[tuple[Page, np.ndarray[Any, np.dtype[np.float64]]]]:
    """Every keyset page of live contacts (created before ``created_before`` when given) with
    its feature matrix at ``at``, in id order.

    Up to ``ahead`` pages are read at once, each by a thread on a read-only connection of
    its own: the database works on them while the caller scores and writes the previous
    ones (SQLite and psycopg release the GIL while a statement runs), so two cores read
    about twice as fast as one page at a time.
    """
    ahead = max(ahead, 1)

    def read(rows: Page) -> np.ndarray[Any, np.dtype[np.float64]]:
        with reading(engine) as conn:
            return page_features(conn, workspace_id, spec, at, rows)

    after: int | None = 0
    pending: deque[tuple[Page, Future[np.ndarray[Any, np.dtype[np.float64]]]]] = deque()
    with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="kairos-features") as pool:
        try:
            while True:
                while after is not None and len(pending) < ahead:
                    with reading(engine) as conn:
                        rows = page_after(conn, workspace_id, after, created_before, page)
                    if rows is None:
                        after = None
                    else:
                        pending.append((rows, pool.submit(read, rows)))
                        after = rows.hi
                if not pending:
                    return
                rows, future = pending.popleft()
                yield rows, future.result()
        finally:
            for _, future in pending:
                future.cancel()


def page_features(
    conn: Connection, workspace_id: int, spec: FeatureSpec, at: datetime, rows: Page
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The feature matrix (one row per contact of ``rows``, columns ``spec.names``) at ``at``.

    Each statement returns plain numbers (instants as epoch numbers, event names as their
    column index), gathered into numpy arrays and placed by ``searchsorted`` on the page's
    ids: no Python work per contact or per row beyond fetching it.
    """
    ids = rows.ids
    lo, hi = rows.lo, rows.hi
    out = np.zeros((len(ids), len(spec.names)), dtype=np.float64)
    col = {name: j for j, name in enumerate(spec.names)}
    dialect = conn.dialect.name
    unit = _epoch_unit(dialect)

    def place(found: Sequence[Any], width: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """(positions in the page, the other ``width - 1`` columns as floats, NULL as 0) of
        the rows whose first column is a contact id of the page."""
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros((0, width - 1))
        table = np.array([r[1:] for r in found], dtype=np.float64).reshape(len(found), width - 1)
        cids = np.array([r[0] for r in found], dtype=np.int64)
        pos = np.minimum(np.searchsorted(ids, cids), len(ids) - 1)
        mine = ids[pos] == cids
        return pos[mine], np.nan_to_num(table[mine])

    e = event.c
    d7, d30, d90 = at - 7 * DAY, at - 30 * DAY, at - 90 * DAY

    def count(*cond: Any) -> Any:
        return func.sum(case((and_(*cond), 1), else_=0))

    # Counts per (contact, name) from ix_event_contact_name_ts alone (an index-only scan: no
    # workspace filter, the page's ids are the workspace's), summed up per contact in numpy;
    # the name comes back as its index in spec.event_names (-1: not a counted name).
    which = case({n: k for k, n in enumerate(spec.event_names)}, value=e.name, else_=-1)
    pos, found = place(
        conn.execute(
            select(e.contact_id, which, _epoch(func.max(e.timestamp), dialect), count(e.timestamp >= d7),
                   count(e.timestamp >= d30), count(e.timestamp >= d90))
            .where(e.contact_id >= lo, e.contact_id <= hi, e.timestamp < at)
            .group_by(e.contact_id, e.name)
        ).all(),
        6,
    )  # fmt: skip
    recency = np.full(len(ids), NO_EVENT_DAYS)
    if len(pos):
        named, last, c7, c30, c90 = found.T
        ago = (at.timestamp() - last / unit) / 86_400
        np.minimum.at(recency, pos, np.minimum(ago, NO_EVENT_DAYS))
        for feature, values in zip(("events_7d", "events_30d", "events_90d"), (c7, c30, c90), strict=True):
            np.add.at(out[:, col[feature]], pos, values)
        for k, n in enumerate(spec.event_names):
            hit = named == k
            out[pos[hit], col[f"event_30d:{n}"]] = c30[hit]
            out[pos[hit], col[f"event_90d:{n}"]] = c90[hit]
    out[:, col["recency_days"]] = recency

    if spec.revenue_events:
        revenue = json_value(e.properties, "revenue", "number", dialect)
        pos, found = place(
            conn.execute(
                select(e.contact_id, func.sum(func.coalesce(revenue, 0.0)))
                .where(
                    e.contact_id >= lo, e.contact_id <= hi, e.name.in_(spec.revenue_events),
                    e.timestamp >= d90, e.timestamp < at,
                )
                .group_by(e.contact_id)
            ).all(),
            2,
        )  # fmt: skip
        out[pos, col["revenue_90d"]] = found[:, 0]

    out[:, col["days_since_created"]] = np.maximum((at.timestamp() - rows.created) / 86_400, 0.0)

    if spec.stages:
        stage_col = {s: col[f"stage:{s}"] for s in spec.stages}
        index = {int(cid): i for i, cid in enumerate(ids)}
        for cid, stage in _stages_at(conn, workspace_id, at, lo, hi):
            i = index.get(cid)
            at_stage = stage_col.get(stage) if stage is not None else None
            if i is not None and at_stage is not None:
                out[i, at_stage] = 1.0

    me = message_event.c
    pos, found = place(
        conn.execute(
            select(me.contact_id, count(me.kind == "opened"), count(me.kind == "clicked"))
            .where(
                me.workspace_id == workspace_id, me.contact_id >= lo, me.contact_id <= hi,
                me.kind.in_(["opened", "clicked"]), me.machine.is_(False), me.created_at >= d30,
                me.created_at < at,
            )
            .group_by(me.contact_id)
        ).all(),
        3,
    )  # fmt: skip
    out[pos, col["email_opens_30d"]] = found[:, 0]
    out[pos, col["email_clicks_30d"]] = found[:, 1]

    if spec.score_models:
        lg = score_ledger.c
        model_col = {mid: col[f"score:{key}"] for mid, key in spec.score_models}
        pos, found = place(
            conn.execute(
                select(lg.contact_id, lg.model_id, func.sum(lg.delta))
                .where(
                    lg.workspace_id == workspace_id, lg.contact_id >= lo, lg.contact_id <= hi,
                    lg.model_id.in_(list(model_col)), func.coalesce(lg.occurred_at, lg.at) <= at,
                )
                .group_by(lg.contact_id, lg.model_id)
            ).all(),
            3,
        )  # fmt: skip
        for mid, j in model_col.items():
            hit = found[:, 0] == mid
            out[pos[hit], j] = found[hit, 1]
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
    engine: Engine,
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
    for rows, x in feature_pages(engine, workspace_id, spec, at, created_before=at):
        ids.append(rows.ids)
        xs.append(x.astype(np.float32))
        if goal_event is not None and until is not None:
            with reading(engine) as conn:
                hit = labels(conn, workspace_id, goal_event, at, until, rows.lo, rows.hi)
            ys.append(np.isin(rows.ids, np.fromiter(hit, dtype=np.int64, count=len(hit))).astype(np.int8))
    width = len(spec.names)
    return (
        np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64),
        np.concatenate(xs) if xs else np.zeros((0, width), dtype=np.float32),
        np.concatenate(ys) if ys else np.zeros(0, dtype=np.int8),
    )
