"""``{{ offer.display }}`` reads as the offer's kind says, in the contact's locale; and
``{{ offer.value }}`` has no stray ``.0``."""

from __future__ import annotations

from typing import Any

import pytest

from kairos.offers.display import display, template_view
from tests.conftest import Api


@pytest.mark.parametrize(
    ("kind", "value", "currency", "locale", "expected"),
    [
        ("discount_percent", 15.0, None, "en", "15%"),
        ("discount_percent", 12.5, None, "en-US", "12.5%"),
        ("discount_percent", 15.0, None, "fr-FR", "15\u202f%"),
        ("discount_amount", 5.0, "EUR", "en", "€5"),
        ("discount_amount", 5.5, "EUR", "en", "€5.50"),
        ("discount_amount", 5.0, "EUR", "fr-FR", "5\xa0€"),
        ("discount_amount", 30.0, "CNY", "zh-CN", "¥30"),
        ("points", 1500.0, None, "en", "1,500"),
        ("free_shipping", None, None, "en", None),
        ("discount_percent", 15.0, None, "xx-nonsense", "15%"),  # an unknown locale: English
        ("discount_percent", 15.0, None, None, "15%"),
    ],
)
def test_display(
    kind: str, value: float | None, currency: str | None, locale: str | None, expected: str | None
) -> None:
    got = display(kind, value, currency, locale)
    assert _no_spaces(got) == _no_spaces(expected)


def _no_spaces(text: str | None) -> str | None:
    """CLDR versions differ in the (narrow) no-break spaces of French: compare without them."""
    return text.replace("\u202f", "").replace("\xa0", "") if text else text


def test_template_view_keeps_the_stored_fields() -> None:
    view = template_view({"key": "k", "kind": "discount_percent", "value": 15.0, "code": "ABC"}, "en")
    assert view == {"key": "k", "kind": "discount_percent", "value": 15, "code": "ABC", "display": "15%"}
    assert template_view(None, "en") == {}


def test_a_message_shows_the_offer_in_the_contacts_locale(api: Api) -> None:
    r = api.post(
        "/offers",
        {"key": "five", "name": "5 € off", "kind": "discount_amount", "value": 5, "currency": "EUR"},
    )
    assert r.status_code == 201, r.text
    text = "{{ offer.display }} off ({{ offer.value }} {{ offer.currency }})"
    tid = api.post("/templates", {"name": "sms", "channel": "sms", "fields": {"text": text}}).json()["id"]
    jid = api.post("/journeys", {"name": "j", "definition": {
        "trigger": {"type": "api"}, "start": "give",
        "nodes": {"give": {"type": "assign_offer", "offer_keys": ["five"], "next": "tell"},
                  "tell": {"type": "send", "channel": "sms", "template_id": tid}},
    }}).json()["id"]  # fmt: skip

    def sms_for(contact: dict[str, Any]) -> str:
        r = api.post(f"/journeys/{jid}/simulate", {"contact": contact})
        assert r.status_code == 200, r.text
        [message] = r.json()["messages"]
        return str(message["content"]["text"])

    assert sms_for({"phone": "+33612345678", "locale": "fr-FR"}).replace("\xa0", " ") == "5 € off (5 EUR)"
    assert sms_for({"phone": "+14155550100", "locale": "en-US"}) == "€5 off (5 EUR)"
