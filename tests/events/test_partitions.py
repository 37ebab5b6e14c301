"""Events by month (PostgreSQL partitions) and retention (both databases)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from kairos.clock import FixedClock
from kairos.events.partitions import apply_retention, ensure_ahead, ensure_months, partition_name, partitioned
from kairos.events.tables import event, event_message
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import T0


def send(client: TestClient, key: str, *events: tuple[str, datetime]) -> None:
    batch = [
        {"type": "track", "userId": "u1", "event": "Viewed", "messageId": mid, "timestamp": at.isoformat()}
        for mid, at in events
    ]
    r = client.post("/v1/batch", json={"batch": batch}, auth=(key, ""))
    assert r.status_code == 200, r.text


def stored(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(event.c.message_id)).scalars())


def remembered(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(event_message.c.message_id)).scalars())


def test_retention_deletes_old_events_and_their_message_ids_and_keeps_the_rest(
    engine: Engine, workspace: CreatedWorkspace, client: TestClient
) -> None:
    send(client, workspace.write_key, ("old", T0 - timedelta(days=100)), ("edge", T0 - timedelta(days=29)),
         ("new", T0 - timedelta(hours=1)))  # fmt: skip
    assert apply_retention(engine, T0, 0) == 0  # off: nothing is touched
    assert stored(engine) == ["edge", "new", "old"]

    while apply_retention(engine, T0, 30):
        pass
    assert stored(engine) == ["edge", "new"]
    assert remembered(engine) == ["edge", "new"]
    # the duplicate check still knows what is kept: a retry of "new" stores nothing
    send(client, workspace.write_key, ("new", T0 - timedelta(hours=1)))
    assert stored(engine) == ["edge", "new"]


def test_the_worker_keeps_months_ahead_and_applies_retention_hourly(
    engine: Engine, workspace: CreatedWorkspace, client: TestClient
) -> None:
    send(client, workspace.write_key, ("old", T0 - timedelta(days=400)), ("new", T0))
    worker = Worker(engine, FixedClock(T0), event_retention_days=365)
    done = worker.run_once()
    assert done["event_maintenance"] >= 1
    assert stored(engine) == ["new"]
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            have = set(
                conn.execute(text("SELECT relname FROM pg_class WHERE relname LIKE 'event_p%'")).scalars()
            )
        assert {"event_p202603", "event_p202604", "event_p202605"} <= have
    send(client, workspace.write_key, ("older", T0 - timedelta(days=500)))
    assert worker.run_once()["event_maintenance"] == 0  # looked at again in an hour, not every pass
    assert stored(engine) == ["new", "older"]


def test_postgresql_keeps_events_by_month_and_moves_a_months_rows_out_of_the_default(
    engine: Engine, workspace: CreatedWorkspace, client: TestClient
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL partitions events by month; SQLite keeps one table")
    with engine.begin() as conn:
        assert partitioned(conn)
        for name in ("event_p201901", "event_p201902", "event_p201903", "event_p201904", "event_p201905"):
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    jan, feb = datetime(2019, 1, 15, tzinfo=UTC), datetime(2019, 2, 15, tzinfo=UTC)
    send(client, workspace.write_key, ("jan", jan), ("feb", feb))

    def where() -> dict[str, str]:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT message_id, tableoid::regclass::text FROM event")).all()
        return {mid: table for mid, table in rows}

    assert where() == {"jan": "event_default", "feb": "event_default"}  # no month for 2019 yet
    with engine.begin() as conn:
        assert ensure_months(conn, date(2019, 1, 1), date(2019, 1, 1)) == ["event_p201901"]
        assert ensure_months(conn, date(2019, 1, 1), date(2019, 1, 1)) == []  # idempotent
    assert where() == {"jan": "event_p201901", "feb": "event_default"}
    send(client, workspace.write_key, ("jan2", jan + timedelta(days=1)))
    assert where()["jan2"] == "event_p201901"

    # retention drops whole months older than the horizon, then deletes older rows elsewhere
    horizon_now = datetime(2019, 2, 20, tzinfo=UTC) + timedelta(days=10)
    while apply_retention(engine, horizon_now, 10):
        pass
    with engine.connect() as conn:
        gone = conn.execute(text("SELECT to_regclass('event_p201901')")).scalar()
    assert gone is None
    assert sorted(where()) == []  # feb 15 is older than 10 days before 03-02 too
    with engine.begin() as conn:
        made = ensure_ahead(conn, datetime(2019, 3, 2, tzinfo=UTC))
        assert made == [partition_name(date(2019, m, 1)) for m in (3, 4, 5)]
