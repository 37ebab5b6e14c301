"""Lifecycle movement: how contacts move between lifecycle stages over time.

Read from ``lifecycle_change`` (written by ``contacts.lifecycle.set_stage``): one GROUP BY
(from, to) per UTC day of the range, each a range of the index ``(workspace_id,
changed_at)``, added up in Python into days, ISO weeks (from Monday) or months (one
grouped row per day and pair of stages). SQLite has no hash aggregation: a GROUP BY sorts
all its rows, and one query grouping a million changes by (period, from, to) cost twice the
CPU of a small sort per day. The days' bounds are bound instants, so the bucketing is the same on
both databases. The current distribution is one GROUP BY over the workspace's contacts.
See ``docs/analytics.md``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from kairos.analytics.attribution import check_range
from kairos.contacts.tables import contact, lifecycle_change
from kairos.db.dialect import no_index
from kairos.db.types import UTCDateTime
from kairos.errors import InvalidInput

INTERVALS = ("day", "week", "month")

_lc = lifecycle_change.c
#: the moves of one day: (from, to, count)
_MOVES = (
    select(_lc.from_stage, _lc.to_stage, func.count())
    .where(
        _lc.workspace_id == bindparam("ws"),
        _lc.changed_at >= bindparam("lo", type_=UTCDateTime()),
        _lc.changed_at < bindparam("hi", type_=UTCDateTime()),
    )
    .group_by(_lc.from_stage, _lc.to_stage)
)
_c = contact.c
#: live contacts per stage: (stage, count), from the partial index ix_contact_stage alone
_STAGED = (
    select(_c.lifecycle_stage, func.count())
    .where(_c.workspace_id == bindparam("ws"), _c.lifecycle_stage.is_not(None), _c.merged_into.is_(None))
    .group_by(_c.lifecycle_stage)
)
#: contacts of the workspace (ix_contact_workspace_id alone) and those merged away
_ALL = select(func.count()).where(_c.workspace_id == bindparam("ws"))
#: (``> 0`` rather than IS NOT NULL: SQLite seeks ix_contact_merged_into for a range only)
_MERGED = select(func.count()).where(_c.merged_into > 0, no_index(_c.workspace_id) == bindparam("ws"))


def check_interval(interval: str) -> str:
    if interval not in INTERVALS:
        raise InvalidInput(f"interval must be one of {', '.join(INTERVALS)}", code="invalid_interval")
    return interval


def period_start(day: date, interval: str) -> date:
    """The first day of the UTC day, ISO week (from Monday) or month holding ``day``."""
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def lifecycle_report(
    conn: Connection, ws: int, start: datetime, end: datetime, interval: str, now: datetime
) -> dict[str, Any]:
    """Changes of lifecycle stage in [start, end), by UTC day, ISO week or month:

    - ``periods``: every period overlapping the range (``period``: its first day), with
      ``entered: {stage: n}``, the contacts that entered each stage in it (a contact that
      enters the same stage twice in one period counts twice; clearing a stage enters
      none). The first and last periods count only what falls inside the range;
    - ``transitions``: ``{from, to, count}`` over the whole range, most frequent first
      (``null``: no stage);
    - ``current``: ``{stage, contacts}``, the live (not merged) contacts per stage as of
      ``now`` (``null``: no stage);
    - ``stages``: the stages entered in the range, sorted (the CSV's columns).
    """
    start, end = check_range(start, end)
    check_interval(interval)
    entered: dict[date, dict[str, int]] = {}
    moves: dict[tuple[str | None, str | None], int] = {}
    day = start.date()
    while (lo := max(start, datetime.combine(day, time(), UTC))) < end:
        counts = entered.setdefault(period_start(day, interval), {})
        day += timedelta(days=1)
        hi = min(end, datetime.combine(day, time(), UTC))
        for frm, to, n in conn.execute(_MOVES, {"ws": ws, "lo": lo, "hi": hi}):
            moves[frm, to] = moves.get((frm, to), 0) + n
            if to is not None:
                counts[to] = counts.get(to, 0) + n
    periods = [{"period": p.isoformat(), "entered": dict(sorted(c.items()))} for p, c in entered.items()]
    ranked = sorted(moves.items(), key=lambda m: (-m[1], m[0][0] is None, m[0][0] or "", m[0][1] or ""))
    transitions = [{"from": frm, "to": to, "count": n} for (frm, to), n in ranked]
    current = [{"stage": stage, "contacts": int(n)} for stage, n in conn.execute(_STAGED, {"ws": ws})]
    current.sort(key=lambda c: c["stage"])
    # the live contacts without a stage, without reading every contact
    live = int(conn.execute(_ALL, {"ws": ws}).scalar_one()) - int(
        conn.execute(_MERGED, {"ws": ws}).scalar_one()
    )
    unstaged = live - sum(c["contacts"] for c in current)
    if unstaged:
        current.append({"stage": None, "contacts": unstaged})
    return {
        "start": start,
        "end": end,
        "interval": interval,
        "as_of": now,
        "stages": sorted({s for p in periods for s in p["entered"]}),
        "periods": periods,
        "transitions": transitions,
        "current": current,
    }
