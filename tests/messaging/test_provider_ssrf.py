"""The SSRF guard on every target a user configures — SMTP hosts, Twilio/WeChat/FCM base URLs
and FCM token URIs, as webhook URLs — when a channel is saved, sent through or verified; and
errors that keep a status line, never what a remote server wrote."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Engine

from kairos.config import Settings
from kairos.messaging.channels import ChannelOptions, Outgoing, SendResult, clean_error, fcm, twilio, wechat
from kairos.messaging.channels.smtp import SmtpChannel, SmtpSettings
from kairos.messaging.dispatcher import Dispatcher
from kairos.worker.loop import Worker
from tests.conftest import Api
from tests.messaging.conftest import make_contact
from tests.messaging.fake_providers import FakeServer, Reply, Request, TwilioFake, WechatFake, json_reply

STRICT = ChannelOptions(allow_private_targets=False, timeout=5.0)  # the production default
LOCAL = ChannelOptions(allow_private_targets=True, timeout=5.0)
SID = "AC" + "0123456789abcdef" * 2
SECRET = "SECRET-FROM-THE-INTERNAL-SERVICE"
#: places inside the network; the first ones are literals (no DNS), localhost resolves locally
INSIDE = ("127.0.0.1", "169.254.169.254", "10.0.0.8", "[::1]", "localhost")
PUBLIC = "93.184.216.34"  # a public address literal: the guard lets it through without DNS


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def account(key: rsa.RSAPrivateKey, token_uri: str) -> dict[str, str]:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {"client_email": "k@demo.iam.gserviceaccount.com", "private_key": pem, "token_uri": token_uri}


def out(i: int, to: str, **content: Any) -> Outgoing:
    return Outgoing(message_id=i, key=f"msg-{i}", to=to, content=content)


class Listener:
    """A TCP port that accepts nothing by itself: ``connected()`` says whether anyone
    connected (the kernel queues a connection even before ``accept``)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.sock.setblocking(False)

    def connected(self) -> bool:
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    port = Listener()
    yield port
    port.close()


class Leaky(FakeServer):
    """A server that answers everything with ``reply``: a body full of things that must not
    end up in Kairos's errors."""

    def __init__(self, reply: Reply) -> None:
        super().__init__()
        self.reply = reply

    def handle(self, request: Request) -> Reply:
        return self.reply


@pytest.fixture
def leaky() -> Iterator[Leaky]:
    server = Leaky(json_reply(500, {"message": SECRET}))
    yield server
    server.stop()


# --- when a channel is saved ------------------------------------------------------------


def test_provider_targets_inside_the_network_are_refused_when_a_channel_is_saved(
    strict_api: Api, rsa_key: rsa.RSAPrivateKey
) -> None:
    def refused(body: dict[str, Any]) -> None:
        r = strict_api.post("/channels", {"name": "x", **body})
        assert (r.status_code, r.json()["code"]) == (422, "url_not_allowed"), (body, r.text)

    for host in INSIDE:
        url = f"http://{host}:8080"
        refused({"provider": "twilio", "settings": {"account_sid": SID, "from_number": "+15017122661",
                 "base_url": url}, "secrets": {"auth_token": "t"}})  # fmt: skip
        refused({"provider": "wechat", "settings": {"app_id": "wx1", "base_url": url},
                 "secrets": {"app_secret": "s"}})  # fmt: skip
        refused({"provider": "fcm", "settings": {"project_id": "p", "base_url": url},
                 "secrets": {"service_account": account(rsa_key, f"https://{PUBLIC}/token")}})  # fmt: skip
        refused({"provider": "fcm", "settings": {"project_id": "p", "base_url": f"https://{PUBLIC}"},
                 "secrets": {"service_account": account(rsa_key, url + "/token")}})  # fmt: skip
        refused({"provider": "smtp", "settings": {"host": host.strip("[]"), "port": 25,
                 "from_email": "news@shop.example"}})  # fmt: skip
    assert strict_api.get("/channels").json()["data"] == []

    # public targets are fine, and a change that points them inside is refused
    sms = strict_api.post("/channels", {"name": "sms", "provider": "twilio", "secrets": {"auth_token": "t"},
                          "settings": {"account_sid": SID, "from_number": "+15017122661",
                                       "base_url": f"https://{PUBLIC}"}})  # fmt: skip
    mail = strict_api.post("/channels", {"name": "mail", "provider": "smtp",
                           "settings": {"host": PUBLIC, "from_email": "news@shop.example"}})  # fmt: skip
    push = strict_api.post("/channels", {"name": "push", "provider": "fcm",
                           "settings": {"project_id": "p", "base_url": f"https://{PUBLIC}"},
                           "secrets": {"service_account": account(rsa_key, f"https://{PUBLIC}/token")}})  # fmt: skip
    assert (sms.status_code, mail.status_code, push.status_code) == (201, 201, 201), push.text
    for channel_id, change in (
        (sms.json()["id"], {"settings": {"base_url": "http://169.254.169.254"}}),
        (mail.json()["id"], {"settings": {"host": "127.0.0.1", "port": 6379}}),
        (push.json()["id"], {"secrets": {"service_account": account(rsa_key, "http://10.1.2.3/token")}}),
    ):
        r = strict_api.patch(f"/channels/{channel_id}", change)
        assert (r.status_code, r.json()["code"]) == (422, "url_not_allowed"), change
    assert strict_api.get(f"/channels/{sms.json()['id']}").json()["settings"]["base_url"] == f"https://{PUBLIC}"
    assert strict_api.get(f"/channels/{mail.json()['id']}").json()["settings"]["host"] == PUBLIC


def test_the_operator_switch_allows_private_targets_under_both_names(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).allow_private_targets is False  # type: ignore[call-arg]
    monkeypatch.setenv("KAIROS_ALLOW_PRIVATE_TARGETS", "true")
    assert Settings(_env_file=None).allow_private_targets is True  # type: ignore[call-arg]
    monkeypatch.delenv("KAIROS_ALLOW_PRIVATE_TARGETS")
    monkeypatch.setenv("KAIROS_WEBHOOK_ALLOW_PRIVATE", "true")  # the former name
    old = Settings(_env_file=None)  # type: ignore[call-arg]
    assert old.allow_private_targets is True and old.webhook_allow_private is True


# --- when a channel sends ---------------------------------------------------------------


def test_http_providers_never_connect_inside_the_network_at_send_time(rsa_key: rsa.RSAPrivateKey) -> None:
    """A channel saved before the guard existed, or a name that now resolves inside: the
    provider's credentials never leave, and the channel pauses (an outage) until fixed."""
    twilio_fake, wechat_fake = TwilioFake(SID, "auth-token"), WechatFake("wx1", "app-secret")
    token_server = Leaky(json_reply(200, {"access_token": "t", "expires_in": 3600}))
    try:
        channels = [
            twilio.TwilioChannel(
                twilio.Settings(account_sid=SID, from_number="+15017122661", base_url=twilio_fake.url),
                twilio.Secrets(auth_token="auth-token"),
                STRICT,
            ),
            wechat.WechatChannel(
                wechat.Settings(app_id="wx1", base_url=wechat_fake.url),
                wechat.Secrets(app_secret="app-secret"),
                STRICT,
            ),
            fcm.FcmChannel(
                fcm.Settings(project_id="p", base_url=f"https://{PUBLIC}"),
                fcm.Secrets(service_account=account(rsa_key, token_server.url + "/token")),
                STRICT,
            ),
        ]
        contents: list[dict[str, Any]] = [{"text": "hi"}, {"template_id": "T1", "data": {}}, {"title": "hi"}]
        for channel, content in zip(channels, contents, strict=True):
            results = channel.send([out(1, "+14155552671", **content), out(2, "+14155552672", **content)])
            channel.close()
            assert [(r.status, r.outage) for r in results] == [("retry", True)] * 2
            assert "not allowed" in (results[0].error or "")
        assert twilio_fake.requests == [] and wechat_fake.requests == [] and token_server.requests == []
    finally:
        for server in (twilio_fake, wechat_fake, token_server):
            server.stop()


def test_smtp_never_connects_inside_the_network_unless_allowed(listener: Listener) -> None:
    settings = SmtpSettings(
        host="127.0.0.1", port=listener.port, security="none", from_email="n@shop.example", timeout=0.2
    )
    channel = SmtpChannel(settings)  # the default: not allowed
    [result] = channel.send([out(1, "a@example.com", subject="s", text="t")])
    channel.close()
    assert (result.status, result.outage) == ("retry", True)
    assert "not allowed" in (result.error or "")
    assert not listener.connected()

    allowed = SmtpChannel(settings, allow_private=True)
    allowed.send([out(1, "a@example.com", subject="s", text="t")])  # the listener never greets
    allowed.close()
    assert listener.connected()


def test_verify_is_no_port_scanner(api: Api, strict_api: Api, listener: Listener) -> None:
    """``POST /channels/{id}/verify`` of an SMTP channel pointing inside (saved while the
    switch was on) connects nowhere, and says the same for an open and a closed port."""
    closed = Listener()
    closed_port = closed.port
    closed.close()
    answers = []
    for name, port in (("open", listener.port), ("closed", closed_port)):
        created = api.post("/channels", {"name": name, "provider": "smtp", "settings": {
            "host": "127.0.0.1", "port": port, "security": "none", "from_email": "n@shop.example",
            "timeout": 2}})  # fmt: skip
        assert created.status_code == 201, created.text
        r = strict_api.post(f"/channels/{created.json()['id']}/verify")
        assert (r.status_code, r.json()["code"]) == (422, "smtp_unreachable")
        answers.append(r.json()["message"].replace(str(port), "PORT"))
    assert answers[0] == answers[1] and "not allowed" in answers[0]
    assert not listener.connected()


# --- what is kept of a remote answer -----------------------------------------------------


def test_http_provider_errors_keep_the_status_and_code_not_the_body(rsa_key: rsa.RSAPrivateKey) -> None:
    twilio_error = TwilioFake.error(400, 21604, f"{SECRET}\x1b[2J")
    server = Leaky(twilio_error)
    try:
        channel = twilio.TwilioChannel(
            twilio.Settings(account_sid=SID, from_number="+15017122661", base_url=server.url),
            twilio.Secrets(auth_token="t"),
            LOCAL,
        )
        [r] = channel.send([out(1, "+14155552671", text="hi")])
        channel.close()
        assert (r.status, r.error) == ("failed", "HTTP 400 Bad Request: Twilio error 21604")

        server.reply = json_reply(200, {"errcode": 40013, "errmsg": SECRET})  # WeChat: invalid appid
        channel2 = wechat.WechatChannel(
            wechat.Settings(app_id="wx1", base_url=server.url), wechat.Secrets(app_secret="s"), LOCAL
        )
        [r] = channel2.send([out(1, "openid", template_id="T", data={})])
        channel2.close()
        assert r.outage and r.error == "access token refused: HTTP 200 OK: errcode 40013"

        server.reply = json_reply(400, {"error": "invalid_grant", "error_description": SECRET})
        channel3 = fcm.FcmChannel(
            fcm.Settings(project_id="p", base_url=server.url),
            fcm.Secrets(service_account=account(rsa_key, server.url + "/token")),
            LOCAL,
        )
        [r] = channel3.send([out(1, "device", title="hi")])
        assert r.outage and r.error == "access token refused: HTTP 400 Bad Request: invalid_grant"
        channel3._token, channel3._expires_at = "tok", float("inf")  # past the token: a send error
        server.reply = json_reply(500, {"error": {"status": "INTERNAL", "message": SECRET}})
        [r] = channel3.send([out(1, "device", title="hi")])
        channel3.close()
        assert (r.status, r.error) == ("retry", "HTTP 500 Internal Server Error: INTERNAL")
    finally:
        server.stop()


def test_a_provider_answer_never_reaches_the_message_or_the_pause_reason(
    api: Api, worker: Worker, leaky: Leaky
) -> None:
    """The finding's path: a base URL pointing at a local service, whose answer came back in
    ``message.error`` and the channel's ``pause_reason``."""
    channel = api.post("/channels", {"name": "sms", "provider": "twilio", "secrets": {"auth_token": "t"},
                       "settings": {"account_sid": SID, "from_number": "+15017122661",
                                    "base_url": leaky.url}}).json()  # fmt: skip
    cid = make_contact(api, email="p@example.com", phone="+14155552671")
    first = api.post("/messages", {"contact_id": cid, "channel": "sms", "content": {"text": "hi"}}).json()
    worker.run_once()
    got = api.get(f"/messages/{first['id']}").json()
    assert (got["status"], got["error"]) == ("queued", "HTTP 500 Internal Server Error")

    leaky.reply = 401, {"content-type": "text/plain"}, f"{SECRET}\r\nroot:x:0:0".encode()
    second = api.post("/messages", {"contact_id": cid, "channel": "sms", "content": {"text": "hi"}}).json()
    worker.run_once()
    assert api.get(f"/messages/{second['id']}").json()["error"] == "credentials refused: HTTP 401 Unauthorized"
    assert api.get(f"/channels/{channel['id']}").json()["pause_reason"] == (
        "credentials refused: HTTP 401 Unauthorized"
    )


class _Stub:
    """A channel whose provider answers with hostile error text."""

    def __init__(self, status: str, outage: bool) -> None:
        self.status, self.outage = status, outage

    def send(self, batch: list[Outgoing]) -> list[SendResult]:
        error = "550\r\nInjected: header\x00\x1b[31m\u202egnp.exe " + "x" * 500
        return [SendResult(o.message_id, self.status, error=error, outage=self.outage) for o in batch]  # type: ignore[arg-type]

    def close(self) -> None:
        pass


@pytest.mark.parametrize("status,outage", [("failed", False), ("retry", True), ("bounced", False)])
def test_the_dispatcher_stores_errors_as_one_short_clean_line(
    api: Api, worker: Worker, smtp: Any, email_channel: dict[str, Any], engine: Engine,
    monkeypatch: pytest.MonkeyPatch, status: str, outage: bool,
) -> None:  # fmt: skip
    monkeypatch.setattr(Dispatcher, "_channel", lambda self, config: _Stub(status, outage))
    cid = make_contact(api, email="e@example.com")
    m = api.post("/messages", {"contact_id": cid, "channel": "email", "transactional": True,
                               "content": {"subject": "s", "format": "html", "body": "<p>b</p>"}}).json()  # fmt: skip
    worker.run_once()
    error = api.get(f"/messages/{m['id']}").json()["error"]
    assert error.startswith("550 Injected: header ") and len(error) <= 200
    assert not any(c in error for c in "\r\n\x00\x1b\u202e")
    if outage:
        assert api.get(f"/channels/{email_channel['id']}").json()["pause_reason"] == error


def test_clean_error() -> None:
    assert clean_error("HTTP 500\r\n\tbody\x00 \u202eevil") == "HTTP 500 body evil"
    assert len(clean_error("y" * 1000)) == 200 and clean_error("y" * 1000).endswith("…")
    assert clean_error("550 5.1.1 <a@b.example>: user unknown") == "550 5.1.1 <a@b.example>: user unknown"


def test_an_smtp_check_does_not_read_out_a_service_that_is_not_smtp(api: Api) -> None:
    """Even where private targets are allowed, a verify against another service (here one
    that greets like SSH) says it is not SMTP, not what it sent."""
    server = socket.create_server(("127.0.0.1", 0))
    port = int(server.getsockname()[1])

    def greet() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(f"SSH-2.0-OpenSSH_9.6 {SECRET}\r\n".encode())
            conn.recv(100)

    thread = threading.Thread(target=greet, daemon=True)
    thread.start()
    try:
        created = api.post("/channels", {"name": "ssh", "provider": "smtp", "settings": {
            "host": "127.0.0.1", "port": port, "security": "none", "from_email": "n@shop.example",
            "timeout": 5}}).json()  # fmt: skip
        r = api.post(f"/channels/{created['id']}/verify")
        assert (r.status_code, r.json()["code"]) == (422, "smtp_unreachable")
        assert "not SMTP" in r.json()["message"] and SECRET not in r.json()["message"]
        assert "OpenSSH" not in r.json()["message"]
    finally:
        server.close()
        thread.join(5)

