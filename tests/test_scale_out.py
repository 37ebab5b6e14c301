"""Issue 17: several ``kairos serve --no-worker`` and ``kairos worker`` processes share the
work on PostgreSQL with no duplicate processing (docs/operations.md, "PostgreSQL and
scale-out").

Two HTTP processes on two ports and two workers, as real processes on one database: events
for ``CONTACTS`` people are sent to both servers, from several client threads at once, singly
and in batches, and every batch a second time to the other server (a client retrying through
the load balancer). The processors of both servers and the workers' ``ingest_log`` step take
turns on the ingest log; the workers share segment evaluation, journey steps and the outbox
with ``SKIP LOCKED`` claims. At the end every acknowledged message is one event, every person
one contact, enrolled once, and emailed once over real SMTP.

PostgreSQL only: on SQLite every writer takes the one write lock, so the processes cannot
interleave their claims (tests/journeys/test_workers.py runs two workers on both)."""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select

from kairos.contacts.tables import contact
from kairos.events.tables import event, ingest_log
from kairos.journeys.tables import enrollment
from kairos.messaging import outbox
from kairos.messaging.tables import message
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import _wait_until_up, free_port, worker_process
from tests.messaging.conftest import SmtpRecorder, SmtpServer, smtp_settings

pytestmark = pytest.mark.skipif(
    not os.environ.get("KAIROS_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL only (SKIP LOCKED claims and advisory locks across processes); "
    "run with KAIROS_TEST_DATABASE_URL=postgresql+psycopg://… (make test-postgres)",
)

CONTACTS = 200
GROUP = 10  # people per client task: their identifies one by one, their tracks in batches
#: seconds to wait for the processes to finish the work: generous for a loaded 2-core
#: machine (unloaded it takes a few seconds); the wait ends as soon as the work is done
DEADLINE = 240.0

ENV = {
    "KAIROS_SECRET_KEY": "test-secret",
    "KAIROS_ALLOW_PRIVATE_TARGETS": "true",  # the SMTP sink is on 127.0.0.1
    "KAIROS_WORKER_INTERVAL": "0.1",
    "KAIROS_DISPATCH_BATCH": "20",  # several claims per worker, so the two interleave
    "KAIROS_INGEST_POLL_INTERVAL": "0.5",
    "KAIROS_DB_POOL_SIZE": "3",  # the PostgreSQL server is shared by the test run
}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """The SMTP sink (aiosmtpd, in this process) the workers send to."""
    recorder = SmtpRecorder()
    port = free_port()
    server = SmtpServer("127.0.0.1", port, recorder, Controller(recorder, hostname="127.0.0.1", port=port))
    server.controller.start()
    yield server
    server.stop()


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    url: str  # a server's URL; a worker's admin port (/metrics)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _start(name: str, database_url: str, tmp_path: Path) -> Proc:
    port, log = free_port(), tmp_path / f"{name}.log"
    if name.startswith("worker"):
        proc = worker_process(database_url, log, **ENV, KAIROS_METRICS_PORT=str(port))
        return Proc(name, proc, log, f"http://127.0.0.1:{port}/metrics")
    env = {**os.environ, "KAIROS_DATABASE_URL": database_url, **ENV}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kairos", "serve", "--port", str(port), "--no-worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Proc(name, proc, log, f"http://127.0.0.1:{port}")


def _wait_until_answering(p: Proc) -> None:
    deadline = time.monotonic() + 90  # a loaded 2-core machine can take 30 s to import and start
    while True:
        assert p.process.poll() is None, f"{p.name} exited:\n{p.output()}"
        try:
            if httpx.get(p.url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{p.name} did not start in 90 s:\n{p.output()}"
        time.sleep(0.1)  # waiting for a process to start listening, not for business time


@contextmanager
def _processes(database_url: str, tmp_path: Path) -> Iterator[list[Proc]]:
    """Two ``serve --no-worker`` and two ``worker`` processes, all started and answering;
    stopped with SIGKILL if the test leaves early (it stops them with SIGTERM itself when all
    went well)."""
    procs: list[Proc] = []
    try:
        for name in ("serve-a", "serve-b", "worker-a", "worker-b"):
            procs.append(_start(name, database_url, tmp_path))
        for p in procs:
            if p.name.startswith("serve"):
                _wait_until_up(p.url, p.process, p.log)
            else:  # its admin port answers once its loop is about to run
                _wait_until_answering(p)
        yield procs
    finally:
        for p in procs:
            if p.process.poll() is None:
                p.process.send_signal(signal.SIGKILL)
                p.process.wait(timeout=30)


def _sent(p: Proc) -> float:
    """The messages a worker handed to a provider and saw accepted (its own counter)."""
    text = httpx.get(p.url, timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("kairos_messages_sent_total{") and 'outcome="sent"' in line
    )


def _logs(procs: list[Proc]) -> str:
    return "\n".join(f"----- {p.name} (exit {p.process.poll()}):\n{p.output()[-4000:]}" for p in procs)


def _counts(engine: Engine, workspace_id: int) -> dict[str, int]:
    with engine.connect() as conn:

        def count(table: Any, *where: Any) -> int:
            stmt = select(func.count()).select_from(table).where(table.c.workspace_id == workspace_id, *where)
            return int(conn.execute(stmt).scalar_one())

        return {
            "ingest_log": count(ingest_log),
            "events": count(event),
            "contacts": count(contact),
            "enrollments": count(enrollment),
            "active": count(enrollment, enrollment.c.state == "active"),
            "messages": count(message),
            "unsent": count(message, message.c.status != outbox.SENT),
        }


def _wait(what: str, done: Callable[[], bool], state: Callable[[], object], procs: list[Proc]) -> None:
    """Wait until ``done()`` while every process is alive; a failure says what was reached."""
    deadline = time.monotonic() + DEADLINE
    while not done():
        for p in procs:
            assert p.process.poll() is None, f"{p.name} died while waiting for {what}\n{_logs(procs)}"
        assert time.monotonic() < deadline, (
            f"not reached in {DEADLINE:.0f} s: {what}; reached: {state()}\n{_logs(procs)}"
        )
        time.sleep(0.2)  # polling the database for other processes' progress, not business time


def test_two_servers_and_two_workers_share_the_work_and_do_everything_once(
    engine: Engine, database_url: str, workspace: CreatedWorkspace, smtp: SmtpServer, tmp_path: Path
) -> None:
    people = [f"p{i:03}" for i in range(CONTACTS)]
    expected_ids = {f"{kind}-{p}" for p in people for kind in ("identify", "signup", "view")}

    with ExitStack() as stack:
        procs = stack.enter_context(_processes(database_url, tmp_path))
        urls = [p.url for p in procs[:2]]
        write = {"Authorization": "Basic " + base64.b64encode(f"{workspace.write_key}:".encode()).decode()}
        clients = [stack.enter_context(httpx.Client(base_url=u, timeout=60, headers=write)) for u in urls]
        manage = stack.enter_context(
            httpx.Client(base_url=urls[0] + "/api/v1", timeout=60,
                         headers={"Authorization": f"Bearer {workspace.api_key}"})
        )  # fmt: skip

        def created(path: str, body: dict[str, Any]) -> int:
            r = manage.post(path, json=body)
            assert r.status_code == 201, r.text
            return int(r.json()["id"])

        created("/channels", {"name": "mail", "provider": "smtp", "settings": smtp_settings(smtp)})
        template = created("/templates", {"name": "welcome", "channel": "email", "fields": {
            "subject": "Welcome", "format": "html", "body": "<p>Hi {{ contact.email }}</p>"}})  # fmt: skip
        segment = created(
            "/segments",
            {"name": "signed up", "definition": {"root": {"type": "performed", "event": "Signed Up"}}},
        )
        journey = created("/journeys", {"name": "welcome", "definition": {
            "trigger": {"type": "segment_entered", "segment_id": segment},
            "start": "mail",
            "nodes": {"mail": {"type": "send", "channel": "email", "template_id": template, "next": None}},
        }})  # fmt: skip
        r = manage.post(f"/journeys/{journey}/publish")
        assert r.status_code == 200, r.text

        def send(server: int, path: str, body: dict[str, Any]) -> None:
            r = clients[server].post(path, json=body)
            assert r.status_code == 200, f"{urls[server]}{path}: {r.status_code} {r.text}"

        def group(g: int) -> None:
            """One client's people: each identified singly, on alternating servers; then their
            sign-ups in one batch on one server, retried on the other; then a page view each,
            singly, on alternating servers."""
            mine = people[g * GROUP : (g + 1) * GROUP]
            for k, p in enumerate(mine):
                traits = {"email": f"{p}@example.com", "first_name": p.upper()}
                send(
                    (g + k) % 2, "/v1/identify", {"userId": p, "traits": traits, "messageId": f"identify-{p}"}
                )
            batch = {"batch": [
                {"type": "track", "userId": p, "event": "Signed Up", "messageId": f"signup-{p}",
                 "properties": {"plan": "trial"}} for p in mine
            ]}  # fmt: skip
            send(g % 2, "/v1/batch", batch)
            send((g + 1) % 2, "/v1/batch", batch)  # the retry: stored twice, processed once
            for k, p in enumerate(mine):
                send((g + k + 1) % 2, "/v1/page", {"userId": p, "name": "Home", "messageId": f"view-{p}"})

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(group, range(CONTACTS // GROUP)))

        def finished() -> bool:
            c = _counts(engine, workspace.id)
            return (
                c["ingest_log"] == 0
                and c["messages"] >= CONTACTS
                and c["unsent"] == 0
                and c["active"] == 0
                and len(smtp.recorder.received) >= CONTACTS
            )

        _wait(
            f"{CONTACTS} people emailed and the ingest log empty",
            finished,
            lambda: {**_counts(engine, workspace.id), "received": len(smtp.recorder.received)},
            procs,
        )
        # each worker counts what it sent itself (just after its commit): together, once each
        sent = lambda: [(p.name, _sent(p)) for p in procs[2:]]  # noqa: E731
        _wait("the workers' counters", lambda: sum(n for _, n in sent()) >= CONTACTS, sent, procs)
        assert sum(n for _, n in sent()) == CONTACTS, sent()
        # SIGTERM: workers finish the pass in progress, servers drain and stop; a send still in
        # flight would be counted below
        for p in procs:
            p.process.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                code = p.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"{p.name} did not stop within 60 s of SIGTERM\n{_logs(procs)}")
            # uvicorn re-raises SIGTERM once it has shut down gracefully: -15 is its clean exit
            clean = (0, -signal.SIGTERM) if p.name.startswith("serve") else (0,)
            assert code in clean, f"{p.name} exited with {code}\n{_logs(procs)}"
        for p in procs[:2]:
            assert "Application shutdown complete" in p.output(), _logs(procs)
        for p in procs:  # no job failed or crashed (a conflict retried is a warning, allowed)
            assert not re.search(r"Traceback|\bERROR\b|\bCRITICAL\b", p.output()), _logs(procs)

    with engine.connect() as conn:
        ws = workspace.id
        by_id: Counter[str] = Counter(dict(conn.execute(
            select(event.c.message_id, func.count()).where(event.c.workspace_id == ws).group_by(event.c.message_id)
        ).all()))  # fmt: skip
        contacts = conn.execute(
            select(contact.c.id, contact.c.external_id, contact.c.email, contact.c.merged_into).where(
                contact.c.workspace_id == ws
            )
        ).all()
        enrolled = Counter(
            (r.contact_id, r.state)
            for r in conn.execute(select(enrollment).where(enrollment.c.workspace_id == ws))
        )
        messages = Counter(
            (r.contact_id, r.status)
            for r in conn.execute(select(message).where(message.c.workspace_id == ws))
        )
        left = conn.execute(select(func.count()).select_from(ingest_log)).scalar_one()
    assert set(by_id) == expected_ids and set(by_id.values()) == {1}, (
        f"events: {len(by_id)} ids, {sum(by_id.values())} rows; repeated: {[k for k, n in by_id.items() if n > 1][:10]},"
        f" missing: {sorted(expected_ids - set(by_id))[:10]}"
    )
    assert sorted(c.external_id for c in contacts) == people, "each person one contact"
    assert all(c.merged_into is None and c.email == f"{c.external_id}@example.com" for c in contacts)
    ids = {c.id for c in contacts}
    assert enrolled == Counter({(cid, "completed"): 1 for cid in ids}), (
        "each contact enrolled once, completed"
    )
    assert messages == Counter({(cid, outbox.SENT): 1 for cid in ids}), "one message per contact, sent"
    received = Counter(r.rcpt_tos[0] for r in smtp.recorder.received)
    assert received == Counter({f"{p}@example.com": 1 for p in people}), (
        f"the sink got {sum(received.values())} mails; twice: {[a for a, n in received.items() if n > 1][:10]}"
    )
    assert left == 0, "the ingest log is empty"
