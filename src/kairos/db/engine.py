"""Engine creation. SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` transactions."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, make_url
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
        _create_private_file(url)
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
        # Kairos's queries are index-driven and short: JIT compilation, which PostgreSQL
        # starts on cost estimates alone, cost reports 0.1-0.5 s for nothing (docs/benchmarks.md)
        connect_args={"options": "-c jit=off"},
    )


def _create_private_file(url: str) -> None:
    """Create a new SQLite database file with mode 0600 before SQLite opens it: it holds
    personal data, and SQLite gives its ``-wal`` and ``-shm`` files the mode of the database
    file. An existing file keeps its mode (a warning says when others can read it)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = os.stat(database).st_mode & 0o777
        if mode & 0o077:
            log.warning(
                "database file %s has mode %o: others on this machine can read personal data "
                "(chmod 600 it and its -wal and -shm files)",
                database,
                mode,
            )
        return
    except OSError:  # e.g. no such directory: SQLite reports it when it opens the file
        return
    os.close(fd)


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

    gate = _WriteGate(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front; readers (see ``reading``) stay concurrent.
        if conn.get_execution_options().get("kairos_readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            gate.acquire(conn.connection.dbapi_connection)
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _raw_id(conn: Any) -> int:
    """The driver connection's identity, whether given it or the pool's proxy for it."""
    return id(getattr(conn, "dbapi_connection", None) or conn)


class _WriteGate:
    """Queues SQLite writers on a kernel lock instead of SQLite's busy handler.

    A writer that finds the database locked sleeps in SQLite's busy handler for fixed steps
    (up to 100 ms) and polls again, so writers in several processes (``serve --workers``,
    an import beside the server) waste most of their time asleep. Here every write
    transaction first takes ``flock`` on ``<database>-writelock`` through a descriptor of
    its own connection: a waiting writer wakes the moment the lock is released, and the
    kernel releases it if a process dies. The lock is released after COMMIT or ROLLBACK.
    """

    def __init__(self, engine: Engine) -> None:
        database = engine.url.database
        self.path = None if not database or database == ":memory:" else f"{database}-writelock"
        self._fds: dict[int, int] = {}
        self._held: set[int] = set()
        if self.path is None:
            return
        event.listen(engine, "connect", self._open)
        event.listen(engine, "close", self._close)
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_conn: Any) -> None:
            try:
                commit(dbapi_conn)
            finally:
                self.release(dbapi_conn)

        def do_rollback(dbapi_conn: Any) -> None:
            try:
                rollback(dbapi_conn)
            finally:
                self.release(dbapi_conn)

        dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]

    def _open(self, dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        assert self.path is not None
        self._fds[_raw_id(dbapi_conn)] = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def _close(self, dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        key = _raw_id(dbapi_conn)
        fd = self._fds.pop(key, None)
        self._held.discard(key)
        if fd is not None:
            os.close(fd)  # closing the descriptor also releases its lock

    def acquire(self, dbapi_conn: Any) -> None:
        key = _raw_id(dbapi_conn)
        fd = self._fds.get(key)
        if fd is not None and key not in self._held:
            fcntl.flock(fd, fcntl.LOCK_EX)  # blocks without holding the GIL
            self._held.add(key)

    def release(self, dbapi_conn: Any) -> None:
        key = _raw_id(dbapi_conn)
        if key in self._held:
            self._held.discard(key)
            fcntl.flock(self._fds[key], fcntl.LOCK_UN)


def reading(engine: Engine) -> Connection:
    """A connection for read-only work: on SQLite it does not take the write lock."""
    return engine.connect().execution_options(kairos_readonly=True)


#: rows a bulk load must have written before the planner's statistics are refreshed
ANALYZE_AFTER = 10_000


def refresh_statistics(engine: Engine, tables: Sequence[str]) -> None:
    """After a bulk load: refresh the query planner's statistics of ``tables``.

    PostgreSQL's autovacuum analyses a table once 10 % of it changed, a minute or more after
    the fact; until then the planner still sees the table as it was (empty, for a first
    import) and picks plans for that size — sequential scans where an index would answer.
    SQLite never gathers statistics by itself. ``ANALYZE`` here reads a sample (PostgreSQL:
    30,000 rows per table; SQLite: ``analysis_limit``), so it costs about a second at 20M
    events, once per import."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit=2000")
        for name in tables:
            conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(name)}")


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
