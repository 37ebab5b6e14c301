"""Story 3 of the product, "Score, invite, reward", set up once through the API and then run
by the real worker: every tracked action adds to a lead score; visitors above 50 who came
from organic search get a push inviting them to the newsletter; a purchase sends a
confirmation email; those who spent more than $50 become *buyers*, those who buy more than
once a month *frequent buyers*; frequent buyers above 40 who spent more than $70 get a holiday
thank-you gift."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from kairos.clock import FixedClock
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template
from tests.messaging.fake_providers import FcmFake
from tests.messaging.test_http_channels import service_account

SITE = "https://shop.example"
HOLIDAY = datetime(2026, 12, 24, 9, 0)


@pytest.fixture
def fcm() -> Iterator[tuple[FcmFake, rsa.RSAPrivateKey]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake = FcmFake("kairos-demo", "kairos@kairos-demo.iam.gserviceaccount.com", key.public_key())
    yield fake, key
    fake.stop()


def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


class Site:
    """The shop's pages and events, as the Segment snippet and the shop's server send them."""

    def __init__(self, client: TestClient, write_key: str) -> None:
        self.client, self.auth = client, (write_key, "")

    def send(self, kind: str, body: dict[str, Any]) -> None:
        r = self.client.post(f"/v1/{kind}", json=body, auth=self.auth)
        assert r.status_code == 200, r.text

    def land(self, user: str, url: str, referrer: str = "") -> None:
        self.send("page", {"userId": user, "name": "Home", "properties": {"url": url, "path": "/",
                                                                           "referrer": referrer}})  # fmt: skip

    def act(self, user: str, event: str, **properties: Any) -> None:
        self.send("track", {"userId": user, "event": event, "properties": properties})


def set_up(api: Api, fcm: FcmFake, key: rsa.RSAPrivateKey) -> None:
    ok(api.post("/channels", {"name": "push", "provider": "fcm",
                              "settings": {"project_id": "kairos-demo", "base_url": fcm.url},
                              "secrets": {"service_account": service_account(fcm, key)}}))  # fmt: skip
    # every tracked action adds to the lead score
    model = ok(api.post("/score-models", {"key": "engagement", "name": "Engagement"}))
    for event, points in (("Product Viewed", 10), ("Product Added", 15), ("Order Completed", 20)):
        ok(api.post(f"/score-models/{model['id']}/rules",
                    {"name": event, "points": points, "rule": {"kind": "event", "event": event}}))  # fmt: skip
    # engaged visitors from organic search: a push inviting them to the newsletter
    invited = ok(api.post("/segments", {"name": "Engaged organic visitors", "definition": {"root": {
        "type": "all", "conditions": [
            {"type": "score", "model": "engagement", "operator": "gt", "value": 50},
            {"type": "attribute", "attribute": "acquisition.first.channel", "operator": "eq",
             "value": "organic_search"}]}}}))  # fmt: skip
    push = ok(api.post("/templates", {"name": "Newsletter invite", "channel": "push",
                                      "fields": {"title": "Join our newsletter",
                                                 "body": "Tips and offers, once a week"}}))  # fmt: skip
    journey(api, "Newsletter invite", {
        "trigger": {"type": "segment_entered", "segment_id": invited["id"]}, "start": "push",
        "nodes": {"push": {"type": "send", "channel": "push", "template_id": push["id"], "next": None}}})
    # a purchase sends a confirmation email
    receipt = email_template(api, "receipt", subject="Thank you for your order")
    journey(api, "Order confirmation", {
        "trigger": {"type": "event", "event": "Order Completed"}, "start": "mail", "entry": {"reentry": "always"},
        "nodes": {"mail": {"type": "send", "channel": "email", "template_id": receipt, "transactional": True,
                           "next": None}}})  # fmt: skip
    # buyers and frequent buyers
    ok(api.post("/computed-traits", {"name": "spent", "definition": {
        "function": "sum", "event": "Order Completed", "property": "revenue"}}))  # fmt: skip
    ok(api.post("/computed-traits", {"name": "orders_30d", "definition": {
        "function": "count", "event": "Order Completed", "window": {"last": {"amount": 30, "unit": "days"}}}}))  # fmt: skip
    for tag, condition in (
        ("buyer", {"type": "attribute", "attribute": "computed.spent", "operator": "gt", "value": 50}),
        ("frequent-buyer", {"type": "attribute", "attribute": "computed.orders_30d", "operator": "gt", "value": 1}),
    ):
        segment = ok(api.post("/segments", {"name": tag, "definition": {"root": condition}}))
        ok(api.post("/tag-rules", {"name": tag, "segment_id": segment["id"], "tag": tag}))
    # frequent buyers above 40 who spent more than $70: a holiday thank-you gift
    gift = ok(api.post("/offers", {"key": "holiday-gift", "name": "A holiday gift", "kind": "gift",
                                   "coupon_mode": "pool"}))  # fmt: skip
    ok(api.post(f"/offers/{gift['id']}/codes/generate", {"count": 5}))
    thanks = ok(api.post("/segments", {"name": "Holiday thanks", "definition": {"root": {
        "type": "all", "conditions": [
            {"type": "tag", "tag": "frequent-buyer"},
            {"type": "score", "model": "engagement", "operator": "gt", "value": 40},
            {"type": "attribute", "attribute": "computed.spent", "operator": "gt", "value": 70}]}}}))  # fmt: skip
    letter = email_template(api, "holiday", subject="A gift from us: {{ offer.code }}")
    journey(api, "Holiday thanks", {
        "trigger": {"type": "schedule", "cron": "0 9 24 12 *", "segment_id": thanks["id"], "timezone": "workspace"},
        "start": "gift",
        "nodes": {"gift": {"type": "assign_offer", "offer_keys": [gift["key"]], "next": "mail"},
                  "mail": {"type": "send", "channel": "email", "template_id": letter, "next": None}}})  # fmt: skip


def journey(api: Api, name: str, definition: dict[str, Any]) -> int:
    jid = int(ok(api.post("/journeys", {"name": name, "definition": definition}))["id"])
    ok(api.post(f"/journeys/{jid}/publish"))
    return jid


def test_story_3_score_invite_reward(
    api: Api,
    client: TestClient,
    clock: FixedClock,
    workspace: CreatedWorkspace,
    smtp: SmtpServer,
    email_channel: dict[str, Any],
    worker: Worker,
    fcm: tuple[FcmFake, rsa.RSAPrivateKey],
) -> None:
    fake, key = fcm
    set_up(api, fake, key)
    clock.set(HOLIDAY.replace(tzinfo=clock.now().tzinfo) - timedelta(days=20))
    site = Site(client, workspace.write_key)
    for user in ("olga", "pete", "bea", "carl"):
        ok(api.post("/contacts", {"external_id": user, "email": f"{user}@example.com", "first_name": user.title(),
                                  "traits": {"push_token": f"device-{user}"}}))  # fmt: skip
    site.land("olga", SITE + "/", referrer="https://www.google.com/")  # organic search
    site.land("pete", SITE + "/?utm_source=google&utm_medium=cpc&utm_campaign=brand", referrer="https://www.google.com/")
    site.land("bea", SITE + "/", referrer="https://www.bing.com/")
    site.land("carl", SITE + "/")  # direct
    for user in ("olga", "pete"):
        for product in ("A", "B", "C", "D"):
            site.act(user, "Product Viewed", product_id=product)
        site.act(user, "Product Added", product_id="C")
    worker.run_once()
    worker.run_once()

    # the push went to Olga only (55 points): Pete has the same score, but came from a paid search ad
    tokens = [r.json()["message"]["token"] for r in fake.sends()]
    assert tokens == ["device-olga"]
    assert fake.sends()[0].json()["message"]["notification"]["title"] == "Join our newsletter"

    # purchases: a confirmation each; Bea buys twice in a month (75 in all), Carl once (60)
    site.act("bea", "Product Viewed", product_id="A")
    site.act("bea", "Order Completed", revenue=30, order_id="b1")
    worker.run_once()
    clock.advance(timedelta(days=3))
    site.act("bea", "Order Completed", revenue=45, order_id="b2")
    site.act("carl", "Order Completed", revenue=60, order_id="c1")
    worker.run_once()
    worker.run_once()
    receipts = sorted(m.rcpt_tos[0] for m in smtp.recorder.received)
    assert receipts == ["bea@example.com", "bea@example.com", "carl@example.com"]
    tags = {c["external_id"]: set(c["tags"]) for c in ok(api.get("/contacts"))["data"]}
    assert tags["bea"] >= {"buyer", "frequent-buyer"} and "frequent-buyer" not in tags["carl"]
    assert "buyer" in tags["carl"] and not tags["olga"] & {"buyer", "frequent-buyer"}

    # the holiday: Bea (score 50, spent 75, a frequent buyer) gets the gift; Carl (20, 60) does not
    clock.set(HOLIDAY.replace(tzinfo=clock.now().tzinfo) + timedelta(minutes=1))
    worker.run_once()
    worker.run_once()
    gifts = [m for m in smtp.recorder.received if m.message["Subject"].startswith("A gift from us")]
    assert [g.rcpt_tos[0] for g in gifts] == ["bea@example.com"]
    assert re.fullmatch(r"A gift from us: \S+", gifts[0].message["Subject"])  # her own code
