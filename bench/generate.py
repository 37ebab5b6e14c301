"""The B3/B4 dataset: ``kairos bench generate`` writes a realistic workspace straight into a
migrated Kairos database.

Everything comes from the seed and a fixed reference instant (``REFERENCE``), so the same
options give the same rows. Contacts reuse ``Faker.contact_row`` (the B2 CSV's people);
events are sessions in time order over the ``days`` before the reference:

- activity is skewed: a session's contact is drawn with weight ~ (rank + c)^(-5/7) (the top
  1 % of contacts make ~19 % of the sessions, the most active one ~2k events); a fifth of the
  contacts are dormant for the whole window, another fifth stop at some day of it, and nobody
  acts before signing up;
- sessions follow the local time-of-day rhythm of the contact's time zone, a weekly rhythm
  and a slow growth over the window;
- a web session lands on pages (``type`` ``page``, ``name`` the page name — ``Finance`` for
  ``/finance`` — and ``properties.path``), views products (Zipf-like over ~10k products in 50
  categories, often the same one again), and a share goes on to ``Product Added`` →
  ``Checkout Started`` → ``Order Completed`` (``order_id``, ``product_id``, ``category``,
  ``price``, ``items``, ``revenue``, sometimes ``coupon``); an email session is ``Email
  Opened``, sometimes ``Email Link Clicked`` and a visit.

With ``--signal`` (``Spec.signal``), a known conversion signal is planted on top, from a
random stream of its own (everything above stays byte-identical): a tenth of the active
contacts are "in the market" — they land on the ``Pricing`` page about six times over the
window (``page`` events) and perform ``Plan Upgraded`` (``plan``, ``revenue``) about once
every 20 active days; the others see the pricing page 0.3 times on average and upgrade
once every ~4 years. Two pricing views or more thus mark the likely converters, which the
predictive bench (``kairos bench predict``) must find.

Rows go in set-based: contacts and ``user_id`` identities by executemany, events generated
by worker processes (one day of sessions at a time, each day from its own seeded stream, so
the output does not depend on the number of processes) and written by the main process in
batches of 50,000 — executemany on SQLite, COPY on PostgreSQL — with the event table's
secondary indexes dropped during the load and rebuilt after it, then ``ANALYZE``.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import queue
import random
import re
import resource
import time
from array import array
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from kairos_bench.common import BenchError, cpus
from kairos_bench.dataset import ATTRIBUTE_TYPES as TYPED
from kairos_bench.fake import N_CATEGORIES, N_PRODUCTS, PAGES, Faker

#: The instant every generated dataset ends at (events lie in the ``days`` before it), and
#: the ``now`` B3 evaluates segments at.
REFERENCE = datetime(2026, 11, 24, tzinfo=UTC)
WORKSPACE_PREFIX = "bench-generate"
BATCH = 50_000
DAY_US = 86_400_000_000

#: The product of segment 1 (the most popular) and the categories of segment 10.
POPULAR_PRODUCT = "p00001"
CATEGORY_BOUGHT = "c01"
CATEGORY_NEVER = "c02"

_PAGE_WEIGHTS = (30, 25, 6, 3, 7, 10, 12, 7)  # PAGES: / /products /cart /checkout /finance /blog …
#: Sessions per local hour of the day (0 … 23): quiet nights, a lunch bump, an evening peak.
_HOUR_WEIGHTS = (3, 2, 1, 1, 1, 2, 4, 7, 9, 10, 10, 11, 12, 11, 10, 10, 10, 11, 13, 15, 16, 14, 10, 6)
#: A session's contact has rank n·(V^3.5 - B^3.5)/(1 - B^3.5), V uniform in [B, 1): weight ∝
#: (rank + c)^(-5/7). The top 1 % of contacts have ~19 % of the sessions, the most active one
#: ~0.01 % (~2k events at 20 events per contact), whatever the size.
_ACTIVITY_EXPONENT = 3.5
_ACTIVITY_FLOOR = 0.1
_EVENT_COLUMNS = (
    "workspace_id", "contact_id", "type", "name", "message_id", "user_id", "anonymous_id",
    "properties", "timestamp", "original_timestamp", "received_at",
)  # fmt: skip
_TIME_COLUMNS = (8, 9, 10)
_CONTACT_COLUMNS = (
    "id", "workspace_id", "external_id", "email", "phone", "first_name", "last_name", "timezone",
    "score", "traits", "created_at", "updated_at",
)  # fmt: skip
_CONTACT_TIME_COLUMNS = (10, 11)
_IDENTITY_COLUMNS = ("workspace_id", "kind", "value", "contact_id", "created_at")
#: The contact traits, declared as custom attributes: typed as B2 does, the rest strings.
TRAITS = ("country", "city", "age", "gender", "education", "asset_level", "signup_date", "birthday",
          "acquisition_source")  # fmt: skip
ATTRIBUTE_TYPES = {name: TYPED.get(name, "string") for name in TRAITS}
_NAME = re.compile(r"^" + WORKSPACE_PREFIX + r" (.*)$")


#: The planted conversion signal (``Spec.signal``): share of active contacts in the market,
#: their pricing views and upgrades per day, and the others'.
SIGNAL_GOAL = "Plan Upgraded"
SIGNAL_PAGE = "Pricing"
_SIGNAL_HOT = 0.1
_SIGNAL_VIEWS = (6 / 90, 0.3 / 90)  # hot, cold
_SIGNAL_UPGRADES = (1 / 20, 1 / 1500)


@dataclass(frozen=True)
class Spec:
    contacts: int
    events: int
    days: int
    seed: int
    reference: datetime = REFERENCE
    signal: bool = False  # plant the conversion signal (extra events, see the module doc)

    @property
    def workspace_name(self) -> str:
        ref = self.reference.isoformat().replace("+00:00", "Z")
        return (
            f"{WORKSPACE_PREFIX} seed={self.seed} contacts={self.contacts} events={self.events} "
            f"days={self.days} reference={ref}" + (" signal=pricing" if self.signal else "")
        )


@dataclass(frozen=True)
class Generated:
    """A generated workspace (what B3/B4 need to know about it)."""

    workspace_id: int
    spec: Spec
    write_key: str | None = None  # only known to the process that created the workspace


def find_generated(conn: Any, workspace_id: int | None = None) -> Generated:
    """The generated workspace of a database (the latest, or ``workspace_id``), from its name."""
    from sqlalchemy import select

    from kairos.workspaces.tables import workspace

    stmt = select(workspace.c.id, workspace.c.name).where(workspace.c.name.like(WORKSPACE_PREFIX + " %"))
    if workspace_id is not None:
        stmt = stmt.where(workspace.c.id == workspace_id)
    row = conn.execute(stmt.order_by(workspace.c.id.desc()).limit(1)).first()
    if row is None:
        raise BenchError("no workspace made by `kairos bench generate` in this database")
    match = _NAME.match(row.name)
    fields = dict(part.split("=", 1) for part in match.group(1).split()) if match else {}
    try:
        spec = Spec(
            contacts=int(fields["contacts"]),
            events=int(fields["events"]),
            days=int(fields["days"]),
            seed=int(fields["seed"]),
            reference=datetime.fromisoformat(fields["reference"].replace("Z", "+00:00")),
            signal=fields.get("signal") == "pricing",
        )
    except (KeyError, ValueError):
        raise BenchError(f"cannot read the generator's parameters from workspace name {row.name!r}") from None
    return Generated(int(row.id), spec)


# --- the command --------------------------------------------------------------------------


def default_path(contacts: int, events: int, seed: int, signal: bool = False) -> Path:
    suffix = "-signal" if signal else ""
    return Path("bench-data") / f"kairos-{_short(contacts)}-{_short(events)}-s{seed}{suffix}.db"


def run_generate(
    spec: Spec,
    *,
    database_url: str | None,
    path: Path | None,
    replace: bool,
    processes: int | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    from kairos.db.migrate import upgrade

    if database_url is None:
        path = path or default_path(spec.contacts, spec.events, spec.seed, spec.signal)
        if path.exists():
            if not replace:
                raise BenchError(f"{path} exists: use --replace, or pass it to B3/B4 with --path")
            for suffix in ("", "-wal", "-shm", "-writelock"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{path.resolve()}"
    engine = make_bench_engine(database_url)
    try:
        say(f"database {database_url.split('@')[-1]}; reference instant {_iso(spec.reference)}")
        upgrade(engine)
        gen, figures = generate(engine, spec, processes=processes, say=say)
    finally:
        engine.dispose()
    size = _database_mb(database_url)
    return {
        "contacts": spec.contacts,
        "events": spec.events,
        "cpus": cpus(),
        "database": database_url.partition(":")[0].partition("+")[0],
        "workspace_id": gen.workspace_id,
        "reference": _iso(spec.reference),
        "days": spec.days,
        "seed": spec.seed,
        **figures,
        **({"database_mb": size} if size is not None else {}),
    }


def make_bench_engine(database_url: str) -> Any:
    from kairos.config import Settings
    from kairos.db.engine import make_engine

    return make_engine(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]


def generate(
    engine: Any, spec: Spec, *, processes: int | None = None, say: Callable[[str], None]
) -> tuple[Generated, dict[str, Any]]:
    """Create the workspace and write its contacts and events; returns it and the timings."""
    from sqlalchemy import func, select

    from kairos.clock import FixedClock
    from kairos.contacts.attributes import create_attribute
    from kairos.contacts.tables import contact
    from kairos.db.dialect import allocate_ids
    from kairos.workspaces.service import create_workspace

    if spec.contacts < 1 or spec.events < 0 or spec.days < 1:
        raise BenchError("need at least 1 contact and 1 day, and no negative event count")
    dialect = engine.dialect.name
    t_start = time.perf_counter()
    clock = FixedClock(spec.reference)
    with engine.begin() as conn:
        ws = create_workspace(conn, clock, spec.workspace_name)
        for name, kind in ATTRIBUTE_TYPES.items():
            create_attribute(conn, clock, ws.id, name=name, type=kind)
        if dialect == "sqlite":
            first_id = (conn.execute(select(func.max(contact.c.id))).scalar() or 0) + 1
        else:
            ids = allocate_ids(conn, contact, spec.contacts)
            first_id = ids[0]
            if ids[-1] - ids[0] != spec.contacts - 1:
                raise BenchError("the contact id sequence did not give consecutive ids; retry")
            del ids
    gen = Generated(ws.id, spec, ws.write_key)
    figures: dict[str, Any] = {}

    with _Loader(engine) as loader:
        say(f"workspace {ws.id}: {spec.contacts:,} contacts …")
        t0 = time.perf_counter()
        people = _write_contacts(loader, spec, ws.id, first_id, say)
        figures["contacts_seconds"] = round(time.perf_counter() - t0, 2)

        loader.ensure_months(spec.reference - timedelta(days=spec.days + 1), spec.reference)
        dropped = ", ".join(loader.drop_event_indexes())
        say(f"{spec.events:,} events over {spec.days} days (indexes dropped meanwhile: {dropped}) …")
        t0 = time.perf_counter()
        _write_events(loader, spec, ws.id, first_id, people, processes, say)
        figures["events_seconds"] = round(time.perf_counter() - t0, 2)
        figures["events_load_rows_per_s"] = round(spec.events / max(figures["events_seconds"], 1e-9), 1)
        if spec.signal:
            figures["signal_events"] = _write_signal(loader, spec, ws.id, first_id, people)
            say(f"planted conversion signal: {figures['signal_events']:,} {SIGNAL_PAGE!r} and "
                f"{SIGNAL_GOAL!r} events")

        t0 = time.perf_counter()
        loader.remember_message_ids(ws.id)
        figures["message_ids_seconds"] = round(time.perf_counter() - t0, 2)

        t0 = time.perf_counter()
        for name in loader.restore_event_indexes():
            say(f"index {name} rebuilt ({time.perf_counter() - t0:.0f}s so far)")
        figures["index_seconds"] = round(time.perf_counter() - t0, 2)

        t0 = time.perf_counter()
        loader.analyze()
        figures["analyze_seconds"] = round(time.perf_counter() - t0, 2)
    seconds = time.perf_counter() - t_start
    figures["seconds"] = round(seconds, 2)
    figures["rows_per_s"] = round((2 * spec.contacts + spec.events) / seconds, 1)  # contacts + identities
    figures["peak_rss_mb"] = _peak_rss_mb(resource.RUSAGE_SELF)
    figures["generator_peak_rss_mb"] = _peak_rss_mb(resource.RUSAGE_CHILDREN)
    return gen, figures


def _peak_rss_mb(who: int) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # kilobytes on Linux


# --- writing ----------------------------------------------------------------------------


class _Loader:
    """One connection for the whole load, tuned for it (and restored after)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._indexes: list[tuple[str, str]] = []

    def __enter__(self) -> _Loader:
        self.conn = self.engine.connect()
        if self.dialect == "sqlite":
            raw = self.conn.connection.dbapi_connection
            # Outside any transaction (PRAGMA foreign_keys is a no-op inside one). Nothing else
            # writes this workspace while it is generated; a crash leaves a scratch database.
            for pragma in (
                "foreign_keys=OFF",
                "synchronous=OFF",
                "cache_size=-131072",  # also the sorter's memory per thread when indexes are built
                "temp_store=FILE",
                "threads=2",
                "wal_autocheckpoint=10000",
            ):
                raw.execute(f"PRAGMA {pragma}")
        else:
            self.conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            self.conn.commit()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.conn.in_transaction():
                self.conn.rollback()
            for _ in self.restore_event_indexes():  # after a failed load: the schema stays whole
                pass
            if self.dialect == "sqlite":
                raw = self.conn.connection.dbapi_connection
                for pragma in ("foreign_keys=ON", "synchronous=NORMAL", "cache_size=-65536",
                               "temp_store=MEMORY", "wal_autocheckpoint=1000"):  # fmt: skip
                    raw.execute(f"PRAGMA {pragma}")
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            self.conn.close()

    # rows arrive in driver form for SQLite: instants as epoch microseconds, JSON as text
    def insert(
        self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], times: tuple[int, ...]
    ) -> None:
        if not rows:
            return
        if self.dialect == "sqlite":
            marks = ", ".join("?" * len(columns))
            self.conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            return
        rows = [_pg_row(row, times) for row in rows]
        cursor = self.conn.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def begin(self) -> None:
        self.conn.begin()

    def commit(self) -> None:
        self.conn.commit()

    def drop_event_indexes(self) -> list[str]:
        """Drop the event table's secondary indexes (read from the database, so whatever the
        migrations declare is rebuilt exactly); ``restore_event_indexes`` puts them back."""
        if self.dialect == "sqlite":
            found = self.conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event' "
                "AND sql IS NOT NULL ORDER BY name"
            ).all()
        else:
            found = self.conn.exec_driver_sql(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'event' "
                "AND i.schemaname = current_schema() AND i.indexname NOT IN (SELECT conname FROM "
                "pg_constraint WHERE conrelid = 'event'::regclass) ORDER BY i.indexname"
            ).all()
        self._indexes = [(name, sql) for name, sql in found]
        for name, _ in self._indexes:
            self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
        self.conn.commit()
        return [name for name, _ in self._indexes]

    def ensure_months(self, first: datetime, last: datetime) -> None:
        """PostgreSQL: the monthly partitions of the events' range (else they would all go
        to the default partition)."""
        from kairos.events.partitions import ensure_months, month_of

        ensure_months(self.conn, month_of(first), month_of(last))
        self.conn.commit()

    def remember_message_ids(self, workspace_id: int) -> None:
        """The duplicate check's memory of the events written straight into ``event``."""
        copy = (
            "INSERT INTO event_message (message_id, workspace_id, timestamp) "
            "SELECT message_id, workspace_id, timestamp FROM event WHERE workspace_id = "
        )
        if self.dialect == "sqlite":
            self.conn.exec_driver_sql(copy + "?", (workspace_id,))
        else:
            self.conn.exec_driver_sql(copy + "%(ws)s", {"ws": workspace_id})
        self.conn.commit()

    def restore_event_indexes(self) -> Iterator[str]:
        while self._indexes:
            name, sql = self._indexes[0]
            self.conn.exec_driver_sql(sql)
            self.conn.commit()
            self._indexes.pop(0)
            yield name

    def analyze(self) -> None:
        if self.dialect == "sqlite":
            self.conn.connection.dbapi_connection.execute("ANALYZE")
        else:
            self.conn.exec_driver_sql("ANALYZE")
            self.conn.commit()


def _pg_row(row: tuple[Any, ...], times: tuple[int, ...]) -> tuple[Any, ...]:
    out = list(row)
    for i in times:
        if out[i] is not None:
            out[i] = _EPOCH + timedelta(microseconds=out[i])
    return tuple(out)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass
class People:
    """What the event generator needs to know about each contact (index = contact - first id)."""

    signup_day: array[int]  # day of the window the contact signed up (negative: before it)
    last_day: array[int]  # last day of the window the contact is active (-1: dormant throughout)
    utc_offset: array[int]  # seconds east of UTC of the contact's time zone


def _write_contacts(
    loader: _Loader, spec: Spec, ws_id: int, first_id: int, say: Callable[[str], None]
) -> People:
    n = spec.contacts
    faker = Faker(spec.seed)
    r = random.Random(spec.seed * 7919 + 17)  # churn, scores, signup times: apart from Faker's stream
    today = (spec.reference - timedelta(microseconds=1)).date()
    window_start = spec.reference - timedelta(days=spec.days)
    window_us = _micros(window_start)
    activity = Activity(n)
    offsets: dict[str, int] = {}
    people = People(array("i"), array("i"), array("i"))
    dumps = orjson.dumps
    contacts: list[tuple[Any, ...]] = []
    identities: list[tuple[Any, ...]] = []
    loader.begin()
    for i in range(n):
        row = faker.contact_row(i, today)
        signup = date.fromisoformat(row["signup_date"])
        created = (
            _micros(datetime(signup.year, signup.month, signup.day, tzinfo=UTC))
            + r.randrange(86_400) * 1_000_000
        )
        created = min(created, _micros(spec.reference) - 1_000_000)
        tz = row["timezone"]
        if tz not in offsets:
            offset = ZoneInfo(tz).utcoffset(spec.reference.replace(tzinfo=None))
            offsets[tz] = int(offset.total_seconds()) if offset is not None else 0
        people.signup_day.append(math.floor((created - window_us) / DAY_US))
        churn = r.random()
        people.last_day.append(-1 if churn < 0.2 else r.randrange(spec.days) if churn < 0.4 else spec.days)
        people.utc_offset.append(offsets[tz])
        # score: a broad spread, higher for the most active contacts
        boost = 30 * (1 - activity.rank(i) / n) ** 12
        score = round(min(100.0, max(0.0, r.betavariate(2, 3) * 100 + boost)), 1)
        traits = {k: row[k] for k in TRAITS}
        cid = first_id + i
        contacts.append((cid, ws_id, row["external_id"], row["email"], row["phone"], row["first_name"],
                         row["last_name"], tz, score, dumps(traits).decode(), created, created))  # fmt: skip
        identities.append((ws_id, "user_id", row["external_id"], cid, created))
        if len(contacts) >= BATCH:
            loader.insert("contact", _CONTACT_COLUMNS, contacts, _CONTACT_TIME_COLUMNS)
            loader.insert("identity", _IDENTITY_COLUMNS, identities, (4,))
            contacts, identities = [], []
            if (i + 1) % (BATCH * 4) == 0:
                loader.commit()
                loader.begin()
                say(f"  {i + 1:,} contacts")
    loader.insert("contact", _CONTACT_COLUMNS, contacts, _CONTACT_TIME_COLUMNS)
    loader.insert("identity", _IDENTITY_COLUMNS, identities, (4,))
    loader.commit()
    return people


class Activity:
    """Activity rank ↔ contact index: a bijection, so activity does not follow ids."""

    def __init__(self, n: int) -> None:
        self.n = n
        mul = 1_000_003
        while math.gcd(mul, n) != 1:
            mul += 2
        self.mul = mul % n if n > 1 else 0
        self.inverse = pow(self.mul, -1, n) if n > 1 else 0

    def index(self, rank: int) -> int:
        return rank * self.mul % self.n if self.n > 1 else 0

    def rank(self, index: int) -> int:
        return index * self.inverse % self.n if self.n > 1 else 0


def _write_events(
    loader: _Loader,
    spec: Spec,
    ws_id: int,
    first_id: int,
    people: People,
    processes: int | None,
    say: Callable[[str], None],
) -> None:
    if spec.events == 0:
        return
    k = processes or max(1, min(cpus() - 1, 3))
    ctx = mp.get_context("spawn")
    queues = [ctx.Queue(maxsize=6) for _ in range(k)]
    args = (spec, ws_id, first_id, people)
    workers = [
        ctx.Process(target=_event_worker, args=(w, k, *args, queues[w]), daemon=True) for w in range(k)
    ]
    for p in workers:
        p.start()
    written = 0
    step = max(spec.events // 10, 1)
    next_report = step
    try:
        for day in range(spec.days):
            q, proc = queues[day % k], workers[day % k]
            loader.begin()
            while True:
                try:
                    batch = q.get(timeout=2)
                except queue.Empty:
                    if proc.exitcode is not None:
                        raise BenchError(f"event generator process exited with {proc.exitcode}") from None
                    continue
                if batch is None:
                    break
                loader.insert("event", _EVENT_COLUMNS, batch, _TIME_COLUMNS)
                written += len(batch)
            loader.commit()
            if written >= next_report:
                say(f"  {written:,} events (day {day + 1} of {spec.days})")
                next_report += step
    finally:
        for p in workers:
            if p.is_alive():
                p.terminate()
            p.join(timeout=10)
    if written != spec.events:
        raise BenchError(f"wrote {written:,} events instead of {spec.events:,}")


def _event_worker(w: int, k: int, spec: Spec, ws_id: int, first_id: int, people: People, out: Any) -> None:
    days = EventDays(spec, ws_id, first_id, people)
    for day in range(w, spec.days, k):
        rows = days.rows(day)
        for i in range(0, len(rows), BATCH):
            out.put(rows[i : i + BATCH])
        out.put(None)


def _write_signal(loader: _Loader, spec: Spec, ws_id: int, first_id: int, people: People) -> int:
    """The planted conversion signal (module doc): Poisson processes of pricing views and
    upgrades over each active contact's active days, from a stream of their own."""
    r = random.Random(spec.seed * 104_729 + 31)
    start = _micros(spec.reference - timedelta(days=spec.days))
    end = _micros(spec.reference)
    pricing = orjson.dumps({"path": "/pricing", "url": "https://shop.example.com/pricing",
                            "title": SIGNAL_PAGE}).decode()  # fmt: skip
    upgrade = orjson.dumps({"plan": "pro", "revenue": 49.0}).decode()
    rows: list[tuple[Any, ...]] = []
    written = 0
    loader.begin()
    for i in range(spec.contacts):
        first, last = max(people.signup_day[i], 0), min(people.last_day[i], spec.days - 1)
        hot = r.random() < _SIGNAL_HOT
        if last < first:
            continue
        span = (last - first + 1) * DAY_US
        for tag, name, kind, props, rates in (
            ("v", SIGNAL_PAGE, "page", pricing, _SIGNAL_VIEWS),
            ("u", SIGNAL_GOAL, "track", upgrade, _SIGNAL_UPGRADES),
        ):
            rate = rates[0] if hot else rates[1]
            at = 0.0
            j = 0
            while (at := at + r.expovariate(rate) * DAY_US) < span:
                t = start + first * DAY_US + int(at)
                if t >= end:
                    break
                rows.append((ws_id, first_id + i, kind, name, f"sig{spec.seed}-{i}-{tag}{j}", f"user-{i}",
                             f"anon-{i:08x}", props, t, t, t + 50_000))  # fmt: skip
                j += 1
        if len(rows) >= BATCH:
            loader.insert("event", _EVENT_COLUMNS, rows, _TIME_COLUMNS)
            written += len(rows)
            rows = []
    loader.insert("event", _EVENT_COLUMNS, rows, _TIME_COLUMNS)
    loader.commit()
    return written + len(rows)


def day_budgets(spec: Spec) -> list[int]:
    """Events per day: a weekly rhythm (quieter weekends) and 25 % growth over the window."""
    start = spec.reference - timedelta(days=spec.days)
    weights = [
        (1 + 0.25 * d / spec.days) * (0.85 if (start + timedelta(days=d)).weekday() >= 5 else 1.0)
        for d in range(spec.days)
    ]
    total = sum(weights)
    budgets = [int(spec.events * w / total) for w in weights]
    budgets[-1] += spec.events - sum(budgets)
    return budgets


class EventDays:
    """Generates one day of sessions at a time (rows in driver form, sorted by timestamp)."""

    def __init__(self, spec: Spec, ws_id: int, first_id: int, people: People) -> None:
        self.spec, self.ws_id, self.first_id, self.people = spec, ws_id, first_id, people
        self.activity = Activity(spec.contacts)
        self.budgets = day_budgets(spec)
        self.start_us = _micros(spec.reference - timedelta(days=spec.days))
        self.end_us = _micros(spec.reference)
        self.product_cum = _cumulative([1 / p for p in range(1, N_PRODUCTS + 1)])
        self.page_cum = _cumulative(list(_PAGE_WEIGHTS))
        self.hour_cum = _cumulative(list(_HOUR_WEIGHTS))
        dumps = orjson.dumps
        self.pages = [(p.strip("/").title() or "Home",
                       dumps({"path": p, "url": f"https://shop.example.com{p}",
                              "title": p.strip("/").title() or "Home"}).decode()) for p in PAGES]  # fmt: skip
        self.products = [_product(p) for p in range(1, N_PRODUCTS + 1)]
        self.viewed = [dumps(item).decode() for item in self.products]
        self.added = [[dumps({**item, "quantity": q}).decode() for q in (1, 2, 3)] for item in self.products]
        self.opened = [
            dumps({"campaign_id": f"cmp-{c}", "subject": f"Newsletter {c}"}).decode() for c in range(40)
        ]
        self.clicked = [
            dumps({"campaign_id": f"cmp-{c}", "url": "https://shop.example.com/products"}).decode()
            for c in range(40)
        ]
        self.searched = [
            dumps({"query": q}).decode() for q in ("shoes", "red dress", "laptop", "coffee", "gift")
        ]

    def rows(self, day: int) -> list[tuple[Any, ...]]:
        spec = self.spec
        rand = random.Random(spec.seed * 1_000_003 + day).random
        n = spec.contacts
        signup, last, utc_offset = self.people.signup_day, self.people.last_day, self.people.utc_offset
        index_of, session_events = self.activity.index, self.session
        hour_cum = self.hour_cum
        h_total = hour_cum[-1]
        ws, first_id, end_us = self.ws_id, self.first_id, self.end_us
        day_start = self.start_us + day * DAY_US
        budget = self.budgets[day]
        out: list[tuple[Any, ...]] = []
        append = out.append
        session = 0
        misses = 0
        exponent, floor, span = _ACTIVITY_EXPONENT, _ACTIVITY_FLOOR, 1 - _ACTIVITY_FLOOR
        low = floor**exponent
        high = 1 - low
        while len(out) < budget:
            i = index_of(int(n * ((floor + span * rand()) ** exponent - low) / high))
            if not signup[i] <= day <= last[i]:
                misses += 1
                if misses > 1000 * (session + 1):  # nobody is active on this day
                    break
                continue
            session += 1
            second = bisect(hour_cum, rand() * h_total) * 3600 + int(rand() * 3600) - utc_offset[i]
            start = day_start + (second % 86_400) * 1_000_000
            cid = first_id + i
            uid, aid = f"user-{i}", f"anon-{i:08x}"
            prefix = f"g{spec.seed}-{day}-{session}-"
            lag = 40_000 + int(rand() * 900_000)
            for j, (kind, name, props, offset) in enumerate(
                session_events(rand, f"o{spec.seed}-{day}-{session}")
            ):
                t = start + offset
                if t >= end_us:
                    break
                append((ws, cid, kind, name, f"{prefix}{j}", uid, aid, props, t, t, t + lag))
        del out[budget:]
        if len(out) < budget:  # only when no contact is active on this day at all
            raise BenchError(f"day {day}: no active contact to generate events for")
        out.sort(key=itemgetter(8))
        return out

    def session(self, rand: Callable[[], float], order_id: str) -> list[tuple[str, str, str, int]]:
        """One visit: (type, name, properties JSON, microseconds after its start) per event."""
        events: list[tuple[str, str, str, int]] = []
        emit = events.append
        t = 0
        pages, page_cum, g_total = self.pages, self.page_cum, self.page_cum[-1]
        if rand() < 0.13:  # an email: opened, sometimes clicked through to the shop
            campaign = int(rand() * 40)
            emit(("track", "Email Opened", self.opened[campaign], t))
            if rand() >= 0.35:
                return events
            t += int(5 + rand() * 600) * 1_000_000
            emit(("track", "Email Link Clicked", self.clicked[campaign], t))
            t += 2_000_000
        name, props = pages[bisect(page_cum, rand() * g_total)]
        emit(("page", name, props, t))
        while rand() < 0.35:
            t += int(5 + rand() * 90) * 1_000_000
            name, props = pages[bisect(page_cum, rand() * g_total)]
            emit(("page", name, props, t))
        if rand() < 0.1:
            t += int(5 + rand() * 30) * 1_000_000
            emit(("track", "Products Searched", self.searched[int(rand() * 5)], t))
        if rand() >= 0.72:
            return events
        product_cum = self.product_cum
        p_total, n_products = product_cum[-1], len(product_cum) - 1
        seen: list[int] = []
        while True:
            if seen and rand() < 0.25:
                p = seen[int(rand() * len(seen))]  # back to a product already seen
            else:
                p = min(bisect(product_cum, rand() * p_total), n_products)
            seen.append(p)
            t += int(5 + rand() * 120) * 1_000_000
            emit(("track", "Product Viewed", self.viewed[p], t))
            if len(seen) >= 12 or rand() >= 0.55:
                break
        if rand() >= 0.3:
            return events
        p = seen[int(rand() * len(seen))]
        quantity = 1 + int(rand() * rand() * 3)
        t += int(10 + rand() * 120) * 1_000_000
        emit(("track", "Product Added", self.added[p][quantity - 1], t))
        if rand() >= 0.55:
            return events
        item = self.products[p]
        revenue = round(item["price"] * quantity, 2)
        t += int(20 + rand() * 300) * 1_000_000
        checkout = {**item, "items": quantity, "revenue": revenue}
        emit(("track", "Checkout Started", orjson.dumps(checkout).decode(), t))
        if rand() >= 0.6:
            return events
        order: dict[str, Any] = {"order_id": order_id, **item, "items": quantity}
        if rand() < 0.2:
            order["coupon"] = "WELCOME10"
            revenue = round(revenue * 0.9, 2)
        order["revenue"] = revenue
        t += int(30 + rand() * 240) * 1_000_000
        emit(("track", "Order Completed", orjson.dumps(order).decode(), t))
        return events


def _product(p: int) -> dict[str, Any]:
    return {
        "product_id": f"p{p:05d}",
        "category": f"c{p % N_CATEGORIES:02d}",
        "price": round(5 + (p * 7919 % 20000) / 100, 2),
    }


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _short(n: int) -> str:
    for unit, size in (("m", 1_000_000), ("k", 1_000)):
        if n >= size and n % (size // 10) == 0:
            text = f"{n / size:g}"
            return f"{text}{unit}"
    return str(n)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _database_mb(url: str) -> float | None:
    scheme, sep, path = url.partition(":///")
    if not (sep and scheme.startswith("sqlite")):
        return None
    try:
        return round(Path(path).stat().st_size / 1e6, 1)
    except OSError:
        return None
