"""The worker: a list of jobs, each one transaction's worth of due work.

``run_once`` runs every job until none has anything left due (``kairos worker --once``);
``run_forever`` repeats that and, when a pass finds nothing to do, waits
``worker_interval`` seconds — or less when the in-process ingest writer wakes it after a
commit. Due times live in rows, so nothing is lost by stopping.

Each round runs the jobs for every live workspace at the real now, then for each sandbox
workspace at its own virtual now, each scoped to its own rows (``workspaces/clocks.py``): a
sandbox's clock never moves a live workspace, and the real clock never runs a sandbox ahead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine

from kairos import metrics
from kairos.accounts.sessions import purge as purge_sessions
from kairos.b2b.rollup import account_changes, rollups_due
from kairos.campaigns.broadcasts import run_broadcasts
from kairos.clock import Clock
from kairos.config import Settings
from kairos.contacts.changes import process_changes
from kairos.crm.sync import CrmSyncer, crm_changes
from kairos.crypto import Keyring
from kairos.db.engine import reading
from kairos.db.faults import classify
from kairos.db.faults import reason as _reason
from kairos.events.log import process as process_log
from kairos.events.partitions import apply_retention, ensure_ahead
from kairos.forms.service import purge_rate_hits
from kairos.journeys.engine import run_due
from kairos.journeys.triggers import journey_changes, scan_triggers
from kairos.leads.assignment import assign_on_stage
from kairos.leads.rules import apply_lifecycle_rules
from kairos.leads.sla import escalate_slas
from kairos.leads.tasks import escalate_overdue
from kairos.messaging.channels import ChannelOptions
from kairos.messaging.dispatcher import Dispatcher
from kairos.offers.redemption import redeem_coupons
from kairos.predict.jobs import run_due as run_predictions
from kairos.scoring.engine import decay_due, recompute_due, score_changes, score_segment_changes
from kairos.segments.membership import recheck_due, reevaluate_contacts, refresh_due
from kairos.segments.traits import recompute_traits, refresh_traits_due
from kairos.workspaces.clocks import Scope, sandbox_clocks
from kairos.workspaces.idempotency import purge

log = logging.getLogger(__name__)

#: seconds between looks at event partitions and retention, once nothing is left to do
EVENT_MAINTENANCE_INTERVAL = 3600.0
#: longest wait between passes while the database is unavailable (seconds)
MAX_BACKOFF = 30.0

#: (name, job(conn, now, scope) -> units of work done)
Job = tuple[str, Callable[[Connection, datetime, Scope], int]]


class OwnTransactions:
    """A job that the worker calls with the engine, to run transactions of its own (a read
    phase beside the writer); called with a connection, it does its work in that one."""

    def __init__(
        self,
        in_transaction: Callable[[Connection, datetime, Scope], int],
        with_engine: Callable[[Engine, datetime, Scope], int],
    ) -> None:
        self.in_transaction = in_transaction
        self.with_engine = with_engine

    def __call__(self, conn: Connection, now: datetime, scope: Scope) -> int:
        return self.in_transaction(conn, now, scope)


JOBS: list[Job] = [
    # Traits before segments: segment conditions read trait values (``computed.NAME``).
    ("trait_refresh", refresh_traits_due),
    # time-driven re-checks compute in a read transaction, then write only the difference
    ("segment_refresh", OwnTransactions(refresh_due, recheck_due)),
    # Score recompute and decay queue the contacts whose score moved for the pass below.
    ("score_recompute", recompute_due),
    ("score_decay", decay_due),
    (
        "contact_changes",
        # journeys last: they read the segment transitions the pass just recorded
        lambda conn, now, scope: process_changes(
            conn,
            now,
            # lifecycle rules after traits (and scores), before segments: these see the new stage
            [
                recompute_traits,
                # scores before segments (``score`` conditions) and lifecycle rules; score
                # rules on segment membership after segments, then segments testing scores
                score_changes,
                apply_lifecycle_rules,
                assign_on_stage,
                reevaluate_contacts,
                score_segment_changes,
                # B2B accounts after scores and segments: roll-ups, then account segments
                account_changes,
                redeem_coupons,
                journey_changes,
                crm_changes,
            ],
            scope=scope,
        ),
    ),
    # accounts changed outside the pass (API, merges, decay): roll-ups and account segments
    ("account_rollups", rollups_due),
    ("journey_triggers", scan_triggers),
    ("lead_sla", escalate_slas),
    ("task_overdue", escalate_overdue),
    ("broadcasts", run_broadcasts),
    ("journeys", lambda conn, now, scope: run_due(conn, now, scope=scope)),
]

#: Housekeeping on the real clock, in the live pass only: idempotency keys and form rate
#: limits are about HTTP requests, which happen in real time in every workspace.
HOUSEKEEPING: list[tuple[str, Callable[[Connection, datetime], int]]] = [
    ("idempotency_purge", purge),
    ("form_rate_purge", purge_rate_hits),
    ("session_purge", purge_sessions),
]


def _fixed(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def _unscoped(job: Callable[[Connection, datetime], int]) -> Callable[[Connection, datetime, Scope], int]:
    return lambda conn, now, _scope: job(conn, now)


def build_dispatcher(settings: Settings, engine: Engine, clock: Clock) -> Dispatcher:
    return Dispatcher(
        engine,
        clock,
        Keyring(settings.resolved_secret_key()),
        settings.base_url,
        options=ChannelOptions(allow_private_targets=settings.allow_private_targets),
        batch_size=settings.dispatch_batch,
        unsubscribe_mailbox=settings.unsubscribe_mailbox,
    )


class Worker:
    """Runs ``JOBS`` and, when given a dispatcher, the message dispatcher. The dispatcher
    manages its own transactions: it must not hold one while it talks to providers."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        interval: float = 0.5,
        dispatcher: Dispatcher | None = None,
        crm: CrmSyncer | None = None,
        event_retention_days: int = 0,
    ) -> None:
        self.engine = engine
        self.event_retention_days = event_retention_days
        self._events_due = 0.0  # time.monotonic() of the next look at partitions and retention
        self.clock = clock
        self.interval = interval
        self.dispatcher = dispatcher
        # CRM sync calls outside services like the dispatcher: it runs where the dispatcher does
        if crm is None and dispatcher is not None:
            crm = CrmSyncer(engine, dispatcher.keyring, dispatcher.options)
        self.crm = crm
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # run_forever trains predictive models in a thread of their own (minutes at scale),
        # so journeys and sends never wait for a training; run_once trains in line
        self._predict_in_background = False
        self._predicting: threading.Thread | None = None

    def run_once(self, max_rounds: int = 1000, *, keep_going: bool = False) -> dict[str, int]:
        """Run every job until nothing is due (or ``max_rounds``); returns work done per job.

        A job's error ends the pass, unless ``keep_going`` (``run_forever``): then a job
        that conflicted with another worker or failed on its own is logged and the others
        still run (its transaction rolled back, so it is simply due again next pass). An
        unavailable database (``db.faults``) always ends the pass."""
        done = {name: 0 for name, _ in [*JOBS, *HOUSEKEEPING]}
        done["dispatch"] = done["crm_sync"] = done["predict"] = done["ingest_log"] = done[
            "event_maintenance"
        ] = 0
        for _ in range(max_rounds):
            with reading(self.engine) as conn:
                sandboxes = sandbox_clocks(conn)
            steps = self._steps(self.clock.now, Scope(excluded=frozenset(sandboxes)), housekeeping=True)
            for workspace_id, at in sandboxes.items():
                steps += self._steps(_fixed(at), Scope(only=workspace_id))
            if not self._round(steps, done, keep_going):
                break
        return done

    def run_workspace(self, workspace_id: int, now: datetime, max_rounds: int = 1000) -> dict[str, int]:
        """Run one workspace's jobs as of ``now`` until nothing is due: a sandbox's pass at
        each instant it is advanced through (``worker/sandbox.py``)."""
        done = {name: 0 for name, _ in JOBS}
        done["dispatch"] = done["crm_sync"] = done["predict"] = done["ingest_log"] = 0
        steps = [("ingest_log", self._ingest_log), *self._steps(_fixed(now), Scope(only=workspace_id))]
        for _ in range(max_rounds):
            if not self._round(steps, done, keep_going=False):
                break
        return done

    def _steps(
        self, now: Callable[[], datetime], scope: Scope, *, housekeeping: bool = False
    ) -> list[tuple[str, Callable[[], int]]]:
        steps = [(name, self._job(job, now, scope)) for name, job in JOBS]
        if housekeeping:
            # first: what /v1 accepted becomes events before the jobs look for changes (the
            # server's processor does this within milliseconds; here for rows it left)
            steps.insert(0, ("ingest_log", self._ingest_log))
            steps += [(name, self._job(_unscoped(job), now, scope)) for name, job in HOUSEKEEPING]
            steps.append(("event_maintenance", lambda: self._event_maintenance(now())))
        if self.dispatcher is not None:
            dispatcher = self.dispatcher
            steps.append(("dispatch", lambda: dispatcher.run(now(), scope)))
        if self.crm is not None:
            crm = self.crm
            steps.append(("crm_sync", lambda: crm.run(now(), scope)))
        # predictive models: trained when due and re-scored daily, with transactions of their
        # own (a training reads for minutes without holding one; kairos.predict.jobs)
        steps.append(("predict", lambda: self._predict(now(), scope)))
        return steps

    def _round(
        self, steps: list[tuple[str, Callable[[], int]]], done: dict[str, int], keep_going: bool
    ) -> bool:
        """Run each step once; whether any did some work."""
        progressed = False
        for name, step in steps:
            try:
                with metrics.WORKER_JOB_SECONDS.labels(name).time():
                    count = step()
            except Exception as exc:
                metrics.WORKER_JOB_ERRORS.labels(name, classify(exc) or "error").inc()
                if not keep_going or classify(exc) == "unavailable":
                    raise
                if classify(exc) == "conflict":
                    log.warning("worker job %s conflicted with another transaction; retrying: %s",
                                name, _reason(exc))  # fmt: skip
                else:
                    log.exception("worker job %s failed; it runs again next pass", name)
                continue
            done[name] += count
            progressed = progressed or count > 0
        return progressed

    def _job(
        self, job: Callable[[Connection, datetime, Scope], int], now: Callable[[], datetime], scope: Scope
    ) -> Callable[[], int]:
        if isinstance(job, OwnTransactions):
            engine, run = self.engine, job.with_engine
            return lambda: run(engine, now(), scope)

        def step() -> int:
            with self.engine.begin() as conn:
                return job(conn, now(), scope)

        return step

    def _event_maintenance(self, now: datetime) -> int:
        """Hourly (and until nothing is left to do): the next months' event partitions
        (PostgreSQL) and a batch of retention. Live time only: a sandbox's clock never
        creates months or deletes events."""
        if time.monotonic() < self._events_due:
            return 0
        with self.engine.begin() as conn:
            created = len(ensure_ahead(conn, now))
        removed = apply_retention(self.engine, now, self.event_retention_days)
        if not removed:
            self._events_due = time.monotonic() + EVENT_MAINTENANCE_INTERVAL
        return created + removed

    def _ingest_log(self) -> int:
        done = 0
        while True:
            count, more = process_log(self.engine, self.clock)
            done += count
            if not more:
                return done

    def backoff(self, failures: int) -> float:
        """Seconds to wait after ``failures`` passes in a row found the database unavailable:
        the interval doubled each time, up to ``MAX_BACKOFF``."""
        return float(min(self.interval * 2 ** min(failures, 16), MAX_BACKOFF))

    def _predict(self, now: datetime, scope: Scope) -> int:
        if not self._predict_in_background:
            return run_predictions(self.engine, now, scope)
        if self._predicting is not None and self._predicting.is_alive():
            return 0

        def predict() -> None:
            try:
                while run_predictions(self.engine, now, scope):
                    pass
            except Exception:
                log.exception("predictive step failed; it runs again next pass")

        self._predicting = threading.Thread(target=predict, name="kairos-predict", daemon=True)
        self._predicting.start()
        return 0

    def run_forever(self) -> None:
        self._predict_in_background = True
        failures = 0
        while not self._stop.is_set():
            try:
                done = self.run_once(max_rounds=1, keep_going=True)
            except Exception as exc:
                failures += 1
                delay = self.backoff(failures)
                if classify(exc) is not None:  # disk full, read-only, connection refused …
                    log.error("worker pass failed: the database is unavailable (%s); retrying in %.1f s",
                              _reason(exc), delay)  # fmt: skip
                else:
                    log.exception("worker pass failed; retrying in %.1f s", delay)
                self._pause(delay)  # new work committed meanwhile does not help: no wake-up
                continue
            if failures:
                log.info("worker pass succeeded again after %d failed passes", failures)
                failures = 0
            if not any(done.values()):
                self._wake.wait(self.interval)
                self._wake.clear()

    def _pause(self, seconds: float) -> None:
        """Wait before retrying, ending early when asked to stop."""
        self._stop.wait(seconds)

    def request_stop(self) -> None:
        """Stop ``run_forever`` after the pass in progress (safe from a signal handler)."""
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """New work was just committed (ingest in the same process): look now rather than
        at the end of the interval."""
        self._wake.set()

    def start(self) -> None:
        """Run in a background thread (embedded mode of ``kairos serve``)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name="kairos-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self.dispatcher is not None:
            self.dispatcher.close()
        if self.crm is not None:
            self.crm.close()
