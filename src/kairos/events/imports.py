"""Events from JSON Lines: one Segment message (identify, track, page, …) per line.

Each line goes through the same validation as the HTTP API (``parse_message``) and each
batch through the same pipeline (``ingest``), so an import behaves exactly like the messages
arriving over HTTP: identities resolve and merge, identify traits update profiles, and a
message whose ``messageId`` is already stored is a duplicate, not an error.

A line without a ``messageId`` gets one derived from its content, so importing the same file
twice never stores an event twice. Two identical lines without a messageId are therefore one
event; give them messageIds if they really are two.
"""

from __future__ import annotations

import codecs
import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine

from kairos.clock import Clock, SystemClock
from kairos.contacts.attributes import attribute_types
from kairos.db.engine import reading
from kairos.errors import InvalidInput
from kairos.events.ingest import IngestResult, check_traits, ingest
from kairos.events.messages import MAX_MESSAGE_BYTES, Message, parse_message
from kairos.imports import (
    ImportReport,
    Progress,
    in_transaction,
    load_workspace,
    no_progress,
    scan_text_file,
)
from kairos.workspaces.clocks import WorkspaceClock


def import_events_jsonl(
    engine: Engine,
    workspace_id: int,
    path: Path,
    *,
    progress: Progress | None = None,
    batch_size: int = 5000,
    clock: Clock | None = None,
) -> ImportReport:
    # a sandbox's rows are stamped with its virtual now
    clock = clock or WorkspaceClock(engine, workspace_id, SystemClock())
    progress = progress or no_progress
    ws = load_workspace(engine, workspace_id)
    scan_text_file(path)
    with reading(engine) as conn:
        types = attribute_types(conn, workspace_id)
    country = ws.default_country
    received_at = clock.now()

    report = ImportReport()
    rejected = report.rejected
    batch: list[Message] = []
    consumed = reported = 0
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            consumed += len(raw)
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if raw.isspace() or not raw:
                continue
            if len(raw) > MAX_MESSAGE_BYTES:
                rejected.append(
                    (number, f"line {number} is {len(raw)} bytes; the limit is {MAX_MESSAGE_BYTES}")
                )
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                rejected.append(
                    (number, f"line {number} is not valid JSON ({exc.msg}, character {exc.pos + 1})")
                )
                continue
            try:
                message = _message(obj, raw, number, received_at, country, types)
            except InvalidInput as exc:
                rejected.append((number, exc.message))
                continue
            batch.append(message)
            if len(batch) >= batch_size:
                _add(report, _write(engine, workspace_id, batch, clock))
                batch = []
                progress(consumed - reported)
                reported = consumed
    if batch:
        _add(report, _write(engine, workspace_id, batch, clock))
    progress(consumed - reported)
    return report


def _message(
    obj: Any, raw: bytes, number: int, received_at: datetime, country: str | None, types: dict[str, str]
) -> Message:
    where = f"line {number}"
    if not isinstance(obj, dict):
        raise InvalidInput(f"{where} must be a JSON object (one Segment message)")
    if b"\\u0000" in raw and _has_nul(obj):
        raise InvalidInput(f"{where} contains a NUL character (\\u0000), which cannot be stored")
    message_id = obj.get("messageId")
    if message_id is None or message_id == "":
        obj["messageId"] = "import-" + hashlib.blake2b(raw.strip(), digest_size=16).hexdigest()
    message = parse_message(obj, None, received_at, default_country=country, where=where)
    if types and message.profile is not None and message.profile.traits:
        check_traits([message], types)
    return message


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _write(engine: Engine, workspace_id: int, batch: list[Message], clock: Clock) -> IngestResult:
    def work(conn: Connection) -> IngestResult:
        return ingest(conn, workspace_id, batch, clock.now(), trusted=True)

    return in_transaction(engine, work)


def _add(report: ImportReport, result: IngestResult) -> None:
    report.accepted += result.accepted
    report.duplicates += result.duplicates
