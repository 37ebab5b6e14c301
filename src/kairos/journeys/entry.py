"""Entering a journey: the entry rules, applied to any number of candidates at once.

A candidate is (contact, entry key, payload). The entry key names the trigger occurrence —
``event:<id>``, ``seg:<transition id>``, ``tag:<contact>:<instant>``, ``api:<key>`` — and is
unique per journey, so reading a source twice (triggers re-read a short overlap to be safe
against late commits) never enrolls twice. At most one enrollment per contact and journey
runs at a time (a unique constraint); the re-entry rule, exclusion segment and cap are
checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from kairos.db.dialect import chunks, insert_on_conflict
from kairos.journeys.definition import JourneyDefinition
from kairos.journeys.engine import ACTIVE, ENTER
from kairos.journeys.tables import enrollment
from kairos.segments.tables import segment_membership


@dataclass(slots=True)
class Candidate:
    contact_id: int
    entry_key: str
    payload: dict[str, Any] | None = None


def enroll(
    conn: Connection,
    workspace_id: int,
    journey_id: int,
    version_id: int,
    definition: JourneyDefinition,
    candidates: list[Candidate],
    now: datetime,
) -> list[int]:
    """Enroll the candidates the entry rules admit; returns the contact ids that entered."""
    if not candidates:
        return []
    rules = definition.entry
    contact_ids = {c.contact_id for c in candidates}
    refused: set[int] = set()
    if rules.reentry != "always":
        last: dict[int, datetime] = {}
        for part in chunks(contact_ids):
            for cid, at in conn.execute(
                select(enrollment.c.contact_id, func.max(enrollment.c.entered_at))
                .where(enrollment.c.journey_id == journey_id, enrollment.c.contact_id.in_(part))
                .group_by(enrollment.c.contact_id)
            ):
                last[cid] = at
        if rules.reentry == "never":
            refused |= set(last)
        elif rules.reentry_after is not None:
            since = rules.reentry_after.before(now)
            refused |= {cid for cid, at in last.items() if at > since}
    if rules.exclude_segment_id is not None:
        for part in chunks(contact_ids):
            refused |= set(
                conn.execute(
                    select(segment_membership.c.contact_id).where(
                        segment_membership.c.segment_id == rules.exclude_segment_id,
                        segment_membership.c.contact_id.in_(part),
                    )
                ).scalars()
            )
    seen: set[int] = set()
    admitted: list[Candidate] = []
    for c in candidates:  # one entry per contact per call: the first occurrence wins
        if c.contact_id not in refused and c.contact_id not in seen:
            seen.add(c.contact_id)
            admitted.append(c)
    if rules.cap is not None:
        count = conn.execute(select(func.count()).where(enrollment.c.journey_id == journey_id)).scalar_one()
        admitted = admitted[: max(rules.cap - count, 0)]
    if not admitted:
        return []
    rows = [
        {
            "workspace_id": workspace_id, "journey_id": journey_id, "version_id": version_id,
            "contact_id": c.contact_id, "state": ACTIVE, "node": definition.start, "phase": ENTER,
            "resume_at": now, "node_at": now, "steps": 0, "payload": c.payload, "entry_key": c.entry_key,
            "active_journey_id": journey_id, "entered_at": now, "updated_at": now,
        }
        for c in admitted
    ]  # fmt: skip
    entered: list[int] = []
    stmt = insert_on_conflict(conn, enrollment).on_conflict_do_nothing().returning(enrollment.c.contact_id)
    for batch in chunks(rows, 500):
        entered.extend(int(cid) for cid in conn.execute(stmt, list(batch)).scalars())
    return entered
