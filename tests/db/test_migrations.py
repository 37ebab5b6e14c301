"""The migrations build exactly the schema the code declares."""

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from kairos.config import Settings
from kairos.db.engine import make_engine
from kairos.db.migrate import upgrade
from kairos.db.schema import metadata
from kairos.events.partitions import is_partition


def declared(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """The schema the code declares, without the event table's monthly partitions (created at
    run time on PostgreSQL, ``events/partitions.py``) and their indexes."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return not (reflected and is_partition(table or ""))


# SQLite's reflection cannot read expression indexes (lower(first_name)); PostgreSQL's can,
# and the same test compares them there
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrated_database_matches_the_declared_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": declared})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_upgrading_an_old_sqlite_database_keeps_its_data(tmp_path: Path) -> None:
    """Every migration from the first on, run over a database with a workspace, a key, a
    contact and an event: none of them is lost. (On SQLite a migration that recreates a
    table other rows refer to — Alembic's batch mode — would delete them by cascade.)"""
    engine = make_engine(
        Settings(database_url=f"sqlite:///{tmp_path}/old.db", secret_key="x" * 12, _env_file=None)
    )  # type: ignore[call-arg]
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO workspace (id, name, settings, created_at) VALUES (1, 'Old', '{}', 0)")
        )
        conn.execute(text("INSERT INTO api_key (workspace_id, kind, name, prefix, key_hash, created_at) "
                          "VALUES (1, 'api', 'k', 'ak_1234567', 'h', 0)"))  # fmt: skip
        conn.execute(text("INSERT INTO contact (id, workspace_id, email, score, traits, created_at, updated_at) "
                          "VALUES (1, 1, 'old@example.com', 0, '{}', 0, 0)"))  # fmt: skip
        conn.execute(text("INSERT INTO event (workspace_id, contact_id, type, name, message_id, properties, "
                          "timestamp, received_at) VALUES (1, 1, 'track', 'Old', 'm1', '{}', 0, 0)"))  # fmt: skip
    upgrade(engine)
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("workspace", "api_key", "contact", "event")}  # fmt: skip
        sandbox, role = conn.execute(text("SELECT w.sandbox, k.role FROM workspace w JOIN api_key k "
                                          "ON k.workspace_id = w.id")).one()  # fmt: skip
    engine.dispose()
    assert counts == {"workspace": 1, "api_key": 1, "contact": 1, "event": 1}
    assert (sandbox, role) == (0, "admin")  # a live workspace; a key from before roles is an admin


def test_upgrading_postgresql_puts_the_events_it_has_in_their_months(engine: Engine) -> None:
    """Migration 0033 on a PostgreSQL database with events: every event is kept, in the
    partition of its month, the duplicate check remembers them, and new ids follow on."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the events become a partitioned table on PostgreSQL only")
    name = f"{engine.url.database}_upgrade"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = engine.url.set(database=name).render_as_string(hide_password=False)
    old = make_engine(Settings(database_url=url, secret_key="x" * 12, _env_file=None))  # type: ignore[call-arg]
    try:
        upgrade(old, "0032")
        with old.begin() as conn:
            conn.execute(
                text("INSERT INTO workspace (id, name, settings, created_at) VALUES (1, 'Old', '{}', now())")
            )
            conn.execute(text("INSERT INTO contact (id, workspace_id, score, traits, created_at, updated_at) "
                              "VALUES (1, 1, 0, '{}', now(), now())"))  # fmt: skip
            conn.execute(text(
                "INSERT INTO event (workspace_id, contact_id, type, name, message_id, properties, timestamp, "
                "received_at) VALUES (1, 1, 'track', 'Old', 'm1', '{}', '2021-05-04T10:00:00Z', now()), "
                "(1, 1, 'track', 'Old', 'm2', '{}', '2021-07-01T00:00:00Z', now())"
            ))  # fmt: skip
        upgrade(old)
        with old.begin() as conn:
            placed = dict(conn.execute(text("SELECT message_id, tableoid::regclass::text FROM event")).all())
            remembered = set(conn.execute(text("SELECT message_id FROM event_message")).scalars())
            new_id = conn.execute(text(
                "INSERT INTO event (workspace_id, contact_id, type, name, message_id, properties, timestamp, "
                "received_at) VALUES (1, 1, 'track', 'New', 'm3', '{}', now(), now()) RETURNING id"
            )).scalar_one()  # fmt: skip
        assert placed == {"m1": "event_p202105", "m2": "event_p202107"}
        assert remembered == {"m1", "m2"}
        assert new_id == 3
    finally:
        old.dispose()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
