"""A test send renders like the real message, links included, but what its reader does with
it — open, click, unsubscribe — is never recorded on the contact whose data filled it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from kairos.events.tables import event
from kairos.messaging.tracking import Links
from kairos.worker.loop import Worker
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact

BROWSER = {"User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15"}


def test_a_test_send_changes_nothing_of_the_contact(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, engine: Engine
) -> None:
    customer = make_contact(api, email="customer@example.com", first_name="Cleo")
    api.post(f"/contacts/{customer}/subscriptions", {"channel": "email", "status": "subscribed"})
    r = api.post(
        f"/templates/{email_template(api)}/test-send", {"contact_id": customer, "to": "marketer@shop.example"}
    )
    assert r.status_code == 202, r.text
    mid = r.json()["id"]
    worker.run_once()
    [mail] = smtp.recorder.to("marketer@shop.example")
    assert "Hi Cleo" in mail.message.get_body(("html",)).get_content()  # the customer's data …
    assert "/u/" in mail.message.get_body(("html",)).get_content()  # … and the links, as sent

    links: Links = api.http.app.state.links  # type: ignore[attr-defined]
    r = api.http.post("/u/" + links.unsubscribe_token(mid), content=b"List-Unsubscribe=One-Click",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 404
    api.http.get("/t/o/" + links.open_url(mid).split("/t/o/", 1)[1], headers=BROWSER)

    assert api.get(f"/contacts/{customer}/subscriptions").json()["channels"] == {"email": "subscribed"}
    with engine.connect() as conn:
        opened = conn.execute(
            select(func.count()).where(event.c.contact_id == customer, event.c.name == "Email Opened")
        ).scalar_one()
    assert opened == 0
    assert [e["kind"] for e in api.get(f"/messages/{mid}").json()["events"]] == ["opened"]
