"""/api/v1 lead management: lifecycle rules and stage SLAs, assignment rules, "My leads"
(accept / reject) and human tasks. Thin: ``kairos.leads``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from kairos.accounts.roles import allows
from kairos.api.auth import Principal
from kairos.api.deps import PrincipalDep, StateDep, WorkspaceDep, encode_cursor, int_cursor
from kairos.db.engine import reading
from kairos.errors import InvalidInput
from kairos.leads import assignment, rules, service, sla, tasks
from kairos.leads.assignment import AssignmentRuleIn
from kairos.leads.rules import LifecycleRuleIn
from kairos.leads.sla import StageSla, StageSlas

router = APIRouter(tags=["leads"])


# --- lifecycle rules ------------------------------------------------------------------------


class LifecycleRuleRead(BaseModel):
    id: int
    name: str
    position: int
    stage: str
    condition: dict[str, Any] | None = Field(description="A segment condition")
    event: dict[str, Any] | None = Field(description="An event match: {event, where}")
    from_stages: list[str | None] | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


class LifecycleRules(BaseModel):
    data: list[LifecycleRuleRead]


@router.get("/lifecycle-rules", response_model=LifecycleRules)
def read_lifecycle_rules(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The workspace's lifecycle rules in the order they are tried."""
    with reading(state.engine) as conn:
        return {"data": rules.list_rules(conn, ws.id)}


@router.post("/lifecycle-rules", response_model=LifecycleRuleRead, status_code=201)
def create_lifecycle_rule(body: LifecycleRuleIn, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """A rule setting `stage` when its `condition` (the segment condition format: attribute,
    tag, event, segment, score conditions …) holds for a changed contact, or when the contact
    performs `event`; optionally only from `from_stages`. Evaluated by the worker for every
    changed contact, first matching rule (by `position`) wins; the change is recorded in the
    stage history with source `rule`. 409 `lifecycle_rule_exists` for a taken name."""
    with state.engine.begin() as conn:
        return rules.create_rule(conn, ws.id, body, state.now(ws))


@router.get("/lifecycle-rules/{rule_id}", response_model=LifecycleRuleRead)
def read_lifecycle_rule(rule_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return rules.get_rule(conn, ws.id, rule_id)


@router.put("/lifecycle-rules/{rule_id}", response_model=LifecycleRuleRead)
def replace_lifecycle_rule(
    rule_id: int, body: LifecycleRuleIn, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """Replace the rule (position kept unless given). Past stage changes stay."""
    with state.engine.begin() as conn:
        return rules.update_rule(conn, ws.id, rule_id, body, state.now(ws))


@router.delete("/lifecycle-rules/{rule_id}", status_code=204)
def delete_lifecycle_rule(rule_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """The rule stops; stages it set stay."""
    with state.engine.begin() as conn:
        rules.delete_rule(conn, ws.id, rule_id)
    return Response(status_code=204)


class Slas(BaseModel):
    slas: list[StageSla]


@router.get("/lifecycle-slas", response_model=Slas)
def read_lifecycle_slas(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """How long a lead may stay at each stage (hours) before it is escalated."""
    with reading(state.engine) as conn:
        return {"slas": sla.list_slas(conn, ws.id)}


@router.put("/lifecycle-slas", response_model=Slas)
def replace_lifecycle_slas(body: StageSlas, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Replace every stage's SLA. A lead still at a stage `hours` after it entered it is
    escalated once per stage entry by the worker: a `lead_sla_breached` notification to its
    owner and the workspace's admins, recorded (`escalated` in `GET /leads`)."""
    with state.engine.begin() as conn:
        return {"slas": sla.replace_slas(conn, ws.id, body, state.now(ws))}


# --- assignment rules -----------------------------------------------------------------------


class AssignmentRuleRead(BaseModel):
    id: int
    name: str
    position: int
    stage: str
    method: Literal["round_robin", "territory", "account_owner"]
    users: list[int] | None
    attribute: str | None
    territories: dict[str, int] | None
    reassign: bool
    created_at: datetime
    updated_at: datetime


class AssignmentRules(BaseModel):
    data: list[AssignmentRuleRead]


class OwnerCandidate(BaseModel):
    id: int
    name: str
    email: str
    role: Literal["admin", "marketer", "sales"]


class OwnerCandidates(BaseModel):
    data: list[OwnerCandidate]


@router.get("/lead-owners", response_model=OwnerCandidates)
def read_lead_owners(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The active members who may own leads — sales users first, then marketers and admins,
    by name — for choosing an assignment rule's `users` and `territories` (`GET /users` is
    for admins only; any role may read this)."""
    with reading(state.engine) as conn:
        return {"data": assignment.owner_candidates(conn, ws.id)}


@router.get("/assignment-rules", response_model=AssignmentRules)
def read_assignment_rules(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": assignment.list_assignment_rules(conn, ws.id)}


@router.post("/assignment-rules", response_model=AssignmentRuleRead, status_code=201)
def create_assignment_rule(body: AssignmentRuleIn, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Give contacts entering `stage` an owner: `round_robin` among `users` (default: every
    sales user), by `territory` (`attribute` value → user in `territories`) or by
    `account_owner` (`attribute` holds the owner's email or user id; without `attribute`, the
    owner of the contact's B2B account, `/accounts`). Rules for a stage are
    tried by `position`; contacts with an owner keep it unless `reassign`. The owner is
    stored on the lead and in the contact's `sales_owner` trait (email) and notified."""
    with state.engine.begin() as conn:
        return assignment.create_assignment_rule(conn, ws.id, body, state.now(ws))


@router.get("/assignment-rules/{rule_id}", response_model=AssignmentRuleRead)
def read_assignment_rule(rule_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return assignment.get_assignment_rule(conn, ws.id, rule_id)


@router.put("/assignment-rules/{rule_id}", response_model=AssignmentRuleRead)
def replace_assignment_rule(
    rule_id: int, body: AssignmentRuleIn, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    with state.engine.begin() as conn:
        return assignment.update_assignment_rule(conn, ws.id, rule_id, body, state.now(ws))


@router.delete("/assignment-rules/{rule_id}", status_code=204)
def delete_assignment_rule(rule_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """The rule stops; owners it gave stay."""
    with state.engine.begin() as conn:
        assignment.delete_assignment_rule(conn, ws.id, rule_id)
    return Response(status_code=204)


# --- leads ------------------------------------------------------------------------------------


class LeadOwner(BaseModel):
    id: int
    name: str | None
    email: str | None


class LeadRead(BaseModel):
    contact_id: int
    email: str | None
    first_name: str | None
    last_name: str | None
    external_id: str | None
    stage: str | None
    stage_since: datetime | None = Field(description="When the contact reached its stage")
    score: float
    traits: dict[str, Any] = Field(description="A summary: the first plain custom attributes by name")
    owner: LeadOwner | None
    assigned_at: datetime
    sla_due_at: datetime | None = Field(description="When the stage's SLA runs out (no SLA: null)")
    overdue: bool
    escalated: bool = Field(description="Escalated for this stage entry")


class LeadPage(BaseModel):
    data: list[LeadRead]
    next: str | None = None


def _any(who: Principal) -> bool:
    """Admins and marketers (those who may change things) work any lead or task; sales users
    their own."""
    return allows(who.role, False, "write")


@router.get("/leads", response_model=LeadPage)
def read_leads(
    state: StateDep,
    who: PrincipalDep,
    owner: Annotated[str, Query(description="`me`, `any`, or a user id")] = "me",
    stage: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[str | None, Query(description="The `next` cursor of the previous page")] = None,
) -> dict[str, Any]:
    """Leads (contacts with a sales owner), newest first: `owner=me` (the default) the
    caller's own — an API key has none —, `any`, or a user id's; optionally at one `stage`."""
    ws = who.workspace
    if owner == "me":
        if who.user_id is None:
            return {"data": [], "next": None}
        owner_id: int | None = who.user_id
    elif owner == "any":
        owner_id = None
    elif owner.isdigit() and len(owner) <= 18:
        owner_id = int(owner)
    else:
        raise InvalidInput("owner is me, any or a user id", code="invalid_owner")
    with reading(state.engine) as conn:
        data, last = service.list_leads(
            conn, ws.id, state.now(ws), owner=owner_id, stage=stage, limit=limit, after=int_cursor(after)
        )
    return {"data": data, "next": encode_cursor(last) if last is not None else None}


class Decision(BaseModel):
    contact_id: int
    stage: str
    from_stage: str | None
    at: datetime


class Rejection(BaseModel):
    reason: str = Field(
        min_length=1, max_length=service.MAX_REASON, description="Why (recorded on the event)"
    )


@router.post("/leads/{contact_id}/accept", response_model=Decision)
def accept_lead(contact_id: int, state: StateDep, who: PrincipalDep) -> dict[str, Any]:
    """The owner accepts the lead: stage `SQL` (history source `accepted`) and the event
    `Lead Accepted` on the contact. Sales users accept their own leads (403 `not_your_lead`);
    admins and marketers any. 409 `lead_already_accepted` at SQL already."""
    ws = who.workspace
    with state.engine.begin() as conn:
        return service.accept(
            conn, ws.id, contact_id, state.now(ws), user_id=who.user_id, actor=who.label, any_lead=_any(who)
        )


@router.post("/leads/{contact_id}/reject", response_model=Decision)
def reject_lead(contact_id: int, body: Rejection, state: StateDep, who: PrincipalDep) -> dict[str, Any]:
    """The owner rejects the lead with a reason: recycled to `nurture` (history source
    `rejected`) and the event `Lead Rejected` {reason} on the contact."""
    ws = who.workspace
    with state.engine.begin() as conn:
        return service.reject(
            conn, ws.id, contact_id, body.reason, state.now(ws), user_id=who.user_id, actor=who.label,
            any_lead=_any(who),
        )  # fmt: skip


# --- tasks ------------------------------------------------------------------------------------


class TaskRead(BaseModel):
    id: int
    contact_id: int
    contact_email: str | None
    contact_first_name: str | None
    contact_last_name: str | None
    contact_stage: str | None
    journey_id: int | None
    enrollment_id: int | None
    node: str | None
    kind: Literal["call", "wechat", "visit", "custom"]
    title: str
    script: str | None = Field(description="Rendered for the contact (plain text)")
    assignee_user_id: int | None
    assignee_name: str | None
    queue: str | None
    outcomes: list[str]
    status: Literal["open", "done", "expired"]
    outcome: str | None
    notes: str | None
    due_at: datetime | None
    timeout_at: datetime | None
    created_at: datetime
    claimed_at: datetime | None
    completed_at: datetime | None
    overdue: bool


class TaskPage(BaseModel):
    data: list[TaskRead]
    next: str | None = None


@router.get("/tasks", response_model=TaskPage)
def read_tasks(
    state: StateDep,
    who: PrincipalDep,
    mine: Annotated[bool, Query(description="Only the caller's")] = False,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[Literal["open", "done", "expired"] | None, Query()] = None,
    overdue: Annotated[bool, Query(description="Only open tasks past their due time")] = False,
    contact_id: int | None = None,
    kind: Annotated[Literal["call", "wechat", "visit", "custom"] | None, Query()] = None,
    unassigned: Annotated[
        bool, Query(description="Only tasks nobody has taken yet (a queue's, or an ownerless lead's)")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[str | None, Query(description="The `next` cursor of the previous page")] = None,
) -> dict[str, Any]:
    """Human tasks from journeys' `task` nodes, newest first; filters combine: `mine` (the
    caller's), `unassigned` (claimable), `queue`, `status`, `overdue`, `kind`, `contact_id`."""
    ws = who.workspace
    if mine and who.user_id is None:
        return {"data": [], "next": None}
    with reading(state.engine) as conn:
        data, last = tasks.list_tasks(
            conn, ws.id, state.now(ws), assignee=who.user_id if mine else None, queue=queue, status=status,
            overdue=overdue, contact_id=contact_id, kind=kind, unassigned=unassigned, limit=limit,
            after=int_cursor(after),
        )  # fmt: skip
    return {"data": data, "next": encode_cursor(last) if last is not None else None}


@router.get("/tasks/{task_id}", response_model=TaskRead)
def read_task(task_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return tasks.get_task(conn, ws.id, task_id, state.now(ws))


@router.post("/tasks/{task_id}/claim", response_model=TaskRead)
def claim_task(task_id: int, state: StateDep, who: PrincipalDep) -> dict[str, Any]:
    """Take an open unassigned or queued task. 409 `task_taken` when someone else has it,
    `task_closed` when it is done or expired; API keys cannot claim (422 `users_only`)."""
    ws = who.workspace
    with state.engine.begin() as conn:
        return tasks.claim(conn, ws.id, task_id, who.user_id, state.now(ws))


class Completion(BaseModel):
    outcome: str = Field(min_length=1, max_length=64, description="One of the task's outcomes")
    notes: str | None = Field(None, max_length=tasks.MAX_NOTES)


@router.post("/tasks/{task_id}/complete", response_model=TaskRead)
def complete_task(task_id: int, body: Completion, state: StateDep, who: PrincipalDep) -> dict[str, Any]:
    """Close the task with an outcome (422 `invalid_outcome` if not one of its own) and
    notes: the event `Task Completed` {task_id, kind, outcome, title} is recorded on the
    contact and the journey moves on by that outcome's branch. Sales users complete their
    own or unassigned tasks (403 `not_your_task`); admins and marketers any."""
    ws = who.workspace
    with state.engine.begin() as conn:
        return tasks.complete(
            conn,
            ws.id,
            task_id,
            body.outcome,
            body.notes,
            state.now(ws),
            user_id=who.user_id,
            any_task=_any(who),
        )
