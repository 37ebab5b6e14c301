"""Controls around channels: delivery reports only reach the messages of the channel whose
URL received them, resuming a paused channel sends what the pause held back, and a test
send's recipient is checked when it is asked for."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, update

from kairos.messaging.tables import channel_config, message, suppression
from kairos.worker.loop import Worker
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact, smtp_settings


def _report_path(channel: dict[str, Any]) -> str:
    return "/hooks/reports/" + channel["report_url"].rsplit("/", 1)[1]


def test_a_report_only_reaches_messages_of_the_channel_whose_url_received_it(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, engine: Engine
) -> None:
    other = api.post("/channels", {"name": "other", "provider": "smtp", "settings": smtp_settings(smtp)}).json()
    cid = make_contact(api, email="kept@example.com")
    m = api.post("/messages", {"contact_id": cid, "channel": "email", "template_id": email_template(api)}).json()
    worker.run_once()
    sent = api.get(f"/messages/{m['id']}").json()
    assert sent["status"] == "sent" and sent["provider_id"]

    # the other channel's URL (a provider that knows it, or leaked) can bounce nothing here
    for report in (
        {"type": "bounced", "message_id": m["id"]},
        {"type": "bounced", "provider_id": sent["provider_id"]},
        {"type": "complained", "message_id": m["id"]},
    ):
        r = api.http.post(_report_path(other), json=report)
        assert (r.status_code, r.json()["code"]) == (404, "message_not_found"), report
    assert api.get(f"/messages/{m['id']}").json()["status"] == "sent"
    with engine.connect() as conn:
        assert conn.execute(select(suppression).where(suppression.c.address == "kept@example.com")).first() is None

    # the channel that sent it may
    assert api.http.post(_report_path(email_channel), json={"type": "delivered", "message_id": m["id"]}).status_code == 204
    assert api.get(f"/messages/{m['id']}").json()["status"] == "delivered"


def test_resuming_a_paused_channel_sends_what_the_pause_held_back_at_once(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, engine: Engine
) -> None:
    tid = email_template(api)
    a = make_contact(api, email="a@example.com")
    b = make_contact(api, email="b@example.com")
    smtp.stop()
    first = api.post("/messages", {"contact_id": a, "channel": "email", "template_id": tid}).json()
    worker.run_once()  # the server is down: the channel pauses, the message waits for its end
    channel = api.get(f"/channels/{email_channel['id']}").json()
    assert channel["paused_until"] is not None
    # sent through the default channel (no channel named): held back by the pause
    second = api.post("/messages", {"contact_id": b, "channel": "email", "template_id": tid}).json()
    worker.run_once()
    with engine.connect() as conn:
        reasons = dict(conn.execute(select(message.c.id, message.c.reason).where(
            message.c.id.in_([first["id"], second["id"]]))).all())  # fmt: skip
    assert reasons == {first["id"]: "retry", second["id"]: "channel_paused"}

    smtp.start()
    r = api.patch(f"/channels/{email_channel['id']}", {"resume": True})
    assert r.status_code == 200 and r.json()["paused_until"] is None
    worker.run_once()  # same instant: no waiting for the old pause's end
    assert api.get(f"/messages/{first['id']}").json()["status"] == "sent"
    assert api.get(f"/messages/{second['id']}").json()["status"] == "sent"
    assert {r.rcpt_tos[0] for r in smtp.recorder.received} == {"a@example.com", "b@example.com"}


def test_resume_leaves_other_channels_messages_alone(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, engine: Engine
) -> None:
    other = api.post("/channels", {"name": "backup", "provider": "smtp", "settings": smtp_settings(smtp)}).json()
    tid = email_template(api)
    cid = make_contact(api, email="c@example.com")
    smtp.stop()
    named = api.post("/messages", {"contact_id": cid, "channel": "email", "template_id": tid,
                                   "channel_id": email_channel["id"]}).json()  # fmt: skip
    worker.run_once()  # the default channel pauses
    by_default = api.post("/messages", {"contact_id": cid, "channel": "email", "template_id": tid}).json()
    worker.run_once()
    smtp.start()
    paused_until = api.get(f"/channels/{email_channel['id']}").json()["paused_until"]
    with engine.begin() as conn:  # the other channel is paused too, as long
        conn.execute(update(channel_config).where(channel_config.c.id == other["id"]).values(
            paused_until=conn.execute(select(channel_config.c.paused_until).where(
                channel_config.c.id == email_channel["id"])).scalar_one()))  # fmt: skip
    ids = [named["id"], by_default["id"]]
    due = select(message.c.id, message.c.next_attempt_at).where(message.c.id.in_(ids))
    with engine.connect() as conn:
        before = dict(conn.execute(due).all())
    assert api.patch(f"/channels/{other['id']}", {"resume": True}).status_code == 200
    with engine.connect() as conn:
        assert dict(conn.execute(due).all()) == before  # still due at the default channel's pause end
    worker.run_once()
    assert [api.get(f"/messages/{i}").json()["status"] for i in ids] == ["queued", "queued"]
    assert api.get(f"/channels/{email_channel['id']}").json()["paused_until"] == paused_until
    assert smtp.recorder.received == []


def test_a_test_send_refuses_a_bad_recipient_at_once(
    api: Api, strict_api: Api, email_channel: dict[str, Any], engine: Engine
) -> None:
    cid = make_contact(api, email="real@example.com")
    mail = email_template(api)
    sms = api.post("/templates", {"name": "sms", "channel": "sms", "fields": {"text": "Hi"}}).json()["id"]
    hook = api.post("/templates", {"name": "hook", "channel": "webhook", "fields": {"payload": {"a": 1}}}).json()["id"]
    with engine.connect() as conn:
        count = len(conn.execute(select(message.c.id)).all())
    for template_id, to, code in (
        (mail, "not an address", "invalid_email"),
        (mail, "someone@", "invalid_email"),
        (sms, "12", "invalid_phone"),
        (sms, "+1 555 0000", "invalid_phone"),
    ):
        r = api.post(f"/templates/{template_id}/test-send", {"contact_id": cid, "to": to})
        assert (r.status_code, r.json()["code"]) == (422, code), (to, r.text)
    r = strict_api.post(f"/templates/{hook}/test-send", {"contact_id": cid, "to": "http://169.254.169.254/x"})
    assert (r.status_code, r.json()["code"]) == (422, "url_not_allowed")
    with engine.connect() as conn:
        assert len(conn.execute(select(message.c.id)).all()) == count  # nothing was queued

    ok = api.post(f"/templates/{sms}/test-send", {"contact_id": cid, "to": "+1 (415) 555-2671"})
    assert ok.status_code == 202, ok.text
    with engine.connect() as conn:
        data = conn.execute(select(message.c.data).where(message.c.id == ok.json()["id"])).scalar_one()
    assert data["to"] == "+14155552671"  # stored normalised, as a contact's phone is
