"""Accepted means committed: killing the server right after its answers loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from kairos.events.tables import event
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import _wait_until_up, free_port


def test_sigkill_after_acknowledgement_loses_no_accepted_event(
    database_url: str, engine: Engine, workspace: CreatedWorkspace, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "KAIROS_DATABASE_URL": database_url, "KAIROS_SECRET_KEY": "t"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kairos", "serve", "--port", str(port), "--no-worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log)
        acknowledged = asyncio.run(_hammer(url, workspace.write_key, requests=400))
    finally:
        proc.send_signal(signal.SIGKILL)  # no graceful shutdown, no flush
        proc.wait(timeout=10)
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
