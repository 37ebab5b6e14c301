"""References between objects stay inside one workspace.

Every id a request carries (a channel, template, topic, segment, offer, campaign, form …)
names a row of the caller's workspace or is refused before anything is written. Ids are
global sequences, so a row of another tenant is always one guess away: checking the
workspace of each referenced row is what keeps tenants apart (tests/api/test_references.py
holds one case per field that names an object).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Table, select

from kairos.errors import InvalidInput


def require_owned(
    conn: Connection,
    table: Table,
    workspace_id: int,
    ids: int | Iterable[int | None] | None,
    *,
    field: str,
    what: str,
    code: str,
) -> None:
    """Raise ``InvalidInput`` (422, ``code``) unless every id names a row of ``table`` in
    ``workspace_id``; ``None`` ids are skipped."""
    wanted = {ids} if isinstance(ids, int) else {i for i in ids or () if i is not None}
    if not wanted:
        return
    found = set(
        conn.execute(
            select(table.c.id).where(table.c.workspace_id == workspace_id, table.c.id.in_(wanted))
        ).scalars()
    )
    missing = sorted(wanted - found)
    if missing:
        raise InvalidInput(f"{field}: no {what} {missing[0]} in this workspace", code=code)
