"""Lifecycle rules: ordered rules that set a contact's lifecycle stage, evaluated in the
worker's changed-contacts pass (``apply_lifecycle_rules``), set-based.

A rule has a **condition** in the segment condition format (anything a segment can test:
attributes, tags, events, segment membership — and scores once they exist), or an **event**
(an ``EventMatch``: ``Order Completed`` → customer) the contact performed since it was
queued. ``from_stages`` limits it to contacts at one of those stages (``null`` in the list:
no stage yet), so stages only move the way the workspace wants (a customer never drops back
to MQL). For each changed contact the first enabled rule (by ``position``) that matches and
would change its stage wins; the change is written through ``contacts.lifecycle.set_stage``
with source ``rule``, so it lands in the stage history like every other change.

The handler runs after computed traits (and scores) and before segments in the pass; it
marks the contacts it moved as changed in the batch, so segments and journey triggers of the
same pass see the new stage.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kairos.contacts.changes import Change, ChangeBatch, new_events
from kairos.contacts.lifecycle import MAX_STAGE, set_stage
from kairos.contacts.tables import contact
from kairos.db.dialect import chunks
from kairos.errors import Conflict, InvalidInput, NotFound, validation_message
from kairos.leads.tables import lifecycle_rule
from kairos.segments.behaviour import matching
from kairos.segments.compiler import context, evaluate, members_query
from kairos.segments.definition import Condition, EventMatch, SegmentDefinition
from kairos.segments.service import check_segment_references

log = logging.getLogger(__name__)

SOURCE = "rule"
MAX_RULES = 100


def _stage(value: str) -> str:
    text = value.strip()
    if not 1 <= len(text) <= MAX_STAGE:
        raise ValueError(f"a stage is 1 to {MAX_STAGE} characters")
    return text


class RuleEvent(EventMatch):
    """The event that sets the stage (with property filters)."""

    event: str = Field(min_length=1, max_length=200)  # type: ignore[assignment]


class LifecycleRuleIn(BaseModel):
    """A lifecycle rule as submitted: a condition or an event, not both."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    stage: str = Field(min_length=1, max_length=MAX_STAGE, description="The stage the rule sets")
    condition: Condition | None = Field(
        None, description="A segment condition (`attribute`, `tag`, `performed`, `segment`, `score` …)"
    )
    event: RuleEvent | None = Field(None, description="Or: performing this event sets the stage")
    from_stages: list[str | None] | None = Field(
        None,
        max_length=50,
        description="Only contacts at one of these stages (null in the list: no stage yet); "
        "null: from any stage",
    )
    enabled: bool = True
    position: int | None = Field(
        None, ge=0, le=10_000, description="Lower runs first; default: after the others"
    )

    @field_validator("stage")
    @classmethod
    def _clean(cls, value: str) -> str:
        return _stage(value)

    @field_validator("from_stages")
    @classmethod
    def _from(cls, values: list[str | None] | None) -> list[str | None] | None:
        return None if values is None else [None if v is None else _stage(v) for v in values]

    @model_validator(mode="after")
    def _one(self) -> LifecycleRuleIn:
        if (self.condition is None) == (self.event is None):
            raise ValueError("a lifecycle rule has a condition or an event (one of them)")
        if self.from_stages is not None and self.stage in self.from_stages:
            raise ValueError("from_stages must not contain the stage the rule sets")
        return self


LifecycleRuleIn.model_rebuild()


def parse_rule(data: Any) -> LifecycleRuleIn:
    try:
        return LifecycleRuleIn.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(validation_message(dict(exc.errors()[0])), code="invalid_lifecycle_rule") from None


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping)


def list_rules(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    q = select(lifecycle_rule).where(lifecycle_rule.c.workspace_id == workspace_id)
    return [_row(r) for r in conn.execute(q.order_by(lifecycle_rule.c.position, lifecycle_rule.c.id))]


def get_rule(conn: Connection, workspace_id: int, rule_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(lifecycle_rule).where(
            lifecycle_rule.c.workspace_id == workspace_id, lifecycle_rule.c.id == rule_id
        )
    ).first()
    if row is None:
        raise NotFound(f"lifecycle rule {rule_id} not found", code="lifecycle_rule_not_found")
    return _row(row)


def _values(conn: Connection, workspace_id: int, rule: LifecycleRuleIn, now: datetime) -> dict[str, Any]:
    if rule.condition is not None:
        check_segment_references(conn, workspace_id, rule.condition, "condition")
        # compiling names an unknown attribute or a bad operator now (422), not in the worker
        members_query(workspace_id, SegmentDefinition(root=rule.condition), context(conn, workspace_id, now))
    return {
        "name": rule.name.strip(),
        "stage": rule.stage,
        "condition": None
        if rule.condition is None
        else rule.condition.model_dump(mode="json", exclude_none=True),
        "event": None if rule.event is None else rule.event.model_dump(mode="json", exclude_none=True),
        "from_stages": rule.from_stages,
        "enabled": rule.enabled,
    }


def create_rule(conn: Connection, workspace_id: int, rule: LifecycleRuleIn, now: datetime) -> dict[str, Any]:
    count = conn.execute(
        select(func.count(), func.max(lifecycle_rule.c.position)).where(
            lifecycle_rule.c.workspace_id == workspace_id
        )
    ).one()
    if count[0] >= MAX_RULES:
        raise Conflict(
            f"a workspace has at most {MAX_RULES} lifecycle rules", code="too_many_lifecycle_rules"
        )
    position = rule.position if rule.position is not None else (count[1] + 1 if count[1] is not None else 0)
    try:
        with conn.begin_nested():
            rid = conn.execute(
                insert(lifecycle_rule).values(
                    workspace_id=workspace_id,
                    position=position,
                    created_at=now,
                    updated_at=now,
                    **_values(conn, workspace_id, rule, now),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
    except IntegrityError:
        raise Conflict(f"a lifecycle rule named {rule.name!r} exists", code="lifecycle_rule_exists") from None
    return get_rule(conn, workspace_id, int(rid))


def update_rule(
    conn: Connection, workspace_id: int, rule_id: int, rule: LifecycleRuleIn, now: datetime
) -> dict[str, Any]:
    current = get_rule(conn, workspace_id, rule_id)
    values = _values(conn, workspace_id, rule, now)
    position = rule.position if rule.position is not None else current["position"]
    try:
        with conn.begin_nested():
            conn.execute(
                update(lifecycle_rule)
                .where(lifecycle_rule.c.id == rule_id)
                .values(position=position, updated_at=now, **values)
            )
    except IntegrityError:
        raise Conflict(f"a lifecycle rule named {rule.name!r} exists", code="lifecycle_rule_exists") from None
    return get_rule(conn, workspace_id, rule_id)


def delete_rule(conn: Connection, workspace_id: int, rule_id: int) -> None:
    get_rule(conn, workspace_id, rule_id)
    conn.execute(delete(lifecycle_rule).where(lifecycle_rule.c.id == rule_id))


# --- evaluation ---------------------------------------------------------------------------


def apply_lifecycle_rules(conn: Connection, batch: ChangeBatch, now: datetime) -> None:
    """The changed-contacts handler: each changed contact takes the stage of the first rule
    that matches it (set-based: one evaluation per rule and workspace)."""
    if not batch:
        return
    rules_by_ws: dict[int, list[Any]] = defaultdict(list)
    for r in conn.execute(
        select(lifecycle_rule)
        .where(lifecycle_rule.c.workspace_id.in_(list(batch)), lifecycle_rule.c.enabled.is_(True))
        .order_by(lifecycle_rule.c.workspace_id, lifecycle_rule.c.position, lifecycle_rule.c.id)
    ):
        rules_by_ws[r.workspace_id].append(r)
    for ws, rules in rules_by_ws.items():
        changes = batch[ws]
        moved = _apply(conn, ws, rules, changes, now)
        for cid in moved:  # segments and journeys of this pass see the new stage
            old = changes[cid]
            changes[cid] = Change(events=old.events, profile=True, everything=old.everything)


def _apply(
    conn: Connection, ws: int, rules: list[Any], changes: dict[int, Change], now: datetime
) -> set[int]:
    stages: dict[int, str | None] = {}
    for part in chunks(list(changes)):
        stages.update(
            conn.execute(
                select(contact.c.id, contact.c.lifecycle_stage).where(
                    contact.c.id.in_(part), contact.c.workspace_id == ws, contact.c.merged_into.is_(None)
                )
            ).all()
        )
    decided: dict[int, str] = {}
    for rule in rules:
        allowed = None if rule.from_stages is None else set(rule.from_stages)
        candidates = [
            cid
            for cid, stage in stages.items()
            if cid not in decided and stage != rule.stage and (allowed is None or stage in allowed)
        ]
        try:
            if rule.event is not None:
                match = RuleEvent.model_validate(rule.event)
                candidates = [cid for cid in candidates if match.event in changes[cid].events]
                if not candidates:
                    continue
                found = new_events(conn, candidates, *matching(match, context(conn, ws, now), "event"))
                matched = {e.contact_id for e in found}
            else:
                if not candidates:
                    continue
                definition = SegmentDefinition.model_validate({"root": rule.condition})
                matched = evaluate(conn, ws, definition, now, candidates)
        except (InvalidInput, ValidationError) as exc:
            # an attribute deleted since the rule was saved: the rule stops, the pass goes on
            log.warning("lifecycle rule %s of workspace %s cannot be evaluated: %s", rule.id, ws, exc)
            continue
        for cid in matched:
            decided[cid] = rule.stage
    by_stage: dict[str, list[int]] = defaultdict(list)
    for cid, stage in decided.items():
        by_stage[stage].append(cid)
    for stage, ids in by_stage.items():
        set_stage(conn, ws, ids, stage, now, SOURCE)
    return set(decided)
