"""Double opt-in, the preference centre, the consent ledger and suppression management."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from kairos.clock import FixedClock
from kairos.worker.loop import Worker
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact


def test_double_opt_in_subscribes_only_after_the_confirmation_link(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    topic = api.post(
        "/topics", {"key": "newsletter", "name": "The Newsletter", "opt_in": True, "double_opt_in": True}
    ).json()
    cid = make_contact(api, email="opt@example.com", first_name="Olga")
    r = api.post(
        f"/contacts/{cid}/subscriptions", {"topic_id": topic["id"], "status": "subscribed", "source": "form"}
    )
    assert r.json()["topics"][0]["status"] == "pending"
    newsletter = api.post("/messages", {"contact_id": cid, "channel": "email", "transactional": False,
                                        "topic_id": topic["id"], "template_id": email_template(api)}).json()  # fmt: skip
    worker.run_once()
    assert api.get(f"/messages/{newsletter['id']}").json()["reason"] == "pending_opt_in"

    [confirmation] = smtp.recorder.to("opt@example.com")
    html = confirmation.message.get_body(("html",)).get_content()
    assert "The Newsletter" in html
    link = re.search(r'href="https?://[^/"]+(/p/confirm/[^"]+)"', html)
    assert link, html
    assert "List-Unsubscribe" not in confirmation.message  # transactional
    assert api.http.get(link.group(1)).status_code == 200  # a page with a button: no change yet
    assert api.get(f"/contacts/{cid}/subscriptions").json()["topics"][0]["status"] == "pending"
    assert api.http.post(link.group(1)).status_code == 200
    assert api.get(f"/contacts/{cid}/subscriptions").json()["topics"][0]["status"] == "subscribed"

    again = api.post("/messages", {"contact_id": cid, "channel": "email", "transactional": False,
                                   "topic_id": topic["id"], "template_id": email_template(api, "n2")}).json()  # fmt: skip
    worker.run_once()
    assert api.get(f"/messages/{again['id']}").json()["status"] == "sent"
    log = api.get(f"/contacts/{cid}/consent-log").json()["data"]
    assert [(e["status"], e["source"]) for e in log] == [("pending", "form"), ("subscribed", "double_opt_in")]


def test_the_preference_centre_changes_topics_and_records_them(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    news = api.post("/topics", {"key": "news", "name": "Product news"}).json()
    deals = api.post("/topics", {"key": "deals", "name": "Deals"}).json()
    cid = make_contact(api, email="pref@example.com")
    api.post("/messages", {"contact_id": cid, "channel": "email", "template_id": email_template(
        api, body='<p><a href="{{ links.preferences_url }}">Preferences</a></p>')})  # fmt: skip
    worker.run_once()
    html = smtp.recorder.to("pref@example.com")[0].message.get_body(("html",)).get_content()
    path = re.search(r'href="https?://[^/"]+(/p/[^"]+)"', html).group(1)  # type: ignore[union-attr]

    page = api.http.get(path)
    assert page.status_code == 200 and "Product news" in page.text and "Deals" in page.text
    r = api.http.post(path, data={"topic": str(deals["id"])})
    assert r.status_code == 200
    subs = {
        s["topic"]["key"]: s["status"] for s in api.get(f"/contacts/{cid}/subscriptions").json()["topics"]
    }
    assert subs == {"news": "unsubscribed", "deals": "subscribed"}
    log = api.get(f"/contacts/{cid}/consent-log").json()["data"]
    assert [(e["scope"], e["status"], e["source"]) for e in log] == [
        (f"topic:{news['id']}", "unsubscribed", "preference_centre")
    ]
    assert api.http.get(path[:-3] + "xyz").status_code == 404


def test_manual_suppression_and_its_removal(api: Api) -> None:
    r = api.post("/suppressions", {"channel": "email", "address": " Someone@Example.COM "})
    assert r.status_code == 201 and r.json()["address"] == "someone@example.com"
    assert [s["address"] for s in api.get("/suppressions").json()["data"]] == ["someone@example.com"]
    assert api.delete("/suppressions/email/someone@example.com").status_code == 204
    assert api.delete("/suppressions/email/someone@example.com").json()["code"] == "suppression_not_found"
    bad = api.post("/suppressions", {"channel": "fax", "address": "x"})
    assert bad.status_code == 422


def test_channel_secrets_are_never_returned(api: Api, smtp: SmtpServer) -> None:
    r = api.post("/channels", {"name": "m", "provider": "smtp", "settings": {
        "host": smtp.host, "port": smtp.port, "security": "none", "from_email": "a@shop.example",
        "username": "u"}, "secrets": {"password": "hunter2-very-secret"}})  # fmt: skip
    assert r.status_code == 201, r.text
    for body in (r.text, api.get("/channels").text, api.get(f"/channels/{r.json()['id']}").text):
        assert "hunter2" not in body
    assert r.json()["secrets_set"] == ["password"]
    bad = api.post("/channels", {"name": "n", "provider": "smtp", "settings": {"host": "x"}})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_channel_config")


def test_a_channel_can_be_verified_without_sending(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any]
) -> None:
    assert api.post(f"/channels/{email_channel['id']}/verify").status_code == 204
    assert smtp.recorder.received == []
    smtp.stop()
    r = api.post(f"/channels/{email_channel['id']}/verify")
    assert (r.status_code, r.json()["code"]) == (422, "smtp_unreachable")
    assert "Connection refused" in r.json()["message"] or "connect" in r.json()["message"]
    smtp.start()
    inbox = api.post("/channels", {"name": "inbox", "provider": "inapp"}).json()
    r = api.post(f"/channels/{inbox['id']}/verify")
    assert (r.status_code, r.json()["code"]) == (422, "verify_unsupported")


def test_segments_on_consent_follow_subscriptions_as_the_send_check_does(
    api: Api, worker: Worker, clock: FixedClock
) -> None:
    news = api.post("/topics", {"key": "news", "name": "News", "opt_in": True, "channel": "email"}).json()
    api.post("/topics", {"key": "tips", "name": "Tips", "opt_in": False, "channel": "email"})
    ann, bob, cy = (make_contact(api, email=f"{n}@example.com") for n in ("ann", "bob", "cy"))

    def segment(name: str, root: dict[str, Any]) -> int:
        r = api.post("/segments", {"name": name, "definition": {"root": root}})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def members(sid: int) -> set[int]:
        return {m["id"] for m in api.get(f"/segments/{sid}/members").json()["data"]}

    readers = segment("news readers", {"type": "subscription", "topic": "news"})
    tipped = segment("tips", {"type": "subscription", "topic": "tips"})
    mailable = segment("email ok", {"type": "subscription", "channel": "email"})
    silent = segment("no email", {"type": "subscription", "channel": "email", "subscribed": False})
    worker.run_once()
    # opt-in: nobody until they subscribe; opt-out: everybody until they unsubscribe
    assert (members(readers), members(tipped), members(mailable), members(silent)) == (
        set(), {ann, bob, cy}, {ann, bob, cy}, set())  # fmt: skip

    change = {"source": "api"}
    api.post(f"/contacts/{ann}/subscriptions", {**change, "topic_id": news["id"], "status": "subscribed"})
    tips_id = api.get("/topics").json()["data"][1]["id"]
    api.post(f"/contacts/{bob}/subscriptions", {**change, "topic_id": tips_id, "status": "unsubscribed"})
    api.post(f"/contacts/{cy}/subscriptions", {**change, "channel": "email", "status": "unsubscribed"})
    clock.advance(timedelta(seconds=1))
    worker.run_once()
    assert members(readers) == {ann}
    assert members(tipped) == {ann}  # bob left the topic, cy the whole channel
    assert (members(mailable), members(silent)) == ({ann, bob}, {cy})

    for bad, code in (({"type": "subscription", "topic": "nope"}, "unknown_topic"),
                      ({"type": "subscription", "channel": "fax"}, "invalid_definition"),
                      ({"type": "subscription"}, "invalid_definition")):  # fmt: skip
        r = api.post("/segments", {"name": f"bad {code}", "definition": {"root": bad}})
        assert (r.status_code, r.json()["code"]) == (422, code), r.json()
