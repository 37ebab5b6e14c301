"""The command line: workspace creation, migrations and one worker pass."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from kairos.cli import app
from kairos.clock import FixedClock
from kairos.contacts.service import upsert_contact
from kairos.contacts.tables import contact_change
from kairos.workspaces.service import KeyResolver, create_workspace
from tests.conftest import T0


def test_workspace_create_json_prints_exactly_one_object_with_working_keys(
    cli: CliRunner, engine: Engine
) -> None:
    result = cli.invoke(app, ["workspace", "create", "--name", "Shop", "--json"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert set(created) == {"id", "name", "write_key", "api_key"} and created["name"] == "Shop"
    keys = KeyResolver(engine)
    assert keys.resolve(created["write_key"], "write").id == created["id"]  # type: ignore[union-attr]
    assert keys.resolve(created["api_key"], "api").id == created["id"]  # type: ignore[union-attr]
    assert keys.resolve(created["api_key"], "write") is None


def test_ensure_default_creates_once(cli: CliRunner) -> None:
    first = cli.invoke(app, ["workspace", "ensure-default"])
    assert first.exit_code == 0 and "wk_" in first.output
    # the README's examples use $WRITE_KEY and $API_KEY: printed ready to paste, and they work
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in first.output.splitlines()
        if line.startswith("export ")
    )
    assert set(exports) == {"WRITE_KEY", "API_KEY"}
    assert exports["WRITE_KEY"].startswith("wk_") and exports["API_KEY"].startswith("ak_")
    second = cli.invoke(app, ["workspace", "ensure-default"])
    assert second.exit_code == 0 and "exists" in second.output and "wk_" not in second.output


def test_db_upgrade_is_repeatable(cli: CliRunner) -> None:
    assert cli.invoke(app, ["db", "upgrade"]).exit_code == 0


def test_worker_once_drains_changes_due_as_of_now(cli: CliRunner, engine: Engine) -> None:
    clock = FixedClock(T0)
    with engine.begin() as conn:
        ws = create_workspace(conn, clock, "W")
        contact, _ = upsert_contact(conn, ws.id, {"external_id": "u1"}, T0)
    with engine.connect() as conn:
        assert conn.execute(select(contact_change.c.contact_id)).scalars().all() == [contact["id"]]
    early = cli.invoke(app, ["worker", "--once", "--now", "2026-03-01T00:00:00Z"])
    assert early.exit_code == 0, early.output
    with engine.connect() as conn:  # changed after that instant: still queued
        assert conn.execute(select(contact_change.c.contact_id)).scalars().all() == [contact["id"]]
    result = cli.invoke(app, ["worker", "--once", "--now", "2026-03-02T12:00:01Z"])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        assert conn.execute(select(contact_change.c.contact_id)).scalars().all() == []


def test_worker_now_requires_once(cli: CliRunner) -> None:
    result = cli.invoke(app, ["worker", "--now", "2026-01-01T00:00:00Z"])
    assert result.exit_code != 0
