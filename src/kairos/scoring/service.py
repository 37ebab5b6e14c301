"""Score models and rules: create, read, change, delete — each change of a model's rules
(or bounds, or decay) queues a full recompute that the worker runs in batches."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kairos.contacts.tables import contact
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.scoring.definition import EventRule, parse_decay, parse_rule, stored_rule
from kairos.scoring.tables import contact_score, score_model, score_rule
from kairos.segments.compiler import context
from kairos.segments.definition import SegmentDefinition
from kairos.segments.deps import DEFAULT_SCORE, stored_dependencies
from kairos.segments.tables import segment

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


def _check_key(key: str) -> str:
    if not _KEY.match(key):
        raise InvalidInput(
            f"key: {key!r} must start with a lowercase letter and use only a-z, 0-9 and _ (at most 100)",
            code="invalid_score_model_key",
        )
    return key


def _check_bounds(low: float | None, high: float | None) -> None:
    if low is not None and high is not None and low > high:
        raise InvalidInput("min_score: greater than max_score", code="invalid_score_bounds")


def create_model(
    conn: Connection,
    workspace_id: int,
    now: datetime,
    *,
    key: str,
    name: str,
    description: str | None = None,
    decay: Any = None,
    min_score: float | None = None,
    max_score: float | None = None,
    is_default: bool | None = None,
) -> dict[str, Any]:
    """A new model (no rules yet). The workspace's first model is its default one unless
    ``is_default`` is false: the contact's legacy ``score`` field mirrors it."""
    _check_bounds(min_score, max_score)
    parsed = parse_decay(decay if decay is not None else {"type": "none"})
    has_default = conn.execute(
        select(score_model.c.id).where(score_model.c.workspace_id == workspace_id, score_model.c.is_default)
    ).first()
    default = (has_default is None) if is_default is None else is_default
    values = {
        "workspace_id": workspace_id, "key": _check_key(key), "name": name, "description": description,
        "decay": parsed.model_dump(mode="json"), "min_score": min_score, "max_score": max_score,
        "is_default": False, "recompute_status": "idle", "recompute_cursor": 0, "recompute_done": 0,
        "recompute_total": 0, "decayed_at": now, "conditions_checked_at": now,
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(score_model).values(values).returning(score_model.c.id)).scalar_one()
    except IntegrityError:
        raise Conflict(f"a score model with key {key!r} exists", code="score_model_exists") from None
    if default:
        _make_default(conn, workspace_id, new_id, now)
    return get_model(conn, workspace_id, new_id)


def update_model(
    conn: Connection, workspace_id: int, model_id: int, now: datetime, changes: dict[str, Any]
) -> dict[str, Any]:
    """Name, description, decay, bounds, default. A new decay or new bounds recompute every
    score. The key cannot change (segments and journeys name it)."""
    current = get_model(conn, workspace_id, model_id)
    values: dict[str, Any] = {"updated_at": now}
    for name in ("name", "description"):
        if name in changes and (changes[name] is not None or name == "description"):
            values[name] = changes[name]
    recompute = False
    if changes.get("decay") is not None:
        decay = parse_decay(changes["decay"]).model_dump(mode="json")
        if decay != current["decay"]:
            values["decay"] = decay
            recompute = True
    low = changes["min_score"] if "min_score" in changes else current["min_score"]
    high = changes["max_score"] if "max_score" in changes else current["max_score"]
    _check_bounds(low, high)
    if (low, high) != (current["min_score"], current["max_score"]):
        values |= {"min_score": low, "max_score": high}
        recompute = True
    conn.execute(update(score_model).where(score_model.c.id == model_id).values(values))
    if recompute:
        queue_recompute(conn, model_id, now)
    if changes.get("is_default") is True and not current["is_default"]:
        _make_default(conn, workspace_id, model_id, now)
    elif changes.get("is_default") is False and current["is_default"]:
        _make_default(conn, workspace_id, None, now)
    return get_model(conn, workspace_id, model_id)


def delete_model(conn: Connection, workspace_id: int, model_id: int, now: datetime) -> None:
    """Deletes the model, its rules, scores and ledger; refused (409) while a segment tests
    its score or an active journey is triggered by it."""
    current = get_model(conn, workspace_id, model_id)
    users = model_users(conn, workspace_id, current["key"], current["is_default"])
    if users:
        raise Conflict(
            f"score model {current['key']!r} is in use: {', '.join(users)}", code="score_model_in_use"
        )
    conn.execute(delete(score_model).where(score_model.c.id == model_id))
    if current["is_default"]:
        _make_default(conn, workspace_id, None, now)


def model_users(conn: Connection, workspace_id: int, key: str, is_default: bool = False) -> list[str]:
    """What names the model: dynamic segments testing its score (the legacy ``score`` field
    for the default model) and active journeys triggered by it."""
    from kairos.journeys.definition import JourneyDefinition, ScoreTrigger
    from kairos.journeys.tables import journey, journey_version

    out = []
    for name, definition in conn.execute(
        select(segment.c.name, segment.c.definition).where(
            segment.c.workspace_id == workspace_id, segment.c.kind == "dynamic"
        )
    ):
        scores = stored_dependencies(definition).scores
        if key in scores or (is_default and DEFAULT_SCORE in scores):
            out.append(f"segment {name!r}")
    for name, definition in conn.execute(
        select(journey.c.name, journey_version.c.definition)
        .join(journey_version, journey_version.c.id == journey.c.version_id)
        .where(journey.c.workspace_id == workspace_id, journey.c.status == "active")
    ):
        trigger = JourneyDefinition.model_validate(definition).trigger
        if isinstance(trigger, ScoreTrigger) and trigger.model == key:
            out.append(f"journey {name!r}")
    return out


def _make_default(conn: Connection, workspace_id: int, model_id: int | None, now: datetime) -> None:
    """Make ``model_id`` (or none) the default model and copy its scores into the contacts'
    legacy ``score`` field (0 for contacts without one), set-based."""
    conn.execute(
        update(score_model)
        .where(score_model.c.workspace_id == workspace_id)
        .values(is_default=score_model.c.id == model_id if model_id is not None else False)
    )
    value: Any = 0.0
    if model_id is not None:
        value = func.coalesce(
            select(contact_score.c.score)
            .where(contact_score.c.model_id == model_id, contact_score.c.contact_id == contact.c.id)
            .scalar_subquery(),
            0.0,
        )
    conn.execute(
        update(contact)
        .where(contact.c.workspace_id == workspace_id, contact.c.score.is_distinct_from(value))
        .values(score=value, updated_at=now)
    )


def queue_recompute(conn: Connection, model_id: int, now: datetime) -> None:
    """Every score of the model is recomputed by the worker (``engine.recompute_due``), from
    the first contact again if one was running."""
    conn.execute(
        update(score_model)
        .where(score_model.c.id == model_id)
        .values(recompute_status="pending", recompute_cursor=0, recompute_done=0, updated_at=now)
    )


def get_model(conn: Connection, workspace_id: int, model_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(score_model).where(score_model.c.id == model_id, score_model.c.workspace_id == workspace_id)
    ).first()
    if row is None:
        raise NotFound(f"score model {model_id} not found", code="score_model_not_found")
    out = dict(row._mapping)
    out["rules"] = list_rules(conn, model_id)
    return out


def model_by_key(conn: Connection, workspace_id: int, key: str) -> dict[str, Any]:
    found = conn.execute(
        select(score_model.c.id).where(score_model.c.workspace_id == workspace_id, score_model.c.key == key)
    ).scalar()
    if found is None:
        raise NotFound(f"no score model {key!r}", code="score_model_not_found")
    return get_model(conn, workspace_id, found)


def list_models(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    ids = conn.execute(
        select(score_model.c.id).where(score_model.c.workspace_id == workspace_id).order_by(score_model.c.id)
    ).scalars()
    return [get_model(conn, workspace_id, mid) for mid in ids]


# --- rules -------------------------------------------------------------------------------


def _rule_values(conn: Connection, workspace_id: int, body: Any, now: datetime) -> dict[str, Any]:
    rule = parse_rule(body)
    if isinstance(rule, EventRule):
        cap = rule.cap
        values = {"cap_points": cap.points if cap else None, "cap_per": cap.per if cap else None}
    else:
        values = {"cap_points": None, "cap_per": None}
        # compile once: unknown attributes, segments or operators fail now, naming the field
        from kairos.segments.compiler import members_query

        members_query(workspace_id, SegmentDefinition(root=rule.condition), context(conn, workspace_id, now))
    if isinstance(rule, EventRule):
        from kairos.segments.behaviour import matching

        matching(rule, context(conn, workspace_id, now), "rule")
    return values | {"kind": rule.kind, "definition": stored_rule(rule)}


def create_rule(
    conn: Connection, workspace_id: int, model_id: int, now: datetime, *, name: str, points: float, rule: Any
) -> dict[str, Any]:
    get_model(conn, workspace_id, model_id)
    values = _rule_values(conn, workspace_id, rule, now) | {
        "workspace_id": workspace_id, "model_id": model_id, "name": name, "points": points,
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    rule_id = conn.execute(insert(score_rule).values(values).returning(score_rule.c.id)).scalar_one()
    queue_recompute(conn, model_id, now)
    return get_rule(conn, workspace_id, model_id, rule_id)


def update_rule(
    conn: Connection, workspace_id: int, model_id: int, rule_id: int, now: datetime, changes: dict[str, Any]
) -> dict[str, Any]:
    get_rule(conn, workspace_id, model_id, rule_id)
    values: dict[str, Any] = {"updated_at": now}
    if changes.get("name") is not None:
        values["name"] = changes["name"]
    if changes.get("points") is not None:
        values["points"] = changes["points"]
    if changes.get("rule") is not None:
        values |= _rule_values(conn, workspace_id, changes["rule"], now)
    conn.execute(update(score_rule).where(score_rule.c.id == rule_id).values(values))
    if set(values) - {"updated_at", "name"}:
        queue_recompute(conn, model_id, now)
    return get_rule(conn, workspace_id, model_id, rule_id)


def delete_rule(conn: Connection, workspace_id: int, model_id: int, rule_id: int, now: datetime) -> None:
    get_rule(conn, workspace_id, model_id, rule_id)
    conn.execute(delete(score_rule).where(score_rule.c.id == rule_id))
    queue_recompute(conn, model_id, now)


def _present_rule(row: Any) -> dict[str, Any]:
    out = {k: v for k, v in row._mapping.items() if k not in ("definition", "cap_points", "cap_per")}
    body = {"kind": row.kind, **row.definition}
    if row.kind == "event":
        body["cap"] = {"points": row.cap_points, "per": row.cap_per} if row.cap_points is not None else None
    out["rule"] = body
    return out


def get_rule(conn: Connection, workspace_id: int, model_id: int, rule_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(score_rule).where(
            score_rule.c.id == rule_id,
            score_rule.c.model_id == model_id,
            score_rule.c.workspace_id == workspace_id,
        )
    ).first()
    if row is None:
        raise NotFound(f"score rule {rule_id} not found", code="score_rule_not_found")
    return _present_rule(row)


def list_rules(conn: Connection, model_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(select(score_rule).where(score_rule.c.model_id == model_id).order_by(score_rule.c.id))
    return [_present_rule(r) for r in rows]
