"""JSON Lines event imports: the HTTP pipeline's rules, one line at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select

from kairos.clock import FixedClock, SystemClock
from kairos.contacts.attributes import create_attribute
from kairos.contacts.tables import contact, contact_change, identity
from kairos.errors import InvalidInput, NotFound
from kairos.events.imports import import_events_jsonl
from kairos.events.tables import event
from kairos.workspaces.service import CreatedWorkspace, create_workspace
from tests.conftest import T0


def jsonl(tmp_path: Path, *lines: dict[str, Any] | str, name: str = "events.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(
        b"".join((line.encode() if isinstance(line, str) else orjson.dumps(line)) + b"\n" for line in lines)
    )
    return path


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def live(engine: Engine) -> Sequence[Any]:
    with engine.connect() as conn:
        return conn.execute(
            select(contact).where(contact.c.merged_into.is_(None)).order_by(contact.c.id)
        ).all()


def events(engine: Engine) -> Sequence[Any]:
    with engine.connect() as conn:
        return conn.execute(select(event).order_by(event.c.id)).all()


def track(n: int, name: str = "Order Completed", **extra: Any) -> dict[str, Any]:
    return {"type": "track", "event": name, "messageId": f"m-{n}", **extra}


def test_import_creates_contacts_and_events_with_exact_counts(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = jsonl(
        tmp_path,
        {
            "type": "identify",
            "userId": "u-1",
            "messageId": "i-1",
            "traits": {"email": "Ann@Example.com", "firstName": "Ann", "plan": "pro"},
        },
        track(1, userId="u-1", properties={"revenue": 12.5}),
        track(2, userId="u-2"),
        {"type": "page", "anonymousId": "a-9", "name": "Home", "messageId": "p-1"},
        {"type": "screen", "userId": "u-2", "name": "Cart", "messageId": "s-1"},
        {"type": "group", "userId": "u-1", "groupId": "acme", "messageId": "g-1"},
    )
    report = import_events_jsonl(engine, workspace.id, path, clock=clock)
    assert (report.accepted, report.duplicates, report.rejected) == (6, 0, [])
    assert count(engine, event) == 6
    u1, u2, anon = live(engine)
    assert (u1.external_id, u1.email, u1.first_name, u1.traits) == (
        "u-1",
        "ann@example.com",
        "Ann",
        {"plan": "pro"},
    )
    assert (u2.external_id, anon.external_id) == ("u-2", None)
    assert count(engine, event, event.c.contact_id == u1.id) == 3
    assert count(engine, event, event.c.contact_id == u2.id) == 2
    assert count(engine, contact_change) == 3
    [order] = [e for e in events(engine) if e.message_id == "m-1"]
    assert (order.type, order.name, order.properties) == ("track", "Order Completed", {"revenue": 12.5})


def test_reimporting_the_same_file_stores_nothing_new(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = jsonl(
        tmp_path,
        track(1, userId="u-1"),
        track(2, userId="u-1"),
        {"type": "track", "event": "No id", "userId": "u-2", "timestamp": "2026-03-01T10:00:00Z"},
        {"type": "identify", "userId": "u-2", "traits": {"plan": "free"}},
    )
    first = import_events_jsonl(engine, workspace.id, path, clock=clock)
    assert (first.accepted, first.duplicates) == (4, 0)
    clock.advance(timedelta(days=1))
    second = import_events_jsonl(engine, workspace.id, path, clock=clock, batch_size=3)
    assert (second.accepted, second.duplicates, second.rejected) == (0, 4, [])
    assert count(engine, event) == 4 and count(engine, contact) == 2


def test_repeated_message_ids_within_a_file_are_duplicates(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = jsonl(
        tmp_path,
        track(1, userId="u-1"),
        track(1, userId="u-1"),
        track(2, userId="u-1"),
        track(1, userId="u-1"),
    )
    report = import_events_jsonl(engine, workspace.id, path, clock=clock, batch_size=2)
    assert (report.accepted, report.duplicates, report.rejected) == (2, 2, [])
    assert count(engine, event) == 2


@pytest.mark.parametrize("batch_size", [1, 5000])
def test_anonymous_history_joins_the_known_contact_across_lines(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path, batch_size: int
) -> None:
    path = jsonl(
        tmp_path,
        {"type": "page", "anonymousId": "anon-1", "name": "Pricing", "messageId": "p-1"},
        track(1, "Signup Started", anonymousId="anon-1"),
        track(2, "Newsletter", userId="u-7"),  # a known contact from before the visitor identifies
        {
            "type": "identify",
            "userId": "u-7",
            "anonymousId": "anon-1",
            "traits": {"email": "dee@example.com"},
            "messageId": "i-1",
        },
        track(3, "Signup Completed", userId="u-7"),
    )
    report = import_events_jsonl(engine, workspace.id, path, clock=clock, batch_size=batch_size)
    assert (report.accepted, report.rejected) == (5, [])
    [known] = live(engine)
    assert (known.external_id, known.email) == ("u-7", "dee@example.com")
    assert {e.contact_id for e in events(engine)} == {known.id}
    with engine.connect() as conn:
        ids = set(conn.execute(select(identity.c.kind, identity.c.value, identity.c.contact_id)).all())
    assert ids == {
        ("anonymous_id", "anon-1", known.id),
        ("user_id", "u-7", known.id),
        ("email", "dee@example.com", known.id),
    }


def test_invalid_lines_are_rejected_with_their_numbers_and_the_rest_imported(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = jsonl(
        tmp_path,
        track(1, userId="u-1"),  # 1
        '{"type": "track", "event": "Broken"',  # 2
        {"event": "No type", "userId": "u-1"},  # 3
        "[1, 2]",  # 4
        {"type": "track", "userId": "u-1"},  # 5: no event name
        "",  # 6: blank lines are skipped
        "   ",  # 7
        {"type": "identify", "userId": "u-1", "traits": {"email": "nope"}},  # 8
        {"type": "track", "event": "Anon"},  # 9: nobody
        track(10, userId="u-1", timestamp="yesterday"),  # 10
        track(11, userId="u-1", properties={"note": "a\u0000b"}),  # 11
        track(12, messageId="x" * 256, userId="u-1"),  # 12
        track(13, userId="u-1"),  # 13
    )
    report = import_events_jsonl(engine, workspace.id, path, clock=clock)
    assert report.accepted == 2 and report.duplicates == 0
    assert [line for line, _ in report.rejected] == [2, 3, 4, 5, 8, 9, 10, 11, 12]
    reasons = dict(report.rejected)
    assert reasons[2].startswith("line 2 is not valid JSON")
    assert reasons[3].startswith("line 3.type must be one of alias, group, identify, page, screen, track")
    assert reasons[4] == "line 4 must be a JSON object (one Segment message)"
    assert reasons[5] == "line 5: a track call needs an 'event' name"
    assert reasons[8].startswith("line 8.traits: 'nope' is not a valid email address")
    assert reasons[9] == "line 9 needs a userId or an anonymousId"
    assert reasons[10].startswith("line 10.timestamp: cannot parse 'yesterday'")
    assert "NUL" in reasons[11]
    assert reasons[12] == "line 12.messageId is longer than 255 characters"
    assert [e.message_id for e in events(engine)] == ["m-1", "m-13"]


def test_typed_traits_are_checked_line_by_line(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        create_attribute(conn, clock, workspace.id, name="age", type="number")
    path = jsonl(
        tmp_path,
        {"type": "identify", "userId": "u-1", "traits": {"age": "42"}, "messageId": "i-1"},
        {"type": "identify", "userId": "u-2", "traits": {"age": "old"}, "messageId": "i-2"},
        {"type": "identify", "userId": "u-3", "traits": {"age": 7.5}, "messageId": "i-3"},
    )
    report = import_events_jsonl(engine, workspace.id, path, clock=clock)
    assert report.accepted == 2
    assert report.rejected == [(2, "line 2.traits: trait 'age' must be a number, got 'old'")]
    assert [(c.external_id, c.traits) for c in live(engine)] == [("u-1", {"age": 42}), ("u-3", {"age": 7.5})]


def test_timestamps_are_kept_and_received_at_is_the_import_time(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = jsonl(
        tmp_path,
        track(1, userId="u-1", timestamp="2025-12-24T18:30:00+01:00"),
        track(2, userId="u-1"),
        track(
            3, userId="u-1", originalTimestamp="2026-03-02T11:00:00Z", sentAt="2026-03-02T11:00:10Z"
        ),  # device clock: corrected against sentAt
    )
    import_events_jsonl(engine, workspace.id, path, clock=clock)
    e1, e2, e3 = events(engine)
    assert e1.timestamp == datetime(2025, 12, 24, 17, 30, tzinfo=UTC) and e1.sent_at is None
    assert e2.timestamp == T0 and e2.original_timestamp is None
    assert e3.timestamp == T0 - timedelta(seconds=10)
    assert {e.received_at for e in (e1, e2, e3)} == {T0}


def test_phone_numbers_use_the_workspace_default_country(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        ws = create_workspace(conn, SystemClock(), "US shop", default_country="us")
    path = jsonl(tmp_path, {"type": "identify", "userId": "u-1", "traits": {"phone": "(415) 555-2671"}})
    assert import_events_jsonl(engine, ws.id, path, clock=clock).accepted == 1
    [c] = live(engine)
    assert c.phone == "+14155552671"


def test_a_byte_order_mark_is_ignored(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + orjson.dumps(track(1, userId="u-1")) + b"\r\n")
    assert import_events_jsonl(engine, workspace.id, path, clock=clock).accepted == 1


def test_a_file_that_is_not_utf8_imports_nothing(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        orjson.dumps(track(1, userId="u-1"))
        + b"\n"
        + '{"type":"track","event":"Caf\xe9"}\n'.encode("latin-1")
    )
    with pytest.raises(InvalidInput, match="not UTF-8 text: line 2"):
        import_events_jsonl(engine, workspace.id, path, clock=clock)
    assert count(engine, event) == 0


def test_unknown_workspace(engine: Engine, clock: FixedClock, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        import_events_jsonl(engine, 999, jsonl(tmp_path, track(1, userId="u-1")), clock=clock)


def test_progress_reports_every_byte_once(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = jsonl(tmp_path, *(track(i, userId=f"u-{i % 7}") for i in range(25)), "not json")
    advances: list[int] = []
    report = import_events_jsonl(
        engine, workspace.id, path, progress=advances.append, batch_size=10, clock=clock
    )
    assert report.accepted == 25 and len(report.rejected) == 1
    assert sum(advances) == path.stat().st_size and len(advances) == 3


@pytest.mark.parametrize("workers", [0, 1])
def test_parsing_in_chunks_and_worker_processes_keeps_file_order_and_line_numbers(
    engine: Engine,
    workspace: CreatedWorkspace,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    # chunks of 2 lines, batches of 3: lines, rejections and batches straddle chunk edges
    monkeypatch.setattr("kairos.events.imports.CHUNK_ROWS", 2)
    path = jsonl(
        tmp_path,
        {"type": "identify", "userId": "u-1", "messageId": "i-1", "traits": {"email": "ann@example.com"}},
        track(1, userId="u-1"),
        "{not json",  # 3
        "",  # 4: blank
        track(2, userId="u-2"),
        {"type": "track", "messageId": "m-x"},  # 6: a track needs an event name and an id
        track(1, userId="u-1"),  # 7: the same messageId again
        track(3, anonymousId="a-1"),
        [1, 2],  # 9
        track(4, userId="u-1", timestamp="2026-03-01T00:00:00Z"),
    )
    report = import_events_jsonl(engine, workspace.id, path, clock=clock, batch_size=3, workers=workers)
    assert (report.accepted, report.duplicates) == (5, 1)
    assert [line for line, _ in report.rejected] == [3, 6, 9]
    assert report.rejected[2] == (9, "line 9 must be a JSON object (one Segment message)")
    assert [e.message_id for e in events(engine)] == ["i-1", "m-1", "m-2", "m-3", "m-4"]
    [ann] = [c for c in live(engine) if c.external_id == "u-1"]
    assert ann.email == "ann@example.com"


def test_a_bulk_import_refreshes_the_planner_statistics(
    engine: Engine,
    workspace: CreatedWorkspace,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a bulk load the planner must know the tables' new sizes (a first import into an
    empty database would otherwise be queried with plans made for empty tables)."""
    monkeypatch.setattr("kairos.events.imports.ANALYZE_AFTER", 5)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE workspace")  # creates sqlite_stat1 if it is not there
            conn.exec_driver_sql("DELETE FROM sqlite_stat1")

    def known_rows() -> int:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                stat = conn.exec_driver_sql(
                    "SELECT stat FROM sqlite_stat1 WHERE tbl = 'event' AND idx = 'ix_event_contact_name_ts'"
                ).scalar()
                return -1 if stat is None else int(stat.split()[0])
            return int(
                conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'event'").scalar_one()
            )

    import_events_jsonl(
        engine, workspace.id, jsonl(tmp_path, *(track(n, userId="u") for n in range(4))), clock=clock
    )
    assert known_rows() <= 0  # 4 rows: below the threshold, nothing analysed
    import_events_jsonl(
        engine, workspace.id, jsonl(tmp_path, *(track(n, userId="u") for n in range(4, 10))), clock=clock
    )
    assert known_rows() == 10
