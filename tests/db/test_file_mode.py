"""The SQLite database and its WAL hold personal data: only their owner may read them
(always SQLite, whatever the test database)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from kairos.config import Settings
from kairos.db.engine import make_engine


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default: files come out world-readable
    yield
    os.umask(old)


def test_a_new_database_and_its_wal_and_shm_are_created_0600(tmp_path: Path, permissive_umask: None) -> None:
    path = tmp_path / "new.db"
    engine = make_engine(Settings(database_url=f"sqlite:///{path}", _env_file=None))  # type: ignore[call-arg]
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x TEXT)"))
        conn.execute(text("INSERT INTO t VALUES ('ada@example.com')"))
    with engine.connect() as conn:  # the WAL and shared-memory files exist while connected
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    engine.dispose()


def test_an_existing_readable_database_keeps_its_mode_and_is_warned_about(
    tmp_path: Path, permissive_umask: None, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    with caplog.at_level(logging.WARNING, logger="kairos.db.engine"):
        make_engine(Settings(database_url=f"sqlite:///{path}", _env_file=None)).dispose()  # type: ignore[call-arg]
    assert mode(path) == 0o644
    assert "mode 644" in caplog.text and str(path) in caplog.text
