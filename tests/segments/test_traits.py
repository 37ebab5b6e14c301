"""Computed traits: each function's value on a small population (a table of cases, checked
also against a plain-Python reference), generated definitions against the reference, and
scenarios — new events update the changed contact only, a windowed value drops out as the
clock moves, merges, redefinitions. The clock is driven, nothing sleeps."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select, update

from kairos.clock import FixedClock, SystemClock
from kairos.contacts.tables import contact, contact_change
from kairos.errors import Conflict, InvalidInput
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.segments.compiler import coerce_value, property_type
from kairos.segments.operators import OPERATORS
from kairos.segments.service import create_segment
from kairos.segments.tables import computed_trait, computed_trait_value, segment, segment_membership
from kairos.segments.trait_definition import (
    TraitDefinition,
    parse_trait_definition,
    property_type_of,
)
from kairos.segments.traits import (
    create_trait,
    delete_trait,
    recompute,
    refresh_traits_due,
    trait_expression,
    trait_types,
    traits_of,
    update_trait,
)
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace, create_workspace

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
Event = tuple[str, datetime, dict[str, Any]]


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def store(engine: Engine, ws: int, people: dict[str, list[Event]], now: datetime = NOW) -> dict[str, int]:
    """Ingest each person's events (in list order); returns user id → contact id."""
    messages = [
        parse_message({"type": "track", "userId": user, "event": name, "properties": props,
                       "timestamp": ts.isoformat(), "messageId": f"{user}-{i}-{ts.isoformat()}"}, None, now)
        for user, events in people.items()
        for i, (name, ts, props) in enumerate(events)
    ]  # fmt: skip
    with engine.begin() as conn:
        ingest(conn, ws, messages, now)
        rows = conn.execute(select(contact.c.external_id, contact.c.id).where(contact.c.workspace_id == ws))
        return {ext: cid for ext, cid in rows}


def compute(engine: Engine, ws: int, definition: dict[str, Any], name: str = "t", now: datetime = NOW) -> int:
    """Create a trait and compute it fully, as the worker does after a create."""
    with engine.begin() as conn:
        trait_id = create_trait(conn, ws, now, name=name, definition=definition)["id"]
        recompute(
            conn, conn.execute(select(computed_trait).where(computed_trait.c.id == trait_id)).one(), now
        )
    return int(trait_id)


def values(engine: Engine, ids: dict[str, int], name: str = "t") -> dict[str, Any]:
    with engine.connect() as conn:
        found = traits_of(conn, list(ids.values()))
    return {user: found[cid][name] for user, cid in ids.items()}


def approx(expected: dict[str, Any]) -> dict[str, Any]:
    """Numbers compare with a float tolerance; everything else exactly."""
    return {k: pytest.approx(v) if isinstance(v, int | float) else v for k, v in expected.items()}


# --- the reference: what a trait means, in plain Python ------------------------------------


def typed(value: Any, vtype: str | None) -> Any:
    """A JSON value as a filter or trait of ``vtype`` reads it: None unless of that type."""
    if vtype is None or value is None:
        return value
    if vtype == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if vtype == "boolean":
        return value if isinstance(value, bool) else None
    return value if isinstance(value, str) else None


def reference(d: TraitDefinition, events: list[Event], now: datetime) -> Any:
    def counts(name: str, ts: datetime, props: dict[str, Any]) -> bool:
        if d.event is not None and name != d.event:
            return False
        w = d.window
        if w.last is not None and not now - w.last.to_timedelta() <= ts <= now:
            return False
        if (w.since and ts < w.since) or (w.until and ts >= w.until):
            return False
        for f in d.where:
            vtype = property_type(f.operator, f.value, "x")
            op = OPERATORS[f.operator]
            if not op.py(
                typed(props.get(f.property), vtype), coerce_value(op, vtype or "string", f.value, "x"), now
            ):
                return False
        return True

    # (timestamp, arrival order) orders events; arrival order breaks timestamp ties
    matching = [(ts, i, props) for i, (name, ts, props) in enumerate(events) if counts(name, ts, props)]
    if d.function == "count":
        return len(matching)
    if d.function in ("first_seen", "last_seen"):
        stamps = [ts for ts, _, _ in matching]
        return (min if d.function == "first_seen" else max)(stamps) if stamps else None
    assert d.property is not None
    found = [
        (ts, i, v)
        for ts, i, props in matching
        if (v := typed(props.get(d.property), property_type_of(d))) is not None
    ]
    vals = [v for _, _, v in found]
    if d.function == "sum":
        return sum(vals)
    if d.function == "distinct_count":
        return len(set(vals))
    if not vals:
        return None
    if d.function == "avg":
        return fmean(vals)
    if d.function in ("min", "max"):
        return (min if d.function == "min" else max)(vals)
    if d.function in ("first", "last"):
        return (min if d.function == "first" else max)(found, key=lambda f: (f[0], f[1]))[2]
    # most_frequent: the most frequent value; a tie goes to the one seen last
    n = Counter(vals)
    latest = {v: (ts, i) for ts, i, v in sorted(found, key=lambda f: (f[0], f[1]))}
    return max(n, key=lambda v: (n[v], latest[v]))


# --- each function on a small population ----------------------------------------------------

PEOPLE: dict[str, list[Event]] = {
    "ann": [
        ("viewed", days_ago(1), {"category": "shoes", "price": 30}),
        ("viewed", days_ago(2), {"category": "shoes", "price": 50}),
        ("viewed", days_ago(3), {"category": "hats", "price": 80}),
        ("viewed", days_ago(20), {"category": "hats", "price": 20}),
        ("viewed", days_ago(25), {"category": "hats"}),
        ("ordered", days_ago(5), {"revenue": 90}),
        ("ordered", days_ago(40), {"revenue": 10.5}),
    ],
    "bob": [
        ("viewed", days_ago(10), {"category": "hats", "price": "n/a"}),
        ("ordered", days_ago(2), {"revenue": 40}),
        ("ordered", days_ago(1), {"revenue": "n/a"}),
    ],
    "cy": [  # one shoes and one bags view: a tie, which goes to bags, seen last
        ("viewed", days_ago(4), {"category": "shoes", "price": 10}),
        ("viewed", days_ago(1), {"category": "bags", "price": 15}),
    ],
    "dee": [("signed_up", days_ago(30), {})],
}

LAST_WEEK = {"last": {"amount": 7, "unit": "days"}}
SHOES = [{"property": "category", "operator": "eq", "value": "shoes"}]

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("views", {"function": "count", "event": "viewed"}, {"ann": 5, "bob": 1, "cy": 2, "dee": 0}),
    ("views this week", {"function": "count", "event": "viewed", "window": LAST_WEEK}, {"ann": 3, "bob": 0, "cy": 2, "dee": 0}),
    ("events of any name", {"function": "count", "event": None}, {"ann": 7, "bob": 3, "cy": 2, "dee": 1}),
    ("shoe views", {"function": "count", "event": "viewed", "where": SHOES}, {"ann": 2, "bob": 0, "cy": 1, "dee": 0}),
    ("revenue: a text revenue is no number", {"function": "sum", "event": "ordered", "property": "revenue"}, {"ann": 100.5, "bob": 40, "cy": 0, "dee": 0}),
    ("revenue before March", {"function": "sum", "event": "ordered", "property": "revenue", "window": {"until": "2026-03-01T00:00:00Z"}}, {"ann": 10.5, "bob": 0, "cy": 0, "dee": 0}),
    ("average price", {"function": "avg", "event": "viewed", "property": "price"}, {"ann": 45, "bob": None, "cy": 12.5, "dee": None}),
    ("cheapest view", {"function": "min", "event": "viewed", "property": "price"}, {"ann": 20, "bob": None, "cy": 10, "dee": None}),
    ("dearest view this week", {"function": "max", "event": "viewed", "property": "price", "window": LAST_WEEK}, {"ann": 80, "bob": None, "cy": 15, "dee": None}),
    ("first category", {"function": "first", "event": "viewed", "property": "category"}, {"ann": "hats", "bob": "hats", "cy": "shoes", "dee": None}),
    ("last category", {"function": "last", "event": "viewed", "property": "category"}, {"ann": "shoes", "bob": "hats", "cy": "bags", "dee": None}),
    ("last price, as a number", {"function": "last", "event": "viewed", "property": "price", "property_type": "number"}, {"ann": 30, "bob": None, "cy": 15, "dee": None}),
    ("first order", {"function": "first_seen", "event": "ordered"}, {"ann": days_ago(40), "bob": days_ago(2), "cy": None, "dee": None}),
    ("last shoe view", {"function": "last_seen", "event": "viewed", "where": SHOES}, {"ann": days_ago(1), "bob": None, "cy": days_ago(4), "dee": None}),
    ("categories viewed", {"function": "distinct_count", "event": "viewed", "property": "category"}, {"ann": 2, "bob": 1, "cy": 2, "dee": 0}),
    ("favourite category (ties: the latest)", {"function": "most_frequent", "event": "viewed", "property": "category"}, {"ann": "hats", "bob": "hats", "cy": "bags", "dee": None}),
    ("favourite category this week", {"function": "most_frequent", "event": "viewed", "property": "category", "window": LAST_WEEK}, {"ann": "shoes", "bob": None, "cy": "bags", "dee": None}),
]  # fmt: skip


@pytest.mark.parametrize(("why", "definition", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_function_computes_exactly(
    engine: Engine,
    workspace: CreatedWorkspace,
    why: str,
    definition: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    ids = store(engine, workspace.id, PEOPLE)
    compute(engine, workspace.id, definition)
    got = values(engine, ids)
    assert got == approx(expected)
    parsed = parse_trait_definition(definition)
    assert {u: reference(parsed, PEOPLE[u], NOW) for u in PEOPLE} == approx(expected)


@pytest.mark.parametrize(
    ("definition", "code", "path"),
    [
        ({"function": "median", "event": "e"}, "invalid_definition", "definition.function"),
        ({"function": "count"}, "invalid_definition", "definition.event"),
        ({"function": "sum", "event": "e"}, "invalid_definition", "definition.property"),
        ({"function": "count", "event": "e", "property": "p"}, "invalid_definition", "definition.property"),
        ({"function": "avg", "event": "e", "property": "p", "property_type": "string"}, "invalid_definition", "definition.property_type"),
        ({"function": "count", "event": "e", "colour": "red"}, "invalid_definition", "definition.colour"),
        ({"schema_version": 2, "function": "count", "event": "e"}, "invalid_definition", "definition.schema_version"),
        ({"function": "count", "event": "e", "window": {"last": {"amount": 1}, "since": "2026-01-01"}}, "invalid_definition", "definition.window"),
        ({"function": "count", "event": "e", "where": [{"property": "p", "operator": "gt", "value": "x"}]}, "invalid_operator", "definition.where[0].operator"),
        ({"function": "count", "event": "e", "where": [{"property": "p", "operator": "near", "value": 1}]}, "unknown_operator", "definition.where[0].operator"),
        ({"function": "count", "event": "e", "where": [{"property": "p", "operator": "in", "value": "x"}]}, "invalid_value", "definition.where[0].value"),
    ],
)  # fmt: skip
def test_invalid_definitions_name_the_bad_field(
    engine: Engine, workspace: CreatedWorkspace, definition: dict[str, Any], code: str, path: str
) -> None:
    with pytest.raises(InvalidInput) as err, engine.begin() as conn:
        create_trait(conn, workspace.id, NOW, name="t", definition=definition)
    assert err.value.code == code
    assert err.value.message.split(":")[0] == path


def test_names_are_identifiers_and_unique(engine: Engine, workspace: CreatedWorkspace) -> None:
    definition = {"function": "count", "event": "viewed"}
    with pytest.raises(InvalidInput) as bad, engine.begin() as conn:
        create_trait(conn, workspace.id, NOW, name="orders count", definition=definition)
    assert bad.value.code == "invalid_trait_name"
    with engine.begin() as conn:
        create_trait(conn, workspace.id, NOW, name="views", definition=definition)
    with pytest.raises(Conflict) as clash, engine.begin() as conn:
        create_trait(conn, workspace.id, NOW, name="views", definition=definition)
    assert clash.value.code == "computed_trait_exists"


# --- segments read trait values -------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "operator", "value", "expected"),
    [
        ({"function": "count", "event": "viewed"}, "gte", 2, {"ann", "cy"}),
        ({"function": "count", "event": "viewed", "where": SHOES}, "eq", 0, {"bob", "dee"}),  # no views: 0
        ({"function": "avg", "event": "viewed", "property": "price"}, "is_not_set", None, {"bob", "dee"}),
        ({"function": "most_frequent", "event": "viewed", "property": "category"}, "eq", "hats", {"ann", "bob"}),
        ({"function": "last_seen", "event": "viewed"}, "within_last", {"amount": 2, "unit": "days"}, {"ann", "cy"}),
        ({"function": "first_seen", "event": "ordered"}, "before", "2026-03-01T00:00:00Z", {"ann"}),
    ],
)  # fmt: skip
def test_trait_expression_compares_like_an_attribute(
    engine: Engine,
    workspace: CreatedWorkspace,
    definition: dict[str, Any],
    operator: str,
    value: Any,
    expected: set[str],
) -> None:
    """The contract the compiler uses for ``computed.NAME`` conditions."""
    ids = store(engine, workspace.id, PEOPLE)
    compute(engine, workspace.id, definition, name="trait")
    with engine.connect() as conn:
        expr, vtype = trait_expression("trait", conn.dialect.name, trait_types(conn, workspace.id))
        op = OPERATORS[operator]
        cond = op.sql(expr, coerce_value(op, vtype, value, "value"), NOW)
        found = set(
            conn.execute(
                select(contact.c.external_id).where(contact.c.workspace_id == workspace.id, cond)
            ).scalars()
        )
    assert found == expected
    assert set(ids) >= found


def test_an_unknown_trait_is_an_unknown_attribute(engine: Engine) -> None:
    with pytest.raises(InvalidInput) as err:
        trait_expression("nope", engine.dialect.name, {"views": "number"}, path="root.attribute")
    assert (err.value.code, err.value.message.split(":")[0]) == ("unknown_attribute", "root.attribute")


# --- keeping values true ------------------------------------------------------------------------


def test_new_events_recompute_the_changed_contact_only(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    clock.set(NOW)
    ids = store(engine, workspace.id, PEOPLE)
    with engine.begin() as conn:
        create_trait(
            conn,
            workspace.id,
            NOW,
            name="t",
            definition={"function": "sum", "event": "ordered", "property": "revenue"},
        )
    worker = Worker(engine, clock)
    worker.run_once()
    assert values(engine, ids) == {"ann": 100.5, "bob": 40, "cy": 0, "dee": 0}
    # Tamper with Ann's stored value: a pass that recomputed her would repair it.
    with engine.begin() as conn:
        conn.execute(
            update(computed_trait_value)
            .where(computed_trait_value.c.contact_id == ids["ann"])
            .values(number=-1)
        )

    clock.advance(timedelta(minutes=1))
    store(
        engine,
        workspace.id,
        {
            "bob": [("ordered", clock.now(), {"revenue": 25})],
            "cy": [("ordered", clock.now(), {"revenue": 5})],
        },
        clock.now(),
    )
    done = worker.run_once()
    assert done["contact_changes"] == 2 and done["trait_refresh"] == 0
    assert values(engine, ids) == {"ann": -1, "bob": 65, "cy": 5, "dee": 0}


def test_a_windowed_value_drops_out_as_time_passes(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    clock.set(NOW)
    ids = store(
        engine,
        workspace.id,
        {
            "ann": [("viewed", days_ago(6), {}), ("viewed", days_ago(1), {})],
            "bob": [("viewed", days_ago(2), {})],
        },
    )
    with engine.begin() as conn:
        trait = create_trait(
            conn,
            workspace.id,
            NOW,
            name="t",
            definition={"function": "count", "event": "viewed", "window": LAST_WEEK},
        )
    assert trait["time_dependent"] is True
    worker = Worker(engine, clock)
    worker.run_once()
    assert values(engine, ids) == {"ann": 2, "bob": 1}

    clock.advance(timedelta(days=1, minutes=1))  # Ann's first view is now 7 days and a minute old
    assert worker.run_once()["trait_refresh"] == 1
    assert values(engine, ids) == {"ann": 1, "bob": 1}
    clock.advance(timedelta(minutes=1))  # not due again for 5 minutes
    assert worker.run_once()["trait_refresh"] == 0

    clock.advance(timedelta(days=6))  # nothing within the week: nothing stored, read as 0
    worker.run_once()
    assert values(engine, ids) == {"ann": 0, "bob": 0}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(computed_trait_value)).scalar_one() == 0


def test_a_new_definition_is_recomputed_for_everyone(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    clock.set(NOW)
    ids = store(engine, workspace.id, PEOPLE)
    with engine.begin() as conn:
        trait = create_trait(
            conn,
            workspace.id,
            NOW,
            name="t",
            definition={"function": "last", "event": "viewed", "property": "category"},
        )
    Worker(engine, clock).run_once()
    assert values(engine, ids) == {"ann": "shoes", "bob": "hats", "cy": "bags", "dee": None}
    with engine.begin() as conn:
        changed = update_trait(
            conn, workspace.id, trait["id"], NOW, {"definition": {"function": "count", "event": "ordered"}}
        )
    assert (changed["needs_refresh"], changed["value_type"]) == (True, "number")
    Worker(engine, clock).run_once()
    assert values(engine, ids) == {"ann": 2, "bob": 2, "cy": 0, "dee": 0}


def test_a_merge_leaves_one_value_on_the_survivor(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    clock.set(NOW)
    anonymous = [
        parse_message(
            {"type": "track", "anonymousId": "visitor", "event": "viewed", "messageId": f"a{i}"}, None, NOW
        )
        for i in range(2)
    ]
    with engine.begin() as conn:
        ingest(conn, workspace.id, anonymous, NOW)
    store(engine, workspace.id, {"known": [("viewed", days_ago(1), {})]})
    with engine.begin() as conn:
        create_trait(conn, workspace.id, NOW, name="t", definition={"function": "count", "event": "viewed"})
    worker = Worker(engine, clock)
    worker.run_once()
    with engine.begin() as conn:
        ingest(
            conn,
            workspace.id,
            [parse_message({"type": "identify", "userId": "known", "anonymousId": "visitor"}, None, NOW)],
            NOW,
        )
    worker.run_once()
    with engine.connect() as conn:
        stored = conn.execute(select(computed_trait_value.c.contact_id, computed_trait_value.c.number)).all()
        live = conn.execute(select(contact.c.id).where(contact.c.merged_into.is_(None))).scalars().all()
    assert [(cid, n) for cid, n in stored] == [(live[0], 3)]


def test_traits_that_segments_test_keep_their_name_and_type(
    engine: Engine, workspace: CreatedWorkspace
) -> None:
    with engine.begin() as conn:
        trait = create_trait(
            conn, workspace.id, NOW, name="views", definition={"function": "count", "event": "viewed"}
        )
        conn.execute(insert(segment).values(
            workspace_id=workspace.id, name="Browsers", kind="dynamic", time_dependent=False, needs_refresh=False,
            definition={"schema_version": 1, "root": {"type": "all", "conditions": [
                {"type": "attribute", "attribute": "computed.views", "operator": "gte", "value": 3}]}},
            created_at=NOW, updated_at=NOW))  # fmt: skip
    attempts: list[Any] = [
        lambda conn: update_trait(conn, workspace.id, trait["id"], NOW, {"name": "looks"}),
        lambda conn: update_trait(
            conn, workspace.id, trait["id"], NOW, {"definition": {"function": "last_seen", "event": "viewed"}}
        ),
        lambda conn: delete_trait(conn, workspace.id, trait["id"]),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as err, engine.begin() as conn:
            attempt(conn)
        assert err.value.code == "computed_trait_in_use" and "'Browsers'" in err.value.message
    with engine.begin() as conn:  # same type: fine
        update_trait(
            conn, workspace.id, trait["id"], NOW, {"definition": {"function": "count", "event": "ordered"}}
        )


def test_a_time_refresh_queues_changed_contacts_when_segments_test_the_trait(
    engine: Engine, workspace: CreatedWorkspace
) -> None:
    ids = store(
        engine, workspace.id, {"ann": [("viewed", days_ago(6), {})], "bob": [("viewed", days_ago(1), {})]}
    )
    with engine.begin() as conn:
        create_trait(
            conn,
            workspace.id,
            NOW,
            name="views",
            definition={"function": "count", "event": "viewed", "window": LAST_WEEK},
        )
        conn.execute(contact_change.delete())
        assert refresh_traits_due(conn, NOW) == 1
        assert (
            conn.execute(select(contact_change.c.contact_id)).scalars().all() == []
        )  # no segment tests it yet
        conn.execute(insert(segment).values(
            workspace_id=workspace.id, name="Browsers", kind="dynamic", time_dependent=False, needs_refresh=False,
            definition={"schema_version": 1, "root": {"type": "attribute", "attribute": "computed.views", "operator": "gte", "value": 1}},
            created_at=NOW, updated_at=NOW))  # fmt: skip
        later = NOW + timedelta(days=2)
        assert refresh_traits_due(conn, later) == 1  # Ann's view left the week; Bob's value did not change
        assert conn.execute(select(contact_change.c.contact_id)).scalars().all() == [ids["ann"]]


def test_a_segment_on_a_trait_follows_its_values(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    """End to end through the worker: trait values are recomputed before segments read them,
    and a value that changes with time alone re-queues the contacts of segments testing it."""
    clock.set(NOW)
    ids = store(
        engine, workspace.id, {"ann": [("viewed", days_ago(3), {})], "bob": [("viewed", days_ago(1), {})]}
    )
    with engine.begin() as conn:
        create_trait(
            conn,
            workspace.id,
            NOW,
            name="views",
            definition={"function": "count", "event": "viewed", "window": LAST_WEEK},
        )
    with engine.begin() as conn:
        seg = create_segment(conn, workspace.id, NOW, name="Browsers", definition={
            "root": {"type": "attribute", "attribute": "computed.views", "operator": "gte", "value": 2}})  # fmt: skip
    worker = Worker(engine, clock)
    worker.run_once()

    def browsers() -> set[str]:
        with engine.connect() as conn:
            inside = set(
                conn.execute(
                    select(segment_membership.c.contact_id).where(
                        segment_membership.c.segment_id == seg["id"]
                    )
                ).scalars()
            )
        return {user for user, cid in ids.items() if cid in inside}

    assert browsers() == set()
    clock.advance(timedelta(minutes=1))
    store(engine, workspace.id, {"bob": [("viewed", clock.now(), {})]}, clock.now())
    worker.run_once()
    assert browsers() == {"bob"}  # in the same pass as his second view
    clock.advance(timedelta(days=6))  # his first view leaves the week: he leaves with it
    worker.run_once()
    assert browsers() == set()


# --- generated definitions against the reference ------------------------------------------------

_event = st.tuples(
    st.sampled_from(["viewed", "ordered"]),
    st.integers(0, 24 * 10).map(lambda h: NOW - timedelta(hours=h)),
    st.fixed_dictionaries(
        {},
        optional={
            "category": st.sampled_from(["a", "b", "c", 1]),
            "price": st.sampled_from([10, 40.5, 60, "60"]),
        },
    ),
)
_people = st.lists(st.lists(_event, max_size=6), min_size=1, max_size=5)


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    function = draw(
        st.sampled_from(
            [
                "count",
                "sum",
                "avg",
                "min",
                "max",
                "first",
                "last",
                "first_seen",
                "last_seen",
                "distinct_count",
                "most_frequent",
            ]
        )
    )
    d: dict[str, Any] = {"function": function, "event": draw(st.sampled_from([None, "viewed", "ordered"]))}
    if function in ("sum", "avg", "min", "max"):
        d["property"] = "price"
    elif function in ("first", "last", "distinct_count", "most_frequent"):
        d["property"] = draw(st.sampled_from(["category", "price"]))
        d["property_type"] = draw(st.sampled_from(["string", "number"]))
    d["where"] = draw(
        st.sampled_from(
            [
                [],
                [{"property": "price", "operator": "gt", "value": 20}],
                [{"property": "category", "operator": "in", "value": ["a", "b"]}],
                [{"property": "price", "operator": "is_not_set"}],
            ]
        )
    )
    d["window"] = draw(
        st.sampled_from(
            [
                {},
                {"last": {"amount": 3, "unit": "days"}},
                {"last": {"amount": 36, "unit": "hours"}},
                {"since": "2026-03-05T00:00:00Z"},
            ]
        )
    )
    return d


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=_people, definition=definitions())
def test_sql_agrees_with_the_reference(
    engine: Engine, people: list[list[Event]], definition: dict[str, Any]
) -> None:
    with engine.begin() as conn:
        ws = create_workspace(conn, SystemClock(), "gen").id
    population = {f"p{i}": events for i, events in enumerate(people)}
    ids = store(engine, ws, {u: ev for u, ev in population.items() if ev})
    compute(engine, ws, definition)
    parsed = parse_trait_definition(definition)
    assert values(engine, ids) == approx({u: reference(parsed, population[u], NOW) for u in ids})
