"""SQLite engine behaviour the server relies on (always SQLite, whatever the test database)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from kairos.config import Settings
from kairos.db.engine import WalCheckpointer, make_engine, reading

MB = 1 << 20


def fill(engine: Engine) -> None:
    """About 12 MB in 30 commits: far past the 1,000 WAL pages where SQLite checkpoints itself."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x TEXT)"))
    for _ in range(30):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (:x)"), [{"x": "y" * 4000} for _ in range(100)])


def sqlite_engine(path: Path, **kw: bool) -> Engine:
    return make_engine(Settings(database_url=f"sqlite:///{path}", _env_file=None), **kw)  # type: ignore[call-arg]


def test_server_engine_leaves_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    engine = sqlite_engine(path, background_checkpoints=True)
    fill(engine)
    # Nothing was copied back into the database file during the commits ...
    assert path.stat().st_size < MB and Path(f"{path}-wal").stat().st_size > 10 * MB
    WalCheckpointer(engine).checkpoint()
    # ... until the checkpointer ran.
    assert path.stat().st_size > 10 * MB
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 3000
    engine.dispose()


def test_plain_engine_checkpoints_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    engine = sqlite_engine(path)
    fill(engine)
    assert path.stat().st_size > 5 * MB
    engine.dispose()


def gate_is_free(path: Path) -> bool:
    fd = os.open(f"{path}-writelock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # also drops the lock if we took it
    return True


def test_write_transactions_hold_the_gate_and_release_it_on_commit_and_rollback(tmp_path: Path) -> None:
    """Writers in other processes queue on this kernel lock, so it must be held exactly while
    a write transaction is open — and never by readers."""
    path = tmp_path / "k.db"
    engine = sqlite_engine(path)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    assert gate_is_free(path)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert not gate_is_free(path)
    assert gate_is_free(path)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2)"))
        assert not gate_is_free(path)
        raise RuntimeError("roll back")
    assert gate_is_free(path)
    with reading(engine) as conn:
        assert conn.execute(text("SELECT x FROM t")).scalars().all() == [1]
        assert gate_is_free(path)
    engine.dispose()
