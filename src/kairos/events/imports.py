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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine

from kairos.clock import Clock, SystemClock
from kairos.contacts.attributes import attribute_types
from kairos.db.engine import ANALYZE_AFTER, reading, refresh_statistics
from kairos.errors import InvalidInput
from kairos.events.ingest import IngestResult, check_traits, ingest
from kairos.events.messages import MAX_MESSAGE_BYTES, Message, parse_message
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


def import_events_jsonl(
    engine: Engine,
    workspace_id: int,
    path: Path,
    *,
    progress: Progress | None = None,
    batch_size: int = 5000,
    clock: Clock | None = None,
    workers: int = 0,
) -> ImportReport:
    """``workers``: parsing processes besides this one (0: parse in this process).

    This process cuts the file into chunks of lines; the workers decode and validate them
    (``parse_message``, typed traits) and encode the JSON columns while this process runs
    the previous batch through ``ingest``. Results come back in file order."""
    # a sandbox's rows are stamped with its virtual now
    clock = clock or WorkspaceClock(engine, workspace_id, SystemClock())
    progress = progress or no_progress
    ws = load_workspace(engine, workspace_id)
    scan_text_file(path)
    with reading(engine) as conn:
        types = attribute_types(conn, workspace_id)
    context = _Context(clock.now(), ws.default_country, types)
    chunk_lines = min(CHUNK_ROWS, batch_size)

    report = ImportReport()
    with path.open("rb") as fh:

        def chunks() -> Iterator[_Chunk]:
            lines: list[bytes] = []
            first, consumed = 1, 0
            for number, raw in enumerate(fh, 1):
                consumed += len(raw)
                lines.append(raw)
                if len(lines) >= chunk_lines:
                    yield _Chunk(context, first, lines, consumed)
                    first, lines = number + 1, []
            yield _Chunk(context, first, lines, consumed)

        with fewer_collections():
            batch: list[Message] = []
            reported = 0
            for parsed in map_in_order(_parse_chunk, chunks(), workers):
                report.rejected.extend(parsed.rejected)
                batch.extend(parsed.messages)
                while len(batch) >= batch_size:
                    _add(report, _write(engine, workspace_id, batch[:batch_size], clock))
                    del batch[:batch_size]
                    if parsed.consumed > reported:
                        progress(parsed.consumed - reported)
                        reported = parsed.consumed
            if batch:
                _add(report, _write(engine, workspace_id, batch, clock))
            progress(fh.tell() - reported)
    if report.accepted >= ANALYZE_AFTER:
        refresh_statistics(engine, ("event", "contact", "identity"))
    return report


@dataclass(slots=True)
class _Context:
    received_at: datetime
    country: str | None
    types: dict[str, str]


@dataclass(slots=True)
class _Chunk:
    context: _Context
    first: int  # line number of lines[0]
    lines: list[bytes]
    consumed: int  # bytes of the file up to the end of the chunk (for progress)


@dataclass(slots=True)
class _Parsed:
    messages: list[Message]
    rejected: list[tuple[int, str]]
    consumed: int


def _parse_chunk(chunk: _Chunk) -> _Parsed:
    """Lines → validated messages (JSON columns encoded), or a rejection with the line
    number. Runs in a worker process (or in process for small files); no database."""
    received_at, country, types = chunk.context.received_at, chunk.context.country, chunk.context.types
    out = _Parsed([], [], chunk.consumed)
    rejected = out.rejected
    for number, raw in enumerate(chunk.lines, chunk.first):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        if raw.isspace() or not raw:
            continue
        if len(raw) > MAX_MESSAGE_BYTES:
            rejected.append((number, f"line {number} is {len(raw)} bytes; the limit is {MAX_MESSAGE_BYTES}"))
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            rejected.append((number, f"line {number} is not valid JSON ({exc.msg}, character {exc.pos + 1})"))
            continue
        try:
            message = _message(obj, raw, number, received_at, country, types)
        except InvalidInput as exc:
            rejected.append((number, exc.message))
            continue
        message.encode_json()
        out.messages.append(message)
    return out


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
