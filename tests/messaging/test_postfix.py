"""Through a real MTA: the SMTP channel hands mail to Postfix (``scripts/postfix.sh start``),
which relays it to an aiosmtpd sink started here on the relay port.

An integration run: only with ``KAIROS_POSTFIX=host:port`` in the environment, e.g.
``KAIROS_POSTFIX=$(scripts/postfix.sh start) pytest tests/messaging/test_postfix.py``.
"""

from __future__ import annotations

import email
import email.policy
import os
import threading
import time
import uuid
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from kairos.messaging.channels import Outgoing
from kairos.messaging.channels.smtp import SmtpChannel, SmtpSettings

POSTFIX = os.environ.get("KAIROS_POSTFIX", "")
RELAY_PORT = int(os.environ.get("KAIROS_POSTFIX_RELAY_PORT", "2526"))
MESSAGES = 50

pytestmark = pytest.mark.skipif(
    not POSTFIX, reason="integration run only: set KAIROS_POSTFIX=host:port (see scripts/postfix.sh start)"
)


class Sink:
    """What Postfix delivers to the relay port."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.got: list[tuple[list[str], EmailMessage]] = []
        self.run = uuid.uuid4().hex[:12]  # Postfix may still hold mail of earlier runs: count ours

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        parsed = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        if f"-{self.run}-" in str(parsed["Message-ID"]):
            with self.lock:
                self.got.append((list(envelope.rcpt_tos), parsed))
        return "250 2.0.0 Ok"

    def count(self) -> int:
        with self.lock:
            return len(self.got)


def test_fifty_messages_through_postfix_arrive_intact() -> None:
    host, _, port = POSTFIX.rpartition(":")
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=RELAY_PORT)
    controller.start()
    try:
        settings = SmtpSettings(host=host, port=int(port), security="none", from_email="news@shop.example",
                                from_name="Shop Ünïcode", connections=2, timeout=10)  # fmt: skip
        batch = [
            Outgoing(
                message_id=i,
                key=f"pf-{sink.run}-{i}",
                to=f"user{i}@example.com",
                content={
                    "subject": f"Soldes d\u2019été 🎉 n°{i}",
                    "html": f"<p>Bonjour {i}</p>\n.dot line\n" + "x=1 " * 100,
                    "text": f"Bonjour {i}",
                    "headers": {
                        "List-Unsubscribe": f"<https://shop.example/u/{i}>, <mailto:u+{i}@shop.example>",
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                    },
                },
            )
            for i in range(MESSAGES)
        ]
        channel = SmtpChannel(settings, allow_private=True)  # Postfix runs on this machine
        try:
            results = channel.send(batch)
        finally:
            channel.close()
        assert [r.status for r in results] == ["sent"] * MESSAGES, results
        assert all(r.provider_id for r in results)  # Postfix's "queued as <id>"

        deadline = time.monotonic() + 60
        while sink.count() < MESSAGES and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sink.count() == MESSAGES

        by_rcpt = {rcpts[0]: msg for rcpts, msg in sink.got}
        assert sorted(by_rcpt) == sorted(f"user{i}@example.com" for i in range(MESSAGES))
        for i, result in enumerate(results):
            msg = by_rcpt[f"user{i}@example.com"]
            assert msg["Message-ID"] == f"<pf-{sink.run}-{i}@shop.example>"
            assert msg["Subject"] == f"Soldes d\u2019été 🎉 n°{i}"
            assert msg["From"].addresses[0].display_name == "Shop Ünïcode"
            assert msg["List-Unsubscribe"] == f"<https://shop.example/u/{i}>, <mailto:u+{i}@shop.example>"
            assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert f"id {result.provider_id}" in " ".join(str(h) for h in msg.get_all("Received", []))
            html = msg.get_body(("html",))
            assert html is not None
            assert (
                html.get_content().replace("\r\n", "\n") == f"<p>Bonjour {i}</p>\n.dot line\n" + "x=1 " * 100
            )
    finally:
        controller.stop()
