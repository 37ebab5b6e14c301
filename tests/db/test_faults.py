"""When the database cannot be written, the management API answers 503 ``unavailable`` with
``Retry-After`` and readiness says so; other failures are JSON 500s. The database is made to
refuse writes for real: every connection of the app's engine is read-only (SQLite
``PRAGMA query_only``, PostgreSQL ``default_transaction_read_only``)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from kairos.api.app import create_app
from kairos.clock import FixedClock
from kairos.config import Settings
from kairos.db.engine import make_engine
from kairos.db.faults import check_writable, classify
from kairos.errors import Unavailable
from kairos.workspaces.service import CreatedWorkspace


def read_only(engine: Engine) -> Callable[[], None]:
    """From now on every connection of ``engine`` refuses writes; returns what undoes it."""

    def _refuse_writes(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("PRAGMA query_only = ON")
        else:
            cur.execute("SET default_transaction_read_only = on")
            dbapi_conn.commit()
        cur.close()

    def undo() -> None:
        event.remove(engine, "connect", _refuse_writes)
        engine.dispose()

    event.listen(engine, "connect", _refuse_writes)
    engine.dispose()  # connections opened before are not reused
    return undo


@pytest.fixture
def app_client(settings: Settings, engine: Engine, clock: FixedClock) -> Iterator[tuple[TestClient, Engine]]:
    app = create_app(settings, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, app.state.engine


def test_a_database_that_cannot_be_written_is_a_503_to_retry(
    app_client: tuple[TestClient, Engine], workspace: CreatedWorkspace
) -> None:
    client, app_engine = app_client
    auth = {"Authorization": f"Bearer {workspace.api_key}"}
    assert client.post("/api/v1/contacts", json={"external_id": "a"}, headers=auth).status_code == 201
    assert client.get("/health/ready").json()["status"] == "ready"

    read_only(app_engine)
    r = client.post("/api/v1/contacts", json={"external_id": "b"}, headers=auth)
    assert r.status_code == 503
    assert r.json() == {"code": "unavailable", "message": "the database cannot take this request now; retry"}
    assert r.headers["Retry-After"] == "5"

    # ingest answers the same way: nothing was accepted, retry later
    basic = "Basic " + base64.b64encode(f"{workspace.write_key}:".encode()).decode()
    r = client.post("/v1/track", json={"userId": "u", "event": "x"}, headers={"Authorization": basic})
    assert (r.status_code, r.json()["code"], r.headers["Retry-After"]) == (503, "database_unavailable", "5")

    ready = client.get("/health/ready")
    assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
    assert ready.json()["code"] == "database_unavailable"
    assert "read" in ready.json()["message"]  # the database's own reason: read-only
    live = client.get("/health")  # liveness does not depend on the database
    assert live.status_code == 200 and live.json()["status"] == "ok"


def test_any_other_failure_is_a_json_500(app_client: tuple[TestClient, Engine]) -> None:
    client, _ = app_client
    api = client.app.api  # type: ignore[attr-defined]

    def boom() -> None:
        raise RuntimeError("a bug")

    api.add_api_route("/api/v1/boom", boom)
    r = client.get("/api/v1/boom")
    assert r.status_code == 500
    assert r.json() == {
        "code": "internal_error",
        "message": "the server failed to answer; the error was logged",
    }


def test_an_unreachable_database_is_unavailable(settings: Settings) -> None:
    # nothing listens on port 1: connection refused
    down = make_engine(settings.model_copy(update={"database_url": "postgresql://kairos@127.0.0.1:1/kairos"}))
    try:
        with pytest.raises(Unavailable) as err:
            check_writable(down)
        assert err.value.code == "database_unavailable"
        assert classify(err.value.__cause__) == "unavailable"  # type: ignore[arg-type]
    finally:
        down.dispose()
