"""Segment definitions compiled to SQL: a table of cases on a small population, the errors a
bad definition gets, and generated definitions checked against the Python evaluator."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert

from kairos.clock import SystemClock
from kairos.contacts.attributes import create_attribute
from kairos.contacts.tables import contact, identity
from kairos.contacts.tags import add_tags
from kairos.errors import InvalidInput
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.segments.compiler import Context, evaluate, members_query, parse_definition
from kairos.segments.definition import SegmentDefinition
from kairos.workspaces.service import create_workspace
from tests.segments.evaluator import Person, holds

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TYPES = {"plan": "string", "vip": "boolean", "seats": "number"}


def populate(engine: Engine, people: list[Person]) -> tuple[int, dict[int, int]]:
    """Store people in a fresh workspace; returns it and person id → contact id."""
    clock = SystemClock()
    with engine.begin() as conn:
        ws = create_workspace(conn, clock, "seg").id
        for name, kind in TYPES.items():
            create_attribute(conn, clock, ws, name=name, type=kind)
        ids: dict[int, int] = {}
        for p in people:
            ids[p.id] = conn.execute(
                insert(contact)
                .values(
                    workspace_id=ws,
                    external_id=f"p{p.id}",
                    traits=p.traits,
                    score=p.fields.get("score") or 0,
                    email=p.fields.get("email"),
                    created_at=p.fields["created_at"],
                    updated_at=p.fields["created_at"],
                )
                .returning(contact.c.id)
            ).scalar_one()
            conn.execute(
                insert(identity).values(
                    workspace_id=ws, kind="user_id", value=f"p{p.id}", contact_id=ids[p.id], created_at=NOW
                )
            )
        add_tags(conn, ws, [(ids[p.id], t) for p in people for t in p.tags], NOW)
        messages = [
            parse_message(
                {"type": "track", "userId": f"p{p.id}", "event": name, "properties": props,
                 "timestamp": ts.isoformat(), "messageId": f"{p.id}-{i}"},
                None,
                NOW,
            )
            for p in people
            for i, (name, ts, props) in enumerate(p.events)
        ]  # fmt: skip
        if messages:
            ingest(conn, ws, messages, NOW)
    return ws, ids


def person(i: int, **kw: Any) -> Person:
    fields = {
        "score": kw.pop("score", 0),
        "email": kw.pop("email", None),
        "created_at": kw.pop("created_at", NOW),
    }
    return Person(
        id=i,
        fields=fields,
        traits=kw.pop("traits", {}),
        tags=kw.pop("tags", set()),
        events=kw.pop("events", []),
    )


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


POPULATION = [
    person(1, score=60, email="ann@shop.io", traits={"plan": "pro", "vip": True}, tags={"vip"},
           events=[("viewed", days_ago(1), {"sku": "A", "price": 30}), ("viewed", days_ago(2), {"sku": "A", "price": 30}),
                   ("viewed", days_ago(3), {"sku": "B", "price": 80}), ("ordered", days_ago(20), {"revenue": 90})]),
    person(2, score=20, email="bob@example.com", traits={"plan": "free"},
           events=[("viewed", days_ago(10), {"sku": "A", "price": 30})]),
    person(3, score=45, traits={"plan": "Pro trial", "seats": 3}, tags={"newsletter"},
           events=[("ordered", days_ago(2), {"revenue": 40}), ("ordered", days_ago(5), {"revenue": "n/a"})]),
    person(4, created_at=days_ago(40)),
]  # fmt: skip

CASES: list[tuple[str, dict[str, Any], set[int]]] = [
    ("score above 50", {"type": "attribute", "attribute": "score", "operator": "gt", "value": 50}, {1}),
    ("score between", {"type": "attribute", "attribute": "score", "operator": "between", "value": [20, 45]}, {2, 3}),
    ("email set", {"type": "attribute", "attribute": "email", "operator": "is_set"}, {1, 2}),
    ("email ends .io (contains)", {"type": "attribute", "attribute": "email", "operator": "contains", "value": ".IO"}, {1}),
    ("plan equals", {"type": "attribute", "attribute": "plan", "operator": "eq", "value": "pro"}, {1}),
    ("plan starts with, any case", {"type": "attribute", "attribute": "traits.plan", "operator": "starts_with", "value": "pro"}, {1, 3}),
    ("plan not free: missing plans do not match", {"type": "attribute", "attribute": "plan", "operator": "neq", "value": "free"}, {1, 3}),
    ("plan not set", {"type": "attribute", "attribute": "plan", "operator": "is_not_set"}, {4}),
    ("vip", {"type": "attribute", "attribute": "vip", "operator": "eq", "value": True}, {1}),
    ("created in the last 30 days", {"type": "attribute", "attribute": "created_at", "operator": "within_last", "value": {"amount": 30}}, {1, 2, 3}),
    ("tag", {"type": "tag", "tag": "vip"}, {1}),
    ("no tag", {"type": "tag", "tag": "vip", "present": False}, {2, 3, 4}),
    ("viewed A 2+ times in 7 days", {"type": "performed", "event": "viewed", "where": [{"property": "sku", "operator": "eq", "value": "A"}],
                                     "count": {"op": ">=", "value": 2}, "window": {"last": {"amount": 7, "unit": "days"}}}, {1}),
    ("viewed ever", {"type": "performed", "event": "viewed"}, {1, 2}),
    ("never ordered", {"type": "performed", "event": "ordered", "count": {"op": "=", "value": 0}}, {2, 4}),
    ("order over 50 (a text revenue never matches)", {"type": "performed", "event": "ordered", "where": [{"property": "revenue", "operator": "gt", "value": 50}]}, {1}),
    ("ordered between instants", {"type": "performed", "event": "ordered", "window": {"since": "2026-03-06T00:00:00Z", "until": "2026-03-09T00:00:00Z"}}, {3}),
    ("nested: (score > 40 and not vip) or never viewed", {"type": "any", "conditions": [
        {"type": "all", "conditions": [{"type": "attribute", "attribute": "score", "operator": "gt", "value": 40},
                                       {"type": "not", "condition": {"type": "tag", "tag": "vip"}}]},
        {"type": "performed", "event": "viewed", "count": {"op": "<", "value": 1}}]}, {3, 4}),
    ("everyone", {"type": "all", "conditions": []}, {1, 2, 3, 4}),
    ("no one", {"type": "any", "conditions": []}, set()),
    ("everyone in a 100% bucket", {"type": "random_bucket", "percent": 100}, {1, 2, 3, 4}),
    ("no one in a 0% bucket", {"type": "random_bucket", "percent": 0}, set()),
]  # fmt: skip


@pytest.mark.parametrize(("why", "root", "expected"), CASES, ids=[c[0] for c in CASES])
def test_definition_selects_exactly(
    engine: Engine, why: str, root: dict[str, Any], expected: set[int]
) -> None:
    ws, ids = populate(engine, POPULATION)
    definition = parse_definition({"schema_version": 1, "root": root})
    with engine.connect() as conn:
        got = evaluate(conn, ws, definition, NOW)
        subset = evaluate(conn, ws, definition, NOW, contact_ids=[ids[1], ids[4]])
    by_contact = {cid: pid for pid, cid in ids.items()}
    assert {by_contact[c] for c in got} == expected
    assert {by_contact[c] for c in subset} == expected & {1, 4}
    stored = [replace(p, id=ids[p.id]) for p in POPULATION]  # buckets hash the contact id
    assert {by_contact[p.id] for p in stored if holds(definition.root, p, NOW, TYPES)} == expected


@pytest.mark.parametrize(
    ("root", "code", "path"),
    [
        ({"type": "attribute", "attribute": "shoe_size", "operator": "eq", "value": 1}, "unknown_attribute", "root.attribute"),
        ({"type": "attribute", "attribute": "score", "operator": "contains", "value": "1"}, "invalid_operator", "root.operator"),
        ({"type": "attribute", "attribute": "score", "operator": "near", "value": 1}, "unknown_operator", "root.operator"),
        ({"type": "all", "conditions": [{"type": "tag", "tag": "x"}, {"type": "attribute", "attribute": "plan", "operator": "eq", "value": 3}]},
         "invalid_value", "root.conditions[1].value"),
        ({"type": "performed", "event": "e", "where": [{"property": "p", "operator": "gt", "value": "x"}]}, "invalid_operator", "root.where[0].operator"),
        ({"type": "attribute", "attribute": "created_at", "operator": "within_last", "value": 7}, "invalid_value", "root.value"),
    ],
)  # fmt: skip
def test_invalid_definitions_name_the_bad_node(
    engine: Engine, root: dict[str, Any], code: str, path: str
) -> None:
    definition = parse_definition({"root": root})
    ctx = Context(NOW, TYPES, engine.dialect.name)
    with pytest.raises(InvalidInput) as err:
        members_query(1, definition, ctx)
    assert err.value.code == code
    assert err.value.message.startswith(path + ":")


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"root": {"type": "nand", "conditions": []}}, "root"),
        ({"root": {"type": "all", "conditions": [{"type": "tag"}]}}, "root.conditions[0].tag"),
        ({"schema_version": 2, "root": {"type": "all", "conditions": []}}, "schema_version"),
        (
            {
                "root": {
                    "type": "performed",
                    "event": "e",
                    "window": {"last": {"amount": 1}, "since": "2026-01-01"},
                }
            },
            "root.window",
        ),
    ],
)
def test_malformed_trees_are_refused_with_their_path(data: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_definition(data)
    assert err.value.code == "invalid_definition"
    assert err.value.message.split(":")[0] == path


def test_compiled_sql_binds_every_value(engine: Engine) -> None:
    definition = parse_definition({"root": {"type": "all", "conditions": [
        {"type": "attribute", "attribute": "plan", "operator": "eq", "value": "x'); DROP TABLE contact; --"},
        {"type": "performed", "event": "O'Brien", "where": [{"property": "sku", "operator": "in", "value": ["a'b"]}]},
    ]}})  # fmt: skip
    sql = str(
        members_query(1, definition, Context(NOW, TYPES, engine.dialect.name)).compile(dialect=engine.dialect)
    )
    assert "DROP" not in sql and "O'Brien" not in sql and "a'b" not in sql


# --- generated definitions against the Python evaluator ----------------------------------

_numbers = st.sampled_from([0, 10, 20, 30.5, 45, 50, 100])
_strings = st.sampled_from(["pro", "Pro", "free", "pro trial", "x%_"])


@st.composite
def attribute_conditions(draw: st.DrawFn) -> dict[str, Any]:
    attribute = draw(st.sampled_from(["score", "plan", "vip", "seats", "email", "created_at"]))
    kind = {
        "score": "number",
        "seats": "number",
        "plan": "string",
        "email": "string",
        "vip": "boolean",
        "created_at": "datetime",
    }[attribute]
    ops = {
        "number": ["eq", "neq", "gt", "gte", "lt", "lte", "between", "in", "not_in", "is_set", "is_not_set"],
        "string": ["eq", "neq", "in", "not_in", "contains", "starts_with", "is_set", "is_not_set"],
        "boolean": ["eq", "neq", "is_set", "is_not_set"],
        "datetime": ["before", "after", "within_last", "is_set"],
    }[kind]  # fmt: skip
    op = draw(st.sampled_from(ops))
    scalar = {"number": _numbers, "string": _strings, "boolean": st.booleans(),
              "datetime": st.sampled_from([(NOW - timedelta(days=d)).isoformat() for d in (1, 10, 35)])}[kind]  # fmt: skip
    if op in ("is_set", "is_not_set"):
        value: Any = None
    elif op in ("in", "not_in"):
        value = draw(st.lists(scalar, max_size=3))
    elif op == "between":
        value = sorted(draw(st.lists(_numbers, min_size=2, max_size=2)))
    elif op == "within_last":
        value = {"amount": draw(st.sampled_from([1, 7, 30])), "unit": "days"}
    else:
        value = draw(scalar)
    return {"type": "attribute", "attribute": attribute, "operator": op, "value": value}


@st.composite
def performed_conditions(draw: st.DrawFn) -> dict[str, Any]:
    where = draw(st.sampled_from([
        [], [{"property": "sku", "operator": "eq", "value": "A"}], [{"property": "price", "operator": "gt", "value": 40}],
        [{"property": "price", "operator": "is_not_set"}],
    ]))  # fmt: skip
    window = draw(st.sampled_from([{}, {"last": {"amount": 3, "unit": "days"}}, {"last": {"amount": 36, "unit": "hours"}},
                                   {"since": "2026-03-01T00:00:00Z"}]))  # fmt: skip
    count = draw(
        st.sampled_from(
            [
                {"op": ">=", "value": 1},
                {"op": "=", "value": 0},
                {"op": ">=", "value": 2},
                {"op": "<", "value": 2},
            ]
        )
    )
    return {
        "type": "performed",
        "event": draw(st.sampled_from(["viewed", "ordered"])),
        "where": where,
        "window": window,
        "count": count,
    }


leaves = st.one_of(
    attribute_conditions(),
    performed_conditions(),
    st.builds(
        lambda t, p: {"type": "tag", "tag": t, "present": p},
        st.sampled_from(["vip", "newsletter"]),
        st.booleans(),
    ),
    st.builds(
        lambda p, s: {"type": "random_bucket", "percent": p, "salt": s},
        st.sampled_from([25, 50, 75]),
        st.sampled_from(["", "x"]),
    ),
)
trees = st.recursive(
    leaves,
    lambda kids: st.one_of(
        st.builds(lambda cs: {"type": "all", "conditions": cs}, st.lists(kids, max_size=3)),
        st.builds(lambda cs: {"type": "any", "conditions": cs}, st.lists(kids, max_size=3)),
        st.builds(lambda c: {"type": "not", "condition": c}, kids),
    ),
    max_leaves=6,
)

_event = st.tuples(
    st.sampled_from(["viewed", "ordered"]),
    st.integers(0, 24 * 8).map(lambda h: NOW - timedelta(hours=h)),
    st.fixed_dictionaries(
        {}, optional={"sku": st.sampled_from(["A", "B"]), "price": st.sampled_from([10, 40.5, 60, "60"])}
    ),
)
_people = st.lists(
    st.builds(
        lambda score, email, traits, tags, events, age: (score, email, traits, tags, events, age),
        _numbers,
        st.sampled_from([None, "ann@shop.io", "bob@x.com"]),
        st.fixed_dictionaries(
            {}, optional={"plan": _strings, "vip": st.booleans(), "seats": st.sampled_from([1, 5, "5"])}
        ),
        st.sets(st.sampled_from(["vip", "newsletter"])),
        st.lists(_event, max_size=4),
        st.sampled_from([0, 5, 20, 40]),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=_people, tree=trees)
def test_sql_agrees_with_the_python_evaluator(
    engine: Engine, people: list[tuple[Any, ...]], tree: dict[str, Any]
) -> None:
    population = [
        person(i, score=s, email=e, traits=t, tags=tags, events=ev, created_at=days_ago(age))
        for i, (s, e, t, tags, ev, age) in enumerate(people, start=1)
    ]
    ws, ids = populate(engine, population)
    definition = SegmentDefinition.model_validate({"root": tree})
    with engine.connect() as conn:
        got = evaluate(conn, ws, definition, NOW)
    stored = [replace(p, id=ids[p.id]) for p in population]  # buckets hash the contact id
    assert got == {p.id for p in stored if holds(definition.root, p, NOW, TYPES)}
