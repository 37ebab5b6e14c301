"""Touch rules at send time: quiet hours in the contact's time zone, frequency caps across
channels, provider rate limits, opt-in topics. SMS goes to a local Twilio-shaped server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kairos.clock import FixedClock
from kairos.messaging.policy import QuietHours, quiet_until
from kairos.worker.loop import Worker
from tests.conftest import Api
from tests.messaging.conftest import make_contact
from tests.messaging.fake_providers import TwilioFake

SID = "AC" + "1" * 32
TOKEN = "twilio-token"


@pytest.mark.parametrize(
    ("utc", "zone", "expected"),
    [
        # 22:00 in New York (EST, UTC-5) → held until 09:00 the next morning there
        (datetime(2026, 3, 3, 3, 0, tzinfo=UTC), "America/New_York", datetime(2026, 3, 3, 14, 0, tzinfo=UTC)),
        # 06:30 in Shanghai → held until 09:00 the same day
        (datetime(2026, 3, 2, 22, 30, tzinfo=UTC), "Asia/Shanghai", datetime(2026, 3, 3, 1, 0, tzinfo=UTC)),
        # 12:00 in Paris: not quiet
        (datetime(2026, 3, 2, 11, 0, tzinfo=UTC), "Europe/Paris", None),
        # 21:00 sharp is quiet, 09:00 sharp is not
        (datetime(2026, 3, 2, 21, 0, tzinfo=UTC), "UTC", datetime(2026, 3, 3, 9, 0, tzinfo=UTC)),
        (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "UTC", None),
        # the night DST starts in New York (8 March 2026): 09:00 EDT is 13:00 UTC
        (datetime(2026, 3, 8, 6, 0, tzinfo=UTC), "America/New_York", datetime(2026, 3, 8, 13, 0, tzinfo=UTC)),
    ],
)
def test_quiet_hours_end_at_the_local_morning(utc: datetime, zone: str, expected: datetime | None) -> None:
    quiet = QuietHours(start=time(21), end=time(9))
    assert quiet_until(quiet, utc, ZoneInfo(zone)) == expected


def test_a_quiet_window_within_one_day() -> None:
    lunch = QuietHours(start=time(12), end=time(14))
    assert quiet_until(lunch, datetime(2026, 3, 2, 13, tzinfo=UTC), ZoneInfo("UTC")) == datetime(
        2026, 3, 2, 14, tzinfo=UTC
    )
    assert quiet_until(lunch, datetime(2026, 3, 2, 15, tzinfo=UTC), ZoneInfo("UTC")) is None


@pytest.fixture
def twilio() -> Iterator[TwilioFake]:
    fake = TwilioFake(SID, TOKEN)
    yield fake
    fake.stop()


@pytest.fixture
def sms_channel(api: Api, twilio: TwilioFake) -> dict[str, Any]:
    r = api.post(
        "/channels",
        {
            "name": "sms",
            "provider": "twilio",
            "settings": {"account_sid": SID, "from_number": "+15005550006", "base_url": twilio.url},
            "secrets": {"auth_token": TOKEN},
        },
    )
    assert r.status_code == 201, r.text
    assert "auth_token" not in r.text.replace('"secrets_set":["auth_token"]', "")
    return dict(r.json())


def sms(api: Api, contact_id: int, text: str = "Hi {{ contact.first_name }}", **extra: Any) -> int:
    body = {
        "contact_id": contact_id,
        "channel": "sms",
        "content": {"text": text},
        "transactional": False,
        **extra,
    }
    r = api.post("/messages", body)
    assert r.status_code == 202, r.text
    return int(r.json()["id"])


def status(api: Api, message_id: int) -> tuple[str, str | None]:
    m = api.get(f"/messages/{message_id}").json()
    return m["status"], m["reason"]


def test_a_marketing_sms_at_night_waits_for_the_local_morning(
    api: Api, sms_channel: dict[str, Any], twilio: TwilioFake, worker: Worker, clock: FixedClock
) -> None:
    r = api.put("/messaging/policy", {"quiet_hours": {"start": "21:00", "end": "09:00"}})
    assert r.status_code == 200, r.text
    clock.set(datetime(2026, 3, 3, 3, 0, tzinfo=UTC))  # 22:00 in New York
    cid = make_contact(api, phone="+12125550123", first_name="Ann", timezone="America/New_York")
    marketing = sms(api, cid)
    receipt = sms(api, cid, "Your order shipped", transactional=True)

    worker.run_once()
    assert status(api, marketing) == ("queued", "quiet_hours")
    assert status(api, receipt)[0] == "sent"
    assert api.get(f"/messages/{marketing}").json()["next_attempt_at"].startswith("2026-03-03T14:00:00")

    clock.set(datetime(2026, 3, 3, 13, 59, tzinfo=UTC))
    worker.run_once()
    assert status(api, marketing)[0] == "queued"
    clock.set(datetime(2026, 3, 3, 14, 0, tzinfo=UTC))
    worker.run_once()
    assert status(api, marketing)[0] == "sent"
    bodies = [req.form()["Body"] for req in twilio.requests]
    assert bodies == ["Your order shipped", "Hi Ann"]


def test_frequency_caps_hold_across_channels_and_spare_transactional(
    api: Api, sms_channel: dict[str, Any], worker: Worker, clock: FixedClock
) -> None:
    assert api.post("/channels", {"name": "inbox", "provider": "inapp"}).status_code == 201
    policy = {"frequency_caps": [{"limit": 2, "days": 7}]}
    assert api.put("/messaging/policy", policy).status_code == 200
    cid = make_contact(api, phone="+12125550124", first_name="Bo")
    first = sms(api, cid)
    worker.run_once()
    clock.advance(timedelta(days=1))
    r = api.post("/messages", {"contact_id": cid, "channel": "inapp", "transactional": False,
                               "content": {"title": "Sale", "body": "Up to 50% off"}})  # fmt: skip
    second = int(r.json()["id"])
    worker.run_once()
    clock.advance(timedelta(days=1))
    third = sms(api, cid)
    receipt = sms(api, cid, "Receipt", transactional=True)
    worker.run_once()

    assert [status(api, m)[0] for m in (first, second)] == ["sent", "sent"]
    assert status(api, third) == ("skipped", "frequency_cap")
    assert status(api, receipt)[0] == "sent"
    assert "2 per 7 days" in api.get(f"/messages/{third}").json()["error"]

    clock.advance(timedelta(days=6))  # the first message left the window
    fourth = sms(api, cid)
    worker.run_once()
    assert status(api, fourth)[0] == "sent"


def test_a_provider_rate_limit_spreads_messages_over_time(
    api: Api, sms_channel: dict[str, Any], twilio: TwilioFake, worker: Worker, clock: FixedClock
) -> None:
    assert api.patch(f"/channels/{sms_channel['id']}", {"rate_limit": 2}).status_code == 200
    ids = [sms(api, make_contact(api, phone=f"+1212555020{i}", external_id=f"r{i}")) for i in range(5)]
    worker.run_once()
    assert sorted(status(api, m) for m in ids).count(("queued", "rate_limited")) == 3
    assert len(twilio.requests) == 2
    clock.advance(timedelta(seconds=2))
    worker.run_once()
    assert len(twilio.requests) == 4
    clock.advance(timedelta(seconds=2))
    worker.run_once()
    assert [status(api, m)[0] for m in ids] == ["sent"] * 5


def test_an_opt_in_topic_reaches_only_subscribers(
    api: Api, sms_channel: dict[str, Any], worker: Worker
) -> None:
    topic = api.post(
        "/topics", {"key": "vip-offers", "name": "VIP offers", "channel": "sms", "opt_in": True}
    ).json()
    cid = make_contact(api, phone="+12125550125")
    before = sms(api, cid, topic_id=topic["id"])
    worker.run_once()
    assert status(api, before) == ("skipped", "not_opted_in")

    r = api.post(f"/contacts/{cid}/subscriptions", {"topic_id": topic["id"], "status": "subscribed",
                                                   "source": "checkout", "wording_version": "v3", "ip": "203.0.113.9"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["topics"][0]["status"] == "subscribed"
    after = sms(api, cid, topic_id=topic["id"])
    worker.run_once()
    assert status(api, after)[0] == "sent"
    [entry] = api.get(f"/contacts/{cid}/consent-log").json()["data"]
    assert (entry["source"], entry["wording_version"], entry["ip"]) == ("checkout", "v3", "203.0.113.9")


def test_a_bad_number_is_suppressed(api: Api, sms_channel: dict[str, Any], worker: Worker) -> None:
    cid = make_contact(api, phone="+15005550001")
    m = sms(api, cid, transactional=True)
    worker.run_once()
    assert status(api, m)[0] == "bounced"
    assert api.get("/suppressions", params={"channel": "sms"}).json()["data"][0]["address"] == "+15005550001"


def test_policy_input_is_validated(api: Api) -> None:
    for bad in (
        {"frequency_caps": [{"limit": 0, "days": 7}]},
        {"frequency_caps": [{"limit": 2, "days": -1}]},
        {"quiet_hours": {"start": "21:00", "end": "21:00"}},
        {"timezone": "Mars/Olympus"},
        {"frequency_caps": [{"limit": 2, "days": 7, "channel": "fax"}]},
    ):
        r = api.put("/messaging/policy", bad)
        assert (r.status_code, r.json()["code"]) == (422, "validation_error"), bad


def test_a_provider_asking_to_slow_down_is_retried_after_its_retry_after(
    api: Api, sms_channel: dict[str, Any], twilio: TwilioFake, worker: Worker, clock: FixedClock
) -> None:
    twilio.replies["+12125550126"] = TwilioFake.error(429, 20429, "Too Many Requests", {"Retry-After": "600"})
    m = sms(api, make_contact(api, phone="+12125550126"), transactional=True)
    worker.run_once()
    held = api.get(f"/messages/{m}").json()
    assert (held["status"], held["attempts"]) == ("queued", 1)
    assert held["next_attempt_at"].startswith("2026-03-02T12:10:00")  # 600 s, longer than the backoff
    del twilio.replies["+12125550126"]
    clock.advance(timedelta(seconds=599))
    worker.run_once()
    assert status(api, m)[0] == "queued"
    clock.advance(timedelta(seconds=1))
    worker.run_once()
    assert status(api, m)[0] == "sent"
