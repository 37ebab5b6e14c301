"""Durations in one format (calendar months and years included) and the relative-date
operators a marketer expects: more / less than N ago, between N and M ago, and an age from a
birth date in the contact's time zone — as SQL on both shapes, and as live membership that
follows the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from kairos.clock import FixedClock
from kairos.contacts.attributes import create_attribute
from kairos.contacts.tables import contact, identity
from kairos.durations import Duration, add_months
from kairos.errors import InvalidInput
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.segments.anniversary import age_between, years_before
from kairos.segments.compiler import evaluate, parse_definition
from kairos.segments.deps import dependencies
from kairos.segments.operators import MOVING, OPERATORS
from kairos.segments.service import create_segment
from kairos.segments.tables import segment_membership
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def dur(amount: int, unit: str = "days") -> dict[str, Any]:
    return {"amount": amount, "unit": unit}


# --- the format ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"days": 1, "hours": 2}, dur(26, "hours")),
        ({"days": 7}, dur(7, "days")),
        ({"hours": 48}, dur(2, "days")),
        ({"minutes": 90}, dur(90, "minutes")),
        ({"days": 1, "seconds": 5}, dur(86_405, "seconds")),
    ],
)
def test_the_old_journey_form_reads_as_the_new_one(old: dict[str, int], new: dict[str, Any]) -> None:
    d = Duration.model_validate(old)
    assert d.model_dump() == new
    assert d.to_timedelta() == timedelta(**old)


def test_months_and_years_are_calendar_units() -> None:
    jan31 = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
    assert Duration(amount=1, unit="months").after(jan31) == datetime(2026, 2, 28, 9, 30, tzinfo=UTC)
    assert Duration(amount=1, unit="months").before(NOW) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert Duration(amount=2, unit="years").before(datetime(2028, 2, 29, tzinfo=UTC)) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert add_months(datetime(2025, 12, 15, tzinfo=UTC), 3) == datetime(2026, 3, 15, tzinfo=UTC)
    assert Duration(amount=2, unit="weeks").before(NOW) == NOW - timedelta(days=14)
    # far away saturates instead of failing
    assert Duration(amount=10**9, unit="years").before(NOW).year == 1
    assert Duration(amount=10**9, unit="days").after(NOW).year == 9999


@pytest.mark.parametrize(
    "bad", [{"amount": 1, "unit": "fortnights"}, {"days": -1}, {"days": 1.5}, {"amount": -1}]
)
def test_a_bad_duration_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Duration.model_validate(bad)


# --- the registry -------------------------------------------------------------------------


def test_the_new_operators_are_registered_with_labels_and_move_with_time() -> None:
    for key, label, kind in [
        ("more_than_ago", "is more than … ago", "duration"),
        ("less_than_ago", "is less than … ago", "duration"),
        ("between_ago", "is between … and … ago", "duration_pair"),
        ("age_between", "is between … and … years old", "age_range"),
    ]:
        op = OPERATORS[key]
        assert (op.label, op.value, op.types) == (label, kind, frozenset({"datetime"}))
        assert key in MOVING
    assert {"within_last", "within_next", "anniversary_within_next"} <= MOVING
    assert "before" not in MOVING


@pytest.mark.parametrize(
    "condition",
    [
        {"type": "attribute", "attribute": "last_login", "operator": "more_than_ago", "value": dur(30)},
        {"type": "attribute", "attribute": "birthdate", "operator": "age_between", "value": [18, 22]},
        {"type": "last_performed", "event": "ordered", "operator": "between_ago", "value": [dur(1), dur(2)]},
        {
            "type": "first_performed",
            "event": "ordered",
            "operator": "less_than_ago",
            "value": dur(1, "weeks"),
        },
    ],
)
def test_segments_using_them_are_time_dependent(condition: dict[str, Any]) -> None:
    assert dependencies(parse_definition({"root": condition}).root).time is True


# --- compiled, both shapes ------------------------------------------------------------------


def populate(engine: Engine, now: datetime, people: dict[str, dict[str, Any]]) -> tuple[int, dict[int, str]]:
    """People by name: ``traits``, ``timezone``, ``created_at``, ``events`` [(name, instant)]."""
    from kairos.clock import SystemClock
    from kairos.workspaces.service import create_workspace

    clock = SystemClock()
    with engine.begin() as conn:
        ws = create_workspace(conn, clock, "dates").id
        create_attribute(conn, clock, ws, name="last_login", type="datetime")
        create_attribute(conn, clock, ws, name="birthdate", type="datetime")
        names: dict[int, str] = {}
        for name, p in people.items():
            cid = conn.execute(
                insert(contact)
                .values(workspace_id=ws, external_id=name, traits=p.get("traits", {}),
                        timezone=p.get("timezone"), created_at=p.get("created_at", now), updated_at=now)
                .returning(contact.c.id)
            ).scalar_one()  # fmt: skip
            conn.execute(
                insert(identity).values(
                    workspace_id=ws, kind="user_id", value=name, contact_id=cid, created_at=now
                )
            )
            names[cid] = name
        messages = [
            parse_message(
                {"type": "track", "userId": name, "event": ev, "timestamp": at.isoformat(),
                 "messageId": f"{name}-{i}"},
                None,
                now,
            )
            for name, p in people.items()
            for i, (ev, at) in enumerate(p.get("events", []))
        ]  # fmt: skip
        if messages:
            ingest(conn, ws, messages, now)
    return ws, names


def matching(
    engine: Engine, ws: int, names: dict[int, str], condition: dict[str, Any], now: datetime
) -> set[str]:
    """Who matches, asserting the whole-workspace and per-contact shapes agree."""
    definition = parse_definition({"root": condition})
    with engine.connect() as conn:
        whole = evaluate(conn, ws, definition, now)
        each = evaluate(conn, ws, definition, now, contact_ids=list(names))
        negated = evaluate(conn, ws, parse_definition({"root": {"type": "not", "condition": condition}}), now)
    assert whole == each
    assert negated == set(names) - whole  # two-valued: a missing value is false, its negation true
    return {names[c] for c in whole}


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


AGO = {
    "d1": NOW - timedelta(days=1),
    "d5": NOW - timedelta(days=5),
    "d10": NOW - timedelta(days=10),
    "feb28_late": datetime(2026, 2, 28, 13, tzinfo=UTC),  # inside "the last month" from 31 March
    "feb28_early": datetime(2026, 2, 28, 11, tzinfo=UTC),  # just outside it
    "y2": NOW - timedelta(days=800),
    "future": NOW + timedelta(days=3),
}
PEOPLE: dict[str, dict[str, Any]] = {
    name: {
        "traits": {"last_login": iso(at)},
        "created_at": at,
        "events": [("ordered", at)] if at < NOW else [],
    }
    for name, at in AGO.items()
} | {"none": {}}


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("more_than_ago", dur(7), {"d10", "feb28_late", "feb28_early", "y2"}),
        ("more_than_ago", dur(1, "years"), {"y2"}),
        ("less_than_ago", dur(7), {"d1", "d5"}),
        ("less_than_ago", dur(1, "months"), {"d1", "d5", "d10", "feb28_late"}),
        ("within_last", dur(1, "months"), {"d1", "d5", "d10", "feb28_late"}),
        ("between_ago", [dur(3), dur(2, "weeks")], {"d5", "d10"}),
        ("between_ago", [dur(2, "weeks"), dur(3)], {"d5", "d10"}),  # either order
        ("between_ago", [dur(2, "weeks"), dur(3, "years")], {"feb28_late", "feb28_early", "y2"}),
        ("within_next", dur(1, "weeks"), {"future"}),
    ],
)
def test_relative_dates_on_attributes_fields_and_first_last_performed(
    engine: Engine, operator: str, value: Any, expected: set[str]
) -> None:
    ws, names = populate(engine, NOW, PEOPLE)
    for condition in (
        {"type": "attribute", "attribute": "last_login", "operator": operator, "value": value},
        {"type": "attribute", "attribute": "created_at", "operator": operator, "value": value},
        {"type": "last_performed", "event": "ordered", "operator": operator, "value": value},
        {"type": "first_performed", "event": "ordered", "operator": operator, "value": value},
    ):
        want = expected
        if condition.get("attribute") == "created_at":  # "none" was created now
            want = expected | (
                {"none"} if OPERATORS[operator].py(NOW, _coerced(operator, value), NOW) else set()
            )
        elif condition["type"] != "attribute":  # no event in the future
            want = expected - {"future"}
        assert matching(engine, ws, names, condition, NOW) == want, condition


def _coerced(operator: str, value: Any) -> Any:
    from kairos.segments.values import coerce_value

    return coerce_value(OPERATORS[operator], "datetime", value, "value")


@pytest.mark.parametrize(
    ("operator", "value", "code"),
    [
        ("more_than_ago", {"amount": 3, "unit": "fortnights"}, "invalid_value"),
        ("between_ago", [dur(3)], "invalid_value"),
        ("between_ago", dur(3), "invalid_value"),
        ("age_between", [22, 18], "invalid_value"),
        ("age_between", [18, 500], "invalid_value"),
        ("age_between", ["18", 22], "invalid_value"),
    ],
)
def test_bad_values_are_refused_with_their_path(engine: Engine, operator: str, value: Any, code: str) -> None:
    ws, _ = populate(engine, NOW, {"ann": {}})
    definition = parse_definition(
        {"root": {"type": "all", "conditions": [
            {"type": "attribute", "attribute": "birthdate", "operator": operator, "value": value}]}}
    )  # fmt: skip
    with engine.connect() as conn, pytest.raises(InvalidInput) as err:
        evaluate(conn, ws, definition, NOW)
    assert err.value.code == code
    assert str(err.value).startswith("root.conditions[0].value")


# --- ages ---------------------------------------------------------------------------------


def test_years_before_keeps_29_february_birthdays_on_28_february() -> None:
    assert years_before(datetime(2026, 2, 28).date(), 18) == datetime(2008, 2, 29).date()
    assert years_before(datetime(2028, 2, 29).date(), 1) == datetime(2027, 2, 28).date()
    assert years_before(datetime(2028, 2, 28).date(), 4) == datetime(2024, 2, 28).date()
    assert years_before(datetime(2026, 3, 11).date(), 18) == datetime(2008, 3, 11).date()


AGE_18_TO_22 = {"type": "attribute", "attribute": "birthdate", "operator": "age_between", "value": [18, 22]}


def test_a_contact_turns_18_at_local_midnight_of_their_birthday(engine: Engine) -> None:
    # 20:00 UTC on 10 March 2026: already 11 March in Tokyo, still 10 March in Los Angeles
    now = datetime(2026, 3, 10, 20, tzinfo=UTC)
    people = {
        "tokyo": {"timezone": "Asia/Tokyo", "traits": {"birthdate": "2008-03-11"}},
        "la": {"timezone": "America/Los_Angeles", "traits": {"birthdate": "2008-03-11"}},
        "utc": {"traits": {"birthdate": "2008-03-10"}},  # no time zone: UTC, 18 today
        "unknown_zone": {"timezone": "Mars/Olympus", "traits": {"birthdate": "2008-03-11"}},
        "instant": {"traits": {"birthdate": "2008-03-10T23:30:00Z"}},  # its UTC date: 10 March
        "23_today_tokyo": {"timezone": "Asia/Tokyo", "traits": {"birthdate": "2003-03-11"}},
        "22_still_la": {"timezone": "America/Los_Angeles", "traits": {"birthdate": "2003-03-11"}},
        "none": {},
        "not_a_date": {"traits": {"birthdate": "soon"}},
    }
    ws, names = populate(engine, now, people)
    assert matching(engine, ws, names, AGE_18_TO_22, now) == {"tokyo", "utc", "instant", "22_still_la"}
    exactly_18 = {**AGE_18_TO_22, "value": [18, 18]}
    assert matching(engine, ws, names, exactly_18, now) == {"tokyo", "utc", "instant"}
    # the Python meaning agrees
    assert age_between(datetime(2008, 3, 11).date(), "Asia/Tokyo", 18, 22, now)
    assert not age_between(datetime(2008, 3, 11).date(), "America/Los_Angeles", 18, 22, now)
    # at 08:00 UTC on 11 March it is 11 March in Los Angeles too (01:00 PDT)
    later = datetime(2026, 3, 11, 8, tzinfo=UTC)
    assert matching(engine, ws, names, AGE_18_TO_22, later) == {
        "tokyo",
        "la",
        "utc",
        "unknown_zone",
        "instant",
    }


def test_a_29_february_birthday_counts_on_28_february(engine: Engine) -> None:
    ws, names = populate(engine, NOW, {"leapling": {"traits": {"birthdate": "2008-02-29"}}})
    exactly_18 = {**AGE_18_TO_22, "value": [18, 18]}
    assert matching(engine, ws, names, exactly_18, datetime(2026, 2, 27, 12, tzinfo=UTC)) == set()
    assert matching(engine, ws, names, exactly_18, datetime(2026, 2, 28, 0, 0, tzinfo=UTC)) == {"leapling"}


# --- live membership follows the clock ------------------------------------------------------


def members(engine: Engine, segment_id: int) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(contact.c.external_id)
            .join(segment_membership, segment_membership.c.contact_id == contact.c.id)
            .where(segment_membership.c.segment_id == segment_id)
        )
        return set(rows.scalars())


def add(engine: Engine, ws: int, clock: FixedClock, name: str, **traits: Any) -> None:
    message = parse_message({"type": "identify", "userId": name, "traits": traits}, None, clock.now())
    with engine.begin() as conn:
        ingest(conn, ws, [message], clock.now())


def test_contacts_enter_and_leave_as_time_passes(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    worker = Worker(engine, clock)
    ws, now = workspace.id, clock.now()
    with engine.begin() as conn:
        create_attribute(conn, clock, ws, name="last_login", type="datetime")
        create_attribute(conn, clock, ws, name="birthdate", type="datetime")
    add(engine, ws, clock, "ann", last_login=iso(now - timedelta(days=2)))
    add(engine, ws, clock, "bob", last_login=iso(now - timedelta(days=20)))
    turns_18 = (now + timedelta(days=3)).date().replace(year=now.year - 18)
    add(engine, ws, clock, "cat", birthdate=turns_18.isoformat())
    with engine.begin() as conn:
        dormant = create_segment(
            conn,
            ws,
            now,
            name="dormant",
            definition={
                "root": {
                    "type": "attribute",
                    "attribute": "last_login",
                    "operator": "more_than_ago",
                    "value": dur(1, "weeks"),
                }
            },
        )
        recent = create_segment(
            conn,
            ws,
            now,
            name="recent",
            definition={
                "root": {
                    "type": "attribute",
                    "attribute": "last_login",
                    "operator": "between_ago",
                    "value": [dur(1), dur(3)],
                }
            },
        )
        adults = create_segment(conn, ws, now, name="18-22", definition={"root": AGE_18_TO_22})
    assert dormant["time_dependent"] and recent["time_dependent"] and adults["time_dependent"]
    worker.run_once()
    assert (members(engine, dormant["id"]), members(engine, recent["id"])) == ({"bob"}, {"ann"})
    assert members(engine, adults["id"]) == set()

    clock.advance(timedelta(days=2))  # Ann's login is now 4 days old: out of "1 to 3 days ago"
    worker.run_once()
    assert (members(engine, dormant["id"]), members(engine, recent["id"])) == ({"bob"}, set())

    clock.advance(timedelta(days=1, hours=1))  # Cat's 18th birthday (UTC); Ann's login 5 days old
    worker.run_once()
    assert members(engine, adults["id"]) == {"cat"}
    assert members(engine, dormant["id"]) == {"bob"}

    clock.advance(timedelta(days=3))  # Ann's login: 8 days old
    worker.run_once()
    assert members(engine, dormant["id"]) == {"ann", "bob"}
