"""A real ``kairos serve`` in a subprocess, on a freshly migrated database with one workspace."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from kairos_bench.common import BenchError, free_port, kairos_env, run_kairos

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Server:
    pid: int
    host: str
    port: int
    workspace_id: int
    write_key: str
    log: Path


def prepare_database(database_url: str, directory: Path) -> dict[str, object]:
    """Migrate the database and create a fresh workspace; returns the workspace JSON."""
    env = kairos_env(database_url)
    run_kairos(["db", "upgrade"], env, directory)
    out = run_kairos(["workspace", "create", "--name", "bench", "--json"], env, directory)
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


@contextmanager
def running_server(
    database_url: str,
    directory: Path,
    *,
    workers: int = 1,
    startup_timeout: float = 60.0,
    processor_process: bool = False,
) -> Iterator[Server]:
    """A real ``kairos serve --no-worker``; with ``processor_process`` its ingest-log
    processor runs as ``kairos ingest process`` beside it instead of in a thread of its own."""
    workspace = prepare_database(database_url, directory)
    port = free_port(HOST)
    log_path = directory / "server.log"
    # cwd is the scratch directory so the server reads no project .env and writes its
    # .kairos_secret there.
    command = [sys.executable, "-m", "kairos", "serve", "--no-worker", "--host", HOST, "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    env = kairos_env(database_url)
    processor: subprocess.Popen[bytes] | None = None
    if processor_process:
        env["KAIROS_INGEST_PROCESSOR"] = "false"
        with (directory / "processor.log").open("wb") as log:
            processor = subprocess.Popen(
                [sys.executable, "-m", "kairos", "ingest", "process"],
                env=env,
                cwd=directory,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(proc, port, log_path, startup_timeout)
        yield Server(
            pid=proc.pid,
            host=HOST,
            port=port,
            workspace_id=int(workspace["id"]),  # type: ignore[call-overload]
            write_key=str(workspace["write_key"]),
            log=log_path,
        )
    finally:
        _stop(proc)
        if processor is not None:
            processor.send_signal(signal.SIGTERM)  # after the group in progress; the log stays
            processor.wait(timeout=60)


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://{HOST}:{port}/health"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"the server exited with {proc.returncode}:\n{tail(log)}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise BenchError(f"the server did not answer {url} within {timeout:.0f}s:\n{tail(log)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully, the writer drains
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""
