"""Contacts from CSV: upsert by external_id / email / phone, set-based per batch.

Columns map to contact fields by ``--map column=field`` entries, then by header name
(``email``, ``userId``, ``firstName``…), and every other column becomes a custom trait named
after its header. An empty cell means "not given": it never clears a stored value.

Each batch of rows costs a fixed number of statements whatever its size: one identity
resolution (which also ties together rows of the file that share an email or external id),
one profile write, one tag write and one change-queue write, all in one transaction. The
per-row Python work is kept to the csv module, a few dict operations and the field
validators, because at 200k rows/s every microsecond per row is a fifth of the budget.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from kairos.clock import Clock, SystemClock
from kairos.contacts.attributes import attribute_types
from kairos.contacts.fields import RESERVED_NAMES, ProfileChanges, fast_email
from kairos.contacts.identity import Claim, IdentityKey, resolve
from kairos.contacts.service import apply_profile_changes, claim_for, mark_changed, normalize_profile
from kairos.contacts.tags import add_tags, validate_tag
from kairos.db.engine import ANALYZE_AFTER, reading, refresh_statistics
from kairos.errors import InvalidInput
from kairos.imports import (
    CHUNK_ROWS,
    ImportReport,
    Progress,
    fewer_collections,
    in_transaction,
    load_workspace,
    map_in_order,
    no_progress,
    scan_text_file,
)
from kairos.workspaces.clocks import WorkspaceClock

#: Fields a column can map to (besides ``traits.NAME`` and ``-`` to skip it).
FIELDS = ("external_id", "email", "phone", "first_name", "last_name", "timezone", "locale", "tags")
IDENTIFIERS = ("external_id", "email", "phone")

#: Header names (compared lower-case) that map to a field without a --map entry.
AUTO_FIELDS = {
    **{f: f for f in FIELDS},
    "user_id": "external_id",
    "userid": "external_id",
    "firstname": "first_name",
    "lastname": "last_name",
}

#: Built-in columns an import does not set: never silently turn them into traits.
NOT_IMPORTED = frozenset(
    {
        "id",
        "anonymous_id",
        "anonymousid",
        "lifecycle_stage",
        "score",
        "created_at",
        "updated_at",
        "merged_into",
    }
)

MAX_EXTERNAL_ID = 255
_TAG_SEPARATORS = re.compile(r"[;,]")


@dataclass(slots=True)
class ColumnPlan:
    """Where each field comes from: column indexes into a row."""

    width: int
    external_id: int | None = None
    email: int | None = None
    tags: int | None = None
    fields: list[tuple[int, str]] = field(default_factory=list)  # phone, names, timezone, locale
    traits: list[tuple[int, str]] = field(default_factory=list)


@dataclass(slots=True)
class _Batch:
    claims: list[Claim] = field(default_factory=list)
    changes: list[ProfileChanges] = field(default_factory=list)
    tags: list[list[str] | None] = field(default_factory=list)

    def take(self, n: int) -> _Batch:
        """The first ``n`` rows as a batch of their own; they leave this one."""
        head = _Batch(self.claims[:n], self.changes[:n], self.tags[:n])
        del self.claims[:n], self.changes[:n], self.tags[:n]
        return head


def import_contacts_csv(
    engine: Engine,
    workspace_id: int,
    path: Path,
    *,
    mapping: Sequence[str] = (),
    progress: Progress | None = None,
    batch_size: int = 5000,
    clock: Clock | None = None,
    workers: int = 0,
) -> ImportReport:
    """``workers``: parsing processes besides this one (0: parse in this process).

    This process reads the CSV (the csv module, in C) and cuts it into chunks of rows with
    their line numbers; the workers validate and normalise the rows (phones, emails, typed
    attributes, tags) while this process resolves identities and writes the previous batch.
    Results come back in file order, so the report and the outcome are the same either way.
    """
    # a sandbox's rows are stamped with its virtual now
    clock = clock or WorkspaceClock(engine, workspace_id, SystemClock())
    progress = progress or no_progress
    ws = load_workspace(engine, workspace_id)
    has_nul = scan_text_file(path)
    with reading(engine) as conn:
        types = attribute_types(conn, workspace_id)
    country = ws.default_country

    report = ImportReport()
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        first = text.readline()
        if not first.strip():
            raise InvalidInput(
                f"{path.name} has no header row: the first line must name the columns "
                "(e.g. email,first_name,plan)",
                code="missing_header",
            )
        delimiter = _delimiter(first)
        header = next(csv.reader([first], delimiter=delimiter))
        plan = plan_columns(header, mapping)
        reader = csv.reader(text, delimiter=delimiter)
        context = _Context(plan, country, types, has_nul)
        chunk_rows = min(CHUNK_ROWS, batch_size)

        def chunks() -> Iterator[_Chunk]:
            items: list[tuple[int, list[str] | None, str | None]] = []
            end = 1  # the header is line 1; line numbers are physical lines of the file
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    items.append((end + 1, None, f"cannot parse the row as CSV: {exc}"))
                    end = reader.line_num + 1
                    continue
                line = end + 1
                end = reader.line_num + 1
                if row:  # else a blank line
                    items.append((line, row, None))
                if len(items) >= chunk_rows:
                    yield _Chunk(context, items, raw.tell())
                    items = []
            yield _Chunk(context, items, raw.tell())

        with fewer_collections():
            batch = _Batch()
            reported = 0
            for parsed in map_in_order(_parse_chunk, chunks(), workers):
                report.rejected.extend(parsed.rejected)
                for keys, user_id, fields, traits, tags in parsed.rows:
                    batch.claims.append(Claim(keys, user_id))
                    batch.changes.append(ProfileChanges(fields, traits))
                    batch.tags.append(tags)
                while len(batch.claims) >= batch_size:
                    report.accepted += _write(engine, workspace_id, batch.take(batch_size), clock)
                    if parsed.position > reported:
                        progress(parsed.position - reported)
                        reported = parsed.position
            if batch.claims:
                report.accepted += _write(engine, workspace_id, batch, clock)
            progress(raw.tell() - reported)
    if report.accepted >= ANALYZE_AFTER:
        refresh_statistics(engine, ("contact", "identity", "contact_tag"))
    return report


@dataclass(slots=True)
class _Context:
    """What a parsing worker needs besides the rows (sent with each chunk: it is small)."""

    plan: ColumnPlan
    country: str | None
    types: dict[str, str]
    has_nul: bool


@dataclass(slots=True)
class _Chunk:
    context: _Context
    items: list[tuple[int, list[str] | None, str | None]]  # (line, cells, or why unreadable)
    position: int  # bytes of the file read when the chunk was cut (for progress)


#: A parsed row as plain builtins (claim keys, user id, fields, traits, tags): unpickling
#: them costs ~2 µs a row in the importing process, the slots dataclasses ~45.
_Row = tuple[list[IdentityKey], str | None, dict[str, str | None], dict[str, Any], list[str] | None]


@dataclass(slots=True)
class _Parsed:
    rows: list[_Row]
    rejected: list[tuple[int, str]]
    position: int


def _parse_chunk(chunk: _Chunk) -> _Parsed:
    """Rows → claims and profile changes, or a rejection with the row's line number.
    Runs in a worker process (or in process for small files); touches no database."""
    ctx = chunk.context
    plan, country, types, has_nul = ctx.plan, ctx.country, ctx.types, ctx.has_nul
    width = plan.width
    ext_col, email_col, tags_col = plan.external_id, plan.email, plan.tags
    field_cols, trait_cols = plan.fields, plan.traits
    out = _Parsed([], [], chunk.position)
    rows = out.rows
    rejected = out.rejected
    for line, row, error in chunk.items:
        if row is None:
            rejected.append((line, error or "cannot parse the row as CSV"))
            continue
        if len(row) != width:
            if len(row) < width:
                row += [""] * (width - len(row))
            elif any(cell.strip() for cell in row[width:]):
                rejected.append((line, f"the row has {len(row)} columns but the header has {width}"))
                continue
        if has_nul and any("\x00" in cell for cell in row):
            rejected.append((line, "the row contains a NUL character"))
            continue
        try:
            data: dict[str, Any] = {}
            for i, name in field_cols:
                value = row[i]
                if value and not value.isspace():
                    data[name] = value
            email = None
            if email_col is not None:
                value = row[email_col].strip()
                if value:
                    email = fast_email(value)
                    if email is None:
                        data["email"] = value
            if trait_cols:
                traits = {name: row[i] for i, name in trait_cols if row[i]}
                if traits:
                    data["traits"] = traits
            changes = normalize_profile(data, country, types) if data else ProfileChanges()
            if email is not None:
                changes.fields["email"] = email
            external_id = row[ext_col].strip() if ext_col is not None else ""
            if len(external_id) > MAX_EXTERNAL_ID:
                raise InvalidInput(f"external_id is longer than {MAX_EXTERNAL_ID} characters")
            claim = claim_for(external_id, changes.fields)
            if not claim.keys:
                raise InvalidInput("a contact needs an external_id, email or phone to be matched on")
            tags = _tags(row[tags_col]) if tags_col is not None else None
        except InvalidInput as exc:
            rejected.append((line, exc.message))
            continue
        rows.append((claim.keys, claim.user_id, changes.fields, changes.traits, tags))
    return out


def plan_columns(header: list[str], mapping: Sequence[str]) -> ColumnPlan:
    """Column → field, from --map entries first, then header names. Raises on a bad mapping."""
    names = [h.strip() for h in header]
    if any("\x00" in name for name in names):
        raise InvalidInput("the header contains a NUL character", code="invalid_header")
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name and name in seen:
            raise InvalidInput(f"the header names column {name!r} twice", code="invalid_header")
        seen[name] = i

    assigned: dict[int, str] = {}
    for entry in mapping:
        column, sep, target = entry.rpartition("=")
        column, target = column.strip(), target.strip()
        if not sep or not column or not target:
            raise InvalidInput(
                f"--map {entry!r} must look like column=field (e.g. Mail=email, Plan=traits.plan, Notes=-)",
                code="invalid_mapping",
            )
        index = _find_column(names, column)
        if index in assigned:
            raise InvalidInput(f"column {column!r} is mapped twice", code="invalid_mapping")
        assigned[index] = _target(target, entry)
    for i, name in enumerate(names):
        if i in assigned or not name:
            continue  # an unnamed column (a trailing comma) carries nothing
        auto = AUTO_FIELDS.get(name.lower())
        if auto is not None:
            assigned[i] = auto
        elif name.startswith("traits.") and len(name) > len("traits."):
            assigned[i] = name
        elif name.lower() in NOT_IMPORTED:
            raise InvalidInput(
                f"column {name!r} is a built-in contact field that imports do not set; skip it "
                f"with --map {name}=- or keep it as a trait under another name with "
                f"--map {name}=traits.imported_{name.lower()}",
                code="invalid_mapping",
            )
        else:
            assigned[i] = "traits." + name

    plan = ColumnPlan(width=len(names))
    taken: dict[str, int] = {}
    for i in sorted(assigned):
        target = assigned[i]
        if target == "-":
            continue
        if target in taken:
            raise InvalidInput(
                f"columns {names[taken[target]]!r} and {names[i]!r} both map to {target}",
                code="invalid_mapping",
            )
        taken[target] = i
        if target.startswith("traits."):
            trait = target.removeprefix("traits.")
            if trait in RESERVED_NAMES:
                raise InvalidInput(
                    f"column {names[i]!r} maps to trait {trait!r}, a built-in contact field that "
                    "cannot be a custom trait; map it to its field, to another trait name "
                    f"(--map {names[i]}=traits.other_name) or skip it (--map {names[i]}=-)",
                    code="invalid_mapping",
                )
            plan.traits.append((i, trait))
        elif target == "external_id":
            plan.external_id = i
        elif target == "email":
            plan.email = i
        elif target == "tags":
            plan.tags = i
        else:
            plan.fields.append((i, target))
    if not any(f in taken for f in IDENTIFIERS):
        raise InvalidInput(
            "no column holds an external_id, email or phone, so no row could be matched to a "
            f"contact (columns: {', '.join(repr(n) for n in names)}). The first line must be a "
            "header; name the identifier columns there or with --map column=email",
            code="missing_identifier_column",
        )
    return plan


def _find_column(names: list[str], column: str) -> int:
    if column in names:
        return names.index(column)
    folded = [i for i, n in enumerate(names) if n.lower() == column.lower()]
    if len(folded) == 1:
        return folded[0]
    raise InvalidInput(
        f"--map names column {column!r}, which is not in the header "
        f"(columns: {', '.join(repr(n) for n in names)})",
        code="invalid_mapping",
    )


def _target(target: str, entry: str) -> str:
    if target == "-":
        return target
    if target.startswith("traits."):
        if not target.removeprefix("traits.").strip():
            raise InvalidInput(f"--map {entry!r}: name the trait, e.g. traits.plan", code="invalid_mapping")
        return target
    field_name = AUTO_FIELDS.get(target.lower())
    if field_name is None:
        raise InvalidInput(
            f"--map {entry!r}: unknown field {target!r}; use one of {', '.join(FIELDS)}, "
            "traits.NAME, or - to skip the column",
            code="invalid_mapping",
        )
    return field_name


def _delimiter(header_line: str) -> str:
    """Comma, unless the header is plainly semicolon- or tab-separated (spreadsheet exports)."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _tags(cell: str) -> list[str] | None:
    if not cell:
        return None
    if "," not in cell and ";" not in cell:
        return None if cell.isspace() else [validate_tag(cell)]
    names = [validate_tag(t) for t in _TAG_SEPARATORS.split(cell) if t.strip()]
    return names or None


def _write(engine: Engine, workspace_id: int, batch: _Batch, clock: Clock) -> int:
    def work(conn: Connection) -> int:
        now = clock.now()
        resolution = resolve(conn, workspace_id, batch.claims, now)
        contact_ids = resolution.contact_ids
        _apply(conn, contact_ids, batch.changes, now, resolution.created)
        pairs = [
            (cid, name) for cid, names in zip(contact_ids, batch.tags, strict=True) if names for name in names
        ]
        if pairs:
            add_tags(conn, workspace_id, pairs, now)
        mark_changed(conn, workspace_id, contact_ids, now)
        return len(contact_ids)

    return in_transaction(engine, work)


def _apply(
    conn: Connection,
    contact_ids: list[int],
    changes: list[ProfileChanges],
    now: datetime,
    created: set[int],
) -> None:
    """One profile write for the batch; rows landing on one contact merge in file order."""
    merged: dict[int, ProfileChanges] = {}
    combined: set[int] = set()
    for cid, change in zip(contact_ids, changes, strict=True):
        if not (change.fields or change.traits):
            continue
        current = merged.get(cid)
        if current is None:
            merged[cid] = change
            continue
        if cid not in combined:  # copy, so a retried transaction starts from the rows again
            current = merged[cid] = _copy(current)
            combined.add(cid)
        current.update(change)
    apply_profile_changes(conn, merged, now, created=created)


def _copy(change: ProfileChanges) -> ProfileChanges:
    return ProfileChanges(dict(change.fields), dict(change.traits), dict(change.defaults))
