"""Accepted means committed: killing the server right after its answers loses nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from kairos.events.tables import event
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import running_server


def test_sigkill_after_acknowledgement_loses_no_accepted_event(
    database_url: str, engine: Engine, workspace: CreatedWorkspace, tmp_path: Path
) -> None:
    with running_server(database_url, tmp_path / "serve.log") as server:
        acknowledged = asyncio.run(_hammer(server.url, workspace.write_key, requests=400))
    # Leaving the block sent SIGKILL: no graceful shutdown, no flush.
    assert acknowledged >= 400 * 5
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(event)).scalar_one()
    assert stored == acknowledged


async def _hammer(url: str, key: str, requests: int) -> int:
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

        for start in range(0, requests, 50):
            ok += sum(await asyncio.gather(*(one(i) for i in range(start, start + 50))))
    return ok
