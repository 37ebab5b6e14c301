"""Node handlers: one function per node kind, called once per group of enrollments at that
node, answering a ``Move`` for each (see ``engine.py``).

An enrollment reaches a node in phase ``enter``; a waiting node answers STAY with a timer
and is called again in phase ``wait`` when the timer is due (or, for ``wait_for_event``,
when the event woke it).

Messages go to the outbox with ``contacts_known``: the contacts are the claimed enrollments',
read in this transaction through their foreign key and in the journey's workspace, so the
outbox does not count them again; the message's own foreign key refuses a contact deleted
since, and consent and suppression are checked when it is sent. Lookups by the group's
contact ids bind them as one parameter (``in_ids``).
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from kairos.accounts import notifications
from kairos.contacts.fields import ProfileChanges
from kairos.contacts.lifecycle import set_stage
from kairos.contacts.service import apply_profile_changes, mark_changed
from kairos.contacts.tables import contact
from kairos.contacts.tags import add_tags, remove_tag
from kairos.db.dialect import in_ids
from kairos.journeys import splits
from kairos.journeys.definition import (
    AssignOfferNode,
    BranchNode,
    ConditionNode,
    ExitNode,
    NotifySalesNode,
    SendNode,
    SplitNode,
    TaskNode,
    UpdateContactNode,
    WaitForEventNode,
    WaitNode,
    WaitUntilDateNode,
    WaitUntilNode,
    WebhookNode,
)
from kairos.journeys.engine import ENTER, EXITED, STAY, Context, Enrollment, Move, handler
from kairos.leads import tasks as human_tasks
from kairos.messaging.outbox import NewMessage, enqueue
from kairos.messaging.policy import get_policy, zone
from kairos.messaging.render import context as message_context
from kairos.messaging.render import load_contacts
from kairos.messaging.templates import compile_template
from kairos.offers.assignment import assign
from kairos.offers.matching import best_offers
from kairos.segments.compiler import context as segment_context
from kairos.segments.compiler import members_query
from kairos.segments.definition import SegmentDefinition


@handler("wait")
def wait(ctx: Context, node: WaitNode, members: list[Enrollment]) -> list[Move]:
    resume_at = node.duration.after(ctx.now)  # calendar months and years
    return [
        Move(e, "waiting", STAY, resume_at=resume_at) if e.phase == ENTER else Move(e, "next", node.next)
        for e in members
    ]


@handler("wait_until")
def wait_until(ctx: Context, node: WaitUntilNode, members: list[Enrollment]) -> list[Move]:
    waiting = [e for e in members if e.phase == ENTER]
    moves = [Move(e, "next", node.next) for e in members if e.phase != ENTER]
    if waiting:
        zones = _zones(ctx, [e.contact_id for e in waiting])
        for e in waiting:
            moves.append(
                Move(e, "waiting", STAY, resume_at=next_local_time(ctx.now, node, zones[e.contact_id]))
            )
    return moves


def next_local_time(now: datetime, node: WaitUntilNode, tz: Any) -> datetime:
    """The first instant at or after ``now`` whose local time (in ``tz``) is ``node.time`` on
    an allowed weekday. A wall time skipped by a DST change falls an hour later."""
    local = now.astimezone(tz)
    for days in range(8):
        day = (local + timedelta(days=days)).date()
        if node.weekdays is not None and day.weekday() not in node.weekdays:
            continue
        candidate = datetime.combine(day, node.time, tzinfo=tz)
        if candidate >= local:
            return candidate.astimezone(now.tzinfo)
    raise AssertionError("a week always has an allowed day")


def _zones(ctx: Context, contact_ids: list[int]) -> dict[int, Any]:
    fallback = ctx.cache.get("timezone")
    if fallback is None:
        fallback = ctx.cache["timezone"] = get_policy(ctx.conn, ctx.workspace_id).timezone
    rows = ctx.conn.execute(
        select(contact.c.id, contact.c.timezone).where(
            in_ids(contact.c.id, contact_ids, ctx.conn.dialect.name)
        )
    )
    return {cid: zone(tz, fallback) for cid, tz in rows}


@handler("wait_until_date")
def wait_until_date(ctx: Context, node: WaitUntilDateNode, members: list[Enrollment]) -> list[Move]:
    moves = [Move(e, "next", node.next) for e in members if e.phase != ENTER]
    arriving = [e for e in members if e.phase == ENTER]
    if not arriving:
        return moves
    key = node.attribute.removeprefix("traits.")
    traits = dict(
        ctx.conn.execute(
            select(contact.c.id, contact.c.traits).where(
                in_ids(contact.c.id, [e.contact_id for e in arriving], ctx.conn.dialect.name)
            )
        ).all()
    )
    for e in arriving:
        when = _instant((traits.get(e.contact_id) or {}).get(key))
        if when is None:
            moves.append(Move(e, "no_date", node.next))
            continue
        due = when
        if node.offset is not None:
            due = node.offset.before(when) if node.before else node.offset.after(when)
        if due <= ctx.now:
            moves.append(Move(e, "passed", node.next))
        else:
            moves.append(Move(e, "waiting", STAY, resume_at=due))
    return moves


def _instant(value: Any) -> datetime | None:
    """An attribute value as an instant: ISO 8601 (a plain date is its midnight UTC)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@handler("wait_for_event")
def wait_for_event(ctx: Context, node: WaitForEventNode, members: list[Enrollment]) -> list[Move]:
    moves = []
    for e in members:
        if e.phase == ENTER:
            moves.append(
                Move(e, "waiting", STAY, resume_at=node.timeout.after(ctx.now), wait_event=node.event)
            )
        elif e.woken:
            moves.append(Move(e, "event", node.next))
        else:
            moves.append(Move(e, "timeout", node.timeout_next))
    return moves


@handler("condition")
def condition(ctx: Context, node: ConditionNode, members: list[Enrollment]) -> list[Move]:
    holds = _holds(ctx, node.condition, [e.contact_id for e in members])
    return [Move(e, "yes", node.yes) if e.contact_id in holds else Move(e, "no", node.no) for e in members]


def _holds(ctx: Context, condition: Any, contact_ids: list[int]) -> set[int]:
    """Those of ``contact_ids`` the segment condition holds for at ``ctx.now``, in ONE query
    (``members_query`` with the whole list: ``evaluate`` runs one per 1,000 ids); the
    compiler's context (attribute types, topics, models) is read once per group."""
    sctx = ctx.cache.get("segment_context")
    if sctx is None:
        sctx = ctx.cache["segment_context"] = segment_context(ctx.conn, ctx.workspace_id, ctx.now)
    query = members_query(ctx.workspace_id, SegmentDefinition(root=condition), sctx, contact_ids)
    return set(ctx.conn.execute(query).scalars().all())


@handler("branch")
def branch(ctx: Context, node: BranchNode, members: list[Enrollment]) -> list[Move]:
    moves: list[Move] = []
    left = members
    for case in node.cases:
        if not left:
            break
        holds = _holds(ctx, case.condition, [e.contact_id for e in left])
        moves += [Move(e, case.name, case.next) for e in left if e.contact_id in holds]
        left = [e for e in left if e.contact_id not in holds]
    return moves + [Move(e, "otherwise", node.otherwise) for e in left]


@handler("split")
def split(ctx: Context, node: SplitNode, members: list[Enrollment]) -> list[Move]:
    total = sum(b.share for b in node.branches)
    # an experiment that has been decided: the winner takes every share but the holdouts'
    won = splits.winner(ctx, members[0].node or "", node) if node.experiment is not None else None
    winner = next((b for b in node.branches if b.name == won), None)
    moves = []
    for e in members:
        # stable per enrollment and node: a retried pass takes the same branch
        point = zlib.crc32(f"{e.id}:{e.node}".encode()) / 2**32 * total
        for b in node.branches:
            point -= b.share
            if point < 0:
                break
        if winner is not None and b.next is not None:
            b = winner
        moves.append(Move(e, b.name, b.next))
    return moves


def _message_data(e: Enrollment) -> dict[str, Any]:
    payload = e.payload
    data = {"payload": payload.get("payload") or {}, "event": payload.get("event") or {}}
    if payload.get("offer"):
        data["offer"] = payload["offer"]
    return data


@handler("send")
def send(ctx: Context, node: SendNode, members: list[Enrollment]) -> list[Move]:
    source_id = f"{ctx.journey_id}:{members[0].node}"  # a group is at one node
    data = _data_by_payload(members)
    ids = enqueue(
        ctx.conn,
        ctx.workspace_id,
        [
            NewMessage(
                contact_id=e.contact_id,
                channel=node.channel,
                template_id=node.template_id,
                topic_id=node.topic_id,
                transactional=node.transactional,
                source="journey",
                source_id=source_id,
                data=data[e.payload_json],
                idempotency_key=f"journey:{e.id}:{e.node}:{e.steps}",
            )
            for e in members
        ],
        ctx.now,
        contacts_known=True,  # see the module docstring
    )
    return [
        Move(e, "next", node.next, detail={"message_id": mid}) for e, mid in zip(members, ids, strict=True)
    ]


def _data_by_payload(members: list[Enrollment]) -> dict[str | None, dict[str, Any]]:
    """The message data of each distinct payload, built once: enrollments of one trigger
    often carry the same payload, and the outbox only reads it."""
    found: dict[str | None, dict[str, Any]] = {}
    for e in members:
        if e.payload_json not in found:
            found[e.payload_json] = _message_data(e)
    return found


@handler("webhook")
def webhook(ctx: Context, node: WebhookNode, members: list[Enrollment]) -> list[Move]:
    ids = enqueue(
        ctx.conn,
        ctx.workspace_id,
        [
            NewMessage(
                contact_id=e.contact_id,
                channel="webhook",
                source="journey",
                source_id=f"{ctx.journey_id}:{e.node}",
                transactional=True,
                idempotency_key=f"journey:{e.id}:{e.node}:{e.steps}",
                data={**_message_data(e), "to": node.url, "content": {"payload": node.payload}},
            )
            for e in members
        ],
        ctx.now,
        contacts_known=True,  # see the module docstring
    )
    return [
        Move(e, "next", node.next, detail={"message_id": mid}) for e, mid in zip(members, ids, strict=True)
    ]


@handler("update_contact")
def update_contact(ctx: Context, node: UpdateContactNode, members: list[Enrollment]) -> list[Move]:
    contact_ids = [e.contact_id for e in members]
    if node.set_traits:
        apply_profile_changes(
            ctx.conn, {cid: ProfileChanges(traits=dict(node.set_traits)) for cid in contact_ids}, ctx.now
        )
    if node.lifecycle_stage is not None:
        set_stage(ctx.conn, ctx.workspace_id, contact_ids, node.lifecycle_stage, ctx.now, "journey")
    if node.add_tags:
        add_tags(
            ctx.conn, ctx.workspace_id, [(cid, t) for cid in contact_ids for t in node.add_tags], ctx.now
        )
    for t in node.remove_tags:
        for cid in contact_ids:
            remove_tag(ctx.conn, ctx.workspace_id, cid, t, ctx.now)
    mark_changed(ctx.conn, ctx.workspace_id, contact_ids, ctx.now)
    return [Move(e, "next", node.next) for e in members]


#: What a CRM receives about a lead (Liquid, filled in by the dispatcher)
_LEAD = {
    "id": "{{ contact.id }}",
    "email": "{{ contact.email }}",
    "first_name": "{{ contact.first_name }}",
    "last_name": "{{ contact.last_name }}",
    "score": "{{ contact.score }}",
    "lifecycle_stage": "{{ contact.lifecycle_stage }}",
}


@handler("notify_sales")
def notify_sales(ctx: Context, node: NotifySalesNode, members: list[Enrollment]) -> list[Move]:
    """Assign an owner (in turn, by enrollment id, so retries assign the same one), store it on
    the contact, and queue the owner's email and/or the CRM webhook.

    Both are internal messages (source ``notify_sales``): sent to the owner or the CRM, not
    the lead, transactional, and rendered with the lead as ``contact`` but without the lead's
    consent links or tracking; nothing they do is recorded as the lead's engagement."""
    owners = {e.id: node.owners[e.id % len(node.owners)] for e in members}
    apply_profile_changes(
        ctx.conn,
        {e.contact_id: ProfileChanges(traits={"sales_owner": owners[e.id]}) for e in members},
        ctx.now,
    )
    mark_changed(ctx.conn, ctx.workspace_id, [e.contact_id for e in members], ctx.now)
    messages: list[NewMessage] = []
    for e in members:
        data = {**_message_data(e), "owner": owners[e.id]}
        if node.template_id is not None:
            messages.append(NewMessage(
                contact_id=e.contact_id, channel="email", template_id=node.template_id, transactional=True,
                source="notify_sales", source_id=f"{ctx.journey_id}:{e.node}",
                data={**data, "to": owners[e.id]}, idempotency_key=f"journey:{e.id}:{e.node}:{e.steps}:owner",
            ))  # fmt: skip
        if node.webhook_url is not None:
            content = {"payload": {"lead": _LEAD, "owner": owners[e.id]}}
            messages.append(
                NewMessage(
                    contact_id=e.contact_id,
                    channel="webhook",
                    transactional=True,
                    source="notify_sales",
                    source_id=f"{ctx.journey_id}:{e.node}",
                    idempotency_key=f"journey:{e.id}:{e.node}:{e.steps}:crm",
                    data={**data, "to": node.webhook_url, "content": content},
                )
            )
    enqueue(ctx.conn, ctx.workspace_id, messages, ctx.now, contacts_known=True)  # (module docstring)
    return [Move(e, "next", node.next, detail={"owner": owners[e.id]}) for e in members]


@handler("assign_offer")
def assign_offer(ctx: Context, node: AssignOfferNode, members: list[Enrollment]) -> list[Move]:
    """Match set-based, then assign per chosen offer; the offer (with its code) is kept in
    the enrollment's payload for the messages that follow."""
    by_contact = {e.contact_id: e for e in members}
    matches = best_offers(ctx.conn, ctx.workspace_id, list(by_contact), ctx.now, offer_keys=node.offer_keys)
    groups: dict[int, list[int]] = {}
    for cid, match in matches.items():
        if match is not None:
            groups.setdefault(match.offer_id, []).append(cid)
    given: dict[int, Any] = {}
    for offer_id, cids in groups.items():
        result = assign(
            ctx.conn, ctx.workspace_id, offer_id, cids, ctx.now, source=f"journey:{ctx.journey_id}"
        )
        given.update(result.assigned)
    moves = []
    for e in members:
        assignment = given.get(e.contact_id)
        if assignment is None:
            moves.append(Move(e, "none", node.none_next))
            continue
        offer = assignment.template()
        e.remember("offer", offer)
        moves.append(
            Move(e, "next", node.next, detail={"offer": offer.get("key"), "code": offer.get("code")})
        )
    return moves


@handler("task")
def task(ctx: Context, node: TaskNode, members: list[Enrollment]) -> list[Move]:
    """Arriving: create the task (idempotent per enrollment, node and step) and wait for it
    until the timeout; woken: the branch of the outcome it was completed with, else (the
    timeout came first) expire it and take ``timeout_next``."""
    moves: list[Move] = []
    arriving = [e for e in members if e.phase == ENTER]
    if arriving:
        ids = _create_tasks(ctx, node, arriving)
        resume_at = node.timeout.after(ctx.now)
        moves += [
            Move(e, "waiting", STAY, resume_at=resume_at, detail={"task_id": ids[e.id]}) for e in arriving
        ]
    expired: list[int] = []
    for e in members:
        if e.phase == ENTER:
            continue
        found = human_tasks.outcome_of(ctx.conn, e.id, e.node or "")
        if found is not None and found[1] == human_tasks.DONE:
            target = next((o.next for o in node.outcomes if o.name == found[2]), None)
            moves.append(Move(e, found[2] or "done", target, detail={"task_id": found[0]}))
        else:
            if found is not None:
                expired.append(found[0])
            moves.append(Move(e, "timeout", node.timeout_next, detail={"task_id": found and found[0]}))
    human_tasks.expire(ctx.conn, expired, ctx.now)
    return moves


def _create_tasks(ctx: Context, node: TaskNode, members: list[Enrollment]) -> dict[int, int]:
    contact_ids = [e.contact_id for e in members]
    views = load_contacts(ctx.conn, contact_ids)
    title = compile_template("sms", {"text": node.title})
    script = compile_template("sms", {"text": node.script}) if node.script else None
    owners = human_tasks.owners(ctx.conn, contact_ids) if node.assignee == "owner" else {}
    kind, _, value = node.assignee.partition(":")
    if kind == "user" and not notifications.members(ctx.conn, ctx.workspace_id, [int(value)]):
        kind = "nobody"  # the user left the workspace: unassigned, anyone may claim it
    due_at = node.due.after(ctx.now) if node.due is not None else None
    timeout_at = node.timeout.after(ctx.now)
    rows = []
    keys: dict[int, str] = {}
    for e in members:
        c = message_context(views.get(e.contact_id, {}), _message_data(e), 0, {})
        keys[e.id] = f"journey:{e.id}:{e.node}:{e.steps}"
        assignee = owners.get(e.contact_id) if kind == "owner" else (int(value) if kind == "user" else None)
        rows.append({
            "contact_id": e.contact_id, "key": keys[e.id], "journey_id": ctx.journey_id,
            "enrollment_id": e.id, "node": e.node, "kind": node.kind,
            "title": title.render(c).content["text"][:200] or node.kind,
            "script": script.render(c).content["text"] if script is not None else None,
            "assignee_user_id": assignee, "queue": value if kind == "queue" else None,
            "outcomes": [o.name for o in node.outcomes], "due_at": due_at, "timeout_at": timeout_at,
        })  # fmt: skip
    ids = human_tasks.create_tasks(ctx.conn, ctx.workspace_id, rows, ctx.now)
    return {eid: ids[key] for eid, key in keys.items()}


@handler("exit")
def exit_node(ctx: Context, node: ExitNode, members: list[Enrollment]) -> list[Move]:
    return [Move(e, "exit", None, state=EXITED) for e in members]
