"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when
``KAIROS_TEST_DATABASE_URL`` is set (``make test-postgres``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fastapi.dependencies.models as fastapi_models
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text, update
from typer.testing import CliRunner

from kairos.api.app import Kairos, create_app
from kairos.clock import FixedClock, SystemClock
from kairos.config import Settings, get_settings
from kairos.db.engine import make_engine
from kairos.db.migrate import upgrade
from kairos.db.schema import metadata
from kairos.workspaces.service import CreatedWorkspace, create_workspace

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("KAIROS_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'kairos-test.db'}"


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key="test-secret", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings)
    if eng.dialect.name == "postgresql":
        with eng.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts from empty tables (only for tests that touch the database)."""
    yield
    if "engine" not in request.fixturenames:
        return
    eng: Engine = request.getfixturevalue("engine")
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with eng.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture(autouse=True)
def _forget_apps() -> Iterator[None]:
    """FastAPI keeps endpoint callables in module-level LRU caches of 4,096 entries
    (``fastapi.dependencies.models``); the API docs' endpoints are closures over their app,
    so each test's app stayed alive in them: about 9 MB a test, 1.9 GB by the end of the
    suite. Emptied after each test, every app is freed with its test."""
    yield
    for value in vars(fastapi_models).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def workspace(engine: Engine) -> CreatedWorkspace:
    with engine.begin() as conn:
        return create_workspace(conn, SystemClock(), "Acme")


@pytest.fixture
def other_workspace(engine: Engine) -> CreatedWorkspace:
    with engine.begin() as conn:
        return create_workspace(conn, SystemClock(), "Globex")


class KairosClient(TestClient):
    """A test client that lets the ingest processor finish after each ``/v1`` request.

    ``/v1`` answers once a request is stored in the ingest log; the server's processor turns
    it into events milliseconds later, in a thread. Tests read right after they send, so the
    client drains the log before it hands back the answer, as if those milliseconds passed.
    (tests/events/test_ingest_log.py tests the answer before processing.)"""

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        response = super().request(method, url, *args, **kwargs)
        if str(url).startswith("/v1/") and isinstance(self.app, Kairos):
            self.app.processor.drain()
        return response


@pytest.fixture
def client(settings: Settings, engine: Engine, clock: FixedClock) -> Iterator[TestClient]:
    with KairosClient(create_app(settings, clock=clock)) as c:
        yield c


@dataclass
class Api:
    """A management API client bound to one workspace's API key."""

    http: TestClient
    key: str

    def _h(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **(extra or {})}

    def get(self, path: str, **kw: object) -> httpx.Response:
        return self.http.get("/api/v1" + path, headers=self._h(), **kw)  # type: ignore[arg-type]

    def post(self, path: str, json: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post("/api/v1" + path, json=json, headers=self._h(headers))

    def put(self, path: str, json: object) -> httpx.Response:
        return self.http.put("/api/v1" + path, json=json, headers=self._h())

    def patch(self, path: str, json: object) -> httpx.Response:
        return self.http.patch("/api/v1" + path, json=json, headers=self._h())

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete("/api/v1" + path, headers=self._h())


@pytest.fixture
def api(client: TestClient, workspace: CreatedWorkspace) -> Api:
    return Api(client, workspace.api_key)


@pytest.fixture
def cli(database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The real ``kairos`` CLI (in-process) against the test database."""
    monkeypatch.setenv("KAIROS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def worker_process(database_url: str, log: Path, *args: str, **env: str) -> subprocess.Popen[bytes]:
    """A real ``kairos worker`` process on the test database (``args``: e.g. ``--once``;
    ``env``: more ``KAIROS_*`` settings), its output appended to ``log``."""
    environ = {**os.environ, "KAIROS_DATABASE_URL": database_url, "KAIROS_SECRET_KEY": "test-secret", **env}
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "kairos", "worker", *args],
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def expire_claims(engine: Engine) -> None:
    """Let the lease of every message claimed by a killed sender run out: the test stands in
    for the five minutes a restarted worker would otherwise wait (live time cannot be moved)."""
    from kairos.messaging import outbox
    from kairos.messaging.tables import message

    expired = SystemClock().now() - outbox.LEASE - timedelta(seconds=1)
    with engine.begin() as conn:
        conn.execute(update(message).where(message.c.status == outbox.SENDING).values(claimed_at=expired))


def settle(engine: Engine) -> None:
    """Process what the ingest log holds now, from the test process: a live server answers
    /v1 once a request is stored and makes its events milliseconds later, in a thread; a test
    that reads right after it sends takes those milliseconds out of the race (the drainers
    take turns on the log, so this is the processing the server would have done)."""
    from kairos.events.log import IngestProcessor

    IngestProcessor(engine, SystemClock()).drain()


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]


@contextmanager
def running_server(database_url: str, log: Path) -> Iterator[LiveServer]:
    """A real ``kairos serve`` process on a free port, sharing the test database.

    Leaving the block kills it with SIGKILL: no graceful shutdown, nothing flushed."""
    port = free_port()
    env = {**os.environ, "KAIROS_DATABASE_URL": database_url, "KAIROS_SECRET_KEY": "test-secret",
           # the session's live server processes what it accepts, never the rows other tests
           # leave in the log on purpose (tests/events/test_ingest_log.py)
           "KAIROS_INGEST_POLL_INTERVAL": "3600"}  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kairos", "serve", "--port", str(port), "--no-worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log)
        yield LiveServer(url, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=15)


@pytest.fixture(scope="session")
def live_server(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with running_server(database_url, tmp_path_factory.mktemp("server") / "serve.log") as server:
        yield server


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90  # a loaded 2-core machine can take 30 s to import and start
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kairos serve exited:\n{log.read_text()}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # waiting for a process to start listening, not for business time
    raise RuntimeError(f"kairos serve did not start:\n{log.read_text()}")
