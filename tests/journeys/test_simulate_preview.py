"""A simulated message is shown as a preview is: links as written, no open pixel — showing
it in the console calls no tracking route."""

from __future__ import annotations

from tests.conftest import Api
from tests.journeys.conftest import journey
from tests.messaging.conftest import email_template


def test_simulated_emails_carry_no_tracking(api: Api) -> None:
    template = email_template(api)
    jid = journey(api, {
        "trigger": {"type": "api"},
        "start": "welcome",
        "nodes": {"welcome": {"type": "send", "channel": "email", "template_id": template, "next": None}},
    })  # fmt: skip
    r = api.post(f"/journeys/{jid}/simulate", {"contact": {"email": "ann@example.com", "first_name": "Ann"}})
    assert r.status_code == 200, r.text
    [message] = r.json()["messages"]
    html = message["content"]["html"]
    assert "Hi Ann" in html
    assert 'href="https://shop.example/sale?utm=mail&amp;x=1"' in html
    assert "/t/o/" not in html and "/t/c/" not in html
