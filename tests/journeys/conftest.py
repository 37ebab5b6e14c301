"""Journey fixtures: the messaging ones (SMTP server, worker with the dispatcher, an email
channel), a Twilio-shaped SMS server, and helpers to send events and read enrollments."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Api
from tests.messaging.conftest import (  # noqa: F401  (fixtures)
    email_channel,
    settings,
    smtp,
    strict_api,
    strict_settings,
    worker,
)
from tests.messaging.fake_providers import TwilioFake

SID = "AC" + "2" * 32
TOKEN = "twilio-token"


@pytest.fixture
def twilio() -> Iterator[TwilioFake]:
    fake = TwilioFake(SID, TOKEN)
    yield fake
    fake.stop()


@pytest.fixture
def sms_channel(api: Api, twilio: TwilioFake) -> dict[str, Any]:
    r = api.post("/channels", {"name": "sms", "provider": "twilio",
                               "settings": {"account_sid": SID, "from_number": "+15005550006", "base_url": twilio.url},
                               "secrets": {"auth_token": TOKEN}})  # fmt: skip
    assert r.status_code == 201, r.text
    return dict(r.json())


def track(api: Api, write_key: str, user_id: str, event: str, **properties: Any) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}
    r = api.http.post(
        "/v1/track", json={"userId": user_id, "event": event, "properties": properties}, headers=auth
    )
    assert r.status_code == 200, r.text


def journey(
    api: Api,
    definition: dict[str, Any],
    name: str = "j",
    publish: bool = True,
    campaign_id: int | None = None,
) -> int:
    r = api.post("/journeys", {"name": name, "definition": definition, "campaign_id": campaign_id})
    assert r.status_code == 201, r.text
    jid = int(r.json()["id"])
    if publish:
        assert api.post(f"/journeys/{jid}/publish").status_code == 200
    return jid


def enrollments(api: Api, journey_id: int) -> list[dict[str, Any]]:
    return list(api.get(f"/journeys/{journey_id}/enrollments").json()["data"])
