"""``set_stage``: set-based over thousands of contacts, recording only real changes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, insert, select, update

from kairos.contacts.lifecycle import set_stage
from kairos.contacts.tables import contact, contact_change, lifecycle_change
from kairos.errors import InvalidInput
from kairos.workspaces.service import CreatedWorkspace

EARLIER = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def make(engine: Engine, ws: int, stages: list[str | None]) -> list[int]:
    with engine.begin() as conn:
        conn.execute(insert(contact), [
            {"workspace_id": ws, "lifecycle_stage": s, "traits": {}, "score": 0, "created_at": EARLIER,
             "updated_at": EARLIER} for s in stages])  # fmt: skip
        return list(
            conn.execute(
                select(contact.c.id).where(contact.c.workspace_id == ws).order_by(contact.c.id)
            ).scalars()
        )


def test_thousands_of_contacts_in_a_few_statements_and_only_real_changes_recorded(
    engine: Engine, workspace: CreatedWorkspace, other_workspace: CreatedWorkspace
) -> None:
    # 1,000 already leads, 1,200 without a stage, 300 customers: 1,500 change.
    ids = make(engine, workspace.id, ["lead"] * 1000 + [None] * 1200 + ["customer"] * 300)
    theirs = make(engine, other_workspace.id, [None])
    with engine.begin() as conn:  # the last customer was merged into the first contact
        conn.execute(update(contact).where(contact.c.id == ids[-1]).values(merged_into=ids[0]))
    with statements(engine) as seen, engine.begin() as conn:
        changed = set_stage(conn, workspace.id, [*ids, *theirs, ids[-1]], "lead", NOW, "import")
    assert changed == 1499  # the merged one stands for its survivor, already a lead
    # 3 chunks of ids to find who changes, 2 chunks to record and update, 1 queue write
    # (plus BEGIN/COMMIT on SQLite): nothing per contact.
    assert len([s for s in seen if not s.startswith(("BEGIN", "COMMIT"))]) <= 8, seen
    with engine.connect() as conn:
        rows = conn.execute(
            select(lifecycle_change.c.from_stage, lifecycle_change.c.source, func.count())
            .where(lifecycle_change.c.to_stage == "lead", lifecycle_change.c.changed_at == NOW)
            .group_by(lifecycle_change.c.from_stage, lifecycle_change.c.source)
        ).all()
        assert sorted(rows, key=str) == sorted([(None, "import", 1200), ("customer", "import", 299)], key=str)
        assert conn.execute(select(func.count()).select_from(lifecycle_change)).scalar_one() == 1499
        stages = dict(conn.execute(select(contact.c.id, contact.c.lifecycle_stage)).all())
        assert {stages[i] for i in ids[:-1]} == {"lead"} and stages[ids[-1]] == "customer"
        assert stages[theirs[0]] is None
        updated = dict(conn.execute(select(contact.c.id, contact.c.updated_at)).all())
        assert {updated[i] for i in ids[:1000]} == {EARLIER} and {updated[i] for i in ids[1000:-1]} == {NOW}
        queued = set(conn.execute(select(contact_change.c.contact_id)).scalars())
        assert queued == set(ids[1000:-1])
        # Again: nothing changes, nothing is recorded.
    with engine.begin() as conn:
        assert set_stage(conn, workspace.id, ids, "lead", NOW + timedelta(hours=1), "api") == 0
        assert conn.execute(select(func.count()).select_from(lifecycle_change)).scalar_one() == 1499
        # Clearing: to None, NULL-safe both ways.
        assert set_stage(conn, workspace.id, ids[:10], None, NOW, "api") == 10
        assert set_stage(conn, workspace.id, ids[:10], None, NOW, "api") == 0
        assert set_stage(conn, workspace.id, ids[:3], "lead", NOW, "api") == 3
        last = conn.execute(
            select(lifecycle_change.c.from_stage, lifecycle_change.c.to_stage)
            .order_by(lifecycle_change.c.id.desc())
            .limit(4)
        ).all()
        assert [tuple(r) for r in last] == [(None, "lead")] * 3 + [("lead", None)]


@pytest.mark.parametrize("stage", ["", "  ", "x" * 41, 7])
def test_bad_stages_are_invalid_input(engine: Engine, workspace: CreatedWorkspace, stage: Any) -> None:
    ids = make(engine, workspace.id, [None])
    with engine.begin() as conn, pytest.raises(InvalidInput) as caught:
        set_stage(conn, workspace.id, ids, stage, NOW, "api")
    assert caught.value.code == "invalid_lifecycle_stage"
