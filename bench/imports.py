"""B2 — bulk import: contacts from CSV, then events from JSON Lines, into a fresh database."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kairos_bench.common import BenchError, cpus, database_url_or_default, workdir
from kairos_bench.dataset import ATTRIBUTE_TYPES, write_contacts, write_events


def run_import(
    *,
    contacts: int,
    events: int,
    seed: int,
    database_url: str | None,
    keep: bool,
    say: Callable[[str], None],
    workers: int = 0,
) -> dict[str, Any]:
    try:
        from kairos.contacts.imports import import_contacts_csv
        from kairos.events.imports import import_events_jsonl
    except ImportError as exc:
        raise BenchError(f"the import functions are not available yet ({exc})") from None

    with workdir(keep) as tmp:
        url = database_url_or_default(database_url, tmp)
        csv_path, jsonl_path = tmp / "contacts.csv", tmp / "events.jsonl"
        say(
            f"scratch directory {tmp}; generating {contacts:,} contacts and {events:,} events (seed {seed}) …"
        )
        write_contacts(csv_path, contacts, seed)
        write_events(jsonl_path, events, contacts, seed)
        engine, workspace_id = _fresh_workspace(url)
        parsing = {"workers": workers} if workers else {}  # the committed code may predate it
        try:
            say("importing contacts …")
            t0 = time.perf_counter()
            c_report = import_contacts_csv(
                engine, workspace_id, csv_path, mapping=(), progress=None, **parsing
            )
            c_seconds = time.perf_counter() - t0
            stored_contacts = _count(engine, workspace_id, "contact")
            say("importing events …")
            t0 = time.perf_counter()
            e_report = import_events_jsonl(engine, workspace_id, jsonl_path, progress=None, **parsing)
            e_seconds = time.perf_counter() - t0
            stored_events = _count(engine, workspace_id, "event")
            all_contacts = _count(engine, workspace_id, "contact")
        finally:
            engine.dispose()
        sizes = {"csv_mb": _mb(csv_path), "jsonl_mb": _mb(jsonl_path)}

    c_rejected, e_rejected = _n(c_report.rejected), _n(e_report.rejected)
    return {
        "contacts": contacts,
        "events": events,
        "cpus": cpus(),
        "database": url.partition(":")[0].partition("+")[0],
        "workers": workers,
        **sizes,
        "contacts_seconds": round(c_seconds, 3),
        "contacts_rows_per_s": round(contacts / c_seconds, 1),
        "contacts_accepted": c_report.accepted,
        "contacts_rejected": c_rejected,
        "contacts_duplicates": c_report.duplicates,
        "events_seconds": round(e_seconds, 3),
        "events_rows_per_s": round(events / e_seconds, 1),
        "events_accepted": e_report.accepted,
        "events_rejected": e_rejected,
        "events_duplicates": e_report.duplicates,
        "contacts_after_events": all_contacts,
        # The files are clean and every row distinct: all of it must be accepted and stored.
        "verified": (
            c_report.accepted == contacts == stored_contacts
            and e_report.accepted == events == stored_events
            and c_rejected == e_rejected == 0
        ),
    }


def _fresh_workspace(url: str) -> tuple[Any, int]:
    from kairos.clock import SystemClock
    from kairos.config import Settings
    from kairos.contacts.attributes import create_attribute
    from kairos.db.engine import make_engine
    from kairos.db.migrate import upgrade
    from kairos.workspaces.service import create_workspace

    engine = make_engine(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
    upgrade(engine)
    clock = SystemClock()
    with engine.begin() as conn:
        ws = create_workspace(conn, clock, "bench")
        for name, kind in ATTRIBUTE_TYPES.items():
            create_attribute(conn, clock, ws.id, name=name, type=kind)
    return engine, ws.id


def _count(engine: Any, workspace_id: int, table: str) -> int:
    from sqlalchemy import func, select

    from kairos.contacts.tables import contact
    from kairos.events.tables import event

    t = contact if table == "contact" else event
    query = select(func.count()).select_from(t).where(t.c.workspace_id == workspace_id)
    if t is contact:
        query = query.where(contact.c.merged_into.is_(None))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _n(rejected: Any) -> int:
    return rejected if isinstance(rejected, int) else len(rejected)


def _mb(path: Path) -> float:
    return round(path.stat().st_size / 1e6, 1)
