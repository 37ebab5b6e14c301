"""Why a contact is (or is not) in a segment: the definition tree with, on every node,
whether it holds for that contact now. One query, one boolean column per node."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, select

from kairos.contacts.tables import contact
from kairos.segments.compiler import compile_condition, context
from kairos.segments.definition import All, AnyOf, Condition, Not, SegmentDefinition


def explain(
    conn: Connection, workspace_id: int, definition: SegmentDefinition, contact_id: int, now: datetime
) -> dict[str, Any]:
    ctx = context(conn, workspace_id, now)
    nodes: list[tuple[str, Condition]] = []
    _walk(definition.root, "root", nodes)
    columns = [case((compile_condition(node, ctx, path), 1), else_=0) for path, node in nodes]
    row = conn.execute(
        select(*columns).where(contact.c.id == contact_id, contact.c.workspace_id == workspace_id)
    ).one()
    holds = {path: bool(value) for (path, _), value in zip(nodes, row, strict=True)}
    return _tree(definition.root, "root", holds)


def _walk(node: Condition, path: str, out: list[tuple[str, Condition]]) -> None:
    out.append((path, node))
    if isinstance(node, All | AnyOf):
        for i, child in enumerate(node.conditions):
            _walk(child, f"{path}.conditions[{i}]", out)
    elif isinstance(node, Not):
        _walk(node.condition, f"{path}.condition", out)


def _tree(node: Condition, path: str, holds: dict[str, bool]) -> dict[str, Any]:
    out: dict[str, Any] = {"path": path, "holds": holds[path], **node.model_dump(mode="json")}
    if isinstance(node, All | AnyOf):
        out["conditions"] = [
            _tree(c, f"{path}.conditions[{i}]", holds) for i, c in enumerate(node.conditions)
        ]
    elif isinstance(node, Not):
        out["condition"] = _tree(node.condition, f"{path}.condition", holds)
    return out
