"""Broadcasts: a segment, a template and a moment, through the outbox.

- **When.** At an instant (``send_at``), or at a local time in each contact's own time zone
  (``local_date`` + ``local_time``, story 2's "tomorrow 10:00 local"). A local-time broadcast
  starts when the first time zone reaches that time (UTC+14); each contact's message is
  queued with its own due time, and the outbox holds it until then.
- **Who.** The segment's members when the broadcast starts, recorded as recipients (the
  audience snapshot), so reports and resumption refer to who was targeted, not who matches
  later.
- **How.** A worker job queues the snapshot in chunks through ``outbox.enqueue`` with the
  key ``broadcast:<id>:<contact>``: a crash between chunks resumes with the recipients that
  have no message yet, and never queues one twice. Consent, suppression, caps and quiet
  hours apply at send time, as for every message.
- **Pause, resume, cancel.** Pausing stops the queuing and holds the messages already queued
  (not yet sent); resuming releases them at their planned time (or now, if it has passed);
  cancelling skips them with reason ``broadcast_cancelled``.

Status: ``draft → scheduled → sending`` (snapshot taken, queuing) ``→ queued`` (every
recipient has a message; the outbox sends each at its time), or ``paused``/``cancelled``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)

from kairos.campaigns.experiments import (
    Experiment,
    Variant,
    holdout_lift,
    parse_experiment,
    pick_winner,
    sent_units,
    variant_results,
    variant_sql,
    window,
)
from kairos.campaigns.tables import broadcast, broadcast_recipient, campaign
from kairos.contacts.tables import contact
from kairos.db.dialect import chunks
from kairos.db.types import BigID, UTCDateTime
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.messaging import outbox
from kairos.messaging.policy import get_policy, zone
from kairos.messaging.tables import message, subscription_topic, template
from kairos.offers.assignment import assign, availability, holdings
from kairos.offers.matching import best_offers
from kairos.offers.service import offer_row
from kairos.offers.tables import offer
from kairos.segments.tables import segment, segment_membership
from kairos.workspaces.clocks import EVERY, Scope

CHUNK = 5000
#: Where held messages of a paused broadcast wait (far beyond any real due time)
HELD = datetime(9999, 1, 1, tzinfo=UTC)
EARLIEST_OFFSET = timedelta(hours=14)  # UTC+14 (Line Islands) reaches a local time first
#: Why a recipient of an offer variant got no message: the offer could not be given to it
NO_OFFER = "no_offer"


def _planned(b: Any, tz_name: str | None, fallback: str, now: datetime) -> datetime:
    """When this contact's message is due: the instant, or the local time in its zone."""
    if b.local_date is None:
        return max(b.send_at or now, now)
    local = datetime.combine(date.fromisoformat(b.local_date), time.fromisoformat(b.local_time))
    return max(local.replace(tzinfo=zone(tz_name, fallback)).astimezone(UTC), now)


def _segment_exists(conn: Connection, workspace_id: int, segment_id: Any) -> bool:
    return segment_id is not None and conn.execute(
        select(segment.c.id).where(segment.c.id == segment_id, segment.c.workspace_id == workspace_id)
    ).first() is not None  # fmt: skip


def _check(conn: Connection, workspace_id: int, data: dict[str, Any]) -> dict[str, Any]:
    exp = parse_experiment(data["experiment"]) if data.get("experiment") is not None else None
    # variants with their own audiences: the broadcast's segment, if any, narrows their union
    optional = exp is not None and exp.by_audience and data.get("segment_id") is None
    if not optional and not _segment_exists(conn, workspace_id, data.get("segment_id")):
        raise InvalidInput(f"no segment {data.get('segment_id')}", code="unknown_segment")
    if (exp is None) == (data.get("template_id") is None):
        raise InvalidInput("give a template_id, or an experiment with variants", code="invalid_content")
    content = [(v.template_id, v.channel or data["channel"]) for v in exp.variants] if exp else [
        (data["template_id"], data["channel"])]  # fmt: skip
    for tid, channel in content:
        found = conn.execute(
            select(template.c.channel).where(template.c.id == tid, template.c.workspace_id == workspace_id)
        ).scalar()
        if found is None:
            raise InvalidInput(f"no template {tid}", code="unknown_template")
        if found != channel:
            raise InvalidInput(
                f"template {tid} is for {found}, not {channel}", code="template_channel_mismatch"
            )
    for v in exp.variants if exp else []:
        if v.segment_id is not None and not _segment_exists(conn, workspace_id, v.segment_id):
            raise InvalidInput(f"variant {v.name}: no segment {v.segment_id}", code="unknown_segment")
        if v.offer_id is not None and conn.execute(
            select(offer.c.id).where(offer.c.id == v.offer_id, offer.c.workspace_id == workspace_id)
        ).first() is None:  # fmt: skip
            raise InvalidInput(f"variant {v.name}: no offer {v.offer_id}", code="unknown_offer")
    if data.get("topic_id") is not None:
        topic = conn.execute(
            select(subscription_topic.c.channel).where(subscription_topic.c.id == data["topic_id"],
                                                       subscription_topic.c.workspace_id == workspace_id)
        ).first()  # fmt: skip
        if topic is None:
            raise InvalidInput(f"no topic {data['topic_id']}", code="unknown_topic")
        for _, channel in content:
            if topic.channel not in (None, channel):
                raise InvalidInput(f"topic {data['topic_id']} is for {topic.channel} messages, not {channel}",
                                   code="topic_channel_mismatch")  # fmt: skip
    if (
        data.get("campaign_id") is not None
        and conn.execute(
            select(campaign.c.id).where(
                campaign.c.id == data["campaign_id"], campaign.c.workspace_id == workspace_id
            )
        ).first()
        is None
    ):
        raise InvalidInput(f"no campaign {data['campaign_id']}", code="unknown_campaign")
    has_instant = data.get("send_at") is not None
    has_local = data.get("local_date") is not None or data.get("local_time") is not None
    if has_instant and has_local:
        raise InvalidInput("give send_at, or local_date with local_time, not both", code="invalid_schedule")
    out = dict(data)
    if exp is not None:
        out["experiment"] = exp.model_dump()
    if has_local:
        try:
            day = date.fromisoformat(str(data.get("local_date")))
            at = time.fromisoformat(str(data.get("local_time")))
        except ValueError:
            raise InvalidInput(
                "local_date is YYYY-MM-DD and local_time HH:MM", code="invalid_schedule"
            ) from None
        out["local_date"], out["local_time"] = day.isoformat(), at.strftime("%H:%M")
        out["starts_at"] = datetime.combine(day, at, tzinfo=UTC) - EARLIEST_OFFSET
    return out


def create_broadcast(
    conn: Connection, workspace_id: int, now: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    values = _check(conn, workspace_id, data)
    if values.get("starts_at") is None:
        values["starts_at"] = values.get("send_at")
    bid = conn.execute(
        insert(broadcast)
        .values(workspace_id=workspace_id, status="draft", queued=0, created_at=now, updated_at=now, **values)
        .returning(broadcast.c.id)
    ).scalar_one()
    return get_broadcast(conn, workspace_id, bid)


#: what ``update_broadcast`` may change (the fields of a creation)
EDITABLE = ("name", "campaign_id", "segment_id", "channel", "template_id", "experiment", "topic_id",
            "send_at", "local_date", "local_time")  # fmt: skip


def update_broadcast(
    conn: Connection, workspace_id: int, broadcast_id: int, now: datetime, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change a draft (409 ``broadcast_not_draft`` once it is scheduled): the changed fields
    over the stored ones, checked as a creation is. Content and schedule are alternatives: a
    ``template_id`` given drops the experiment (and an experiment the template); a
    ``send_at`` given drops the local date and time (and a local date or time the instant);
    all three null: now."""
    b = get_broadcast(conn, workspace_id, broadcast_id)
    if b["status"] != "draft":
        raise Conflict(
            f"a {b['status']} broadcast cannot be changed: only drafts can (cancel it and create another)",
            code="broadcast_not_draft",
        )
    data = {key: b[key] for key in EDITABLE}
    changes = {k: v for k, v in changes.items() if k in EDITABLE}
    if changes.get("template_id") is not None and "experiment" not in changes:
        data["experiment"] = None
    if changes.get("experiment") is not None and "template_id" not in changes:
        data["template_id"] = None
    if changes.get("send_at") is not None:
        data["local_date"] = data["local_time"] = None
    if changes.get("local_date") is not None or changes.get("local_time") is not None:
        data["send_at"] = None
    data.update(changes)
    values = _check(conn, workspace_id, data)
    values.setdefault("starts_at", None)
    if values["starts_at"] is None:
        values["starts_at"] = values.get("send_at")
    conn.execute(
        update(broadcast)
        .where(broadcast.c.id == broadcast_id, broadcast.c.workspace_id == workspace_id)
        .values(updated_at=now, **values)
    )
    return get_broadcast(conn, workspace_id, broadcast_id)


def get_broadcast(conn: Connection, workspace_id: int, broadcast_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(broadcast).where(broadcast.c.workspace_id == workspace_id, broadcast.c.id == broadcast_id)
    ).mappings().first()  # fmt: skip
    if row is None:
        raise NotFound(f"no broadcast {broadcast_id}", code="broadcast_not_found")
    return _with_progress(conn, workspace_id, [dict(row)])[0]


def list_broadcasts(
    conn: Connection, workspace_id: int, campaign_id: int | None = None
) -> list[dict[str, Any]]:
    q = select(broadcast).where(broadcast.c.workspace_id == workspace_id)
    if campaign_id is not None:
        q = q.where(broadcast.c.campaign_id == campaign_id)
    return _with_progress(
        conn, workspace_id, [dict(r) for r in conn.execute(q.order_by(broadcast.c.id)).mappings()]
    )


def _with_progress(conn: Connection, workspace_id: int, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each broadcast with ``progress``: its messages counted by status (queued, sending,
    sent, delivered, bounced, failed, skipped) — one grouped read of ``ix_message_source``
    per chunk of broadcasts."""
    counts: dict[str, dict[str, int]] = {str(r["id"]): dict.fromkeys(outbox.STATUSES, 0) for r in rows}
    m = message.c
    for part in chunks(list(counts)):
        for source_id, status, n in conn.execute(
            select(m.source_id, m.status, func.count())
            .where(m.workspace_id == workspace_id, m.source == "broadcast", m.source_id.in_(part))
            .group_by(m.source_id, m.status)
        ):
            if status in counts[source_id]:
                counts[source_id][status] = int(n)
    for r in rows:
        r["progress"] = counts[str(r["id"])]
    return rows


def schedule(conn: Connection, workspace_id: int, broadcast_id: int, now: datetime) -> dict[str, Any]:
    """Draft → scheduled (a broadcast without a time goes now). A broadcast of a campaign
    goes only once the campaign does: approved if it needs approval, and launched (or at
    least approved) — never while it is a draft, awaiting approval, completed or cancelled."""
    b = get_broadcast(conn, workspace_id, broadcast_id)
    if b["status"] != "draft":
        raise Conflict(f"a {b['status']} broadcast cannot be scheduled", code="invalid_transition")
    if b["campaign_id"] is not None:
        c = conn.execute(select(campaign).where(campaign.c.id == b["campaign_id"])).mappings().one()
        if c["requires_approval"] and c["approved_at"] is None:
            raise Conflict("the campaign needs approval before it sends", code="approval_required")
        if c["status"] not in ("approved", "active"):
            raise Conflict(
                f"the campaign is {c['status']}: launch it (POST /campaigns/{c['id']}/launch) before "
                "scheduling its broadcasts",
                code="campaign_not_launched",
            )
    starts = b["starts_at"] or now
    conn.execute(
        update(broadcast)
        .where(broadcast.c.id == broadcast_id)
        .values(status="scheduled", starts_at=starts, updated_at=now)
    )
    return get_broadcast(conn, workspace_id, broadcast_id)


def _queued_messages(broadcast_id: int) -> Any:
    m = message.c
    return (m.source == "broadcast", m.source_id == str(broadcast_id), m.status == outbox.QUEUED)


def pause(conn: Connection, workspace_id: int, broadcast_id: int, now: datetime) -> dict[str, Any]:
    b = get_broadcast(conn, workspace_id, broadcast_id)
    if b["status"] not in ("scheduled", "sending", "queued"):
        raise Conflict(f"a {b['status']} broadcast cannot be paused", code="invalid_transition")
    conn.execute(
        update(broadcast).where(broadcast.c.id == broadcast_id).values(status="paused", updated_at=now)
    )
    conn.execute(
        update(message)
        .where(*_queued_messages(broadcast_id))
        .values(next_attempt_at=HELD, reason="broadcast_paused", updated_at=now)
    )
    return get_broadcast(conn, workspace_id, broadcast_id)


def resume(conn: Connection, workspace_id: int, broadcast_id: int, now: datetime) -> dict[str, Any]:
    b = get_broadcast(conn, workspace_id, broadcast_id)
    if b["status"] != "paused":
        raise Conflict(f"a {b['status']} broadcast cannot be resumed", code="invalid_transition")
    status = "sending" if b["snapshot_at"] is not None else "scheduled"
    conn.execute(
        update(broadcast).where(broadcast.c.id == broadcast_id).values(status=status, updated_at=now)
    )
    row = conn.execute(select(broadcast).where(broadcast.c.id == broadcast_id)).one()
    fallback = get_policy(conn, workspace_id).timezone
    held = conn.execute(
        select(message.c.id, contact.c.timezone)
        .join(contact, contact.c.id == message.c.contact_id)
        .where(*_queued_messages(broadcast_id), message.c.reason == "broadcast_paused")
    ).all()
    if held:
        conn.execute(
            update(message)
            .where(message.c.id == bindparam("mid"))
            .values(next_attempt_at=bindparam("at"), reason=None, updated_at=now),
            [{"mid": mid, "at": _planned(row, tz, fallback, now)} for mid, tz in held],
        )
    return get_broadcast(conn, workspace_id, broadcast_id)


def cancel(conn: Connection, workspace_id: int, broadcast_id: int, now: datetime) -> dict[str, Any]:
    b = get_broadcast(conn, workspace_id, broadcast_id)
    if b["status"] == "cancelled":
        raise Conflict(f"a {b['status']} broadcast cannot be cancelled", code="invalid_transition")
    conn.execute(
        update(broadcast).where(broadcast.c.id == broadcast_id).values(status="cancelled", updated_at=now)
    )
    conn.execute(
        update(message)
        .where(*_queued_messages(broadcast_id))
        .values(status=outbox.SKIPPED, reason="broadcast_cancelled", updated_at=now)
    )
    return get_broadcast(conn, workspace_id, broadcast_id)


def run_broadcasts(conn: Connection, now: datetime, scope: Scope = EVERY) -> int:
    """Worker job: start due broadcasts (audience snapshot) and queue one chunk of each
    sending broadcast's recipients. Returns how many messages it queued or recipients it
    recorded (0: nothing to do)."""
    done = 0
    stmt = (
        select(broadcast)
        .where(
            scope.clause(broadcast.c.workspace_id),
            or_(
                and_(broadcast.c.status.in_(("scheduled", "sending")), broadcast.c.starts_at <= now),
                and_(broadcast.c.status == "testing", broadcast.c.test_ends_at <= now),
            ),
        )
        .order_by(broadcast.c.starts_at)
        .limit(20)
    )
    if conn.dialect.name == "postgresql":
        # The claim: a broadcast is snapshotted, queued or judged by one worker at a time;
        # others skip it (on SQLite the write lock, taken at BEGIN, serialises workers).
        # Pause, resume and cancel wait for this transaction.
        stmt = stmt.with_for_update(skip_locked=True, key_share=True)
    due = conn.execute(stmt).all()
    for b in due:
        if b.status == "scheduled":
            done += _snapshot(conn, b, now)
        elif b.status == "testing":
            done += _judge(conn, b, now)
        else:
            done += _queue_chunk(conn, b, now)
    return done


def _snapshot(conn: Connection, b: Any, now: datetime) -> int:
    exp = parse_experiment(b.experiment) if b.experiment is not None else None
    if exp is not None and exp.by_audience:
        _snapshot_audiences(conn, b, exp)
    else:
        # each recipient's variant (or holdout) by the stable hash, computed in SQL
        sm = segment_membership.c
        variant = variant_sql(exp, b.id, sm.contact_id) if exp is not None else null()
        members = select(literal(b.id, BigID), sm.contact_id, variant).where(sm.segment_id == b.segment_id)
        conn.execute(
            insert(broadcast_recipient).from_select(["broadcast_id", "contact_id", "variant"], members)
        )
    audience = conn.execute(
        select(func.count()).where(broadcast_recipient.c.broadcast_id == b.id)
    ).scalar_one()
    if exp is not None and exp.by_audience and exp.holdout_percent > 0:
        # the holdout by the stable hash, whatever the segment
        r = broadcast_recipient.c
        conn.execute(
            update(broadcast_recipient)
            .where(r.broadcast_id == b.id, variant_sql(exp, b.id, r.contact_id) == "holdout")
            .values(variant="holdout")
        )
    conn.execute(
        update(broadcast)
        .where(broadcast.c.id == b.id)
        .values(status="sending", audience=audience, snapshot_at=now, updated_at=now)
    )
    return max(audience, 1)


def _snapshot_audiences(conn: Connection, b: Any, exp: Experiment) -> None:
    """The union of the variants' segments (narrowed to the broadcast's segment, if it has
    one), each recipient with the variant of the first segment listed that holds it: one
    INSERT … SELECT per variant, skipping the contacts an earlier one took."""
    sm, r = segment_membership.c, broadcast_recipient.c
    within = segment_membership.alias("within")
    for v in exp.variants:
        members = select(literal(b.id, BigID), sm.contact_id, literal(v.name, String(64))).where(
            sm.segment_id == v.segment_id,
            ~exists().where(r.broadcast_id == b.id, r.contact_id == sm.contact_id),
        )
        if b.segment_id is not None:
            members = members.where(
                exists().where(within.c.segment_id == b.segment_id, within.c.contact_id == sm.contact_id)
            )
        conn.execute(
            insert(broadcast_recipient).from_select(["broadcast_id", "contact_id", "variant"], members)
        )


def _queue_chunk(conn: Connection, b: Any, now: datetime) -> int:
    r = broadcast_recipient.c
    q = (
        select(r.contact_id, contact.c.timezone, r.variant)
        .join(contact, contact.c.id == r.contact_id)
        .where(r.broadcast_id == b.id, r.message_id.is_(None))
        .order_by(r.contact_id)
        .limit(CHUNK)
    )
    exp = parse_experiment(b.experiment) if b.experiment is not None else None
    if exp is not None:  # the holdout never gets one; the remainder waits for the winner
        q = q.where(r.variant.is_not(None), r.variant != "holdout")
    pending = conn.execute(q).all()
    if not pending:
        if exp is not None and b.winner is None and b.results is None:
            # the test group is queued: judge it when its last message was sent and the
            # window has passed (until then test_ends_at is a projection, see _test_ends)
            conn.execute(
                update(broadcast)
                .where(broadcast.c.id == b.id)
                .values(status="testing", test_ends_at=_test_ends(conn, b, exp, now), updated_at=now)
            )
            return 1
        conn.execute(update(broadcast).where(broadcast.c.id == b.id).values(status="queued", updated_at=now))
        return 1
    variants = {v.name: v for v in exp.variants} if exp is not None else {}
    offers: dict[int, dict[str, Any] | None] = {}  # contact → its offer, None: it could get none
    for v in variants.values():
        if v.offer_id is not None:
            offers.update(
                _give_offer(conn, b, v.offer_id, [p.contact_id for p in pending if p.variant == v.name], now)
            )
    fallback = get_policy(conn, b.workspace_id).timezone
    ids = outbox.enqueue(
        conn,
        b.workspace_id,
        [
            outbox.NewMessage(
                contact_id=cid, channel=_channel(variants.get(variant), b.channel),
                template_id=variants[variant].template_id if variant in variants else b.template_id,
                topic_id=b.topic_id, source="broadcast", source_id=str(b.id),
                idempotency_key=f"broadcast:{b.id}:{cid}", send_at=_planned(b, tz, fallback, now),
                variant=variant if exp is not None else None,
                data={"offer": offers[cid]} if offers.get(cid) else None,
            )
            for cid, tz, variant in pending
        ],
        now,
    )  # fmt: skip
    offerless = [
        mid for (cid, _, _), mid in zip(pending, ids, strict=True) if cid in offers and not offers[cid]
    ]
    for part in chunks(offerless):  # like a journey's offer step taking its "none" branch: no message
        conn.execute(
            update(message)
            .where(message.c.id.in_(part), message.c.status == outbox.QUEUED)
            .values(status=outbox.SKIPPED, reason=NO_OFFER, updated_at=now)
        )
    conn.execute(
        update(broadcast_recipient)
        .where(
            broadcast_recipient.c.broadcast_id == b.id, broadcast_recipient.c.contact_id == bindparam("cid")
        )
        .values(message_id=bindparam("mid")),
        [{"cid": row[0], "mid": mid} for row, mid in zip(pending, ids, strict=True)],
    )
    conn.execute(
        update(broadcast)
        .where(broadcast.c.id == b.id)
        .values(queued=broadcast.c.queued + len(ids), updated_at=now)
    )
    return len(ids)


def _channel(variant: Variant | None, default: str) -> str:
    return variant.channel if variant is not None and variant.channel is not None else default


def _give_offer(
    conn: Connection, b: Any, offer_id: int, contact_ids: list[int], now: datetime
) -> dict[int, dict[str, Any] | None]:
    """Contact → the offer as templates see it (``Assignment.template()``: the offer's fields
    and the contact's code), or None. As a journey's offer step: those the offer fits
    (``best_offers`` on this offer: active, in its window, eligible, codes left) are given it
    (``assign``: exactly once per contact, a pool code each); and a contact already holding it
    unredeemed gets that same assignment (and code) again. The others — not eligible, pool
    exhausted, sold out — get None."""
    if not contact_ids:
        return {}
    row = offer_row(conn, b.workspace_id, offer_id)
    fits = best_offers(conn, b.workspace_id, contact_ids, now, offer_keys=[row["key"]])
    chosen = [cid for cid in contact_ids if fits.get(cid) is not None]
    rest = [cid for cid in contact_ids if fits.get(cid) is None]
    if rest and availability(row, now) is None:
        held = holdings(conn, [offer_id], rest)
        chosen += [cid for cid in rest if (h := held.get((offer_id, cid))) is not None and h.open is not None]
    result = assign(conn, b.workspace_id, offer_id, chosen, now, source=f"broadcast:{b.id}")
    return {cid: result.assigned[cid].template() if cid in result.assigned else None for cid in contact_ids}


def _would_send(conn: Connection, b: Any) -> Any:
    """When each recipient's message was (or would have been) due, as a SQL expression over
    ``contact.timezone``: the broadcast's instant, or its local time in the contact's zone —
    one CASE branch per time zone of the holdout (a few hundred at most), not one per contact."""
    fallback = get_policy(conn, b.workspace_id).timezone
    at = b.snapshot_at or b.starts_at

    def instant(tz: str | None) -> Any:
        return cast(literal(_planned(b, tz, fallback, at), UTCDateTime), UTCDateTime)

    if b.local_date is None:
        return instant(None)
    r = broadcast_recipient.c
    zones = conn.execute(
        select(contact.c.timezone).distinct().join(broadcast_recipient, r.contact_id == contact.c.id)
        .where(r.broadcast_id == b.id, r.variant == "holdout", contact.c.timezone.is_not(None))
    ).scalars().all()  # fmt: skip
    if not zones:
        return instant(None)
    return case(*((contact.c.timezone == tz, instant(tz)) for tz in zones), else_=instant(None))


def _holdout_units(conn: Connection, b: Any) -> Any:
    """The holdout as ``goal_moments`` units: each contact from when its message would have
    gone out (its local time, for a local-time broadcast)."""
    r = broadcast_recipient.c
    return (
        select(r.variant.label("grp"), r.contact_id.label("uid"), r.contact_id,
               _would_send(conn, b).label("start"))
        .join(contact, contact.c.id == r.contact_id)
        .where(r.broadcast_id == b.id, r.variant == "holdout")
        .subquery("holdout_units")
    )  # fmt: skip


def _test_ends(conn: Connection, b: Any, exp: Experiment, now: datetime) -> datetime:
    """When the test can be judged: ``window`` after the last send of the test group (and
    after the last moment a holdout contact's message would have gone out), every test
    message being settled — sent, failed or skipped. While some are still queued or sending
    (a later time zone, a retry, quiet hours, a capped channel) it is a projection: their
    due time (not before now) plus the window, moved on if they are deferred."""
    m, r = message.c, broadcast_recipient.c
    unsettled = m.status.in_((outbox.QUEUED, outbox.SENDING))
    waiting, due, last = conn.execute(
        select(func.count(case((unsettled, 1))), func.max(case((unsettled, m.next_attempt_at))),
               func.max(m.sent_at))
        .select_from(broadcast_recipient.join(message, m.id == r.message_id))
        .where(r.broadcast_id == b.id)
    ).one()  # fmt: skip
    held = conn.execute(select(func.max(_holdout_units(conn, b).c.start))).scalar()
    times = [t for t in (last, held) if t is not None]
    if waiting:
        times.append(max(due or now, now))
    return max(times, default=b.snapshot_at or now) + window(exp)


def _judge(conn: Connection, b: Any, now: datetime) -> int:
    """The test group is sent and the window has passed since the last send: compare the
    variants (each recipient over the window from its own send), pick the winner, record the
    results (with the lift over the holdout), and give the remainder the winning variant.
    Due earlier (messages still queued, or sent later than planned), it moves
    ``test_ends_at`` on instead."""
    exp = parse_experiment(b.experiment)
    ends = _test_ends(conn, b, exp, now)
    if ends > now:
        conn.execute(
            update(broadcast).where(broadcast.c.id == b.id).values(test_ends_at=ends, updated_at=now)
        )
        return 1
    results = variant_results(conn, b.id, exp, broadcast_recipient, now)
    lift = holdout_lift(conn, exp, sent_units(b.id, broadcast_recipient), _holdout_units(conn, b), now)
    if exp.by_audience:  # different audiences: measured and reported, no winner to send
        conn.execute(
            update(broadcast).where(broadcast.c.id == b.id).values(
                status="queued", updated_at=now,
                results={"metric": exp.metric, "variants": results, "winner": None, "confidence": None,
                         "judged_at": now.isoformat(), "holdout": lift},
            )
        )  # fmt: skip
        return 1
    winner, confidence = pick_winner(results, exp.metric)
    conn.execute(
        update(broadcast_recipient)
        .where(broadcast_recipient.c.broadcast_id == b.id, broadcast_recipient.c.variant.is_(None))
        .values(variant=winner)
    )
    conn.execute(
        update(broadcast).where(broadcast.c.id == b.id).values(
            status="sending", winner=winner, updated_at=now,
            results={"metric": exp.metric, "variants": results, "winner": winner, "confidence": confidence,
                     "judged_at": now.isoformat(), "holdout": lift},
        )
    )  # fmt: skip
    return 1
