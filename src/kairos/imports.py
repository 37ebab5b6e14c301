"""Bulk imports: the report every import returns, the checks they share, and the CLI wrapper.

The import functions themselves live beside what they import (``contacts/imports.py`` for
CSV contacts, ``events/imports.py`` for JSON Lines events). They share the rules written
here: a file that cannot be read as a whole (not UTF-8, no header) fails before anything is
written; a bad row is rejected with its line number and never stops the import; each batch
commits in one transaction of its own, retried when it loses a race with a concurrent writer.
"""

from __future__ import annotations

import codecs
import gc
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError

from kairos.db.engine import reading
from kairos.errors import InvalidInput, KairosError, NotFound
from kairos.workspaces.service import Workspace
from kairos.workspaces.tables import workspace as workspace_table

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")

#: Called with the number of bytes of the file consumed since the last call.
Progress = Callable[[int], None]

#: Rejected rows listed in the CLI summary; the rest are counted.
SHOWN_REJECTS = 50

#: A batch that conflicts with a concurrent writer (another import, HTTP ingest) is retried.
RETRIES = 5

_SCAN_CHUNK = 1 << 20

#: Rows (lines) per chunk handed to a parsing worker.
CHUNK_ROWS = 2000

U = TypeVar("U")


@dataclass
class ImportReport:
    accepted: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    duplicates: int = 0  # events whose messageId was already stored (or repeated in the file)


def no_progress(_advance: int) -> None:
    return None


def load_workspace(engine: Engine, workspace_id: int) -> Workspace:
    with reading(engine) as conn:
        row = conn.execute(
            select(
                workspace_table.c.id,
                workspace_table.c.name,
                workspace_table.c.settings,
                workspace_table.c.sandbox,
            ).where(workspace_table.c.id == workspace_id)
        ).first()
    if row is None:
        raise NotFound(f"no workspace {workspace_id}", code="workspace_not_found")
    settings = row.settings or {}
    return Workspace(
        id=row.id, name=row.name, default_country=settings.get("default_country"), sandbox=row.sandbox
    )


def scan_text_file(path: Path) -> bool:
    """Check that the whole file is UTF-8 before importing any of it; True if it holds a NUL.

    A file in another encoding would otherwise be half imported, with every row that has an
    accented letter rejected. Decoding runs at several hundred MB/s, a small fraction of the
    import itself. NUL characters are legal UTF-8 but PostgreSQL cannot store them, so the
    importers reject the rows that contain one (only looked for when this says there are any).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    has_nul = False
    with path.open("rb") as fh:
        head = fh.read(_SCAN_CHUNK)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise InvalidInput(
                f"{path.name} is UTF-16 text; save it as UTF-8 (in Excel: 'CSV UTF-8') and import again",
                code="invalid_encoding",
            )
        chunk = head
        try:
            while chunk:
                decoder.decode(chunk)
                has_nul = has_nul or b"\x00" in chunk
                chunk = fh.read(_SCAN_CHUNK)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            pass
        else:
            return has_nul
    raise _not_utf8(path)


def _not_utf8(path: Path) -> InvalidInput:
    # Slow path, only on failure: find the first bad line (a multi-byte character never
    # spans a newline, so decoding line by line is exact).
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                byte = raw[exc.start]
                return InvalidInput(
                    f"{path.name} is not UTF-8 text: line {number} has the byte 0x{byte:02X}. "
                    "Nothing was imported. Save the file as UTF-8 (in Excel: 'CSV UTF-8') or "
                    "convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8",
                    code="invalid_encoding",
                )
    return InvalidInput(f"{path.name} is not UTF-8 text; nothing was imported", code="invalid_encoding")


def in_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run one batch in a transaction of its own, retrying lost races.

    On PostgreSQL a concurrent writer can insert the same identity or message id first
    (IntegrityError) or deadlock with us; on SQLite the write lock can time out. The batch
    rolled back, so running it again is safe and usually finds the other writer's rows.
    """
    for attempt in range(RETRIES):
        try:
            with engine.begin() as conn:
                return work(conn)
        except (IntegrityError, OperationalError):
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector rarely while an import allocates millions of small
    objects that die young (rows, dicts of traits): with the default thresholds it ran every
    700 allocations and walked the live batch each time, a quarter of the parse time.
    Reference counting still frees everything as usual; only cycle detection waits."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _init_worker() -> None:
    gc.set_threshold(100_000, 50, 1000)  # a parsing worker only ever parses (fewer_collections)


def map_in_order(fn: Callable[[T], U], chunks: Iterable[T], workers: int) -> Iterator[U]:
    """``map(fn, chunks)``, run by ``workers`` processes while the caller consumes results.

    Results come back in the order of ``chunks`` (so rows keep their file order and line
    numbers), and at most ``4 * workers + 2`` chunks are in flight, so memory stays bounded
    whatever the file size. Workers are spawned, not forked: the importing process holds
    database connections a forked child must not inherit. Spawning re-imports the caller's
    main module, so a script that imports with workers needs the ``if __name__ ==
    "__main__":`` guard (``python -m kairos`` has it covered). With 0 workers it is plain map.
    """
    if workers <= 0:
        yield from map(fn, chunks)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker) as pool:
        pending: deque[Future[U]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(fn, chunk))
            if len(pending) >= 4 * workers + 2:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


# --- command line ------------------------------------------------------------------------


def run_import(
    console: Console,
    engine: Engine,
    workspace_id: int,
    path: Path,
    fn: Callable[[Engine, Progress], ImportReport],
) -> ImportReport:
    """Run an import under a progress bar (bytes of the file) and print its summary.

    Exits with code 1 when the workspace does not exist or the file could not be read at all;
    an import that ran, even with rejected rows, exits 0.
    """
    import typer
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    try:
        load_workspace(engine, workspace_id)
        size = path.stat().st_size
    except NotFound as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    except OSError as exc:
        console.print(f"[red]error:[/red] cannot read {path}: {exc.strerror or exc}")
        raise typer.Exit(1) from None

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    started = time.monotonic()
    error: str | None = None
    # Transient: the summary below replaces the bar, and an error is not preceded by one.
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"importing {path.name}", total=size)

        def advance(n: int) -> None:
            bar.advance(task, n)

        try:
            report = fn(engine, advance)
        except KairosError as exc:
            error = exc.message
        except OSError as exc:
            error = f"cannot read {path}: {exc.strerror or exc}"
    if error is not None:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1)

    print_summary(console, path, report, time.monotonic() - started)
    return report


def print_summary(console: Console, path: Path, report: ImportReport, seconds: float) -> None:
    from rich.table import Table

    rejected = len(report.rejected)
    rows = report.accepted + report.duplicates + rejected
    console.print(
        f"[bold]{path.name}[/bold]: [green]{report.accepted} accepted[/green], "
        f"{report.duplicates} duplicates, "
        f"{'[red]' if rejected else ''}{rejected} rejected{'[/red]' if rejected else ''} "
        f"[dim]({rows:,} rows in {seconds:.1f} s, {rows / max(seconds, 1e-6):,.0f} rows/s)[/dim]"
    )
    if not rejected:
        return
    table = Table("line", "reason", title="rejected rows", title_justify="left")
    table.columns[0].justify = "right"
    table.columns[1].overflow = "fold"
    for line, reason in report.rejected[:SHOWN_REJECTS]:
        table.add_row(str(line), reason)
    console.print(table)
    if rejected > SHOWN_REJECTS:
        console.print(f"… and {rejected - SHOWN_REJECTS} more")
