"""Journeys: drafts, publishing, status, enrollments and per-node counts.

**Draft and versions.** A journey is edited as a draft. Publishing validates the draft and
stores it as a new immutable version, which new enrollments use from then on. Running
enrollments stay on the version they entered (their node ids, waits and branches keep the
meaning they had when they entered); they never jump to a changed graph. To move everyone
to new content, publish and remove the old enrollments.

**Status.** ``draft`` (never published), ``active`` (triggers enroll, the scheduler moves
enrollments), ``paused`` (nobody enters, enrollments stay where they are; timers that pass
during the pause are handled on resume), ``archived`` (paused for good).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from kairos.accounts.tables import audit_log
from kairos.contacts.tables import contact
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.journeys.definition import ApiTrigger, AttributeTrigger, parse_journey
from kairos.journeys.engine import ACTIVE, ENDED, EXITED, VERSIONS, end_enrollments
from kairos.journeys.entry import Candidate, enroll
from kairos.journeys.tables import enrollment, journey, journey_step, journey_version
from kairos.journeys.triggers import watch_all
from kairos.messaging.ssrf import check_url
from kairos.messaging.tables import subscription_topic, template
from kairos.offers.tables import offer
from kairos.segments.service import check_segment_references
from kairos.segments.tables import segment

STATUSES = ("draft", "active", "paused", "archived")


def _check_references(conn: Connection, workspace_id: int, definition: Any) -> None:
    """Templates, topics and segments a definition names must exist in the workspace."""
    from kairos.journeys.definition import (
        AssignOfferNode,
        BranchNode,
        ConditionNode,
        NotifySalesNode,
        PredictedTrigger,
        ScheduleTrigger,
        ScoreTrigger,
        SegmentTrigger,
        SendNode,
    )

    if isinstance(definition.trigger, ScoreTrigger):
        from kairos.scoring.tables import score_model

        key = definition.trigger.model
        if (
            conn.execute(
                select(score_model.c.id).where(
                    score_model.c.workspace_id == workspace_id, score_model.c.key == key
                )
            ).first()
            is None
        ):
            raise InvalidInput(f"trigger.model: no score model {key!r}", code="unknown_score_model")
    if isinstance(definition.trigger, PredictedTrigger):
        from kairos.predict.tables import predictive_model

        key = definition.trigger.model
        if (
            conn.execute(
                select(predictive_model.c.id).where(
                    predictive_model.c.workspace_id == workspace_id, predictive_model.c.key == key
                )
            ).first()
            is None
        ):
            raise InvalidInput(f"trigger.model: no predictive model {key!r}", code="unknown_predictive_model")

    segment_ids = set()
    if isinstance(definition.trigger, SegmentTrigger | ScheduleTrigger):
        segment_ids.add(definition.trigger.segment_id)
    if definition.entry.exclude_segment_id is not None:
        segment_ids.add(definition.entry.exclude_segment_id)
    for sid in segment_ids:
        if (
            conn.execute(
                select(segment.c.id).where(segment.c.id == sid, segment.c.workspace_id == workspace_id)
            ).first()
            is None
        ):
            raise InvalidInput(f"no segment {sid}", code="unknown_segment")
    for node_id, node in definition.nodes.items():
        if isinstance(node, ConditionNode):
            check_segment_references(conn, workspace_id, node.condition, f"nodes.{node_id}.condition")
        if isinstance(node, BranchNode):
            for i, case in enumerate(node.cases):
                where = f"nodes.{node_id}.cases[{i}].condition"
                check_segment_references(conn, workspace_id, case.condition, where)
        if isinstance(node, AssignOfferNode) and node.offer_keys:
            known = set(
                conn.execute(
                    select(offer.c.key).where(
                        offer.c.workspace_id == workspace_id, offer.c.key.in_(node.offer_keys)
                    )
                ).scalars()
            )
            missing = [k for k in node.offer_keys if k not in known]
            if missing:
                raise InvalidInput(
                    f"nodes.{node_id}.offer_keys: no offer {missing[0]!r}", code="unknown_offer"
                )
        if isinstance(node, NotifySalesNode) and node.template_id is not None:
            node = SendNode(channel="email", template_id=node.template_id)  # the same checks
        if isinstance(node, SendNode):
            found = conn.execute(
                select(template.c.channel).where(
                    template.c.id == node.template_id, template.c.workspace_id == workspace_id
                )
            ).scalar()
            if found is None:
                raise InvalidInput(
                    f"nodes.{node_id}.template_id: no template {node.template_id}", code="unknown_template"
                )
            if found != node.channel:
                raise InvalidInput(
                    f"nodes.{node_id}.template_id: template {node.template_id} is for {found}, "
                    f"not {node.channel}",
                    code="template_channel_mismatch",
                )
            if (
                node.topic_id is not None
                and conn.execute(
                    select(subscription_topic.c.id).where(
                        subscription_topic.c.id == node.topic_id,
                        subscription_topic.c.workspace_id == workspace_id,
                    )
                ).first()
                is None
            ):
                raise InvalidInput(
                    f"nodes.{node_id}.topic_id: no topic {node.topic_id}", code="unknown_topic"
                )


def check_targets(definition: dict[str, Any] | None, *, allow_private: bool) -> None:
    """The URLs a definition posts to (webhook nodes, ``notify_sales`` CRM webhooks) must be
    public (the SSRF guard), checked when it is saved — with DNS, so before any transaction —
    and again by the webhook channel at send time."""
    if definition is None:
        return
    from kairos.journeys.definition import NotifySalesNode, WebhookNode

    parsed = parse_journey(definition)
    for node_id, node in parsed.nodes.items():
        url = node.url if isinstance(node, WebhookNode) else None
        if isinstance(node, NotifySalesNode):
            url, field = node.webhook_url, "webhook_url"
        else:
            field = "url"
        if url is not None:
            try:
                check_url(url, allow_private=allow_private)
            except InvalidInput as exc:
                raise InvalidInput(f"nodes.{node_id}.{field}: {exc.message}", code=exc.code) from None


def _check_campaign(conn: Connection, workspace_id: int, campaign_id: int | None) -> None:
    from kairos.campaigns.tables import campaign

    if (
        campaign_id is not None
        and conn.execute(
            select(campaign.c.id).where(campaign.c.id == campaign_id, campaign.c.workspace_id == workspace_id)
        ).first()
        is None
    ):
        raise InvalidInput(f"no campaign {campaign_id}", code="unknown_campaign")


def create_journey(
    conn: Connection,
    workspace_id: int,
    now: datetime,
    *,
    name: str,
    description: str | None,
    definition: dict[str, Any],
    layout: dict[str, Any] | None,
    campaign_id: int | None = None,
) -> dict[str, Any]:
    parsed = parse_journey(definition)
    _check_references(conn, workspace_id, parsed)
    _check_campaign(conn, workspace_id, campaign_id)
    if conn.execute(
        select(journey.c.id).where(journey.c.workspace_id == workspace_id, journey.c.name == name)
    ).first():
        raise Conflict(f"a journey named {name!r} exists", code="journey_exists")
    jid = conn.execute(
        insert(journey)
        .values(
            workspace_id=workspace_id,
            name=name,
            description=description,
            status="draft",
            draft=parsed.model_dump(mode="json"),
            layout=layout,
            campaign_id=campaign_id,
            created_at=now,
            updated_at=now,
        )
        .returning(journey.c.id)
    ).scalar_one()
    return get_journey(conn, workspace_id, jid)


def update_journey(
    conn: Connection, workspace_id: int, journey_id: int, now: datetime, changes: dict[str, Any]
) -> dict[str, Any]:
    """Edit the draft (a live journey keeps running its published version until the next
    publish), its layout, name or description."""
    current = get_journey(conn, workspace_id, journey_id)
    if current["status"] == "archived":
        raise Conflict("an archived journey cannot be edited", code="journey_archived")
    values: dict[str, Any] = {"updated_at": now}
    if changes.get("definition") is not None:
        parsed = parse_journey(changes["definition"])
        _check_references(conn, workspace_id, parsed)
        values["draft"] = parsed.model_dump(mode="json")
    if "campaign_id" in changes:
        _check_campaign(conn, workspace_id, changes["campaign_id"])
    for key in ("name", "description", "layout", "campaign_id"):
        if key in changes:
            values[key] = changes[key]
    conn.execute(update(journey).where(journey.c.id == journey_id).values(**values))
    return get_journey(conn, workspace_id, journey_id)


def publish(conn: Connection, workspace_id: int, journey_id: int, now: datetime) -> dict[str, Any]:
    """Store the draft as the next immutable version and make it live (status active)."""
    current = get_journey(conn, workspace_id, journey_id)
    if current["status"] == "archived":
        raise Conflict("an archived journey cannot be published", code="journey_archived")
    parsed = parse_journey(current["draft"])
    _check_references(conn, workspace_id, parsed)
    number = (
        conn.execute(
            select(func.max(journey_version.c.number)).where(journey_version.c.journey_id == journey_id)
        ).scalar()
        or 0
    ) + 1
    vid = conn.execute(
        insert(journey_version)
        .values(
            journey_id=journey_id,
            workspace_id=workspace_id,
            number=number,
            definition=parsed.model_dump(mode="json"),
            layout=current["layout"],
            created_at=now,
        )
        .returning(journey_version.c.id)
    ).scalar_one()
    values: dict[str, Any] = {"version_id": vid, "status": "active", "updated_at": now}
    if current["status"] != "active":
        values["cursor"] = {"since": now.isoformat()}  # triggers count from going live
    if isinstance(parsed.trigger, AttributeTrigger):
        watch_all(conn, workspace_id, journey_id, parsed.trigger.attribute)
    conn.execute(update(journey).where(journey.c.id == journey_id).values(**values))
    return get_journey(conn, workspace_id, journey_id)


def set_status(
    conn: Connection, workspace_id: int, journey_id: int, status: str, now: datetime
) -> dict[str, Any]:
    current = get_journey(conn, workspace_id, journey_id)
    allowed = {"paused": ("active",), "active": ("paused",), "archived": ("draft", "active", "paused")}
    if current["status"] not in allowed.get(status, ()):
        raise Conflict(f"a {current['status']} journey cannot become {status}", code="invalid_transition")
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if status == "active":
        values["cursor"] = {"since": now.isoformat()}  # what happened during a pause does not enroll
    conn.execute(update(journey).where(journey.c.id == journey_id).values(**values))
    return get_journey(conn, workspace_id, journey_id)


def _present(row: Any) -> dict[str, Any]:
    out = dict(row)
    out.pop("cursor", None)
    return out


def get_journey(conn: Connection, workspace_id: int, journey_id: int) -> dict[str, Any]:
    row = (
        conn.execute(
            select(journey).where(journey.c.workspace_id == workspace_id, journey.c.id == journey_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no journey {journey_id}", code="journey_not_found")
    out = _present(row)
    out["version"] = None
    if row["version_id"] is not None:
        out["version"] = conn.execute(
            select(journey_version.c.number).where(journey_version.c.id == row["version_id"])
        ).scalar()
    return out


def list_journeys(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(journey.c.id).where(journey.c.workspace_id == workspace_id).order_by(journey.c.id)
    ).scalars()
    return [get_journey(conn, workspace_id, jid) for jid in rows]


#: the audit log's action for a publish (``api/audit.py`` writes the route's template)
PUBLISH_ACTION = "POST /journeys/{journey_id}/publish"


def list_versions(conn: Connection, workspace_id: int, journey_id: int) -> list[dict[str, Any]]:
    """The published versions, oldest first, each with ``published_by``: who published it,
    as the audit log recorded it (the publish that made it live), else None."""
    get_journey(conn, workspace_id, journey_id)
    rows = [
        dict(r)
        for r in conn.execute(
            select(journey_version)
            .where(journey_version.c.journey_id == journey_id)
            .order_by(journey_version.c.number)
        ).mappings()
    ]
    publishers = _publishers(conn, workspace_id, journey_id) if rows else {}
    for row in rows:
        row["published_by"] = publishers.get(row["id"])
    return rows


def _publishers(conn: Connection, workspace_id: int, journey_id: int) -> dict[int, str]:
    """version id → who published it: the audit log's publishes of the journey, matched by
    the ``version_id`` each one set (one row per publish: a handful per journey)."""
    a = audit_log.c
    out: dict[int, str] = {}
    for label, changes in conn.execute(
        select(a.actor_label, a.changes).where(
            a.workspace_id == workspace_id,
            a.object_type == "journeys",
            a.object_id == str(journey_id),
            a.action == PUBLISH_ACTION,
        )
    ):
        change = (changes or {}).get("version_id")
        if isinstance(change, list) and len(change) == 2 and isinstance(change[1], int):
            out[change[1]] = label
    return out


def enroll_through_api(
    conn: Connection,
    workspace_id: int,
    journey_id: int,
    contact_id: int,
    payload: dict[str, Any] | None,
    key: str,
    now: datetime,
) -> dict[str, Any]:
    row = conn.execute(
        select(journey).where(journey.c.workspace_id == workspace_id, journey.c.id == journey_id)
    ).first()
    if row is None:
        raise NotFound(f"no journey {journey_id}", code="journey_not_found")
    if row.status != "active" or row.version_id is None:
        raise Conflict(f"journey {journey_id} is {row.status}: nobody can enter", code="journey_not_active")
    definition = VERSIONS.get(conn, row.version_id)[2]
    if not isinstance(definition.trigger, ApiTrigger):
        raise Conflict(
            "this journey is entered by its trigger, not through the API", code="not_an_api_journey"
        )
    enroll(
        conn,
        workspace_id,
        journey_id,
        row.version_id,
        definition,
        [Candidate(contact_id, f"api:{key}", {"payload": payload or {}})],
        now,
    )
    found = (
        conn.execute(
            select(enrollment).where(
                enrollment.c.journey_id == journey_id, enrollment.c.entry_key == f"api:{key}"
            )
        )
        .mappings()
        .first()
    )
    if found is None:
        raise Conflict(
            "the entry rules of this journey do not let the contact enter now", code="entry_refused"
        )
    return present_enrollment(dict(found))


def present_enrollment(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("active_journey_id", "entry_key"):
        row.pop(key, None)
    return row


def list_enrollments(
    conn: Connection,
    workspace_id: int,
    *,
    journey_id: int | None,
    contact_id: int | None,
    state: str | None,
    after: int | None,
    limit: int,
    node: str | None = None,
    with_contact: bool = False,
) -> list[dict[str, Any]]:
    """Enrollments in id order (a cursor page after ``after``), filtered by journey, contact,
    state and node (where it is now, or where it ended). ``with_contact`` adds ``contact``:
    the contact's id, identifiers and name."""
    q = select(enrollment).where(enrollment.c.workspace_id == workspace_id)
    brief = ("id", "external_id", "email", "phone", "first_name", "last_name")
    if with_contact:
        q = q.add_columns(*(contact.c[k].label(f"brief_{k}") for k in brief)).outerjoin(
            contact, contact.c.id == enrollment.c.contact_id
        )
    if journey_id is not None:
        q = q.where(enrollment.c.journey_id == journey_id)
    if contact_id is not None:
        q = q.where(enrollment.c.contact_id == contact_id)
    if node is not None:
        q = q.where(enrollment.c.node == node)
    if state is not None:
        if state not in (ACTIVE, *ENDED):
            raise InvalidInput("state must be active, completed, converted or exited", code="invalid_state")
        q = q.where(enrollment.c.state == state)
    if after is not None:
        q = q.where(enrollment.c.id > after)
    rows = [dict(r) for r in conn.execute(q.order_by(enrollment.c.id).limit(limit)).mappings()]
    if with_contact:
        for row in rows:
            found = {k: row.pop(f"brief_{k}") for k in brief}
            row["contact"] = found if found["id"] is not None else None  # erased meanwhile
    return [present_enrollment(row) for row in rows]


def remove_enrollment(
    conn: Connection, workspace_id: int, journey_id: int, enrollment_id: int, now: datetime
) -> None:
    row = conn.execute(
        select(
            enrollment.c.id,
            enrollment.c.workspace_id,
            enrollment.c.journey_id,
            enrollment.c.version_id,
            enrollment.c.contact_id,
            enrollment.c.node,
            enrollment.c.state,
        ).where(
            enrollment.c.id == enrollment_id,
            enrollment.c.journey_id == journey_id,
            enrollment.c.workspace_id == workspace_id,
        )
    ).first()
    if row is None:
        raise NotFound(f"no enrollment {enrollment_id} in journey {journey_id}", code="enrollment_not_found")
    if row.state == ACTIVE:
        end_enrollments(conn, [tuple(row[:6])], EXITED, "removed", now)  # type: ignore[list-item]


#: Outcomes that end an enrollment at a node other than by moving on
_EXITS = {"exit", "exit_rule", "removed", "missing_node"}


def node_counts(
    conn: Connection, workspace_id: int, journey_id: int, version_id: int | None = None
) -> dict[str, dict[str, Any]]:
    """Per node: ``entered`` (enrollments that reached it), ``current`` (there now),
    ``passed`` (moved on), ``exited`` and ``converted`` (ended there by an exit or the goal),
    and ``outcomes``: passages by branch taken. ``version_id``: only the enrollments of that
    version (else every version's, by node id)."""
    get_journey(conn, workspace_id, journey_id)
    out: dict[str, dict[str, Any]] = {}

    def node(name: str) -> dict[str, Any]:
        return out.setdefault(
            name, {"entered": 0, "current": 0, "passed": 0, "exited": 0, "converted": 0, "outcomes": {}}
        )

    s = journey_step.c
    steps = [s.journey_id == journey_id] + ([s.version_id == version_id] if version_id is not None else [])
    for name, outcome, count in conn.execute(
        select(s.node, s.outcome, func.count()).where(*steps).group_by(s.node, s.outcome)
    ):
        entry = node(name)
        entry["outcomes"][outcome] = count
        if outcome == "goal":
            entry["converted"] += count
        elif outcome in _EXITS:
            entry["exited"] += count
        elif outcome != "waiting":
            entry["passed"] += count
    for name, count in conn.execute(
        select(s.node, func.count(func.distinct(s.enrollment_id))).where(*steps).group_by(s.node)
    ):
        node(name)["entered"] = count
    e = enrollment.c
    mine = [e.journey_id == journey_id] + ([e.version_id == version_id] if version_id is not None else [])
    for name, count in conn.execute(
        select(e.node, func.count()).where(*mine, e.state == ACTIVE).group_by(e.node)
    ):
        entry = node(name or "")
        entry["current"] = count
        entry["entered"] = max(entry["entered"], count)  # arrived, not yet handled
    return out


def journey_totals(
    conn: Connection, workspace_id: int, journey_id: int, version_id: int | None = None
) -> dict[str, int]:
    """Enrollments of the journey (or of one version) by state: ``entered`` (all of them),
    ``active``, ``completed``, ``converted``, ``exited``."""
    e = enrollment.c
    q = select(e.state, func.count()).where(e.workspace_id == workspace_id, e.journey_id == journey_id)
    if version_id is not None:
        q = q.where(e.version_id == version_id)
    out = {"entered": 0, ACTIVE: 0, "completed": 0, "converted": 0, EXITED: 0}
    for state, count in conn.execute(q.group_by(e.state)):
        out[state] = out.get(state, 0) + count
        out["entered"] += count
    return out


def version_id_of(conn: Connection, workspace_id: int, journey_id: int, number: int) -> int:
    """The id of version ``number`` of the journey; NotFound (``version_not_found``)."""
    get_journey(conn, workspace_id, journey_id)
    found = conn.execute(
        select(journey_version.c.id).where(
            journey_version.c.journey_id == journey_id, journey_version.c.number == number
        )
    ).scalar()
    if found is None:
        raise NotFound(f"journey {journey_id} has no version {number}", code="version_not_found")
    return int(found)
