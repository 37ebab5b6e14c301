"""B7: end to end — a tracked event → journey trigger → email accepted by an SMTP sink:
latency p50/p99.

Setup (untimed): a fresh database (SQLite in a scratch directory, or ``--database-url``
migrated with a new workspace) with an SMTP channel pointing at the sink, a transactional
email template (HTML, a tracked link, the open pixel), and a published journey::

    trigger: event "Signed Up" → send email (transactional) → end

The SMTP sink (``kairos_bench.smtp_sink.SmtpSink``) runs in a thread of this process; a
subclass replaces its ``last`` deque — which the sink appends to as each message's data
completes — by one that also stamps the arrival time of every recipient. Then a real
``kairos serve`` starts (the embedded worker, woken by the ingest writer after each commit;
or, with ``--separate-worker``, ``serve --no-worker`` plus a ``kairos worker`` process that
polls every ``worker_interval``), with its settings left at their defaults.

Each probe is one ``/v1/batch`` request (Basic auth with the write key) carrying an
``identify`` of a new user with the address ``probe-<run>-<i>@example.com`` and a ``track`` of
``Signed Up``, sent ``--rate`` per second, one at a time. The latency of a probe runs from
just before its request to the moment the sink has received the whole email addressed to
that probe (matched by the RCPT address): ingest, commit, the worker's changed-contacts pass
(trigger → enrollment), the scheduler (send node → outbox), the dispatcher (policy, render,
MIME, SMTP). ``p50_ms``/``p99_ms``/``max_ms`` over the probes after ``--warmup`` uncounted
ones; a probe whose email has not arrived ``--timeout`` seconds after the last request counts
as ``missing`` and fails the run. For diagnosis the stored timestamps give medians per stage
(``stages_p50_ms``): request → event received, received → enrolled, enrolled → message queued,
queued → at the sink; ``ack_p50_ms``/``ack_p99_ms`` are the HTTP response times and
``server_cpu`` the cores the server (and worker) used during the probes.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from kairos_bench.common import (
    BenchError,
    cpu_seconds,
    cpus,
    database_url_or_default,
    free_port,
    kairos_env,
    percentile,
    workdir,
)
from kairos_bench.server import HOST, _stop, _wait_healthy, tail
from kairos_bench.smtp_sink import SmtpSink

SECRET = "bench-secret-key"
WELCOME = (
    "<html><body><p>Welcome aboard, {{ contact.first_name | default: 'there' }}!</p>"
    '<p><a href="https://shop.example/start?src=welcome">Start here</a></p>'
    '<p><a href="{{ links.unsubscribe_url }}">Unsubscribe</a></p></body></html>'
)


@dataclass(frozen=True)
class Options:
    probes: int = 200
    rate: float = 10.0  # probes per second
    warmup: int = 3  # probes sent first and not counted
    timeout: float = 30.0  # seconds to wait for the last emails
    separate_worker: bool = False


class _Stamped(deque[tuple[str, list[str], bytes]]):
    """The sink's ``last``: appended to when a message has arrived; notes when, per recipient."""

    def __init__(self, arrivals: dict[str, tuple[float, float]], maxlen: int) -> None:
        super().__init__(maxlen=maxlen)
        self.arrivals = arrivals

    def append(self, item: tuple[str, list[str], bytes]) -> None:
        at = (time.perf_counter(), time.time())
        for rcpt in item[1]:
            self.arrivals.setdefault(rcpt.lower(), at)
        super().append(item)


class ArrivalSink(SmtpSink):
    """An ``SmtpSink`` that records (perf_counter, wall clock) of each recipient's first email."""

    def __init__(self) -> None:
        super().__init__(keep=16)
        self.arrivals: dict[str, tuple[float, float]] = {}
        self.last = _Stamped(self.arrivals, 16)


def run_e2e(
    options: Options, *, database_url: str | None, keep: bool, say: Callable[[str], None]
) -> dict[str, Any]:
    sink = ArrivalSink()
    sink_port = sink.start(HOST)
    try:
        with workdir(keep) as tmp:
            url = database_url_or_default(database_url, tmp)
            workspace_id, write_key = _prepare(url, sink_port)
            with _Server(url, tmp, separate_worker=options.separate_worker) as (port, pids):
                mode = "separate worker" if options.separate_worker else "worker in-process"
                say(f"server on {HOST}:{port} ({mode}), sink on {HOST}:{sink_port}; "
                    f"{options.warmup} + {options.probes} probes at {options.rate:g}/s …")  # fmt: skip
                cpu0, t0 = sum(cpu_seconds(p) for p in pids), time.perf_counter()
                probes = _send_probes(port, write_key, options)
                sent_s = time.perf_counter() - t0
                server_cpu = (sum(cpu_seconds(p) for p in pids) - cpu0) / sent_s
                deadline = time.monotonic() + options.timeout
                while time.monotonic() < deadline and any(p["email"] not in sink.arrivals for p in probes):
                    time.sleep(0.01)
            stages = _stages(url, workspace_id, probes[options.warmup :], sink.arrivals)
    finally:
        sink.stop()
    counted = probes[options.warmup :]
    lat = sorted(
        (sink.arrivals[p["email"]][0] - p["sent"]) * 1000 for p in counted if p["email"] in sink.arrivals
    )
    acks = sorted(p["ack_ms"] for p in counted)
    return {
        "p50_ms": round(percentile(lat, 50), 1),
        "p99_ms": round(percentile(lat, 99), 1),
        "max_ms": round(lat[-1], 1) if lat else 0.0,
        "mean_ms": round(sum(lat) / len(lat), 1) if lat else 0.0,
        "count": len(lat),
        "probes": len(counted),
        "missing": len(counted) - len(lat),
        "ack_p50_ms": round(percentile(acks, 50), 1),
        "ack_p99_ms": round(percentile(acks, 99), 1),
        "stages_p50_ms": stages,
        "probes_per_s": round(len(probes) / sent_s, 2),
        "server_cpu": round(server_cpu, 3),
        "received_by_sink": sink.messages,
        "worker": "separate" if options.separate_worker else "in-process",
        "database": url.partition(":")[0].partition("+")[0],
        "contacts": len(probes),
        "events": 2 * len(probes),
        "cpus": cpus(),
    }


def _prepare(url: str, sink_port: int) -> tuple[int, str]:
    """Migrate; a workspace with an SMTP channel to the sink, a template and a live journey."""
    from kairos.clock import SystemClock
    from kairos.config import Settings
    from kairos.crypto import Keyring
    from kairos.db.engine import make_engine
    from kairos.db.migrate import upgrade
    from kairos.journeys.service import create_journey, publish
    from kairos.messaging.service import create_channel, create_template
    from kairos.workspaces.service import create_workspace

    settings = Settings(database_url=url, secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(settings)
    try:
        upgrade(engine)
        clock = SystemClock()
        now = clock.now()
        with engine.begin() as conn:
            ws = create_workspace(conn, clock, f"bench-e2e-{time.time_ns()}")
            create_channel(
                conn, ws.id, Keyring(SECRET), now, name="mail", provider_name="smtp",
                settings={"host": HOST, "port": sink_port, "security": "none",
                          "from_email": "hello@shop.example", "from_name": "Shop", "connections": 1},
                secrets={}, is_default=True, rate_limit=None, allow_private=True,  # the sink is local
            )  # fmt: skip
            template_id = create_template(conn, ws.id, now, name="welcome", channel="email", fields={
                "subject": "Welcome, {{ contact.first_name | default: 'friend' }}",
                "format": "html",
                "body": WELCOME,
            })["id"]  # fmt: skip
            jid = create_journey(conn, ws.id, now, name="welcome", description=None, layout=None, definition={
                "trigger": {"type": "event", "event": "Signed Up"},
                "start": "welcome",
                "nodes": {"welcome": {"type": "send", "channel": "email", "template_id": template_id,
                                      "transactional": True, "next": None}},
            })["id"]  # fmt: skip
            publish(conn, ws.id, jid, now)
    finally:
        engine.dispose()
    return ws.id, ws.write_key


class _Server:
    """``kairos serve`` (worker in-process), or ``serve --no-worker`` and ``kairos worker``,
    with the secret key the channel was encrypted with."""

    def __init__(self, url: str, directory: Path, *, separate_worker: bool) -> None:
        self.url, self.directory, self.separate = url, directory, separate_worker
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> tuple[int, list[int]]:
        port = free_port(HOST)
        env = kairos_env(self.url)
        env["KAIROS_SECRET_KEY"] = SECRET
        env["KAIROS_ALLOW_PRIVATE_TARGETS"] = "true"  # the SMTP sink listens on 127.0.0.1
        serve = [sys.executable, "-m", "kairos", "serve", "--host", HOST, "--port", str(port)]
        commands = [(serve, "server.log")]
        if self.separate:
            commands = [([*serve, "--no-worker"], "server.log"),
                        ([sys.executable, "-m", "kairos", "worker"], "worker.log")]  # fmt: skip
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


def _send_probes(port: int, write_key: str, options: Options) -> list[dict[str, Any]]:
    """One /v1/batch (identify + track) per probe, open loop at ``rate``; each probe's send
    instant, response time and address."""
    import httpx

    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    run = uuid.uuid4().hex[:8]
    probes: list[dict[str, Any]] = []
    interval = 1 / options.rate
    with httpx.Client(
        base_url=f"http://{HOST}:{port}",
        headers={"Authorization": auth, "Content-Type": "application/json"},
        timeout=30,
    ) as client:
        next_at = time.perf_counter()
        for i in range(options.warmup + options.probes):
            user_id = f"probe-{run}-{i}"
            email = f"{user_id}@example.com"
            stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            body = orjson.dumps({"batch": [
                {"type": "identify", "userId": user_id, "messageId": f"{user_id}-id", "timestamp": stamp,
                 "traits": {"email": email, "first_name": f"Probe{i}"}},
                {"type": "track", "userId": user_id, "messageId": f"{user_id}-su", "timestamp": stamp,
                 "event": "Signed Up", "properties": {"plan": "free", "source": "bench"}},
            ]})  # fmt: skip
            wall, sent = time.time(), time.perf_counter()
            response = client.post("/v1/batch", content=body)
            ack_ms = (time.perf_counter() - sent) * 1000
            if response.status_code != 200:
                raise BenchError(f"probe {i}: {response.status_code} {response.text[:300]}")
            probes.append({"user_id": user_id, "email": email, "sent": sent, "wall": wall, "ack_ms": ack_ms})
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
    return probes


def _stages(
    url: str, workspace_id: int, probes: list[dict[str, Any]], arrivals: dict[str, tuple[float, float]]
) -> dict[str, float]:
    """Median ms of each stage, from the stored timestamps (the server's wall clock, same host)."""
    from sqlalchemy import select

    from kairos.config import Settings
    from kairos.contacts.tables import contact
    from kairos.db.engine import make_engine
    from kairos.events.tables import event
    from kairos.journeys.tables import enrollment
    from kairos.messaging.tables import message

    engine = make_engine(Settings(database_url=url, secret_key=SECRET, _env_file=None))  # type: ignore[call-arg]
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(contact.c.email, event.c.received_at, enrollment.c.entered_at, message.c.created_at)
                .join(event, (event.c.contact_id == contact.c.id) & (event.c.name == "Signed Up"))
                .join(enrollment, enrollment.c.contact_id == contact.c.id)
                .join(message, message.c.contact_id == contact.c.id)
                .where(contact.c.workspace_id == workspace_id)
            ).all()
    finally:
        engine.dispose()
    found = {r.email: r for r in rows}
    spans: dict[str, list[float]] = {"received": [], "enrolled": [], "queued": [], "at_sink": []}
    for p in probes:
        r = found.get(p["email"])
        if r is None or p["email"] not in arrivals:
            continue
        received, entered, queued = (x.timestamp() for x in (r.received_at, r.entered_at, r.created_at))
        spans["received"].append(received - p["wall"])
        spans["enrolled"].append(entered - received)
        spans["queued"].append(queued - entered)
        spans["at_sink"].append(arrivals[p["email"]][1] - queued)
    return {k: round(percentile(sorted(v), 50) * 1000, 1) for k, v in spans.items()}
