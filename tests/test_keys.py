"""Listing and revoking keys: ``/api/v1/keys`` and ``kairos workspace revoke-key``."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from kairos.cli import app
from kairos.clock import SystemClock
from kairos.workspaces.service import CreatedWorkspace, create_key
from tests.conftest import Api


def issue(engine: Engine, ws: CreatedWorkspace, kind: str = "api") -> str:
    with engine.begin() as conn:
        return create_key(conn, SystemClock(), ws.id, kind, "second")  # type: ignore[arg-type]


def track(client: TestClient, write_key: str) -> int:
    r = client.post("/v1/track", auth=(write_key, ""), json={"userId": "u1", "event": "Signed Up"})
    return r.status_code


def test_keys_are_listed_without_their_secrets(api: Api, workspace: CreatedWorkspace) -> None:
    r = api.get("/keys")
    assert r.status_code == 200
    keys = r.json()["data"]
    assert [(k["kind"], k["revoked_at"]) for k in keys] == [("write", None), ("api", None)]
    assert {k["prefix"] for k in keys} == {workspace.write_key[:10], workspace.api_key[:10]}
    text = r.text
    assert workspace.api_key not in text and workspace.write_key not in text and "hash" not in text


def test_a_revoked_key_stops_working_at_once(
    client: TestClient, api: Api, engine: Engine, workspace: CreatedWorkspace
) -> None:
    second = Api(client, issue(engine, workspace))
    assert second.get("/contacts").status_code == 200  # now cached as valid
    assert track(client, workspace.write_key) == 200
    ids = {k["prefix"]: k["id"] for k in api.get("/keys").json()["data"]}
    assert api.delete(f"/keys/{ids[second.key[:10]]}").status_code == 204
    assert api.delete(f"/keys/{ids[workspace.write_key[:10]]}").status_code == 204
    r = second.get("/contacts")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert track(client, workspace.write_key) == 401
    listed = {k["id"]: k["revoked_at"] for k in api.get("/keys").json()["data"]}
    assert listed[ids[second.key[:10]]] is not None and listed[ids[workspace.api_key[:10]]] is None
    assert api.delete(f"/keys/{ids[second.key[:10]]}").status_code == 204  # again: nothing changes


def test_a_key_cannot_revoke_itself_nor_the_last_api_key(
    client: TestClient, api: Api, engine: Engine, workspace: CreatedWorkspace
) -> None:
    own = next(k["id"] for k in api.get("/keys").json()["data"] if k["kind"] == "api")
    r = api.delete(f"/keys/{own}")
    assert r.status_code == 409 and r.json()["code"] == "key_in_use"
    # from a second key, the first may go; then the second is the last one
    second = Api(client, issue(engine, workspace))
    assert second.delete(f"/keys/{own}").status_code == 204
    third = Api(client, issue(engine, workspace))
    second_id = max(k["id"] for k in third.get("/keys").json()["data"]) - 1
    assert third.delete(f"/keys/{second_id}").status_code == 204
    assert second.get("/contacts").status_code == 401
    assert third.get("/contacts").status_code == 200


def test_keys_of_another_workspace_are_not_found(
    client: TestClient, api: Api, other_workspace: CreatedWorkspace
) -> None:
    theirs = Api(client, other_workspace.api_key).get("/keys").json()["data"]
    for k in theirs:
        r = api.delete(f"/keys/{k['id']}")
        assert r.status_code == 404 and r.json()["code"] == "key_not_found"
    assert Api(client, other_workspace.api_key).get("/contacts").status_code == 200


def test_cli_revokes_by_prefix_or_whole_key_and_keeps_the_last_api_key(
    cli: CliRunner, engine: Engine, workspace: CreatedWorkspace
) -> None:
    r = cli.invoke(app, ["workspace", "keys", "--workspace", str(workspace.id)])
    assert r.exit_code == 0 and workspace.api_key[:10] in r.stdout and workspace.api_key not in r.stdout
    r = cli.invoke(app, ["workspace", "revoke-key", workspace.write_key])
    assert r.exit_code == 0, r.output
    r = cli.invoke(app, ["workspace", "revoke-key", workspace.api_key[:10]])
    assert r.exit_code == 1 and "last API key" in r.output
    r = cli.invoke(app, ["workspace", "revoke-key", workspace.api_key[:10], "--force"])
    assert r.exit_code == 0, r.output
    r = cli.invoke(app, ["workspace", "keys", "--workspace", str(workspace.id)])
    assert r.stdout.count("revoked") == 2
    assert cli.invoke(app, ["workspace", "revoke-key", "ak_nothere"]).exit_code == 1
