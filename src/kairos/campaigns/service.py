"""Campaign plans: goal, budget and costs, audience, offer, materials, channels, owner,
dates, status — and approval by a second person before launch.

Approval: a campaign with ``requires_approval`` goes ``draft → pending_approval`` when
someone asks (``request_approval``, recording the user or API key), and only someone else
can approve it — or reject it, with the reason, back to draft. Launching (``active``) — and
scheduling any of its broadcasts — is refused until it is approved. Editing an approved
campaign's plan sends it back to draft.

Each campaign has a thread (``campaign_comment``): comments, and the approval steps with
the comment that came with them. Asking notifies the approvers; a decision or a comment
notifies the requester and whoever wrote in the thread (``accounts/notifications.py``), in
the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from kairos.accounts import notifications
from kairos.accounts.tables import app_user
from kairos.campaigns.tables import broadcast, campaign, campaign_comment
from kairos.clock import ensure_utc
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.journeys.tables import journey, journey_version
from kairos.messaging.channels.base import CHANNEL_KINDS
from kairos.messaging.tables import template
from kairos.offers.tables import offer
from kairos.segments.compiler import parse_definition
from kairos.segments.tables import segment
from kairos.workspaces.references import require_owned
from kairos.workspaces.settings import workspace_currency
from kairos.workspaces.tables import api_key

_DAY = timedelta(days=1)
PLAN_FIELDS = (
    "description", "goal", "budget", "currency", "costs", "segment_id", "offer_id", "template_ids",
    "channels", "owner", "starts_at", "ends_at", "requires_approval",
)  # fmt: skip


def _validate(conn: Connection, workspace_id: int, data: dict[str, Any]) -> None:
    if data.get("budget") is not None and data["budget"] < 0:
        raise InvalidInput("budget must not be negative", code="invalid_budget")
    for channel, cost in (data.get("costs") or {}).items():
        if channel not in CHANNEL_KINDS or not isinstance(cost, int | float) or cost < 0:
            raise InvalidInput(f"costs.{channel}: a known channel and a cost ≥ 0", code="invalid_costs")
    for channel in data.get("channels") or []:
        if channel not in CHANNEL_KINDS:
            raise InvalidInput(f"channels: unknown channel {channel!r}", code="unknown_channel")
    if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
        raise InvalidInput("ends_at must be after starts_at", code="invalid_dates")
    if (
        data.get("segment_id") is not None
        and conn.execute(
            select(segment.c.id).where(
                segment.c.id == data["segment_id"], segment.c.workspace_id == workspace_id
            )
        ).first()
        is None
    ):
        raise InvalidInput(f"no segment {data['segment_id']}", code="unknown_segment")
    require_owned(
        conn, offer, workspace_id, data.get("offer_id"), field="offer_id", what="offer", code="unknown_offer"
    )
    require_owned(
        conn, template, workspace_id, data.get("template_ids"),
        field="template_ids", what="template", code="unknown_template",
    )  # fmt: skip
    goal = data.get("goal")
    if goal is not None:
        if not isinstance(goal, dict) or not goal.get("event"):
            raise InvalidInput("goal needs an event", code="invalid_goal")
        # the goal's filters are an event match of the segment definition format
        parse_definition(
            {"root": {"type": "performed", "event": goal["event"], "where": goal.get("where", [])}}
        )
        window = goal.get("window_days", 7)
        if not isinstance(window, int) or not 0 < window <= 365:
            raise InvalidInput("goal.window_days must be 1 to 365", code="invalid_goal")


def create_campaign(
    conn: Connection, workspace_id: int, now: datetime, name: str, data: dict[str, Any]
) -> dict[str, Any]:
    _validate(conn, workspace_id, data)
    if conn.execute(
        select(campaign.c.id).where(campaign.c.workspace_id == workspace_id, campaign.c.name == name)
    ).first():
        raise Conflict(f"a campaign named {name!r} exists", code="campaign_exists")
    values = {k: data.get(k) for k in PLAN_FIELDS}
    values["requires_approval"] = bool(values["requires_approval"])
    if not values["currency"]:  # a plan that names no currency is in the workspace's
        values["currency"] = workspace_currency(conn, workspace_id)
    cid = conn.execute(
        insert(campaign)
        .values(
            workspace_id=workspace_id, name=name, status="draft", created_at=now, updated_at=now, **values
        )
        .returning(campaign.c.id)
    ).scalar_one()
    return get_campaign(conn, workspace_id, cid)


def update_campaign(
    conn: Connection, workspace_id: int, campaign_id: int, now: datetime, changes: dict[str, Any]
) -> dict[str, Any]:
    current = get_campaign(conn, workspace_id, campaign_id)
    if current["status"] in ("completed", "cancelled"):
        raise Conflict(f"a {current['status']} campaign cannot change", code="campaign_closed")
    merged = {**current, **changes}
    _validate(conn, workspace_id, merged)
    values: dict[str, Any] = {k: v for k, v in changes.items() if k in (*PLAN_FIELDS, "name")}
    values["updated_at"] = now
    if current["status"] in ("pending_approval", "approved") and any(k in PLAN_FIELDS for k in changes):
        # approval covers what will run
        values.update(status="draft", approved_by=None, approved_by_user=None, approved_at=None)
    conn.execute(update(campaign).where(campaign.c.id == campaign_id).values(**values))
    return get_campaign(conn, workspace_id, campaign_id)


def get_campaign(conn: Connection, workspace_id: int, campaign_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(campaign).where(campaign.c.workspace_id == workspace_id, campaign.c.id == campaign_id)
    ).mappings().first()  # fmt: skip
    if row is None:
        raise NotFound(f"no campaign {campaign_id}", code="campaign_not_found")
    return dict(row)


def list_campaigns(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(campaign).where(campaign.c.workspace_id == workspace_id).order_by(campaign.c.id)
    )
    return [dict(r) for r in rows.mappings()]


#: who acts: ("user", user id) for a console user, ("key", key id) for an API key
Actor = tuple[str, int]

#: the kinds of entry of a campaign's thread
THREAD_KINDS = ("comment", "approval_requested", "approved", "rejected")


def _actor_name(conn: Connection, actor: Actor) -> str:
    kind, who = actor
    if kind == "user":
        name = conn.execute(select(app_user.c.name).where(app_user.c.id == who)).scalar()
        return str(name) if name else f"user {who}"
    name = conn.execute(select(api_key.c.name).where(api_key.c.id == who)).scalar()
    return str(name) if name else f"API key {who}"


def _requester(c: dict[str, Any]) -> Actor | None:
    if c["requested_by_user"] is not None:
        return ("user", int(c["requested_by_user"]))
    if c["requested_by"] is not None:
        return ("key", int(c["requested_by"]))
    return None


def _post(
    conn: Connection, c: dict[str, Any], kind: str, body: str | None, actor: Actor, now: datetime
) -> dict[str, Any]:
    """Adds an entry to the campaign's thread."""
    author_type, author_id = actor
    values = {
        "workspace_id": c["workspace_id"], "campaign_id": c["id"], "kind": kind, "body": body or None,
        "author_type": author_type, "author_id": author_id, "author_name": _actor_name(conn, actor)[:400],
        "created_at": now,
    }  # fmt: skip
    cid = conn.execute(
        insert(campaign_comment).values(**values).returning(campaign_comment.c.id)
    ).scalar_one()
    return {"id": cid, **values}


def _tell(
    conn: Connection, c: dict[str, Any], users: list[int], kind: str, entry: dict[str, Any], now: datetime
) -> None:
    """Notifies ``users`` (active members only, never the author) of a thread entry."""
    author = entry["author_id"] if entry["author_type"] == "user" else None
    to = [u for u in notifications.members(conn, c["workspace_id"], users) if u != author]
    params = {"campaign_id": c["id"], "campaign": c["name"], "actor": entry["author_name"],
              "comment": notifications.excerpt(entry["body"])}  # fmt: skip
    notifications.notify(conn, c["workspace_id"], to, kind, params, f"/campaigns/{c['id']}", now)


def _participants(conn: Connection, c: dict[str, Any]) -> list[int]:
    """The requester (a user) and every user who wrote in the thread."""
    users = {
        int(r.author_id)
        for r in conn.execute(
            select(campaign_comment.c.author_id)
            .distinct()
            .where(campaign_comment.c.campaign_id == c["id"], campaign_comment.c.author_type == "user")
        )
        if r.author_id is not None
    }
    asked = _requester(c)
    if asked is not None and asked[0] == "user":
        users.add(asked[1])
    return sorted(users)


def _text(comment: str | None) -> str | None:
    return comment.strip() or None if comment is not None else None


def request_approval(
    conn: Connection,
    workspace_id: int,
    campaign_id: int,
    actor: Actor,
    now: datetime,
    comment: str | None = None,
) -> dict[str, Any]:
    """Draft → pending_approval, recording who asked; the comment (optional) goes in the
    thread, and every approver but the requester is notified."""
    c = get_campaign(conn, workspace_id, campaign_id)
    if c["status"] != "draft":
        raise Conflict(f"a {c['status']} campaign cannot ask for approval", code="invalid_transition")
    kind, who = actor
    conn.execute(
        update(campaign)
        .where(campaign.c.id == campaign_id)
        .values(
            status="pending_approval",
            requested_by=who if kind == "key" else None,
            requested_by_user=who if kind == "user" else None,
            requires_approval=True,
            updated_at=now,
        )
    )
    entry = _post(conn, c, "approval_requested", _text(comment), actor, now)
    _tell(conn, c, notifications.approvers(conn, workspace_id), "approval_requested", entry, now)
    return get_campaign(conn, workspace_id, campaign_id)


def _decide(conn: Connection, workspace_id: int, campaign_id: int, actor: Actor) -> dict[str, Any]:
    c = get_campaign(conn, workspace_id, campaign_id)
    if c["status"] != "pending_approval":
        raise Conflict(f"a {c['status']} campaign is not waiting for approval", code="invalid_transition")
    if _requester(c) == actor:
        raise Conflict(
            "a campaign is approved by someone other than who asked", code="second_approver_required"
        )
    return c


def approve(
    conn: Connection,
    workspace_id: int,
    campaign_id: int,
    actor: Actor,
    now: datetime,
    comment: str | None = None,
) -> dict[str, Any]:
    """Approval by someone other than who asked: another user (with the approver permission,
    checked by the API) or another API key. The requester and the thread's participants
    are notified."""
    c = _decide(conn, workspace_id, campaign_id, actor)
    kind, who = actor
    conn.execute(
        update(campaign)
        .where(campaign.c.id == campaign_id)
        .values(
            status="approved",
            approved_by=who if kind == "key" else None,
            approved_by_user=who if kind == "user" else None,
            approved_at=now,
            updated_at=now,
        )
    )
    entry = _post(conn, c, "approved", _text(comment), actor, now)
    _tell(conn, c, _participants(conn, c), "campaign_approved", entry, now)
    return get_campaign(conn, workspace_id, campaign_id)


def reject(
    conn: Connection, workspace_id: int, campaign_id: int, actor: Actor, now: datetime, comment: str
) -> dict[str, Any]:
    """Pending approval → draft, with the reason (required: 422 ``comment_required``), by
    someone other than who asked. The requester and the thread's participants are notified;
    the plan can be changed and approval asked again."""
    body = _text(comment)
    if body is None:
        raise InvalidInput("say why the plan is rejected", code="comment_required")
    c = _decide(conn, workspace_id, campaign_id, actor)
    conn.execute(
        update(campaign)
        .where(campaign.c.id == campaign_id)
        .values(status="draft", approved_by=None, approved_by_user=None, approved_at=None, updated_at=now)
    )
    entry = _post(conn, c, "rejected", body, actor, now)
    _tell(conn, c, _participants(conn, c), "campaign_rejected", entry, now)
    return get_campaign(conn, workspace_id, campaign_id)


def add_comment(
    conn: Connection, workspace_id: int, campaign_id: int, actor: Actor, now: datetime, body: str
) -> dict[str, Any]:
    """A comment in the campaign's thread (plain text; 422 ``comment_required`` when blank);
    the requester and the thread's other participants are notified."""
    text = _text(body)
    if text is None:
        raise InvalidInput("a comment needs some text", code="comment_required")
    c = get_campaign(conn, workspace_id, campaign_id)
    users = _participants(conn, c)
    entry = _post(conn, c, "comment", text, actor, now)
    _tell(conn, c, users, "campaign_comment", entry, now)
    return entry


def list_comments(
    conn: Connection, workspace_id: int, campaign_id: int, limit: int, after: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """The thread oldest first, ``limit`` entries after id ``after``; and the next cursor."""
    get_campaign(conn, workspace_id, campaign_id)
    q = select(campaign_comment).where(
        campaign_comment.c.workspace_id == workspace_id, campaign_comment.c.campaign_id == campaign_id
    )
    if after is not None:
        q = q.where(campaign_comment.c.id > after)
    rows = [dict(r) for r in conn.execute(q.order_by(campaign_comment.c.id).limit(limit + 1)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (int(rows[-1]["id"]) if more and rows else None)


def set_status(
    conn: Connection, workspace_id: int, campaign_id: int, status: str, now: datetime
) -> dict[str, Any]:
    c = get_campaign(conn, workspace_id, campaign_id)
    allowed = {
        "active": ("draft", "approved"),
        "completed": ("active",),
        "cancelled": ("draft", "pending_approval", "approved", "active"),
    }
    if c["status"] not in allowed.get(status, ()):
        raise Conflict(f"a {c['status']} campaign cannot become {status}", code="invalid_transition")
    if status == "active" and c["requires_approval"] and c["approved_at"] is None:
        raise Conflict(
            "this campaign needs approval by a second person before launch", code="approval_required"
        )
    conn.execute(update(campaign).where(campaign.c.id == campaign_id).values(status=status, updated_at=now))
    return get_campaign(conn, workspace_id, campaign_id)


def calendar(conn: Connection, workspace_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Campaigns running, broadcasts sending and journeys live in [start, end), by date."""
    items: list[dict[str, Any]] = []
    for c in conn.execute(
        select(campaign).where(
            campaign.c.workspace_id == workspace_id,
            or_(campaign.c.starts_at.is_(None), campaign.c.starts_at < end),
            or_(campaign.c.ends_at.is_(None), campaign.c.ends_at >= start),
            campaign.c.status != "cancelled",
        )
    ).mappings():
        items.append(
            {"kind": "campaign", "id": c["id"], "name": c["name"], "status": c["status"],
             "starts_at": c["starts_at"], "ends_at": c["ends_at"], "campaign_id": c["id"]}
        )  # fmt: skip
    for b in conn.execute(
        select(broadcast).where(
            broadcast.c.workspace_id == workspace_id,
            and_(broadcast.c.starts_at >= start - _DAY, broadcast.c.starts_at < end),
            broadcast.c.status != "cancelled",
        )
    ).mappings():
        when = b["send_at"] or b["starts_at"]
        items.append(
            {"kind": "broadcast", "id": b["id"], "name": b["name"], "status": b["status"], "starts_at": when,
             "ends_at": None, "campaign_id": b["campaign_id"], "local_time": b["local_time"],
             "local_date": b["local_date"], "channel": b["channel"]}
        )  # fmt: skip
    live_since = (
        select(journey_version.c.journey_id, func.min(journey_version.c.created_at).label("since"))
        .where(journey_version.c.workspace_id == workspace_id)
        .group_by(journey_version.c.journey_id)
        .subquery()
    )
    for j in conn.execute(
        select(journey.c.id, journey.c.name, journey.c.status, journey.c.campaign_id, live_since.c.since)
        .outerjoin(live_since, live_since.c.journey_id == journey.c.id)
        .where(
            journey.c.workspace_id == workspace_id,
            journey.c.status == "active",
            or_(live_since.c.since.is_(None), live_since.c.since < end),
        )
    ):
        # live since its first publication, with no end while it stays live
        items.append({"kind": "journey", "id": j.id, "name": j.name, "status": j.status,
                      "starts_at": ensure_utc(j.since) if j.since else None, "ends_at": None,
                      "campaign_id": j.campaign_id})  # fmt: skip
    return sorted(items, key=lambda i: (i["starts_at"] is None, i["starts_at"] or start, i["kind"], i["id"]))
