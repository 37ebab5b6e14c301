"""The command line: workspace creation, migrations and one worker pass."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
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


def test_worker_once_drains_the_changes_due(cli: CliRunner, engine: Engine) -> None:
    with engine.begin() as conn:
        ws = create_workspace(conn, FixedClock(T0), "W")
        contact, _ = upsert_contact(conn, ws.id, {"external_id": "u1"}, T0)
    with engine.connect() as conn:
        assert conn.execute(select(contact_change.c.contact_id)).scalars().all() == [contact["id"]]
    result = cli.invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        assert conn.execute(select(contact_change.c.contact_id)).scalars().all() == []


def test_worker_cannot_run_live_workspaces_as_of_another_instant(cli: CliRunner) -> None:
    result = cli.invoke(app, ["worker", "--once", "--now", "2030-01-01T00:00:00Z"])
    assert result.exit_code != 0
    assert "sandbox" in result.output


def test_a_sandbox_is_created_with_its_clock_and_advanced_from_the_command_line(cli: CliRunner) -> None:
    created = cli.invoke(
        app, ["workspace", "create", "--name", "Rehearsal", "--sandbox", "--clock-start", "2026-03-01T09:00:00Z",
              "--json"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    ws = json.loads(created.stdout)
    assert ws["sandbox"] is True and ws["clock_at"] == "2026-03-01T09:00:00+00:00"
    shown = cli.invoke(app, ["clock", "show", "--workspace", str(ws["id"])])
    assert shown.stdout.startswith("2026-03-01T09:00:00+00:00") and "sandbox" in shown.stdout

    moved = cli.invoke(app, ["clock", "advance", "--workspace", str(ws["id"]), "--by", "2d"])
    assert moved.exit_code == 0, moved.output
    assert "-> 2026-03-03T09:00:00+00:00" in moved.stdout
    shown = cli.invoke(app, ["clock", "show", "--workspace", str(ws["id"])])
    assert shown.stdout.startswith("2026-03-03T09:00")
    moved = cli.invoke(
        app, ["clock", "advance", "--workspace", str(ws["id"]), "--to", "2026-04-01T00:00:00+02:00"]
    )
    assert "-> 2026-03-31T22:00:00+00:00" in moved.stdout, moved.output

    backwards = cli.invoke(
        app, ["clock", "advance", "--workspace", str(ws["id"]), "--to", "2026-03-02T00:00:00Z"]
    )
    assert backwards.exit_code == 1 and "only moves forward" in backwards.output
    bad = cli.invoke(app, ["clock", "advance", "--workspace", str(ws["id"]), "--by", "soon"])
    assert bad.exit_code != 0 and "is not a duration" in bad.output


def test_a_live_workspace_clock_cannot_be_advanced(cli: CliRunner, engine: Engine) -> None:
    with engine.begin() as conn:
        ws = create_workspace(conn, FixedClock(T0), "Live")
    result = cli.invoke(app, ["clock", "advance", "--workspace", str(ws.id), "--by", "1d"])
    assert result.exit_code == 1 and "not_a_sandbox" in result.output
    assert "live, real clock" in cli.invoke(app, ["clock", "show", "--workspace", str(ws.id)]).stdout
    start = cli.invoke(app, ["workspace", "create", "--name", "X", "--clock-start", "2026-03-01T00:00:00Z"])
    assert start.exit_code == 1 and "only a sandbox" in start.output


def test_make_run_prints_a_one_time_link_for_the_first_admin(cli: CliRunner, client: TestClient) -> None:
    result = cli.invoke(app, ["workspace", "ensure-default"])
    assert result.exit_code == 0, result.output
    token = re.search(r"/setup\?token=(\S+)", result.stdout)
    assert token, result.output
    body = {"token": token[1], "email": "admin@example.com", "name": "Admin", "password": "a long enough one"}
    r = client.post("/api/v1/setup", json=body)
    assert r.status_code == 201, r.text
    assert [w["role"] for w in r.json()["workspaces"]] == ["admin"]
    again = cli.invoke(app, ["workspace", "ensure-default"])
    assert "/setup?token=" not in again.output  # a user exists: no more setup links
    assert cli.invoke(app, ["user", "setup-token"]).exit_code == 1


def test_users_are_created_and_their_passwords_reset_from_the_command_line(
    cli: CliRunner, client: TestClient, engine: Engine
) -> None:
    with engine.begin() as conn:
        ws = create_workspace(conn, FixedClock(T0), "W")
    result = cli.invoke(app, ["user", "create", "--email", "ann@example.com", "--role", "analyst",
                              "--workspace", str(ws.id), "--password", "first password!"])  # fmt: skip
    assert result.exit_code == 0, result.output
    signed = client.post("/api/v1/session", json={"email": "ann@example.com", "password": "first password!"})
    assert signed.status_code == 200 and signed.json()["workspaces"][0]["role"] == "analyst"

    weak = cli.invoke(app, ["user", "reset-password", "--email", "ann@example.com", "--password", "short"])
    assert weak.exit_code == 1 and "weak_password" in weak.output
    prompted = cli.invoke(app, ["user", "reset-password", "--email", "ann@example.com"],
                          input="second password!\nsecond password!\n")  # fmt: skip
    assert prompted.exit_code == 0, prompted.output
    assert client.get("/api/v1/session").status_code == 401  # signed out everywhere
    old = client.post("/api/v1/session", json={"email": "ann@example.com", "password": "first password!"})
    assert old.status_code == 401
    new = client.post("/api/v1/session", json={"email": "ann@example.com", "password": "second password!"})
    assert new.status_code == 200
