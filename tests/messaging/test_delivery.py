"""Email end to end: API → outbox → dispatcher → a real SMTP server, and back through the
tracking links, unsubscribe and the contact's events."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select, update

from kairos.clock import FixedClock
from kairos.contacts.tables import contact
from kairos.events.tables import event
from kairos.messaging.tracking import link_part, url_hash
from kairos.worker.loop import Worker
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact


def send(api: Api, contact_id: int, template_id: int, key: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {"contact_id": contact_id, "channel": "email", "template_id": template_id, **extra}
    r = api.post("/messages", body, headers={"Idempotency-Key": key} if key else None)
    assert r.status_code == 202, r.text
    return dict(r.json())


def contact_events(engine: Engine, contact_id: int) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(event.c.name).where(event.c.contact_id == contact_id).order_by(event.c.id)
            ).scalars()
        )


def test_a_message_reaches_the_smtp_server_with_its_headers(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    cid = make_contact(api, email="Ada@Example.com", first_name="Ada")
    tid = email_template(api)
    msg = send(api, cid, tid, transactional=False)
    assert msg["status"] == "queued"

    worker.run_once()

    [got] = smtp.recorder.to("ada@example.com")
    m = got.message
    assert m["Subject"] == "Hello Ada"
    assert m["From"] == "Shop <news@shop.example>"
    assert m["Message-ID"] == f"<kairos-{msg['id']}@shop.example>"
    assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<https?://[^>]+/u/[A-Za-z0-9_-]+>.*", m["List-Unsubscribe"])
    html = m.get_body(("html",)).get_content()
    text = m.get_body(("plain",)).get_content()
    assert "Hi Ada," in html and "Hi Ada," in text
    assert "https://shop.example/sale" not in html  # rewritten to a tracked link
    assert "/t/c/" in html and "/t/o/" in html
    after = api.get(f"/messages/{msg['id']}").json()
    assert after["status"] == "sent" and after["attempts"] == 1 and after["provider_id"]


def test_the_same_idempotency_key_never_makes_two_messages(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    cid = make_contact(api, email="b@example.com", first_name="B")
    tid = email_template(api)
    first = send(api, cid, tid, key="order-42-confirmation")
    again = send(api, cid, tid, key="order-42-confirmation")
    assert again["id"] == first["id"]
    worker.run_once()
    worker.run_once()
    assert len(smtp.recorder.to("b@example.com")) == 1


def test_clicks_and_opens_are_recorded_and_become_contact_events(
    api: Api,
    smtp: SmtpServer,
    email_channel: dict[str, Any],
    worker: Worker,
    clock: FixedClock,
    engine: Engine,
) -> None:
    cid = make_contact(api, email="c@example.com", first_name="C")
    msg = send(api, cid, email_template(api), transactional=False)
    worker.run_once()
    html = smtp.recorder.to("c@example.com")[0].message.get_body(("html",)).get_content()
    click_url = re.search(r'href="(https?://[^"]+/t/c/[^"]+)"', html)
    pixel_url = re.search(r'src="(https?://[^"]+/t/o/[^"]+)"', html)
    assert click_url and pixel_url
    clock.advance(timedelta(minutes=5))
    browser = {
        "User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari/605.1"
    }

    opened = api.http.get("/t/o/" + pixel_url.group(1).split("/t/o/", 1)[1], headers=browser)
    assert opened.status_code == 200 and opened.headers["content-type"] == "image/gif"
    clicked = api.http.get(
        "/t/c/" + click_url.group(1).split("/t/c/", 1)[1], headers=browser, follow_redirects=False
    )
    assert clicked.status_code == 302
    assert clicked.headers["location"] == "https://shop.example/sale?utm=mail&x=1"

    detail = api.get(f"/messages/{msg['id']}").json()
    assert [(e["kind"], e["machine"]) for e in detail["events"]] == [("opened", False), ("clicked", False)]
    assert contact_events(engine, cid)[-2:] == ["Email Opened", "Email Link Clicked"]


def test_a_scanner_open_right_after_sending_is_flagged_as_machine(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    cid = make_contact(api, email="d@example.com")
    msg = send(api, cid, email_template(api))
    worker.run_once()
    html = smtp.recorder.to("d@example.com")[0].message.get_body(("html",)).get_content()
    token = re.search(r"/t/o/([^\"]+)", html)
    assert token
    api.http.get("/t/o/" + token.group(1), headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0)"})
    assert api.get(f"/messages/{msg['id']}").json()["events"][0]["machine"] is True


def test_tampered_or_unknown_links_do_not_redirect(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    cid = make_contact(api, email="t@example.com")
    send(api, cid, email_template(api))
    worker.run_once()
    html = smtp.recorder.to("t@example.com")[0].message.get_body(("html",)).get_content()
    match = re.search(r'href="https?://[^/"]+/t/c/([^/"]+)/([^/"]+)"', html)
    assert match
    token, link = match.groups()
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    evil = link_part(url_hash("https://evil.example/"))
    for path in (
        f"/t/c/{flipped}/{link}",  # the signature no longer matches
        f"/t/c/{token}/{evil}",  # signed message, but a URL it never contained
        f"/t/c/{token}/{link}x",
        "/t/c/not-a-token/x?url=https://evil.example",
    ):
        r = api.http.get(path, follow_redirects=False)
        assert r.status_code == 404 and "location" not in r.headers, path
    ok = api.http.get(f"/t/c/{token}/{link}?url=https://evil.example", follow_redirects=False)
    assert ok.headers["location"] == "https://shop.example/sale?utm=mail&x=1"


def test_one_click_unsubscribe_stops_messages_already_queued(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, engine: Engine
) -> None:
    cid = make_contact(api, email="e@example.com", first_name="E")
    tid = email_template(api)
    send(api, cid, tid, transactional=False)
    worker.run_once()
    header = smtp.recorder.to("e@example.com")[0].message["List-Unsubscribe"]
    path = "/u/" + re.search(r"/u/([A-Za-z0-9_-]+)>", header).group(1)  # type: ignore[union-attr]
    queued = send(api, cid, tid, transactional=False)  # queued before the unsubscribe

    # RFC 8058: a POST with this body, no cookie; 200 without redirect; idempotent
    for _ in range(2):
        r = api.http.post(path, content=b"List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 200
    worker.run_once()

    later = api.get(f"/messages/{queued['id']}").json()
    assert (later["status"], later["reason"]) == ("skipped", "unsubscribed")
    assert len(smtp.recorder.to("e@example.com")) == 1
    log = api.get(f"/contacts/{cid}/consent-log").json()["data"]
    assert [(e["scope"], e["status"], e["source"]) for e in log] == [
        ("channel:email", "unsubscribed", "one_click")
    ]
    assert contact_events(engine, cid).count("Unsubscribed") == 1
    # a transactional message still goes out
    send(api, cid, tid)
    worker.run_once()
    assert len(smtp.recorder.to("e@example.com")) == 2


def test_an_unsubscribe_link_opened_by_a_scanner_changes_nothing(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    cid = make_contact(api, email="f@example.com")
    send(api, cid, email_template(api), transactional=False)
    worker.run_once()
    header = smtp.recorder.to("f@example.com")[0].message["List-Unsubscribe"]
    path = "/u/" + re.search(r"/u/([A-Za-z0-9_-]+)>", header).group(1)  # type: ignore[union-attr]
    page = api.http.get(path)
    assert page.status_code == 200 and "<form method='post'>" in page.text
    assert api.get(f"/contacts/{cid}/consent-log").json()["data"] == []


def test_a_template_error_fails_the_message_and_sends_nothing(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    cid = make_contact(api, email="g@example.com")
    content = {
        "subject": "Hi",
        "format": "html",
        "body": "<p>{% for i in (1..100000000) %}{{ i }}{% endfor %}</p>",
    }
    r = api.post("/messages", {"contact_id": cid, "channel": "email", "content": content})
    assert r.status_code == 202, r.text
    worker.run_once()
    msg = api.get(f"/messages/{r.json()['id']}").json()
    assert (msg["status"], msg["reason"]) == ("failed", "template_error")
    assert msg["error"]
    assert smtp.recorder.to("g@example.com") == []


def test_a_temporary_failure_is_retried_with_backoff(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, clock: FixedClock
) -> None:
    cid = make_contact(api, email="h@example.com")
    smtp.recorder.data_replies["h@example.com"] = "451 4.3.0 try again later"
    msg = send(api, cid, email_template(api))
    worker.run_once()
    first = api.get(f"/messages/{msg['id']}").json()
    assert first["status"] == "queued" and first["attempts"] == 1 and "451" in first["error"]
    wait = first["next_attempt_at"]
    assert wait > clock.now().isoformat()

    worker.run_once()  # not due yet: nothing happens
    assert api.get(f"/messages/{msg['id']}").json()["attempts"] == 1

    del smtp.recorder.data_replies["h@example.com"]
    clock.advance(timedelta(minutes=1))
    worker.run_once()
    done = api.get(f"/messages/{msg['id']}").json()
    assert done["status"] == "sent" and done["attempts"] == 2
    assert len(smtp.recorder.to("h@example.com")) == 1


def test_a_hard_bounce_suppresses_the_address(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, engine: Engine
) -> None:
    cid = make_contact(api, email="gone@example.com")
    smtp.recorder.rcpt_replies["gone@example.com"] = "550 5.1.1 no such user"
    tid = email_template(api)
    msg = send(api, cid, tid)
    worker.run_once()
    assert api.get(f"/messages/{msg['id']}").json()["status"] == "bounced"
    [s] = api.get("/suppressions").json()["data"]
    assert (s["channel"], s["address"], s["reason"]) == ("email", "gone@example.com", "hard_bounce")
    assert "Email Bounced" in contact_events(engine, cid)

    del smtp.recorder.rcpt_replies["gone@example.com"]
    again = send(api, cid, tid)  # transactional, still suppressed
    worker.run_once()
    assert api.get(f"/messages/{again['id']}").json()["reason"] == "suppressed"
    assert smtp.recorder.to("gone@example.com") == []


def test_a_provider_outage_pauses_the_channel_without_spending_attempts(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, clock: FixedClock
) -> None:
    cid = make_contact(api, email="i@example.com")
    msg = send(api, cid, email_template(api))
    smtp.stop()
    worker.run_once()
    held = api.get(f"/messages/{msg['id']}").json()
    assert held["status"] == "queued" and held["attempts"] == 0
    channel = api.get(f"/channels/{email_channel['id']}").json()
    assert channel["paused_until"] is not None and channel["pause_reason"]

    smtp.start()
    clock.advance(timedelta(minutes=1))
    worker.run_once()
    assert api.get(f"/messages/{msg['id']}").json()["status"] == "sent"
    assert api.get(f"/channels/{email_channel['id']}").json()["paused_until"] is None


def test_messages_to_a_merged_contact_go_to_the_survivor(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, engine: Engine
) -> None:
    survivor = make_contact(api, email="j@example.com", external_id="u-j")
    merged = make_contact(api, email="j.old@example.com", external_id="u-j-old")
    msg = send(api, merged, email_template(api))
    with engine.begin() as conn:  # merged after the message was queued
        conn.execute(update(contact).where(contact.c.id == merged).values(merged_into=survivor))
    worker.run_once()
    sent = api.get(f"/messages/{msg['id']}").json()
    assert (sent["status"], sent["contact_id"], sent["address"]) == ("sent", survivor, "j@example.com")
    assert len(smtp.recorder.to("j@example.com")) == 1


def test_bad_requests_get_precise_errors(api: Api, email_channel: dict[str, Any]) -> None:
    cid = make_contact(api, email="k@example.com")
    tid = email_template(api)
    cases = [
        ({"contact_id": cid, "channel": "email"}, 422, "validation_error"),
        ({"contact_id": cid, "channel": "email", "template_id": 999_999}, 404, "template_not_found"),
        ({"contact_id": cid, "channel": "sms", "template_id": tid}, 422, "template_channel_mismatch"),
        ({"contact_id": 999_999, "channel": "email", "template_id": tid}, 404, "contact_not_found"),
        ({"email": "nobody@example.com", "channel": "email", "template_id": tid}, 404, "contact_not_found"),
        (
            {"contact_id": cid, "channel": "email", "template_id": tid, "topic_id": 999},
            404,
            "topic_not_found",
        ),
    ]
    for body, status, code in cases:
        r = api.post("/messages", body)
        assert (r.status_code, r.json()["code"]) == (status, code), body
    bad = api.post(
        "/templates", {"name": "x", "channel": "email", "fields": {"subject": "{{ oops", "body": "<p/>"}}
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "template_invalid")
    assert "subject" in bad.json()["message"]
