"""Prometheus metrics: what operators watch (``docs/operations.md``, "Metrics").

Two kinds, served together by ``GET /metrics`` (``api/app.py``) and by the admin port of
``kairos worker`` (``serve_admin``):

- **Process metrics**, counted where the work happens, in ``REGISTRY`` (a registry of our
  own, not prometheus-client's global one): ingest accepted/rejected, worker job durations
  and errors, sends per channel and outcome, segment refresh durations. They are **per
  process**: each ``serve`` process and each ``kairos worker`` counts its own and is scraped
  as a target of its own (Prometheus's ``instance`` label tells them apart; ``sum by (…)``
  adds them up). prometheus-client's multiprocess mode is not used: ``serve --workers N``
  answers a scrape from whichever of its N processes takes the connection, so run one
  process per scraped port where per-process counters matter.
- **Database metrics**, read at scrape time by ``DatabaseCollector``: the ingest log's
  pending messages and lag, outbox depth by status and channel, the oldest due message, the
  journey backlog of due enrollments. They are **global** (the whole database), the same
  whichever process answers: aggregate them with ``max``, never ``sum``. Each is one
  indexed query whose count stops at ``COUNT_CAP`` rows (the ingest log, kept short by its
  processor, is counted whole), so a scrape stays cheap however large the backlog grows; a
  database that cannot be read makes ``kairos_database_up`` 0 instead of failing the scrape.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, bindparam, func, literal, select

from kairos.clock import Clock, ensure_utc
from kairos.db.engine import reading
from kairos.events.log import pending as ingest_pending
from kairos.journeys.tables import enrollment
from kairos.messaging.tables import message
from kairos.workspaces.clocks import Scope, sandbox_clocks

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

#: a scrape-time count stops here (the gauge then reads this, meaning "at least"): far past
#: any alert threshold, and a scrape at the cap costs 0.1 to 0.4 s (1M-row tables, this
#: project's 2-core machine, docs/operations.md)
COUNT_CAP = 100_000

#: seconds, for job and refresh durations: 1 ms … 2 min
_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

INGEST_ACCEPTED = Counter(
    "kairos_ingest_messages_accepted",
    "Ingest messages (/v1 track, identify, … and each message of a batch) acknowledged",
    registry=REGISTRY,
)
INGEST_REJECTED = Counter(
    "kairos_ingest_messages_rejected",
    "Ingest requests or messages refused, by reason (the error code answered)",
    ["reason"],
    registry=REGISTRY,
)
WORKER_JOB_SECONDS = Histogram(
    "kairos_worker_job_seconds",
    "Duration of one run of a worker job (one transaction's worth of due work), by job",
    ["job"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)
WORKER_JOB_ERRORS = Counter(
    "kairos_worker_job_errors",
    "Worker job runs that failed, by job and kind (unavailable, conflict, error)",
    ["job", "kind"],
    registry=REGISTRY,
)
MESSAGES_SENT = Counter(
    "kairos_messages_sent",
    "Messages handed to a provider, by channel and outcome (sent, retry, bounced, failed; "
    "template_error: not rendered, so not handed over)",
    ["channel", "outcome"],
    registry=REGISTRY,
)
SEGMENT_REFRESH_SECONDS = Histogram(
    "kairos_segment_refresh_seconds",
    "Duration of one full segment refresh by the worker (evaluation, memberships, dependents)",
    buckets=_BUCKETS,
    registry=REGISTRY,
)


def ingest_accepted(n: int = 1) -> None:
    """``n`` ingest messages were acknowledged (call after the durable append)."""
    INGEST_ACCEPTED.inc(n)


def ingest_rejected(reason: str) -> None:
    """An ingest request (or one message of it) was refused; ``reason`` is the error code
    answered (``invalid_json``, ``unauthorized``, ``request_too_large`` …): a short, fixed
    vocabulary, never user input, since each value is a time series."""
    INGEST_REJECTED.labels(reason).inc()


class _Claimed(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def channel(self) -> str: ...


class _Answer(Protocol):
    @property
    def status(self) -> str: ...


def count_sends(
    claimed: Iterable[_Claimed], results: Mapping[int, _Answer], failures: Mapping[int, Any]
) -> None:
    """The dispatcher recorded a batch: count each message by channel and outcome — the
    provider's answer, ``template_error`` when it could not be rendered, ``retry`` when the
    provider gave no answer."""
    tally: Tally[tuple[str, str]] = Tally()
    for c in claimed:
        if c.id in failures:
            outcome = "template_error"
        else:
            answer = results.get(c.id)
            outcome = answer.status if answer is not None else "retry"
        tally[(c.channel, outcome)] += 1
    for (channel, outcome), n in tally.items():
        MESSAGES_SENT.labels(channel, outcome).inc(n)


class DatabaseCollector:
    """The scrape-time gauges read from the database (see the module's docstring)."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "kairos_database_up", "1 when the scrape-time database metrics could be read, else 0"
        )
        try:
            families = self._read()
        except Exception as exc:  # the scrape still answers, with the process metrics
            log.warning("metrics: the database could not be read: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> list[Metric]:
        now = self.clock.now()
        m, e = message.c, enrollment.c
        with reading(self.engine) as conn:
            # sandboxes run on virtual clocks: their waiting rows are not late by the real one
            live = Scope(excluded=frozenset(sandbox_clocks(conn)))
            # only the unsettled statuses, found in ix_message_due (status, next_attempt_at),
            # each row then read for its channel. The
            # index's order keeps planners on it (SQLite otherwise scanned a covering index
            # of the whole table when half of it was queued)
            pending = (
                select(m.status, m.channel)
                .where(m.status.in_(("queued", "sending")))
                .order_by(m.status, m.next_attempt_at)
                .limit(bindparam("cap", COUNT_CAP))
                .subquery()
            )
            depth = conn.execute(
                select(pending.c.status, pending.c.channel, func.count())
                .group_by(pending.c.status, pending.c.channel)
                .order_by(pending.c.status, pending.c.channel)
            ).all()
            # the head of ix_message_due: the message waiting longest past its due time
            oldest_message = conn.execute(
                select(func.min(m.next_attempt_at)).where(
                    m.status == "queued", m.next_attempt_at <= now, live.clause(m.workspace_id)
                )
            ).scalar()
            # ix_enrollment_due (state, resume_at)
            due = (
                select(literal(1))
                .where(e.state == "active", e.resume_at <= now, live.clause(e.workspace_id))
                .limit(bindparam("cap", COUNT_CAP))
                .subquery()
            )
            backlog = conn.execute(select(func.count()).select_from(due)).scalar_one()
            log_rows, log_messages, log_oldest = ingest_pending(conn)
            oldest_enrollment = conn.execute(
                select(func.min(e.resume_at)).where(
                    e.state == "active", e.resume_at <= now, live.clause(e.workspace_id)
                )
            ).scalar()

        outbox = GaugeMetricFamily(
            "kairos_outbox_messages",
            f"Messages in the outbox not yet settled, by status (queued, sending) and channel "
            f"(counted up to {COUNT_CAP:,} in all: queued before sending, the earliest due first)",
            labels=["status", "channel"],
        )
        for status, channel, count in depth:
            outbox.add_metric([status, channel], count)
        return [
            GaugeMetricFamily(
                "kairos_ingest_log_pending",
                "Acknowledged ingest messages waiting in the ingest log to be processed",
                value=log_messages,
            ),
            _age(
                "kairos_ingest_log_lag_seconds",
                "Age of the oldest acknowledged ingest-log entry not yet processed (0: none pending)",
                log_oldest if log_rows else None,
                now,
            ),
            outbox,
            _age(
                "kairos_outbox_oldest_due_seconds",
                "How long the longest-waiting due queued message has been due (0: none)",
                oldest_message,
                now,
            ),
            GaugeMetricFamily(
                "kairos_journey_backlog",
                f"Active enrollments whose wake-up time has passed (counted up to {COUNT_CAP:,})",
                value=backlog,
            ),
            _age(
                "kairos_journey_backlog_oldest_seconds",
                "How long the longest-waiting due enrollment has been due (0: none)",
                oldest_enrollment,
                now,
            ),
        ]


def _age(name: str, documentation: str, since: datetime | None, now: datetime) -> GaugeMetricFamily:
    seconds = 0.0 if since is None else max(0.0, (now - ensure_utc(since)).total_seconds())
    return GaugeMetricFamily(name, documentation, value=seconds)


class Exposition:
    """What one scrape shows: this process's metrics, then the database's."""

    def __init__(self, *collectors: Collector) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def exposition(engine: Engine, clock: Clock) -> Exposition:
    return Exposition(REGISTRY, DatabaseCollector(engine, clock))


def render(collector: Collector, accept: str = "") -> tuple[bytes, str]:
    """The scrape's body and content type (the text format, or OpenMetrics if asked for)."""
    encoder, content_type = choose_encoder(accept)
    return encoder(collector), content_type


def serve_admin(collector: Collector, port: int, host: str = "127.0.0.1") -> Any:
    """Serve ``collector`` at ``http://host:port/metrics`` from a thread of this process (the
    admin port of ``kairos worker``, which has no HTTP server of its own). Returns the server
    (``shutdown()`` stops it)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, host, registry=collector)
    return server
