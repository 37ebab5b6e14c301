"""How many members each segment had at the end of each recent day, and how many entered and
left that day (``docs/segments.md``, "Membership trend").

The figures come from the entry and exit log (``membership_transition``), read backwards
from today's member count: members at the end of a day are the members now, less those
who entered after that day, plus those who left after it. One grouped statement reads the
window's transitions through ``ix_membership_transition_segment_at`` (a range per segment),
whatever the segment's size; nothing is snapshotted.

What the log does not hold is not in the trend: an erased contact's entries and exits go
with it (as its membership does), so the past counts are those of the contacts that remain.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select

from kairos.clock import ensure_utc
from kairos.db.dialect import IN_CHUNK, chunks, day_number
from kairos.segments.tables import membership_transition, segment, segment_membership

__all__ = ["MAX_DAYS", "membership_trend"]

#: the longest trend served (the history is kept for ever; the figure is a read of it)
MAX_DAYS = 400
_EPOCH = date(1970, 1, 1)


def membership_trend(
    conn: Connection, ws: int, now: datetime, days: int = 30, segment_ids: list[int] | None = None
) -> dict[str, Any]:
    """The last ``days`` UTC days up to today (``now``'s day) for the workspace's segments
    (or those of ``segment_ids`` that are the workspace's; others are left out)."""
    today = ensure_utc(now).date()
    first = today - timedelta(days=days - 1)
    s = segment.c
    where = [s.workspace_id == ws]
    if segment_ids is not None:
        where.append(s.id.in_(sorted(set(segment_ids))[:IN_CHUNK]))
    ids = list(conn.execute(select(s.id).where(*where).order_by(s.id)).scalars())

    sm, mt = segment_membership.c, membership_transition.c
    members: dict[int, int] = dict.fromkeys(ids, 0)
    # (segment, day) → [entered, exited]
    moves: dict[tuple[int, int], list[int]] = {}
    start = datetime.combine(first, time(), tzinfo=UTC)
    day = day_number(mt.at, conn.dialect.name)
    for part in chunks(ids):
        for seg_id, n in conn.execute(
            select(sm.segment_id, func.count()).where(sm.segment_id.in_(part)).group_by(sm.segment_id)
        ):
            members[seg_id] = int(n)
        for seg_id, d, entered, exited in conn.execute(
            select(
                mt.segment_id,
                day,
                func.sum(case((mt.kind == "entered", 1), else_=0)),
                func.sum(case((mt.kind == "exited", 1), else_=0)),
            )
            .where(mt.segment_id.in_(part), mt.at >= start)
            .group_by(mt.segment_id, day)
        ):
            moves[(seg_id, int(d))] = [int(entered or 0), int(exited or 0)]

    offset = (first - _EPOCH).days
    out = []
    for seg_id in ids:
        entered = [0] * days
        exited = [0] * days
        for i in range(days):
            e, x = moves.get((seg_id, offset + i), (0, 0))
            entered[i], exited[i] = e, x
        # after today's moves (a clock behind a transition's stamp counts it today)
        later = sum(e - x for (sid, d), (e, x) in moves.items() if sid == seg_id and d >= offset + days)
        count = members[seg_id] - later
        counts = [0] * days
        for i in range(days - 1, -1, -1):
            counts[i] = max(count, 0)
            count -= entered[i] - exited[i]
        out.append({"segment_id": seg_id, "members": counts, "entered": entered, "exited": exited})
    return {
        "days": [(first + timedelta(days=i)).isoformat() for i in range(days)],
        "as_of": now,
        "segments": out,
    }
