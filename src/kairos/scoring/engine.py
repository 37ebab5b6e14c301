"""Keeping scores true: incrementally in the changed-contacts pass, by decay, and by full
recompute when a model changes.

- ``score_changes`` (a changed-contacts handler, after segments): the events each contact
  received since it was queued are matched against the event rules in SQL (the events
  already awarded, or counted by a recompute, are left out in the same query); caps are
  applied per contact and period; condition rules are re-checked for the contacts whose
  change they depend on (entry awards, exit takes the award back). Every change is a
  ledger row with its reason; scores are upserted per batch. Then the segments that test
  scores are re-checked for the batch.
- ``decay_due`` (a worker job): half-life decay is one UPDATE per model for the whole days
  since the last decay; points decay steps the rows whose next step is due. Each writes its
  ledger rows with an INSERT … SELECT before the UPDATE.
- ``recompute_due`` (a worker job): a model whose rules, decay or bounds changed is
  recomputed for every contact, one batch of contacts per call, with its progress stored on
  the model. Incremental scoring meanwhile covers only contacts the recompute has passed.

A contact's score is the sum of its ledger: ``delta`` is the change actually applied (after
caps and the model's bounds).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from kairos.clock import ensure_utc
from kairos.contacts.changes import Change, ChangeBatch
from kairos.contacts.service import mark_changed
from kairos.contacts.tables import contact, contact_change
from kairos.db.dialect import (
    FastStatement,
    chunks,
    in_ids,
    insert_on_conflict,
    json_converter,
    shifted,
    time_converter,
)
from kairos.db.types import BigID
from kairos.events.tables import event
from kairos.scoring.definition import (
    ConditionRule,
    EventRule,
    HalfLifeDecay,
    PointsDecay,
    parse_decay,
    rule_from_row,
)
from kairos.scoring.tables import contact_score, score_condition_hold, score_ledger, score_model, score_rule
from kairos.segments.behaviour import matching
from kairos.segments.compiler import Context, context, evaluate
from kairos.segments.definition import SegmentDefinition
from kairos.segments.deps import DEFAULT_SCORE, Dependencies, dependencies
from kairos.segments.membership import reevaluate_scored
from kairos.workspaces.clocks import EVERY, Scope

#: contacts per recompute batch (one transaction each)
RECOMPUTE_BATCH = 2000
#: how often condition rules that look at time are re-checked for everyone
CONDITION_REFRESH = timedelta(minutes=5)
#: Events received this recently are not counted by a recompute (``settled_event_id``).
SETTLE = timedelta(minutes=1)
#: a half-life decayed score closer to 0 than this becomes 0 (no endless tails)
ZERO_BELOW = 0.5
DAY = timedelta(days=1)


@dataclass
class Rule:
    id: int
    name: str
    points: float
    body: EventRule | ConditionRule
    deps: Dependencies | None = None


@dataclass
class Award:
    """One change to apply: ``points`` before bounds."""

    contact_id: int
    points: float
    kind: str  # event | entered | exited | recompute
    reason: str
    params: dict[str, Any]
    rule_id: int | None = None
    event_id: int | None = None
    occurred_at: datetime | None = None


@dataclass
class _State:
    score: float = 0.0
    active_at: datetime | None = None
    decay_due_at: datetime | None = None
    covered_event_id: int = 0
    changed_at: datetime | None = None


def load_rules(conn: Connection, model_id: int) -> list[Rule]:
    rows = conn.execute(select(score_rule).where(score_rule.c.model_id == model_id).order_by(score_rule.c.id))
    out = []
    for row in rows:
        body = rule_from_row(row)
        deps = dependencies(body.condition) if isinstance(body, ConditionRule) else None
        out.append(Rule(row.id, row.name, row.points, body, deps))
    return out


def _fmt(points: float) -> str:
    return f"{points:+g}"


# --- applying awards -----------------------------------------------------------------------


def _bounded(model: Any, value: float) -> float:
    if model.min_score is not None and value < model.min_score:
        return float(model.min_score)
    if model.max_score is not None and value > model.max_score:
        return float(model.max_score)
    return value


def _states(conn: Connection, model_id: int, contact_ids: Iterable[int]) -> dict[int, _State]:
    cs = contact_score.c
    rows = conn.execute(
        select(cs.contact_id, cs.score, cs.active_at, cs.decay_due_at, cs.covered_event_id, cs.changed_at)
        .where(cs.model_id == model_id, in_ids(cs.contact_id, set(contact_ids), conn.dialect.name))
    ).all()
    return {row[0]: _State(*row[1:]) for row in rows}


def apply_awards(conn: Connection, model: Any, awards: Sequence[Award], now: datetime) -> list[int]:
    """Apply awards in order: ledger rows (with the score after each), then the scores,
    both in one statement per batch; returns the contacts whose score changed."""
    if not awards:
        return []
    states = _states(conn, model.id, (a.contact_id for a in awards))
    decay = parse_decay(model.decay)
    t, j = time_converter(conn), json_converter(conn)
    ws, mid, stamp = model.workspace_id, model.id, t(now)
    ledger: list[tuple[Any, ...]] = []
    touched: dict[int, _State] = {}
    for a in awards:
        st = states.setdefault(a.contact_id, _State())
        after = _bounded(model, st.score + a.points)
        delta = after - st.score
        if a.kind == "event" and a.points != 0:
            st.active_at = now
            if isinstance(decay, PointsDecay):
                st.decay_due_at = now + timedelta(days=decay.every_days)
        touched[a.contact_id] = st
        if delta == 0:
            continue
        params = a.params
        if delta != a.points:
            params = {**params, "bounded": True}
        st.score = after
        st.changed_at = now
        ledger.append((ws, mid, a.contact_id, a.rule_id, a.kind, delta, after, a.reason, j(params),
                       a.event_id, t(a.occurred_at), stamp))  # fmt: skip
    _INSERT_LEDGER.execute(conn, ledger)
    _save(conn, model, touched, now)
    return sorted({row[2] for row in ledger})


# The two writes of every scoring batch go straight to the driver (``FastStatement``):
# SQLAlchemy's per-row parameter processing (the ledger's JSON, the instants) cost more than
# the inserts themselves.
_LEDGER_COLUMNS = ("workspace_id", "model_id", "contact_id", "rule_id", "kind", "delta", "score", "reason",
                   "params", "event_id", "occurred_at", "at")  # fmt: skip
_INSERT_LEDGER = FastStatement.insert(score_ledger, _LEDGER_COLUMNS)
_SCORE_KEPT = ("score", "changed_at", "active_at", "decay_due_at", "covered_event_id")
_SCORE_COLUMNS = ("model_id", "contact_id", "workspace_id", *_SCORE_KEPT)


def _upsert_scores(conn: Connection) -> Any:
    stmt = insert_on_conflict(conn, contact_score).values({c: bindparam(c) for c in _SCORE_COLUMNS})
    return stmt.on_conflict_do_update(
        index_elements=["model_id", "contact_id"], set_={c: stmt.excluded[c] for c in _SCORE_KEPT}
    )


_UPSERT_SCORES = FastStatement(_upsert_scores, _SCORE_COLUMNS)


def _save(conn: Connection, model: Any, states: dict[int, _State], now: datetime) -> None:
    if not states:
        return
    t = time_converter(conn)
    stamp = t(now)
    _UPSERT_SCORES.execute(conn, [
        (model.id, cid, model.workspace_id, st.score, t(st.changed_at) if st.changed_at else stamp,
         t(st.active_at), t(st.decay_due_at), st.covered_event_id)
        for cid, st in states.items()
    ])  # fmt: skip
    if model.is_default:  # the profile's ``score`` field: a changed value is a profile change
        conn.execute(
            update(contact)
            .where(contact.c.id == bindparam("cid"), contact.c.score.is_distinct_from(bindparam("new_score")))
            .values(score=bindparam("new_score"), updated_at=now),
            [{"cid": cid, "new_score": st.score} for cid, st in states.items()],
        )


# --- event rules ---------------------------------------------------------------------------


def period_start(at: datetime, per: str) -> datetime:
    """The start of the calendar period (UTC) an event's timestamp falls in."""
    at = ensure_utc(at)
    day = datetime(at.year, at.month, at.day, tzinfo=UTC)
    if per == "day":
        return day
    if per == "week":
        return day - timedelta(days=day.weekday())
    if per == "month":
        return day.replace(day=1)
    return datetime(1970, 1, 1, tzinfo=UTC)


def _capped(rule: Rule, events: Sequence[Any], awarded: dict[tuple[int, datetime], float]) -> list[Award]:
    """Awards for ``events`` (oldest first) under the rule's cap, given what was already
    awarded per (contact, period start); events past the cap award nothing."""
    body = rule.body
    assert isinstance(body, EventRule)
    out: list[Award] = []
    for e in events:
        points = rule.points
        params: dict[str, Any] = {"rule": rule.name, "event": e.name, "points": rule.points}
        if body.cap is not None:
            key = (e.contact_id, period_start(e.timestamp, body.cap.per))
            used = awarded.get(key, 0.0)
            room = max(body.cap.points - abs(used), 0.0)
            if room <= 0:
                continue
            if abs(points) > room:
                points = math.copysign(room, points)
                params["capped"] = True
            awarded[key] = used + points
            params["cap"] = {"points": body.cap.points, "per": body.cap.per}
        reason = f"{rule.name}: {e.name} {_fmt(points)}"
        out.append(
            Award(e.contact_id, points, "event", reason, params, rule.id, e.id, ensure_utc(e.timestamp))
        )
    return out


def _already_awarded(
    conn: Connection, rule: Rule, events: Sequence[Any]
) -> dict[tuple[int, datetime], float]:
    """Points the rule gave each contact in the periods these events fall in."""
    body = rule.body
    assert isinstance(body, EventRule) and body.cap is not None
    per = body.cap.per
    contacts = sorted({e.contact_id for e in events})
    since = min(period_start(e.timestamp, per) for e in events)
    out: dict[tuple[int, datetime], float] = defaultdict(float)
    lg = score_ledger.c
    for cid, occurred, delta in conn.execute(
        select(lg.contact_id, lg.occurred_at, lg.delta).where(
            lg.rule_id == rule.id, lg.kind == "event", in_ids(lg.contact_id, contacts, conn.dialect.name),
            lg.occurred_at >= since,
        )
    ).all():  # fmt: skip
        out[(cid, period_start(occurred, per))] += delta
    return out


def _new_event_awards(
    conn: Connection, model: Any, rule: Rule, contact_ids: list[int], ctx: Context
) -> list[Award]:
    """The rule's awards for the events these queued contacts received since they were
    queued (as ``changes.new_events`` finds them), leaving out those already awarded or
    counted by a recompute; only the columns an award needs are read."""
    body = rule.body
    assert isinstance(body, EventRule)
    e, cs, lg, ch = event.c, contact_score.c, score_ledger.c, contact_change.c
    covered = (
        select(cs.covered_event_id)
        .where(cs.model_id == model.id, cs.contact_id == e.contact_id)
        .correlate(event)
        .scalar_subquery()
    )
    seen = exists().where(lg.rule_id == rule.id, lg.event_id == e.id)
    found = conn.execute(
        select(e.id, e.contact_id, e.name, e.timestamp)
        .join(contact_change, ch.contact_id == e.contact_id)
        .where(
            in_ids(e.contact_id, contact_ids, conn.dialect.name), e.received_at >= ch.changed_at,
            *matching(body, ctx, "rule"), e.id > func.coalesce(covered, 0), ~seen,
        )
        .order_by(e.id)
    ).all()  # fmt: skip
    if not found:
        return []
    found = sorted(found, key=lambda r: (r.timestamp, r.id))
    awarded = _already_awarded(conn, rule, found) if body.cap is not None else {}
    return _capped(rule, found, awarded)


# --- condition rules -----------------------------------------------------------------------


def _affected(deps: Dependencies, change: Change) -> bool:
    if change.everything or deps.segments or deps.traits or deps.time:
        return True
    if deps.profile and change.profile:
        return True
    return bool(change.events) and (deps.any_event or not deps.events.isdisjoint(change.events))


def condition_awards(
    conn: Connection, model: Any, rule: Rule, contact_ids: Sequence[int] | None, now: datetime
) -> list[Award]:
    """Entries and exits of the condition among ``contact_ids`` (everyone: None); the hold
    rows are updated here, the awards returned."""
    body = rule.body
    assert isinstance(body, ConditionRule)
    definition = SegmentDefinition(root=body.condition)
    holds = evaluate(conn, model.workspace_id, definition, now, contact_ids)
    h = score_condition_hold.c
    held: dict[int, float] = {}
    stmt = select(h.contact_id, h.points).where(h.rule_id == rule.id)
    if contact_ids is None:
        held = {cid: points for cid, points in conn.execute(stmt)}
    else:
        for part in chunks(contact_ids):
            held.update({cid: points for cid, points in conn.execute(stmt.where(h.contact_id.in_(part)))})
    entered = sorted(holds - held.keys())
    exited = sorted(held.keys() - holds)
    if entered:
        conn.execute(
            insert(score_condition_hold),
            [{"rule_id": rule.id, "contact_id": c, "model_id": model.id, "points": rule.points, "since": now}
             for c in entered],
        )  # fmt: skip
    for part in chunks(exited):
        conn.execute(delete(score_condition_hold).where(h.rule_id == rule.id, h.contact_id.in_(part)))
    params = {"rule": rule.name, "points": rule.points}
    awards = [
        Award(c, rule.points, "entered", f"{rule.name}: now holds {_fmt(rule.points)}", params, rule.id)
        for c in entered
    ]
    awards += [
        Award(c, -held[c], "exited", f"{rule.name}: no longer holds {_fmt(-held[c])}",
              {"rule": rule.name, "points": -held[c]}, rule.id)
        for c in exited
    ]  # fmt: skip
    return awards


# --- the changed-contacts handler ----------------------------------------------------------


def _models(conn: Connection, workspace_ids: Iterable[int], *, share: bool = False) -> list[Any]:
    stmt = (
        select(score_model)
        .where(score_model.c.workspace_id.in_(list(workspace_ids)))
        .order_by(score_model.c.id)
    )
    if share and conn.dialect.name == "postgresql":
        # wait for a recompute batch another worker is running on the model (it holds the
        # row FOR UPDATE), so an event is counted by exactly one of them
        stmt = stmt.with_for_update(read=True)
    return list(conn.execute(stmt).all())


def score_changes(conn: Connection, batch: ChangeBatch, now: datetime) -> None:
    """Changed-contacts handler (before segments): event rules and the condition rules
    that do not test segment membership, for every model of the batch's workspaces."""
    _score_batch(conn, batch, now, segments=False)


def score_segment_changes(conn: Connection, batch: ChangeBatch, now: datetime) -> None:
    """Changed-contacts handler (after segments): condition rules on segment membership,
    which see the memberships this pass recorded; contacts whose score moved are then
    re-checked against the segments that test scores."""
    moved = _score_batch(conn, batch, now, segments=True)
    if moved:
        reevaluate_scored(conn, {ws: dict.fromkeys(ids, Change()) for ws, ids in moved.items()}, now)


def _score_batch(
    conn: Connection, batch: ChangeBatch, now: datetime, *, segments: bool
) -> dict[int, list[int]]:
    moved: dict[int, list[int]] = {}
    for model in _models(conn, batch, share=True):
        if model.recompute_status == "pending":
            continue  # the recompute will cover every contact
        changes = batch[model.workspace_id]
        ids = [c for c in changes if model.recompute_status == "idle" or c <= model.recompute_cursor]
        if ids:
            changed = score_contacts(conn, model, {c: changes[c] for c in ids}, now, segments=segments)
            if changed:
                moved.setdefault(model.workspace_id, []).extend(changed)
            if model.is_default:  # their ``score`` field changed: the later handlers (CRM) see it
                for c in changed:
                    changes[c] = replace(changes[c], profile=True)
    return moved


def score_contacts(
    conn: Connection, model: Any, changes: dict[int, Change], now: datetime, *, segments: bool = False
) -> list[int]:
    """Score these changed contacts: the rules that test segment membership (``segments``)
    or all the others (contacts merged into others are recomputed by the latter)."""
    rules = [r for r in load_rules(conn, model.id) if _on_segments(r) == segments]
    if segments:
        awards: list[Award] = []
        for rule in rules:
            awards += condition_awards(conn, model, rule, list(changes), now)
        awards.sort(key=lambda a: a.contact_id)
        return apply_awards(conn, model, awards, now)
    merged: set[int] = set()
    everything = [c for c, ch in changes.items() if ch.everything]
    for part in chunks(everything):
        merged.update(
            conn.execute(select(contact.c.merged_into).where(contact.c.merged_into.in_(part))).scalars()
        )
    changed: list[int] = []
    if merged:
        # contacts merged into these ones: their events moved here, their scores go
        for part in chunks(sorted(merged)):
            gone = select(contact.c.id).where(contact.c.merged_into.in_(part))
            conn.execute(
                delete(contact_score).where(
                    contact_score.c.model_id == model.id, contact_score.c.contact_id.in_(gone)
                )
            )
        changed += recompute_contacts(conn, model, load_rules(conn, model.id), sorted(merged), now)
    rest = [c for c in changes if c not in merged]
    awards = []
    ctx: Context | None = None
    for rule in rules:
        if isinstance(rule.body, EventRule):
            name = rule.body.event
            ids = [c for c in rest if name in changes[c].events or changes[c].everything]
            if ids:
                ctx = ctx or context(conn, model.workspace_id, now)
                awards += _new_event_awards(conn, model, rule, ids, ctx)
        else:
            assert rule.deps is not None
            ids = [c for c in rest if _affected(rule.deps, changes[c])]
            if ids:
                awards += condition_awards(conn, model, rule, ids, now)
    awards.sort(key=lambda a: a.contact_id)  # stable: each contact's awards keep their order
    return changed + apply_awards(conn, model, awards, now)


def _on_segments(rule: Rule) -> bool:
    return rule.deps is not None and bool(rule.deps.segments)


# --- full recompute ------------------------------------------------------------------------


def recompute_contacts(
    conn: Connection, model: Any, rules: list[Rule], contact_ids: Sequence[int], now: datetime,
    through: int | None = None,
) -> list[int]:  # fmt: skip
    """Restate the scores of ``contact_ids`` from all their events (up to event id
    ``through``) and the conditions that hold now: one ``recompute`` ledger row per contact
    whose score moves, its params the points per rule. Half-life decay weighs each award
    by its age at the model's last decay; points decay counts whole periods since the
    last award."""
    if not contact_ids:
        return []
    if through is None:
        through = settled_event_id(conn, model.workspace_id, now)
    decay = parse_decay(model.decay)
    decayed_at = ensure_utc(model.decayed_at) if model.decayed_at is not None else now
    totals: dict[int, float] = defaultdict(float)
    per_rule: dict[int, dict[str, float]] = defaultdict(dict)
    last: dict[int, datetime] = {}
    ctx = context(conn, model.workspace_id, now)
    for rule in rules:
        if isinstance(rule.body, EventRule):
            found: list[Any] = []
            e, lg = event.c, score_ledger.c
            # the settled events, and the newer ones the rule already awarded (the incremental
            # pass skips those: it scores only the newer events it has not seen)
            counted = or_(e.id <= through, exists().where(lg.rule_id == rule.id, lg.event_id == e.id))
            for part in chunks(contact_ids):
                found += conn.execute(
                    select(e.id, e.contact_id, e.name, e.timestamp).where(
                        e.contact_id.in_(part), counted, *matching(rule.body, ctx, "rule")
                    )
                ).all()
            found.sort(key=lambda r: (ensure_utc(r.timestamp), r.id))
            for award in _capped(rule, found, {}):
                weight = 1.0
                at = award.occurred_at or now
                if isinstance(decay, HalfLifeDecay) and at < decayed_at:
                    weight = 0.5 ** ((decayed_at - at) / DAY / decay.days)
                points = award.points * weight
                totals[award.contact_id] += points
                key = str(rule.id)
                per_rule[award.contact_id][key] = per_rule[award.contact_id].get(key, 0.0) + points
                if award.points:
                    last[award.contact_id] = max(last.get(award.contact_id, at), at)
        else:
            h = score_condition_hold.c
            for part in chunks(contact_ids):
                conn.execute(delete(score_condition_hold).where(h.rule_id == rule.id, h.contact_id.in_(part)))
            holds = evaluate(
                conn, model.workspace_id, SegmentDefinition(root=rule.body.condition), now, contact_ids
            )
            if holds:
                conn.execute(
                    insert(score_condition_hold),
                    [{"rule_id": rule.id, "contact_id": c, "model_id": model.id, "points": rule.points,
                      "since": now} for c in sorted(holds)],
                )  # fmt: skip
            for c in holds:
                totals[c] += rule.points
                per_rule[c][str(rule.id)] = rule.points
    states = _states(conn, model.id, contact_ids)
    names = {str(r.id): r.name for r in rules}
    ledger: list[dict[str, Any]] = []
    save: dict[int, _State] = {}
    for cid in contact_ids:
        old = states.get(cid)
        total = totals.get(cid, 0.0)
        due = None
        if isinstance(decay, PointsDecay) and cid in last:
            steps = int((now - last[cid]) / timedelta(days=decay.every_days))
            total = math.copysign(max(abs(total) - steps * decay.points, 0.0), total)
            due = last[cid] + timedelta(days=decay.every_days * (steps + 1))
        if isinstance(decay, HalfLifeDecay) and abs(total) < ZERO_BELOW:
            total = 0.0
        new = _bounded(model, total)
        if old is None and new == 0 and cid not in per_rule:
            continue
        before = old.score if old is not None else 0.0
        save[cid] = _State(new, last.get(cid), due, through, old.changed_at if old is not None else None)
        if new != before:
            save[cid].changed_at = now
            breakdown = {names[k]: round(v, 4) for k, v in per_rule.get(cid, {}).items()}
            ledger.append({
                "workspace_id": model.workspace_id, "model_id": model.id, "contact_id": cid, "rule_id": None,
                "kind": "recompute", "delta": new - before, "score": new,
                "reason": f"recomputed with the current rules: {_fmt(new - before)}",
                "params": {"rules": breakdown}, "event_id": None, "occurred_at": None, "at": now,
            })  # fmt: skip
    if ledger:
        conn.execute(insert(score_ledger), ledger)
    _save(conn, model, save, now)
    # events past the horizon are the incremental pass's: queue their contacts for it
    later: set[int] = set()
    for part in chunks(contact_ids):
        later.update(
            conn.execute(
                select(event.c.contact_id)
                .where(event.c.contact_id.in_(part), event.c.id > through)
                .distinct()
            ).scalars()
        )
    if later:
        mark_changed(conn, model.workspace_id, later, now - SETTLE)
    return [row["contact_id"] for row in ledger]


def settled_event_id(conn: Connection, workspace_id: int, now: datetime) -> int:
    """The recompute's horizon: the newest event received ``SETTLE`` ago or earlier.

    On PostgreSQL an event id is taken when the row is written, not when its transaction
    commits: a newer id can be visible while an older one is still uncommitted. Counting up
    to the newest id seen would mark the unseen older one as covered, and the incremental
    pass would then never score it. Events received within ``SETTLE`` are left to the
    incremental pass (``recompute_contacts`` queues their contacts), which skips any it
    already awarded."""
    e = event.c
    found = conn.execute(
        select(e.id)
        .where(e.workspace_id == workspace_id, e.received_at <= now - SETTLE)
        .order_by(e.id.desc())
        .limit(1)
    ).scalar()
    return int(found or 0)


def recompute_due(conn: Connection, now: datetime, scope: Scope = EVERY) -> int:
    """Worker job: one batch of a model's full recompute (pending or running), with its
    progress stored on the model. One batch per call (one transaction)."""
    stmt = (
        select(score_model)
        .where(scope.clause(score_model.c.workspace_id), score_model.c.recompute_status != "idle")
        .order_by(score_model.c.id)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    model = conn.execute(stmt).first()
    if model is None:
        return 0
    live = [contact.c.workspace_id == model.workspace_id, contact.c.merged_into.is_(None)]
    if model.recompute_status == "pending":
        total = conn.execute(select(func.count()).select_from(contact).where(*live)).scalar_one()
        conn.execute(
            update(score_model)
            .where(score_model.c.id == model.id)
            .values(recompute_status="running", recompute_cursor=0, recompute_done=0, recompute_total=total,
                    recompute_started_at=now, recompute_finished_at=None)
        )  # fmt: skip
        model = conn.execute(select(score_model).where(score_model.c.id == model.id)).one()
    ids = list(
        conn.execute(
            select(contact.c.id)
            .where(*live, contact.c.id > model.recompute_cursor)
            .order_by(contact.c.id)
            .limit(RECOMPUTE_BATCH)
        ).scalars()
    )
    changed = recompute_contacts(conn, model, load_rules(conn, model.id), ids, now)
    done = len(ids) < RECOMPUTE_BATCH
    values: dict[str, Any] = {"recompute_done": model.recompute_done + len(ids)}
    if ids:
        values["recompute_cursor"] = ids[-1]
    if done:
        values |= {"recompute_status": "idle", "recompute_finished_at": now, "conditions_checked_at": now}
        values["recompute_total"] = values["recompute_done"]
    conn.execute(update(score_model).where(score_model.c.id == model.id).values(values))
    _follow(conn, model, changed, now)
    return 1


def _follow(conn: Connection, model: Any, changed: Sequence[int], now: datetime) -> None:
    """Scores changed outside the changed-contacts pass: queue the contacts when a segment
    or an active journey depends on the model, so they follow (and crossings trigger)."""
    from kairos.b2b.service import mark_stale_for_contacts
    from kairos.scoring.service import model_users

    if changed:  # the accounts of these contacts roll their scores up again
        mark_stale_for_contacts(conn, changed)
    if changed and (
        model_users(conn, model.workspace_id, model.key, model.is_default) or _lifecycle_uses(conn, model)
    ):
        mark_changed(conn, model.workspace_id, changed, now)


def _lifecycle_uses(conn: Connection, model: Any) -> bool:
    """Whether an enabled lifecycle rule (``kairos.leads``) tests the model's score."""
    try:
        from kairos.leads.tables import lifecycle_rule
    except ModuleNotFoundError:  # pragma: no cover - the leads package is optional here
        return False
    r = lifecycle_rule.c
    for condition in conn.execute(
        select(r.condition).where(r.workspace_id == model.workspace_id, r.enabled, r.condition.is_not(None))
    ).scalars():
        try:
            scores = dependencies(SegmentDefinition.model_validate({"root": condition}).root).scores
        except ValueError:
            continue
        if model.key in scores or (model.is_default and DEFAULT_SCORE in scores):
            return True
    return False


# --- decay and time-dependent conditions ---------------------------------------------------


def decay_due(conn: Connection, now: datetime, scope: Scope = EVERY) -> int:
    """Worker job: apply the decay due of every idle model, and re-check condition rules
    that look at time; returns how many scores moved."""
    stmt = select(score_model).where(
        scope.clause(score_model.c.workspace_id), score_model.c.recompute_status == "idle"
    )
    moved = 0
    for model in conn.execute(stmt.order_by(score_model.c.id)).all():
        decay = parse_decay(model.decay)
        changed: list[int] = []
        if isinstance(decay, HalfLifeDecay):
            changed = _half_life(conn, model, decay, now)
        elif isinstance(decay, PointsDecay):
            changed = _points_decay(conn, model, decay, now)
        checked = ensure_utc(model.conditions_checked_at) if model.conditions_checked_at else None
        if checked is None or checked <= now - CONDITION_REFRESH:
            timed = [r for r in load_rules(conn, model.id) if r.deps is not None and r.deps.time]
            awards: list[Award] = []
            for rule in timed:
                awards += condition_awards(conn, model, rule, None, now)
            awards.sort(key=lambda a: a.contact_id)
            changed += apply_awards(conn, model, awards, now)
            conn.execute(
                update(score_model).where(score_model.c.id == model.id).values(conditions_checked_at=now)
            )
        if changed:
            _sync_default(conn, model, changed, now)
            _follow(conn, model, sorted(set(changed)), now)
        moved += len(changed)
    return moved


def _decay_ledger(
    conn: Connection,
    model: Any,
    new: Any,
    where: list[Any],
    reason: str,
    params: dict[str, Any],
    now: datetime,
) -> None:
    cs = contact_score.c
    rows = select(
        literal(model.workspace_id, BigID),
        literal(model.id, BigID),
        cs.contact_id,
        literal("decay"),
        new - cs.score,
        new,
        literal(reason),
        literal(params, score_ledger.c.params.type),
        literal(now, score_ledger.c.at.type),
    ).where(*where)
    conn.execute(
        insert(score_ledger).from_select(
            ["workspace_id", "model_id", "contact_id", "kind", "delta", "score", "reason", "params", "at"],
            rows,
        )
    )


def _clamp_sql(model: Any, value: Any) -> Any:
    if model.min_score is not None:
        value = case((value < model.min_score, float(model.min_score)), else_=value)
    if model.max_score is not None:
        value = case((value > model.max_score, float(model.max_score)), else_=value)
    return value


def _half_life(conn: Connection, model: Any, decay: HalfLifeDecay, now: datetime) -> list[int]:
    since = ensure_utc(model.decayed_at) if model.decayed_at is not None else now
    days = int((now - since) / DAY)
    if days < 1:
        return []
    factor = 0.5 ** (days / decay.days)
    cs = contact_score.c
    scaled = cs.score * factor
    new = _clamp_sql(model, case((func.abs(scaled) < ZERO_BELOW, 0.0), else_=scaled))
    where = [cs.model_id == model.id, cs.score != 0, new != cs.score]
    params = {"type": "half_life", "half_life_days": decay.days, "days": days}
    _decay_ledger(
        conn, model, new, where, f"decay: {days} day(s) at a half-life of {decay.days:g} days", params, now
    )
    changed = list(
        conn.execute(
            update(contact_score).where(*where).values(score=new, changed_at=now).returning(cs.contact_id)
        ).scalars()
    )
    conn.execute(
        update(score_model).where(score_model.c.id == model.id).values(decayed_at=since + days * DAY)
    )
    return changed


def _points_decay(conn: Connection, model: Any, decay: PointsDecay, now: datetime) -> list[int]:
    """Step every due row once per call round (a long gap takes several rounds, each a
    statement): towards 0 by ``points``, the next step ``every_days`` later."""
    cs = contact_score.c
    step = timedelta(days=decay.every_days)
    changed: set[int] = set()
    for _ in range(1000):
        due = [cs.model_id == model.id, cs.decay_due_at.is_not(None), cs.decay_due_at <= now]
        moved = case(
            (cs.score > 0, case((cs.score > decay.points, cs.score - decay.points), else_=0.0)),
            else_=case((cs.score < -decay.points, cs.score + decay.points), else_=0.0),
        )
        new = _clamp_sql(model, moved)
        params = {"type": "points", "points": decay.points, "every_days": decay.every_days}
        reason = f"decay: {decay.every_days} day(s) without activity, -{decay.points:g} towards 0"
        _decay_ledger(conn, model, new, [*due, new != cs.score], reason, params, now)
        rows = list(
            conn.execute(
                update(contact_score)
                .where(*due)
                .values(
                    score=new,
                    changed_at=case((new != cs.score, literal(now, cs.changed_at.type)), else_=cs.changed_at),
                    decay_due_at=case(
                        (new == 0, None), else_=shifted(cs.decay_due_at, step, conn.dialect.name)
                    ),
                )
                .returning(cs.contact_id, cs.score)
            ).all()
        )
        if not rows:
            break
        changed.update(cid for cid, _ in rows)
    return sorted(changed)


def _sync_default(conn: Connection, model: Any, contact_ids: Sequence[int], now: datetime) -> None:
    """The default model's scores into the contacts' legacy ``score`` field (a changed value
    moves the contact's ``updated_at``: CRM connections push it again)."""
    if not model.is_default:
        return
    value = func.coalesce(
        select(contact_score.c.score)
        .where(contact_score.c.model_id == model.id, contact_score.c.contact_id == contact.c.id)
        .scalar_subquery(),
        0.0,
    )
    for part in chunks(sorted(set(contact_ids))):
        conn.execute(
            update(contact)
            .where(contact.c.id.in_(part), contact.c.score.is_distinct_from(value))
            .values(score=value, updated_at=now)
        )
