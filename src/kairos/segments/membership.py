"""Segment membership: who is in, and every entry and exit with its instant.

One ``refresh`` serves all three ways membership moves: a full recompute (new or changed
definition), the changed contacts the worker hands over (events or attributes moved), and
the periodic re-check of segments whose conditions look at time ("viewed in the last 7
days" is left by doing nothing). Each is two set-based statements — insert the members not
yet stored, delete the stored ones no longer matching — whose RETURNING rows become
transitions.

The worker's periodic re-check (``recheck_due``) computes who matches in a read transaction
(on SQLite a WAL reader, beside the writer) and writes only the difference in a short write
transaction, so ingest and the changed-contacts job do not wait for the whole recompute.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    Table,
    and_,
    delete,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)

from kairos import metrics
from kairos.contacts.changes import Change, ChangeBatch
from kairos.db.dialect import chunks, in_ids
from kairos.db.engine import reading
from kairos.db.types import BigID
from kairos.segments.compiler import Context, context, members_query, parse_definition
from kairos.segments.deps import Dependencies, dependencies
from kairos.segments.tables import membership_transition, segment, segment_membership
from kairos.segments.tag_rules import apply_tag_rules
from kairos.workspaces.clocks import EVERY, Scope

#: How often segments whose conditions look at time are fully re-checked.
TIME_REFRESH = timedelta(minutes=5)
#: Contacts re-checked per statement set by ``refresh(…, contact_ids)``: their ids go as one
#: bound parameter (``in_ids``), so a whole claimed batch of the changed-contacts queue
#: (5,000) is one set of statements per segment (chunks of 1,000 took ~15 % more CPU in B4).
RECHECK_CHUNK = 5000


def refresh(
    conn: Connection, seg: Any, now: datetime, contact_ids: Sequence[int] | None = None
) -> tuple[list[int], list[int]]:
    """Bring one dynamic segment's stored members in line with its definition (for all
    contacts, or only ``contact_ids``); returns (entered, exited) contact ids."""
    definition = parse_definition(seg.definition)
    ctx = context(conn, seg.workspace_id, now)
    if contact_ids is None:
        return _apply(conn, seg, definition, ctx, now, None)
    entered: list[int] = []
    exited: list[int] = []
    for part in chunks(contact_ids, RECHECK_CHUNK):
        e, x = _apply(conn, seg, definition, ctx, now, part)
        entered += e
        exited += x
    return entered, exited


#: Who matches, computed once per refresh and then compared with the stored members (so the
#: definition's query runs once, not once for the insert and again for the delete). Each
#: database connection has its own; on PostgreSQL its rows go at commit.
_matched = Table("kairos_segment_match", MetaData(), Column("contact_id", BigID, primary_key=True))
_CREATE_MATCHED = {
    "sqlite": text(
        "CREATE TEMPORARY TABLE IF NOT EXISTS kairos_segment_match (contact_id INTEGER PRIMARY KEY)"
    ),
    "postgresql": text(
        "CREATE TEMPORARY TABLE IF NOT EXISTS kairos_segment_match (contact_id BIGINT PRIMARY KEY)"
        " ON COMMIT DELETE ROWS"
    ),
}


def _matched_table(conn: Connection) -> Table:
    # created every time, not remembered: a rolled-back transaction takes its creation along
    conn.execute(_CREATE_MATCHED[conn.dialect.name])
    conn.execute(delete(_matched))
    return _matched


def _apply(
    conn: Connection, seg: Any, definition: Any, ctx: Context, now: datetime, ids: Sequence[int] | None
) -> tuple[list[int], list[int]]:
    """Who matches goes into the temporary table once; entries and exits are then found,
    recorded as transitions and applied with set-based statements, no row through Python
    but the ids that RETURNING hands back for tag rules and dependent segments."""
    matched = _matched_table(conn)
    conn.execute(
        insert(matched).from_select(["contact_id"], members_query(seg.workspace_id, definition, ctx, ids))
    )
    sm = segment_membership
    is_member = select(sm.c.contact_id).where(
        sm.c.segment_id == seg.id, sm.c.contact_id == matched.c.contact_id
    )
    _transitions(conn, seg, now, "entered", matched.c.contact_id, [~is_member.exists()])
    new_members = select(
        literal(seg.id), matched.c.contact_id, literal(seg.workspace_id), literal(now, sm.c.entered_at.type)
    ).where(~is_member.exists())
    entered = list(
        conn.execute(
            insert(sm)
            .from_select(["segment_id", "contact_id", "workspace_id", "entered_at"], new_members)
            .returning(sm.c.contact_id)
        ).scalars()
    )
    still = select(matched.c.contact_id).where(matched.c.contact_id == sm.c.contact_id)
    leaving = [sm.c.segment_id == seg.id, ~still.exists()]
    if ids is not None:
        leaving.append(in_ids(sm.c.contact_id, ids, conn.dialect.name))
    _transitions(conn, seg, now, "exited", sm.c.contact_id, leaving)
    exited = list(conn.execute(delete(sm).where(*leaving).returning(sm.c.contact_id)).scalars())
    if entered or exited:
        apply_tag_rules(conn, seg, now, entered, exited, refresh)
    return entered, exited


def _transitions(
    conn: Connection, seg: Any, now: datetime, kind: str, contact_id: Any, where: list[Any]
) -> None:
    """Record a transition for every contact id that ``where`` selects (INSERT … SELECT)."""
    rows = select(
        literal(seg.workspace_id),
        literal(seg.id),
        contact_id,
        literal(kind),
        literal(now, membership_transition.c.at.type),
    ).where(*where)
    conn.execute(
        insert(membership_transition).from_select(
            ["workspace_id", "segment_id", "contact_id", "kind", "at"], rows
        )
    )


def reevaluate_contacts(conn: Connection, batch: ChangeBatch, now: datetime) -> None:
    """Changed-contacts handler: re-check these contacts against the dynamic segments that
    depend on what changed for them (the dependency index), in dependency order."""
    for workspace_id, changes in batch.items():
        segs = _dynamic_segments(conn, workspace_id)
        if segs:
            _reevaluate(conn, segs, changes, now)


def reevaluate_scored(conn: Connection, batch: ChangeBatch, now: datetime) -> None:
    """When scores moved after segments were re-checked (score rules on segment
    membership, ``kairos.scoring``): re-check these contacts against the segments that
    test a score, and those that refer to them."""
    for workspace_id, changes in batch.items():
        segs = _dynamic_segments(conn, workspace_id)
        scored = _scored(segs)
        segs = [(row, deps) for row, deps in segs if row.id in scored]
        if segs:
            _reevaluate(conn, segs, changes, now)


def reevaluate_accounts(conn: Connection, batch: ChangeBatch, now: datetime) -> None:
    """When B2B accounts changed (``kairos.b2b.rollup``): re-check their members against
    the segments that test accounts, and those that refer to them."""
    for workspace_id, changes in batch.items():
        segs = _dynamic_segments(conn, workspace_id)
        out: set[int] = set()
        for row, deps in segs:
            if deps.accounts or deps.segments & out:
                out.add(row.id)
        segs = [(row, deps) for row, deps in segs if row.id in out]
        if segs:
            _reevaluate(conn, segs, changes, now)


def _scored(segs: list[tuple[Any, Dependencies]]) -> set[int]:
    """Ids of the segments (in dependency order) that test a score, directly or through
    the segments they refer to."""
    out: set[int] = set()
    for row, deps in segs:
        if deps.scores or deps.segments & out:
            out.add(row.id)
    return out


def _dynamic_segments(conn: Connection, workspace_id: int) -> list[tuple[Any, Dependencies]]:
    """The workspace's live dynamic segments with their dependencies, each after the
    segments it refers to. Segments awaiting a full refresh are left to it."""
    rows = conn.execute(
        select(segment)
        .where(
            segment.c.workspace_id == workspace_id,
            segment.c.kind == "dynamic",
            segment.c.needs_refresh.is_(False),
        )
        .order_by(segment.c.id)
    ).all()
    pending = {row.id: (row, dependencies(parse_definition(row.definition).root)) for row in rows}
    ordered: list[tuple[Any, Dependencies]] = []
    while pending:
        ready = [sid for sid, (_, deps) in pending.items() if not deps.segments & pending.keys()]
        for sid in ready or list(pending):  # a cycle cannot be saved; never loop on one
            ordered.append(pending.pop(sid))
    return ordered


def _reevaluate(
    conn: Connection,
    segs: list[tuple[Any, Dependencies]],
    changes: dict[int, Change],
    now: datetime,
    moved: dict[int, set[int]] | None = None,
) -> dict[int, set[int]]:
    """Refresh each segment for the contacts whose change it depends on; ``moved`` (segment
    id → contacts that entered or left it) grows as it goes, for segments of segments."""
    moved = {} if moved is None else moved
    index = _ChangeIndex(changes)
    for seg, deps in segs:
        targets = index.affected(deps, moved)
        if targets:
            _share(conn, seg.id)
            entered, exited = refresh(conn, seg, now, targets)
            if entered or exited:
                moved[seg.id] = set(entered) | set(exited)
    return moved


def _share(conn: Connection, segment_id: int) -> None:
    """PostgreSQL: wait for a full refresh of the segment another worker is running (it
    holds the row ``FOR NO KEY UPDATE``) before re-checking some of its contacts, so both
    never record the same entry or exit; incremental re-checks of different contacts share
    the lock, and ``refresh_due`` skips a segment they hold. (SQLite's write lock already
    serialises every worker.)"""
    if conn.dialect.name == "postgresql":
        conn.execute(select(segment.c.id).where(segment.c.id == segment_id).with_for_update(read=True))


class _ChangeIndex:
    """A batch's changed contacts by what changed, built once for all its segments: which
    contacts a segment must re-check is then a few set unions rather than a test of every
    contact of the batch (5,000) against every segment."""

    def __init__(self, changes: dict[int, Change]) -> None:
        self.order = list(changes)
        self.everything: set[int] = set()
        self.profile: set[int] = set()
        self.any_event: set[int] = set()
        self.by_event: dict[str, set[int]] = {}
        for cid, change in changes.items():
            if change.everything:
                self.everything.add(cid)
            if change.profile:
                self.profile.add(cid)
            if change.events:
                self.any_event.add(cid)
                for name in change.events:
                    self.by_event.setdefault(name, set()).add(cid)

    def affected(self, deps: Dependencies, moved: dict[int, set[int]]) -> list[int]:
        """The contacts whose change ``deps`` depends on, in the batch's order; ``moved``:
        segment id → contacts that entered or left it (segments of segments)."""
        if deps.computed or deps.scores or deps.accounts:
            return self.order
        out = set(self.everything)
        if deps.profile:
            out |= self.profile
        if deps.any_event:
            out |= self.any_event
        else:
            for name in deps.events:
                out |= self.by_event.get(name, set())
        for ref in deps.segments:
            out |= moved.get(ref, set())
        if len(out) == len(self.order) and not deps.segments:
            return self.order
        return [cid for cid in self.order if cid in out]


def refresh_due(conn: Connection, now: datetime, scope: Scope = EVERY) -> int:
    """Fully refresh one segment that is new or changed, or time-dependent and not
    re-checked for ``TIME_REFRESH``; then the segments that refer to it, for the contacts
    that moved. One segment per call, all in the caller's transaction. (The worker runs
    ``recheck_due``, which re-checks time-dependent segments outside the write lock.)"""
    seg = _next_due(conn, now, scope)
    if seg is None:
        return 0
    with metrics.SEGMENT_REFRESH_SECONDS.time():
        _refresh_fully(conn, seg, now)
    return 1


def recheck_due(engine: Engine, now: datetime, scope: Scope = EVERY) -> int:
    """Worker job (``segment_refresh``) with transactions of its own; one segment per call.

    A new or changed segment (``needs_refresh``) is computed fully in one write transaction,
    as ``refresh_due`` does. A time-dependent segment that has its members is re-checked in
    three steps, so the write lock is held only for what changes:

    1. the claim, a short write transaction: the segment is stamped ``refreshed_at = now``,
       so it is no longer due for another worker (on PostgreSQL the row is taken
       ``FOR NO KEY UPDATE SKIP LOCKED`` first, as ``refresh_due`` does);
    2. a read transaction computes who matches at ``now`` and compares it with the stored
       members: the contacts that would enter or leave;
    3. a short write transaction re-checks only those contacts (``refresh`` with their ids,
       which re-runs the definition for them, so a contact that changed since step 2 is
       decided by its state now), then the segments that refer to this one — unless the
       segment was changed, removed or claimed again meanwhile.

    A contact that changed between steps 2 and 3 and is not among those is in the
    changed-contacts queue, whose job re-checks it. If step 2 or 3 fails, the claim is given
    back (the old ``refreshed_at``), so the segment is due again at once; a worker that dies
    between steps leaves it to the next period (``TIME_REFRESH``).
    """
    with engine.begin() as conn:
        seg = _next_due(conn, now, scope)
        if seg is None:
            return 0
        if seg.needs_refresh:
            with metrics.SEGMENT_REFRESH_SECONDS.time():
                _refresh_fully(conn, seg, now)
            return 1
        conn.execute(update(segment).where(segment.c.id == seg.id).values(refreshed_at=now))
    try:
        with metrics.SEGMENT_REFRESH_SECONDS.time():
            with reading(engine) as conn:
                candidates = _differences(conn, seg, now)
            with engine.begin() as conn:
                if _still_claimed(conn, seg, now):
                    entered, exited = refresh(conn, seg, now, candidates) if candidates else ([], [])
                    cascade(conn, seg, set(entered) | set(exited), now)
    except BaseException:
        _unclaim(engine, seg, now)
        raise
    return 1


def _next_due(conn: Connection, now: datetime, scope: Scope) -> Any:
    """The segment most overdue for a refresh, claimed; None when none is due."""
    stmt = (
        select(segment)
        .where(
            scope.clause(segment.c.workspace_id),
            segment.c.kind == "dynamic",
            or_(
                segment.c.needs_refresh.is_(True),
                and_(segment.c.time_dependent.is_(True), segment.c.refreshed_at <= now - TIME_REFRESH),
            ),
        )
        .order_by(segment.c.refreshed_at.is_not(None), segment.c.refreshed_at)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        # The claim: another worker skips this segment and takes the next one due (on
        # SQLite the write lock, taken at BEGIN, already serialises workers). NO KEY UPDATE
        # does not block inserts of memberships and transitions that refer to the row.
        stmt = stmt.with_for_update(skip_locked=True, key_share=True)
    return conn.execute(stmt).first()


def _refresh_fully(conn: Connection, seg: Any, now: datetime) -> None:
    entered, exited = refresh(conn, seg, now)
    done = update(segment).where(segment.c.id == seg.id).values(needs_refresh=False, refreshed_at=now)
    conn.execute(done)
    cascade(conn, seg, set(entered) | set(exited), now)


def _differences(conn: Connection, seg: Any, now: datetime) -> list[int]:
    """Read-only: the contacts whose membership of ``seg`` the definition would change at
    ``now`` — matching but not stored, stored but no longer matching (the symmetric
    difference). Who matches goes into this connection's temporary table, which is not the
    database: on SQLite writing it takes no write lock."""
    definition = parse_definition(seg.definition)
    ctx = context(conn, seg.workspace_id, now)
    matched = _matched_table(conn)
    conn.execute(
        insert(matched).from_select(["contact_id"], members_query(seg.workspace_id, definition, ctx))
    )
    sm = segment_membership
    stored = select(sm.c.contact_id).where(sm.c.segment_id == seg.id, sm.c.contact_id == matched.c.contact_id)
    still = select(matched.c.contact_id).where(matched.c.contact_id == sm.c.contact_id)
    entering = select(matched.c.contact_id).where(~stored.exists())
    leaving = select(sm.c.contact_id).where(sm.c.segment_id == seg.id, ~still.exists())
    return list(conn.execute(union_all(entering, leaving)).scalars())


def _still_claimed(conn: Connection, seg: Any, now: datetime) -> bool:
    """Whether the segment is as this re-check claimed it: same definition, no full
    refresh pending, its stamp not taken by another worker. On PostgreSQL the row is then
    held ``FOR NO KEY UPDATE`` (waiting for incremental re-checks that share it), as a full
    refresh holds it."""
    stmt = select(segment.c.definition, segment.c.needs_refresh, segment.c.refreshed_at).where(
        segment.c.id == seg.id
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(key_share=True)
    row = conn.execute(stmt).first()
    return (
        row is not None
        and not row.needs_refresh
        and row.refreshed_at == now
        and row.definition == seg.definition
    )


def _unclaim(engine: Engine, seg: Any, now: datetime) -> None:
    """Give a failed re-check's claim back: the segment is due again, as if its transaction
    had rolled back. Best effort (the database may be what failed)."""
    with contextlib.suppress(Exception), engine.begin() as conn:
        conn.execute(
            update(segment)
            .where(segment.c.id == seg.id, segment.c.refreshed_at == now)
            .values(refreshed_at=seg.refreshed_at)
        )


def cascade(conn: Connection, seg: Any, contact_ids: set[int], now: datetime) -> None:
    """Re-check the segments that refer to ``seg`` for contacts that entered or left it."""
    if not contact_ids:
        return
    dependents = [(row, deps) for row, deps in _dynamic_segments(conn, seg.workspace_id) if row.id != seg.id]
    if dependents:
        _reevaluate(conn, dependents, dict.fromkeys(contact_ids, Change()), now, {seg.id: contact_ids})


def add_members(conn: Connection, seg: Any, contact_ids: Sequence[int], now: datetime) -> list[int]:
    """Static lists: add contacts (already live ids of the segment's workspace); returns
    those that entered (the others were members already)."""
    present: set[int] = set()
    for part in chunks(contact_ids):
        present.update(
            conn.execute(
                select(segment_membership.c.contact_id).where(
                    segment_membership.c.segment_id == seg.id, segment_membership.c.contact_id.in_(part)
                )
            ).scalars()
        )
    entered = [cid for cid in dict.fromkeys(contact_ids) if cid not in present]
    if entered:
        conn.execute(
            insert(segment_membership),
            [
                {"segment_id": seg.id, "contact_id": c, "workspace_id": seg.workspace_id, "entered_at": now}
                for c in entered
            ],
        )
        _record(conn, seg, now, entered, [])
    return entered


def remove_member(conn: Connection, seg: Any, contact_id: int, now: datetime) -> bool:
    gone = conn.execute(
        delete(segment_membership).where(
            segment_membership.c.segment_id == seg.id, segment_membership.c.contact_id == contact_id
        )
    ).rowcount
    if gone:
        _record(conn, seg, now, [], [contact_id])
    return bool(gone)


def _record(conn: Connection, seg: Any, now: datetime, entered: list[int], exited: list[int]) -> None:
    rows = [
        {"workspace_id": seg.workspace_id, "segment_id": seg.id, "contact_id": cid, "kind": kind, "at": now}
        for kind, cids in (("entered", entered), ("exited", exited))
        for cid in cids
    ]
    if rows:
        conn.execute(insert(membership_transition), rows)
        # Tag rules follow in the same transaction (tags given on entry, taken on exit).
        apply_tag_rules(conn, seg, now, entered, exited, refresh)
