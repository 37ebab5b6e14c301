"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    BigInteger,
    Connection,
    Interval,
    String,
    Table,
    any_,
    bindparam,
    cast,
    func,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement

from kairos.db.types import UTCDateTime, to_micros

T = TypeVar("T")


def shifted(col: Any, delta: timedelta, dialect: str) -> ColumnElement[Any]:
    """``col + delta`` for an instant column or expression (epoch microseconds on SQLite,
    an interval on PostgreSQL)."""
    if dialect == "sqlite":
        micros = delta // timedelta(microseconds=1)
        return type_coerce(type_coerce(col, BigInteger) + micros, UTCDateTime)
    out: ColumnElement[Any] = col + bindparam(None, delta, type_=Interval)
    return out


def day_number(col: Any, dialect: str) -> ColumnElement[int]:
    """The UTC day of an instant column as whole days since 1970-01-01 (``epoch_day``):
    far cheaper to group by than a formatted date."""
    if dialect == "sqlite":
        return type_coerce(col, BigInteger) // 86_400_000_000
    return cast(func.floor(func.extract("epoch", col) / 86_400), BigInteger)


def in_ids(column: Any, ids: Iterable[int], dialect: str) -> ColumnElement[bool]:
    """``column IN ids`` with every id in ONE bound parameter: a JSON array read by
    ``json_each`` on SQLite, an array with ``= ANY`` on PostgreSQL.

    ``column.in_(ids)`` renders one parameter per id on every execution; on the
    changed-contacts pass (5,000 contacts, a dozen statements) naming and binding them cost
    more than the statements themselves, and SQLite limits a statement's parameters, so the
    ids had to go in chunks of ``IN_CHUNK``. Both databases drive the lookup from the list
    (SQLite: a LIST SUBQUERY probing the column's index), as they do for a literal list.
    """
    values = [int(i) for i in ids]
    if dialect == "postgresql":
        out: ColumnElement[bool] = column == any_(bindparam(None, values, type_=postgresql.ARRAY(BigInteger)))
        return out
    listed = func.json_each(bindparam(None, orjson.dumps(values).decode())).table_valued("value")
    return column.in_(select(listed.c.value))  # type: ignore[no-any-return]


def in_list(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """``column IN :name`` for a prebuilt statement of one dialect, the whole list of strings
    in ONE bound parameter named ``name`` (see ``in_ids``); bind ``list_param(values,
    dialect)``. Nothing is rendered per value, and no chunking for SQLite's parameter limit."""
    if dialect == "postgresql":
        out: ColumnElement[bool] = column == any_(bindparam(name, type_=postgresql.ARRAY(String)))
        return out
    listed = func.json_each(bindparam(name, type_=String)).table_valued("value")
    return column.in_(select(listed.c.value))  # type: ignore[no-any-return]


def each_string(name: str) -> Any:
    """PostgreSQL: the strings bound as ONE array parameter ``name``, as a table ``v(value)``
    to drive a join from (``list_param`` gives the value to bind).

    ``column = ANY(:name)`` is planned well only while PostgreSQL knows the table: psycopg
    prepares a statement run five times, PostgreSQL then plans it once for any array
    (a generic plan), and with a table it has no statistics for (new, or grown since the
    last ANALYZE) that plan scans every row of the workspace and compares it with every
    value of the array — 100 ms for 2,000 identifiers against 3,000 rows, and growing with
    the table. Joined from ``unnest`` to a ``LATERAL`` probe that cannot be flattened
    (``OFFSET 0``), each value is one index look-up whatever the plan."""
    return (
        func.unnest(bindparam(name, type_=postgresql.ARRAY(String)))
        .table_valued("value")
        .render_derived(name="v")
    )


def list_param(values: Iterable[str], dialect: str) -> Any:
    """The value to bind for an ``in_list`` parameter."""
    return list(values) if dialect == "postgresql" else orjson.dumps(list(values)).decode()


class no_index(ColumnElement[Any]):
    """A column SQLite must not pick an index for (``+column``, its documented way to steer
    the join order); the column itself elsewhere."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(no_index)
def _no_index(element: no_index, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


@compiles(no_index, "sqlite")
def _no_index_sqlite(element: no_index, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.column, **kw))


#: Bound parameters per IN list: far below SQLite's 32,766 and PostgreSQL's 65,535.
IN_CHUNK = 1000


def insert_on_conflict(conn: Connection, table: Table) -> Any:
    """An INSERT that supports ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunks(values: Iterable[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    batch: list[T] = []
    for v in values:
        batch.append(v)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class FastStatement:
    """A statement sent straight to the driver's ``executemany``, for the hottest paths.

    SQLAlchemy's per-row parameter processing (type decorators, JSON serialisers) costs more
    than SQLite's insert itself. Here the statement is built by SQLAlchemy and compiled once
    per dialect — values stay bound parameters — and rows arrive as tuples already in driver
    form, ordered like ``names``: use ``time_converter`` and ``json_converter``.
    """

    def __init__(
        self, build: Callable[[Connection], Any], names: Sequence[str], copy_into: Table | None = None
    ) -> None:
        self._build = build
        self.names = tuple(names)
        self._compiled: dict[str, tuple[str, tuple[int, ...] | None]] = {}
        self._copy_into = copy_into

    @classmethod
    def insert(cls, table: Table, columns: Sequence[str], *, copy: bool = False) -> FastStatement:
        """``copy``: on PostgreSQL the rows go by ``COPY … FROM STDIN`` — one statement for
        the lot, where ``executemany`` runs one INSERT per row (a fifth of the time for the
        ingest processor's event rows). For plain inserts only: no conflict clause, no
        RETURNING; triggers and foreign keys are checked as for an INSERT."""
        return cls(
            lambda _conn: table.insert().values({c: bindparam(c) for c in columns}),
            columns,
            table if copy else None,
        )

    def _statement(self, conn: Connection) -> tuple[str, tuple[int, ...] | None]:
        name = conn.dialect.name
        cached = self._compiled.get(name)
        if cached is None:
            compiled = self._build(conn).compile(dialect=conn.dialect)
            order = None
            if compiled.positional:
                index = {n: i for i, n in enumerate(self.names)}
                order = tuple(index[p] for p in compiled.positiontup or ())
            cached = (compiled.string, order)
            self._compiled[name] = cached
        return cached

    def execute(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self._copy_into is not None and conn.dialect.name == "postgresql":
            self._copy(conn, self._copy_into, rows)
            return
        sql, order = self._statement(conn)
        if order is None:
            params: Any = [dict(zip(self.names, row, strict=True)) for row in rows]
        elif order == tuple(range(len(self.names))):
            params = rows
        elif len(order) < 2:
            params = [tuple(row[i] for i in order) for row in rows]
        else:  # reordered in C: a generator per row cost as much as SQLite's binding (B5)
            pick = itemgetter(*order)
            params = [pick(row) for row in rows]
        conn.exec_driver_sql(sql, params)

    def _copy(self, conn: Connection, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        quote = conn.dialect.identifier_preparer.quote
        sql = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in self.names)}) FROM STDIN"
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()


def allocate_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """Reserve ``count`` primary keys, so new rows can go in one executemany with their ids
    known (RETURNING with ordered results runs row by row on SQLite).

    SQLite: every write transaction here holds the write lock from BEGIN IMMEDIATE, so
    ``max(id)`` cannot move under us. PostgreSQL: the column's own sequence.
    """
    if count <= 0:
        return []
    if conn.dialect.name == "sqlite":
        start = conn.execute(select(func.max(table.c.id))).scalar() or 0
        return list(range(start + 1, start + count + 1))
    sequence = func.pg_get_serial_sequence(table.name, "id")
    series = func.generate_series(1, count).table_valued("n")
    return list(conn.execute(select(func.nextval(sequence)).select_from(series)).scalars())


def time_converter(conn: Connection) -> Callable[[datetime | None], Any]:
    """How instants go to the driver: epoch microseconds on SQLite (see ``UTCDateTime``)."""
    if conn.dialect.name == "sqlite":
        return _micros_or_none
    return _identity


def json_converter(conn: Connection) -> Callable[[Any], str | None]:
    return _json_or_none


def _micros_or_none(value: datetime | None) -> int | None:
    return None if value is None else to_micros(value)


def _identity(value: Any) -> Any:
    return value


def _json_or_none(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()
