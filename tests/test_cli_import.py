"""`kairos import contacts|events`: the real command line, its summary and exit codes."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from kairos.cli import app
from kairos.contacts.tables import contact
from kairos.events.tables import event
from kairos.workspaces.service import CreatedWorkspace


def rows(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def rejected_rows(output: str) -> list[tuple[str, str]]:
    """(line, first line of the reason) of each row of the summary table."""
    cells = [
        [c.strip() for c in line.split("│")[1:-1]] for line in output.splitlines() if line.startswith("│")
    ]
    return [(line, reason) for line, reason in cells if line]


def test_contacts_import_prints_counts_and_the_rejected_lines(
    cli: CliRunner, engine: Engine, workspace: CreatedWorkspace, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "Mail,Name,Plan\nann@example.com,Ann,pro\nnot-an-email,Bob,free\ncy@example.com,Cy,\n,Dee,free\n"
    )
    args = ["import", "contacts", str(path), "--workspace", str(workspace.id)]
    result = cli.invoke(app, [*args, "--map", "Mail=email", "--map", "Name=first_name"])
    assert result.exit_code == 0, result.output
    assert "2 accepted, 0 duplicates, 2 rejected" in result.output
    listed = rejected_rows(result.output)
    assert [line for line, _ in listed] == ["3", "5"], result.output
    assert "'not-an-email' is not a valid email address" in listed[0][1]
    assert listed[1][1] == "a contact needs an external_id, email or phone to be matched on"
    assert rows(engine, contact) == 2


def test_events_import_counts_duplicates_on_a_second_run(
    cli: CliRunner, engine: Engine, workspace: CreatedWorkspace, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    messages = [
        {"type": "track", "event": "Viewed", "userId": f"u-{i}", "messageId": f"m-{i}"} for i in range(3)
    ]
    path.write_bytes(b"\n".join(map(orjson.dumps, messages)) + b'\n{"type": "page"}\n')
    args = ["import", "events", str(path), "--workspace", str(workspace.id)]

    first = cli.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "3 accepted, 0 duplicates, 1 rejected" in first.output
    assert "line 4 needs a userId or an anonymousId" in first.output

    second = cli.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "0 accepted, 3 duplicates, 1 rejected" in second.output
    assert rows(engine, event) == 3


def test_only_the_first_fifty_rejected_rows_are_listed(
    cli: CliRunner, workspace: CreatedWorkspace, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("email\n" + "nope\n" * 60)
    result = cli.invoke(app, ["import", "contacts", str(path), "--workspace", str(workspace.id)])
    assert result.exit_code == 0, result.output
    assert "0 accepted, 0 duplicates, 60 rejected" in result.output
    assert "… and 10 more" in result.output


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("Mail\nann@example.com\n", ["--map", "Mail=mail"], "unknown field 'mail'"),
        ("email\nann@example.com\n", ["--map", "Missing=email"], "not in the header"),
        ("", [], "no header row"),
        ("email\nRen\xe9e@example.com\n".encode("latin-1"), [], "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_imported_exits_1_with_the_reason(
    cli: CliRunner,
    engine: Engine,
    workspace: CreatedWorkspace,
    tmp_path: Path,
    content: str | bytes,
    extra: list[str],
    message: str,
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = cli.invoke(app, ["import", "contacts", str(path), "--workspace", str(workspace.id), *extra])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())  # Rich wraps long messages
    assert rows(engine, contact) == 0


def test_an_unknown_workspace_exits_1(cli: CliRunner, workspace: CreatedWorkspace, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"type": "track", "event": "X", "userId": "u"}\n')
    result = cli.invoke(app, ["import", "events", str(path), "--workspace", str(workspace.id + 100)])
    assert result.exit_code == 1
    assert f"no workspace {workspace.id + 100}" in result.output
