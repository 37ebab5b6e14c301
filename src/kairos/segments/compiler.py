"""Compiles a segment definition into one SQLAlchemy Core condition over ``contact``.

Values are always bound parameters. Two entry points: ``members_query`` for a whole
workspace, and the same with ``contact_ids`` to re-evaluate a few contacts (the incremental
path). Every problem in a definition is an ``InvalidInput`` naming the path of its node
(``root.conditions[2].operator``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    exists,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    true,
    union_all,
)

from kairos.b2b.tables import account, account_contact, account_score
from kairos.clock import ensure_utc
from kairos.contacts.attributes import attribute_types
from kairos.contacts.tables import contact, contact_tag, tag
from kairos.db.dialect import chunks, in_ids
from kairos.errors import InvalidInput, plain_message
from kairos.messaging.channels.base import CHANNEL_KINDS
from kairos.messaging.tables import subscription, subscription_topic
from kairos.predict.tables import contact_prediction, predictive_model
from kairos.scoring.tables import contact_score, score_model
from kairos.segments import behaviour
from kairos.segments.definition import (
    NODE_TYPES,
    AccountCondition,
    AccountFilter,
    AggregateCondition,
    All,
    AnyOf,
    AttributeCondition,
    Condition,
    FirstPerformedCondition,
    LastPerformedCondition,
    MemberCount,
    Not,
    PerformedCondition,
    PredictedCondition,
    RandomBucketCondition,
    ScoreCondition,
    SegmentDefinition,
    SegmentMembershipCondition,
    SequenceCondition,
    SubscriptionCondition,
    TagCondition,
    Window,
)
from kairos.segments.deps import COMPUTED, dependencies
from kairos.segments.operators import ValueType
from kairos.segments.rewrite import rewrite
from kairos.segments.tables import segment_membership
from kairos.segments.traits import trait_expression, trait_types
from kairos.segments.values import (
    BUILTIN_FIELDS,
    AgeOperand,
    AnniversaryOperand,
    Context,
    attribute_expression,
    coerce_value,
    compare,
    json_value,
    month_day_expression,
    operator_for,
    property_type,
)

__all__ = [
    "BUILTIN_FIELDS", "Context", "coerce_value", "compile_condition", "evaluate", "json_value",
    "members_query", "operator_for", "parse_definition", "property_type",
]  # fmt: skip

BUCKETS = 10_000
#: conditions in one definition: far above what a person builds, far below what makes the
#: compiled query (and every re-evaluation) slow — 50,000 took 20 s of CPU to save
MAX_CONDITIONS = 500


def parse_definition(data: Any) -> SegmentDefinition:
    """A definition from JSON-like data; shape errors name the path of the bad node."""
    try:
        parsed = SegmentDefinition.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidInput(
            f"{_path(err['loc'])}: {plain_message(err['msg'])}", code="invalid_definition"
        ) from None
    count, stack = 0, [parsed.root]
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_CONDITIONS:
            raise InvalidInput(
                f"definition: more than {MAX_CONDITIONS} conditions; split it into segments "
                "and combine them with segment conditions",
                code="definition_too_large",
            )
        if isinstance(node, All | AnyOf):
            stack.extend(node.conditions)
        elif isinstance(node, Not):
            stack.append(node.condition)
    return parsed


def _path(loc: tuple[int | str, ...]) -> str:
    """pydantic's error location as the compiler writes paths: ``root.conditions[0].tag``
    (pydantic puts the union's tag after each node position; it is left out)."""
    out = ""
    previous: int | str | None = None
    for part in loc:
        at_node = previous in ("root", "condition") or isinstance(previous, int)
        if not (at_node and part in NODE_TYPES):
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        previous = part
    return out or "definition"


def compile_definition(definition: SegmentDefinition, ctx: Context) -> ColumnElement[bool]:
    return compile_condition(definition.root, ctx, "root")


def members_query(
    workspace_id: int,
    definition: SegmentDefinition,
    ctx: Context,
    contact_ids: Iterable[int] | None = None,
) -> Select[Any]:
    """The ids of the contacts (all, or among ``contact_ids``) the definition selects."""
    if contact_ids is None:
        ctx = replace(ctx, workspace_id=workspace_id)
    stmt = select(contact.c.id).where(
        contact.c.workspace_id == workspace_id,
        contact.c.merged_into.is_(None),
        compile_definition(definition, ctx),
    )
    if contact_ids is not None:
        stmt = stmt.where(in_ids(contact.c.id, contact_ids, ctx.dialect))
    return stmt


def context(conn: Connection, workspace_id: int, now: datetime) -> Context:
    """What compiling for a workspace needs: its custom attribute types and its computed
    traits (as ``computed.NAME``)."""
    types = attribute_types(conn, workspace_id)
    types |= {COMPUTED + name: kind for name, kind in trait_types(conn, workspace_id).items()}
    # the subscription topics, the score models and the predictive models, in one round trip
    t, m, pm = subscription_topic.c, score_model.c, predictive_model.c
    named = union_all(
        select(literal("topic").label("of"), t.key, t.id, t.opt_in, t.channel).where(
            t.workspace_id == workspace_id
        ),
        select(literal("score"), m.key, m.id, null(), null()).where(m.workspace_id == workspace_id),
        select(literal("predicted"), pm.key, pm.id, null(), null()).where(pm.workspace_id == workspace_id),
    )
    topics: dict[str, tuple[int, bool, str | None]] = {}
    models: dict[str, int] = {}
    predictive: dict[str, int] = {}
    for of, key, oid, opt_in, channel in conn.execute(named):
        if of == "topic":
            topics[key] = (int(oid), bool(opt_in), channel)
        else:
            (models if of == "score" else predictive)[key] = int(oid)
    return Context(
        ensure_utc(now), types, conn.dialect.name, topics=topics, score_models=models,
        predictive_models=predictive,
    )  # fmt: skip


def evaluate(
    conn: Connection,
    workspace_id: int,
    definition: SegmentDefinition,
    now: datetime,
    contact_ids: Iterable[int] | None = None,
) -> set[int]:
    """Ids of the contacts (all, or among ``contact_ids``) matching the definition at ``now``."""
    ctx = context(conn, workspace_id, now)
    if contact_ids is None:
        return {row[0] for row in conn.execute(members_query(workspace_id, definition, ctx))}
    found: set[int] = set()
    for part in chunks(contact_ids):
        found.update(row[0] for row in conn.execute(members_query(workspace_id, definition, ctx, part)))
    return found


# --- nodes -------------------------------------------------------------------------------

Compile = Callable[[Any, Context, str], ColumnElement[bool]]


def compile_condition(node: Condition, ctx: Context, path: str) -> ColumnElement[bool]:
    """One node (and its children) as a boolean SQL expression over ``contact``; convenience
    forms are first rewritten into the core ones."""
    core = rewrite(node)
    handler = _HANDLERS.get(type(core))
    if handler is None:
        raise InvalidInput(
            f"{path}: {core.type!r} conditions are not available yet", code="unsupported_condition"
        )
    return handler(core, ctx, path)


def _all(node: All, ctx: Context, path: str) -> ColumnElement[bool]:
    """Over the whole workspace, one condition drives: the contacts it selects as a set,
    the other behaviour conditions checked per candidate (a probe each) rather than each
    computing its own set over all the events."""
    driver = _driver(node.conditions) if ctx.whole else None
    probe = replace(ctx, workspace_id=None)
    parts = [
        compile_condition(
            c,
            probe if driver is not None and i != driver and _is_set_shaped(c) else ctx,
            f"{path}.conditions[{i}]",
        )
        for i, c in enumerate(node.conditions)
    ]
    return and_(true(), *parts)


_SET_SHAPED = (
    PerformedCondition, AggregateCondition, FirstPerformedCondition,
    LastPerformedCondition, SequenceCondition, TagCondition, SegmentMembershipCondition,
)  # fmt: skip


def _is_set_shaped(node: Condition) -> bool:
    return isinstance(rewrite(node), _SET_SHAPED)


def _driver(conditions: list[Condition]) -> int | None:
    """The condition likely to select the fewest contacts among those that select a set
    (no negations): the shortest recent window first, then tags and segments, then
    behaviour over all time."""
    ranked: list[tuple[float, int]] = []
    for i, raw in enumerate(conditions):
        node = rewrite(raw)
        if (isinstance(node, PerformedCondition) and node.event is not None and _positive(node)) or (
            isinstance(node, SequenceCondition) and node.first.event is not None
        ):
            ranked.append((_window_rank(node.window), i))
        elif (isinstance(node, TagCondition) and node.present) or (
            isinstance(node, SegmentMembershipCondition) and node.member
        ):
            ranked.append((1e12, i))
    return min(ranked)[1] if ranked else None


def _positive(node: PerformedCondition) -> bool:
    """A count comparison that no contact without events satisfies."""
    cmp, n = node.count.op, node.count.value
    return (cmp in (">=", "=") and n >= 1) or cmp == ">" or (cmp == "!=" and n == 0)


def _window_rank(window: Window) -> float:
    if window.last is not None:
        return window.last.to_timedelta().total_seconds()
    return 1e11 if window.since is not None else 1e13


def _any(node: AnyOf, ctx: Context, path: str) -> ColumnElement[bool]:
    return or_(
        false(),
        *[compile_condition(c, ctx, f"{path}.conditions[{i}]") for i, c in enumerate(node.conditions)],
    )


def _not(node: Not, ctx: Context, path: str) -> ColumnElement[bool]:
    return not_(compile_condition(node.condition, ctx, f"{path}.condition"))


def _attribute(node: AttributeCondition, ctx: Context, path: str) -> ColumnElement[bool]:
    if node.attribute.startswith(COMPUTED):
        types = {
            k.removeprefix(COMPUTED): v for k, v in ctx.attribute_types.items() if k.startswith(COMPUTED)
        }
        operand, vtype = trait_expression(
            node.attribute.removeprefix(COMPUTED), ctx.dialect, types, f"{path}.attribute"
        )
    else:
        operand, vtype = attribute_expression(node.attribute, ctx, path, node.operator)
    op = operator_for(node.operator, vtype, f"{path}.operator")
    if op.key == "anniversary_within_next":
        if node.attribute.startswith(COMPUTED):
            raise InvalidInput(
                f"{path}.operator: anniversaries of computed traits are not supported",
                code="invalid_operator",
            )
        operand = AnniversaryOperand(month_day_expression(node.attribute, ctx), contact.c.timezone)
    elif op.key == "age_between":
        operand = AgeOperand(operand, contact.c.timezone)
    return compare(op, operand, vtype, node.value, ctx, path)


def _tag(node: TagCondition, ctx: Context, path: str) -> ColumnElement[bool]:
    tagged = (
        select(contact_tag.c.contact_id)
        .join(tag, tag.c.id == contact_tag.c.tag_id)
        .where(tag.c.name == node.tag)
    )
    if ctx.whole:  # tag names are per workspace
        tagged = tagged.where(tag.c.workspace_id == ctx.workspace_id)
    return _member_of(tagged, contact_tag.c.contact_id, ctx, node.present)


def _segment(node: SegmentMembershipCondition, ctx: Context, path: str) -> ColumnElement[bool]:
    """Stored membership of the other segment (kept ahead of this one by the worker)."""
    inside = select(segment_membership.c.contact_id).where(segment_membership.c.segment_id == node.segment_id)
    return _member_of(inside, segment_membership.c.contact_id, ctx, node.member)


def _member_of(rows: Select[Any], column: Any, ctx: Context, present: bool) -> ColumnElement[bool]:
    """The contact is (not) among ``rows``: a set for the whole workspace, else a probe."""
    found = contact.c.id.in_(rows) if ctx.whole else exists(rows.where(column == contact.c.id))
    return found if present else not_(found)


def _score(node: ScoreCondition, ctx: Context, path: str) -> ColumnElement[bool]:
    """The contact's stored score in the model (0 without one), compared as a number."""
    model_id = ctx.score_models.get(node.model)
    if model_id is None:
        raise InvalidInput(f"{path}.model: no score model {node.model!r}", code="unknown_score_model")
    cs = contact_score.c
    value = (
        select(cs.score)
        .where(cs.model_id == model_id, cs.contact_id == contact.c.id)
        .correlate(contact)
        .scalar_subquery()
    )
    operand = func.coalesce(value, 0.0)
    op = operator_for(node.operator, "number", f"{path}.operator")
    return compare(op, operand, "number", node.value, ctx, path)


#: account columns an ``account`` condition's ``where`` may test, with their types
ACCOUNT_FIELDS: dict[str, ValueType] = {
    "name": "string", "domain": "string", "external_id": "string", "member_count": "number",
    "created_at": "datetime", "updated_at": "datetime",
}  # fmt: skip
#: ``score.MODEL.<measure>`` → the roll-up column
ACCOUNT_MEASURES = {"sum": "total", "max": "max_score", "engaged": "engaged"}
_COUNT_OPS: dict[str, Callable[[Any, int], ColumnElement[bool]]] = {
    ">=": lambda x, v: x >= v, ">": lambda x, v: x > v, "=": lambda x, v: x == v,
    "!=": lambda x, v: x != v, "<": lambda x, v: x < v, "<=": lambda x, v: x <= v,
}  # fmt: skip


def _account(node: AccountCondition, ctx: Context, path: str) -> ColumnElement[bool]:
    """The contact belongs to an account matching every ``where`` test and the member
    count (docs/segments.md, "Account conditions"): a set of contacts over the workspace's
    accounts, or a probe of the contact's own memberships."""
    tests = [_account_filter(f, ctx, f"{path}.where[{i}]") for i, f in enumerate(node.where)]
    if node.members is not None:
        tests.append(_member_count(node.members, ctx, f"{path}.members"))
    ac = account_contact.c
    linked = select(ac.contact_id).join(account, account.c.id == ac.account_id).where(true(), *tests)
    if ctx.whole:
        linked = linked.where(account.c.workspace_id == ctx.workspace_id)
    return _member_of(linked, ac.contact_id, ctx, node.present)


def _account_filter(f: AccountFilter, ctx: Context, path: str) -> ColumnElement[bool]:
    name = f.attribute
    operand: Any
    vtype: ValueType
    if name in ACCOUNT_FIELDS:
        operand, vtype = account.c[name], ACCOUNT_FIELDS[name]
    elif name.startswith("traits.") and len(name) > len("traits."):
        # account traits are untyped: the value says what to compare as
        vtype = property_type(f.operator, f.value, path) or "string"
        known = vtype if f.value is not None else None
        operand = json_value(account.c.traits, name.removeprefix("traits."), known, ctx.dialect, f.operator)
    elif name.startswith("score."):
        parts = name.split(".")
        if len(parts) != 3 or parts[2] not in ACCOUNT_MEASURES:
            raise InvalidInput(
                f"{path}.attribute: a score roll-up is score.MODEL.sum, score.MODEL.max or "
                f"score.MODEL.engaged, not {name!r}",
                code="unknown_attribute",
            )
        model_id = ctx.score_models.get(parts[1])
        if model_id is None:
            raise InvalidInput(f"{path}.attribute: no score model {parts[1]!r}", code="unknown_score_model")
        rolled = (
            select(account_score.c[ACCOUNT_MEASURES[parts[2]]])
            .where(account_score.c.account_id == account.c.id, account_score.c.model_id == model_id)
            .correlate(account)
            .scalar_subquery()
        )
        operand, vtype = func.coalesce(rolled, 0), "number"
    else:
        raise InvalidInput(
            f"{path}.attribute: {name!r} is not an account attribute (one of "
            f"{', '.join(ACCOUNT_FIELDS)}, traits.NAME or score.MODEL.sum|max|engaged)",
            code="unknown_attribute",
        )
    op = operator_for(f.operator, vtype, f"{path}.operator")
    return compare(op, operand, vtype, f.value, ctx, path)


def _member_count(members: MemberCount, ctx: Context, path: str) -> ColumnElement[bool]:
    """How many of the account's members match the nested condition, compared: a count
    per candidate account, the nested condition compiled over the member's contact row."""
    m = account_contact.alias("member")
    count = select(func.count()).select_from(m)
    where: list[ColumnElement[bool]] = [m.c.account_id == account.c.id]
    if members.condition is not None:
        if dependencies(members.condition).accounts:
            raise InvalidInput(
                f"{path}.condition: a member condition cannot itself test accounts",
                code="invalid_definition",
            )
        inner = compile_condition(members.condition, replace(ctx, workspace_id=None), f"{path}.condition")
        count = count.join(contact, contact.c.id == m.c.contact_id)
        where.append(inner)
    counted = count.where(*where).correlate(account).scalar_subquery()
    return _COUNT_OPS[members.operator](counted, members.value)


def _predicted(node: PredictedCondition, ctx: Context, path: str) -> ColumnElement[bool]:
    """The contact's latest probability in the predictive model (NULL when not scored, which
    matches no comparison), compared as a number between 0 and 1."""
    model_id = ctx.predictive_models.get(node.model)
    if model_id is None:
        raise InvalidInput(
            f"{path}.model: no predictive model {node.model!r}", code="unknown_predictive_model"
        )
    op = operator_for(node.operator, "number", f"{path}.operator")
    value = coerce_value(op, "number", node.value, f"{path}.value")
    values = value if isinstance(value, list | tuple) else [value]
    if any(isinstance(v, int | float) and not 0 <= v <= 1 for v in values):
        raise InvalidInput(f"{path}.value: a probability from 0 to 1", code="invalid_value")
    cp = contact_prediction.c
    operand = (
        select(cp.probability)
        .where(cp.model_id == model_id, cp.contact_id == contact.c.id)
        .correlate(contact)
        .scalar_subquery()
    )
    found: ColumnElement[bool] = op.sql(operand, value, ctx.now)
    return found


def _subscription(node: SubscriptionCondition, ctx: Context, path: str) -> ColumnElement[bool]:
    """May the contact receive marketing there — the send-time consent check
    (``messaging/consent.blocked_by_consent``) in SQL: not unsubscribed from the channel,
    and subscribed to an opt-in topic or not unsubscribed from an opt-out one."""
    channel = node.channel
    allowed: list[ColumnElement[bool]] = []
    if node.topic is not None:
        found = ctx.topics.get(node.topic)
        if found is None:
            raise InvalidInput(f"{path}.topic: no subscription topic {node.topic!r}", code="unknown_topic")
        topic_id, opt_in, topic_channel = found
        if channel is not None and topic_channel is not None and channel != topic_channel:
            raise InvalidInput(
                f"{path}: topic {node.topic!r} is for {topic_channel}, not {channel}",
                code="invalid_definition",
            )
        channel = channel or topic_channel
        if opt_in:
            allowed.append(_consent(f"topic:{topic_id}", "subscribed"))
        else:
            allowed.append(not_(_consent(f"topic:{topic_id}", "unsubscribed")))
    if channel is not None:
        if channel not in CHANNEL_KINDS:
            raise InvalidInput(
                f"{path}.channel: one of {', '.join(CHANNEL_KINDS)}", code="invalid_definition"
            )
        allowed.append(not_(_consent(f"channel:{channel}", "unsubscribed")))
    may = and_(*allowed)
    return may if node.subscribed else not_(may)


def _consent(scope: str, status: str) -> ColumnElement[bool]:
    s = subscription.c
    return exists().where(s.contact_id == contact.c.id, s.scope == scope, s.status == status)


def _bucket(node: RandomBucketCondition, ctx: Context, path: str) -> ColumnElement[bool]:
    below: ColumnElement[bool] = bucket_expression(node.salt) < node.percent * BUCKETS / 100
    return below


_HANDLERS: dict[type, Compile] = {
    All: _all,
    AnyOf: _any,
    Not: _not,
    AttributeCondition: _attribute,
    TagCondition: _tag,
    SegmentMembershipCondition: _segment,
    SubscriptionCondition: _subscription,
    ScoreCondition: _score,
    PredictedCondition: _predicted,
    AccountCondition: _account,
    RandomBucketCondition: _bucket,
    **behaviour.HANDLERS,
}


def bucket_salt(salt: str) -> int:
    return zlib.crc32(salt.encode()) % 1_000_003


def bucket_expression(salt: str) -> Any:
    """Contact id → 0 … 9,999, stable and the same on every database."""
    return ((contact.c.id % 1_000_003) * 7919 + bucket_salt(salt)) % BUCKETS


def bucket_of(contact_id: int, salt: str) -> int:
    return ((contact_id % 1_000_003) * 7919 + bucket_salt(salt)) % BUCKETS
