"""B1 — HTTP ingest: Segment ``/v1/batch`` and single ``/v1/track`` against a real server.

Every 200 must mean "stored": after each phase the bench waits until the server's processor
has emptied the ingest log (``drain_s``: the backlog the phase left, in seconds), and after
the run the events stored are counted and compared with the messages acknowledged.
Acknowledged and processed rates are reported side by side.
"""

from __future__ import annotations

import base64
import itertools
import signal
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
    console,
    cpu_seconds,
    cpus,
    database_url_or_default,
    percentile,
    self_cpu_seconds,
    workdir,
)
from kairos_bench.fake import Faker
from kairos_bench.loadgen import LoadResult, run_load
from kairos_bench.server import Server, running_server, tail

#: Stamped with a 10-digit request number in every messageId of a pre-built request.
PLACEHOLDER = b"%%REQNO%%%"
PEOPLE = 3000  # distinct people (userId + anonymousId) the traffic comes from
TEMPLATES = 64


@dataclass(frozen=True)
class Options:
    duration: float
    connections: int
    batch_size: int
    warmup: float
    py_spy: Path | None = None  # directory for flame graphs of the server, one per phase
    py_spy_format: str = "flamegraph"
    server_workers: int = 1  # HTTP processes (``serve --workers``)
    offered: float = 0.0  # events/s offered in the open-loop phase (0: none)
    processor_process: bool = False  # the ingest-log processor in a process of its own


@dataclass
class Phase:
    name: str
    messages_per_request: int
    load: LoadResult
    server_cpu: float = 0.0  # cores busy on average during the measured window
    client_cpu: float = 0.0
    wall_s: float = 0.0  # from the phase's first request to its last answer (warm-up included)
    visible: list[float] = field(default_factory=list)  # seconds from send to event stored
    drain_s: float = 0.0  # from the last answer until the ingest log was empty
    backlog: int = 0  # messages waiting in the ingest log when the last answer came


def run_ingest(
    options: Options, *, database_url: str | None, keep: bool, say: Callable[[str], None]
) -> dict[str, Any]:
    with workdir(keep) as tmp:
        url = database_url_or_default(database_url, tmp)
        say(f"scratch directory {tmp}, database {url.split('@')[-1]}")
        with running_server(
            url, tmp, workers=options.server_workers, processor_process=options.processor_process
        ) as server:
            say(f"server pid {server.pid} on {server.host}:{server.port}, workspace {server.workspace_id}")
            faker = Faker(seed=1)
            run_id = uuid.uuid4().hex[:8]
            phases = []
            for name, path, per_request in (
                ("batch", "/v1/batch", options.batch_size),
                ("single", "/v1/track", 1),
            ):
                templates = _templates(faker, server, path, per_request, f"{run_id}-{name[0]}")
                say(
                    f"{name}: {options.connections} connections, "
                    f"{options.warmup:g}s warm-up + {options.duration:g}s …"
                )
                started = time.perf_counter()
                phase = _phase(server, name, templates, per_request, options)
                phase.wall_s = time.perf_counter() - started
                phase.backlog, phase.drain_s = _drain(url)
                phases.append(phase)
            if options.offered > 0:
                templates = _templates(faker, server, "/v1/batch", options.batch_size, f"{run_id}-o")
                say(f"open loop: {options.offered:,.0f} events/s offered for {options.duration:g}s …")
                started = time.perf_counter()
                phase = _open_phase(server, url, templates, f"{run_id}-o", options)
                phase.wall_s = time.perf_counter() - started
                phase.backlog, phase.drain_s = _drain(url)
                phases.append(phase)
            stored, contacts = _count(url, server.workspace_id)
            if any(p.load.errors for p in phases):
                console.print(f"[red]server log (tail):[/red]\n{tail(server.log)}")
    return _figures(phases, stored, contacts, options, url)


def _templates(faker: Faker, server: Server, path: str, per_request: int, prefix: str) -> list[bytes]:
    """Pre-built HTTP requests; only ``PLACEHOLDER`` changes from one request to the next."""
    auth = base64.b64encode(f"{server.write_key}:".encode()).decode()
    now = datetime.now(UTC)
    out = []
    for _ in range(TEMPLATES if per_request > 1 else TEMPLATES * 8):
        messages = []
        for i in range(per_request):
            person = faker.active_person(PEOPLE)
            when = now - timedelta(seconds=faker.r.uniform(0, 5))
            identified = faker.r.random() < 0.7
            msg = faker.track(person, when, identified=identified)
            msg["messageId"] = f"{prefix}-{PLACEHOLDER.decode()}-{i:04d}"
            messages.append(msg)
        if per_request > 1:
            body: Any = {"batch": messages, "sentAt": now.isoformat().replace("+00:00", "Z")}
        else:
            body = messages[0]
        raw = orjson.dumps(body)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
            f"Authorization: Basic {auth}\r\nContent-Type: application/json\r\n"
            f"User-Agent: kairos-bench\r\nContent-Length: {len(raw)}\r\n\r\n"
        )
        out.append(head.encode() + raw)
    return out


def _phase(server: Server, name: str, templates: list[bytes], per_request: int, options: Options) -> Phase:
    counter = itertools.count()
    k = len(templates)

    def next_request() -> bytes:
        n = next(counter)
        return templates[n % k].replace(PLACEHOLDER, b"%010d" % n)

    marks: dict[str, tuple[float, float, float]] = {}
    profiler: list[subprocess.Popen[bytes]] = []

    def on_window(mark: str) -> None:
        marks[mark] = (time.perf_counter(), cpu_seconds(server.pid), self_cpu_seconds())
        if options.py_spy is not None:
            if mark == "start":
                fmt = options.py_spy_format
                suffix = {"flamegraph": "svg", "raw": "txt", "speedscope": "json"}[fmt]
                profiler.append(_start_py_spy(server.pid, options.py_spy / f"{name}.{suffix}", fmt))
            elif profiler:
                profiler[0].send_signal(signal.SIGINT)

    load = _run_async(
        run_load(
            server.host,
            server.port,
            next_request,
            connections=options.connections,
            warmup=options.warmup,
            duration=options.duration,
            on_window=on_window,
        )
    )
    for proc in profiler:
        proc.wait(timeout=60)
    phase = Phase(name, per_request, load)
    if "start" in marks and "stop" in marks:
        (t0, s0, c0), (t1, s1, c1) = marks["start"], marks["stop"]
        phase.server_cpu = (s1 - s0) / (t1 - t0)
        phase.client_cpu = (c1 - c0) / (t1 - t0)
    return phase


def _open_phase(server: Server, url: str, templates: list[bytes], prefix: str, options: Options) -> Phase:
    """Batches offered at ``options.offered`` events/s whatever the answers; a watcher polls
    the event table for the first message of each request: the time from its send until a
    read finds it stored is what a segment or journey waits for."""
    from sqlalchemy import bindparam, select

    from kairos.config import Settings
    from kairos.db.engine import make_engine
    from kairos.events.tables import event

    k = len(templates)
    sent: dict[str, float] = {}
    seen: list[float] = []
    lock = threading.Lock()
    done = threading.Event()

    def request_for(n: int) -> bytes:
        return templates[n % k].replace(PLACEHOLDER, b"%010d" % n)

    def on_send(n: int, at: float) -> None:
        with lock:
            sent[f"{prefix}-{n:010d}-0000"] = at

    def watch() -> None:
        engine = make_engine(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
        query = select(event.c.message_id).where(
            event.c.workspace_id == server.workspace_id,
            event.c.message_id.in_(bindparam("ids", expanding=True)),
        )
        try:
            while True:
                finished = done.is_set()
                with lock:
                    waiting = list(sent)
                for part in range(0, len(waiting), 500):
                    with engine.connect() as conn:
                        found = conn.execute(query, {"ids": waiting[part : part + 500]}).scalars().all()
                    now = time.perf_counter()
                    with lock:
                        for mid in found:
                            seen.append(now - sent.pop(mid))
                if finished and not sent:
                    return
                time.sleep(0.01)  # the poll's own granularity: ~10 ms is added to each figure
        finally:
            engine.dispose()

    watcher = threading.Thread(target=watch, name="bench-visibility")
    watcher.start()
    try:
        load = _run_async(
            run_load(
                server.host,
                server.port,
                lambda: b"",
                connections=max(options.connections, 64),
                warmup=options.warmup,
                duration=options.duration,
                rate=options.offered / options.batch_size,
                request_for=request_for,
                on_send=on_send,
            )
        )
    finally:
        done.set()
        watcher.join(timeout=600)
    phase = Phase("open", options.batch_size, load)
    phase.visible = sorted(seen)
    return phase


def _run_async(coro: Any) -> LoadResult:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        import asyncio

        return asyncio.run(coro)  # type: ignore[no-any-return]
    return uvloop.run(coro)  # type: ignore[no-any-return]


def _start_py_spy(pid: int, out: Path, fmt: str) -> subprocess.Popen[bytes]:
    out.parent.mkdir(parents=True, exist_ok=True)
    beside = Path(sys.executable).with_name("py-spy")
    exe = str(beside) if beside.exists() else "py-spy"
    try:
        return subprocess.Popen(
            [exe, "record", "--pid", str(pid), "--rate", "250", "--format", fmt, "--output", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise BenchError("py-spy is not installed (pip install py-spy)") from None


def _drain(url: str, timeout: float = 600.0) -> tuple[int, float]:
    """(messages pending in the ingest log now, seconds until it is empty)."""
    from kairos.config import Settings
    from kairos.db.engine import make_engine

    try:
        from kairos.events.log import pending
    except ImportError:  # a build from before the ingest log (an A/B run): nothing to wait for
        return 0, 0.0
    engine = make_engine(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
    start = time.perf_counter()
    try:
        backlog = -1
        while time.perf_counter() - start < timeout:
            with engine.connect() as conn:
                _, messages, _ = pending(conn)
            if backlog < 0:
                backlog = messages
            if messages == 0:
                return backlog, time.perf_counter() - start
            time.sleep(0.02)  # the server processes; the bench only watches
    finally:
        engine.dispose()
    raise BenchError(f"the ingest log did not drain within {timeout:g} s")


def _count(url: str, workspace_id: int) -> tuple[int, int]:
    from sqlalchemy import func, select

    from kairos.config import Settings
    from kairos.contacts.tables import contact
    from kairos.db.engine import make_engine
    from kairos.events.tables import event

    engine = make_engine(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
    try:
        with engine.connect() as conn:
            events = conn.execute(
                select(func.count()).select_from(event).where(event.c.workspace_id == workspace_id)
            ).scalar_one()
            contacts = conn.execute(
                select(func.count())
                .select_from(contact)
                .where(contact.c.workspace_id == workspace_id, contact.c.merged_into.is_(None))
            ).scalar_one()
    finally:
        engine.dispose()
    return int(events), int(contacts)


def _figures(phases: list[Phase], stored: int, contacts: int, options: Options, url: str) -> dict[str, Any]:
    acknowledged = sum(p.load.acknowledged * p.messages_per_request for p in phases)
    errors = sum(p.load.errors for p in phases)
    figures: dict[str, Any] = {
        "contacts": contacts,
        "events": stored,
        "cpus": cpus(),
        "database": url.partition(":")[0].partition("+")[0],
        "duration_s": options.duration,
        "connections": options.connections,
        "batch_size": options.batch_size,
        "server_workers": options.server_workers,
        "processor_process": options.processor_process,
    }
    for p in phases:
        lat = sorted(p.load.latencies)
        rps = p.load.requests / p.load.seconds
        if p.name in ("batch", "open"):
            figures[f"{p.name}_events_per_s"] = round(rps * p.messages_per_request, 1)
        if p.name == "open":
            figures["open_offered_events_per_s"] = options.offered
            figures["open_visible_p50_ms"] = round(percentile(p.visible, 50) * 1000, 1)
            figures["open_visible_p99_ms"] = round(percentile(p.visible, 99) * 1000, 1)
            figures["open_visible_max_ms"] = round((p.visible[-1] if p.visible else 0) * 1000, 1)
            figures["open_visible_probes"] = len(p.visible)
        figures[f"{p.name}_requests_per_s"] = round(rps, 1)
        figures[f"{p.name}_p50_ms"] = round(percentile(lat, 50) * 1000, 2)
        figures[f"{p.name}_p99_ms"] = round(percentile(lat, 99) * 1000, 2)
        figures[f"{p.name}_max_ms"] = round((lat[-1] if lat else 0) * 1000, 2)
        # everything the phase acknowledged (warm-up too) over the time to process it all
        processed = p.load.acknowledged * p.messages_per_request
        figures[f"{p.name}_processed_events_per_s"] = round(processed / (p.wall_s + p.drain_s), 1)
        figures[f"{p.name}_backlog_messages"] = p.backlog
        figures[f"{p.name}_drain_s"] = round(p.drain_s, 2)
        figures[f"{p.name}_server_cpu"] = round(p.server_cpu, 2)
        figures[f"{p.name}_client_cpu"] = round(p.client_cpu, 2)
    figures["errors"] = errors
    figures["acknowledged_messages"] = acknowledged
    figures["verified"] = stored == acknowledged
    figures["first_error"] = next((p.load.first_error for p in phases if p.load.first_error), "")
    return figures
