"""Messaging fixtures: a real SMTP server (aiosmtpd) recording what it receives, a worker
with the dispatcher, and an email channel configured through the API.

The fake SMTP servers and HTTP providers listen on 127.0.0.1, which the SSRF guard refuses
by default: ``settings`` here opts in to private targets (``KAIROS_ALLOW_PRIVATE_TARGETS``),
for these tests and for the packages that import these fixtures (journeys, campaigns,
forms, analytics). ``strict_api`` is an API client with the production default."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine

from kairos.api.app import create_app
from kairos.clock import FixedClock
from kairos.config import Settings
from kairos.worker.loop import Worker, build_dispatcher
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api, KairosClient, free_port


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """The test settings with private targets allowed: the fake providers live on 127.0.0.1."""
    return Settings(  # type: ignore[call-arg]
        database_url=database_url, secret_key="test-secret", allow_private_targets=True, _env_file=None
    )


@pytest.fixture
def strict_settings(database_url: str) -> Settings:
    """The production default: provider targets inside the network are refused."""
    return Settings(database_url=database_url, secret_key="test-secret", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def strict_api(
    strict_settings: Settings, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> Iterator[Api]:
    """The management API of ``workspace`` served with ``strict_settings``."""
    with KairosClient(create_app(strict_settings, clock=clock)) as c:
        yield Api(c, workspace.api_key)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpRecorder:
    """An aiosmtpd handler that records mail and can refuse recipients or data on demand."""

    received: list[Received] = field(default_factory=list)
    #: recipient → SMTP reply for RCPT TO (e.g. "550 5.1.1 no such user")
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    #: recipient → SMTP reply for DATA (e.g. "451 4.3.0 try later")
    data_replies: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for rcpt in envelope.rcpt_tos:
            reply = self.data_replies.get(rcpt)
            if reply:
                return reply
        data = envelope.original_content or b""
        with self.lock:
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), data))
        return "250 2.0.0 Ok: queued as K" + str(len(self.received))

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_tos]


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: SmtpRecorder
    controller: Controller

    def stop(self) -> None:
        self.controller.stop()

    def start(self) -> None:
        """Listen again on the same port (an aiosmtpd controller cannot be restarted)."""
        self.controller = Controller(self.recorder, hostname=self.host, port=self.port)
        self.controller.start()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    recorder = SmtpRecorder()
    port = free_port()
    server = SmtpServer("127.0.0.1", port, recorder, Controller(recorder, hostname="127.0.0.1", port=port))
    server.controller.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def worker(settings: Settings, engine: Engine, clock: FixedClock) -> Iterator[Worker]:
    w = Worker(engine, clock, dispatcher=build_dispatcher(settings, engine, clock))
    yield w
    if w.dispatcher is not None:
        w.dispatcher.close()


def smtp_settings(server: SmtpServer, **extra: Any) -> dict[str, Any]:
    return {
        "host": server.host,
        "port": server.port,
        "security": "none",
        "from_email": "news@shop.example",
        "from_name": "Shop",
        **extra,
    }


@pytest.fixture
def email_channel(api: Api, smtp: SmtpServer) -> dict[str, Any]:
    r = api.post("/channels", {"name": "mail", "provider": "smtp", "settings": smtp_settings(smtp)})
    assert r.status_code == 201, r.text
    return dict(r.json())


def make_contact(api: Api, **fields: Any) -> int:
    body = {"external_id": fields.pop("external_id", None) or fields.get("email", "x"), **fields}
    r = api.post("/contacts", body)
    assert r.status_code in (200, 201), r.text
    return int(r.json()["id"])


def email_template(api: Api, name: str = "welcome", **fields: Any) -> int:
    body = {
        "subject": "Hello {{ contact.first_name }}",
        "format": "html",
        "body": (
            "<html><body><p>Hi {{ contact.first_name }},</p>"
            '<p><a href="https://shop.example/sale?utm=mail&amp;x=1">See the sale</a></p>'
            '<p><a href="{{ links.unsubscribe_url }}">Unsubscribe</a></p></body></html>'
        ),
        **fields,
    }
    r = api.post("/templates", {"name": name, "channel": "email", "fields": body})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])
