"""The HTTP provider adapters against local fakes of Twilio, FCM, WeChat and a webhook receiver."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from kairos.messaging.channels import (
    PROVIDERS,
    ChannelOptions,
    Outgoing,
    SendResult,
    fcm,
    inapp,
    twilio,
    webhook,
    wechat,
)
from kairos.messaging.channels.http import parse_retry_after, run_batch
from tests.messaging.fake_providers import (
    FcmFake,
    TwilioFake,
    WebhookReceiver,
    WechatFake,
    independent_signature,
    json_reply,
)

LOCAL = ChannelOptions(allow_private_targets=True, timeout=5.0)  # the fakes live on 127.0.0.1
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
SERVICE_SID = "MG" + "fedcba9876543210" * 2
FROM = "+15017122661"


def out(i: int, to: str, **content: Any) -> Outgoing:
    return Outgoing(message_id=i, key=f"msg-{i}", to=to, content=content)


def statuses(results: list[SendResult]) -> list[str]:
    return [r.status for r in results]


def test_every_provider_registers_with_its_kind() -> None:
    kinds = {name: PROVIDERS[name].kind for name in ("twilio", "fcm", "wechat", "webhook", "inapp")}
    assert kinds == {
        "twilio": "sms",
        "fcm": "push",
        "wechat": "wechat",
        "webhook": "webhook",
        "inapp": "inapp",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        (formatdate(1_000_030, usegmt=True), 30.0),
        (formatdate(999_000, usegmt=True), 0.0),
        ("Mon, 12 Jan 1970 13:46:50 -0000", 10.0),
        ("-5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_takes_seconds_or_an_http_date(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now_ts=1_000_000) == expected


def test_batches_keep_their_order_and_an_outage_stops_what_has_not_started() -> None:
    def send_one(msg: Outgoing) -> SendResult:
        time.sleep(0.01 * (msg.message_id % 3))  # finish out of order
        return SendResult(msg.message_id, "sent", provider_id=str(msg.message_id))

    results = run_batch([out(i, "x") for i in range(30)], send_one, concurrency=6)
    assert [r.message_id for r in results] == list(range(30))
    assert [r.provider_id for r in results] == [str(i) for i in range(30)]

    down = run_batch(
        [out(i, "x") for i in range(10)],
        lambda m: SendResult(m.message_id, "retry", error="down", outage=True),
        concurrency=1,
    )
    assert all(r.outage and r.status == "retry" for r in down)
    assert [r.error for r in down][1:] == ["not attempted: down"] * 9


# --- Twilio ---------------------------------------------------------------------------------


@pytest.fixture
def twilio_fake() -> Iterator[TwilioFake]:
    fake = TwilioFake(ACCOUNT_SID, "auth-token-1")
    yield fake
    fake.stop()


def twilio_channel(fake: TwilioFake, token: str = "auth-token-1", **settings: Any) -> twilio.TwilioChannel:
    cfg = twilio.Settings(account_sid=ACCOUNT_SID, base_url=fake.url, **({"from_number": FROM} | settings))
    return twilio.TwilioChannel(cfg, twilio.Secrets(auth_token=token), LOCAL)


def test_twilio_posts_form_fields_with_basic_auth_and_classifies_in_batch_order(
    twilio_fake: TwilioFake,
) -> None:
    twilio_fake.replies["+15550000003"] = twilio_fake.error(
        429, 20429, "Too Many Requests", {"Retry-After": "7"}
    )
    twilio_fake.replies["+15550000004"] = twilio_fake.error(500, 20500, "Internal Server Error")
    twilio_fake.replies["+15550000005"] = twilio_fake.error(
        400, 21408, "Permission to send an SMS has not been enabled"
    )
    numbers = [
        "+15550000000",
        "+15005550001",
        "+15005550009",
        "+15550000003",
        "+15550000004",
        "+15550000005",
        "+15550000006",
    ]
    channel = twilio_channel(twilio_fake, status_callback="https://kairos.example/hooks/twilio")
    try:
        results = channel.send([out(i, n, text=f"Hello {i}") for i, n in enumerate(numbers)])
    finally:
        channel.close()

    assert [r.message_id for r in results] == list(range(7))
    assert statuses(results) == ["sent", "bounced", "bounced", "retry", "retry", "failed", "sent"]
    assert results[0].provider_id and results[0].provider_id.startswith("SM")
    assert "21211" in (results[1].error or "") and "21614" in (results[2].error or "")
    assert results[3].retry_after == 7 and not results[3].outage
    assert results[4].retry_after is None and not results[4].outage
    assert "21408" in (results[5].error or "")

    first = next(r for r in twilio_fake.requests if r.form()["To"] == "+15550000000")
    assert (
        first.headers["authorization"]
        == "Basic " + base64.b64encode(f"{ACCOUNT_SID}:auth-token-1".encode()).decode()
    )
    assert first.headers["content-type"] == "application/x-www-form-urlencoded"
    assert first.form() == {
        "To": "+15550000000",
        "From": FROM,
        "Body": "Hello 0",
        "StatusCallback": "https://kairos.example/hooks/twilio",
    }


def test_twilio_with_a_messaging_service(twilio_fake: TwilioFake) -> None:
    cfg = twilio.Settings(
        account_sid=ACCOUNT_SID, messaging_service_sid=SERVICE_SID, base_url=twilio_fake.url + "/"
    )
    channel = twilio.TwilioChannel(cfg, twilio.Secrets(auth_token="auth-token-1"), LOCAL)
    assert statuses(channel.send([out(1, "+15550000000", text="hi")])) == ["sent"]
    channel.close()
    assert twilio_fake.requests[0].form() == {
        "To": "+15550000000",
        "MessagingServiceSid": SERVICE_SID,
        "Body": "hi",
    }


def test_twilio_settings_need_exactly_one_sender() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        twilio.Settings(account_sid=ACCOUNT_SID)
    with pytest.raises(ValidationError, match="exactly one"):
        twilio.Settings(account_sid=ACCOUNT_SID, from_number=FROM, messaging_service_sid=SERVICE_SID)
    with pytest.raises(ValidationError):
        twilio.Settings(account_sid=ACCOUNT_SID, from_number="0612345678")
    with pytest.raises(ValidationError):
        twilio.Settings(account_sid=ACCOUNT_SID, from_number=FROM, base_url="ftp://api.twilio.com")


def test_twilio_refused_credentials_are_an_outage(twilio_fake: TwilioFake) -> None:
    channel = twilio_channel(twilio_fake, token="wrong")
    results = channel.send([out(i, "+15550000000", text="hi") for i in range(5)])
    channel.close()
    assert statuses(results) == ["retry"] * 5
    assert all(r.outage for r in results)
    assert "20003" in (results[0].error or "")


def test_twilio_unreachable_is_an_outage_for_the_whole_batch(twilio_fake: TwilioFake) -> None:
    channel = twilio_channel(twilio_fake)
    twilio_fake.stop()
    results = channel.send([out(i, "+15550000000", text="hi") for i in range(20)])
    channel.close()
    assert [r.message_id for r in results] == list(range(20))
    assert all(r.status == "retry" and r.outage for r in results)
    assert any("unreachable" in (r.error or "") for r in results)
    assert sum("not attempted" in (r.error or "") for r in results) >= 10  # at most a few were in flight


def test_twilio_content_problems_fail_only_that_message(twilio_fake: TwilioFake) -> None:
    channel = twilio_channel(twilio_fake)
    results = channel.send(
        [out(1, "+15550000000"), out(2, "0612345678", text="hi"), out(3, "+15550000000", text="hi")]
    )
    channel.close()
    assert statuses(results) == ["failed", "failed", "sent"]
    assert "text" in (results[0].error or "") and "E.164" in (results[1].error or "")


# --- FCM ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def fcm_fake(rsa_key: rsa.RSAPrivateKey) -> Iterator[FcmFake]:
    fake = FcmFake("kairos-demo", "kairos@kairos-demo.iam.gserviceaccount.com", rsa_key.public_key())
    yield fake
    fake.stop()


def service_account(fake: FcmFake, key: rsa.RSAPrivateKey) -> dict[str, str]:
    return {
        "type": "service_account",
        "project_id": "kairos-demo",
        "private_key_id": "key-1",
        "private_key": pem(key),
        "client_email": fake.client_email,
        "client_id": "1234567890",
        "token_uri": fake.token_uri,
    }


def fcm_channel(fake: FcmFake, key: rsa.RSAPrivateKey) -> fcm.FcmChannel:
    secrets = fcm.Secrets(
        service_account=orjson.dumps(service_account(fake, key)).decode()
    )  # as pasted: JSON text
    return fcm.FcmChannel(fcm.Settings(project_id="kairos-demo", base_url=fake.url), secrets, LOCAL)


def test_fcm_signs_a_service_account_jwt_once_and_sends_with_the_bearer_token(
    fcm_fake: FcmFake, rsa_key: rsa.RSAPrivateKey
) -> None:
    channel = fcm_channel(fcm_fake, rsa_key)
    first = channel.send(
        [out(i, f"device-{i}", title="Sale", body="50% off", data={"n": i}) for i in range(12)]
    )
    second = channel.send([out(99, "device-99", body="again")])
    channel.close()

    assert statuses(first) == ["sent"] * 12 and statuses(second) == ["sent"]
    assert [r.message_id for r in first] == list(range(12))
    assert all(r.provider_id and r.provider_id.startswith("projects/kairos-demo/messages/") for r in first)
    assert fcm_fake.tokens_issued == 1  # cached across messages and batches
    token_request = next(r for r in fcm_fake.requests if r.path == "/token")
    claims = token_request.notes["claims"]
    assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
    assert claims["aud"] == fcm_fake.token_uri and claims["exp"] - claims["iat"] == 3600
    assert token_request.notes["kid"] == "key-1"
    assert {r.headers["authorization"] for r in fcm_fake.sends()} == {"Bearer ya29.fake-1"}


def test_fcm_message_shape_and_string_data(fcm_fake: FcmFake, rsa_key: rsa.RSAPrivateKey) -> None:
    channel = fcm_channel(fcm_fake, rsa_key)
    data = {"n": 3, "flag": True, "obj": {"a": [1]}, "s": "x", "none": None}
    msg = out(
        1,
        "device-1",
        title="T",
        body="B",
        image="https://cdn.example/i.png",
        data=data,
        android={"priority": "high"},
    )
    assert statuses(channel.send([msg])) == ["sent"]
    channel.close()
    assert fcm_fake.sends()[0].json() == {
        "message": {
            "token": "device-1",
            "notification": {"title": "T", "body": "B", "image": "https://cdn.example/i.png"},
            "data": {"n": "3", "flag": "true", "obj": '{"a":[1]}', "s": "x", "none": "null"},
            "android": {"priority": "high"},
        }
    }


def test_fcm_classifies_errors(fcm_fake: FcmFake, rsa_key: rsa.RSAPrivateKey) -> None:
    fcm_fake.replies["busy"] = fcm_fake.error(
        503, "UNAVAILABLE", "The service is unavailable.", "UNAVAILABLE", {"Retry-After": "12"}
    )
    fcm_fake.replies["quota"] = fcm_fake.error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "QUOTA_EXCEEDED")
    fcm_fake.replies["bad"] = fcm_fake.error(
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
        "INVALID_ARGUMENT",
    )
    fcm_fake.replies["other-project"] = fcm_fake.error(
        403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"
    )
    channel = fcm_channel(fcm_fake, rsa_key)
    tokens = ["ok-1", "unregistered-2", "busy", "quota", "bad", "other-project", "ok-2"]
    results = channel.send([out(i, t, title="x") for i, t in enumerate(tokens)])
    reserved = channel.send([out(9, "ok-3", title="x", data={"google.c.a": 1}), out(10, "ok-4", data={})])
    channel.close()
    assert statuses(results) == ["sent", "bounced", "retry", "retry", "failed", "failed", "sent"]
    assert "UNREGISTERED" in (results[1].error or "")
    assert results[2].retry_after == 12 and not results[2].outage
    assert "INVALID_ARGUMENT" in (results[4].error or "")
    assert statuses(reserved) == ["failed", "failed"]
    assert "reserved" in (reserved[0].error or "")


def test_fcm_refreshes_a_revoked_token_once_for_the_whole_batch(
    fcm_fake: FcmFake, rsa_key: rsa.RSAPrivateKey
) -> None:
    channel = fcm_channel(fcm_fake, rsa_key)
    assert statuses(channel.send([out(0, "device-0", title="x")])) == ["sent"]
    fcm_fake.revoke_tokens()
    assert statuses(channel.send([out(i, f"device-{i}", title="x") for i in range(1, 9)])) == ["sent"] * 8
    assert fcm_fake.tokens_issued == 2

    fcm_fake.refuse_every_token = True
    results = channel.send([out(i, f"device-{i}", title="x") for i in range(3)])
    channel.close()
    assert all(r.status == "retry" and r.outage for r in results)
    assert "UNAUTHENTICATED" in (results[0].error or "")


def test_fcm_token_is_fetched_again_when_it_is_about_to_expire(
    fcm_fake: FcmFake, rsa_key: rsa.RSAPrivateKey
) -> None:
    fcm_fake.expires_in = 100  # cached for 50 s
    channel = fcm_channel(fcm_fake, rsa_key)
    started = time.time()
    channel.now = lambda: started - 60
    channel.send([out(1, "device-1", title="x")])
    channel.now = lambda: started - 20
    channel.send([out(2, "device-2", title="x")])
    assert fcm_fake.tokens_issued == 1
    channel.now = lambda: started
    channel.send([out(3, "device-3", title="x")])
    channel.close()
    assert fcm_fake.tokens_issued == 2


def test_fcm_jwt_signed_with_another_key_is_an_outage(fcm_fake: FcmFake) -> None:
    channel = fcm_channel(fcm_fake, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    results = channel.send([out(i, "device", title="x") for i in range(4)])
    channel.close()
    assert all(r.status == "retry" and r.outage for r in results)
    assert "invalid_grant" in (results[0].error or "") or "Invalid JWT" in (results[0].error or "")
    assert not fcm_fake.sends()


def test_fcm_service_account_is_validated(fcm_fake: FcmFake, rsa_key: rsa.RSAPrivateKey) -> None:
    account = service_account(fcm_fake, rsa_key)
    assert fcm.Secrets(service_account=account).service_account.client_email == fcm_fake.client_email
    for missing in ("client_email", "private_key", "token_uri"):
        with pytest.raises(ValidationError, match=missing):
            fcm.Secrets(service_account={k: v for k, v in account.items() if k != missing})
    with pytest.raises(ValidationError, match="PEM"):
        fcm.Secrets(
            service_account={
                **account,
                "private_key": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n",
            }
        )
    with pytest.raises(ValidationError):
        fcm.Secrets(service_account="{not json")


# --- WeChat ---------------------------------------------------------------------------------


@pytest.fixture
def wechat_fake() -> Iterator[WechatFake]:
    fake = WechatFake("wx0123456789abcdef", "app-secret-1")
    yield fake
    fake.stop()


def wechat_channel(fake: WechatFake, secret: str = "app-secret-1") -> wechat.WechatChannel:
    settings = wechat.Settings(app_id="wx0123456789abcdef", base_url=fake.url)
    return wechat.WechatChannel(settings, wechat.Secrets(app_secret=secret), LOCAL)


def template(i: int, openid: str, **extra: Any) -> Outgoing:
    return out(i, openid, template_id="TPL-1", data={"first": "您好", "amount": 12.5}, **extra)


def test_wechat_sends_template_messages_with_one_cached_token(wechat_fake: WechatFake) -> None:
    channel = wechat_channel(wechat_fake)
    data = {"first": "您好", "amount": 12.5, "remark": {"value": "谢谢", "color": "#173177"}}
    results = channel.send(
        [out(0, "o-user-0", template_id="TPL-1", url="https://shop.example/o/1", data=data)]
    )
    results += channel.send([template(i, f"o-user-{i}") for i in range(1, 10)])
    channel.close()
    assert statuses(results) == ["sent"] * 10
    assert all(r.provider_id and r.provider_id.isdigit() for r in results)
    assert wechat_fake.tokens_issued == 1
    token_request = wechat_fake.requests[0]
    assert token_request.query == {
        "grant_type": "client_credential",
        "appid": "wx0123456789abcdef",
        "secret": "app-secret-1",
    }
    first = next(r for r in wechat_fake.sends() if r.json()["touser"] == "o-user-0")
    assert first.query == {"access_token": "wx-token-1"}
    assert first.json() == {
        "touser": "o-user-0",
        "template_id": "TPL-1",
        "client_msg_id": "msg-0",
        "url": "https://shop.example/o/1",
        "data": {
            "first": {"value": "您好"},
            "amount": {"value": "12.5"},
            "remark": {"value": "谢谢", "color": "#173177"},
        },
    }


def test_wechat_refreshes_the_token_once_on_42001(wechat_fake: WechatFake) -> None:
    channel = wechat_channel(wechat_fake)
    assert statuses(channel.send([template(0, "o-user")])) == ["sent"]
    wechat_fake.expire_tokens()
    results = channel.send([template(i, f"o-user-{i}") for i in range(1, 9)])
    assert statuses(results) == ["sent"] * 8
    assert wechat_fake.tokens_issued == 2
    assert (
        sum(r.query["access_token"] == "wx-token-1" for r in wechat_fake.sends()) >= 2
    )  # the refused attempts

    wechat_fake.refuse_every_token = True
    results = channel.send([template(i, "o-user") for i in range(3)])
    channel.close()
    assert all(r.status == "retry" and r.outage for r in results)


def test_wechat_classifies_errcodes_in_batch_order(wechat_fake: WechatFake) -> None:
    channel = wechat_channel(wechat_fake)
    openids = ["o-ok", "o-unfollowed", "o-invalid", "o-busy", "o-quota", "o-badtemplate", "o-ok-2"]
    results = channel.send([template(i, o) for i, o in enumerate(openids)])
    missing = channel.send([out(9, "o-ok", data={})])
    channel.close()
    assert [r.message_id for r in results] == list(range(7))
    assert statuses(results) == ["sent", "bounced", "bounced", "retry", "retry", "failed", "sent"]
    assert "43004" in (results[1].error or "") and "40037" in (results[5].error or "")
    assert not any(r.outage for r in results)
    assert statuses(missing) == ["failed"]


def test_wechat_wrong_secret_is_an_outage(wechat_fake: WechatFake) -> None:
    channel = wechat_channel(wechat_fake, secret="wrong")
    results = channel.send([template(i, "o-user") for i in range(3)])
    channel.close()
    assert all(r.status == "retry" and r.outage for r in results)
    assert "40125" in (results[0].error or "")
    assert not wechat_fake.sends()


def test_wechat_http_errors_are_transient(wechat_fake: WechatFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        wechat_fake,
        "handle",
        lambda request: (
            json_reply(502, {"error": "bad gateway"})
            if request.path.endswith("/send")
            else WechatFake.handle(wechat_fake, request)
        ),
    )
    channel = wechat_channel(wechat_fake)
    results = channel.send([template(1, "o-user")])
    channel.close()
    assert statuses(results) == ["retry"] and not results[0].outage


# --- Webhooks -------------------------------------------------------------------------------

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    fake = WebhookReceiver(SECRET)
    yield fake
    fake.stop()


def webhook_channel(**settings: Any) -> webhook.WebhookChannel:
    return webhook.WebhookChannel(webhook.Settings(**settings), webhook.Secrets(signing_secret=SECRET), LOCAL)


def test_webhooks_are_signed_per_standard_webhooks(receiver: WebhookReceiver) -> None:
    channel = webhook_channel(headers={"X-Tenant": "acme"})
    payload = {"type": "contact.updated", "data": {"id": 7, "name": "Zoë"}}
    results = channel.send([out(1, receiver.url + "/ok", payload=payload)])
    channel.close()
    assert statuses(results) == ["sent"] and results[0].provider_id == "msg-1"
    request = receiver.requests[0]
    assert request.notes == {"verified": True, "verified_independently": True}
    assert request.body == orjson.dumps(payload)
    assert request.headers["webhook-id"] == "msg-1"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-tenant"] == "acme"
    expected = independent_signature(SECRET, "msg-1", request.headers["webhook-timestamp"], request.body)
    assert request.headers["webhook-signature"] == expected


def test_secret_headers_are_sent_and_win_over_settings(receiver: WebhookReceiver) -> None:
    secrets = webhook.Secrets(signing_secret=SECRET, headers={"authorization": "Bearer from-secrets"})
    settings = webhook.Settings(headers={"Authorization": "Bearer from-settings", "X-Tenant": "acme"})
    channel = webhook.WebhookChannel(settings, secrets, LOCAL)
    results = channel.send([out(1, receiver.url + "/ok", payload={})])
    channel.close()
    assert statuses(results) == ["sent"]
    request = receiver.requests[0]
    assert request.headers["authorization"] == "Bearer from-secrets"
    assert request.headers["x-tenant"] == "acme"
    with pytest.raises(ValidationError):
        webhook.Secrets(headers={"Webhook-Signature": "v1,forged"})


def test_webhook_answers_are_classified_in_batch_order(receiver: WebhookReceiver) -> None:
    channel = webhook_channel(url=receiver.url + "/ok")
    paths = ["/ok", "/gone", "/redirect", "/busy", "/limited", "/bad", ""]
    results = channel.send(
        [out(i, receiver.url + p if p else "", payload={"i": i}) for i, p in enumerate(paths)]
    )
    channel.close()
    assert [r.message_id for r in results] == list(range(7))
    assert statuses(results) == ["sent", "bounced", "failed", "retry", "retry", "failed", "sent"]
    assert "redirects are not followed" in (results[2].error or "")
    assert results[3].retry_after == 0 and results[4].retry_after == 30
    assert results[5].error == "HTTP 400 Bad Request"  # the status line, never the receiver's body
    assert not any(r.outage for r in results)
    assert sorted(r.path for r in receiver.requests) == sorted(
        ["/ok", "/gone", "/redirect", "/busy", "/limited", "/bad", "/ok"]
    )


def test_an_unreachable_receiver_is_an_outage_for_its_messages_only(receiver: WebhookReceiver) -> None:
    down = WebhookReceiver(SECRET)
    down.stop()
    channel = webhook_channel()
    batch = [out(i, (down.url if i % 2 else receiver.url) + "/ok", payload={}) for i in range(6)]
    results = channel.send(batch)
    channel.close()
    assert statuses(results) == ["sent", "retry"] * 3
    assert [r.outage for r in results] == [False, True] * 3


def test_verify_signature() -> None:
    body = b'{"a":1}'
    now = str(int(time.time()))
    good = webhook.sign(SECRET, "id-1", now, body)
    other = webhook.sign(webhook.generate_secret(), "id-1", now, body)
    assert webhook.verify_signature(SECRET, "id-1", now, body, good)
    assert webhook.verify_signature(SECRET, "id-1", now, body.decode(), f"{other} {good}")  # rotation
    assert not webhook.verify_signature(SECRET, "id-1", now, body, other)
    assert not webhook.verify_signature(SECRET, "id-1", now, b'{"a":2}', good)
    assert not webhook.verify_signature(SECRET, "id-2", now, body, good)
    assert not webhook.verify_signature(SECRET, "id-1", now, body, "v2," + good[3:])
    assert not webhook.verify_signature(
        SECRET, "id-1", "1", body, webhook.sign(SECRET, "id-1", "1", body), tolerance=300
    )
    assert not webhook.verify_signature(SECRET, "id-1", "soon", body, good)


def test_webhook_secrets_and_settings_are_validated() -> None:
    generated = webhook.generate_secret()
    assert generated.startswith("whsec_") and len(base64.b64decode(generated[6:])) == 24
    assert webhook.Secrets().signing_secret.startswith("whsec_")  # generated when not supplied
    for bad in ("secret", "whsec_***", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(ValidationError):
            webhook.Secrets(signing_secret=bad)
    for headers in (
        {"X-Ok": "a\r\nInjected: 1"},
        {"Bad Name": "x"},
        {"Webhook-Signature": "v1,forged"},
        {"X-Name": "Zoë"},
    ):
        with pytest.raises(ValidationError):
            webhook.Settings(headers=headers)
    with pytest.raises(ValidationError):
        webhook.Settings(url="file:///etc/passwd")


def test_inapp_acknowledges_every_message_with_its_key() -> None:
    channel = inapp.InAppChannel()
    results = channel.send([out(1, "42", title="Hi"), out(2, "43", title="Hi")])
    assert [(r.message_id, r.status, r.provider_id) for r in results] == [
        (1, "sent", "msg-1"),
        (2, "sent", "msg-2"),
    ]
    assert inapp.Settings.model_validate({}) == inapp.Settings()
