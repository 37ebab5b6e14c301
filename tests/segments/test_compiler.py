"""Segment definitions compiled to SQL: a table of cases on a small population, the errors a
bad definition gets, and generated definitions checked against the Python evaluator."""

from __future__ import annotations

import os
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
TYPES = {"plan": "string", "vip": "boolean", "seats": "number", "birthday": "datetime", "interests": "list"}


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
                    timezone=p.fields.get("timezone"),
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
        "timezone": kw.pop("timezone", None),
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
    person(1, score=60, email="ann@shop.io", timezone="Asia/Tokyo", tags={"vip"},
           traits={"plan": "pro", "vip": True, "birthday": "1990-03-14", "interests": ["shoes", "bags", 7]},
           events=[("viewed", days_ago(1), {"sku": "A", "price": 30}), ("viewed", days_ago(2), {"sku": "A", "price": 30}),
                   ("viewed", days_ago(3), {"sku": "B", "price": 80}), ("ordered", days_ago(20), {"revenue": 90})]),
    person(2, score=20, email="bob@example.com", traits={"plan": "free", "birthday": "1985-03-09", "interests": "shoes"},
           events=[("viewed", days_ago(10), {"sku": "A", "price": 30})]),
    person(3, score=45, timezone="America/Los_Angeles", tags={"newsletter"},
           traits={"plan": "Pro trial", "seats": 3, "birthday": "1999-03-17T20:00:00Z"},
           events=[("ordered", days_ago(2), {"revenue": 40}), ("ordered", days_ago(5), {"revenue": "n/a"})]),
    person(4, created_at=days_ago(40), traits={"birthday": "not a date"}),
    person(5, events=[("viewed", days_ago(6), {"sku": "B"}), ("ordered", days_ago(5.5), {"revenue": 20})]),
]  # fmt: skip


def viewed_a(**kw: Any) -> dict[str, Any]:
    return {"event": "viewed", "where": [{"property": "sku", "operator": "eq", "value": "A"}], **kw}


CASES: list[tuple[str, dict[str, Any], set[int]]] = [
    ("score above 50", {"type": "attribute", "attribute": "score", "operator": "gt", "value": 50}, {1}),
    ("score between", {"type": "attribute", "attribute": "score", "operator": "between", "value": [20, 45]}, {2, 3}),
    ("email set", {"type": "attribute", "attribute": "email", "operator": "is_set"}, {1, 2}),
    ("email ends .io (contains)", {"type": "attribute", "attribute": "email", "operator": "contains", "value": ".IO"}, {1}),
    ("plan equals", {"type": "attribute", "attribute": "plan", "operator": "eq", "value": "pro"}, {1}),
    ("plan starts with, any case", {"type": "attribute", "attribute": "traits.plan", "operator": "starts_with", "value": "pro"}, {1, 3}),
    ("plan not free: missing plans do not match", {"type": "attribute", "attribute": "plan", "operator": "neq", "value": "free"}, {1, 3}),
    ("plan not set", {"type": "attribute", "attribute": "plan", "operator": "is_not_set"}, {4, 5}),
    ("vip", {"type": "attribute", "attribute": "vip", "operator": "eq", "value": True}, {1}),
    ("created in the last 30 days", {"type": "attribute", "attribute": "created_at", "operator": "within_last", "value": {"amount": 30}}, {1, 2, 3, 5}),
    ("born before 1990 (a datetime attribute)", {"type": "attribute", "attribute": "birthday", "operator": "before", "value": "1990-01-01T00:00:00Z"}, {2}),
    ("birthday within 7 days, each in their time zone", {"type": "attribute", "attribute": "birthday", "operator": "anniversary_within_next", "value": {"amount": 7, "unit": "days"}}, {1, 3}),
    ("sign-up anniversary today", {"type": "attribute", "attribute": "created_at", "operator": "anniversary_within_next", "value": {"amount": 0, "unit": "days"}}, {1, 2, 3, 5}),
    ("interests include shoes (a list attribute)", {"type": "attribute", "attribute": "interests", "operator": "includes", "value": "shoes"}, {1}),
    ("interests include 7 or hats", {"type": "attribute", "attribute": "interests", "operator": "includes_any", "value": ["hats", 7]}, {1}),
    ("interests set (a string is not a list)", {"type": "attribute", "attribute": "interests", "operator": "is_set"}, {1}),
    ("tag", {"type": "tag", "tag": "vip"}, {1}),
    ("no tag", {"type": "tag", "tag": "vip", "present": False}, {2, 3, 4, 5}),
    ("viewed A 2+ times in 7 days", {"type": "performed", **viewed_a(count={"op": ">=", "value": 2}, window={"last": {"amount": 7, "unit": "days"}})}, {1}),
    ("viewed ever", {"type": "performed", "event": "viewed"}, {1, 2, 5}),
    ("never ordered", {"type": "performed", "event": "ordered", "count": {"op": "=", "value": 0}}, {2, 4}),
    ("order over 50 (a text revenue never matches)", {"type": "performed", "event": "ordered", "where": [{"property": "revenue", "operator": "gt", "value": 50}]}, {1}),
    ("ordered between instants", {"type": "performed", "event": "ordered", "window": {"since": "2026-03-06T00:00:00Z", "until": "2026-03-09T00:00:00Z"}}, {3}),
    ("any event in the last 2 days", {"type": "performed", "event": None, "window": {"last": {"amount": 2, "unit": "days"}}}, {1, 3}),
    ("did not view in the last 7 days (convenience form)", {"type": "not_performed", "event": "viewed", "window": {"last": {"amount": 7, "unit": "days"}}}, {2, 3, 4}),
    ("spent over 50 in total", {"type": "aggregate", "event": "ordered", "property": "revenue", "function": "sum", "operator": "gt", "value": 50}, {1}),
    ("spent under 10 in total (no orders is 0)", {"type": "aggregate", "event": "ordered", "property": "revenue", "function": "sum", "operator": "lt", "value": 10}, {2, 4}),
    ("average viewed price at least 40", {"type": "aggregate", "event": "viewed", "property": "price", "function": "avg", "operator": "gte", "value": 40}, {1}),
    ("cheapest view under 50 in the last 5 days", {"type": "aggregate", "event": "viewed", "property": "price", "function": "min", "operator": "lt", "value": 50, "window": {"last": {"amount": 5, "unit": "days"}}}, {1}),
    ("first order within 7 days (new customers)", {"type": "first_performed", "event": "ordered", "operator": "within_last", "value": {"amount": 7, "unit": "days"}}, {3, 5}),
    ("first order before March (rewritten to performed)", {"type": "first_performed", "event": "ordered", "operator": "before", "value": "2026-03-01T00:00:00Z"}, {1}),
    ("last view more than 5 days ago", {"type": "last_performed", "event": "viewed", "operator": "before", "value": "2026-03-05T12:00:00Z"}, {2, 5}),
    ("viewed A and no order within a day", {"type": "sequence", "first": viewed_a(), "then": [{"event": "ordered"}], "within": {"amount": 1, "unit": "days"}}, {1, 2}),
    ("viewed and then ordered within a day", {"type": "sequence", "first": {"event": "viewed"}, "then": [{"event": "ordered"}], "expect": "present", "within": {"amount": 1, "unit": "days"}}, {5}),
    ("viewed in the last 2 days and nothing since", {"type": "sequence", "first": {"event": "viewed"}, "then": [{"event": "viewed"}, {"event": "ordered"}], "window": {"last": {"amount": 2, "unit": "days"}}}, {1}),
    ("nested: (score > 40 and not vip) or never viewed", {"type": "any", "conditions": [
        {"type": "all", "conditions": [{"type": "attribute", "attribute": "score", "operator": "gt", "value": 40},
                                       {"type": "not", "condition": {"type": "tag", "tag": "vip"}}]},
        {"type": "performed", "event": "viewed", "count": {"op": "<", "value": 1}}]}, {3, 4}),
    ("everyone", {"type": "all", "conditions": []}, {1, 2, 3, 4, 5}),
    ("no one", {"type": "any", "conditions": []}, set()),
    ("everyone in a 100% bucket", {"type": "random_bucket", "percent": 100}, {1, 2, 3, 4, 5}),
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


_matches = st.sampled_from([
    {"event": "viewed"}, {"event": "ordered"}, {"event": None},
    {"event": "viewed", "where": [{"property": "sku", "operator": "eq", "value": "A"}]},
])  # fmt: skip
_windows = st.sampled_from([{}, {"last": {"amount": 3, "unit": "days"}}, {"since": "2026-03-05T00:00:00Z"}])
_instants = st.sampled_from([(NOW - timedelta(days=d)).isoformat() for d in (1, 4, 10)])


@st.composite
def behaviour_conditions(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(["not_performed", "aggregate", "first_performed", "last_performed", "sequence"])
    )
    if kind == "not_performed":
        return {"type": kind, **draw(_matches), "window": draw(_windows)}
    if kind == "aggregate":
        comparison = draw(st.sampled_from([
            {"operator": "gt", "value": 40}, {"operator": "lte", "value": 30},
            {"operator": "between", "value": [10, 60]}, {"operator": "is_not_set", "value": None},
        ]))  # fmt: skip
        function = draw(st.sampled_from(["sum", "avg", "min", "max"]))
        return {"type": kind, **draw(_matches), "property": "price", "function": function,
                "window": draw(_windows), **comparison}  # fmt: skip
    if kind in ("first_performed", "last_performed"):
        op = draw(st.sampled_from(["before", "after", "within_last"]))
        value = {"amount": 2, "unit": "days"} if op == "within_last" else draw(_instants)
        return {"type": kind, **draw(_matches), "operator": op, "value": value}
    return {"type": "sequence", "first": draw(_matches), "then": draw(st.lists(_matches, min_size=1, max_size=2)),
            "expect": draw(st.sampled_from(["absent", "present"])), "window": draw(_windows),
            "within": draw(st.sampled_from([None, {"amount": 12, "unit": "hours"}, {"amount": 2, "unit": "days"}]))}  # fmt: skip


_trait_conditions = st.sampled_from([
    {"type": "attribute", "attribute": "birthday", "operator": "anniversary_within_next", "value": {"amount": 3, "unit": "days"}},
    {"type": "attribute", "attribute": "birthday", "operator": "after", "value": "1995-01-01T00:00:00Z"},
    {"type": "attribute", "attribute": "birthday", "operator": "within_last", "value": {"amount": 30, "unit": "days"}},
    {"type": "attribute", "attribute": "interests", "operator": "includes", "value": "shoes"},
    {"type": "attribute", "attribute": "interests", "operator": "includes_any", "value": ["bags", 7]},
    {"type": "attribute", "attribute": "interests", "operator": "is_not_set"},
])  # fmt: skip

leaves = st.one_of(
    attribute_conditions(),
    performed_conditions(),
    behaviour_conditions(),
    _trait_conditions,
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
        lambda score, email, traits, tags, events, age, tz: (score, email, traits, tags, events, age, tz),
        _numbers,
        st.sampled_from([None, "ann@shop.io", "bob@x.com"]),
        st.fixed_dictionaries(
            {},
            optional={
                "plan": _strings,
                "vip": st.booleans(),
                "seats": st.sampled_from([1, 5, "5"]),
                "birthday": st.sampled_from(
                    ["1990-03-11", "1996-03-12T23:30:00Z", "2026-02-20", "2000-02-29", 19900311]
                ),
                "interests": st.sampled_from([["shoes"], ["bags", 7], "shoes", [], [True]]),
            },
        ),
        st.sets(st.sampled_from(["vip", "newsletter"])),
        st.lists(_event, max_size=4),
        st.sampled_from([0, 5, 20, 40]),
        st.sampled_from([None, "Asia/Tokyo", "America/Los_Angeles", "Pacific/Kiritimati", "Not/AZone"]),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=int(os.environ.get("KAIROS_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=_people, tree=trees)
def test_sql_agrees_with_the_python_evaluator(
    engine: Engine, people: list[tuple[Any, ...]], tree: dict[str, Any]
) -> None:
    population = [
        person(i, score=s, email=e, traits=t, tags=tags, events=ev, created_at=days_ago(age), timezone=tz)
        for i, (s, e, t, tags, ev, age, tz) in enumerate(people, start=1)
    ]
    ws, ids = populate(engine, population)
    definition = SegmentDefinition.model_validate({"root": tree})
    with engine.connect() as conn:
        whole = evaluate(conn, ws, definition, NOW)  # the set shape
        some = evaluate(conn, ws, definition, NOW, contact_ids=list(ids.values()))  # the correlated shape
    stored = [replace(p, id=ids[p.id]) for p in population]  # buckets hash the contact id
    expected = {p.id for p in stored if holds(definition.root, p, NOW, TYPES)}
    assert whole == expected
    assert some == expected


def test_anniversaries_count_in_the_contacts_time_zone(engine: Engine) -> None:
    """At 20:00 UTC on 10 March it is already 11 March in Tokyo, still 10 March in Los
    Angeles; a 29 February birthday is kept on 28 February in other years."""
    people = [
        person(1, timezone="Asia/Tokyo", traits={"birthday": "1990-03-11"}),
        person(2, timezone="America/Los_Angeles", traits={"birthday": "1990-03-11"}),
        person(3, traits={"birthday": "1990-03-10T23:00:00Z"}),  # no time zone: UTC
        person(4, timezone="Asia/Tokyo", traits={"birthday": "2000-02-29"}),
    ]
    ws, ids = populate(engine, people)
    today = parse_definition({"root": {"type": "attribute", "attribute": "birthday",
                                       "operator": "anniversary_within_next", "value": {"amount": 0}}})  # fmt: skip
    by_contact = {cid: pid for pid, cid in ids.items()}
    evening = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    leap_eve = datetime(2027, 2, 28, 3, 0, tzinfo=UTC)  # 12:00 on 28 February in Tokyo, 2027
    with engine.connect() as conn:
        assert {by_contact[c] for c in evaluate(conn, ws, today, evening)} == {1, 3}
        assert {by_contact[c] for c in evaluate(conn, ws, today, leap_eve)} == {4}
    for now, expected in ((evening, {1, 3}), (leap_eve, {4})):
        assert {p.id for p in people if holds(today.root, p, now, TYPES)} == expected
    # "not" is the exact complement: no contact is lost to an unknown (NULL) answer
    not_today = parse_definition({"root": {"type": "not", "condition": today.root.model_dump()}})
    with engine.connect() as conn:
        for now, expected in ((evening, {2, 4}), (leap_eve, {1, 2, 3})):
            assert {by_contact[c] for c in evaluate(conn, ws, not_today, now)} == expected
            assert {
                by_contact[c] for c in evaluate(conn, ws, not_today, now, contact_ids=list(ids.values()))
            } == expected
