"""SQLite engine behaviour the server relies on (always SQLite, whatever the test database)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from kairos.config import Settings
from kairos.db.engine import WalCheckpointer, make_engine

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
