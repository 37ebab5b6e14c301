"""The layering rules of design.md, enforced."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "kairos"
DOMAIN = [
    "contacts",
    "events",
    "segments",
    "workspaces",
    "db",
    "messaging",
    "journeys",
    "campaigns",
    "offers",
    "analytics",
    "forms",
    "accounts",
    "crm",
    "scoring",
    "leads",
]
FORBIDDEN = ("kairos.api", "kairos.worker", "kairos.cli")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_packages_never_import_api_worker_or_cli(package: str) -> None:
    offenders = {
        f"{path.relative_to(SRC)} imports {name}"
        for path in (SRC / package).rglob("*.py")
        for name in imports_of(path)
        if name.startswith(FORBIDDEN)
    }
    assert not offenders


def test_nothing_reads_the_wall_clock_directly() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.name != "clock.py"
        and ("datetime.now(" in path.read_text() or "datetime.utcnow(" in path.read_text())
    ]
    assert not offenders
