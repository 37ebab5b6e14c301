"""Static lists by CSV: import members from a file, export any segment's members to one.

**Import** names existing contacts; it never creates one (that is ``contacts/imports.py``).
The file is read whole and checked before anything is written: UTF-8, a header row naming
at least one identifier column. Each row is then matched on the first identifier column, in
the order ``id``, ``external_id``, ``email``, ``phone``, whose cell is not empty; a row whose
identifier names no contact (or cannot be read) is rejected with its line number and never
stops the import. Contacts are looked up set-based, one query per identifier kind and chunk
of values, and added with ``membership.add_members``, all in one transaction.

**Export** writes every member in id order, a page of ``EXPORT_PAGE`` rows per short read
(keyset pagination on the contact id, so no connection stays open while a slow client
downloads), with cells that a spreadsheet would run as a formula escaped (OWASP "CSV
injection").
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from kairos.clock import isoformat_z
from kairos.contacts.fields import normalize_email, normalize_phone
from kairos.contacts.tables import contact, identity
from kairos.db.dialect import chunks
from kairos.db.engine import reading
from kairos.errors import InvalidInput
from kairos.imports import in_transaction
from kairos.segments.membership import add_members
from kairos.segments.service import static_list
from kairos.segments.tables import segment_membership

#: Largest CSV body the import accepts.
MAX_IMPORT_BYTES = 50 * 1024 * 1024

#: Rejected rows listed in the answer; the rest are counted in ``rejected_count``.
SHOWN_REJECTS = 100

#: Identifier kinds in order of precedence, and the header names (lower-case) that mean them.
KINDS = ("id", "external_id", "email", "phone")
HEADER_NAMES = {
    "id": "id",
    "contact_id": "id",
    "external_id": "external_id",
    "user_id": "external_id",
    "userid": "external_id",
    "email": "email",
    "phone": "phone",
}

#: The identity kind each identifier is looked up under (``id`` is the contact row itself).
IDENTITY_KINDS = {"external_id": "user_id", "email": "email", "phone": "phone"}

EXPORT_COLUMNS = ("id", "external_id", "email", "phone", "first_name", "last_name", "entered_at")
EXPORT_PAGE = 5000

#: First characters that make a spreadsheet treat a cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_CONTACT_ID = re.compile(r"[0-9]{1,18}")
_SHOWN_VALUE = 100
_FIRST_LINE = re.compile(r"[^\r\n]*")


@dataclass(slots=True)
class ParsedList:
    """A CSV read and checked, not yet matched to contacts."""

    rows: list[tuple[int, str, Any]] = field(default_factory=list)  # (line, kind, normalised value)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


# --- import ------------------------------------------------------------------------------


def import_list_csv(
    engine: Engine,
    workspace_id: int,
    segment_id: int,
    data: bytes,
    now: datetime,
    *,
    default_country: str | None = None,
) -> dict[str, Any]:
    """Add the contacts a CSV names to a static list, in one transaction.

    Answers ``{added, already_members, rejected: [{line, reason}] (the first SHOWN_REJECTS),
    rejected_count}``; the two counts are of distinct contacts."""
    parsed = parse_list_csv(data, default_country)

    def work(conn: Connection) -> dict[str, Any]:
        return add_parsed(conn, static_list(conn, workspace_id, segment_id), parsed, now)

    return in_transaction(engine, work)


def parse_list_csv(data: bytes, default_country: str | None = None) -> ParsedList:
    """Read the file: whole-file problems raise ``InvalidInput``; row problems are rejects."""
    reader, plan, header_lines = _open(_decode(data))
    parsed = ParsedList()
    end = header_lines  # line numbers are physical lines of the file; the header ends here
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.rejected.append((end + 1, f"cannot parse the row as CSV: {exc}"))
            end = reader.line_num
            continue
        line, end = end + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        found = _identifier(row, plan)
        if found is None:
            named = ", ".join(kind for kind, _ in plan)
            parsed.rejected.append((line, f"the row names no contact: its {named} cells are empty"))
            continue
        kind, cell = found
        try:
            value = _normalise(kind, cell, default_country)
        except InvalidInput as exc:
            parsed.rejected.append((line, exc.message))
            continue
        parsed.rows.append((line, kind, value))
    return parsed


def add_parsed(conn: Connection, seg: Any, parsed: ParsedList, now: datetime) -> dict[str, Any]:
    """Match the rows to live contacts of the list's workspace and add them to the list."""
    found = _lookup(conn, seg.workspace_id, parsed.rows)
    contact_ids: list[int] = []
    rejected = list(parsed.rejected)
    for line, kind, value in parsed.rows:
        cid = found.get((kind, value))
        if cid is None:
            rejected.append((line, f"no contact with {kind} {_show(str(value))}"))
        else:
            contact_ids.append(cid)
    entered = add_members(conn, seg, contact_ids, now)
    rejected.sort()
    return {
        "added": len(entered),
        "already_members": len(set(contact_ids)) - len(entered),
        "rejected": [{"line": line, "reason": reason} for line, reason in rejected[:SHOWN_REJECTS]],
        "rejected_count": len(rejected),
    }


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InvalidInput(
            "the CSV is UTF-16 text; send it as UTF-8 (in Excel: 'CSV UTF-8')", code="invalid_encoding"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidInput(
            f"the CSV is not UTF-8 text: line {line} has the byte 0x{data[exc.start]:02X}; nothing "
            "was imported. Send it as UTF-8 (in Excel: 'CSV UTF-8')",
            code="invalid_encoding",
        ) from None


def _open(text: str) -> tuple[Any, list[tuple[str, int]], int]:
    """The row reader, the identifier columns in order of precedence, the header's last line."""
    match = _FIRST_LINE.match(text)
    first_line = match.group() if match else ""
    if not first_line.strip():
        raise InvalidInput(
            "the CSV has no header row: the first line must name the columns, "
            f"with at least one of {_accepted()}",
            code="invalid_csv",
        )
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise InvalidInput(f"cannot read the header row as CSV: {exc}", code="invalid_csv") from None
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        kind = HEADER_NAMES.get(name.strip().lower())
        if kind is None:
            continue  # other columns (names, traits…) are ignored: an export imports back
        if kind in columns:
            raise InvalidInput(
                f"columns {header[columns[kind]].strip()!r} and {name.strip()!r} both name the {kind}",
                code="invalid_csv",
            )
        columns[kind] = index
    if not columns:
        shown = ", ".join(repr(_show(n.strip())) for n in header[:20]) + (", …" if len(header) > 20 else "")
        raise InvalidInput(
            f"no column identifies a contact (columns: {shown}); the header row must name at "
            f"least one of {_accepted()}",
            code="invalid_csv",
        )
    return reader, [(kind, columns[kind]) for kind in KINDS if kind in columns], reader.line_num


def _accepted() -> str:
    return "id (or contact_id), external_id (or user_id), email, phone"


def _delimiter(header_line: str) -> str:
    """Comma, unless the header is plainly semicolon- or tab-separated (spreadsheet exports)."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _identifier(row: list[str], plan: list[tuple[str, int]]) -> tuple[str, str] | None:
    """The first non-empty identifier cell of the row, in order of precedence."""
    for kind, index in plan:
        cell = _unescape(row[index]).strip() if index < len(row) else ""
        if cell:
            return kind, cell
    return None


def _normalise(kind: str, cell: str, default_country: str | None) -> Any:
    if "\x00" in cell:
        raise InvalidInput(f"the {kind} contains a NUL character")
    if kind == "id":
        if not _CONTACT_ID.fullmatch(cell):
            raise InvalidInput(f"id {_show(cell)!r} is not a contact id")
        return int(cell)
    if kind == "email":
        return normalize_email(cell)
    if kind == "phone":
        return normalize_phone(cell, default_country)
    return cell


def _lookup(
    conn: Connection, workspace_id: int, rows: Sequence[tuple[int, str, Any]]
) -> dict[tuple[str, Any], int]:
    """(kind, value) → the live contact it names, a few set-based queries in all."""
    wanted: dict[str, dict[Any, None]] = {kind: {} for kind in KINDS}
    for _, kind, value in rows:
        wanted[kind][value] = None
    live = func.coalesce(contact.c.merged_into, contact.c.id)
    found: dict[tuple[str, Any], int] = {}
    for part in chunks(wanted["id"]):
        stmt = select(contact.c.id, live).where(
            contact.c.workspace_id == workspace_id, contact.c.id.in_(part)
        )
        found.update((("id", key), int(cid)) for key, cid in conn.execute(stmt))
    for kind, identity_kind in IDENTITY_KINDS.items():
        for part in chunks(wanted[kind]):
            stmt = (
                select(identity.c.value, live)
                .join(contact, contact.c.id == identity.c.contact_id)
                .where(
                    identity.c.workspace_id == workspace_id,
                    identity.c.kind == identity_kind,
                    identity.c.value.in_(part),
                )
            )
            found.update(((kind, key), int(cid)) for key, cid in conn.execute(stmt))
    return found


def _unescape(cell: str) -> str:
    """Undo the export's formula escaping, so an exported file imports back."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_TRIGGERS:
        return cell[1:]
    return cell


def _show(value: str) -> str:
    return value if len(value) <= _SHOWN_VALUE else value[:_SHOWN_VALUE] + "…"


# --- export ------------------------------------------------------------------------------


def export_members_csv(
    engine: Engine, workspace_id: int, segment_id: int, *, page_size: int | None = None
) -> Iterator[bytes]:
    """The members as UTF-8 CSV, header first, in id order; one short read per page.

    Each page is a consistent read of its own, and keyset pagination on the contact id means
    no one appears twice and every contact that stays a member throughout appears once; a
    contact that enters or leaves while the export runs may or may not be in it. Check that
    the segment exists before streaming: a missing one gives just the header."""
    page_size = page_size or EXPORT_PAGE
    yield _csv_bytes([EXPORT_COLUMNS])
    after = 0
    while True:
        with reading(engine) as conn:
            rows = conn.execute(
                select(
                    contact.c.id,
                    contact.c.external_id,
                    contact.c.email,
                    contact.c.phone,
                    contact.c.first_name,
                    contact.c.last_name,
                    segment_membership.c.entered_at,
                )
                .join(segment_membership, segment_membership.c.contact_id == contact.c.id)
                .where(
                    segment_membership.c.segment_id == segment_id,
                    segment_membership.c.workspace_id == workspace_id,
                    contact.c.id > after,
                )
                .order_by(contact.c.id)
                .limit(page_size)
            ).all()
        if not rows:
            return
        yield _csv_bytes(
            [str(r.id), *(escape_cell(v or "") for v in r[1:6]), isoformat_z(r.entered_at) or ""]
            for r in rows
        )
        if len(rows) < page_size:
            return
        after = rows[-1].id


def escape_cell(value: str) -> str:
    """OWASP CSV-injection defence: a cell starting with ``= + - @``, tab or CR gets a leading
    ``'`` so a spreadsheet shows it as text instead of running it. Plain numbers (``+4415…``,
    ``-3``) are left alone: no spreadsheet runs them, and E.164 phone numbers stay intact."""
    if value.startswith(FORMULA_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _csv_bytes(rows: Any) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")
