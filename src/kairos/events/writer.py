"""Group commit for ingest: concurrent requests share one append to the ingest log.

A request hands its validated messages to the writer and waits. The writer thread takes
everything queued (up to ``max_batch`` messages), checks identify traits against their
attribute types, appends one ``ingest_log`` row per request in one transaction, commits,
and only then releases each waiting request — so every 200 means "stored". Under load,
requests arriving while a commit runs are gathered into the next one. The processor
(``events/log.py``) turns the rows into contacts and events right after.

Isolation: a request whose traits do not fit their attribute types fails alone, before the
transaction. If the append fails for another reason, transient errors are retried, and then
each request is retried in a transaction of its own so one bad request cannot sink the others.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from kairos.clock import Clock
from kairos.contacts.attributes import attribute_types
from kairos.db.engine import reading
from kairos.db.faults import classify, reason
from kairos.errors import KairosError, Unavailable
from kairos.events.ingest import check_traits, needs_trait_types
from kairos.events.log import APPENDS, Entry, append
from kairos.events.messages import Message

log = logging.getLogger(__name__)

TRANSIENT = (IntegrityError, OperationalError)
RETRIES = 5


@dataclass(slots=True)
class _Request:
    workspace_id: int
    messages: list[Message]
    done: Callable[[BaseException | None], None]
    error: BaseException | None = field(default=None)
    #: a sandbox workspace's virtual now when the request arrived (None: the real clock)
    now: datetime | None = None
    #: when the writer received it, on the real clock (the ingest log's lag is measured from it)
    received_at: datetime | None = None


class IngestWriter:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        max_batch: int = 5000,
        on_commit: Callable[[list[Entry]], None] | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._max_batch = max_batch
        self._on_commit = on_commit  # the processor: hands it what was appended
        self._queue: deque[_Request] = deque()
        self._cv = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kairos-ingest-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    async def submit(self, workspace_id: int, messages: list[Message], now: datetime | None = None) -> None:
        """Returns once the messages are committed; raises the request's own error. ``now``:
        a sandbox's virtual now, which stamps the write instead of the real clock."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def done(error: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle, future, error)

        self._put(_Request(workspace_id, messages, done, now=now))
        await future

    def submit_sync(self, workspace_id: int, messages: list[Message]) -> None:
        event = threading.Event()
        box: list[BaseException | None] = [None]

        def done(error: BaseException | None) -> None:
            box[0] = error
            event.set()

        self._put(_Request(workspace_id, messages, done))
        event.wait()
        if box[0] is not None:
            raise box[0]

    def _put(self, request: _Request) -> None:
        request.received_at = self._clock.now()
        with self._cv:
            if self._stopping:
                raise Unavailable("the server is shutting down; retry", code="shutting_down")
            self._queue.append(request)
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._stopping:
                    self._cv.wait()
                if not self._queue and self._stopping:
                    return
                group: list[_Request] = []
                size = 0
                while self._queue and (not group or size + len(self._queue[0].messages) <= self._max_batch):
                    request = self._queue.popleft()
                    group.append(request)
                    size += len(request.messages)
            self._commit_group(group)

    def _commit_group(self, group: list[_Request]) -> None:
        appended: list[Entry] = []
        try:
            appended = self._write(group)
        except Exception as exc:
            if len(group) > 1:
                for request in group:
                    if request.error is None:
                        try:
                            appended += self._write([request])
                        except Exception as single:
                            request.error = _public(single)
            else:
                group[0].error = group[0].error or _public(exc)
        if self._on_commit is not None and appended:
            self._on_commit(appended)  # before the answers: a client's next read finds it queued
        for request in group:
            request.done(request.error)

    def _write(self, group: list[_Request]) -> list[Entry]:
        # Everything but the append happens before the write lock: other writers wait on it.
        by_workspace: dict[int, list[_Request]] = defaultdict(list)
        for request in group:
            if request.error is None:
                by_workspace[request.workspace_id].append(request)
        checking = [
            ws
            for ws, requests in by_workspace.items()
            if any(needs_trait_types(r.messages) for r in requests)
        ]
        if checking:
            with reading(self._engine) as conn:
                for workspace_id in checking:
                    types = attribute_types(conn, workspace_id)
                    for r in by_workspace[workspace_id]:
                        try:
                            check_traits(r.messages, types)
                        except KairosError as exc:
                            r.error = exc
        entries = []
        for request in group:
            if request.error is None:
                entry = Entry(
                    request.workspace_id,
                    request.received_at or self._clock.now(),
                    request.now,
                    request.messages,
                )
                entry.encode()
                entries.append(entry)
        if not entries:
            return []
        for attempt in range(RETRIES):
            try:
                with APPENDS, self._engine.begin() as conn:  # the processor gives way
                    append(conn, entries)
                return entries
            except TRANSIENT as exc:
                if attempt == RETRIES - 1:
                    raise
                if classify(exc) == "unavailable":  # disk full, read-only, I/O: not a conflict
                    log.warning("ingest: the database is unavailable (%s); retrying", reason(exc))
                else:
                    log.info("ingest transaction conflicted (%s); retrying", type(exc).__name__)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _public(exc: BaseException) -> BaseException:
    if isinstance(exc, KairosError):
        return exc
    log.error("ingest write failed", exc_info=exc)
    if isinstance(exc, DBAPIError):
        return Unavailable("the database could not take this request; retry", code="database_unavailable")
    return exc


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
