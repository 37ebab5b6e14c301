"""What every benchmark shares: the figures line, a fresh database, helpers for subprocesses."""

from __future__ import annotations

import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

#: Human output goes to stderr so stdout carries only the JSON line.
console = Console(stderr=True)


def cpus() -> int:
    return os.cpu_count() or 1


def emit(title: str, figures: Mapping[str, Any], *, as_json: bool, failed: bool = False) -> None:
    """The human summary (unless ``as_json``), then the figures as one JSON line on stdout."""
    if not as_json:
        table = Table(title=title, show_header=False, title_style="bold red" if failed else "bold")
        table.add_column(style="cyan")
        table.add_column(justify="right")
        for key, value in figures.items():
            table.add_row(key, _human(value))
        console.print(table)
    sys.stderr.flush()
    print(json.dumps(dict(figures), separators=(", ", ": ")), flush=True)


def _human(value: Any) -> str:
    if isinstance(value, bool):
        return "[green]true[/green]" if value else "[red]false[/red]"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = math.ceil(q / 100 * len(sorted_values)) - 1
    return sorted_values[max(0, min(len(sorted_values) - 1, rank))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextmanager
def workdir(keep: bool = False) -> Iterator[Path]:
    """A temporary directory for the database, generated files and server logs."""
    if keep:
        yield Path(tempfile.mkdtemp(prefix="kairos-bench-"))
        return
    with tempfile.TemporaryDirectory(prefix="kairos-bench-") as tmp:
        yield Path(tmp)


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'bench.db'}"


def database_url_or_default(url: str | None, directory: Path) -> str:
    """The given URL with a relative SQLite path made absolute (the server runs in the scratch
    directory, the benchmark does not), or a fresh SQLite file in ``directory``."""
    if url is None:
        return sqlite_url(directory)
    scheme, sep, path = url.partition(":///")
    if sep and scheme.startswith("sqlite") and path and not path.startswith(("/", ":memory:")):
        return f"{scheme}:///{Path(path).resolve()}"
    return url


def kairos_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["KAIROS_DATABASE_URL"] = database_url
    env.setdefault("KAIROS_LOG_LEVEL", "warning")
    return env


def run_kairos(args: list[str], env: Mapping[str, str], cwd: Path) -> str:
    """``python -m kairos <args>`` in a subprocess; its stdout, or an error with its stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "kairos", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"kairos {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live children so far (Linux /proc; 0
    elsewhere). Children count, so ``serve --workers N`` is measured whole."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in _children(pid))


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return out


def self_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


class BenchError(Exception):
    """A benchmark could not run or its result is wrong; the CLI exits non-zero."""
