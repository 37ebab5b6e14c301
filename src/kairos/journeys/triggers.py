"""What starts, wakes and ends enrollments.

- ``journey_changes`` is a handler of the worker's changed-contacts pass (after segments):
  for the events each changed contact received since it was queued it ends enrollments
  whose journey goal or exit rule matched, wakes ``wait_for_event`` nodes, and enrolls
  contacts into journeys triggered by those events. Reading from the change queue, rather
  than scanning the event table, sees late events and costs nothing when no journey cares.
- ``PredictedCrossings`` serves the predictive step (``predict/jobs.py``): around each page
  of probabilities it writes, the page's previous probabilities are read in one query and
  compared with the new ones (numpy), and the contacts that crossed a ``predicted_crossed``
  trigger's threshold are enrolled in the same transaction.
- ``scan_triggers`` is a worker job for triggers recorded elsewhere: segment entries and
  exits (``membership_transition``) and tags added (``contact_tag.created_at``). Each journey
  keeps a cursor per source and re-reads a short overlap, because rows of concurrent
  transactions may commit out of order; entry keys make the overlap harmless.
"""

from __future__ import annotations

from calendar import isleap
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from croniter import croniter
from sqlalchemy import Connection, Text, and_, cast, delete, func, insert, literal, select, update

from kairos.clock import ensure_utc
from kairos.contacts.changes import ChangeBatch, new_events
from kairos.contacts.tables import contact, contact_change, contact_tag, tag, tag_removal
from kairos.db.dialect import chunks, insert_on_conflict
from kairos.db.types import BigID
from kairos.journeys.definition import (
    AttributeTrigger,
    DateTrigger,
    EventTrigger,
    JourneyDefinition,
    PredictedTrigger,
    ScheduleTrigger,
    ScoreTrigger,
    SegmentTrigger,
    TagTrigger,
    WaitForEventNode,
)
from kairos.journeys.engine import ACTIVE, CONVERTED, EXITED, VERSIONS, WAIT, end_enrollments
from kairos.journeys.entry import Candidate, enroll
from kairos.journeys.tables import enrollment, journey, journey_watch
from kairos.messaging.policy import get_policy, zone
from kairos.predict.tables import contact_prediction, predictive_model
from kairos.scoring.tables import score_ledger, score_model
from kairos.segments.behaviour import matching
from kairos.segments.compiler import context
from kairos.segments.definition import EventMatch
from kairos.segments.tables import membership_transition, segment_membership
from kairos.segments.values import BUILTIN_FIELDS, json_value
from kairos.workspaces.clocks import EVERY, Scope

OVERLAP = timedelta(minutes=2)


def active_journeys(
    conn: Connection, workspace_ids: set[int] | None = None, *, claim: bool = False, scope: Scope = EVERY
) -> list[tuple[Any, JourneyDefinition]]:
    """``claim`` (PostgreSQL): lock the journey rows (their trigger cursors) for this
    transaction, skipping those another worker holds, so one worker scans each journey."""
    q = select(journey).where(
        journey.c.status == "active", journey.c.version_id.is_not(None), scope.clause(journey.c.workspace_id)
    )
    if workspace_ids is not None:
        q = q.where(journey.c.workspace_id.in_(workspace_ids))
    if claim and conn.dialect.name == "postgresql":
        # NO KEY UPDATE: enrollments that refer to the journey can still be inserted
        q = q.order_by(journey.c.id).with_for_update(skip_locked=True, key_share=True)
    return [(row, VERSIONS.get(conn, row.version_id)[2]) for row in conn.execute(q)]


def _events(
    conn: Connection, workspace_id: int, match: EventMatch, contact_ids: list[int], now: datetime
) -> list[Any]:
    """Events matching ``match`` that these queued contacts received since they were queued."""
    return new_events(conn, contact_ids, *matching(match, context(conn, workspace_id, now), "match"))


def journey_changes(conn: Connection, batch: ChangeBatch, now: datetime) -> None:
    journeys = active_journeys(conn, set(batch))
    if not journeys and not _any_waits(conn):
        return
    by_ws: dict[int, list[tuple[Any, JourneyDefinition]]] = defaultdict(list)
    for row, definition in journeys:
        by_ws[row.workspace_id].append((row, definition))
    for ws, changes in batch.items():
        names: dict[str, list[int]] = defaultdict(list)
        for cid, change in changes.items():
            for name in change.events:
                names[name].append(cid)
        for row, definition in by_ws.get(ws, []):
            if isinstance(definition.trigger, AttributeTrigger):
                _attribute_changes(conn, ws, row, definition, definition.trigger, changes, now)
            elif isinstance(definition.trigger, ScoreTrigger):
                _score_crossings(conn, ws, row, definition, definition.trigger, list(changes), now)
        if not names:
            continue
        for row, definition in by_ws.get(ws, []):
            _goals_and_exits(conn, ws, row, definition, names, now)
        _wake(conn, ws, names, now)
        for row, definition in by_ws.get(ws, []):
            trigger = definition.trigger
            if isinstance(trigger, EventTrigger) and trigger.event in names:
                found = _events(conn, ws, trigger, names[trigger.event], now)
                candidates = [
                    Candidate(e.contact_id, f"event:{e.id}", {"event": _event_view(e)}) for e in found
                ]
                enroll(conn, ws, row.id, row.version_id, definition, candidates, now)


def _score_crossings(
    conn: Connection, ws: int, row: Any, definition: JourneyDefinition, trigger: ScoreTrigger,
    contact_ids: list[int], now: datetime,
) -> None:  # fmt: skip
    """Enroll the contacts whose score crossed the threshold since they were queued: ledger
    rows of the model written since (by this pass, decay or a recompute) whose score before
    (``score - delta``) and after lie on either side of it, in the trigger's direction."""
    lg = score_ledger.c
    before = lg.score - lg.delta
    t = trigger.threshold
    crossed = (
        and_(before < t, lg.score >= t) if trigger.direction == "up" else and_(before >= t, lg.score < t)
    )
    model_id = select(score_model.c.id).where(
        score_model.c.workspace_id == ws, score_model.c.key == trigger.model
    )
    found: list[Any] = []
    for part in chunks(contact_ids):
        found.extend(
            conn.execute(
                select(lg.id, lg.contact_id, lg.score, before.label("before"))
                .join(contact_change, contact_change.c.contact_id == lg.contact_id)
                .where(
                    lg.contact_id.in_(part),
                    lg.model_id.in_(model_id.scalar_subquery()),
                    lg.at >= contact_change.c.changed_at,
                    crossed,
                )
                .order_by(lg.id)
            ).all()
        )
    payload = {"model": trigger.model, "threshold": t, "direction": trigger.direction}
    candidates = [
        Candidate(r.contact_id, f"score:{r.id}", {"payload": payload | {"from": r.before, "to": r.score}})
        for r in found
    ]
    if candidates:
        enroll(conn, ws, row.id, row.version_id, definition, candidates, now)


class PredictedCrossings:
    """The ``predicted_crossed`` journeys watching one predictive model, and a page of its
    previous probabilities (contact ids ``lo``…``hi``), read before the page is rewritten.

    ``read`` returns None — and reads nothing more — when no active journey watches the
    model. ``enroll`` compares the page's new probabilities with the previous ones
    (set-based, numpy) and enrolls, per journey, the contacts that crossed its threshold in
    its direction. A contact without a previous probability counts as coming from below
    (a new contact scored high at once), except in the model's first scoring run. The
    entry key names the scoring run and the contact (``predicted:<model id>:<run>:<contact
    id>``): a page written twice enrolls once."""

    def __init__(
        self, workspace_id: int, model_id: int, key: str, first_run: bool,
        journeys: list[tuple[Any, JourneyDefinition]], ids: Any, probabilities: Any,
    ) -> None:  # fmt: skip
        self.workspace_id, self.model_id, self.key, self.first_run = workspace_id, model_id, key, first_run
        self.journeys = journeys
        self.ids, self.probabilities = ids, probabilities

    @classmethod
    def read(
        cls, conn: Connection, workspace_id: int, model_id: int, lo: int, hi: int
    ) -> PredictedCrossings | None:
        watching = [
            (row, d)
            for row, d in active_journeys(conn, {workspace_id})
            if isinstance(d.trigger, PredictedTrigger)
        ]
        if not watching:
            return None
        model = conn.execute(
            select(predictive_model.c.key, predictive_model.c.scored_at).where(
                predictive_model.c.id == model_id
            )
        ).first()
        if model is None:
            return None
        watching = [(row, d) for row, d in watching if d.trigger.model == model.key]  # type: ignore[union-attr]
        if not watching:
            return None
        p = contact_prediction.c
        previous = conn.execute(
            select(p.contact_id, p.probability)
            .where(p.model_id == model_id, p.contact_id >= lo, p.contact_id <= hi)
            .order_by(p.contact_id)
        ).all()
        ids = np.array([r[0] for r in previous], dtype=np.int64)
        probabilities = np.array([r[1] for r in previous], dtype=np.float64)
        return cls(workspace_id, model_id, model.key, model.scored_at is None, watching, ids, probabilities)

    def enroll(self, conn: Connection, ids: Any, probabilities: Any, now: datetime) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        new = np.asarray(probabilities, dtype=np.float64)
        old = np.full(len(ids), np.nan)
        if len(self.ids):
            at = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
            known = self.ids[at] == ids
            old[known] = self.probabilities[at[known]]
        unseen = np.isnan(old)
        run = f"predicted:{self.model_id}:{int(now.timestamp())}"
        for row, definition in self.journeys:
            trigger = definition.trigger
            assert isinstance(trigger, PredictedTrigger)
            t = trigger.threshold
            with np.errstate(invalid="ignore"):
                if trigger.direction == "up":
                    crossed = (new >= t) & ((old < t) | (unseen & (not self.first_run)))
                else:
                    crossed = (new < t) & (old >= t)
            payload = {"model": self.key, "threshold": t, "direction": trigger.direction}
            candidates = [
                Candidate(int(ids[i]), f"{run}:{int(ids[i])}", {"payload": payload | {
                    "from": None if unseen[i] else float(old[i]), "to": float(new[i])}})
                for i in np.flatnonzero(crossed)
            ]  # fmt: skip
            if candidates:
                enroll(conn, self.workspace_id, row.id, row.version_id, definition, candidates, now)


def _event_view(e: Any) -> dict[str, Any]:
    return {"name": e.name, "properties": e.properties, "timestamp": ensure_utc(e.timestamp).isoformat()}


def _any_waits(conn: Connection) -> bool:
    return (
        conn.execute(
            select(enrollment.c.id)
            .where(enrollment.c.state == ACTIVE, enrollment.c.wait_event.is_not(None))
            .limit(1)
        ).first()
        is not None
    )


def _goals_and_exits(
    conn: Connection,
    ws: int,
    row: Any,
    definition: JourneyDefinition,
    names: dict[str, list[int]],
    now: datetime,
) -> None:
    rules: list[tuple[EventMatch, str, str]] = []
    if definition.goal is not None:
        rules.append((definition.goal, CONVERTED, "goal"))
    rules += [(m, EXITED, "exit_rule") for m in definition.exit_on]
    for match, state, reason in rules:
        contacts = (
            names.get(match.event or "", [])
            if match.event
            else sorted({c for cs in names.values() for c in cs})
        )
        if not contacts:
            continue
        performed = {e.contact_id: e.received_at for e in _events(conn, ws, match, contacts, now)}
        if not performed:
            continue
        running = conn.execute(
            select(
                enrollment.c.id,
                enrollment.c.workspace_id,
                enrollment.c.journey_id,
                enrollment.c.version_id,
                enrollment.c.contact_id,
                enrollment.c.node,
                enrollment.c.entered_at,
            ).where(
                enrollment.c.journey_id == row.id,
                enrollment.c.state == ACTIVE,
                enrollment.c.contact_id.in_(list(performed)),
            )
        ).all()
        ended = [tuple(r[:6]) for r in running if performed[r.contact_id] >= r.entered_at]
        end_enrollments(conn, ended, state, reason, now)  # type: ignore[arg-type]


def _wake(conn: Connection, ws: int, names: dict[str, list[int]], now: datetime) -> None:
    """Wake enrollments waiting for an event these contacts just performed (with filters)."""
    contacts = sorted({c for cs in names.values() for c in cs})
    waiting: list[Any] = []
    for part in chunks(contacts):
        waiting.extend(
            conn.execute(
                select(
                    enrollment.c.id,
                    enrollment.c.contact_id,
                    enrollment.c.version_id,
                    enrollment.c.node,
                    enrollment.c.node_at,
                ).where(
                    enrollment.c.contact_id.in_(part),
                    enrollment.c.state == ACTIVE,
                    enrollment.c.phase == WAIT,
                    enrollment.c.wait_event.in_(list(names)),
                )
            ).all()
        )
    woken = []
    for w in waiting:
        node = VERSIONS.get(conn, w.version_id)[2].nodes.get(w.node or "")
        if not isinstance(node, WaitForEventNode):
            continue
        found = _events(conn, ws, node, [w.contact_id], now)
        if any(e.received_at >= w.node_at for e in found):
            woken.append(w.id)
    if woken:
        conn.execute(
            update(enrollment)
            .where(enrollment.c.id.in_(woken), enrollment.c.state == ACTIVE)
            .values(woken_at=now, resume_at=now, wait_event=None, updated_at=now)
        )


def scan_triggers(conn: Connection, now: datetime, scope: Scope = EVERY) -> int:
    """Enroll from segment transitions, added tags, dates and schedules since each journey's
    cursor; returns how many entered."""
    entered = 0
    # claimed: two workers never scan the same journey's cursor at once (on SQLite the
    # write lock, taken at BEGIN, serialises workers)
    for row, definition in active_journeys(conn, claim=True, scope=scope):
        trigger = definition.trigger
        if isinstance(trigger, DateTrigger):
            candidates = dated_candidates(conn, row.workspace_id, trigger, now)
            entered += len(
                enroll(conn, row.workspace_id, row.id, row.version_id, definition, candidates, now)
            )
            continue
        if isinstance(trigger, ScheduleTrigger):
            entered += _schedule(conn, row, definition, trigger, now)
            continue
        if not isinstance(trigger, SegmentTrigger | TagTrigger):
            continue
        cursor = dict(row.cursor or {})
        since = ensure_utc(datetime.fromisoformat(cursor["since"])) if "since" in cursor else row.updated_at
        candidates, newest = _occurrences(conn, row.workspace_id, trigger, since - OVERLAP, now)
        if candidates:
            entered += len(
                enroll(conn, row.workspace_id, row.id, row.version_id, definition, candidates, now)
            )
        if newest is not None and newest > since:
            cursor["since"] = newest.isoformat()
            conn.execute(update(journey).where(journey.c.id == row.id).values(cursor=cursor))
    return entered


def _occurrences(
    conn: Connection, workspace_id: int, trigger: SegmentTrigger | TagTrigger, since: datetime, now: datetime
) -> tuple[list[Candidate], datetime | None]:
    if isinstance(trigger, SegmentTrigger):
        kind = "entered" if trigger.type == "segment_entered" else "exited"
        rows = conn.execute(
            select(membership_transition.c.id, membership_transition.c.contact_id, membership_transition.c.at)
            .where(
                membership_transition.c.segment_id == trigger.segment_id,
                membership_transition.c.kind == kind,
                membership_transition.c.at >= since,
                membership_transition.c.at <= now,
            )
            .order_by(membership_transition.c.at)
        ).all()
        candidates = [
            Candidate(r.contact_id, f"seg:{r.id}", {"payload": {"segment_id": trigger.segment_id}})
            for r in rows
        ]
        return candidates, max((ensure_utc(r.at) for r in rows), default=None)
    if trigger.type == "tag_removed":
        stamp = tag_removal.c.removed_at
        base = select(tag_removal.c.contact_id, stamp.label("at")).join(
            tag, and_(tag.c.id == tag_removal.c.tag_id, tag.c.workspace_id == workspace_id)
        )
    else:
        stamp = contact_tag.c.created_at
        base = select(contact_tag.c.contact_id, stamp.label("at")).join(
            tag, and_(tag.c.id == contact_tag.c.tag_id, tag.c.workspace_id == workspace_id)
        )
    tagged = conn.execute(
        base.where(tag.c.name == trigger.tag, stamp >= since, stamp <= now).order_by(stamp)
    ).all()
    candidates = [
        Candidate(
            r.contact_id,
            f"{trigger.type}:{trigger.tag}:{r.contact_id}:{ensure_utc(r.at).isoformat()}",
            {"payload": {"tag": trigger.tag}},
        )
        for r in tagged
    ]
    return candidates, max((ensure_utc(r.at) for r in tagged), default=None)


# --- attribute changes ----------------------------------------------------------------


def attribute_value(conn: Connection, workspace_id: int, attribute: str) -> Any:
    """The attribute as SQL text: a contact column, or a trait."""
    if attribute in BUILTIN_FIELDS:
        return cast(contact.c[attribute], Text)
    return json_value(contact.c.traits, attribute.removeprefix("traits."), None, conn.dialect.name)


def watch_all(conn: Connection, workspace_id: int, journey_id: int, attribute: str) -> None:
    """Remember every contact's current value (when an attribute journey goes live)."""
    conn.execute(delete(journey_watch).where(journey_watch.c.journey_id == journey_id))
    value = attribute_value(conn, workspace_id, attribute)
    rows = select(literal(journey_id, BigID), contact.c.id, value).where(
        contact.c.workspace_id == workspace_id, contact.c.merged_into.is_(None)
    )
    conn.execute(insert(journey_watch).from_select(["journey_id", "contact_id", "value"], rows))


def _attribute_changes(
    conn: Connection, ws: int, row: Any, definition: JourneyDefinition, trigger: AttributeTrigger,
    changes: dict[int, Any], now: datetime,
) -> None:  # fmt: skip
    contacts = [cid for cid, change in changes.items() if change.profile or change.everything]
    if not contacts:
        return
    value = attribute_value(conn, ws, trigger.attribute)
    wanted = None if trigger.to is None else _as_text(trigger.to)
    candidates: list[Candidate] = []
    updates: list[dict[str, Any]] = []
    for part in chunks(contacts):
        current: dict[int, Any] = dict(
            conn.execute(select(contact.c.id, value).where(contact.c.id.in_(part))).all()
        )
        seen = dict(conn.execute(
            select(journey_watch.c.contact_id, journey_watch.c.value)
            .where(journey_watch.c.journey_id == row.id, journey_watch.c.contact_id.in_(part))
        ).all())  # fmt: skip
        for cid, new in current.items():
            old = seen.get(cid)
            if new == old:
                continue
            updates.append({"journey_id": row.id, "contact_id": cid, "value": new})
            if new is not None and (wanted is None or new == wanted):
                payload = {"attribute": trigger.attribute, "from": old, "to": new}
                candidates.append(Candidate(cid, f"attr:{cid}:{now.isoformat()}", {"payload": payload}))
    if updates:
        stmt = insert_on_conflict(conn, journey_watch)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["journey_id", "contact_id"], set_={"value": stmt.excluded.value}
            ),
            updates,
        )
    enroll(conn, ws, row.id, row.version_id, definition, candidates, now)


def _as_text(value: str | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- dates and schedules ------------------------------------------------------------------


def dated_candidates(
    conn: Connection, workspace_id: int, trigger: DateTrigger, now: datetime
) -> list[Candidate]:
    """Contacts whose date attribute (shifted by the offset) is today in their own time zone,
    where the local time has reached ``trigger.at``. Today is one of at most three dates
    around the world, so the SQL asks for those month-days (or dates) and Python checks each
    contact's own."""
    utc_today = now.date()
    days = [utc_today + timedelta(days=d) for d in (-1, 0, 1)]
    targets = {(d - timedelta(days=trigger.offset_days)) for d in days}
    ctx = context(conn, workspace_id, now)
    text = json_value(contact.c.traits, trigger.attribute.removeprefix("traits."), None, ctx.dialect)
    if trigger.anniversary:
        wanted = sorted(
            {f"{t.month:02d}-{t.day:02d}" for t in targets}
            | (
                {"02-29"}
                if any(t.month == 2 and t.day == 28 and not isleap(t.year) for t in targets)
                else set()
            )
        )
        where = func.substr(text, 6, 5).in_(wanted)
    else:
        where = func.substr(text, 1, 10).in_(sorted(t.isoformat() for t in targets))
    rows = conn.execute(
        select(contact.c.id, contact.c.timezone, text.label("value")).where(
            contact.c.workspace_id == workspace_id, contact.c.merged_into.is_(None), where
        )
    ).all()
    fallback = get_policy(conn, workspace_id).timezone
    out = []
    for cid, tz, value in rows:
        local = now.astimezone(zone(tz, fallback))
        if local.time().replace(tzinfo=None) < trigger.at:
            continue
        target = local.date() - timedelta(days=trigger.offset_days)
        try:
            stored = date.fromisoformat(str(value)[:10])
        except ValueError:
            continue
        if trigger.anniversary:
            hit = (stored.month, stored.day) == (target.month, target.day) or (
                (stored.month, stored.day) == (2, 29)
                and not isleap(target.year)
                and (target.month, target.day) == (2, 28)
            )
        else:
            hit = stored == target
        if hit:
            out.append(
                Candidate(
                    cid,
                    f"date:{local.date().isoformat()}:{cid}",
                    {"payload": {trigger.attribute: str(value)}},
                )
            )
    return out


def _schedule(
    conn: Connection, row: Any, definition: JourneyDefinition, trigger: ScheduleTrigger, now: datetime
) -> int:
    """The cron occurrences since the cursor, per time zone: the segment's members in that
    zone enter once per occurrence."""
    cursor = dict(row.cursor or {})
    since = ensure_utc(datetime.fromisoformat(cursor["since"])) if "since" in cursor else row.updated_at
    if since >= now:
        return 0
    fallback = get_policy(conn, row.workspace_id).timezone
    members = conn.execute(
        select(contact.c.id, contact.c.timezone)
        .join(segment_membership, segment_membership.c.contact_id == contact.c.id)
        .where(segment_membership.c.segment_id == trigger.segment_id)
    ).all()
    by_zone: dict[str, list[int]] = defaultdict(list)
    for cid, tz in members:
        by_zone[(tz or fallback) if trigger.timezone == "contact" else fallback].append(cid)
    candidates: list[Candidate] = []
    for name, cids in by_zone.items():
        tz = zone(name, fallback)
        it = croniter(trigger.cron, since.astimezone(tz))
        fire = it.get_next(datetime)
        while fire <= now:
            stamp = fire.astimezone(UTC).isoformat()
            candidates += [
                Candidate(cid, f"cron:{stamp}:{cid}", {"payload": {"scheduled_at": stamp}}) for cid in cids
            ]
            fire = it.get_next(datetime)
    entered = len(enroll(conn, row.workspace_id, row.id, row.version_id, definition, candidates, now))
    cursor["since"] = now.isoformat()
    conn.execute(update(journey).where(journey.c.id == row.id).values(cursor=cursor))
    return entered
