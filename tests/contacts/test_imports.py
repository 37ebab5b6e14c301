"""CSV contact imports: column mapping, validation per row, merging and re-imports."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from kairos.clock import FixedClock, SystemClock
from kairos.contacts.attributes import create_attribute
from kairos.contacts.imports import import_contacts_csv
from kairos.contacts.service import upsert_contact
from kairos.contacts.tables import contact, contact_change, identity
from kairos.contacts.tags import tags_of
from kairos.errors import InvalidInput, NotFound
from kairos.workspaces.service import CreatedWorkspace, create_workspace
from tests.conftest import T0


def csv_file(tmp_path: Path, text: str, name: str = "contacts.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def live(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(contact).where(contact.c.merged_into.is_(None)).order_by(contact.c.id)
        ).all()
        tags = tags_of(conn, [r.id for r in rows])
    return [{**r._mapping, "tags": tags[r.id]} for r in rows]


def identities(engine: Engine) -> set[tuple[str, str, int]]:
    with engine.connect() as conn:
        return {
            tuple(r) for r in conn.execute(select(identity.c.kind, identity.c.value, identity.c.contact_id))
        }  # type: ignore[misc]


def run(
    engine: Engine, ws: CreatedWorkspace, path: Path, clock: FixedClock, **kw: Any
) -> tuple[int, list[tuple[int, str]]]:
    report = import_contacts_csv(engine, ws.id, path, clock=clock, **kw)
    assert report.duplicates == 0
    return report.accepted, report.rejected


# --- mapping -----------------------------------------------------------------------------


def test_header_names_map_to_fields_and_other_columns_become_traits(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        "userId,Email,firstName,Last_Name,timezone,LOCALE,Plan,Signup Source\n"
        "u-1, Ann@Example.COM ,Ann,Lee,Europe/Berlin,de-DE,pro,google ads\n",
    )
    assert run(engine, workspace, path, clock) == (1, [])
    [c] = live(engine)
    assert (c["external_id"], c["email"], c["first_name"], c["last_name"]) == (
        "u-1",
        "ann@example.com",
        "Ann",
        "Lee",
    )
    assert (c["timezone"], c["locale"]) == ("Europe/Berlin", "de-DE")
    assert c["traits"] == {"Plan": "pro", "Signup Source": "google ads"}
    assert identities(engine) == {("user_id", "u-1", c["id"]), ("email", "ann@example.com", c["id"])}


def test_map_entries_rename_skip_and_name_traits(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        "Mail,Customer No,Plan,Internal notes,email\n"
        "ann@example.com,C-7,gold,do not call,ignored@example.com\n",
    )
    accepted, rejected = run(
        engine,
        workspace,
        path,
        clock,
        mapping=["Mail=email", "customer no=external_id", "Plan=traits.tier", "Internal notes=-", "email=-"],
    )
    assert (accepted, rejected) == (1, [])
    [c] = live(engine)
    assert (c["email"], c["external_id"], c["traits"]) == ("ann@example.com", "C-7", {"tier": "gold"})


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (["Mail=emial"], "unknown field 'emial'"),
        (["Nope=email"], "column 'Nope', which is not in the header"),
        (["Mail"], "must look like column=field"),
        (["Mail=traits."], "name the trait"),
        (["Mail=email", "Mail=phone"], "mapped twice"),
        (["Name=email"], "both map to email"),
    ],
)
def test_a_bad_map_entry_is_refused_before_any_row_is_read(
    engine: Engine,
    workspace: CreatedWorkspace,
    clock: FixedClock,
    tmp_path: Path,
    mapping: list[str],
    message: str,
) -> None:
    path = csv_file(tmp_path, "Mail,Name,email\nann@example.com,Ann,a@example.com\n")
    with pytest.raises(InvalidInput, match=message):
        import_contacts_csv(engine, workspace.id, path, mapping=mapping, clock=clock)
    assert live(engine) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no header row"),
        ("\n\n", "no header row"),
        ("ann@example.com,Ann\nbob@example.com,Bob\n", "no column holds an external_id, email or phone"),
        ("email,email\na@example.com,b@example.com\n", "names column 'email' twice"),
        ("id,email\n7,a@example.com\n", "column 'id' is a built-in contact field"),
    ],
)
def test_a_file_that_cannot_be_read_as_a_whole_imports_nothing(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        import_contacts_csv(engine, workspace.id, csv_file(tmp_path, text), clock=clock)
    assert live(engine) == []


def test_a_file_that_is_not_utf8_is_refused_naming_the_line(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    text = "email,first_name\nann@example.com,Ann\nbob@example.com,Renée\n"
    with pytest.raises(InvalidInput, match=r"not UTF-8 text: line 3 has the byte 0xE9") as info:
        import_contacts_csv(engine, workspace.id, csv_file(tmp_path, text, encoding="latin-1"), clock=clock)
    assert info.value.code == "invalid_encoding"
    with pytest.raises(InvalidInput, match="UTF-16"):
        import_contacts_csv(engine, workspace.id, csv_file(tmp_path, text, encoding="utf-16"), clock=clock)
    assert live(engine) == []


def test_unknown_workspace(engine: Engine, clock: FixedClock, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        import_contacts_csv(engine, 999, csv_file(tmp_path, "email\na@example.com\n"), clock=clock)


def test_spreadsheet_exports_with_bom_semicolons_and_trailing_columns(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, "\ufeffemail;first_name;\nann@example.com;Ann;\nbob@example.com;Bob\n")
    assert run(engine, workspace, path, clock) == (2, [])
    assert [(c["email"], c["first_name"], c["traits"]) for c in live(engine)] == [
        ("ann@example.com", "Ann", {}),
        ("bob@example.com", "Bob", {}),
    ]


# --- rows --------------------------------------------------------------------------------


def test_bad_rows_are_rejected_with_their_line_numbers_and_good_rows_land(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        ws = create_workspace(conn, SystemClock(), "US shop", default_country="US")
    path = csv_file(
        tmp_path,
        "email,phone,first_name,timezone\n"
        "ann@example.com,,Ann,\n"  # 2
        "not-an-email,,Bob,\n"  # 3
        ",12,Cy,\n"  # 4
        ",,Dee,\n"  # 5: nothing to match on
        "\n"  # 6: blank
        "eve@example.com,(415) 555-2671,Eve,Mars/Olympus\n"  # 7
        '"fay@example.com","(415) 555-2672","Fay\n'
        'Marie",America/New_York\n'  # 8-9: a quoted cell spans two lines
        "gus@example.com,,Gus,,extra\n"  # 10
        "hal@example.com,+44 20 7946 0958,Hal,,\n",  # 11: an empty extra cell is fine
    )
    accepted, rejected = run(engine, ws, path, clock)
    assert accepted == 3
    assert [line for line, _ in rejected] == [3, 4, 5, 7, 10]
    reasons = dict(rejected)
    assert "'not-an-email' is not a valid email address" in reasons[3]
    assert "'12' is not a valid phone number" in reasons[4]
    assert reasons[5] == "a contact needs an external_id, email or phone to be matched on"
    assert "'Mars/Olympus' is not an IANA time zone name" in reasons[7]
    assert reasons[10] == "the row has 5 columns but the header has 4"
    assert [(c["email"], c["phone"], c["first_name"]) for c in live(engine)] == [
        ("ann@example.com", None, "Ann"),
        ("fay@example.com", "+14155552672", "Fay\nMarie"),
        ("hal@example.com", "+442079460958", "Hal"),
    ]


def test_line_numbers_hold_for_windows_line_endings(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, 'email,note\r\nann@example.com,"two\r\nlines"\r\n\r\nnope,x\r\n')
    assert run(engine, workspace, path, clock) == (
        1,
        [(5, "'nope' is not a valid email address: An email address must have an @-sign.")],
    )
    [c] = live(engine)
    assert c["traits"] == {"note": "two\r\nlines"}


def test_rows_with_a_nul_character_are_rejected(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, "email,first_name\nann@example.com,Ann\nbob@example.com,B\x00b\n")
    assert run(engine, workspace, path, clock) == (1, [(3, "the row contains a NUL character")])


def test_tags_are_split_on_semicolons_and_commas(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        "email,tags\n"
        "ann@example.com,vip; beta\n"
        'bob@example.com,"newsletter, vip,"\n'
        "cy@example.com,\n"
        "dee@example.com,ok;bad<tag>\n",
    )
    accepted, rejected = run(engine, workspace, path, clock)
    assert accepted == 3
    assert rejected == [(5, "tag 'bad<tag>' must be 1 to 100 letters, digits, spaces or - _ . :")]
    assert [(c["email"], c["tags"]) for c in live(engine)] == [
        ("ann@example.com", ["beta", "vip"]),
        ("bob@example.com", ["newsletter", "vip"]),
        ("cy@example.com", []),
    ]


def test_typed_attributes_are_coerced_and_misfits_rejected(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        for name, kind in [
            ("age", "number"),
            ("vip", "boolean"),
            ("signup", "datetime"),
            ("ratio", "number"),
        ]:
            create_attribute(conn, clock, workspace.id, name=name, type=kind)
    path = csv_file(
        tmp_path,
        "email,age,vip,signup,ratio,city\n"
        "ann@example.com,42,TRUE,2025-01-05,0.5,Berlin\n"
        "bob@example.com,old,false,,,\n"
        "cy@example.com,,yes,,,\n"
        "dee@example.com,7,,2025-01-05T10:00:00+02:00,,\n",
    )
    accepted, rejected = run(engine, workspace, path, clock)
    assert accepted == 2
    assert rejected == [
        (3, "trait 'age' must be a number, got 'old'"),
        (4, "trait 'vip' must be a boolean, got 'yes'"),
    ]
    assert [c["traits"] for c in live(engine)] == [
        {"age": 42, "vip": True, "signup": "2025-01-05", "ratio": 0.5, "city": "Berlin"},
        {"age": 7, "signup": "2025-01-05T08:00:00Z"},
    ]


@pytest.mark.parametrize("batch_size", [1, 2, 5000])
def test_rows_sharing_an_email_or_external_id_end_up_on_one_contact(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path, batch_size: int
) -> None:
    path = csv_file(
        tmp_path,
        "external_id,email,first_name,last_name,plan\n"
        "u-1,ann@example.com,Ann,,free\n"
        ",ANN@example.com,,Lee,\n"
        "u-1,,Anna,,pro\n"
        "u-2,bob@example.com,Bob,,\n",
    )
    assert run(engine, workspace, path, clock, batch_size=batch_size) == (4, [])
    ann, bob = live(engine)
    assert (ann["external_id"], ann["email"], ann["first_name"], ann["last_name"]) == (
        "u-1",
        "ann@example.com",
        "Anna",
        "Lee",
    )
    assert ann["traits"] == {"plan": "pro"}
    assert (bob["external_id"], bob["email"]) == ("u-2", "bob@example.com")
    with engine.connect() as conn:
        changed = set(conn.execute(select(contact_change.c.contact_id)).scalars())
    assert changed == {ann["id"], bob["id"]}


def test_reimport_updates_contacts_instead_of_duplicating_them(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    first = csv_file(
        tmp_path,
        "external_id,email,first_name,last_name,plan,tags\nu-1,ann@example.com,Ann,Lee,free,vip\n",
        "first.csv",
    )
    assert run(engine, workspace, first, clock) == (1, [])
    [before] = live(engine)

    clock.advance(timedelta(hours=1))
    second = csv_file(
        tmp_path,
        "external_id,email,first_name,last_name,plan,tags\n"
        "u-1,ann@example.com,Annie,,pro,beta\n"  # an empty cell keeps the stored value
        "u-3,cy@example.com,Cy,,,\n",
        "second.csv",
    )
    assert run(engine, workspace, second, clock) == (2, [])
    after, cy = live(engine)
    assert after["id"] == before["id"] and cy["email"] == "cy@example.com"
    assert (after["first_name"], after["last_name"], after["traits"]) == ("Annie", "Lee", {"plan": "pro"})
    assert after["tags"] == ["beta", "vip"]
    assert after["created_at"] == T0 and after["updated_at"] == T0 + timedelta(hours=1)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(contact)).scalar() == 2


def test_existing_contacts_are_matched_by_email_and_learn_their_external_id(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        existing, _ = upsert_contact(conn, workspace.id, {"email": "ann@example.com", "first_name": "A"}, T0)
    path = csv_file(tmp_path, "user_id,email,lastName\nu-1,Ann@Example.com,Lee\n")
    assert run(engine, workspace, path, clock) == (1, [])
    [c] = live(engine)
    assert (c["id"], c["external_id"], c["first_name"], c["last_name"]) == (existing["id"], "u-1", "A", "Lee")


def test_imports_stay_in_their_workspace(
    engine: Engine,
    workspace: CreatedWorkspace,
    other_workspace: CreatedWorkspace,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    path = csv_file(tmp_path, "email\nann@example.com\n")
    run(engine, workspace, path, clock)
    run(engine, other_workspace, path, clock)
    assert sorted(c["workspace_id"] for c in live(engine)) == sorted([workspace.id, other_workspace.id])


def test_progress_reports_every_byte_once(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, tmp_path: Path
) -> None:
    rows = "".join(f"user{i}@example.com,{i}\n" for i in range(2500))
    path = csv_file(tmp_path, "email,n\n" + rows)
    advances: list[int] = []
    report = import_contacts_csv(
        engine, workspace.id, path, progress=advances.append, batch_size=1000, clock=clock
    )
    assert report.accepted == 2500
    assert len(advances) == 3 and sum(advances) == path.stat().st_size


# --- parsing in worker processes -----------------------------------------------------------


@pytest.mark.parametrize("workers", [0, 1])
def test_parsing_in_chunks_and_worker_processes_keeps_file_order_and_line_numbers(
    engine: Engine, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    # chunks of 2 rows, batches of 3: rows, rejections and batches all straddle chunk edges
    monkeypatch.setattr("kairos.contacts.imports.CHUNK_ROWS", 2)
    with engine.begin() as conn:
        ws = create_workspace(conn, SystemClock(), "US shop", default_country="US")
    path = csv_file(
        tmp_path,
        "email,phone,first_name,timezone\n"
        "ann@example.com,+14155552671,Ann,\n"  # 2
        "not-an-email,,Bob,\n"  # 3
        ",12,Cy,\n"  # 4
        "\n"  # 5: blank
        '"fay@example.com","(415) 555-2672","Fay\n'
        'Marie",America/New_York\n'  # 6-7: a quoted cell spans two lines
        "ann@example.com,,Annie,\n"  # 8: the same person again, later row wins
        "gus@example.com,,Gus,,extra\n"  # 9
        "hal@example.com,+44 20 7946 0958,Hal,\n"  # 10
        "ivy@example.com,+442079460959,Ivy,Mars/Olympus\n",  # 11
    )
    accepted, rejected = run(engine, ws, path, clock, workers=workers, batch_size=3)
    assert accepted == 4
    assert [line for line, _ in rejected] == [3, 4, 9, 11]
    assert "'12' is not a valid phone number" in dict(rejected)[4]
    assert [(c["email"], c["phone"], c["first_name"]) for c in live(engine)] == [
        ("ann@example.com", "+14155552671", "Annie"),
        ("fay@example.com", "+14155552672", "Fay\nMarie"),
        ("hal@example.com", "+442079460958", "Hal"),
    ]
