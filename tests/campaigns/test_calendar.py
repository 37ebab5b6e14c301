"""The calendar: campaigns over their dates, broadcasts at their send time (drafts with a
time included, a local-time one with its local date and time), live journeys since their
first publication with their campaign; a draft moved by PATCH moves on the calendar."""

from __future__ import annotations

from datetime import timedelta

from kairos.clock import FixedClock
from tests.api.test_references import _objects
from tests.conftest import Api


def test_the_calendar_shows_campaigns_broadcasts_and_live_journeys(api: Api, clock: FixedClock) -> None:
    o = _objects(api, "cal")
    now = clock.now()
    camp = api.post("/campaigns", {"name": "Spring", "starts_at": (now + timedelta(days=1)).isoformat(),
                                   "ends_at": (now + timedelta(days=10)).isoformat()}).json()  # fmt: skip
    api.patch(f"/journeys/{o.journey}", {"campaign_id": camp["id"]})
    at = now + timedelta(days=3)
    draft = api.post("/broadcasts", {"name": "Teaser", "channel": "inapp", "segment_id": o.segment,
                                     "template_id": o.template, "campaign_id": camp["id"],
                                     "send_at": at.isoformat()}).json()  # fmt: skip
    local = api.post("/broadcasts", {"name": "Local", "channel": "inapp", "segment_id": o.segment,
                                     "template_id": o.template, "local_date": "2026-03-06",
                                     "local_time": "10:00"}).json()  # fmt: skip
    window = {"start": now.isoformat(), "end": (now + timedelta(days=31)).isoformat()}
    items = {(i["kind"], i["id"]): i for i in api.get("/calendar", params=window).json()["data"]}
    assert items[("campaign", camp["id"])]["starts_at"].startswith("2026-03-03")
    assert items[("broadcast", draft["id"])]["status"] == "draft"
    assert items[("broadcast", draft["id"])]["campaign_id"] == camp["id"]
    assert (items[("broadcast", local["id"])]["local_date"], items[("broadcast", local["id"])]["local_time"]) == (
        "2026-03-06", "10:00",
    )  # fmt: skip
    journey = items[("journey", o.journey)]
    assert journey["status"] == "active" and journey["starts_at"] is not None and journey["ends_at"] is None

    # a draft moved to another day (the calendar's drag) moves on the calendar
    later = now + timedelta(days=20)
    assert api.patch(f"/broadcasts/{draft['id']}", {"send_at": later.isoformat()}).status_code == 200
    items = {(i["kind"], i["id"]): i for i in api.get("/calendar", params=window).json()["data"]}
    assert items[("broadcast", draft["id"])]["starts_at"].startswith(later.date().isoformat())
    # outside the window: nothing of the campaign
    far = {"start": (now + timedelta(days=40)).isoformat(), "end": (now + timedelta(days=50)).isoformat()}
    assert ("campaign", camp["id"]) not in {
        (i["kind"], i["id"]) for i in api.get("/calendar", params=far).json()["data"]
    }
