"""Webhooks, push, the in-app inbox, provider reports, previews and test sends — through the
API, the outbox and the dispatcher, against local servers speaking each provider's API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kairos.api.app import create_app
from kairos.clock import FixedClock
from kairos.config import Settings
from kairos.worker.loop import Worker, build_dispatcher
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact
from tests.messaging.fake_providers import WebhookReceiver


@pytest.fixture
def open_settings(database_url: str) -> Settings:
    """Webhooks to 127.0.0.1 allowed: the local receivers of these tests."""
    return Settings(  # type: ignore[call-arg]
        database_url=database_url, secret_key="test-secret", webhook_allow_private=True, _env_file=None
    )


@pytest.fixture
def local(
    open_settings: Settings, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> Iterator[Api]:
    with TestClient(create_app(open_settings, clock=clock)) as c:
        yield Api(c, workspace.api_key)


@pytest.fixture
def local_worker(open_settings: Settings, engine: Engine, clock: FixedClock) -> Iterator[Worker]:
    w = Worker(engine, clock, dispatcher=build_dispatcher(open_settings, engine, clock))
    yield w
    assert w.dispatcher is not None
    w.dispatcher.close()


def test_a_webhook_message_is_signed_per_standard_webhooks(local: Api, local_worker: Worker) -> None:
    created = local.post("/channels", {"name": "crm", "provider": "webhook"}).json()
    secret = local.get(f"/channels/{created['id']}/signing-secret").json()["signing_secret"]
    assert secret.startswith("whsec_") and secret not in str(local.get("/channels").json())
    receiver = WebhookReceiver(secret)
    try:
        cid = make_contact(local, email="lead@example.com", first_name="Lee")
        payload = {"event": "mql", "email": "{{ contact.email }}", "score": 51}
        r = local.post("/messages", {"contact_id": cid, "channel": "webhook", "to": receiver.url + "/hook",
                                     "content": {"payload": payload}})  # fmt: skip
        assert r.status_code == 202, r.text
        local_worker.run_once()
        [request] = receiver.requests
        assert request.notes["verified"] and request.notes["verified_independently"]
        assert request.json() == {"event": "mql", "email": "lead@example.com", "score": 51}
        assert request.headers["webhook-id"] == f"kairos-{r.json()['id']}"
        assert local.get(f"/messages/{r.json()['id']}").json()["status"] == "sent"
    finally:
        receiver.stop()


def test_webhook_targets_inside_the_network_are_refused_by_default(strict_api: Api) -> None:
    api = strict_api
    for url in (
        "http://127.0.0.1:9/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://10.0.0.8/",
    ):
        r = api.post("/channels", {"name": "x", "provider": "webhook", "settings": {"url": url}})
        assert (r.status_code, r.json()["code"]) == (422, "url_not_allowed"), url
    cid = make_contact(api, email="w@example.com")
    r = api.post("/messages", {"contact_id": cid, "channel": "webhook", "to": "http://127.0.0.1:9/",
                               "content": {"payload": {}}})  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (422, "url_not_allowed")


def _basic(write_key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}


def test_the_in_app_inbox_lists_reads_and_dismisses(
    api: Api, worker: Worker, workspace: CreatedWorkspace
) -> None:
    assert api.post("/channels", {"name": "inbox", "provider": "inapp"}).status_code == 201
    cid = make_contact(api, external_id="user-7", first_name="Ines")
    content = {"title": "Welcome {{ contact.first_name }}", "body": "Your points: {{ payload.points }}",
               "data": {"deeplink": "app://points"}}  # fmt: skip
    r = api.post(
        "/messages", {"contact_id": cid, "channel": "inapp", "content": content, "payload": {"points": 40}}
    )
    worker.run_once()
    assert api.get(f"/messages/{r.json()['id']}").json()["status"] == "sent"

    http, auth = api.http, _basic(workspace.write_key)
    secret = api.get("/inbox/identity-secret").json()["identity_secret"]
    me = {"user_id": "user-7", "user_hash": hmac.new(secret.encode(), b"user-7", hashlib.sha256).hexdigest()}
    box = http.get("/inbox/v1/messages", params=me, headers=auth).json()
    assert box["unread"] == 1
    [item] = box["data"]
    assert (item["title"], item["body"], item["data"]) == (
        "Welcome Ines",
        "Your points: 40",
        {"deeplink": "app://points"},
    )
    assert http.post(f"/inbox/v1/messages/{item['id']}/read", params=me, headers=auth).status_code == 204
    assert http.get("/inbox/v1/messages", params=me, headers=auth).json()["unread"] == 0
    assert http.post(f"/inbox/v1/messages/{item['id']}/dismiss", params=me, headers=auth).status_code == 204
    assert http.get("/inbox/v1/messages", params=me, headers=auth).json()["data"] == []
    kinds = [e["kind"] for e in api.get(f"/messages/{r.json()['id']}").json()["events"]]
    assert kinds == ["delivered", "opened"]

    assert http.get("/inbox/v1/messages", params=me).status_code == 401
    assert http.get("/inbox/v1/messages", params=me, headers=_basic("wk_wrong")).status_code == 401
    # the write key is public: a user id alone, or with another user's hash, reads nothing
    for params in ({"user_id": "user-7"}, {"user_id": "user-7", "user_hash": "0" * 64},
                   {"user_id": "user-8", "user_hash": me["user_hash"]}):  # fmt: skip
        refused = http.get("/inbox/v1/messages", params=params, headers=auth)
        assert (refused.status_code, refused.json()["code"]) == (401, "invalid_user_hash")
        read = http.post(f"/inbox/v1/messages/{item['id']}/read", params=params, headers=auth)
        assert read.status_code == 401
    nobody = {
        "user_id": "nobody",
        "user_hash": hmac.new(secret.encode(), b"nobody", hashlib.sha256).hexdigest(),
    }
    other = http.get("/inbox/v1/messages", params=nobody, headers=auth)
    assert (other.status_code, other.json()["code"]) == (404, "contact_not_found")


def test_provider_reports_record_delivery_and_suppress_bounces(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    report_path = "/hooks/reports/" + email_channel["report_url"].rsplit("/", 1)[1]
    tid = email_template(api)
    ok = api.post(
        "/messages",
        {"contact_id": make_contact(api, email="ok@example.com"), "channel": "email", "template_id": tid},
    ).json()
    gone = api.post(
        "/messages",
        {"contact_id": make_contact(api, email="gone@example.com"), "channel": "email", "template_id": tid},
    ).json()
    worker.run_once()

    assert api.http.post(report_path, json={"type": "delivered", "message_id": ok["id"]}).status_code == 204
    provider_id = api.get(f"/messages/{gone['id']}").json()["provider_id"]
    assert (
        api.http.post(
            report_path, json={"type": "bounced", "provider_id": provider_id, "detail": "5.1.1"}
        ).status_code
        == 204
    )
    assert api.get(f"/messages/{ok['id']}").json()["status"] == "delivered"
    assert api.get(f"/messages/{gone['id']}").json()["status"] == "bounced"
    assert [s["address"] for s in api.get("/suppressions").json()["data"]] == ["gone@example.com"]

    assert (
        api.http.post("/hooks/reports/forged", json={"type": "delivered", "message_id": ok["id"]}).status_code
        == 401
    )
    bad = api.http.post(report_path, json={"type": "exploded", "message_id": ok["id"]})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_report")


def test_a_complaint_suppresses_and_unsubscribes(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    report_path = "/hooks/reports/" + email_channel["report_url"].rsplit("/", 1)[1]
    cid = make_contact(api, email="angry@example.com")
    m = api.post(
        "/messages",
        {"contact_id": cid, "channel": "email", "template_id": email_template(api), "transactional": False},
    ).json()
    worker.run_once()
    assert api.http.post(report_path, json={"type": "complained", "message_id": m["id"]}).status_code == 204
    assert api.get("/suppressions").json()["data"][0]["reason"] == "complaint"
    assert api.get(f"/contacts/{cid}/subscriptions").json()["channels"] == {"email": "unsubscribed"}


def test_preview_renders_for_a_contact_and_strict_mode_names_missing_variables(
    api: Api, email_channel: dict[str, Any]
) -> None:
    cid = make_contact(api, email="p@example.com", first_name="Pia", traits={"tier": "gold"})
    tid = email_template(api, subject="{{ contact.first_name }}, your {{ contact.tier }} perks")
    r = api.post(f"/templates/{tid}/preview", {"contact_id": cid})
    assert r.status_code == 200, r.text
    content = r.json()["content"]
    assert content["subject"] == "Pia, your gold perks"
    assert (
        "/t/c/" in content["html"]
        and content["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    )

    nick = email_template(api, "nick", subject="Hi {{ contact.nickname }}")
    strict = api.post(f"/templates/{nick}/preview", {"contact_id": cid})
    assert (strict.status_code, strict.json()["code"]) == (422, "template_render_failed")
    assert "contact.nickname" in strict.json()["message"]
    assert (
        api.post(f"/templates/{nick}/preview", {"contact_id": cid, "strict": False}).json()["content"][
            "subject"
        ]
        == "Hi"
    )


def test_a_test_send_goes_to_the_given_address_marked_as_a_test(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    cid = make_contact(api, email="real@example.com", first_name="Rae")
    tid = email_template(api)
    r = api.post(f"/templates/{tid}/test-send", {"contact_id": cid, "to": "marketer@shop.example"})
    assert r.status_code == 202, r.text
    worker.run_once()
    [got] = smtp.recorder.to("marketer@shop.example")
    assert got.message["Subject"] == "[Test] Hello Rae"
    assert smtp.recorder.to("real@example.com") == []
    assert re.search(r"List-Unsubscribe", got.data.decode()) is None  # tests are transactional


def test_push_and_wechat_reach_the_contact_through_their_traits(api: Api, worker: Worker) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from tests.messaging.fake_providers import FcmFake, WechatFake
    from tests.messaging.test_http_channels import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fcm = FcmFake("kairos-demo", "kairos@kairos-demo.iam.gserviceaccount.com", key.public_key())
    wx = WechatFake("wx0123456789abcdef", "app-secret-1")
    try:
        assert (
            api.post(
                "/channels",
                {
                    "name": "push",
                    "provider": "fcm",
                    "settings": {"project_id": "kairos-demo", "base_url": fcm.url},
                    "secrets": {"service_account": service_account(fcm, key)},
                },
            ).status_code
            == 201
        )
        assert api.post("/channels", {"name": "wx", "provider": "wechat",
                                      "settings": {"app_id": "wx0123456789abcdef", "base_url": wx.url},
                                      "secrets": {"app_secret": "app-secret-1"}}).status_code == 201  # fmt: skip
        cid = make_contact(api, external_id="u-push", first_name="Mei",
                           traits={"push_token": "device-token-1", "wechat_openid": "oOPENID1"})  # fmt: skip
        nobody = make_contact(api, external_id="u-none")
        push = {
            "title": "Hi {{ contact.first_name }}",
            "body": "Your order shipped",
            "data": {"order": "{{ payload.order }}"},
        }
        wechat = {
            "template_id": "TPL-1",
            "data": {"first": "{{ contact.first_name }}您好", "amount": "{{ payload.amount }}"},
        }
        ids = [
            api.post(
                "/messages", {"contact_id": cid, "channel": "push", "content": push, "payload": {"order": 42}}
            ).json()["id"],
            api.post(
                "/messages",
                {"contact_id": cid, "channel": "wechat", "content": wechat, "payload": {"amount": "12.50"}},
            ).json()["id"],
            api.post("/messages", {"contact_id": nobody, "channel": "push", "content": push}).json()["id"],
        ]
        worker.run_once()
        states = [(m["status"], m["reason"]) for m in (api.get(f"/messages/{i}").json() for i in ids)]
        assert states == [("sent", None), ("sent", None), ("skipped", "no_address")]
        [sent] = fcm.sends()
        assert sent.json()["message"]["token"] == "device-token-1"
        assert sent.json()["message"]["notification"] == {"title": "Hi Mei", "body": "Your order shipped"}
        assert sent.json()["message"]["data"] == {"order": "42"}
        [wsend] = wx.sends()
        assert wsend.json()["touser"] == "oOPENID1"
        assert wsend.json()["data"]["first"] == {"value": "Mei您好"}
    finally:
        fcm.stop()
        wx.stop()
