"""Settings of the Python process itself, for the long-running commands (server, worker)."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Move what startup allocated out of the collector's sight and collect the young
    generation less often. With the defaults, collections took ~10% of the server's CPU under
    ingest load and full collections paused it ~90 ms; in the worker they took ~15% of the
    changed-contacts pass's time scoring new events (docs/benchmarks.md, B1 and B8)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
