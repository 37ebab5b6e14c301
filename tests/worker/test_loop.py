"""The worker loop when the database cannot be written: each failed pass is logged as an
error naming the database's reason, and the next waits longer (backoff); when writes work
again, the loop carries on and does the work. Waits are recorded, not slept."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import Engine, select

from kairos.clock import FixedClock
from kairos.config import Settings
from kairos.db.engine import make_engine
from kairos.segments.service import create_segment
from kairos.segments.tables import segment
from kairos.worker.loop import MAX_BACKOFF, Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.db.test_faults import read_only

HAS_EMAIL = {"root": {"type": "attribute", "attribute": "email", "operator": "contains", "value": "@"}}


class RecordingWorker(Worker):
    """Records the waits between failed passes instead of waiting; ``healed`` (set after
    ``fail_passes`` waits) lets the test give the database back."""

    def __init__(self, engine: Engine, clock: FixedClock, fail_passes: int) -> None:
        super().__init__(engine, clock, interval=0.5)
        self.waits: list[float] = []
        self.fail_passes = fail_passes
        self.healed = threading.Event()

    def _pause(self, seconds: float) -> None:
        self.waits.append(seconds)
        if len(self.waits) == self.fail_passes:
            self.healed.wait(10)


def test_an_unwritable_database_is_logged_as_an_error_and_retried_with_backoff(
    settings: Settings,
    engine: Engine,
    workspace: CreatedWorkspace,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with engine.begin() as conn:
        seg_id = create_segment(conn, workspace.id, clock.now(), name="all", definition=HAS_EMAIL)["id"]
    own = make_engine(settings)
    writable_again = read_only(own)
    worker = RecordingWorker(own, clock, fail_passes=4)
    caplog.set_level(logging.INFO, logger="kairos.worker.loop")
    worker.start()
    try:
        assert _until(lambda: len(worker.waits) >= 4)
        assert worker.waits == [1.0, 2.0, 4.0, 8.0]  # the interval (0.5 s) doubled each time
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) >= 4
        assert all("the database is unavailable" in r.getMessage() for r in errors)
        assert all("read" in r.getMessage() for r in errors)  # the database's reason: read-only
        assert not any("conflict" in r.getMessage() for r in caplog.records)

        writable_again()
        worker.healed.set()
        assert _until(lambda: _refreshed(engine, seg_id))
    finally:
        worker.stop()
        own.dispose()
    assert any("succeeded again after 4 failed passes" in r.getMessage() for r in caplog.records)
    assert worker.backoff(100) == MAX_BACKOFF


def _refreshed(engine: Engine, seg_id: int) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(select(segment.c.needs_refresh).where(segment.c.id == seg_id)).scalar_one() is False
        )


def _until(condition: object, timeout: float = 20) -> bool:
    done = threading.Event()
    deadline = threading.Timer(timeout, done.set)
    deadline.start()
    try:
        while not done.is_set():
            if condition():  # type: ignore[operator]
                return True
            done.wait(0.01)  # watching the worker thread, not business time
        return False
    finally:
        deadline.cancel()
