"""A minimal HTTP/1.1 load generator: keep-alive connections over raw asyncio sockets.

On a 2-core box the client shares the CPU with the server, so it must cost as little as
possible per request: request bytes are pre-built (the caller only stamps a counter into
them), responses are parsed no further than the status line and ``Content-Length``, and
there is no pipelining — each connection awaits its response before sending the next
request, the way SDKs and browsers talk to an ingest endpoint.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


class _Connection(asyncio.Protocol):
    """One keep-alive connection; ``request`` sends bytes and returns (status, body)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._need = -1  # total bytes of the response being read, once its head is parsed
        self._status = 0
        self._body_at = 0
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if self._need < 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            self._status = int(head[9:12])
            at = head.find(b"\r\ncontent-length:")
            if at < 0:
                self._fail(ConnectionError("response without Content-Length"))
                return
            eol = head.find(b"\r\n", at + 2)
            self._body_at = end + 4
            self._need = end + 4 + int(head[at + 17 : eol if eol >= 0 else len(head)])
        if len(buf) >= self._need:
            body = bytes(buf[self._body_at : self._need])
            del buf[: self._need]
            self._need = -1
            waiter, self._waiter = self._waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result((self._status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(exc or ConnectionError("server closed the connection"))

    def _fail(self, exc: BaseException) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        if self._transport is not None:
            self._transport.close()

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        if self.closed or self._transport is None:
            raise ConnectionError("connection is closed")
        self._waiter = self._loop.create_future()
        self._transport.write(data)
        return self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


@dataclass
class LoadResult:
    """What one phase measured. ``requests`` and ``latencies`` cover the responses completed
    inside the measured window; ``acknowledged`` counts every 200, warm-up included (that is
    what must be in the database afterwards)."""

    seconds: float
    requests: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, measured window
    acknowledged: int = 0
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    first_error: str = ""


async def run_load(
    host: str,
    port: int,
    next_request: Callable[[], bytes],
    *,
    connections: int,
    warmup: float,
    duration: float,
    request_timeout: float = 30.0,
    on_window: Callable[[str], None] | None = None,
    rate: float | None = None,
    request_for: Callable[[int], bytes] | None = None,
    on_send: Callable[[int, float], None] | None = None,
) -> LoadResult:
    """Drive ``connections`` closed-loop clients for ``warmup`` + ``duration`` seconds.

    ``on_window("start")`` and ``on_window("stop")`` are called when the measured window
    opens and closes (to sample CPU time or attach a profiler). With ``rate`` (requests per
    second) the load is open: request *n* is due at ``start + n / rate`` and the next free
    connection sends it then (at once when it is late: every connection was busy), so the
    offered load does not bend to the server's speed; ``on_send(n, t)`` is told when request
    *n* left (``time.perf_counter``) and ``request_for(n)`` builds it."""
    loop = asyncio.get_running_loop()
    conns = []
    for _ in range(connections):
        _, proto = await loop.create_connection(lambda: _Connection(loop), host, port)
        conns.append(proto)
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    result = LoadResult(seconds=duration)
    if on_window is not None:
        loop.call_later(warmup, on_window, "start")
        loop.call_later(warmup + duration, on_window, "stop")

    sequence = iter(range(1 << 62))

    async def client(conn: _Connection) -> None:
        perf = time.perf_counter
        latencies = result.latencies
        while True:
            t0 = perf()
            if t0 >= stop_at:
                return
            if rate is not None:
                n = next(sequence)
                due = start + n / rate
                if due >= stop_at:
                    return
                if due > t0:
                    await asyncio.sleep(due - t0)
                t0 = perf()
            try:
                if rate is not None and request_for is not None:
                    data = request_for(n)
                    if on_send is not None:
                        on_send(n, t0)
                else:
                    data = next_request()
                status, body = await conn.request(data)
            except OSError as exc:
                result.errors += 1
                result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
                return
            t1 = perf()
            result.statuses[status] += 1
            if status == 200:
                result.acknowledged += 1
            else:
                result.errors += 1
                result.first_error = result.first_error or f"HTTP {status}: {body[:300]!r}"
            if measure_from <= t1 <= stop_at:  # completions inside the measured window
                result.requests += 1
                latencies.append(t1 - t0)

    # One deadline for the whole phase rather than a timer per request (cheaper).
    try:
        await asyncio.wait_for(
            asyncio.gather(*(client(c) for c in conns)), warmup + duration + request_timeout
        )
    except TimeoutError:
        result.errors += 1
        result.first_error = (
            result.first_error or f"responses still missing {request_timeout:.0f}s after the end"
        )
    finally:
        for c in conns:
            c.close()
    return result
