"""The ingest log: /v1 answers once a request is stored; the processor makes events of it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select
from typer.testing import CliRunner

from kairos import metrics
from kairos.api.app import Kairos, create_app
from kairos.cli import app as kairos_cli
from kairos.clock import FixedClock
from kairos.config import Settings
from kairos.contacts.tables import contact
from kairos.events import log as ingest_log_module
from kairos.events.log import IngestProcessor, decode_messages, encode_messages
from kairos.events.messages import parse_request
from kairos.events.tables import event, ingest_log
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import T0
from tests.events.test_ingest_api import post


@pytest.fixture
def paused(settings: Settings, engine: Engine, clock: FixedClock) -> Iterator[tuple[TestClient, Kairos]]:
    """A server whose processor is stopped: what /v1 accepts stays in the log."""
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        app.processor.stop()
        yield client, app


def stored(engine: Engine) -> tuple[int, int, int]:
    """(log rows, events, contacts)"""
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(ingest_log)).scalar_one(),
            conn.execute(select(func.count()).select_from(event)).scalar_one(),
            conn.execute(select(func.count()).select_from(contact)).scalar_one(),
        )


def test_the_answer_means_stored_and_the_processor_makes_the_events(
    paused: tuple[TestClient, Kairos], engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    client, app = paused
    batch = [{"type": "track", "userId": f"u{i}", "event": "Viewed", "messageId": f"m{i}"} for i in range(3)]
    assert post(client, "/v1/batch", {"batch": batch}, workspace.write_key).status_code == 200
    assert post(client, "/v1/identify", {"userId": "u0", "traits": {"email": "U0@X.example"}}, workspace.write_key).status_code == 200  # fmt: skip
    assert stored(engine) == (2, 0, 0)  # accepted, not processed yet
    scrape = metrics.render(metrics.exposition(engine, clock))[0].decode()
    assert "kairos_ingest_log_pending 4.0" in scrape
    assert app.processor.drain() == 4
    assert stored(engine) == (0, 4, 3)
    with engine.connect() as conn:
        assert (
            conn.execute(select(contact.c.email).where(contact.c.email.is_not(None))).scalar_one()
            == "u0@x.example"
        )


def test_bad_input_is_refused_before_the_log(
    paused: tuple[TestClient, Kairos], engine: Engine, workspace: CreatedWorkspace
) -> None:
    client, _ = paused
    bad = [{"type": "track", "userId": "u1", "event": "Ok"}, {"type": "track", "userId": "u2"}]
    r = post(client, "/v1/batch", {"batch": bad}, workspace.write_key)
    assert r.status_code == 400 and r.json()["code"] == "missing_event"
    r = post(
        client, "/v1/identify", {"userId": "u1", "traits": {"email": "not-an-address"}}, workspace.write_key
    )
    assert r.status_code == 400
    assert stored(engine) == (0, 0, 0)


def test_requests_are_applied_in_the_order_they_were_answered(
    paused: tuple[TestClient, Kairos], engine: Engine, workspace: CreatedWorkspace
) -> None:
    client, app = paused
    for email in ("first@x.example", "second@x.example", "third@x.example"):
        assert post(client, "/v1/identify", {"userId": "u1", "traits": {"email": email}}, workspace.write_key).status_code == 200  # fmt: skip
    # a retried request (same messageId) is stored twice and processed once
    again = {"userId": "u1", "event": "Paid", "messageId": "pay-1"}
    assert post(client, "/v1/track", again, workspace.write_key).status_code == 200
    assert post(client, "/v1/track", again, workspace.write_key).status_code == 200
    app.processor.max_batch = 1  # one request per transaction: order across transactions too
    app.processor.drain()
    with engine.connect() as conn:
        assert conn.execute(select(contact.c.email)).scalars().all() == ["third@x.example"]
        assert (
            conn.execute(select(func.count()).select_from(event).where(event.c.name == "Paid")).scalar_one()
            == 1
        )
    assert stored(engine)[0] == 0


def test_the_worker_processes_what_a_stopped_server_left(
    paused: tuple[TestClient, Kairos], engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    client, _ = paused
    assert (
        post(client, "/v1/track", {"userId": "u1", "event": "Left"}, workspace.write_key).status_code == 200
    )
    done = Worker(engine, clock).run_once()
    assert done["ingest_log"] == 1
    assert stored(engine) == (0, 1, 1)


def test_a_row_that_fails_alone_is_kept_and_the_others_are_processed(
    engine: Engine,
    workspace: CreatedWorkspace,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    cli: CliRunner,
) -> None:
    good = parse_request("track", {"userId": "u1", "event": "Fine", "messageId": "ok"}, T0, body_size=100)
    poison = parse_request(
        "track", {"userId": "u2", "event": "Poison", "messageId": "bad"}, T0, body_size=100
    )
    with engine.begin() as conn:
        for messages in (good, poison, good):
            conn.execute(
                insert(ingest_log).values(
                    workspace_id=workspace.id, received_at=T0, count=1, messages=encode_messages(messages)
                )
            )
    real = ingest_log_module.ingest

    def refusing(conn, workspace_id, messages, now):  # type: ignore[no-untyped-def]
        if any(m.name == "Poison" for m in messages):
            raise ValueError("cannot take this one")
        return real(conn, workspace_id, messages, now)

    # stands in for a bug or data the database refuses: the pipeline raising on one row
    monkeypatch.setattr(ingest_log_module, "ingest", refusing)
    IngestProcessor(engine, clock).drain()
    with engine.connect() as conn:
        assert ingest_log_module.pending(conn)[:2] == (0, 0)
        (kept,) = ingest_log_module.failed(conn)
        assert kept["error"] == "ValueError: cannot take this one"
        assert conn.execute(select(event.c.name)).scalars().all() == ["Fine"]  # the duplicate was dropped
    status = cli.invoke(kairos_cli, ["ingest", "status", "--json"])
    assert status.exit_code == 0, status.output
    report = json.loads(status.output)
    assert report["pending_messages"] == 0
    assert [(r["count"], r["error"]) for r in report["failed"]] == [(1, "ValueError: cannot take this one")]
    monkeypatch.setattr(ingest_log_module, "ingest", real)  # the bug fixed: replay the row
    replayed = cli.invoke(kairos_cli, ["ingest", "replay"])
    assert replayed.exit_code == 0 and "1 rows back in line" in replayed.output
    IngestProcessor(engine, clock).drain()
    assert stored(engine) == (0, 2, 2)


def test_messages_survive_the_log_unchanged() -> None:
    body = {
        "batch": [
            {"type": "identify", "userId": "u1", "traits": {"email": "A@B.example", "plan": "pro", "n": None},
             "context": {"timezone": "Asia/Shanghai", "ip": "1.2.3.4"}, "timestamp": "2026-03-02T10:00:00.123456Z",
             "sentAt": "2026-03-02T10:00:01Z"},
            {"type": "alias", "previousId": "old", "userId": "u1"},
            {"type": "page", "anonymousId": "a1", "name": "Home", "properties": {"path": "/", "price": 1.5},
             "integrations": {"All": False}},
        ]
    }  # fmt: skip
    messages = parse_request("batch", body, T0, default_country="CN", body_size=1000)
    back = decode_messages(encode_messages(messages))
    for m in messages:
        m.encoded = None
    assert back == messages


def test_a_processor_process_beside_the_server(
    paused: tuple[TestClient, Kairos],
    engine: Engine,
    workspace: CreatedWorkspace,
    database_url: str,
    tmp_path: Path,
) -> None:
    """``kairos ingest process``: the log processed on a core of its own (the server started
    with KAIROS_INGEST_PROCESSOR=false), stopped by SIGTERM."""
    client, _ = paused
    batch = [{"type": "track", "userId": f"u{i}", "event": "Viewed"} for i in range(5)]
    assert post(client, "/v1/batch", {"batch": batch}, workspace.write_key).status_code == 200
    env = {**os.environ, "KAIROS_DATABASE_URL": database_url, "KAIROS_SECRET_KEY": "test-secret"}
    log = tmp_path / "processor.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kairos", "ingest", "process"], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 90
        while stored(engine)[0] and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)  # waiting for another process to do its work, not for business time
        assert stored(engine) == (0, 5, 5), log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()
