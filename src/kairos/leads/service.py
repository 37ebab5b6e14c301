"""My leads, and the sales hand-off: a lead's owner accepts it (→ ``SQL``) or rejects it with
a reason (→ ``nurture``: recycled to marketing), each recorded in the stage history
(source ``accepted`` / ``rejected``) and as an event on the contact (``Lead Accepted`` /
``Lead Rejected``), so segments, journeys and reports can use it."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from kairos.accounts.tables import app_user
from kairos.contacts.lifecycle import set_stage
from kairos.contacts.tables import contact, lifecycle_change
from kairos.errors import Conflict, Forbidden, InvalidInput, NotFound
from kairos.events.ingest import InternalEvent, record_internal
from kairos.leads.tables import lead, lead_escalation, lifecycle_sla

ACCEPTED_STAGE = "SQL"
REJECTED_STAGE = "nurture"
MAX_REASON = 500
#: custom attributes shown with a lead (the first ones, by name, that are plain values)
SUMMARY_TRAITS = 12


def _summary(traits: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in sorted(traits or {}):
        value = (traits or {})[key]
        if key == "sales_owner" or isinstance(value, (dict, list)) or value is None:
            continue
        out[key] = value if not isinstance(value, str) else value[:200]
        if len(out) >= SUMMARY_TRAITS:
            break
    return out


def _since() -> Any:
    """The latest stage change of the contact (when it reached its stage)."""
    lc = lifecycle_change.c
    return (
        select(func.max(lc.changed_at))
        .where(lc.contact_id == contact.c.id)
        .correlate(contact)
        .scalar_subquery()
    )


def list_leads(
    conn: Connection,
    workspace_id: int,
    now: datetime,
    *,
    owner: int | None,
    stage: str | None,
    limit: int,
    after: int | None,
) -> tuple[list[dict[str, Any]], int | None]:
    """Leads (contacts with an owner) newest assignment first — ``owner``'s only when given —
    with the stage, since when, the SLA due time and whether it was escalated."""
    since = _since().label("stage_since")
    sla = (
        select(lifecycle_sla.c.hours)
        .where(
            lifecycle_sla.c.workspace_id == workspace_id, lifecycle_sla.c.stage == contact.c.lifecycle_stage
        )
        .correlate(contact)
        .scalar_subquery()
        .label("sla_hours")
    )
    q = (
        select(
            contact.c.id,
            contact.c.email,
            contact.c.first_name,
            contact.c.last_name,
            contact.c.external_id,
            contact.c.lifecycle_stage,
            contact.c.score,
            contact.c.traits,
            lead.c.owner_user_id,
            app_user.c.name.label("owner_name"),
            app_user.c.email.label("owner_email"),
            lead.c.assigned_at,
            since,
            sla,
        )
        .join(contact, and_(contact.c.id == lead.c.contact_id, contact.c.merged_into.is_(None)))
        .outerjoin(app_user, app_user.c.id == lead.c.owner_user_id)
        .where(lead.c.workspace_id == workspace_id)
    )
    if owner is not None:
        q = q.where(lead.c.owner_user_id == owner)
    if stage is not None:
        q = q.where(contact.c.lifecycle_stage == stage)
    if after is not None:
        q = q.where(lead.c.contact_id < after)
    rows = list(conn.execute(q.order_by(lead.c.contact_id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    escalated = _escalated(conn, [r.id for r in rows])
    out = []
    for r in rows:
        due = None
        if r.sla_hours is not None and r.stage_since is not None:
            from datetime import timedelta

            due = r.stage_since + timedelta(hours=float(r.sla_hours))
        out.append(
            {
                "contact_id": r.id,
                "email": r.email,
                "first_name": r.first_name,
                "last_name": r.last_name,
                "external_id": r.external_id,
                "stage": r.lifecycle_stage,
                "stage_since": r.stage_since,
                "score": float(r.score or 0),
                "traits": _summary(r.traits),
                "owner": None
                if r.owner_user_id is None
                else {"id": r.owner_user_id, "name": r.owner_name, "email": r.owner_email},
                "assigned_at": r.assigned_at,
                "sla_due_at": due,
                "overdue": due is not None and due <= now,
                "escalated": r.id in escalated,
            }
        )
    return out, (rows[-1].id if more and rows else None)


def _escalated(conn: Connection, contact_ids: list[int]) -> set[int]:
    """Those whose current stage entry was escalated."""
    if not contact_ids:
        return set()
    lc = lifecycle_change.c
    latest = (
        select(lc.contact_id, func.max(lc.id).label("change_id"))
        .where(lc.contact_id.in_(contact_ids))
        .group_by(lc.contact_id)
        .subquery()
    )
    return set(
        conn.execute(
            select(lead_escalation.c.contact_id).join(
                latest, latest.c.change_id == lead_escalation.c.change_id
            )
        ).scalars()
    )


def _lead(conn: Connection, workspace_id: int, contact_id: int) -> Any:
    row = conn.execute(
        select(lead.c.owner_user_id, contact.c.lifecycle_stage)
        .join(contact, contact.c.id == lead.c.contact_id)
        .where(
            lead.c.workspace_id == workspace_id,
            lead.c.contact_id == contact_id,
            contact.c.merged_into.is_(None),
        )
    ).first()
    if row is None:
        raise NotFound(f"contact {contact_id} is not a lead (it has no owner)", code="lead_not_found")
    return row


def _may_work(row: Any, user_id: int | None, any_lead: bool) -> None:
    if not any_lead and row.owner_user_id != user_id:
        raise Forbidden(
            "this lead is someone else's: only its owner (or an admin or marketer) decides",
            code="not_your_lead",
        )


def accept(
    conn: Connection,
    workspace_id: int,
    contact_id: int,
    now: datetime,
    *,
    user_id: int | None,
    actor: str,
    any_lead: bool,
) -> dict[str, Any]:
    """The owner takes the lead: stage ``SQL`` (source ``accepted``), event ``Lead Accepted``."""
    row = _lead(conn, workspace_id, contact_id)
    _may_work(row, user_id, any_lead)
    if row.lifecycle_stage == ACCEPTED_STAGE:
        raise Conflict(f"the lead is already at {ACCEPTED_STAGE}", code="lead_already_accepted")
    set_stage(conn, workspace_id, [contact_id], ACCEPTED_STAGE, now, "accepted")
    record_internal(
        conn,
        workspace_id,
        [
            InternalEvent(
                contact_id,
                "Lead Accepted",
                {"from_stage": row.lifecycle_stage, "stage": ACCEPTED_STAGE, "by": actor},
                now,
                f"kairos-lead-{secrets.token_hex(12)}",
            )
        ],
        now,
    )
    return {"contact_id": contact_id, "stage": ACCEPTED_STAGE, "from_stage": row.lifecycle_stage, "at": now}


def reject(
    conn: Connection,
    workspace_id: int,
    contact_id: int,
    reason: str,
    now: datetime,
    *,
    user_id: int | None,
    actor: str,
    any_lead: bool,
) -> dict[str, Any]:
    """The owner hands the lead back with a reason: stage ``nurture`` (source ``rejected``),
    event ``Lead Rejected`` {reason}. The owner stays recorded until a rule reassigns it."""
    text = reason.strip()
    if not 1 <= len(text) <= MAX_REASON:
        raise InvalidInput(f"reason: 1 to {MAX_REASON} characters", code="invalid_reason")
    row = _lead(conn, workspace_id, contact_id)
    _may_work(row, user_id, any_lead)
    if row.lifecycle_stage == REJECTED_STAGE:
        raise Conflict(f"the lead is already at {REJECTED_STAGE}", code="lead_already_rejected")
    set_stage(conn, workspace_id, [contact_id], REJECTED_STAGE, now, "rejected")
    record_internal(
        conn,
        workspace_id,
        [
            InternalEvent(
                contact_id,
                "Lead Rejected",
                {"from_stage": row.lifecycle_stage, "stage": REJECTED_STAGE, "reason": text, "by": actor},
                now,
                f"kairos-lead-{secrets.token_hex(12)}",
            )
        ],
        now,
    )
    return {"contact_id": contact_id, "stage": REJECTED_STAGE, "from_stage": row.lifecycle_stage, "at": now}
