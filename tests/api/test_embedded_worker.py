"""``kairos serve`` with the worker in-process: a commit of the ingest writer wakes the
worker, so a tracked event moves segment membership without waiting out the idle interval."""

from __future__ import annotations

import base64
import time

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kairos.api.app import create_app
from kairos.clock import SystemClock
from kairos.config import Settings
from kairos.segments.service import create_segment
from kairos.segments.tables import segment_membership
from kairos.workspaces.service import CreatedWorkspace


def test_an_ingest_commit_wakes_the_embedded_worker(
    settings: Settings, engine: Engine, workspace: CreatedWorkspace
) -> None:
    idle = 120.0  # far longer than the test may take: only a wake-up can explain a quick move
    sleepy = settings.model_copy(update={"worker_interval": idle})
    with engine.begin() as conn:
        seg = create_segment(conn, workspace.id, SystemClock().now(), name="signed up",
                             definition={"root": {"type": "performed", "event": "Signed Up"}})  # fmt: skip
    auth = {"Authorization": "Basic " + base64.b64encode(f"{workspace.write_key}:".encode()).decode()}
    with TestClient(create_app(sleepy, embedded_worker=True)) as client:
        time.sleep(1)  # let the first pass (the new segment's full refresh) finish and go idle
        started = time.monotonic()
        assert (
            client.post("/v1/track", json={"userId": "ann", "event": "Signed Up"}, headers=auth).status_code
            == 200
        )
        while time.monotonic() - started < 30:
            with engine.connect() as conn:
                members = conn.execute(
                    select(segment_membership.c.contact_id).where(
                        segment_membership.c.segment_id == seg["id"]
                    )
                ).all()
            if members:
                break
            time.sleep(0.05)  # polling a background thread's result, not waiting for business time
        assert len(members) == 1
        assert time.monotonic() - started < idle / 4
