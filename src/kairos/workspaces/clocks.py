"""Whose time it is: the real clock for live workspaces, a virtual one for sandboxes.

A sandbox workspace is where a marketer rehearses journeys, broadcasts and experiments over
days in seconds. Its clock (``workspace.clock_at``) stands still until it is advanced
(``worker/sandbox.py``), and everything that happens in it is stamped with that virtual time:
events ingested and tracked, profile changes, opens and clicks, messages sent, reports' "now".
A live workspace's time is the real clock's and nothing moves it: there is no way to run a
live workspace as of another instant (docs/sandbox.md).

The worker splits its passes the same way (``Scope``): one pass over every live workspace at
the real now, and one per sandbox at that sandbox's now, each touching only its own rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, true, update

from kairos.clock import Clock, ensure_utc
from kairos.db.engine import reading
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.workspaces.tables import workspace


@dataclass(frozen=True, slots=True)
class Scope:
    """The workspaces a worker job handles: all of them (the default, for direct calls), one
    sandbox (``only``), or every workspace but the sandboxes (``excluded``: the live pass)."""

    only: int | None = None
    excluded: frozenset[int] = frozenset()

    def clause(self, column: Any) -> Any:
        """A WHERE condition on a ``workspace_id`` column."""
        if self.only is not None:
            return column == self.only
        if self.excluded:
            return column.not_in(sorted(self.excluded))
        return true()

    def covers(self, workspace_id: int) -> bool:
        if self.only is not None:
            return workspace_id == self.only
        return workspace_id not in self.excluded


EVERY = Scope()


def sandbox_clocks(conn: Connection) -> dict[int, datetime]:
    """Every sandbox workspace and its virtual now."""
    rows = conn.execute(select(workspace.c.id, workspace.c.clock_at).where(workspace.c.sandbox.is_(True)))
    return {r.id: ensure_utc(r.clock_at) for r in rows}


def workspace_now(conn: Connection, workspace_id: int, clock: Clock) -> datetime:
    """The workspace's now: its virtual clock if it is a sandbox, else ``clock``'s."""
    row = conn.execute(
        select(workspace.c.sandbox, workspace.c.clock_at).where(workspace.c.id == workspace_id)
    ).first()
    if row is not None and row.sandbox:
        return ensure_utc(row.clock_at)
    return clock.now()


class WorkspaceClock:
    """The ``Clock`` of one workspace, for code that takes a clock (imports, the CLI): a
    sandbox's virtual now is read from the database at every call, so an advance made by
    another process is seen at once."""

    def __init__(self, engine: Engine, workspace_id: int, real: Clock) -> None:
        self._engine = engine
        self._workspace_id = workspace_id
        self._real = real

    def now(self) -> datetime:
        with reading(self._engine) as conn:
            return workspace_now(conn, self._workspace_id, self._real)


def sandbox_now(conn: Connection, workspace_id: int, *, lock: bool = False) -> datetime:
    """A sandbox's virtual now; 404 for no such workspace, 409 ``not_a_sandbox`` for a live
    one (a live workspace's time cannot be moved). ``lock`` (PostgreSQL): hold the row, so
    two advances of one sandbox take turns."""
    stmt = select(workspace.c.sandbox, workspace.c.clock_at).where(workspace.c.id == workspace_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise NotFound(f"no workspace {workspace_id}", code="workspace_not_found")
    if not row.sandbox:
        raise Conflict(
            f"workspace {workspace_id} is live: its time is the real clock's and cannot be moved; "
            "rehearse in a sandbox workspace (kairos workspace create --sandbox)",
            code="not_a_sandbox",
        )
    return ensure_utc(row.clock_at)


def set_clock(conn: Connection, workspace_id: int, to: datetime) -> datetime:
    """Move a sandbox's clock forward to ``to`` (never back: a clock already past it stays);
    returns its now."""
    current = sandbox_now(conn, workspace_id, lock=True)
    to = ensure_utc(to)
    if to < current:
        raise InvalidInput(
            f"the sandbox's clock is at {current.isoformat()}; it only moves forward", code="clock_backwards"
        )
    conn.execute(update(workspace).where(workspace.c.id == workspace_id).values(clock_at=to))
    return to
