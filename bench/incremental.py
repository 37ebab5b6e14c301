"""B4 — incremental evaluation with the ten standard segments active.

**Throughput.** On a generated dataset (at its reference instant) the standard segments are
created and fully refreshed; then ``--changed`` contacts chosen at random each receive one
new event (the generator's mix: page views, product views, cart, checkout, orders, email
engagement), written like ingest writes them and queued with ``mark_changed``. The timed
part is the worker's own ``contact_changes`` job (``process_changes`` with the engine's
handlers: what changed for each contact, then the segments that depend on it), one
transaction per claimed batch, until the queue is empty: ``contacts_per_s``. A second phase
queues as many other contacts with no new event — a profile change, which the dependency
index sends to the segments on attributes — for ``profile_contacts_per_s``. With
``--verify`` every segment's stored members are compared with its query afterwards. The
events it added are deleted at the end (the memberships they moved stay; B3 and B4
recreate the segments anyway).

**Latency.** A separate small dataset whose reference instant is the wall clock now, its
standard segments created and refreshed, behind a real ``kairos serve`` (worker in-process,
or ``--separate-worker``: ``serve --no-worker`` plus a ``kairos worker`` process). Background
traffic of ``--rate`` events/s (``/v1/batch`` of 100 Segment ``track`` calls of dataset
contacts, open loop) runs throughout; probe contacts — not in segment 1, no product view and
no order in the last 7 days — first get two views of the popular product, then, one probe at
a time, the third view by ``/v1/track``: latency is from sending that request to the
``entered`` transition of segment 1 being visible to another connection (polled every
``--poll-ms``). ``p50_ms``/``p99_ms`` over the probes; a probe not seen within
``--probe-timeout`` seconds counts as ``missing`` and fails the run.
"""

from __future__ import annotations

import asyncio
import base64
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from kairos_bench.common import (
    BenchError,
    cpu_seconds,
    cpus,
    free_port,
    kairos_env,
    percentile,
    workdir,
)
from kairos_bench.fake import Faker
from kairos_bench.generate import POPULAR_PRODUCT, Generated, Spec, generate, make_bench_engine
from kairos_bench.segments import (
    clear_membership,
    create_standard_segments,
    full_refresh,
    mark_refreshed,
    open_dataset,
    segment_row,
)
from kairos_bench.server import HOST, _stop, _wait_healthy, tail

MESSAGE_PREFIX = "b4-"


@dataclass(frozen=True)
class Options:
    changed: int = 50_000
    verify: bool = True
    latency: bool = True
    rate: float = 1000.0  # background events per second
    duration: float = 30.0  # seconds of probes
    probe_rate: float = 5.0  # probes per second
    warmup: float = 5.0
    poll_ms: float = 10.0
    probe_timeout: float = 30.0
    separate_worker: bool = False
    latency_contacts: int = 100_000
    latency_events: int = 2_000_000
    seed: int = 1


def run_incremental(
    options: Options,
    *,
    database_url: str | None,
    path: Path | None,
    workspace_id: int | None,
    contacts: int,
    events: int,
    keep: bool,
    say: Callable[[str], None],
) -> dict[str, Any]:
    figures: dict[str, Any] = {"cpus": cpus()}
    with workdir(keep) as tmp:
        engine, gen, url = open_dataset(
            database_url=database_url, path=path, workspace_id=workspace_id, tmp=tmp,
            contacts=contacts, events=events, say=say,
        )  # fmt: skip
        try:
            figures |= {"contacts": gen.spec.contacts, "events": gen.spec.events,
                        "database": url.partition(":")[0].partition("+")[0]}  # fmt: skip
            figures |= _throughput(engine, gen, options, say)
        finally:
            engine.dispose()
        if options.latency:
            figures |= _latency(options, tmp, say)
    return figures


# --- throughput ------------------------------------------------------------------------------


def setup_segments(
    engine: Any, gen: Generated, now: datetime, say: Callable[[str], None]
) -> tuple[dict[int, int], dict[int, str]]:
    """Create the standard segments and refresh each fully, as the worker would on creation."""
    created = create_standard_segments(engine, gen.workspace_id, now)
    failed = dict(created.failed)
    t0 = time.perf_counter()
    for number, sid in created.ids.items():
        clear_membership(engine, sid)
        try:
            full_refresh(engine, sid, now)
        except Exception as exc:  # reported, the others still run
            failed[number] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
    ids = {n: sid for n, sid in created.ids.items() if n not in failed}
    mark_refreshed(engine, list(ids.values()), now)
    say(f"{len(ids)} standard segments created and refreshed in {time.perf_counter() - t0:.1f}s"
        + (f"; failed: {sorted(failed)}" if failed else ""))  # fmt: skip
    return ids, failed


def _throughput(engine: Any, gen: Generated, options: Options, say: Callable[[str], None]) -> dict[str, Any]:
    now = gen.spec.reference
    say(
        f"workspace {gen.workspace_id}: {gen.spec.contacts:,} contacts, {gen.spec.events:,} events; now {now}"
    )
    ids, failed = setup_segments(engine, gen, now, say)
    chosen = _sample_contacts(engine, gen, 2 * options.changed, options.seed)
    with_events, profile_only = chosen[: options.changed], chosen[options.changed :]
    out: dict[str, Any] = {
        "changed": len(with_events),
        "segments": len(ids),
        "failed": {str(n): w for n, w in failed.items()},
    }
    try:
        at = now - timedelta(seconds=1)
        _add_events(engine, gen, with_events, at, options.seed)
        seconds, passes, cpu = _drain(engine, gen.workspace_id, now, with_events, at)
        out["contacts_per_s"] = round(len(with_events) / seconds, 1)
        out["events_phase_seconds"] = round(seconds, 3)
        out["events_phase_cpu_seconds"] = round(cpu, 3)
        out["batches"] = passes
        say(f"{len(with_events):,} contacts with a new event each: {seconds:.2f}s in {passes} batches "
            f"→ {out['contacts_per_s']:,.0f} contacts/s")  # fmt: skip
        seconds, passes, cpu = _drain(engine, gen.workspace_id, now, profile_only, at)
        out["profile_contacts_per_s"] = round(len(profile_only) / seconds, 1)
        out["profile_phase_seconds"] = round(seconds, 3)
        out["profile_phase_cpu_seconds"] = round(cpu, 3)
        say(f"{len(profile_only):,} contacts with a profile change: {seconds:.2f}s → "
            f"{out['profile_contacts_per_s']:,.0f} contacts/s")  # fmt: skip
        if options.verify:
            out["verified"] = _verify(engine, ids, now, say)
    finally:
        _remove_events(engine, gen)
    return out


def _sample_contacts(engine: Any, gen: Generated, n: int, seed: int) -> list[int]:
    from sqlalchemy import func, select

    from kairos.contacts.tables import contact

    with engine.connect() as conn:
        first = conn.execute(
            select(func.min(contact.c.id)).where(contact.c.workspace_id == gen.workspace_id)
        ).scalar_one()
    n = min(n, gen.spec.contacts)
    return [first + i for i in random.Random(seed).sample(range(gen.spec.contacts), n)]


def _add_events(engine: Any, gen: Generated, contact_ids: list[int], at: datetime, seed: int) -> None:
    """One event per contact, the generator's mix, stored and queued as ingest does (untimed)."""
    from kairos.contacts.service import mark_changed
    from kairos.db.dialect import FastStatement, time_converter
    from kairos.events.tables import event

    columns = ("workspace_id", "contact_id", "type", "name", "message_id", "user_id", "properties",
               "timestamp", "original_timestamp", "received_at")  # fmt: skip
    insert = FastStatement.insert(event, columns)
    faker = Faker(seed + 4)
    r = faker.r
    run = uuid.uuid4().hex[:8]
    with engine.begin() as conn:
        t = time_converter(conn)(at)
        first = min(contact_ids)
        rows = []
        for k, cid in enumerate(contact_ids):
            person = cid - first
            msg = faker.page(person, at) if r.random() < 0.25 else faker.track(person, at)
            name = msg.get("event") or msg.get("name")
            props = orjson.dumps(msg["properties"]).decode()
            message_id = f"{MESSAGE_PREFIX}{run}-{k}"
            rows.append(
                (gen.workspace_id, cid, msg["type"], name, message_id, f"user-{person}", props, t, t, t)
            )
        for i in range(0, len(rows), 10_000):
            insert.execute(conn, rows[i : i + 10_000])
        mark_changed(conn, gen.workspace_id, contact_ids, at)


def _drain(
    engine: Any, workspace_id: int, now: datetime, contact_ids: list[int], at: datetime
) -> tuple[float, int, float]:
    """Queue ``contact_ids`` (if not queued yet) and time the worker's changed-contacts job
    until the queue is empty: (seconds, batches, CPU seconds of this process — SQLite runs
    in it — which a busy shared machine disturbs less than the wall clock)."""
    from kairos.contacts.service import mark_changed

    with engine.begin() as conn:
        mark_changed(conn, workspace_id, contact_ids, at)
    job = _changes_job()
    passes = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while True:
        with engine.begin() as conn:
            done = job(conn, now)
        if not done:
            break
        passes += 1
    return time.perf_counter() - t0, passes, time.process_time() - c0


def _changes_job() -> Callable[[Any, datetime], int]:
    """The worker's own changed-contacts job (whatever handlers the engine runs today)."""
    from kairos.worker.loop import JOBS
    from kairos.workspaces.clocks import EVERY

    jobs = dict(JOBS)
    if "contact_changes" in jobs:
        changes = jobs["contact_changes"]
        return lambda conn, now: changes(conn, now, EVERY)
    from kairos.contacts.changes import process_changes  # pragma: no cover - older engines
    from kairos.segments.membership import reevaluate_contacts

    return lambda conn, now: process_changes(conn, now, [reevaluate_contacts])


def _verify(engine: Any, ids: dict[int, int], now: datetime, say: Callable[[str], None]) -> bool:
    """Each segment's stored members equal its members query now."""
    from sqlalchemy import select

    from kairos.contacts.attributes import attribute_types
    from kairos.segments.compiler import Context, members_query, parse_definition
    from kairos.segments.tables import segment_membership

    ok = True
    with engine.connect() as conn:
        for number, sid in ids.items():
            seg = segment_row(conn, sid)
            ctx = Context(now, attribute_types(conn, seg.workspace_id), conn.dialect.name)
            want = set(
                conn.execute(members_query(seg.workspace_id, parse_definition(seg.definition), ctx)).scalars()
            )
            have = set(
                conn.execute(
                    select(segment_membership.c.contact_id).where(segment_membership.c.segment_id == sid)
                ).scalars()
            )
            if want != have:
                ok = False
                say(f"segment {number}: {len(have - want)} stored members do not match, "
                    f"{len(want - have)} matching contacts are not stored")  # fmt: skip
    return ok


def _remove_events(engine: Any, gen: Generated) -> None:
    from sqlalchemy import delete

    from kairos.contacts.tables import contact_change
    from kairos.events.tables import event

    with engine.begin() as conn:
        conn.execute(
            delete(event).where(
                event.c.workspace_id == gen.workspace_id,
                event.c.message_id >= MESSAGE_PREFIX,
                event.c.message_id < MESSAGE_PREFIX[:-1] + chr(ord(MESSAGE_PREFIX[-1]) + 1),
            )
        )
        conn.execute(delete(contact_change).where(contact_change.c.workspace_id == gen.workspace_id))


# --- latency ---------------------------------------------------------------------------------


@dataclass
class Probes:
    segment_id: int
    contacts: list[tuple[int, str]]  # (contact id, userId)
    sent: dict[int, float] = field(default_factory=dict)  # contact id → perf_counter at send
    seen: dict[int, float] = field(default_factory=dict)  # contact id → perf_counter when visible


def _latency(options: Options, tmp: Path, say: Callable[[str], None]) -> dict[str, Any]:
    from kairos.db.migrate import upgrade

    url = f"sqlite:///{tmp / 'latency.db'}"
    now = datetime.now(UTC).replace(microsecond=0)
    spec = Spec(options.latency_contacts, options.latency_events, 90, options.seed, reference=now)
    say(f"latency: generating {spec.contacts:,} contacts and {spec.events:,} events up to now ({now}) …")
    engine = make_bench_engine(url)
    try:
        upgrade(engine)
        gen, _ = generate(engine, spec, say=lambda _text: None)
        ids, _failed = setup_segments(engine, gen, datetime.now(UTC), say)
        if 1 not in ids:
            raise BenchError("latency needs standard segment 1")
        n_probes = int(options.duration * options.probe_rate) + 1
        probes = Probes(ids[1], _probe_contacts(engine, gen, ids[1], n_probes))
        if len(probes.contacts) < n_probes:
            raise BenchError(f"only {len(probes.contacts)} contacts can serve as probes ({n_probes} needed)")
        mark_refreshed(engine, list(ids.values()), datetime.now(UTC))  # the 5-minute re-check starts now
    finally:
        engine.dispose()
    assert gen.write_key is not None
    with _Server(url, tmp, separate_worker=options.separate_worker) as (port, pids):
        mode = "separate worker" if options.separate_worker else "worker in-process"
        say(
            f"server on {HOST}:{port} ({mode}); {options.rate:g} events/s background, "
            f"{options.probe_rate:g} probes/s for {options.duration:g}s"
        )
        cpu0, t0 = sum(cpu_seconds(p) for p in pids), time.perf_counter()
        result = asyncio.run(_drive(port, url, gen, probes, options))
        server_cpu = (sum(cpu_seconds(p) for p in pids) - cpu0) / (time.perf_counter() - t0)
    lat = sorted((probes.seen[c] - probes.sent[c]) * 1000 for c in probes.seen if c in probes.sent)
    missing = len(probes.sent) - len(lat)
    return {
        "p50_ms": round(percentile(lat, 50), 1),
        "p99_ms": round(percentile(lat, 99), 1),
        "max_ms": round(lat[-1], 1) if lat else 0.0,
        "mean_ms": round(sum(lat) / len(lat), 1) if lat else 0.0,
        "probes": len(probes.sent),
        "missing": missing,
        "background_events_per_s": round(result["background_events"] / result["seconds"], 1),
        "background_errors": result["errors"],
        "background_p99_ms": round(percentile(sorted(result["ack_ms"]), 99), 1),
        "server_cpu": round(server_cpu, 2),
        "latency_contacts": spec.contacts,
        "latency_events": spec.events,
        "worker": "separate" if options.separate_worker else "in-process",
    }


def _probe_contacts(engine: Any, gen: Generated, segment_1: int, n: int) -> list[tuple[int, str]]:
    """Contacts a third view of the popular product would put in segment 1 (for segment 1
    they have none, no order either, in the last 7 days), spread over the ids."""
    from sqlalchemy import and_, exists, not_, select

    from kairos.contacts.tables import contact
    from kairos.events.tables import event
    from kairos.segments.tables import segment_membership

    since = datetime.now(UTC) - timedelta(days=8)
    with engine.connect() as conn:
        rows = conn.execute(
            select(contact.c.id, contact.c.external_id)
            .where(
                contact.c.workspace_id == gen.workspace_id,
                not_(
                    exists().where(
                        and_(
                            segment_membership.c.segment_id == segment_1,
                            segment_membership.c.contact_id == contact.c.id,
                        )
                    )
                ),
                not_(
                    exists().where(
                        and_(
                            event.c.contact_id == contact.c.id,
                            event.c.name.in_(["Product Viewed", "Order Completed"]),
                            event.c.timestamp >= since,
                        )
                    )
                ),
            )
            .order_by(contact.c.id)
        ).all()
    random.Random(7).shuffle(rows)
    return [(int(r.id), str(r.external_id)) for r in rows[:n]]


class _Server:
    """``kairos serve`` (worker in-process), or ``serve --no-worker`` and ``kairos worker``."""

    def __init__(self, url: str, directory: Path, *, separate_worker: bool) -> None:
        self.url, self.directory, self.separate = url, directory, separate_worker
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> tuple[int, list[int]]:
        port = free_port(HOST)
        env = kairos_env(self.url)
        serve = [sys.executable, "-m", "kairos", "serve", "--host", HOST, "--port", str(port)]
        commands = [
            ([*serve, "--no-worker"], "server.log"),
            ([sys.executable, "-m", "kairos", "worker"], "worker.log"),
        ]
        if not self.separate:
            commands = [(serve, "server.log")]
        for command, log_name in commands:
            with (self.directory / log_name).open("wb") as log:
                self.procs.append(subprocess.Popen(command, env=env, cwd=self.directory, stdout=log,
                                                   stderr=subprocess.STDOUT))  # fmt: skip
        try:
            _wait_healthy(self.procs[0], port, self.directory / "server.log", 60)
        except BaseException:
            self.__exit__()
            raise
        return port, [p.pid for p in self.procs]

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            _stop(proc)
        if exc and exc[0] is not None:
            for name in ("server.log", "worker.log"):
                text = tail(self.directory / name)
                if text:
                    print(f"--- {name} (tail) ---\n{text}", file=sys.stderr)


async def _drive(port: int, url: str, gen: Generated, probes: Probes, options: Options) -> dict[str, Any]:
    import httpx

    auth = "Basic " + base64.b64encode(f"{gen.write_key}:".encode()).decode()
    headers = {"Authorization": auth, "Content-Type": "application/json"}
    faker = Faker(options.seed + 9)
    run = uuid.uuid4().hex[:8]
    counter = iter(range(10**12))
    stats: dict[str, Any] = {"background_events": 0, "errors": 0, "ack_ms": [], "seconds": 0.0}
    base = f"http://{HOST}:{port}"
    n_people = gen.spec.contacts
    reserved = {uid for _, uid in probes.contacts}  # background traffic leaves the probes alone

    def stamp() -> str:
        return datetime.now(UTC).isoformat().replace("+00:00", "Z")

    def view(user_id: str) -> dict[str, Any]:
        return {"type": "track", "userId": user_id, "event": "Product Viewed", "timestamp": stamp(),
                "messageId": f"{MESSAGE_PREFIX}{run}-{next(counter)}",
                "properties": {"product_id": POPULAR_PRODUCT, "category": "c01", "price": 84.19}}  # fmt: skip

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:

        async def post(path: str, body: Any) -> float:
            t0 = time.perf_counter()
            response = await client.post(path, content=orjson.dumps(body))
            if response.status_code != 200:
                stats["errors"] += 1
                stats.setdefault("first_error", f"{response.status_code} {response.text[:200]}")
            return (time.perf_counter() - t0) * 1000

        async def background(stop: asyncio.Event) -> None:
            per_request = 100
            interval = per_request / options.rate
            tasks: set[asyncio.Task[None]] = set()
            next_at = time.perf_counter()

            async def one() -> None:
                batch = []
                while len(batch) < per_request:
                    person = faker.active_person(n_people)
                    if f"user-{person}" in reserved:
                        continue
                    msg = faker.track(person, datetime.now(UTC))
                    msg.pop("anonymousId", None)
                    msg["messageId"] = f"{MESSAGE_PREFIX}{run}-{next(counter)}"
                    batch.append(msg)
                ms = await post("/v1/batch", {"batch": batch})
                stats["ack_ms"].append(ms)
                stats["background_events"] += per_request

            while not stop.is_set():
                task = asyncio.create_task(one())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            if tasks:
                await asyncio.gather(*tasks)

        poll_stop = threading.Event()
        poller = threading.Thread(
            target=_poll, args=(url, probes, options.poll_ms / 1000, poll_stop), daemon=True
        )
        poller.start()
        stop = asyncio.Event()
        t_start = time.perf_counter()
        bg = asyncio.create_task(background(stop))
        # prime: two views of the product for every probe contact
        primes = [view(uid) for _, uid in probes.contacts for _ in range(2)]
        for i in range(0, len(primes), 100):
            await post("/v1/batch", {"batch": primes[i : i + 100]})
        await asyncio.sleep(options.warmup)
        interval = 1 / options.probe_rate
        next_at = time.perf_counter()
        for cid, uid in probes.contacts[: int(options.duration * options.probe_rate)]:
            probes.sent[cid] = time.perf_counter()
            await post("/v1/track", view(uid))
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        stop.set()
        await bg
        stats["seconds"] = time.perf_counter() - t_start
        deadline = time.perf_counter() + options.probe_timeout
        while len(probes.seen) < len(probes.sent) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        poll_stop.set()
        poller.join(timeout=10)
    if stats["errors"]:
        raise BenchError(f"{stats['errors']} ingest requests failed; first: {stats.get('first_error')}")
    return stats


def _poll(url: str, probes: Probes, every: float, stop: threading.Event) -> None:
    """Watch ``membership_transition`` for the probes entering segment 1, from a connection of
    its own (a reader: it never takes SQLite's write lock)."""
    from sqlalchemy import select

    from kairos.db.engine import reading
    from kairos.segments.tables import membership_transition as mt

    engine = make_bench_engine(url)
    last = 0
    try:
        with reading(engine) as conn:
            while not stop.is_set():
                rows = conn.execute(
                    select(mt.c.id, mt.c.contact_id).where(
                        mt.c.id > last, mt.c.segment_id == probes.segment_id, mt.c.kind == "entered"
                    )
                ).all()
                conn.rollback()  # a new read snapshot next time
                at = time.perf_counter()
                for row in rows:
                    last = max(last, row.id)
                    if row.contact_id in probes.sent and row.contact_id not in probes.seen:
                        probes.seen[row.contact_id] = at
                stop.wait(every)
    finally:
        engine.dispose()
