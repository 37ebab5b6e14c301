"""Database faults: which errors mean "the database cannot take writes now, retry later",
which are conflicts between concurrent transactions, and the readiness probe.

``classify`` is shared by the management API (503 ``unavailable`` with ``Retry-After``),
the worker loop (errors logged and retried with backoff) and ``/health/ready``.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Literal

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kairos.errors import Unavailable

Fault = Literal["unavailable", "conflict"]

#: PostgreSQL: serialization failure, deadlock detected, lock not available (lock_timeout)
_PG_CONFLICT = {"40001", "40P01", "55P03"}
#: PostgreSQL classes: connection exception, insufficient resources (disk full, out of
#: memory, too many connections), operator intervention (shutdown, cannot connect now,
#: statement timeout), system error (I/O)
_PG_UNAVAILABLE_CLASSES = {"08", "53", "57", "58"}
#: read-only transaction (a standby, or ``default_transaction_read_only``)
_PG_UNAVAILABLE = {"25006"}
#: SQLite primary result codes: BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN, PROTOCOL
_SQLITE_UNAVAILABLE = {5, 6, 8, 10, 13, 14, 15}


def classify(exc: BaseException) -> Fault | None:
    """``unavailable`` (the database cannot be reached or written: connection lost or
    refused, disk full, read-only, I/O error, locked for too long), ``conflict`` (a
    concurrent transaction won; retrying at once is right), or None (anything else: a bug
    or bad data, not a state of the database)."""
    if isinstance(exc, PoolTimeout):  # every pooled connection busy for pool_timeout
        return "unavailable"
    if not isinstance(exc, DBAPIError):
        return None
    if exc.connection_invalidated:
        return "unavailable"
    orig: Any = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        if sqlstate in _PG_CONFLICT:
            return "conflict"
        if sqlstate in _PG_UNAVAILABLE or sqlstate[:2] in _PG_UNAVAILABLE_CLASSES:
            return "unavailable"
        return None
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return "unavailable" if code & 0xFF in _SQLITE_UNAVAILABLE else None
    # a driver error without a code: psycopg's "connection refused", a closed socket …
    return "unavailable" if isinstance(exc, OperationalError) else None


def check_writable(engine: Engine, timeout: float = 2.0) -> None:
    """The readiness probe: raise ``Unavailable`` unless the database accepts a write
    transaction now (within ``timeout`` seconds). Nothing is written.

    SQLite: ``BEGIN IMMEDIATE`` (takes the write lock, fails on a read-only or unopenable
    file) then ROLLBACK, on the driver connection with a short busy timeout, so a probe
    never queues behind writers for long. PostgreSQL: an UPDATE of no row (refused on a
    standby or in a read-only transaction), rolled back."""
    try:
        if engine.dialect.name == "sqlite":
            _probe_sqlite(engine, timeout)
        else:
            with engine.connect() as conn:  # the transaction rolls back when it closes
                ms = str(int(timeout * 1000))
                # set_config(…, true) is SET LOCAL with a bound value
                conn.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": ms})
                conn.execute(text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": ms})
                # a write that changes no row: refused on a standby or when transactions
                # are read-only, waits (up to the timeouts) if the table is locked
                conn.execute(text("UPDATE workspace SET name = name WHERE false"))
    except (DBAPIError, PoolTimeout) as exc:  # unmigrated, unreachable, read-only …: not ready
        message = f"the database cannot be written: {reason(exc)}"
        raise Unavailable(message, code="database_unavailable") from exc


def _probe_sqlite(engine: Engine, timeout: float) -> None:
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        driver.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")  # an int we formatted
        try:
            driver.execute("BEGIN IMMEDIATE")
            driver.execute("ROLLBACK")
        finally:
            driver.execute("PRAGMA busy_timeout = 30000")  # as db/engine.py sets it
    except sqlite3.Error as exc:
        raw.invalidate()  # whatever state the driver connection is in, do not reuse it
        # wrapped as SQLAlchemy would, so ``classify`` reads the driver's code
        raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
    finally:
        raw.close()


def reason(exc: BaseException) -> str:
    """The driver's message, first line (SQLAlchemy's would carry the statement's parameters)."""
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
