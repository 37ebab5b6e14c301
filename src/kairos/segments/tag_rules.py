"""Tag rules: while a contact is a member of a segment it carries a tag (members of "Big
spenders" are tagged ``vip``), for tools and people who work with tags rather than segments.

A rule is applied where membership transitions are recorded (``membership._record``), in
the same transaction: entering tags, exiting untags, one statement per 1,000 contacts. An
exit keeps the tag when the contact is still a member of another segment whose rule gives
the same tag. Creating a rule tags the current members; deleting one leaves every tag where
it is (users of Braze or Customer.io expect that: a rule stops, it does not undo).

Tag changes mark the contacts changed, and the segments testing those tags are re-evaluated
for them at once, in the same transaction: the changed-contacts queue would drop a contact
re-marked while its own batch is being handled. A rule whose segment tests its tag (directly,
through other rules, or through segment conditions) would make members leave and enter
forever, and is refused (``tag_rule_loop``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from kairos.contacts.service import mark_changed
from kairos.contacts.tags import tag_contacts, untag_contacts, validate_tag
from kairos.db.dialect import chunks
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.segments.deps import stored_dependencies
from kairos.segments.tables import segment, segment_membership, tag_rule

#: refresh(conn, segment row, now, contact ids): ``membership.refresh``, handed in by its
#: caller so this module need not import membership (which imports this one).
Refresh = Callable[[Connection, Any, datetime, Sequence[int]], object]

#: Segments whose tag changes are being propagated on this thread: a segment edited since
#: its rule was made could otherwise recurse forever.
_propagating: ContextVar[frozenset[int]] = ContextVar("tag_rule_propagating", default=frozenset())


def apply_tag_rules(
    conn: Connection, seg: Any, now: datetime, entered: Sequence[int], exited: Sequence[int], refresh: Refresh
) -> None:
    """Tag the contacts that entered ``seg`` and untag those that exited, per its rules."""
    tags = list(
        conn.execute(
            select(tag_rule.c.tag).where(
                tag_rule.c.workspace_id == seg.workspace_id, tag_rule.c.segment_id == seg.id
            )
        ).scalars()
    )
    if not tags:
        return
    changed_tags: set[str] = set()
    changed: set[int] = set()
    for name in tags:
        ids = tag_contacts(conn, seg.workspace_id, name, entered, now) if entered else []
        if exited:
            kept = _tagged_elsewhere(conn, seg, name, exited)
            ids += untag_contacts(conn, seg.workspace_id, name, [c for c in exited if c not in kept], now)
        if ids:
            changed_tags.add(name)
            changed.update(ids)
    if not changed:
        return
    contacts = sorted(changed)
    mark_changed(conn, seg.workspace_id, contacts, now)
    _reevaluate_dependents(conn, seg, changed_tags, contacts, now, refresh)


def _tagged_elsewhere(conn: Connection, seg: Any, name: str, contact_ids: Sequence[int]) -> set[int]:
    """Those of ``contact_ids`` still members of another segment whose rule gives ``name``."""
    kept: set[int] = set()
    for part in chunks(contact_ids):
        kept.update(
            conn.execute(
                select(segment_membership.c.contact_id)
                .join(tag_rule, tag_rule.c.segment_id == segment_membership.c.segment_id)
                .where(
                    tag_rule.c.workspace_id == seg.workspace_id,
                    tag_rule.c.tag == name,
                    tag_rule.c.segment_id != seg.id,
                    segment_membership.c.contact_id.in_(part),
                )
            ).scalars()
        )
    return kept


def _reevaluate_dependents(
    conn: Connection, seg: Any, tags: set[str], contacts: list[int], now: datetime, refresh: Refresh
) -> None:
    active = _propagating.get() | {seg.id}
    dependents = [
        row
        for row in conn.execute(
            select(segment).where(
                segment.c.workspace_id == seg.workspace_id,
                segment.c.kind == "dynamic",
                segment.c.needs_refresh.is_(False),  # a full refresh is coming anyway
            )
        )
        if row.id not in active and stored_dependencies(row.definition).tags & tags
    ]
    if not dependents:
        return
    token = _propagating.set(active)
    try:
        for dependent in dependents:
            refresh(conn, dependent, now, contacts)
    finally:
        _propagating.reset(token)


# --- loops -------------------------------------------------------------------------------


def _loop(
    conn: Connection, workspace_id: int, rules: list[tuple[int, str]], changed: dict[int, Any]
) -> tuple[int, str] | None:
    """The first rule (segment id, tag) that reaches its own segment again, if any:
    tagging can change who matches the segments testing the tag, whose rules tag again,
    and segments testing membership of those follow them. ``changed`` overrides stored
    definitions (a segment being edited)."""
    testing: dict[str, set[int]] = {}
    followers: dict[int, set[int]] = {}
    for sid, definition in conn.execute(
        select(segment.c.id, segment.c.definition).where(
            segment.c.workspace_id == workspace_id, segment.c.kind == "dynamic"
        )
    ):
        refs = stored_dependencies(changed.get(sid, definition))
        for t in refs.tags:
            testing.setdefault(t, set()).add(sid)
        for other in refs.segments:
            followers.setdefault(other, set()).add(sid)
    tags_of: dict[int, set[str]] = {}
    for sid, t in rules:
        tags_of.setdefault(sid, set()).add(t)
    for start, tag in rules:
        frontier, seen = list(testing.get(tag, ())), set[int]()
        while frontier:
            sid = frontier.pop()
            if sid == start:
                return start, tag
            if sid not in seen:
                seen.add(sid)
                frontier += [s for t in tags_of.get(sid, ()) for s in testing.get(t, ())]
                frontier += followers.get(sid, ())
    return None


def _rules(conn: Connection, workspace_id: int) -> list[tuple[int, str]]:
    rows = conn.execute(
        select(tag_rule.c.segment_id, tag_rule.c.tag).where(tag_rule.c.workspace_id == workspace_id)
    )
    return [(sid, t) for sid, t in rows]


def check_segment_definition(conn: Connection, workspace_id: int, segment_id: int, definition: Any) -> None:
    """For the segment service, before saving a new definition: refuse one that would make
    an existing tag rule loop (the segment would test a tag its own rules give)."""
    loop = _loop(conn, workspace_id, _rules(conn, workspace_id), {segment_id: definition})
    if loop is not None:
        raise InvalidInput(
            f"definition: tests the tag {loop[1]!r}, which a tag rule gives to members of segment {loop[0]}; "
            "members would leave and enter again forever",
            code="tag_rule_loop",
        )


# --- rules -------------------------------------------------------------------------------


def create_tag_rule(
    conn: Connection, workspace_id: int, now: datetime, *, segment_id: int, tag: str, name: str | None = None
) -> dict[str, Any]:
    """A new rule; the segment's current members are tagged now, in this transaction."""
    seg = conn.execute(
        select(segment.c.id, segment.c.name).where(
            segment.c.id == segment_id, segment.c.workspace_id == workspace_id
        )
    ).first()
    if seg is None:
        raise InvalidInput(f"segment_id: no segment {segment_id}", code="unknown_segment")
    tag = validate_tag(tag)
    if _loop(conn, workspace_id, [*_rules(conn, workspace_id), (segment_id, tag)], {}) is not None:
        raise InvalidInput(
            f"segment {seg.name!r} tests the tag {tag!r} (itself or through other rules or segments): "
            "tagging its members would make them leave and enter again forever",
            code="tag_rule_loop",
        )
    name = (name or "").strip() or f"{seg.name} → {tag}"[:200]
    values = {
        "workspace_id": workspace_id,
        "name": name,
        "segment_id": segment_id,
        "tag": tag,
        "created_at": now,
    }
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(tag_rule).values(values).returning(tag_rule.c.id)).scalar_one()
    except IntegrityError:
        raise Conflict(
            f"segment {seg.name!r} already has a rule for tag {tag!r}", code="tag_rule_exists"
        ) from None
    members = list(
        conn.execute(
            select(segment_membership.c.contact_id).where(segment_membership.c.segment_id == segment_id)
        ).scalars()
    )
    tagged = tag_contacts(conn, workspace_id, tag, members, now)
    mark_changed(conn, workspace_id, tagged, now)
    return get_tag_rule(conn, workspace_id, new_id)


def get_tag_rule(conn: Connection, workspace_id: int, rule_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(tag_rule).where(tag_rule.c.id == rule_id, tag_rule.c.workspace_id == workspace_id)
    ).first()
    if row is None:
        raise NotFound(f"tag rule {rule_id} not found", code="tag_rule_not_found")
    return dict(row._mapping)


def list_tag_rules(
    conn: Connection, workspace_id: int, segment_id: int | None = None
) -> list[dict[str, Any]]:
    stmt = select(tag_rule).where(tag_rule.c.workspace_id == workspace_id)
    if segment_id is not None:
        stmt = stmt.where(tag_rule.c.segment_id == segment_id)
    return [dict(r._mapping) for r in conn.execute(stmt.order_by(tag_rule.c.id))]


def delete_tag_rule(conn: Connection, workspace_id: int, rule_id: int) -> None:
    """The rule stops; the tags it gave stay."""
    get_tag_rule(conn, workspace_id, rule_id)
    conn.execute(delete(tag_rule).where(tag_rule.c.id == rule_id))
