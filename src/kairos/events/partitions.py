"""Events by month, and their retention.

On PostgreSQL ``event`` is partitioned by range of ``timestamp`` (the event's own time):
one partition a month, ``event_pYYYYMM``, created ``MONTHS_AHEAD`` months ahead by the
worker, and a ``DEFAULT`` partition, ``event_default``, for events outside them (imported
history, clocks far off). Queries over a time window read only the months it covers, and
retention drops whole months: no row-by-row delete, no vacuum.

A month created for a range the default partition already holds rows of takes them over in
the same transaction (moved, then attached), so creating months never fails on old data.

Retention (``KAIROS_EVENT_RETENTION_DAYS``, off by default) deletes events whose
``timestamp`` is older than the horizon, on both databases: on PostgreSQL months wholly
older are dropped, and older rows of the month that straddles the horizon and of the
default partition are deleted in batches; on SQLite, batches of rows are found in a read
transaction (a WAL reader, beside the writer) and deleted by id in a short write
transaction. The duplicate check's memory (``event_message``) is pruned with them.
Aggregates (``event_day_count``, scores, computed traits) are kept; segments that look at
"ever" see the events retained.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, select, text, tuple_

from kairos.clock import ensure_utc
from kairos.db.dialect import in_ids
from kairos.db.engine import reading
from kairos.events.tables import event, event_message

#: months created ahead of the current one
MONTHS_AHEAD = 2
#: events deleted per retention transaction
RETENTION_BATCH = 10_000

#: autovacuum analyses a month after 1 % of it (and 10,000 rows) changed, not 10 %: the
#: planner learns of a new workspace's events before it holds hundreds of thousands
ANALYZE_OFTEN = "autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 10000"

_PARTITION = re.compile(r"^event_(p\d{6}|default)$")


def is_partition(name: str) -> bool:
    """Whether a table name is one of ``event``'s partitions (not in the declared schema)."""
    return _PARTITION.match(name) is not None


def month_of(instant: datetime) -> date:
    return ensure_utc(instant).date().replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def partition_name(month: date) -> str:
    return f"event_p{month.year:04d}{month.month:02d}"


def _bound(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(
        text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass('event')")
    ).first()
    return found is not None


def existing_months(conn: Connection) -> set[date]:
    """The months that have a partition (PostgreSQL)."""
    names = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass('event')"
        )
    ).scalars()
    out = set()
    for name in names:
        m = re.match(r"^event_p(\d{4})(\d{2})$", name)
        if m:
            out.add(date(int(m.group(1)), int(m.group(2)), 1))
    return out


def ensure_months(conn: Connection, first: date, last: date) -> list[str]:
    """Create the partitions of the months from ``first`` to ``last`` that are missing
    (PostgreSQL; nothing elsewhere); returns the names created. Rows the default partition
    holds for a new month are moved into it before it is attached."""
    if not partitioned(conn):
        return []
    have = existing_months(conn)
    created = []
    month = first.replace(day=1)
    while month <= last:
        if month not in have:
            _create(conn, month)
            created.append(partition_name(month))
        month = next_month(month)
    return created


def _create(conn: Connection, month: date) -> None:
    name = partition_name(month)
    lower, upper = _bound(month), _bound(next_month(month))
    # The partition key's range must not hold rows of the default partition when it is
    # attached: they move first (none, unless events came for a month before it existed).
    conn.execute(text(f"CREATE TABLE {name} (LIKE event INCLUDING DEFAULTS) WITH ({ANALYZE_OFTEN})"))
    conn.execute(
        text(
            f'WITH moved AS (DELETE FROM event_default WHERE "timestamp" >= :lower AND "timestamp" < :upper '
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved"
        ),
        {"lower": lower, "upper": upper},
    )
    # DDL takes no bound parameters; the bounds are made here from a date, never from input
    conn.execute(
        text(
            f"ALTER TABLE event ATTACH PARTITION {name} "
            f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')"
        )
    )


def ensure_ahead(conn: Connection, now: datetime) -> list[str]:
    """The current month and ``MONTHS_AHEAD`` more."""
    month = month_of(now)
    last = month
    for _ in range(MONTHS_AHEAD):
        last = next_month(last)
    return ensure_months(conn, month, last)


def apply_retention(engine: Engine, now: datetime, days: int) -> int:
    """Delete events older than ``days`` before ``now`` and their duplicate-check entries:
    whole months first (PostgreSQL), then one batch of rows. Returns what it removed (rows,
    and 1 per month dropped); 0 when nothing older is left."""
    if days <= 0:
        return 0
    horizon = ensure_utc(now) - timedelta(days=days)
    dropped = 0
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            if partitioned(conn):
                dropped = _drop_months(conn, horizon)
    with reading(engine) as conn:  # on SQLite the search does not hold the write lock
        ids = list(
            conn.execute(
                select(event.c.id).where(event.c.timestamp < horizon).limit(RETENTION_BATCH)
            ).scalars()
        )
    em = event_message.c
    with engine.begin() as conn:
        removed = 0
        if ids:  # the time condition again: a row moved since is not deleted, and months are pruned
            doomed = delete(event).where(
                in_ids(event.c.id, ids, conn.dialect.name), event.c.timestamp < horizon
            )
            removed = int(conn.execute(doomed).rowcount or 0)
        old = select(em.message_id, em.workspace_id).where(em.timestamp < horizon).limit(RETENTION_BATCH)
        pruned = conn.execute(
            delete(event_message).where(tuple_(em.message_id, em.workspace_id).in_(old))
        ).rowcount
    return dropped + removed + int(pruned or 0)


def _drop_months(conn: Connection, horizon: datetime) -> int:
    dropped = 0
    for month in sorted(existing_months(conn)):
        if _bound(next_month(month)) <= horizon:
            conn.execute(text(f"DROP TABLE {partition_name(month)}"))
            dropped += 1
    return dropped
