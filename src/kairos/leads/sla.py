"""Stage SLAs: how long a lead may sit in a stage (hours), and the worker job that escalates
a lead past it — once per stage entry — to its owner and the workspace's admins (there is
no manager hierarchy among console users: admins are the people above an owner), recording
it in ``lead_escalation``.

The stage entry is the contact's latest ``lifecycle_change``; a lead that leaves the stage
and comes back starts a new clock. The job reads the stage history of each SLA's stage up to
``now - hours``, so a workspace's clock (sandboxes) moves it like any worker job.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.orm import aliased

from kairos.accounts import notifications
from kairos.contacts.lifecycle import MAX_STAGE
from kairos.contacts.tables import contact, lifecycle_change
from kairos.leads.tables import lead, lead_escalation, lifecycle_sla
from kairos.workspaces.clocks import EVERY, Scope

#: escalations written per job run (the rest next run)
BATCH = 500


class StageSla(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: str = Field(min_length=1, max_length=MAX_STAGE)
    hours: float = Field(gt=0, le=24 * 365, description="Escalate a lead still at the stage after this long")

    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("stage must not be blank")
        return value.strip()


class StageSlas(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slas: list[StageSla] = Field(max_length=100)

    @field_validator("slas")
    @classmethod
    def _unique(cls, slas: list[StageSla]) -> list[StageSla]:
        if len({s.stage for s in slas}) != len(slas):
            raise ValueError("each stage has one SLA")
        return slas


def list_slas(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    q = select(lifecycle_sla.c.stage, lifecycle_sla.c.hours).where(
        lifecycle_sla.c.workspace_id == workspace_id
    )
    return [dict(r._mapping) for r in conn.execute(q.order_by(lifecycle_sla.c.stage))]


def replace_slas(conn: Connection, workspace_id: int, slas: StageSlas, now: datetime) -> list[dict[str, Any]]:
    conn.execute(delete(lifecycle_sla).where(lifecycle_sla.c.workspace_id == workspace_id))
    if slas.slas:
        conn.execute(
            insert(lifecycle_sla),
            [
                {"workspace_id": workspace_id, "stage": s.stage, "hours": s.hours, "updated_at": now}
                for s in slas.slas
            ],
        )
    return list_slas(conn, workspace_id)


def escalate_slas(conn: Connection, now: datetime, scope: Scope = EVERY) -> int:
    """Escalate leads past their stage's SLA; returns how many."""
    slas = list(
        conn.execute(
            select(lifecycle_sla.c.workspace_id, lifecycle_sla.c.stage, lifecycle_sla.c.hours).where(
                scope.clause(lifecycle_sla.c.workspace_id)
            )
        )
    )
    done = 0
    admins: dict[int, list[int]] = {}
    for ws, stage, hours in slas:
        if done >= BATCH:
            break
        lc = lifecycle_change
        later = aliased(lifecycle_change)
        due = now - timedelta(hours=float(hours))
        rows = conn.execute(
            select(
                lc.c.id,
                lc.c.contact_id,
                lc.c.changed_at,
                lead.c.owner_user_id,
                contact.c.first_name,
                contact.c.last_name,
                contact.c.email,
            )
            .join(contact, contact.c.id == lc.c.contact_id)
            .outerjoin(lead, lead.c.contact_id == lc.c.contact_id)
            .where(
                lc.c.workspace_id == ws,
                lc.c.to_stage == stage,
                lc.c.changed_at <= due,
                contact.c.lifecycle_stage == stage,
                contact.c.merged_into.is_(None),
                ~select(later.c.id)
                .where(later.c.contact_id == lc.c.contact_id, later.c.id > lc.c.id)
                .exists(),
                ~select(lead_escalation.c.id).where(lead_escalation.c.change_id == lc.c.id).exists(),
            )
            .order_by(lc.c.id)
            .limit(BATCH - done)
        ).all()
        if not rows:
            continue
        if ws not in admins:
            admins[ws] = notifications.admins(conn, ws)
        for r in rows:
            told = sorted(
                set(admins[ws])
                | set(notifications.members(conn, ws, [r.owner_user_id] if r.owner_user_id else []))
            )
            name = " ".join(p for p in (r.first_name, r.last_name) if p) or r.email or f"#{r.contact_id}"
            conn.execute(
                insert(lead_escalation).values(
                    workspace_id=ws,
                    contact_id=r.contact_id,
                    change_id=r.id,
                    stage=stage,
                    stage_since=r.changed_at,
                    owner_user_id=r.owner_user_id,
                    notified=told,
                    escalated_at=now,
                )
            )
            notifications.notify(
                conn,
                ws,
                told,
                "lead_sla_breached",
                {"contact_id": r.contact_id, "contact": name, "stage": stage, "hours": float(hours)},
                f"/leads?contact={r.contact_id}",
                now,
            )
        done += len(rows)
    return done
