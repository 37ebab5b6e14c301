"""Why a contact is (or is not) in a segment: the definition tree with, on every node,
whether it holds for that contact (one query, one boolean column per node) and, on every
leaf, the value that decided it — the contact's attribute, the count or sum of events found
in the window and the window's bounds — as fields and as a sentence.

Both explanations and previews can be evaluated **as of** an earlier instant: windows end
there and events timestamped after it are left out (``evaluation_context``)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, case, func, select, type_coerce

from kairos.clock import ensure_utc, isoformat_z
from kairos.contacts.acquisition import PREFIX as ACQUISITION
from kairos.contacts.tables import contact
from kairos.db.types import UTCDateTime
from kairos.errors import InvalidInput
from kairos.events.tables import event
from kairos.segments.behaviour import matching, window_conditions
from kairos.segments.compiler import BUCKETS, bucket_of, compile_condition, context
from kairos.segments.definition import (
    AggregateCondition,
    All,
    AnyOf,
    AttributeCondition,
    Condition,
    Duration,
    FirstPerformedCondition,
    LastPerformedCondition,
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
from kairos.segments.deps import COMPUTED
from kairos.segments.operators import OPERATORS
from kairos.segments.rewrite import rewrite
from kairos.segments.tables import segment
from kairos.segments.traits import trait_expression
from kairos.segments.values import BUILTIN_FIELDS, Context, acquisition_expression, json_value

_SYMBOLS = {">=": "≥", ">": ">", "=": "=", "!=": "≠", "<": "<", "<=": "≤"}


#: The earliest ``as_of``: nothing earlier is in an event stream, and windows counted back
#: from it stay far from the calendar's start.
EARLIEST_AS_OF = datetime(1970, 1, 1, tzinfo=UTC)


def check_as_of(as_of: datetime, now: datetime) -> datetime:
    """``as_of`` in UTC (a naive one is taken as UTC); an instant after ``now`` is refused
    (nothing is known of the events to come), and one before 1970."""
    now = ensure_utc(now)
    try:
        at = ensure_utc(as_of)
    except OverflowError:  # 0001-01-01T00:00+01:00, 9999-12-31T23:59-05:00
        raise InvalidInput(
            "as_of: an instant between 1970-01-01T00:00:00Z and now", code="invalid_as_of"
        ) from None
    if at > now:
        raise InvalidInput(
            f"as_of: {isoformat_z(at)} is in the future (now is {isoformat_z(now)})", code="invalid_as_of"
        )
    if at < EARLIEST_AS_OF:
        raise InvalidInput("as_of: an instant between 1970-01-01T00:00:00Z and now", code="invalid_as_of")
    return at


def evaluation_context(
    conn: Connection, workspace_id: int, now: datetime, as_of: datetime | None = None
) -> Context:
    """The compile context for an evaluation now, or as of the earlier instant ``as_of``:
    windows end there and events timestamped after it are left out."""
    if as_of is None:
        return context(conn, workspace_id, now)
    at = check_as_of(as_of, now)
    return replace(context(conn, workspace_id, at), events_until=at)


def segment_names(conn: Connection, workspace_id: int, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(
        select(segment.c.id, segment.c.name).where(
            segment.c.workspace_id == workspace_id, segment.c.id.in_(ids)
        )
    )
    return {int(r.id): str(r.name) for r in rows}


def explain(
    conn: Connection,
    workspace_id: int,
    definition: SegmentDefinition,
    contact_id: int,
    now: datetime,
    *,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """The tree of ``definition`` for one contact, evaluated now or as of ``as_of``."""
    ctx = evaluation_context(conn, workspace_id, now, as_of)
    nodes: list[tuple[str, Condition]] = []
    _walk(definition.root, "root", nodes)
    columns = [case((compile_condition(node, ctx, path), 1), else_=0) for path, node in nodes]
    row = conn.execute(
        select(*columns).where(contact.c.id == contact_id, contact.c.workspace_id == workspace_id)
    ).one()
    holds = {path: bool(value) for (path, _), value in zip(nodes, row, strict=True)}
    facts = _Facts(conn, workspace_id, contact_id, ctx, nodes)
    return _tree(definition.root, "root", holds, facts)


def _walk(node: Condition, path: str, out: list[tuple[str, Condition]]) -> None:
    out.append((path, node))
    if isinstance(node, All | AnyOf):
        for i, child in enumerate(node.conditions):
            _walk(child, f"{path}.conditions[{i}]", out)
    elif isinstance(node, Not):
        _walk(node.condition, f"{path}.condition", out)


def _tree(node: Condition, path: str, holds: dict[str, bool], facts: _Facts) -> dict[str, Any]:
    out: dict[str, Any] = {"path": path, "holds": holds[path], **node.model_dump(mode="json")}
    if isinstance(node, All | AnyOf):
        out["conditions"] = [
            _tree(c, f"{path}.conditions[{i}]", holds, facts) for i, c in enumerate(node.conditions)
        ]
        met = sum(c["holds"] for c in out["conditions"])
        need = "all" if isinstance(node, All) else "at least one"
        out["text"] = f"{met} of {len(node.conditions)} conditions hold ({need} needed)"
    elif isinstance(node, Not):
        out["condition"] = _tree(node.condition, f"{path}.condition", holds, facts)
        out["text"] = "the condition below does not hold" if out["holds"] else "the condition below holds"
    else:
        out |= facts.detail(node, holds[path])
    return out


class _Facts:
    """The values that decide each leaf for one contact: a query or two per leaf."""

    def __init__(
        self,
        conn: Connection,
        workspace_id: int,
        contact_id: int,
        ctx: Context,
        nodes: list[tuple[str, Condition]],
    ) -> None:
        self.conn, self.contact_id, self.ctx = conn, contact_id, ctx
        self.row = conn.execute(select(contact).where(contact.c.id == contact_id)).one()
        ids = {n.segment_id for _, n in nodes if isinstance(n, SegmentMembershipCondition)}
        self.names = segment_names(conn, workspace_id, ids)

    def detail(self, raw: Condition, holds: bool) -> dict[str, Any]:
        """``actual``, ``expected``, ``window_start``/``window_end`` where there is a window,
        and ``text``; ``segment_name`` on segment conditions."""
        if isinstance(raw, FirstPerformedCondition | LastPerformedCondition):
            return self._first_or_last(raw)
        node = rewrite(raw)
        if isinstance(node, PerformedCondition):
            return self._performed(node)
        if isinstance(node, AggregateCondition):
            return self._aggregate(node)
        if isinstance(node, AttributeCondition):
            return self._attribute(node)
        if isinstance(node, TagCondition):
            has = holds == node.present
            text = f"{'has' if has else 'does not have'} the tag {node.tag!r}"
            return {"actual": has, "expected": node.present, "text": text}
        if isinstance(node, SegmentMembershipCondition):
            member = holds == node.member
            name = self.names.get(node.segment_id)
            label = f"segment {node.segment_id}" + (f" {name!r}" if name else "")
            text = f"{'is' if member else 'is not'} a member of {label} (its stored members, now)"
            return {"segment_name": name, "actual": member, "expected": node.member, "text": text}
        if isinstance(node, SubscriptionCondition):
            may = holds == node.subscribed
            where = " / ".join(x for x in (node.channel, node.topic and f"topic {node.topic!r}") if x)
            text = f"{'may' if may else 'may not'} receive marketing on {where}"
            return {"actual": may, "expected": node.subscribed, "text": text}
        if isinstance(node, ScoreCondition):
            return self._score(node)
        if isinstance(node, PredictedCondition):
            return self._predicted(node)
        if isinstance(node, RandomBucketCondition):
            position = bucket_of(self.contact_id, node.salt) * 100 / BUCKETS
            text = f"falls at {position:g}% of the draw; the sample is the first {node.percent:g}%"
            return {"actual": position, "expected": f"< {node.percent:g}", "text": text}
        if isinstance(node, SequenceCondition):
            start, end = self._bounds(node.window)
            window = _window_text(node.window, start, end)
            return {
                "window_start": isoformat_z(start),
                "window_end": isoformat_z(end),
                "text": f"a sequence starting with {_event(node.first.event)}{window}",
            }
        return {}

    def _score(self, node: ScoreCondition) -> dict[str, Any]:
        from kairos.scoring.tables import contact_score

        model_id = self.ctx.score_models.get(node.model)
        found = self.conn.execute(
            select(contact_score.c.score).where(
                contact_score.c.model_id == model_id, contact_score.c.contact_id == self.contact_id
            )
        ).scalar()
        actual = _plain(found or 0.0)
        expected = f"{node.operator} {node.value}"
        return {"actual": actual, "expected": expected, "text": f"score {node.model!r} is {actual}"}

    def _predicted(self, node: PredictedCondition) -> dict[str, Any]:
        from kairos.predict.tables import contact_prediction

        found = self.conn.execute(
            select(contact_prediction.c.probability).where(
                contact_prediction.c.model_id == self.ctx.predictive_models.get(node.model),
                contact_prediction.c.contact_id == self.contact_id,
            )
        ).scalar()
        expected = f"{node.operator} {node.value}"
        text = f"predicted {node.model!r} is {_plain(found)}" if found is not None else (
            f"predicted {node.model!r}: not scored yet"
        )
        return {"actual": _plain(found) if found is not None else None, "expected": expected, "text": text}

    def _events(self, node: PerformedCondition | AggregateCondition) -> list[Any]:
        mine = event.c.contact_id == self.contact_id
        return [mine, *matching(node, self.ctx, "explain"), *window_conditions(node.window, self.ctx.now)]

    def _bounds(self, window: Window) -> tuple[datetime | None, datetime | None]:
        if window.last is not None:
            return window.last.before(self.ctx.now), self.ctx.now
        end = window.until
        until = self.ctx.events_until
        if until is not None and (end is None or ensure_utc(end) > until):
            end = until
        return (ensure_utc(window.since) if window.since else None), (ensure_utc(end) if end else None)

    def _performed(self, node: PerformedCondition) -> dict[str, Any]:
        found = self.conn.execute(
            select(func.count()).select_from(event).where(*self._events(node))
        ).scalar_one()
        start, end = self._bounds(node.window)
        expected = f"{_SYMBOLS[node.count.op]} {node.count.value}"
        return {
            "actual": int(found),
            "expected": expected,
            "window_start": isoformat_z(start),
            "window_end": isoformat_z(end),
            "text": f"{found} of {expected} {_event(node.event)}{_window_text(node.window, start, end)}",
        }

    def _aggregate(self, node: AggregateCondition) -> dict[str, Any]:
        amount = json_value(event.c.properties, node.property, "number", self.ctx.dialect)
        fn: Any = {"sum": func.sum, "avg": func.avg, "min": func.min, "max": func.max}[node.function]
        found = self.conn.execute(select(fn(amount)).where(*self._events(node))).scalar()
        if found is None and node.function == "sum":
            found = 0
        found = _plain(found)
        start, end = self._bounds(node.window)
        expected = _expected(node.operator, node.value)
        shown = "none" if found is None else f"{found:g}"
        return {
            "actual": found,
            "expected": expected,
            "window_start": isoformat_z(start),
            "window_end": isoformat_z(end),
            "text": f"{node.function} of {node.property!r} over {_event(node.event)}"
            f"{_window_text(node.window, start, end)} is {shown} (condition: {expected})",
        }

    def _first_or_last(self, node: FirstPerformedCondition | LastPerformedCondition) -> dict[str, Any]:
        first = isinstance(node, FirstPerformedCondition)
        fn = func.min if first else func.max
        conds = [event.c.contact_id == self.contact_id, *matching(node, self.ctx, "explain")]
        when = self.conn.execute(
            select(type_coerce(fn(event.c.timestamp), UTCDateTime)).where(*conds)
        ).scalar()
        expected = _expected(node.operator, node.value)
        did = f"{'first' if first else 'last'} did {_event(node.event)}"
        shown = _text_instant(when) if when is not None else "never"
        return {
            "actual": isoformat_z(when),
            "expected": expected,
            "text": f"{did}: {shown} (condition: {expected})",
        }

    def _attribute(self, node: AttributeCondition) -> dict[str, Any]:
        name = node.attribute
        if name.startswith(COMPUTED):
            types = {
                k.removeprefix(COMPUTED): v
                for k, v in self.ctx.attribute_types.items()
                if k.startswith(COMPUTED)
            }
            expr, _ = trait_expression(name.removeprefix(COMPUTED), self.ctx.dialect, types)
            actual = self.conn.execute(
                select(expr).select_from(contact).where(contact.c.id == self.contact_id)
            ).scalar()
        elif name in BUILTIN_FIELDS:
            actual = self.row._mapping[name]
        elif name.startswith(ACQUISITION):
            actual = self.conn.execute(
                select(acquisition_expression(name, "attribute"))
                .select_from(contact)
                .where(contact.c.id == self.contact_id)
            ).scalar()
        else:
            actual = (self.row.traits or {}).get(name.removeprefix("traits."))
        actual = _plain(actual)
        if isinstance(actual, datetime):
            actual = isoformat_z(actual)
        expected = _expected(node.operator, node.value)
        shown = "not set" if actual is None else json.dumps(actual, ensure_ascii=False)
        return {"actual": actual, "expected": expected, "text": f"{name} is {shown} (condition: {expected})"}


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _event(name: str | None) -> str:
    return repr(name) if name is not None else "events of any name"


def _expected(operator: str, value: Any) -> str:
    op = OPERATORS.get(operator)
    label = op.label if op is not None else operator
    if op is not None and op.value == "none":
        return label
    parts = value if isinstance(value, list) and "…" in label else [value]
    said = [_said(v) for v in parts]
    if "…" in label:  # "is between … and … ago": the values go where the label leaves room
        for text in said:
            label = label.replace("…", text, 1)
        return label
    return f"{label} {said[0]}"


def _said(value: Any) -> str:
    if isinstance(value, dict) and "amount" in value:
        try:
            d = Duration.model_validate(value)
            return f"{d.amount} {d.unit}"
        except ValueError:
            pass
    return json.dumps(value, ensure_ascii=False, default=str)


def _text_instant(at: datetime) -> str:
    at = ensure_utc(at)
    return at.strftime("%Y-%m-%d" if at.time() == datetime.min.time() else "%Y-%m-%d %H:%M")


def _window_text(window: Window, start: datetime | None, end: datetime | None) -> str:
    if window.last is not None:
        assert start is not None and end is not None
        last = window.last
        return f" in the last {last.amount} {last.unit} ({_text_instant(start)} → {_text_instant(end)})"
    if start is not None and end is not None:
        return f" between {_text_instant(start)} and {_text_instant(end)}"
    if start is not None:
        return f" since {_text_instant(start)}"
    if end is not None:
        return f" before {_text_instant(end)}"
    return " ever"
