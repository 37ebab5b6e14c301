"""Assignment rules: who owns a lead, decided when the contact enters a stage (MQL…).

The owner is a console user of the workspace (normally with the **sales** role), stored in
the ``lead`` table (``contact_id → owner_user_id``, when, by which rule) — a real reference
that follows users being renamed, disabled or removed — and mirrored, for templates,
segments and CRMs, in the contact's ``sales_owner`` trait as the owner's email (the trait the
``notify_sales`` journey node already writes).

Rules are tried by ``position`` among those for the stage entered; the first that yields an
owner wins:

- ``round_robin``: in turn among ``users`` (default: every active member with the sales
  role), contacts taken in id order, the turn (``cursor``) kept on the rule: over time each
  user gets the same number of leads, give or take one, and the same input always gives the
  same owners;
- ``territory``: the contact's ``attribute`` (a field or custom attribute, e.g. ``region``)
  looked up in ``territories`` (``{"APAC": 12, "EMEA": 14}``, exact text); no entry: the next
  rule;
- ``account_owner``: without ``attribute``, the owner of the contact's B2B account
  (``kairos.b2b``; of several, the account the contact joined first that has an active
  owner); with an ``attribute``, the contact attribute holding the owner's email or user id
  (an account's owner copied on its contacts). No such owner: the next rule.

A contact that already has an owner keeps it unless the rule says ``reassign``. It runs in
the changed-contacts pass after the lifecycle rules: any stage change counts (a rule, a
journey, the API, an import, a sales rejection), read from the stage history since the
contact was queued. The new owner gets a ``lead_assigned`` notification.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kairos.accounts import notifications
from kairos.accounts.tables import app_user, membership
from kairos.contacts.changes import Change, ChangeBatch
from kairos.contacts.fields import ProfileChanges
from kairos.contacts.lifecycle import MAX_STAGE
from kairos.contacts.service import apply_profile_changes
from kairos.contacts.tables import contact, contact_change, lifecycle_change
from kairos.db.dialect import chunks, insert_on_conflict
from kairos.errors import Conflict, InvalidInput, NotFound, validation_message
from kairos.leads.tables import assignment_rule, lead

MAX_RULES = 100
#: contact fields an assignment attribute may name (anything else is a custom attribute)
FIELDS = ("email", "phone", "first_name", "last_name", "timezone", "locale", "external_id")


class AssignmentRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    stage: str = Field(
        min_length=1, max_length=MAX_STAGE, description="Applied when a contact enters this stage"
    )
    method: Literal["round_robin", "territory", "account_owner"]
    users: list[int] | None = Field(
        None, max_length=200, description="round_robin: the users taking turns (default: every sales user)"
    )
    attribute: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="territory / account_owner: the contact attribute read (account_owner without "
        "one: the owner of the contact's B2B account)",
    )
    territories: dict[str, int] | None = Field(
        None, description="territory: attribute value → user id (exact text)"
    )
    reassign: bool = Field(False, description="Also give contacts that already have an owner a new one")
    position: int | None = Field(None, ge=0, le=10_000)

    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("stage must not be blank")
        return value.strip()

    @model_validator(mode="after")
    def _shape(self) -> AssignmentRuleIn:
        if self.method == "round_robin" and (self.attribute or self.territories):
            raise ValueError("round_robin takes users only (no attribute or territories)")
        if self.method != "round_robin" and (
            (self.attribute is None and self.method != "account_owner") or self.users
        ):
            raise ValueError(f"{self.method} reads an attribute (and takes no users)")
        if (self.method == "territory") != (self.territories is not None):
            raise ValueError("territories go with method territory, and only with it")
        if self.territories is not None and not 1 <= len(self.territories) <= 500:
            raise ValueError("territories map 1 to 500 values to users")
        return self


def parse_assignment_rule(data: Any) -> AssignmentRuleIn:
    try:
        return AssignmentRuleIn.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(
            validation_message(dict(exc.errors()[0])), code="invalid_assignment_rule"
        ) from None


def _check_users(conn: Connection, workspace_id: int, rule: AssignmentRuleIn) -> None:
    wanted = set(rule.users or ()) | set((rule.territories or {}).values())
    if not wanted:
        return
    found = set(notifications.members(conn, workspace_id, wanted))
    missing = sorted(wanted - found)
    if missing:
        raise InvalidInput(
            f"user {missing[0]} is not an active member of this workspace", code="invalid_assignment_rule"
        )


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping)


def list_assignment_rules(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    q = select(assignment_rule).where(assignment_rule.c.workspace_id == workspace_id)
    return [_row(r) for r in conn.execute(q.order_by(assignment_rule.c.position, assignment_rule.c.id))]


def get_assignment_rule(conn: Connection, workspace_id: int, rule_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(assignment_rule).where(
            assignment_rule.c.workspace_id == workspace_id, assignment_rule.c.id == rule_id
        )
    ).first()
    if row is None:
        raise NotFound(f"assignment rule {rule_id} not found", code="assignment_rule_not_found")
    return _row(row)


def _values(rule: AssignmentRuleIn) -> dict[str, Any]:
    return {
        "name": rule.name.strip(),
        "stage": rule.stage,
        "method": rule.method,
        "users": rule.users,
        "attribute": rule.attribute,
        "territories": rule.territories,
        "reassign": rule.reassign,
    }


def create_assignment_rule(
    conn: Connection, workspace_id: int, rule: AssignmentRuleIn, now: datetime
) -> dict[str, Any]:
    _check_users(conn, workspace_id, rule)
    count, top = conn.execute(
        select(func.count(), func.max(assignment_rule.c.position)).where(
            assignment_rule.c.workspace_id == workspace_id
        )
    ).one()
    if count >= MAX_RULES:
        raise Conflict(
            f"a workspace has at most {MAX_RULES} assignment rules", code="too_many_assignment_rules"
        )
    position = rule.position if rule.position is not None else (top + 1 if top is not None else 0)
    try:
        with conn.begin_nested():
            rid = conn.execute(
                insert(assignment_rule).values(
                    workspace_id=workspace_id,
                    position=position,
                    cursor=0,
                    created_at=now,
                    updated_at=now,
                    **_values(rule),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
    except IntegrityError:
        raise Conflict(
            f"an assignment rule named {rule.name!r} exists", code="assignment_rule_exists"
        ) from None
    return get_assignment_rule(conn, workspace_id, int(rid))


def update_assignment_rule(
    conn: Connection, workspace_id: int, rule_id: int, rule: AssignmentRuleIn, now: datetime
) -> dict[str, Any]:
    current = get_assignment_rule(conn, workspace_id, rule_id)
    _check_users(conn, workspace_id, rule)
    position = rule.position if rule.position is not None else current["position"]
    try:
        with conn.begin_nested():
            conn.execute(
                update(assignment_rule)
                .where(assignment_rule.c.id == rule_id)
                .values(position=position, updated_at=now, **_values(rule))
            )
    except IntegrityError:
        raise Conflict(
            f"an assignment rule named {rule.name!r} exists", code="assignment_rule_exists"
        ) from None
    return get_assignment_rule(conn, workspace_id, rule_id)


def delete_assignment_rule(conn: Connection, workspace_id: int, rule_id: int) -> None:
    get_assignment_rule(conn, workspace_id, rule_id)
    conn.execute(delete(assignment_rule).where(assignment_rule.c.id == rule_id))


# --- owners -------------------------------------------------------------------------------


def owners_of(conn: Connection, contact_ids: list[int]) -> dict[int, int | None]:
    out: dict[int, int | None] = {}
    for part in chunks(contact_ids):
        out.update(
            conn.execute(
                select(lead.c.contact_id, lead.c.owner_user_id).where(lead.c.contact_id.in_(part))
            ).all()
        )
    return out


def sales_users(conn: Connection, workspace_id: int) -> list[int]:
    """Active members with the sales role, by id."""
    return list(
        conn.execute(
            select(membership.c.user_id)
            .join(app_user, app_user.c.id == membership.c.user_id)
            .where(
                membership.c.workspace_id == workspace_id,
                membership.c.role == "sales",
                app_user.c.disabled_at.is_(None),
            )
            .order_by(membership.c.user_id)
        ).scalars()
    )


def owner_candidates(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    """Active members who may own leads (sales users, marketers, admins), sales users first,
    then by name: whom assignment rules may name."""
    rows = conn.execute(
        select(app_user.c.id, app_user.c.name, app_user.c.email, membership.c.role)
        .join(membership, membership.c.user_id == app_user.c.id)
        .where(
            membership.c.workspace_id == workspace_id,
            membership.c.role.in_(("sales", "marketer", "admin")),
            app_user.c.disabled_at.is_(None),
        )
        .order_by(membership.c.role != "sales", app_user.c.name, app_user.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def set_owners(
    conn: Connection,
    workspace_id: int,
    owners: dict[int, int],
    now: datetime,
    rule_id: int | None = None,
    stage: str | None = None,
) -> None:
    """Store each contact's owner, mirror the owner's email in the ``sales_owner`` trait and
    tell the new owner (``lead_assigned``)."""
    if not owners:
        return
    ins = insert_on_conflict(conn, lead)
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=[lead.c.contact_id],
            set_={
                "owner_user_id": ins.excluded.owner_user_id,
                "rule_id": ins.excluded.rule_id,
                "assigned_at": ins.excluded.assigned_at,
            },
        ),
        [
            {
                "contact_id": cid,
                "workspace_id": workspace_id,
                "owner_user_id": uid,
                "rule_id": rule_id,
                "assigned_at": now,
            }
            for cid, uid in owners.items()
        ],
    )
    emails = dict(
        conn.execute(
            select(app_user.c.id, app_user.c.email).where(app_user.c.id.in_(set(owners.values())))
        ).all()
    )
    apply_profile_changes(
        conn, {cid: ProfileChanges(traits={"sales_owner": emails[uid]}) for cid, uid in owners.items()}, now
    )
    names = _names(conn, list(owners))
    for cid, uid in sorted(owners.items()):
        notifications.notify(
            conn,
            workspace_id,
            [uid],
            "lead_assigned",
            {"contact_id": cid, "contact": names.get(cid), "stage": stage},
            f"/leads?contact={cid}",
            now,
        )


def _names(conn: Connection, contact_ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for part in chunks(contact_ids):
        for r in conn.execute(
            select(
                contact.c.id,
                contact.c.first_name,
                contact.c.last_name,
                contact.c.email,
                contact.c.external_id,
            ).where(contact.c.id.in_(part))
        ):
            full = " ".join(p for p in (r.first_name, r.last_name) if p)
            out[r.id] = full or r.email or r.external_id or f"#{r.id}"
    return out


def assign_on_stage(conn: Connection, batch: ChangeBatch, now: datetime) -> None:
    """The changed-contacts handler: contacts that entered a stage with assignment rules since
    they were queued (and are still at it) get an owner."""
    if not batch:
        return
    rules_by_ws: dict[int, list[Any]] = defaultdict(list)
    for r in conn.execute(
        select(assignment_rule)
        .where(assignment_rule.c.workspace_id.in_(list(batch)))
        .order_by(assignment_rule.c.workspace_id, assignment_rule.c.position, assignment_rule.c.id)
    ):
        rules_by_ws[r.workspace_id].append(r)
    for ws, rules in rules_by_ws.items():
        entered = _entered(conn, ws, list(batch[ws]), {r.stage for r in rules})
        assigned = _assign(conn, ws, rules, entered, now)
        for cid in assigned:
            old = batch[ws][cid]
            batch[ws][cid] = Change(events=old.events, profile=True, everything=old.everything)


def _entered(conn: Connection, ws: int, contact_ids: list[int], stages: set[str]) -> dict[int, str]:
    """contact → stage, for those whose latest stage change since they were queued entered
    one of ``stages`` and who are still at it."""
    lc = lifecycle_change.c
    out: dict[int, tuple[int, str]] = {}
    for part in chunks(contact_ids):
        for cid, change_id, stage, current in conn.execute(
            select(lc.contact_id, lc.id, lc.to_stage, contact.c.lifecycle_stage)
            .join(contact_change, contact_change.c.contact_id == lc.contact_id)
            .join(contact, contact.c.id == lc.contact_id)
            .where(
                lc.contact_id.in_(part),
                lc.workspace_id == ws,
                lc.changed_at >= contact_change.c.changed_at,
                contact.c.merged_into.is_(None),
            )
        ):
            if cid not in out or change_id > out[cid][0]:
                out[cid] = (change_id, stage if stage == current else "")
    return {cid: stage for cid, (_, stage) in out.items() if stage in stages}


def _assign(conn: Connection, ws: int, rules: list[Any], entered: dict[int, str], now: datetime) -> set[int]:
    if not entered:
        return set()
    current = owners_of(conn, list(entered))
    done: set[int] = set()
    assigned: set[int] = set()
    for rule in rules:
        todo = sorted(
            cid
            for cid, stage in entered.items()
            if stage == rule.stage and cid not in done and (rule.reassign or current.get(cid) is None)
        )
        if not todo:
            continue
        if rule.method == "round_robin":
            owners = _round_robin(conn, ws, rule, todo)
        else:
            owners = _by_attribute(conn, ws, rule, todo)
        done.update(owners)  # decided, even when the owner stays the same
        changed = {cid: uid for cid, uid in owners.items() if current.get(cid) != uid}
        set_owners(conn, ws, changed, now, rule_id=rule.id, stage=rule.stage)
        assigned.update(changed)
    return assigned


def _round_robin(conn: Connection, ws: int, rule: Any, todo: list[int]) -> dict[int, int]:
    users = notifications.members(conn, ws, rule.users) if rule.users else sales_users(conn, ws)
    if not users:
        return {}
    q = select(assignment_rule.c.cursor).where(assignment_rule.c.id == rule.id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()  # two workers never hand out the same turn
    turn = int(conn.execute(q).scalar_one())
    owners = {cid: users[(turn + i) % len(users)] for i, cid in enumerate(todo)}
    conn.execute(
        update(assignment_rule)
        .where(assignment_rule.c.id == rule.id)
        .values(cursor=(turn + len(todo)) % 1_000_000)
    )
    return owners


def _attribute_values(conn: Connection, rule: Any, todo: list[int]) -> dict[int, str]:
    name = rule.attribute.removeprefix("traits.")
    out: dict[int, str] = {}
    for part in chunks(todo):
        if name in FIELDS:
            rows = conn.execute(select(contact.c.id, contact.c[name]).where(contact.c.id.in_(part))).all()
            values = {cid: v for cid, v in rows}
        else:
            rows = conn.execute(select(contact.c.id, contact.c.traits).where(contact.c.id.in_(part))).all()
            values = {cid: (traits or {}).get(name) for cid, traits in rows}
        for cid, v in values.items():
            if isinstance(v, bool) or v is None or isinstance(v, (dict, list)):
                continue
            out[cid] = str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()
    return out


def _by_attribute(conn: Connection, ws: int, rule: Any, todo: list[int]) -> dict[int, int]:
    if rule.method == "account_owner" and rule.attribute is None:
        return _b2b_owners(conn, ws, todo)
    values = _attribute_values(conn, rule, todo)
    if rule.method == "territory":
        wanted = {cid: int(rule.territories[v]) for cid, v in values.items() if v in (rule.territories or {})}
        active = set(notifications.members(conn, ws, wanted.values()))
        return {cid: uid for cid, uid in wanted.items() if uid in active}
    # account_owner: an email or a user id
    emails = {v.lower() for v in values.values() if "@" in v}
    ids = {int(v) for v in values.values() if v.isdigit() and len(v) <= 18}
    by_email: dict[str, int] = {}
    if emails:
        by_email = {
            e.lower(): uid
            for uid, e in conn.execute(
                select(app_user.c.id, app_user.c.email).where(func.lower(app_user.c.email).in_(emails))
            )
        }
    active = set(notifications.members(conn, ws, set(by_email.values()) | ids))
    owners: dict[int, int] = {}
    for cid, v in values.items():
        uid = by_email.get(v.lower()) if "@" in v else (int(v) if v.isdigit() and len(v) <= 18 else None)
        if uid is not None and uid in active:
            owners[cid] = uid
    return owners


def _b2b_owners(conn: Connection, ws: int, todo: list[int]) -> dict[int, int]:
    """contact → the active owner of its B2B account (the one joined first, of several)."""
    from kairos.b2b.tables import account, account_contact

    ac = account_contact.c
    found: dict[int, list[tuple[Any, int, int]]] = defaultdict(list)
    for part in chunks(todo):
        for cid, joined, aid, uid in conn.execute(
            select(ac.contact_id, ac.created_at, ac.account_id, account.c.owner_user_id)
            .join(account, account.c.id == ac.account_id)
            .where(ac.contact_id.in_(part), account.c.owner_user_id.is_not(None))
        ):
            found[cid].append((joined, aid, uid))
    active = set(notifications.members(conn, ws, {uid for rows in found.values() for _, _, uid in rows}))
    owners: dict[int, int] = {}
    for cid, rows in found.items():
        for _, _, uid in sorted(rows):
            if uid in active:
                owners[cid] = uid
                break
    return owners
