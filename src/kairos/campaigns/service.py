"""Campaign plans: goal, budget and costs, audience, offer, materials, channels, owner,
dates, status — and approval by a second person before launch.

Approval: a campaign with ``requires_approval`` goes ``draft → pending_approval`` when
someone asks (``request_approval``, recording their API key), and only a *different* API
key can approve it. Launching (``active``) — and scheduling any of its broadcasts — is
refused until it is approved. Editing an approved campaign's plan sends it back to draft.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from kairos.campaigns.tables import broadcast, campaign
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.journeys.tables import journey
from kairos.messaging.channels.base import CHANNEL_KINDS
from kairos.messaging.tables import template
from kairos.offers.tables import offer
from kairos.segments.compiler import parse_definition
from kairos.segments.tables import segment
from kairos.workspaces.references import require_owned
from kairos.workspaces.settings import workspace_currency

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


def request_approval(
    conn: Connection, workspace_id: int, campaign_id: int, actor: Actor, now: datetime
) -> dict[str, Any]:
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
    return get_campaign(conn, workspace_id, campaign_id)


def approve(
    conn: Connection, workspace_id: int, campaign_id: int, actor: Actor, now: datetime
) -> dict[str, Any]:
    """Approval by someone other than who asked: another user (with the approver permission,
    checked by the API) or another API key."""
    c = get_campaign(conn, workspace_id, campaign_id)
    if c["status"] != "pending_approval":
        raise Conflict(f"a {c['status']} campaign is not waiting for approval", code="invalid_transition")
    kind, who = actor
    by_user = c["requested_by_user"]
    asked = ("user", by_user) if by_user is not None else ("key", c["requested_by"])
    if asked == (kind, who):
        raise Conflict(
            "a campaign is approved by someone other than who asked", code="second_approver_required"
        )
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
    return get_campaign(conn, workspace_id, campaign_id)


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
    for j in conn.execute(
        select(journey.c.id, journey.c.name, journey.c.status, journey.c.updated_at).where(
            journey.c.workspace_id == workspace_id, journey.c.status == "active"
        )
    ):
        items.append({"kind": "journey", "id": j.id, "name": j.name, "status": j.status, "starts_at": None,
                      "ends_at": None, "campaign_id": None})  # fmt: skip
    return sorted(items, key=lambda i: (i["starts_at"] is None, i["starts_at"] or start, i["kind"], i["id"]))
