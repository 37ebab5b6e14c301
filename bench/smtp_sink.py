"""An SMTP sink: a server that accepts every message and keeps only counts, for benchmarks.

It speaks just enough SMTP for a sending client (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
QUIT, AUTH PLAIN), advertises PIPELINING and 8BITMIME, and answers every command in a read
with one write, so a pipelining client is never held up by the sink. Message data is found
by searching the buffer for ``CRLF.CRLF`` (a C-speed ``find`` that resumes where the last
search stopped) rather than line by line.

    sink = SmtpSink(keep=10)
    port = sink.start("127.0.0.1")      # own thread, own event loop
    ...
    sink.messages, sink.bytes, sink.last[-1]
    sink.stop()

or standalone: ``python -m kairos_bench.smtp_sink --port 2525``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import threading
import time
from collections import deque
from typing import Any, cast

_EHLO = (
    b"250-kairos-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
    b"250-AUTH PLAIN\r\n250 ENHANCEDSTATUSCODES\r\n"
)
_REPLIES = {
    b"MAIL": b"250 2.1.0 Ok\r\n",
    b"RCPT": b"250 2.1.5 Ok\r\n",
    b"RSET": b"250 2.0.0 Ok\r\n",
    b"NOOP": b"250 2.0.0 Ok\r\n",
    b"HELO": b"250 kairos-sink\r\n",
    b"AUTH": b"235 2.7.0 Authentication successful\r\n",
    b"VRFY": b"252 2.0.0 Cannot VRFY\r\n",
}


class SmtpSink:
    """Counts what it is sent (``figures()``, which ``main`` prints as JSON); ``keep`` > 0
    also keeps the last ``keep`` messages (bytes, dot-stuffing undone) with their envelopes
    in ``last``."""

    def __init__(self, *, keep: int = 0) -> None:
        self.keep = keep
        self.last: deque[tuple[str, list[str], bytes]] = deque(maxlen=keep or None)
        self.messages = 0
        self.bytes = 0
        self.connections = 0
        self.commands = 0
        self.reads = 0
        #: the most commands found in one read: above 1 means the client pipelines
        self.max_commands_per_read = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._transports: set[asyncio.BaseTransport] = set()

    def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host:port`` (0: any free port) in a thread of its own; the port."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = _new_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    loop.create_server(lambda: _Session(self), host, port, backlog=512)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="smtp-sink", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self.port

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for transport in list(self._transports):
                transport.close()
            loop.call_later(0.05, loop.stop)  # let the closes reach the sockets

        loop.call_soon_threadsafe(shutdown)
        thread.join(10)
        self._loop = self._thread = None

    def wait_for(self, messages: int, timeout: float = 30.0) -> bool:
        """Whether ``messages`` arrived within ``timeout`` seconds (bounded polling)."""
        deadline = time.monotonic() + timeout
        while self.messages < messages:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def figures(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "bytes": self.bytes,
            "connections": self.connections,
            "commands": self.commands,
            "max_commands_per_read": self.max_commands_per_read,
        }


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # in uvicorn[standard]; roughly halves the sink's per-read cost
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()  # type: ignore[no-any-return]


class _Session(asyncio.Protocol):
    __slots__ = ("buf", "in_data", "mail_from", "rcpt_to", "scan", "sink", "size", "transport")

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink
        self.buf = b""
        self.in_data = False
        self.scan = 0  # where the search for the end of data resumes
        self.size = 0  # bytes of the current message already dropped from ``buf``
        self.mail_from = ""
        self.rcpt_to: list[str] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's do not subclass it
        self.sink.connections += 1
        self.sink._transports.add(transport)
        self.transport.write(b"220 kairos-sink ESMTP\r\n")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.sink._transports.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        sink = self.sink
        buf = self.buf + data if self.buf else data
        pos, n = 0, len(buf)
        out: list[bytes] = []
        commands = 0
        close = False
        while pos < n:
            if self.in_data:
                if self.size == 0 and buf.startswith(b".\r\n", pos):  # an empty message
                    end, stop = pos, pos + 3
                else:
                    end = buf.find(b"\r\n.\r\n", max(pos, self.scan))
                    if end < 0:
                        if not sink.keep and n - pos > 65536:
                            # Only the last 4 bytes can begin the terminator: drop the rest.
                            self.size += n - 4 - pos
                            pos = n - 4
                        self.scan = max(pos, n - 4)
                        break
                    end, stop = end + 2, end + 5
                sink.messages += 1
                sink.bytes += self.size + end - pos
                self.size = 0
                if sink.keep:
                    body = buf[pos:end].replace(b"\r\n..", b"\r\n.")
                    sink.last.append((self.mail_from, self.rcpt_to, body[1:] if body[:2] == b".." else body))
                self.rcpt_to = []
                self.in_data = False
                self.scan = 0
                pos = stop
                out.append(b"250 2.0.0 Ok: queued as %d\r\n" % sink.messages)
                continue
            nl = buf.find(b"\n", pos)
            if nl < 0:
                break
            line = buf[pos:nl]
            pos = nl + 1
            commands += 1
            verb = line[:4].upper()
            if verb == b"MAIL":
                if sink.keep:
                    self.mail_from = _address(line)
                    self.rcpt_to = []
                out.append(_REPLIES[b"MAIL"])
            elif verb == b"RCPT":
                if sink.keep:
                    self.rcpt_to.append(_address(line))
                out.append(_REPLIES[b"RCPT"])
            elif verb == b"DATA":
                out.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                self.in_data = True
                self.scan = pos
            elif verb == b"EHLO":
                out.append(_EHLO)
            elif verb == b"QUIT":
                out.append(b"221 2.0.0 Bye\r\n")
                close = True
                break
            else:
                out.append(_REPLIES.get(verb, b"502 5.5.2 Command not recognised\r\n"))
        self.buf = buf[pos:] if pos < n else b""
        self.scan = max(0, self.scan - pos)  # offsets are into the buffer, which now starts at pos
        sink.reads += 1
        sink.commands += commands
        if commands > sink.max_commands_per_read:
            sink.max_commands_per_read = commands
        assert self.transport is not None
        if out:
            self.transport.write(b"".join(out))
        if close:
            self.transport.close()


def _address(line: bytes) -> str:
    start, end = line.find(b"<"), line.find(b">")
    return line[start + 1 : end].decode("utf-8", "replace") if 0 <= start < end else ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kairos_bench.smtp_sink", description="An SMTP sink.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--keep", type=int, default=0, help="keep the last N messages (for inspection)")
    parser.add_argument("--report", type=float, default=0, help="print counts every N s (0: at exit only)")
    args = parser.parse_args(argv)
    sink = SmtpSink(keep=args.keep)
    port = sink.start(args.host, args.port)
    print(f"{args.host}:{port}", flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(args.report or None):
        print(json.dumps(sink.figures()), file=sys.stderr, flush=True)
    sink.stop()
    print(json.dumps(sink.figures()), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
