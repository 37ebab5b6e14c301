"""Account scores rolled up from the members' scores, and keeping account segments true.

For each account and each score model of its workspace (a member without a score has 0):

- ``sum``: the sum of the members' scores;
- ``max``: the highest member score (0 without members);
- ``engaged``: how many members score at least the model's engaged threshold
  (``account_score_setting``, default ``DEFAULT_ENGAGED``).

Roll-ups are set-based: one DELETE and one INSERT … SELECT … GROUP BY per chunk of accounts.
An account is rolled up again when it is stale: its attributes or members changed (the
API, ``group`` calls, imports, an erased member), its members' scores moved outside the
changed-contacts pass (decay, recompute: ``scoring.engine._follow``), or a threshold changed.

- ``account_changes`` (a changed-contacts handler, after scores and segments): the accounts
  of the batch's contacts are rolled up, then every member of those accounts is re-checked
  against the segments that test accounts (a member's change can move the whole account:
  its score roll-up, the count of members matching a condition).
- ``rollups_due`` (a worker job): the same for stale accounts nobody in the pass touched.

Either way an account whose attributes, members or roll-up changed is queued again on the CRM
connections that hold it (``kairos.crm.accounts.queue_accounts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, case, delete, func, insert, literal, select, update

from kairos.b2b.tables import account, account_contact, account_score, account_score_setting
from kairos.contacts.changes import Change, ChangeBatch
from kairos.crm.accounts import queue_accounts
from kairos.db.dialect import chunks
from kairos.scoring.tables import contact_score, score_model
from kairos.segments.membership import reevaluate_accounts
from kairos.workspaces.clocks import EVERY, Scope

#: a member is engaged from this score on, unless the model sets its own threshold
DEFAULT_ENGAGED = 1.0
#: stale accounts per ``rollups_due`` call (one transaction)
BATCH = 500


def roll_up(conn: Connection, account_ids: Sequence[int], now: datetime) -> set[int]:
    """Roll these accounts' scores up and recount their members; returns the accounts whose
    roll-up or member count changed."""
    ids = sorted(set(account_ids))
    if not ids:
        return set()
    changed: set[int] = set()
    ac, cs, m, st = account_contact.c, contact_score.c, score_model.c, account_score_setting.c
    for part in chunks(ids):
        before = {
            (r.account_id, r.model_id): (r.total, r.max_score, r.engaged)
            for r in conn.execute(select(account_score).where(account_score.c.account_id.in_(part)))
        }
        counts_before = dict(
            conn.execute(select(account.c.id, account.c.member_count).where(account.c.id.in_(part))).all()  # type: ignore[arg-type]
        )
        conn.execute(delete(account_score).where(account_score.c.account_id.in_(part)))
        score = func.coalesce(cs.score, 0.0)
        threshold = func.coalesce(st.engaged_threshold, DEFAULT_ENGAGED)
        rows = (
            select(
                ac.account_id,
                m.id,
                ac.workspace_id,
                func.sum(score),
                func.max(score),
                func.sum(case((score >= threshold, 1), else_=0)),
                literal(now, account_score.c.refreshed_at.type),
            )
            .select_from(account_contact)
            .join(score_model, m.workspace_id == ac.workspace_id)
            .outerjoin(contact_score, (cs.model_id == m.id) & (cs.contact_id == ac.contact_id))
            .outerjoin(account_score_setting, st.model_id == m.id)
            .where(ac.account_id.in_(part))
            .group_by(ac.account_id, m.id, ac.workspace_id)
        )
        conn.execute(
            insert(account_score).from_select(
                ["account_id", "model_id", "workspace_id", "total", "max_score", "engaged", "refreshed_at"],
                rows,
            )
        )
        count = (
            select(func.count())
            .select_from(account_contact)
            .where(ac.account_id == account.c.id)
            .scalar_subquery()
        )
        conn.execute(
            update(account)
            .where(account.c.id.in_(part))
            .values(member_count=count, rollup_stale=False, rolled_up_at=now)
        )
        after = {
            (r.account_id, r.model_id): (r.total, r.max_score, r.engaged)
            for r in conn.execute(select(account_score).where(account_score.c.account_id.in_(part)))
        }
        counts_after = dict(
            conn.execute(select(account.c.id, account.c.member_count).where(account.c.id.in_(part))).all()  # type: ignore[arg-type]
        )
        for key in before.keys() | after.keys():
            if before.get(key) != after.get(key):
                changed.add(key[0])
        changed.update(a for a in part if counts_before.get(a) != counts_after.get(a))
    return changed


def _stale(conn: Connection, account_ids: set[int]) -> set[int]:
    """Which of these accounts changed (attributes, members) since their last roll-up."""
    out: set[int] = set()
    for part in chunks(sorted(account_ids)):
        out.update(
            conn.execute(
                select(account.c.id).where(account.c.id.in_(part), account.c.rollup_stale.is_(True))
            ).scalars()
        )
    return out


def members_of(conn: Connection, account_ids: Sequence[int]) -> list[int]:
    out: set[int] = set()
    for part in chunks(sorted(set(account_ids))):
        out.update(
            conn.execute(
                select(account_contact.c.contact_id).where(account_contact.c.account_id.in_(part))
            ).scalars()
        )
    return sorted(out)


def account_changes(conn: Connection, batch: ChangeBatch, now: datetime) -> None:
    """Changed-contacts handler (after scores and segments): roll up the accounts of the
    batch's contacts, and re-check all their members against the segments testing accounts."""
    for workspace_id, changes in batch.items():
        accounts: set[int] = set()
        for part in chunks(sorted(changes)):
            accounts.update(
                conn.execute(
                    select(account_contact.c.account_id).where(account_contact.c.contact_id.in_(part))
                ).scalars()
            )
        if not accounts:
            continue
        stale = _stale(conn, accounts)
        changed = roll_up(conn, sorted(accounts), now)
        queue_accounts(conn, changed | stale, now)  # re-pushed to the CRMs holding them
        members = members_of(conn, sorted(accounts))
        reevaluate_accounts(conn, {workspace_id: dict.fromkeys(members, Change())}, now)


def rollups_due(conn: Connection, now: datetime, scope: Scope = EVERY) -> int:
    """Worker job: roll up stale accounts (a batch per call) and re-check their members
    against the segments testing accounts; returns how many accounts were rolled up."""
    stmt = (
        select(account.c.id, account.c.workspace_id)
        .where(scope.clause(account.c.workspace_id), account.c.rollup_stale.is_(True))
        .order_by(account.c.id)
        .limit(BATCH)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = conn.execute(stmt).all()
    if not rows:
        return 0
    by_ws: dict[int, list[int]] = {}
    for aid, ws in rows:
        by_ws.setdefault(ws, []).append(aid)
    for ws, ids in by_ws.items():
        roll_up(conn, ids, now)
        queue_accounts(conn, ids, now)  # stale: attributes or members changed; CRMs get them again
        members = members_of(conn, ids)
        if members:
            reevaluate_accounts(conn, {ws: dict.fromkeys(members, Change())}, now)
    return len(rows)
