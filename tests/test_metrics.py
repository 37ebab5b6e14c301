"""What operators watch: ``GET /metrics`` (Prometheus text format, behind a key, 404 without
one), the counters the worker and the dispatcher keep, the database gauges read at scrape
time, the metrics admin port of ``kairos worker``, readiness, and JSON log lines."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import Engine

from kairos import metrics
from kairos.api.app import create_app
from kairos.clock import FixedClock
from kairos.config import Settings
from kairos.logs import JsonFormatter
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api, free_port, worker_process
from tests.db.test_faults import read_only
from tests.journeys.conftest import journey
from tests.messaging.conftest import (  # noqa: F401  (fixtures)
    email_channel,
    make_contact,
    settings,
    smtp,
    worker,
)

KEY = "metrics-key-0123456789"


@pytest.fixture
def keyed(settings: Settings, engine: Engine, clock: FixedClock) -> Iterator[TestClient]:  # noqa: F811
    app = create_app(settings.model_copy(update={"metrics_key": SecretStr(KEY)}), clock=clock)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by (name, sorted labels); the parser fails on a bad format."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = client.get("/metrics", headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return samples(r.text)


def test_metrics_do_not_exist_without_a_key(client: TestClient) -> None:
    r = client.get("/metrics", headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_metrics_refuse_a_missing_or_wrong_key(keyed: TestClient, workspace: CreatedWorkspace) -> None:
    r = keyed.get("/metrics")
    assert (r.status_code, r.json()["code"], r.headers["WWW-Authenticate"]) == (401, "unauthorized", "Bearer")
    r = keyed.get("/metrics", headers={"Authorization": f"Bearer {KEY}x"})
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    # a workspace's API key is not the metrics key
    r = keyed.get("/metrics", headers={"Authorization": f"Bearer {workspace.api_key}"})
    assert r.status_code == 403
    assert "kairos_" not in r.text


def test_outbox_depth_and_journey_backlog_are_read_from_the_database(
    keyed: TestClient, workspace: CreatedWorkspace, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Api(keyed, workspace.api_key)
    before = scrape(keyed)
    assert before[("kairos_database_up", ())] == 1
    assert before[("kairos_journey_backlog", ())] == 0
    assert before[("kairos_outbox_oldest_due_seconds", ())] == 0
    assert not [k for k in before if k[0] == "kairos_outbox_messages"]

    content = {"subject": "Hi", "format": "html", "body": "<p>hello</p>"}
    for i in range(3):
        cid = make_contact(api, email=f"m{i}@example.com")
        r = api.post("/messages", {"contact_id": cid, "channel": "email", "content": content})
        assert r.status_code == 202, r.text
    sms = {"contact_id": cid, "channel": "sms", "content": {"text": "hi"},
           "send_at": (clock.now() + timedelta(hours=1)).isoformat()}  # fmt: skip
    assert api.post("/messages", sms).status_code == 202
    waits = {
        "trigger": {"type": "api"},
        "entry": {"reentry": "never"},
        "start": "w",
        "nodes": {"w": {"type": "wait", "duration": {"amount": 1, "unit": "hours"}, "next": None}},
    }
    jid = journey(api, waits)
    for i in range(3):
        r = api.post(f"/journeys/{jid}/enrollments", {"contact_id": make_contact(api, external_id=f"j{i}")})
        assert r.status_code == 201, r.text
    # enrollments are due at once (their first step): the worker has not run, so 3 are late
    clock.advance(timedelta(minutes=10))

    after = scrape(keyed)
    assert after[("kairos_outbox_messages", (("channel", "email"), ("status", "queued")))] == 3
    assert after[("kairos_outbox_messages", (("channel", "sms"), ("status", "queued")))] == 1
    # the email messages have been due for 10 minutes; the sms one is not due yet
    assert after[("kairos_outbox_oldest_due_seconds", ())] == pytest.approx(600)
    assert after[("kairos_journey_backlog", ())] == 3
    assert after[("kairos_journey_backlog_oldest_seconds", ())] == pytest.approx(600)

    # a scrape reads a bounded number of rows however long the queues grow
    monkeypatch.setattr(metrics, "COUNT_CAP", 2)
    capped = scrape(keyed)
    assert capped[("kairos_journey_backlog", ())] == 2
    assert sum(v for (name, _), v in capped.items() if name == "kairos_outbox_messages") == 2
    assert capped[("kairos_outbox_oldest_due_seconds", ())] == pytest.approx(600)  # exact still


def test_sends_and_worker_jobs_are_counted(
    api: Api,
    keyed: TestClient,
    email_channel: dict[str, Any],  # noqa: F811
    worker: Worker,  # noqa: F811
) -> None:
    before = scrape(keyed)
    cid = make_contact(api, email="s@example.com")
    for body in ("<p>hello</p>", "<p>{% if %}</p>"):  # the second cannot be rendered
        content = {"subject": "Hi", "format": "html", "body": body}
        assert (
            api.post("/messages", {"contact_id": cid, "channel": "email", "content": content}).status_code
            == 202
        )
    worker.run_once()
    after = scrape(keyed)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert delta("kairos_messages_sent_total", channel="email", outcome="sent") == 1
    assert delta("kairos_messages_sent_total", channel="email", outcome="template_error") == 1
    assert delta("kairos_worker_job_seconds_count", job="dispatch") >= 1
    assert delta("kairos_worker_job_seconds_count", job="journeys") >= 1
    assert not [k for k in after if k[0] == "kairos_outbox_messages"]  # all settled


def test_segment_refreshes_are_timed(api: Api, keyed: TestClient, worker: Worker) -> None:  # noqa: F811
    before = scrape(keyed).get(("kairos_segment_refresh_seconds_count", ()), 0)
    definition = {"schema_version": 1, "root": {"type": "performed", "event": "Order Completed"}}
    r = api.post("/segments", {"name": "buyers", "definition": definition})
    assert r.status_code == 201, r.text
    worker.run_once()
    assert scrape(keyed)[("kairos_segment_refresh_seconds_count", ())] == before + 1


def test_ready_fails_when_the_database_cannot_be_written(client: TestClient) -> None:
    r = client.get("/ready")
    assert (r.status_code, r.json()["status"]) == (200, "ready")
    undo = read_only(client.app.state.engine)  # type: ignore[attr-defined]
    try:
        r = client.get("/ready")
        assert (r.status_code, r.json()["code"], r.headers["Retry-After"]) == (
            503,
            "database_unavailable",
            "5",
        )
        assert client.get("/health").status_code == 200  # liveness does not look at the database
    finally:
        undo()
    assert client.get("/ready").status_code == 200


def test_log_lines_are_json_with_the_traceback() -> None:
    logger = logging.getLogger("kairos.test")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logger.makeRecord("kairos.test", logging.ERROR, __file__, 1, "pass %s failed", ("x",),
                                   sys.exc_info())  # fmt: skip
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["logger"], line["message"]) == ("ERROR", "kairos.test", "pass x failed")
    assert "ValueError: boom" in line["exc_info"]
    assert line["time"].endswith("+00:00")


def test_kairos_worker_logs_json_lines(database_url: str, engine: Engine, tmp_path: Path) -> None:
    env = {**os.environ, "KAIROS_DATABASE_URL": database_url, "KAIROS_SECRET_KEY": "test-secret",
           "KAIROS_LOG_FORMAT": "json", "KAIROS_BASE_URL": "http://kairos.example"}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "kairos", "worker", "--once"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    # log records are JSON lines (the pass's summary, printed for the terminal, is not a log)
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert " WARNING kairos" not in done.stderr  # nothing logged in the text format
    # the warning about a base URL that is not https, as one JSON object
    assert any(e["level"] == "WARNING" and "KAIROS_BASE_URL" in e["message"] for e in lines), done.stderr


def test_kairos_worker_serves_metrics_on_its_admin_port(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    port = free_port()
    proc = worker_process(database_url, tmp_path / "worker.log", KAIROS_METRICS_PORT=str(port))
    try:
        deadline = time.monotonic() + 60
        while True:  # the process imports, opens the port, then runs its first pass
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
                assert r.status_code == 200
                got = samples(r.text)
                # the worker's job runs are counted as they happen
                if any(name == "kairos_worker_job_seconds_count" for name, _ in got):
                    break
            except httpx.TransportError:
                assert proc.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "no worker job was counted on the admin port"
            time.sleep(0.1)
        assert got[("kairos_database_up", ())] == 1
        assert ("kairos_journey_backlog", ()) in got
    finally:
        proc.terminate()
        proc.wait(timeout=30)
