"""Accepted means stored: killing the server right after its answers loses nothing. What it
had not processed yet is in the ingest log, and the next start (or the worker) processes it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from kairos.clock import SystemClock
from kairos.contacts.tables import contact
from kairos.events.log import IngestProcessor
from kairos.events.tables import event
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import running_server


def test_sigkill_after_acknowledgement_loses_no_accepted_event(
    database_url: str, engine: Engine, workspace: CreatedWorkspace, tmp_path: Path
) -> None:
    """Two server processes share the database and the ingest log (as ``serve --workers 2``
    or two machines on PostgreSQL would): each processes what it can, none twice."""
    with (
        running_server(database_url, tmp_path / "serve-a.log") as a,
        running_server(database_url, tmp_path / "serve-b.log") as b,
    ):
        acknowledged = asyncio.run(_both(a.url, b.url, workspace.write_key))
    # Leaving the block sent SIGKILL: no graceful shutdown, no flush.
    assert acknowledged >= 400 * 5
    # what a restarted server's processor does first (the servers were killed, not stopped)
    IngestProcessor(engine, SystemClock()).drain()
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(event)).scalar_one()
        contacts = conn.execute(select(func.count()).select_from(contact)).scalar_one()
    assert stored == acknowledged
    assert contacts == 37  # both servers' messages for u0…u36 landed on one contact each


async def _both(a: str, b: str, key: str) -> int:
    counts = await asyncio.gather(
        _hammer(a, key, requests=200, start=0), _hammer(b, key, requests=200, start=200)
    )
    return sum(counts)


async def _hammer(url: str, key: str, requests: int, start: int = 0) -> int:
    """Many concurrent batches; count the messages of every 200."""
    ok = 0
    async with httpx.AsyncClient(base_url=url, auth=(key, ""), timeout=30) as http:

        async def one(i: int) -> int:
            batch = [
                {"type": "track", "userId": f"u{i % 37}", "event": "E", "messageId": f"{i}-{j}"}
                for j in range(5)
            ]
            r = await http.post("/v1/batch", json={"batch": batch})
            return 5 if r.status_code == 200 else 0

        for first in range(start, start + requests, 50):
            ok += sum(await asyncio.gather(*(one(i) for i in range(first, first + 50))))
    return ok
