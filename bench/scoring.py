"""B8 — lead scoring: full recompute time and incremental throughput.

On a generated dataset (``--path``/``--database-url``, or a small one generated here) a
score model ``bench_engagement`` is created with the rules a marketer would write for the
generator's events: product views (+2, at most 10 a day), cart adds (+5), checkouts (+10),
orders (+25), email opens (+1, at most 5 a week), searches (-1, a negative rule), and one
condition rule on a profile field (+15 while the contact has an email address).

**Full recompute.** The model's recompute is run as the worker runs it (``recompute_due``,
one batch of contacts per transaction) until idle: ``recompute_seconds`` and
``recompute_contacts_per_s``, with ``scored`` contacts and ``ledger_rows``.

**Incremental.** ``--changed`` random contacts each get ``--per-contact`` new events
(default 1, the worst case: every event a contact of its own; B1's traffic comes from 3,000
people, about 9 events each per second), the generator's mix, written like ingest writes
them and queued; the changed-contacts job is timed with the scoring handler only
(``process_changes`` with ``score_changes``) until the queue is empty: ``events_per_s`` (new
events scored per second: the matches in SQL, caps applied, ledger and scores written).
``verified``: every sampled contact's score equals the sum of its ledger.
The model, its scores and ledger, and the added events are removed at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from kairos_bench.common import cpus, workdir
from kairos_bench.generate import Generated
from kairos_bench.incremental import _add_events, _remove_events, _sample_contacts
from kairos_bench.segments import open_dataset

MODEL_KEY = "bench_engagement"

RULES: list[dict[str, Any]] = [
    {"name": "Viewed a product", "points": 2,
     "rule": {"kind": "event", "event": "Product Viewed", "cap": {"points": 10, "per": "day"}}},
    {"name": "Added to cart", "points": 5, "rule": {"kind": "event", "event": "Product Added"}},
    {"name": "Started checkout", "points": 10, "rule": {"kind": "event", "event": "Checkout Started"}},
    {"name": "Ordered", "points": 25, "rule": {"kind": "event", "event": "Order Completed"}},
    {"name": "Opened an email", "points": 1,
     "rule": {"kind": "event", "event": "Email Opened", "cap": {"points": 5, "per": "week"}}},
    {"name": "Searched", "points": -1, "rule": {"kind": "event", "event": "Products Searched"}},
    {"name": "Has an email", "points": 15,
     "rule": {"kind": "condition",
              "condition": {"type": "attribute", "attribute": "email", "operator": "is_set"}}},
]  # fmt: skip


def run_scoring(
    *,
    database_url: str | None,
    path: Path | None,
    workspace_id: int | None,
    contacts: int,
    events: int,
    changed: int,
    keep: bool,
    say: Callable[[str], None],
    per_contact: int = 1,
) -> dict[str, Any]:
    figures: dict[str, Any] = {"cpus": cpus()}
    with workdir(keep) as tmp:
        engine, gen, url = open_dataset(
            database_url=database_url, path=path, workspace_id=workspace_id, tmp=tmp,
            contacts=contacts, events=events, say=say,
        )  # fmt: skip
        try:
            figures |= {"contacts": gen.spec.contacts, "events": gen.spec.events,
                        "database": url.partition(":")[0].partition("+")[0]}  # fmt: skip
            figures |= _run(engine, gen, changed, per_contact, say)
        finally:
            engine.dispose()
    return figures


def _run(
    engine: Any, gen: Generated, changed: int, per_contact: int, say: Callable[[str], None]
) -> dict[str, Any]:
    from sqlalchemy import delete, func, select

    from kairos.contacts.changes import process_changes
    from kairos.runtime import tune_gc
    from kairos.scoring.engine import recompute_due, score_changes
    from kairos.scoring.service import create_model, create_rule
    from kairos.scoring.tables import contact_score, score_ledger, score_model

    now = gen.spec.reference
    ws = gen.workspace_id
    with engine.begin() as conn:
        stale = delete(score_model).where(score_model.c.workspace_id == ws, score_model.c.key == MODEL_KEY)
        conn.execute(stale)
        model_id = create_model(conn, ws, now, key=MODEL_KEY, name="Bench engagement", is_default=False)["id"]
        for r in RULES:
            create_rule(conn, ws, model_id, now, **r)
    out: dict[str, Any] = {"rules": len(RULES)}
    try:
        t0 = time.perf_counter()
        batches = 0
        while True:
            with engine.begin() as conn:
                if not recompute_due(conn, now):
                    break
            batches += 1
        seconds = time.perf_counter() - t0
        with engine.connect() as conn:
            scored = conn.execute(
                select(func.count()).select_from(contact_score).where(contact_score.c.model_id == model_id)
            ).scalar_one()
            rows = conn.execute(
                select(func.count()).select_from(score_ledger).where(score_ledger.c.model_id == model_id)
            ).scalar_one()
        out |= {
            "recompute_seconds": round(seconds, 3),
            "recompute_contacts_per_s": round(gen.spec.contacts / seconds, 1),
            "recompute_batches": batches,
            "scored": scored,
            "ledger_rows": rows,
        }
        say(f"full recompute of {gen.spec.contacts:,} contacts ({gen.spec.events:,} events, "
            f"{len(RULES)} rules): "
            f"{seconds:.2f}s in {batches} batches → {out['recompute_contacts_per_s']:,.0f} contacts/s; "
            f"{scored:,} scored")  # fmt: skip

        chosen = _sample_contacts(engine, gen, changed, 8)
        at = now - timedelta(seconds=1)
        _add_events(engine, gen, chosen * per_contact, at, 8)  # each contact's events in one pass
        before = _ledger_count(engine, model_id)
        tune_gc()  # as `kairos worker` and `kairos serve` do at startup
        t0 = time.perf_counter()
        passes = 0
        while True:
            with engine.begin() as conn:
                done = process_changes(conn, now, [score_changes])
            if not done:
                break
            passes += 1
        seconds = time.perf_counter() - t0
        awarded = _ledger_count(engine, model_id) - before
        out |= {
            "changed": len(chosen),
            "per_contact": per_contact,
            "incremental_seconds": round(seconds, 3),
            "events_per_s": round(len(chosen) * per_contact / seconds, 1),
            "incremental_batches": passes,
            "incremental_ledger_rows": awarded,
            "verified": _verify(engine, model_id, chosen[:2000]),
        }
        say(f"{len(chosen) * per_contact:,} new events ({per_contact} per contact) scored incrementally: "
            f"{seconds:.2f}s in {passes} batches → "
            f"{out['events_per_s']:,.0f} events/s ({awarded:,} ledger rows); "
            f"verified: {out['verified']}")  # fmt: skip
    finally:
        _remove_events(engine, gen)
        with engine.begin() as conn:
            conn.execute(delete(score_model).where(score_model.c.id == model_id))
    return out


def _ledger_count(engine: Any, model_id: int) -> int:
    from sqlalchemy import func, select

    from kairos.scoring.tables import score_ledger

    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(score_ledger).where(score_ledger.c.model_id == model_id)
            ).scalar_one()
        )


def _verify(engine: Any, model_id: int, contact_ids: list[int]) -> bool:
    """Each score equals the sum of its ledger."""
    from sqlalchemy import func, select

    from kairos.scoring.tables import contact_score, score_ledger

    with engine.connect() as conn:
        sums = dict(
            conn.execute(
                select(score_ledger.c.contact_id, func.sum(score_ledger.c.delta))
                .where(score_ledger.c.model_id == model_id, score_ledger.c.contact_id.in_(contact_ids))
                .group_by(score_ledger.c.contact_id)
            ).all()
        )
        scores = dict(
            conn.execute(
                select(contact_score.c.contact_id, contact_score.c.score).where(
                    contact_score.c.model_id == model_id, contact_score.c.contact_id.in_(contact_ids)
                )
            ).all()
        )
    return all(abs(sums.get(c, 0.0) - scores.get(c, 0.0)) < 1e-6 for c in set(sums) | set(scores))
