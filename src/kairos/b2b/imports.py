"""Accounts from CSV (``kairos import accounts FILE --workspace N``), with the shared import
rules (``kairos/imports.py``): a file that cannot be read fails before anything is written,
a bad row is rejected with its line number, each batch commits on its own.

Columns by header name (any case): ``external_id`` (or ``group_id`` / ``groupId``: Segment's
id), ``name``, ``domain`` (or ``website``; a URL is reduced to its host), ``owner`` (the
owner's email or user id), ``contact_emails`` (contacts to link, separated by ``;`` or ``,``;
an address no contact has is skipped); every other column is a trait, as text. A row
updates the account with its external id, else the one with its domain, else creates one;
a row with neither is rejected. An empty cell means "not given".
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from kairos.accounts.tables import app_user
from kairos.b2b.service import link, normalize_domain, update_account, upsert_account
from kairos.b2b.tables import account
from kairos.clock import Clock, SystemClock
from kairos.contacts.tables import contact
from kairos.errors import InvalidInput
from kairos.imports import ImportReport, Progress, in_transaction, load_workspace, no_progress, scan_text_file
from kairos.workspaces.clocks import WorkspaceClock

COLUMNS = {
    "external_id": "external_id", "group_id": "external_id", "groupid": "external_id",
    "name": "name", "domain": "domain", "website": "domain", "owner": "owner",
    "contact_emails": "contact_emails",
}  # fmt: skip
_SEPARATORS = re.compile(r"[;,]")
BATCH = 500


def import_accounts_csv(
    engine: Engine,
    workspace_id: int,
    path: Path,
    *,
    progress: Progress | None = None,
    clock: Clock | None = None,
) -> ImportReport:
    clock = clock or WorkspaceClock(engine, workspace_id, SystemClock())
    progress = progress or no_progress
    load_workspace(engine, workspace_id)
    scan_text_file(path)
    report = ImportReport()
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            header = []
        if not any(h.strip() for h in header):
            raise InvalidInput(
                f"{path.name} has no header row: the first line must name the columns "
                "(e.g. external_id,name,domain,industry)",
                code="missing_header",
            )
        names = [COLUMNS.get(h.strip().lower().replace(" ", "_"), h.strip()) for h in header]
        rows: list[tuple[int, dict[str, str]]] = []
        line = 1
        reported = 0
        for row in reader:
            line = reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue
            rows.append((line, {n: c.strip() for n, c in zip(names, row, strict=False) if n and c.strip()}))
            if len(rows) >= BATCH:
                _write(engine, workspace_id, rows, report, clock)
                rows = []
                position = raw.tell()
                progress(position - reported)
                reported = position
        if rows:
            _write(engine, workspace_id, rows, report, clock)
        progress(raw.tell() - reported)
    return report


def _write(
    engine: Engine,
    workspace_id: int,
    rows: list[tuple[int, dict[str, str]]],
    report: ImportReport,
    clock: Clock,
) -> None:
    def work(conn: Connection) -> tuple[int, list[tuple[int, str]]]:
        accepted, rejected = 0, []
        now = clock.now()
        for line, cells in rows:
            try:
                _one(conn, workspace_id, cells, now)
            except InvalidInput as exc:
                rejected.append((line, exc.message))
                continue
            accepted += 1
        return accepted, rejected

    accepted, rejected = in_transaction(engine, work)
    report.accepted += accepted
    report.rejected.extend(rejected)


def _one(conn: Connection, workspace_id: int, cells: dict[str, str], now: Any) -> None:
    data: dict[str, Any] = {k: cells[k] for k in ("external_id", "name") if k in cells}
    if "domain" in cells:
        data["domain"] = normalize_domain(cells["domain"])
    if len(data.get("external_id", "")) > 255:
        raise InvalidInput("external_id is longer than 255 characters")
    if "owner" in cells:
        data["owner_user_id"] = _owner(conn, cells["owner"])
    reserved = {"external_id", "name", "domain", "owner", "contact_emails"}
    traits = {k: v for k, v in cells.items() if k not in reserved}
    if traits:
        data["traits"] = traits
    if data.get("external_id") is None and data.get("domain") is None:
        raise InvalidInput("an account needs an external_id or a domain to be matched on")
    existing = None
    if data.get("external_id") is None:  # matched on the domain
        existing = conn.execute(
            select(func.min(account.c.id)).where(
                account.c.workspace_id == workspace_id, account.c.domain == data["domain"]
            )
        ).scalar()
    if existing is not None:
        acc = update_account(conn, workspace_id, existing, data, now)
    else:
        acc, _ = upsert_account(conn, workspace_id, data, now)
    emails = [e.strip().lower() for e in _SEPARATORS.split(cells.get("contact_emails", "")) if e.strip()]
    if emails:
        ids = conn.execute(
            select(contact.c.id).where(
                contact.c.workspace_id == workspace_id,
                contact.c.merged_into.is_(None),
                contact.c.email.in_(emails),
            )
        ).scalars()
        link(conn, workspace_id, [(acc["id"], cid, None) for cid in ids], now, "import")


def _owner(conn: Connection, value: str) -> int:
    if value.isdigit():
        return int(value)
    uid = conn.execute(select(app_user.c.id).where(func.lower(app_user.c.email) == value.lower())).scalar()
    if uid is None:
        raise InvalidInput(f"owner: no user with the email {value!r}", code="invalid_owner")
    return int(uid)
