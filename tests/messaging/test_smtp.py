"""The SMTP channel against real SMTP servers started here: aiosmtpd (plain, STARTTLS,
implicit TLS, AUTH, scripted refusals) and the benchmark sink."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from kairos.errors import InvalidInput
from kairos.messaging.channels import PROVIDERS, ChannelOptions, Outgoing, SendResult
from kairos.messaging.channels import smtp as smtp_channel
from kairos.messaging.channels.smtp import SmtpChannel, SmtpSecrets, SmtpSettings, queue_id
from kairos_bench.smtp_sink import SmtpSink
from tests.conftest import free_port

SENDER = "news@shop.example"
LOCAL = ChannelOptions(allow_private_targets=True)  # the test relays are on 127.0.0.1


@dataclass
class Got:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: Any
    tls: bool

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Mailbox:
    """An aiosmtpd handler that records what it accepts and answers as scripted."""

    pipelining: bool = True
    got: list[Got] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # recipient → reply to RCPT
    data_replies: dict[str, str] = field(default_factory=dict)  # recipient → reply to the data
    sessions: list[SMTP] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        with self.lock:
            if server not in self.sessions:
                self.sessions.append(server)
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            if reply.startswith("421"):  # and hang up, as a server shutting down does
                asyncio.get_running_loop().call_soon(server.transport.close)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self.data_replies.get(envelope.rcpt_tos[0])
        if reply:
            return reply
        with self.lock:
            self.got.append(
                Got(str(envelope.mail_from), list(envelope.rcpt_tos), envelope.original_content or b"",
                    session.peer, session.ssl is not None)
            )  # fmt: skip
            return f"250 2.0.0 Ok: queued as Q{len(self.got)}"

    def to(self, address: str) -> list[Got]:
        with self.lock:
            return [g for g in self.got if address in g.rcpt_tos]

    def peers(self) -> set[Any]:
        with self.lock:
            return {g.peer for g in self.got}


class Passwords:
    """An aiosmtpd authenticator with one account."""

    def __init__(self, username: str, password: str) -> None:
        self.expected = (username.encode(), password.encode())
        self.logins: list[str] = []

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append(f"{mechanism}:{data.login.decode()}")
        return AuthResult(success=(data.login, data.password) == self.expected, handled=False)


@dataclass
class Relay:
    port: int
    mailbox: Mailbox
    controller: Controller

    def settings(self, **extra: Any) -> SmtpSettings:
        fields: dict[str, Any] = {
            "host": "127.0.0.1", "port": self.port, "security": "none", "from_email": SENDER,
            "from_name": "Shop", "timeout": 5, **extra,
        }  # fmt: skip
        return SmtpSettings(**fields)

    def hang_up_all(self) -> None:
        """Close every session from the server side, as an idle timeout does."""
        done = threading.Event()

        def close() -> None:
            for server in self.mailbox.sessions:
                if server.transport is not None:
                    server.transport.close()
            done.set()

        self.controller.loop.call_soon_threadsafe(close)
        assert done.wait(5)


@contextmanager
def relay(mailbox: Mailbox | None = None, **controller_args: Any) -> Iterator[Relay]:
    box = mailbox or Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, **controller_args)
    controller.start()
    try:
        yield Relay(port, box, controller)
    finally:
        controller.stop()


@pytest.fixture
def plain() -> Iterator[Relay]:
    with relay() as r:
        yield r


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


@pytest.fixture
def ca_pem(ca: trustme.CA) -> str:
    return ca.cert_pem.bytes().decode()


def message(i: int, to: str | None = None, **content: Any) -> Outgoing:
    body = {
        "subject": f"Hello {i}",
        "html": f"<p>Hi number {i}</p>",
        "text": f"Hi number {i}",
        "headers": {
            "List-Unsubscribe": f"<https://shop.example/u/{i}>, <mailto:u+{i}@shop.example>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        **content,
    }
    return Outgoing(message_id=i, key=f"m{i}", to=to or f"user{i}@example.com", content=body)


@contextmanager
def channel(settings: SmtpSettings, secrets: SmtpSecrets | None = None) -> Iterator[SmtpChannel]:
    ch = SmtpChannel(settings, secrets, allow_private=True)  # the test relays are on 127.0.0.1
    try:
        yield ch
    finally:
        ch.close()


def statuses(results: list[SendResult]) -> list[str]:
    return [r.status for r in results]


# --------------------------------------------------------------------------- delivery


def test_messages_arrive_with_their_envelope_and_headers(plain: Relay) -> None:
    with channel(plain.settings()) as ch:
        results = ch.send([message(1), message(2)])
    assert [(r.message_id, r.status, r.error) for r in results] == [(1, "sent", None), (2, "sent", None)]
    # the server's queue ids, in whichever order its two connections delivered them
    assert sorted(r.provider_id or "" for r in results) == ["Q1", "Q2"]
    [got] = plain.mailbox.to("user1@example.com")
    assert got.mail_from == SENDER and got.rcpt_tos == ["user1@example.com"]
    msg = got.message
    assert msg["Message-ID"] == "<m1@shop.example>"
    assert msg["Subject"] == "Hello 1"
    assert str(msg["From"]) == "Shop <news@shop.example>"
    assert str(msg["To"]) == "user1@example.com"
    assert msg["List-Unsubscribe"] == "<https://shop.example/u/1>, <mailto:u+1@shop.example>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Date"].datetime.timestamp() == pytest.approx(time.time(), abs=60)
    plain_part, html_part = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain_part is not None and html_part is not None
    assert plain_part.get_content() == "Hi number 1"
    assert html_part.get_content() == "<p>Hi number 1</p>"


def test_content_overrides_the_configured_sender_and_names(plain: Relay) -> None:
    out = message(1, from_email="deals@other.example", from_name="Zoë \"Z\" Müller, Ltd.",
                  reply_to="help@shop.example", subject="Soldes d\u2019été 🎉 -50 %")  # fmt: skip
    with channel(plain.settings(reply_to="ignored@shop.example")) as ch:
        assert statuses(ch.send([out])) == ["sent"]
    [got] = plain.mailbox.got
    assert got.mail_from == "deals@other.example"
    msg = got.message
    assert msg["Message-ID"] == "<m1@other.example>"
    assert msg["From"].addresses[0].display_name == 'Zoë "Z" Müller, Ltd.'
    assert str(msg["Reply-To"]) == "help@shop.example"
    assert msg["Subject"] == "Soldes d\u2019été 🎉 -50 %"


def test_crlf_in_subject_name_or_headers_never_adds_a_header_or_recipient(plain: Relay) -> None:
    out = message(
        1,
        subject="Hi\r\nBcc: victim@example.com",
        from_name="Shop\nBcc: victim@example.com",
        headers={"X-Campaign": "a\r\nBcc: victim@example.com"},
    )
    bad_rcpt = message(2, to="x@example.com>\r\nRCPT TO:<victim@example.com")
    with channel(plain.settings()) as ch:
        results = ch.send([out, bad_rcpt, message(3)])
    assert statuses(results) == ["sent", "failed", "sent"]
    assert "invalid email address" in (results[1].error or "")
    assert not plain.mailbox.to("victim@example.com")
    msg = plain.mailbox.to("user1@example.com")[0].message
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Hi Bcc: victim@example.com"
    assert msg["X-Campaign"] == "a Bcc: victim@example.com"


def test_lines_starting_with_dots_survive_dot_stuffing(plain: Relay) -> None:
    text = ".\n..\n.leading dot\n. \nend\n."
    html = ".<p>x</p>\n.\n" + "a" * 74 + ".b\n"  # a soft line break puts ".b" at a line start
    with channel(plain.settings()) as ch:
        assert statuses(ch.send([message(1, text=text, html=html)])) == ["sent"]
    msg = plain.mailbox.got[0].message
    plain_part, html_part = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain_part is not None and html_part is not None
    assert plain_part.get_content().replace("\r\n", "\n") == text
    assert html_part.get_content().replace("\r\n", "\n") == html


def test_raw_content_is_sent_as_is_with_line_ends_made_crlf(plain: Relay) -> None:
    raw = b"Subject: raw\nMessage-ID: <r1@shop.example>\n\nline one\n.dot line\r\n.\nlast"
    with channel(plain.settings()) as ch:
        assert statuses(ch.send([message(1, raw=raw)])) == ["sent"]
    assert (
        plain.mailbox.got[0].data
        == b"Subject: raw\r\nMessage-ID: <r1@shop.example>\r\n\r\nline one\r\n.dot line\r\n.\r\nlast\r\n"
    )


def test_a_batch_of_500_goes_over_two_connections_each_message_once(plain: Relay) -> None:
    batch = [message(i) for i in range(500)]
    with channel(plain.settings(connections=2)) as ch:
        results = ch.send(batch)
        assert ch.stats.connections == 2
    assert [r.message_id for r in results] == list(range(500))
    assert set(statuses(results)) == {"sent"}
    counts = Counter(rcpt for g in plain.mailbox.got for rcpt in g.rcpt_tos)
    assert counts == Counter(f"user{i}@example.com" for i in range(500))
    for g in plain.mailbox.got:
        i = int(g.rcpt_tos[0].removeprefix("user").removesuffix("@example.com"))
        assert g.message["Message-ID"] == f"<m{i}@shop.example>"
    assert len(plain.mailbox.peers()) == 2
    # the provider ids are the server's, in the order of the batch per connection
    assert len({r.provider_id for r in results}) == 500


def test_connections_are_reused_across_batches(plain: Relay) -> None:
    with channel(plain.settings(connections=2)) as ch:
        for start in range(0, 50, 10):
            assert set(statuses(ch.send([message(i) for i in range(start, start + 10)]))) == {"sent"}
        assert ch.stats.connections == 2
    assert len(plain.mailbox.got) == 50
    assert len(plain.mailbox.peers()) == 2


def test_a_connection_is_replaced_after_max_messages(plain: Relay) -> None:
    with channel(plain.settings(connections=1, max_messages_per_connection=5)) as ch:
        assert set(statuses(ch.send([message(i) for i in range(12)]))) == {"sent"}
        assert ch.stats.connections == 3
    assert len(plain.mailbox.peers()) == 3


def test_a_connection_the_server_closed_while_idle_is_replaced(plain: Relay) -> None:
    with channel(plain.settings(connections=1)) as ch:
        assert statuses(ch.send([message(1)])) == ["sent"]
        plain.hang_up_all()
        assert statuses(ch.send([message(2), message(3)])) == ["sent", "sent"]
        assert ch.stats.connections == 2
    assert len(plain.mailbox.got) == 3


@pytest.mark.parametrize("pipelining", [True, False])
def test_pipelining_is_used_when_advertised(pipelining: bool) -> None:
    with relay(Mailbox(pipelining=pipelining)) as r, channel(r.settings(connections=1)) as ch:
        assert set(statuses(ch.send([message(i) for i in range(20)]))) == {"sent"}
        writes = ch.stats.writes
    # EHLO, then one write per message (its envelope plus the previous message's data),
    # then the last data; without PIPELINING: EHLO, MAIL, RCPT, DATA and data each.
    assert writes == (1 + 20 + 1 if pipelining else 1 + 4 * 20)
    assert len(r.mailbox.got) == 20


def test_the_sink_sees_pipelined_commands_and_counts_messages() -> None:
    sink = SmtpSink(keep=3)
    port = sink.start("127.0.0.1")
    try:
        settings = SmtpSettings(
            host="127.0.0.1", port=port, security="none", from_email=SENDER, connections=1
        )
        with channel(settings) as ch:
            results = ch.send([message(i, text=".dot\n" * 3) for i in range(50)])
        assert set(statuses(results)) == {"sent"}
        assert results[0].provider_id == "1"
        assert sink.wait_for(50, timeout=10)
        assert sink.messages == 50 and sink.connections == 1
        assert sink.max_commands_per_read >= 3  # MAIL, RCPT, DATA in one read
        mail_from, rcpt_to, data = sink.last[-1]
        assert (mail_from, rcpt_to) == (SENDER, ["user49@example.com"])
        msg = email.message_from_bytes(data, policy=email.policy.default)
        assert msg["Message-ID"] == "<m49@shop.example>"
        plain_part = msg.get_body(("plain",))
        assert plain_part is not None and plain_part.get_content().replace("\r\n", "\n") == ".dot\n" * 3
    finally:
        sink.stop()


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("pipelining", [True, False])
def test_a_refused_recipient_bounces_and_the_rest_of_the_batch_goes_on(pipelining: bool) -> None:
    box = Mailbox(
        pipelining=pipelining,
        rcpt_replies={"user2@example.com": "550 5.1.1 <user2@example.com>: no such user"},
    )
    with relay(box) as r, channel(r.settings(connections=1)) as ch:
        results = ch.send([message(i) for i in range(5)])
    assert statuses(results) == ["sent", "sent", "bounced", "sent", "sent"]
    assert results[2].error == "550 5.1.1 <user2@example.com>: no such user"
    assert [g.rcpt_tos for g in box.got] == [[f"user{i}@example.com"] for i in (0, 1, 3, 4)]


@pytest.mark.parametrize(
    ("where", "reply", "status"),
    [
        ("data", "451 4.3.0 try later", "retry"),
        ("rcpt", "450 4.2.1 mailbox busy", "retry"),
        ("rcpt", "452 4.5.3 too many recipients", "retry"),
        ("data", "552 5.3.4 message too big", "failed"),
        ("data", "554 5.7.1 rejected as spam", "failed"),
        ("rcpt", "553 5.1.3 bad address syntax", "bounced"),
    ],
)
def test_replies_are_classified(where: str, reply: str, status: str) -> None:
    box = Mailbox()
    (box.data_replies if where == "data" else box.rcpt_replies)["user1@example.com"] = reply
    with relay(box) as r, channel(r.settings(connections=1)) as ch:
        results = ch.send([message(0), message(1), message(2)])
    assert statuses(results) == ["sent", status, "sent"]
    assert results[1].error == reply and not results[1].outage
    assert len(box.got) == 2


def test_a_multi_line_refusal_is_read_whole() -> None:
    reply = "550-5.1.1 The email account that you tried to reach does not exist.\r\n550 5.1.1 https://support.example/bounce"
    box = Mailbox(rcpt_replies={"user1@example.com": reply})
    with relay(box) as r, channel(r.settings(connections=1)) as ch:
        results = ch.send([message(0), message(1), message(2)])
    assert statuses(results) == ["sent", "bounced", "sent"]
    assert results[1].error == (
        "550 5.1.1 The email account that you tried to reach does not exist. 5.1.1 https://support.example/bounce"
    )


@pytest.mark.parametrize("smtputf8", [True, False])
def test_an_international_address_needs_smtputf8(smtputf8: bool) -> None:
    with relay(enable_SMTPUTF8=smtputf8) as r, channel(r.settings(connections=1)) as ch:
        results = ch.send([message(1, to="josé@example.com"), message(2)])
        got = r.mailbox.got
    if smtputf8:
        assert statuses(results) == ["sent", "sent"]
        assert got[0].rcpt_tos == ["josé@example.com"]
        assert str(got[0].message["To"]) == "josé@example.com"
    else:
        assert statuses(results) == ["failed", "sent"]
        assert results[0].error == "the address needs SMTPUTF8, which the server does not offer"


def test_421_means_retry_and_a_new_connection() -> None:
    box = Mailbox(rcpt_replies={"user2@example.com": "421 4.3.2 shutting down"})
    with relay(box) as r, channel(r.settings(connections=1)) as ch:
        results = ch.send([message(i) for i in range(5)])
        assert ch.stats.connections == 2
    assert statuses(results) == ["sent", "sent", "retry", "sent", "sent"]
    assert results[2].error == "421 4.3.2 shutting down" and not results[2].outage
    assert len(box.peers()) == 2
    assert sorted(g.rcpt_tos[0] for g in box.got) == [f"user{i}@example.com" for i in (0, 1, 3, 4)]


def test_a_server_that_is_down_is_an_outage_for_the_whole_batch() -> None:
    port = free_port()  # nothing listens there
    settings = SmtpSettings(host="127.0.0.1", port=port, security="none", from_email=SENDER, timeout=5)
    with channel(settings) as ch:
        results = ch.send([message(i) for i in range(4)])
    assert statuses(results) == ["retry"] * 4
    assert all(r.outage for r in results)
    assert results[0].error == f"cannot connect to 127.0.0.1:{port}: Connection refused"


def test_a_server_that_never_answers_times_out_as_an_outage() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # accepts connections but says nothing
        port = listener.getsockname()[1]
        settings = SmtpSettings(host="127.0.0.1", port=port, security="none", from_email=SENDER, timeout=0.3)
        with channel(settings) as ch:
            results = ch.send([message(1), message(2)])
    assert all(r.status == "retry" and r.outage for r in results)
    assert results[0].error == f"timed out after 0.3 s talking to 127.0.0.1:{port}"


# --------------------------------------------------------------------------- TLS and AUTH


def test_starttls_with_a_verified_certificate(server_tls: ssl.SSLContext, ca_pem: str) -> None:
    with relay(tls_context=server_tls, require_starttls=True) as r:
        with channel(r.settings(security="starttls", ca_pem=ca_pem)) as ch:
            assert statuses(ch.send([message(1), message(2)])) == ["sent", "sent"]
        assert all(g.tls for g in r.mailbox.got)


def test_starttls_with_an_untrusted_certificate_is_an_outage(server_tls: ssl.SSLContext) -> None:
    with relay(tls_context=server_tls, require_starttls=True) as r:
        with channel(r.settings(security="starttls")) as ch:
            results = ch.send([message(1)])
        assert results[0].status == "retry" and results[0].outage
        assert "TLS certificate of 127.0.0.1" in (results[0].error or "")
        assert "certificate verify failed" in (results[0].error or "") or "unable to get" in (
            results[0].error or ""
        )
        # ... unless verification is switched off
        with channel(r.settings(security="starttls", verify_tls=False)) as ch:
            assert statuses(ch.send([message(2)])) == ["sent"]


def test_starttls_required_but_not_offered_is_an_outage(plain: Relay) -> None:
    with channel(plain.settings(security="starttls")) as ch:
        [result] = ch.send([message(1)])
    assert result.outage and "does not offer STARTTLS" in (result.error or "")


def test_implicit_tls(server_tls: ssl.SSLContext, ca_pem: str) -> None:
    with relay(ssl_context=server_tls) as r:
        with channel(r.settings(security="ssl", ca_pem=ca_pem)) as ch:
            assert statuses(ch.send([message(1), message(2)])) == ["sent", "sent"]
        assert len(r.mailbox.got) == 2


def test_auth_plain_over_starttls(server_tls: ssl.SSLContext, ca_pem: str) -> None:
    passwords = Passwords("mailer", "s3cret!")
    with relay(
        tls_context=server_tls, require_starttls=True, authenticator=passwords, auth_required=True
    ) as r:
        settings = r.settings(security="starttls", ca_pem=ca_pem, username="mailer")
        with channel(settings, SmtpSecrets(password="s3cret!")) as ch:
            assert statuses(ch.send([message(1), message(2)])) == ["sent", "sent"]
            assert passwords.logins == ["PLAIN:mailer"] * ch.stats.connections
        with channel(settings, SmtpSecrets(password="wrong")) as ch:
            results = ch.send([message(3), message(4)])
        assert all(res.status == "retry" and res.outage for res in results)
        assert (
            results[0].error
            == f"authentication failed at 127.0.0.1:{r.port}: 535 5.7.8 Authentication credentials invalid"
        )
        assert len(r.mailbox.got) == 2


def test_auth_login_when_plain_is_not_offered(server_tls: ssl.SSLContext, ca_pem: str) -> None:
    passwords = Passwords("mailer", "pw")
    with relay(tls_context=server_tls, require_starttls=True, authenticator=passwords, auth_required=True,
               auth_exclude_mechanism=["PLAIN"]) as r:  # fmt: skip
        settings = r.settings(security="starttls", ca_pem=ca_pem, username="mailer")
        with channel(settings, SmtpSecrets(password="pw")) as ch:
            assert statuses(ch.send([message(1)])) == ["sent"]
        assert passwords.logins == ["LOGIN:mailer"]


def test_test_connection(server_tls: ssl.SSLContext, ca_pem: str) -> None:
    passwords = Passwords("mailer", "pw")
    with relay(
        tls_context=server_tls, require_starttls=True, authenticator=passwords, auth_required=True
    ) as r:
        settings = r.settings(security="starttls", ca_pem=ca_pem, username="mailer")
        smtp_channel.test_connection(settings, SmtpSecrets(password="pw"), LOCAL)
        with pytest.raises(InvalidInput) as bad_password:
            smtp_channel.test_connection(settings, SmtpSecrets(password="nope"), LOCAL)
        assert bad_password.value.code == "smtp_unreachable"
        assert "535" in bad_password.value.message
    with pytest.raises(InvalidInput, match="Connection refused") as down:
        smtp_channel.test_connection(settings, None, LOCAL)
    assert down.value.code == "smtp_unreachable"


# --------------------------------------------------------------------------- configuration


def test_the_provider_is_registered() -> None:
    provider = PROVIDERS["smtp"]
    assert (provider.kind, provider.settings_model, provider.secrets_model) == (
        "email",
        SmtpSettings,
        SmtpSecrets,
    )
    ch = provider.factory(SmtpSettings(host="h", from_email=SENDER), SmtpSecrets(), ChannelOptions())
    assert isinstance(ch, SmtpChannel)
    ch.close()


@pytest.mark.parametrize(
    "bad",
    [
        {"from_email": "not an address"},
        {"from_email": "a@b.example\r\nRCPT TO:<x@y.example>"},
        {"security": "tls"},
        {"port": 0},
        {"connections": 0},
        {"helo_name": "bad name\r\nMAIL FROM:<x@y>"},
        {"ca_pem": "not a certificate"},
        {"unknown": 1},
    ],
)
def test_bad_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SmtpSettings(**({"host": "smtp.example.com", "from_email": SENDER} | bad))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.0.0 Ok: queued as 4XyZ1p3abcz", "4XyZ1p3abcz"),
        ("OK id=1rVbXY-0004Cd-2Q", "1rVbXY-0004Cd-2Q"),
        (
            "Ok 0100018e1b2c3d4e-5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c-000000",
            "0100018e1b2c3d4e-5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c-000000",
        ),
        ("OK", None),
        ("2.0.0 Message accepted for delivery", None),
    ],
)
def test_queue_ids(text: str, expected: str | None) -> None:
    assert queue_id(text) == expected
