"""Engine creation. SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` transactions."""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import ConnectionPoolEntry

from kairos.config import Settings

log = logging.getLogger(__name__)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(settings: Settings, *, background_checkpoints: bool = False) -> Engine:
    """``background_checkpoints`` (SQLite, long-running servers): committing connections do
    not checkpoint the WAL themselves; a ``WalCheckpointer`` thread must then run."""
    url = settings.database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            pool_size=settings.db_pool_size,
            max_overflow=20,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        _configure_sqlite(engine, settings.sqlite_synchronous, autocheckpoint=not background_checkpoints)
        return engine
    return create_engine(
        url,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        pool_size=settings.db_pool_size,
        max_overflow=20,
        pool_pre_ping=True,
    )


def _configure_sqlite(engine: Engine, synchronous: str, *, autocheckpoint: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is
        # DEFERRED, and a deferred transaction that later writes can fail with SQLITE_BUSY
        # without waiting: the busy handler cannot help a read lock being upgraded).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")  # value from a Literal setting
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA mmap_size=268435456")
        cur.execute("PRAGMA journal_size_limit=67108864")
        if not autocheckpoint:
            cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front; readers (see ``reading``) stay concurrent.
        if conn.get_execution_options().get("kairos_readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def reading(engine: Engine) -> Connection:
    """A connection for read-only work: on SQLite it does not take the write lock."""
    return engine.connect().execution_options(kairos_readonly=True)


class WalCheckpointer:
    """Checkpoints SQLite's WAL from a thread of its own.

    By default the connection whose commit crosses 1,000 WAL pages copies them back into the
    database file and fsyncs it, inside that commit — on the ingest path. Here a PASSIVE
    checkpoint (it never waits for readers or writers) runs every ``interval`` seconds
    instead; SQLite releases the GIL while it works, so it can use another core.
    """

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self._engine = engine
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._engine.dialect.name != "sqlite" or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="kairos-wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.checkpoint()

    def checkpoint(self) -> None:
        if self._engine.dialect.name != "sqlite":
            return
        try:
            # On the driver connection, in autocommit: a checkpoint cannot run inside the
            # transaction SQLAlchemy would begin.
            raw = self._engine.raw_connection()
            try:
                raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # type: ignore[union-attr]
            finally:
                raw.close()
        except Exception:  # a failed checkpoint is retried on the next tick
            log.warning("WAL checkpoint failed", exc_info=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.checkpoint()
