"""Segments: create, change, read and delete definitions (membership lives in ``membership``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kairos.clock import ensure_utc
from kairos.contacts.tables import contact
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.segments.compiler import context, members_query, parse_definition
from kairos.segments.definition import (
    All,
    AnyOf,
    Condition,
    Not,
    SegmentDefinition,
    SegmentMembershipCondition,
)
from kairos.segments.deps import dependencies, referenced_segments
from kairos.segments.explain import evaluation_context, explain, segment_names
from kairos.segments.membership import add_members, remove_member
from kairos.segments.tables import segment, segment_membership
from kairos.segments.tag_rules import check_segment_definition

KINDS = ("dynamic", "static")


def check_definition(
    conn: Connection, workspace_id: int, data: Any, now: datetime, segment_id: int | None = None
) -> SegmentDefinition:
    """Parse and compile once: every problem surfaces now, naming its node, not in the
    worker. Segments it refers to must exist in the workspace and lead back to this one by
    no path (no cycles)."""
    definition = parse_definition(data)
    members_query(workspace_id, definition, context(conn, workspace_id, now))
    _check_references(conn, workspace_id, definition, segment_id)
    return definition


def _check_references(
    conn: Connection, workspace_id: int, definition: SegmentDefinition, segment_id: int | None
) -> None:
    refs = list(_segment_nodes(definition.root, "root"))
    if not refs:
        return
    graph = {
        row.id: referenced_segments(parse_definition(row.definition).root) if row.kind == "dynamic" else set()
        for row in conn.execute(
            select(segment.c.id, segment.c.kind, segment.c.definition).where(
                segment.c.workspace_id == workspace_id
            )
        )
    }
    for path, ref in refs:
        if ref not in graph:
            raise InvalidInput(
                f"{path}.segment_id: no segment {ref} in this workspace", code="unknown_segment"
            )
        if ref == segment_id or (segment_id is not None and _reaches(graph, ref, segment_id)):
            raise InvalidInput(
                f"{path}.segment_id: segment {ref} depends on this segment (a cycle)", code="segment_cycle"
            )


def check_segment_references(conn: Connection, workspace_id: int, root: Condition, path: str) -> None:
    """Segments a condition tree names (``type: segment``) must be the workspace's own: for
    conditions stored outside a segment (journey conditions, previews), where no cycle can form."""
    refs = list(_segment_nodes(root, path))
    if not refs:
        return
    ids = {ref for _, ref in refs}
    found = set(
        conn.execute(
            select(segment.c.id).where(segment.c.workspace_id == workspace_id, segment.c.id.in_(ids))
        ).scalars()
    )
    for where, ref in refs:
        if ref not in found:
            raise InvalidInput(
                f"{where}.segment_id: no segment {ref} in this workspace", code="unknown_segment"
            )


def _segment_nodes(node: Condition, path: str) -> Iterator[tuple[str, int]]:
    if isinstance(node, SegmentMembershipCondition):
        yield path, node.segment_id
    elif isinstance(node, All | AnyOf):
        for i, child in enumerate(node.conditions):
            yield from _segment_nodes(child, f"{path}.conditions[{i}]")
    elif isinstance(node, Not):
        yield from _segment_nodes(node.condition, f"{path}.condition")


def _reaches(graph: dict[int, set[int]], start: int, target: int) -> bool:
    seen: set[int] = set()
    todo = [start]
    while todo:
        current = todo.pop()
        if current == target:
            return True
        if current not in seen:
            seen.add(current)
            todo.extend(graph.get(current, ()))
    return False


def _stored_definition(parsed: SegmentDefinition) -> dict[str, Any]:
    return {
        "definition": parsed.model_dump(mode="json"),
        "time_dependent": dependencies(parsed.root).time,
        "needs_refresh": True,
    }


def create_segment(
    conn: Connection,
    workspace_id: int,
    now: datetime,
    *,
    name: str,
    kind: str = "dynamic",
    definition: Any = None,
    description: str | None = None,
) -> dict[str, Any]:
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", code="invalid_kind")
    values: dict[str, Any] = {"workspace_id": workspace_id, "name": name.strip(), "kind": kind,
                              "description": description, "created_at": now, "updated_at": now}  # fmt: skip
    if not values["name"]:
        raise InvalidInput("a segment needs a name", code="invalid_name")
    if kind == "dynamic":
        parsed = check_definition(conn, workspace_id, definition, now)
        values |= _stored_definition(parsed)
    elif definition is not None:
        raise InvalidInput(
            "a static segment has no definition; add members instead", code="invalid_definition"
        )
    else:
        values |= {"time_dependent": False, "needs_refresh": False}
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(segment).values(values).returning(segment.c.id)).scalar_one()
    except IntegrityError:
        raise Conflict(f"a segment named {values['name']!r} exists", code="segment_exists") from None
    return get_segment(conn, workspace_id, new_id)


def update_segment(
    conn: Connection, workspace_id: int, segment_id: int, now: datetime, changes: dict[str, Any]
) -> dict[str, Any]:
    current = get_segment(conn, workspace_id, segment_id)
    values: dict[str, Any] = {"updated_at": now}
    for key in ("name", "description"):
        if key in changes:
            values[key] = changes[key]
    if "definition" in changes:
        if current["kind"] != "dynamic":
            raise InvalidInput("a static segment has no definition", code="invalid_definition")
        parsed = check_definition(conn, workspace_id, changes["definition"], now, segment_id)
        check_segment_definition(conn, workspace_id, segment_id, parsed.model_dump(mode="json"))
        values |= _stored_definition(parsed)
    try:
        with conn.begin_nested():
            conn.execute(update(segment).where(segment.c.id == segment_id).values(values))
    except IntegrityError:
        raise Conflict(f"a segment named {values.get('name')!r} exists", code="segment_exists") from None
    return get_segment(conn, workspace_id, segment_id)


def _segment_row(conn: Connection, workspace_id: int, segment_id: int) -> Any:
    row = conn.execute(
        select(segment).where(segment.c.id == segment_id, segment.c.workspace_id == workspace_id)
    ).first()
    if row is None:
        raise NotFound(f"segment {segment_id} not found", code="segment_not_found")
    return row


def get_segment(conn: Connection, workspace_id: int, segment_id: int) -> dict[str, Any]:
    return dict(_segment_row(conn, workspace_id, segment_id)._mapping)


def delete_segment(conn: Connection, workspace_id: int, segment_id: int) -> None:
    """Refused while another segment's definition refers to this one."""
    get_segment(conn, workspace_id, segment_id)
    users = [
        row.name
        for row in conn.execute(
            select(segment.c.name, segment.c.definition).where(
                segment.c.workspace_id == workspace_id,
                segment.c.kind == "dynamic",
                segment.c.id != segment_id,
            )
        )
        if segment_id in referenced_segments(parse_definition(row.definition).root)
    ]
    if users:
        raise Conflict(
            f"segment {segment_id} is used by {', '.join(sorted(users))}; change those first",
            code="segment_in_use",
        )
    conn.execute(delete(segment).where(segment.c.id == segment_id))


def list_segments(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    counts = (
        select(segment_membership.c.segment_id, func.count().label("n"))
        .where(segment_membership.c.workspace_id == workspace_id)
        .group_by(segment_membership.c.segment_id)
        .subquery()
    )
    rows = conn.execute(
        select(segment, func.coalesce(counts.c.n, 0).label("member_count"))
        .outerjoin(counts, counts.c.segment_id == segment.c.id)
        .where(segment.c.workspace_id == workspace_id)
        .order_by(segment.c.id)
    )
    return [dict(r._mapping) for r in rows]


def with_count(conn: Connection, seg: dict[str, Any]) -> dict[str, Any]:
    n = conn.execute(select(func.count()).where(segment_membership.c.segment_id == seg["id"])).scalar_one()
    return {**seg, "member_count": n}


def preview(
    conn: Connection,
    workspace_id: int,
    data: Any,
    now: datetime,
    sample: int = 10,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """How many contacts an unsaved definition matches right now (or as of the earlier
    instant ``as_of``), and a few of them: what an editor calls on every change."""
    definition = parse_definition(data)
    check_segment_references(conn, workspace_id, definition.root, "definition.root")
    ctx = evaluation_context(conn, workspace_id, now, as_of)
    matching = members_query(workspace_id, definition, ctx).subquery()
    count = conn.execute(select(func.count()).select_from(matching)).scalar_one()
    rows = conn.execute(
        select(contact.c.id, contact.c.external_id, contact.c.email)
        .where(contact.c.id.in_(select(matching.c.id)))
        .order_by(contact.c.id)
        .limit(sample)
    )
    names = segment_names(conn, workspace_id, {ref for _, ref in _segment_nodes(definition.root, "root")})
    return {
        "count": count,
        "sample": [dict(r._mapping) for r in rows],
        "as_of": ctx.now,
        "segments": [{"id": k, "name": v} for k, v in sorted(names.items())],
    }


def list_members(
    conn: Connection, workspace_id: int, segment_id: int, *, limit: int, after: int | None
) -> list[dict[str, Any]]:
    get_segment(conn, workspace_id, segment_id)
    stmt = (
        select(contact.c.id, contact.c.external_id, contact.c.email, segment_membership.c.entered_at)
        .join(segment_membership, segment_membership.c.contact_id == contact.c.id)
        .where(segment_membership.c.segment_id == segment_id)
    )
    if after is not None:
        stmt = stmt.where(contact.c.id > after)
    return [dict(r._mapping) for r in conn.execute(stmt.order_by(contact.c.id).limit(limit))]


def segments_of(conn: Connection, workspace_id: int, contact_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(segment.c.id, segment.c.name, segment.c.kind, segment_membership.c.entered_at)
        .join(segment_membership, segment_membership.c.segment_id == segment.c.id)
        .where(segment_membership.c.contact_id == contact_id, segment.c.workspace_id == workspace_id)
        .order_by(segment.c.name)
    )
    return [dict(r._mapping) for r in rows]


def explain_membership(
    conn: Connection,
    workspace_id: int,
    segment_id: int,
    contact_id: int,
    now: datetime,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    seg = get_segment(conn, workspace_id, segment_id)
    if seg["kind"] != "dynamic":
        raise InvalidInput("only dynamic segments have conditions to explain", code="not_dynamic")
    stored = conn.execute(
        select(segment_membership.c.contact_id).where(
            segment_membership.c.segment_id == segment_id, segment_membership.c.contact_id == contact_id
        )
    ).first()
    definition = parse_definition(seg["definition"])
    tree = explain(conn, workspace_id, definition, contact_id, now, as_of=as_of)
    return {"segment_id": segment_id, "segment_name": seg["name"], "contact_id": contact_id,
            "as_of": ensure_utc(as_of or now), "matches": tree["holds"], "member": stored is not None,
            "root": tree}  # fmt: skip


def _static(conn: Connection, workspace_id: int, segment_id: int) -> Any:
    row = _segment_row(conn, workspace_id, segment_id)
    if row.kind != "static":
        raise Conflict(
            "members of a dynamic segment follow its definition; use a static segment for a list",
            code="segment_is_dynamic",
        )
    return row


def add_list_members(
    conn: Connection, workspace_id: int, segment_id: int, contact_ids: list[int], now: datetime
) -> dict[str, int]:
    """Add contacts to a static list; merged ids count as their survivor. Unknown ids (or
    another workspace's) refuse the whole request, naming them."""
    seg = _static(conn, workspace_id, segment_id)
    found = {
        row.id: row.merged_into or row.id
        for row in conn.execute(
            select(contact.c.id, contact.c.merged_into).where(
                contact.c.workspace_id == workspace_id, contact.c.id.in_(contact_ids)
            )
        )
    }
    unknown = [c for c in contact_ids if c not in found]
    if unknown:
        raise InvalidInput(f"contact_ids: no such contacts {unknown[:20]}", code="unknown_contacts")
    entered = add_members(conn, seg, [found[c] for c in contact_ids], now)
    return {"added": len(entered)}


def remove_list_member(
    conn: Connection, workspace_id: int, segment_id: int, contact_id: int, now: datetime
) -> bool:
    return remove_member(conn, _static(conn, workspace_id, segment_id), contact_id, now)


def static_list(conn: Connection, workspace_id: int, segment_id: int) -> Any:
    """The static segment (a list) ``segment_id``: ``segment_not_found`` if it is not in the
    workspace, ``segment_is_dynamic`` if its members follow a definition."""
    return _static(conn, workspace_id, segment_id)
