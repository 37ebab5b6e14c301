"""The worker: a list of jobs, each one transaction's worth of due work.

``run_once`` runs every job until none has anything left due (``kairos worker --once``);
``run_forever`` repeats that and, when a pass finds nothing to do, waits
``worker_interval`` seconds — or less when the in-process ingest writer wakes it after a
commit. Due times live in rows, so nothing is lost by stopping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine

from kairos.campaigns.broadcasts import run_broadcasts
from kairos.clock import Clock
from kairos.config import Settings
from kairos.contacts.changes import process_changes
from kairos.crypto import Keyring
from kairos.forms.service import purge_rate_hits
from kairos.journeys.engine import run_due
from kairos.journeys.triggers import journey_changes, scan_triggers
from kairos.messaging.channels import ChannelOptions
from kairos.messaging.dispatcher import Dispatcher
from kairos.offers.redemption import redeem_coupons
from kairos.segments.membership import reevaluate_contacts, refresh_due
from kairos.segments.traits import recompute_traits, refresh_traits_due
from kairos.workspaces.idempotency import purge

log = logging.getLogger(__name__)

#: (name, job(conn, now) -> units of work done)
Job = tuple[str, Callable[[Connection, datetime], int]]

JOBS: list[Job] = [
    # Traits before segments: segment conditions read trait values (``computed.NAME``).
    ("trait_refresh", refresh_traits_due),
    ("segment_refresh", refresh_due),
    (
        "contact_changes",
        # journeys last: they read the segment transitions the pass just recorded
        lambda conn, now: process_changes(
            conn, now, [recompute_traits, reevaluate_contacts, redeem_coupons, journey_changes]
        ),
    ),
    ("journey_triggers", scan_triggers),
    ("broadcasts", run_broadcasts),
    ("journeys", run_due),
    ("idempotency_purge", purge),
    ("form_rate_purge", purge_rate_hits),
]


def build_dispatcher(settings: Settings, engine: Engine, clock: Clock) -> Dispatcher:
    return Dispatcher(
        engine,
        clock,
        Keyring(settings.resolved_secret_key()),
        settings.base_url,
        options=ChannelOptions(allow_private_targets=settings.webhook_allow_private),
        batch_size=settings.dispatch_batch,
        unsubscribe_mailbox=settings.unsubscribe_mailbox,
    )


class Worker:
    """Runs ``JOBS`` and, when given a dispatcher, the message dispatcher. The dispatcher
    manages its own transactions: it must not hold one while it talks to providers."""

    def __init__(
        self, engine: Engine, clock: Clock, interval: float = 0.5, dispatcher: Dispatcher | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.interval = interval
        self.dispatcher = dispatcher
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, max_rounds: int = 1000) -> dict[str, int]:
        """Run every job until nothing is due (or ``max_rounds``); returns work done per job."""
        done = {name: 0 for name, _ in JOBS}
        done["dispatch"] = 0
        for _ in range(max_rounds):
            progressed = False
            for name, job in JOBS:
                with self.engine.begin() as conn:
                    count = job(conn, self.clock.now())
                done[name] += count
                progressed = progressed or count > 0
            if self.dispatcher is not None:
                count = self.dispatcher.run(self.clock.now())
                done["dispatch"] += count
                progressed = progressed or count > 0
            if not progressed:
                break
        return done

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.run_once(max_rounds=1)
            except Exception:
                log.exception("worker pass failed; retrying")
                done = {}
            if not any(done.values()):
                self._wake.wait(self.interval)
                self._wake.clear()

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
