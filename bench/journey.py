"""B5: 100k contacts enter a journey "wait 1 day → opened the welcome email? → email or SMS"
— entries/s, and timer transitions/s once the day has passed.

Everything runs in this process, on the engine's own functions, with a ``FixedClock``:

- **Setup** (untimed): a fresh database (SQLite in a scratch directory, or ``--database-url``
  migrated with a new workspace), ``--contacts`` contacts inserted in bulk, an email and an SMS
  template, and a journey with an ``api`` trigger, published::

      wait 1 day → condition: performed "Email Opened" in the last 2 days
                     ├─ yes → send email → end
                     └─ no  → send SMS   → end

  No channel is configured and no dispatcher runs: messages are only queued in the outbox.
  ``ANALYZE`` follows the bulk insert (and the opens below), so the planner has the
  statistics a live database would have.
- **Entries** (timed): every contact is enrolled through ``entry.enroll`` (the path every
  trigger takes: entry rules, then the rows inserted with ``ON CONFLICT DO NOTHING``),
  ``--batch`` candidates per transaction, then ``engine.run_due`` — one transaction per claim of
  ``--due-limit`` (the worker's default) — until nothing is due, which moves each enrollment
  into its wait. An entry is done when its enrollment waits at the wait node:
  ``entries_per_s`` = contacts / (enroll time + run_due time), both also given alone.
- **Opens** (untimed): an ``Email Opened`` event for ``--opened`` of the contacts (a seeded
  sample), stored as Kairos records opens itself (``record_internal``), 12 hours after entry.
- **Transitions** (timed): the clock moves 1 day and 1 minute on; ``run_due`` runs, one
  transaction per claim, until it returns 0. Each enrollment goes wait → condition (a segment
  condition evaluated for the claimed batch) → send (queued in the outbox) → end: three rows
  of ``journey_step``. ``transitions_per_s`` = step rows written in the phase / its time.

At the end every enrollment must be ``completed``, with exactly one message each: email for
the contacts who opened, SMS for the others; anything else fails the run. ``peak_rss_mb`` is
this process's peak resident set during the two timed phases (the high-water mark is reset
after setup through ``/proc/self/clear_refs`` where Linux allows it; otherwise it is the
whole run's). The collector runs as in ``kairos worker`` (``runtime.tune_gc`` after setup: what exists is
frozen, young collections every 50,000 allocations; ``gc`` in the figures); with
``Options(worker_gc=False)``, Python's defaults, as before 2026-12-07's second round.
``--profile DIR`` runs each timed phase under cProfile (slower: never quote
those figures) and writes ``entries.prof`` and ``transitions.prof``.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import random
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kairos_bench.common import BenchError, cpus, database_url_or_default, self_cpu_seconds, workdir

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CITIES = ["Paris", "Shanghai", "Austin", "Lagos", "Berlin", "São Paulo", "Osaka", "Toronto"]


@dataclass(frozen=True)
class Options:
    contacts: int = 100_000
    batch: int = 5_000  # candidates per enroll transaction
    due_limit: int = 2_000  # enrollments run_due claims per transaction (the worker's default)
    opened: float = 0.3  # share of contacts who opened the welcome email
    seed: int = 1
    profile: Path | None = None
    #: the collector as ``kairos worker`` sets it after start-up (``runtime.tune_gc``), applied
    #: after setup; False: Python's defaults (the figures before 2026-12-07's second round)
    worker_gc: bool = True


@dataclass(frozen=True)
class Setup:
    workspace_id: int
    journey_id: int
    version_id: int
    definition: Any
    contact_ids: list[int]


def run_journey(
    options: Options, *, database_url: str | None, keep: bool, say: Callable[[str], None]
) -> dict[str, Any]:
    from kairos.clock import FixedClock
    from kairos.config import Settings
    from kairos.db.engine import make_engine
    from kairos.db.migrate import upgrade
    from kairos.runtime import tune_gc

    clock = FixedClock(T0)
    gc_before = gc.get_threshold()
    with workdir(keep) as tmp:
        url = database_url_or_default(database_url, tmp)
        settings = Settings(database_url=url, secret_key="bench-secret-key", _env_file=None)  # type: ignore[call-arg]
        engine = make_engine(settings)
        try:
            upgrade(engine)
            say(f"preparing {options.contacts:,} contacts, two templates and the journey …")
            setup = _prepare(engine, options, clock.now())
            _analyze(engine)
            if options.worker_gc:
                tune_gc()
            rss_reset = _reset_peak_rss()
            rss_before_mb = _rss_mb("VmRSS")

            say("entries: enroll, then run_due until every enrollment waits …")
            entries = _profiled(options.profile, "entries", lambda: _entries(engine, setup, options, clock))
            waiting = _states(engine, setup.journey_id)
            if waiting != {("active", "wait"): options.contacts}:
                raise BenchError(f"after the entries, enrollments are {waiting}, not all waiting at 'wait'")
            e = entries
            say(f"{options.contacts:,} entries in {e['seconds']:.2f}s "
                f"(enroll {e['enroll_s']:.2f}s, first step {e['first_step_s']:.2f}s)")  # fmt: skip

            opened = _opens(engine, setup, options, clock.now() + timedelta(hours=12))
            _analyze(engine)
            clock.advance(timedelta(days=1, minutes=1))
            say(f"{len(opened):,} contacts opened the email; the day has passed: run_due until done …")
            moves = _profiled(
                options.profile, "transitions", lambda: _transitions(engine, setup, options, clock)
            )
            peak_rss_mb = _rss_mb("VmHWM")
            say(f"{moves['steps']:,} transitions in {moves['seconds']:.2f}s")
            checked = _verify(engine, setup, opened)
        finally:
            engine.dispose()
            if options.worker_gc:
                gc.unfreeze()
                gc.set_threshold(*gc_before)
    return {
        "entries_per_s": round(options.contacts / entries["seconds"], 1),
        "transitions_per_s": round(moves["steps"] / moves["seconds"], 1),
        "entries_seconds": round(entries["seconds"], 3),
        "enroll_s": round(entries["enroll_s"], 3),
        "first_step_s": round(entries["first_step_s"], 3),
        "transitions_seconds": round(moves["seconds"], 3),
        "transitions": moves["steps"],
        "transition_passes": moves["passes"],
        "cpu_us_per_entry": round(entries["cpu_s"] / options.contacts * 1e6, 1),
        "cpu_us_per_transition": round(moves["cpu_s"] / max(moves["steps"], 1) * 1e6, 1),
        "email_queued": checked["email"],
        "sms_queued": checked["sms"],
        "email_share": round(checked["email"] / options.contacts, 4),
        "completed": checked["completed"],
        "peak_rss_mb": peak_rss_mb,
        "peak_rss_scope": "timed phases" if rss_reset else "whole run",
        "rss_before_mb": rss_before_mb,
        "batch": options.batch,
        "due_limit": options.due_limit,
        "profiled": options.profile is not None,
        "gc": "worker" if options.worker_gc else "default",
        "database": url.partition(":")[0].partition("+")[0],
        "contacts": options.contacts,
        "events": len(opened),
        "cpus": cpus(),
    }


# --- setup -------------------------------------------------------------------------------------


def _prepare(engine: Any, options: Options, now: datetime) -> Setup:
    from sqlalchemy import insert, select

    from kairos.clock import FixedClock
    from kairos.contacts.tables import contact
    from kairos.journeys.engine import VERSIONS
    from kairos.journeys.service import create_journey, publish
    from kairos.messaging.service import create_template
    from kairos.workspaces.service import create_workspace

    with engine.begin() as conn:
        ws = create_workspace(conn, FixedClock(now), f"bench-journey-{time.time_ns()}").id
        created = now - timedelta(days=30)
        for start in range(0, options.contacts, 10_000):
            conn.execute(
                insert(contact),
                [
                    {
                        "workspace_id": ws, "external_id": f"u{i}", "email": f"user{i}@example.com",
                        "phone": f"+1212555{i % 10_000:04d}", "first_name": f"Name{i}", "last_name": "Bench",
                        "timezone": "UTC", "score": 0, "traits": {"city": CITIES[i % len(CITIES)]},
                        "created_at": created, "updated_at": created,
                    }
                    for i in range(start, min(start + 10_000, options.contacts))
                ],
            )  # fmt: skip
        email = create_template(conn, ws, now, name="welcome-reminder", channel="email", fields={
            "subject": "{{ contact.first_name }}, your welcome gift is waiting",
            "format": "html",
            "body": "<p>Hi {{ contact.first_name }}, here is 10% off your first order.</p>"
                    '<p><a href="{{ links.unsubscribe_url }}">Unsubscribe</a></p>',
        })["id"]  # fmt: skip
        sms = create_template(conn, ws, now, name="welcome-sms", channel="sms", fields={
            "text": "Hi {{ contact.first_name }}, your welcome gift: 10% off with code HELLO",
        })["id"]  # fmt: skip
        definition = {
            "trigger": {"type": "api"},
            "start": "wait",
            "nodes": {
                "wait": {"type": "wait", "duration": {"days": 1}, "next": "opened"},
                "opened": {
                    "type": "condition",
                    "condition": {
                        "type": "performed",
                        "event": "Email Opened",
                        "window": {"last": {"amount": 2, "unit": "days"}},
                    },
                    "yes": "email",
                    "no": "sms",
                },
                "email": {"type": "send", "channel": "email", "template_id": email, "next": None},
                "sms": {"type": "send", "channel": "sms", "template_id": sms, "next": None},
            },
        }
        jid = create_journey(
            conn, ws, now, name="welcome follow-up", description=None, definition=definition, layout=None
        )["id"]
        version_id = publish(conn, ws, jid, now)["version_id"]
        parsed = VERSIONS.get(conn, version_id)[2]
        ids = list(
            conn.execute(
                select(contact.c.id).where(contact.c.workspace_id == ws).order_by(contact.c.id)
            ).scalars()
        )
    return Setup(int(ws), int(jid), int(version_id), parsed, [int(i) for i in ids])


def _opens(engine: Any, setup: Setup, options: Options, at: datetime) -> set[int]:
    """An "Email Opened" event for a seeded sample of the contacts, as Kairos records opens."""
    from kairos.events.ingest import InternalEvent, record_internal

    k = round(len(setup.contact_ids) * options.opened)
    opened = random.Random(options.seed).sample(setup.contact_ids, k)
    with engine.begin() as conn:
        for start in range(0, k, 10_000):
            record_internal(
                conn,
                setup.workspace_id,
                [
                    InternalEvent(
                        cid, "Email Opened", {"template": "welcome"}, at, f"kairos-bench-open-{cid}"
                    )
                    for cid in opened[start : start + 10_000]
                ],
                at,
            )
    return set(opened)


def _analyze(engine: Any) -> None:
    """Planner statistics for the rows just written (as a live database would have them);
    without them PostgreSQL picks the workspace index for ``contact.id IN (…)`` lookups."""
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


# --- timed phases --------------------------------------------------------------------------------


def _entries(engine: Any, setup: Setup, options: Options, clock: Any) -> dict[str, float]:
    from kairos.journeys.entry import Candidate, enroll

    now = clock.now()
    cpu0 = self_cpu_seconds()
    t0 = time.perf_counter()
    entered = 0
    for start in range(0, len(setup.contact_ids), options.batch):
        candidates = [
            Candidate(cid, f"api:bench-{cid}", {"payload": {}})
            for cid in setup.contact_ids[start : start + options.batch]
        ]
        with engine.begin() as conn:
            entered += len(
                enroll(conn, setup.workspace_id, setup.journey_id, setup.version_id, setup.definition,
                       candidates, now)
            )  # fmt: skip
    t1 = time.perf_counter()
    moved = _drain(engine, now, options.due_limit)[0]
    t2 = time.perf_counter()
    cpu = self_cpu_seconds() - cpu0
    if entered != len(setup.contact_ids) or moved != entered:
        raise BenchError(
            f"{entered} contacts entered and {moved} moved, for {len(setup.contact_ids)} contacts"
        )
    return {"seconds": t2 - t0, "enroll_s": t1 - t0, "first_step_s": t2 - t1, "cpu_s": cpu}


def _transitions(engine: Any, setup: Setup, options: Options, clock: Any) -> dict[str, float]:
    before = _step_count(engine, setup.journey_id)
    cpu0 = self_cpu_seconds()
    t0 = time.perf_counter()
    moved, passes = _drain(engine, clock.now(), options.due_limit)
    seconds = time.perf_counter() - t0
    cpu = self_cpu_seconds() - cpu0
    steps = _step_count(engine, setup.journey_id) - before
    if moved != len(setup.contact_ids):
        raise BenchError(f"run_due handled {moved} enrollments, not {len(setup.contact_ids)}")
    return {"seconds": seconds, "steps": steps, "passes": passes, "cpu_s": cpu}


def _drain(engine: Any, now: datetime, limit: int) -> tuple[int, int]:
    """``run_due`` in its own transaction per claim, as the worker does, until nothing is due."""
    from kairos.journeys.engine import run_due

    total = passes = 0
    while True:
        with engine.begin() as conn:
            done = run_due(conn, now, limit)
        if not done:
            return total, passes
        total += done
        passes += 1


def _profiled(directory: Path | None, name: str, run: Callable[[], dict[str, float]]) -> dict[str, float]:
    if directory is None:
        return run()
    directory.mkdir(parents=True, exist_ok=True)
    profiler = cProfile.Profile()
    result = profiler.runcall(run)
    path = directory / f"{name}.prof"
    profiler.dump_stats(path)
    stats = pstats.Stats(str(path), stream=sys.stderr)
    stats.sort_stats("tottime").print_stats(25)
    return result


# --- checks --------------------------------------------------------------------------------------


def _step_count(engine: Any, journey_id: int) -> int:
    from sqlalchemy import func, select

    from kairos.journeys.tables import journey_step

    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(journey_step).where(journey_step.c.journey_id == journey_id)
            ).scalar_one()
        )


def _states(engine: Any, journey_id: int) -> dict[tuple[str, str | None], int]:
    from sqlalchemy import func, select

    from kairos.journeys.tables import enrollment

    with engine.connect() as conn:
        rows = conn.execute(
            select(enrollment.c.state, enrollment.c.node, func.count())
            .where(enrollment.c.journey_id == journey_id)
            .group_by(enrollment.c.state, enrollment.c.node)
        ).all()
    return {(state, node): int(n) for state, node, n in rows}


def _verify(engine: Any, setup: Setup, opened: set[int]) -> dict[str, int]:
    """Every enrollment completed, one message each: email if the contact opened, else SMS."""
    from sqlalchemy import select

    from kairos.messaging.tables import message

    n = len(setup.contact_ids)
    states = _states(engine, setup.journey_id)
    completed = states.get(("completed", None), 0)
    if completed != n:
        raise BenchError(f"not every enrollment completed: {states}")
    with engine.connect() as conn:
        rows = conn.execute(
            select(message.c.contact_id, message.c.channel).where(
                message.c.workspace_id == setup.workspace_id, message.c.source == "journey"
            )
        ).all()
    by_contact: dict[int, str] = {}
    for cid, channel in rows:
        if cid in by_contact:
            raise BenchError(f"contact {cid} got more than one message")
        by_contact[cid] = channel
    wrong = [cid for cid in setup.contact_ids if by_contact.get(cid) != ("email" if cid in opened else "sms")]
    if wrong:
        raise BenchError(
            f"{len(wrong)} contacts got the wrong message or none (first: {wrong[0]}, "
            f"{by_contact.get(wrong[0])!r}, opened: {wrong[0] in opened})"
        )
    email = sum(1 for c in by_contact.values() if c == "email")
    return {"completed": completed, "email": email, "sms": len(by_contact) - email}


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (VmHWM) so the timed phases are measured alone."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process; ``ru_maxrss`` where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
