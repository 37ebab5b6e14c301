"""Request and response models of the campaigns API (plans, broadcasts, calendar)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ChannelKind = Literal["email", "sms", "push", "wechat", "webhook", "inapp"]


class Goal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, description="The conversion event, e.g. Order Completed")
    where: list[dict[str, Any]] = Field(default_factory=list, description="Property filters (segment format)")
    window_days: int = Field(7, ge=1, le=365, description="Attribution window after a message")


class CampaignPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    goal: Goal | None = None
    budget: float | None = Field(None, description="Must not be negative")
    currency: str | None = Field(None, min_length=3, max_length=3)
    costs: dict[str, float] | None = Field(None, description="Cost per message per channel")
    segment_id: int | None = Field(None, description="Target audience")
    offer_id: int | None = None
    template_ids: list[int] | None = Field(None, description="Materials")
    channels: list[str] | None = None
    owner: str | None = Field(None, max_length=200)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    requires_approval: bool = False


class CampaignCreate(CampaignPlan):
    name: str = Field(min_length=1, max_length=200)


class CampaignUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    goal: Goal | None = None
    budget: float | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    costs: dict[str, float] | None = None
    segment_id: int | None = None
    offer_id: int | None = None
    template_ids: list[int] | None = None
    channels: list[str] | None = None
    owner: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    requires_approval: bool | None = None


class CampaignRead(CampaignPlan):
    model_config = ConfigDict(extra="ignore")

    id: int
    name: str
    status: Literal["draft", "pending_approval", "approved", "active", "completed", "cancelled"]
    goal: dict[str, Any] | None = None  # type: ignore[assignment]
    requested_by: int | None
    approved_by: int | None
    approved_at: datetime | None
    created_at: datetime
    updated_at: datetime


class BroadcastCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    campaign_id: int | None = None
    segment_id: int | None = Field(
        None, description="The audience; optional when the experiment's variants name their own segments"
    )
    channel: ChannelKind
    template_id: int | None = Field(None, description="The content; or an experiment's variants")
    experiment: dict[str, Any] | None = Field(
        None,
        description="{variants: [{name, template_id, weight | percent, channel?, offer_id?, segment_id?}], "
        "holdout_percent, test_percent, metric: open|click|conversion|revenue, window_hours, goal_event}: "
        "the winner goes to the rest after the window; variants with segments are measured, not judged",
    )
    topic_id: int | None = None
    send_at: datetime | None = Field(
        None, description="An instant; or local_date + local_time; or neither: now"
    )
    local_date: str | None = Field(None, description="YYYY-MM-DD in each contact's time zone")
    local_time: str | None = Field(None, description="HH:MM in each contact's time zone")


class BroadcastRead(BaseModel):
    id: int
    name: str
    campaign_id: int | None
    segment_id: int | None
    channel: ChannelKind
    template_id: int | None
    topic_id: int | None
    send_at: datetime | None
    local_date: str | None
    local_time: str | None
    starts_at: datetime | None
    status: Literal["draft", "scheduled", "sending", "testing", "queued", "paused", "cancelled"]
    experiment: dict[str, Any] | None
    winner: str | None
    results: dict[str, Any] | None
    test_ends_at: datetime | None
    audience: int | None
    queued: int
    snapshot_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CalendarItem(BaseModel):
    kind: Literal["campaign", "broadcast", "journey"]
    id: int
    name: str
    status: str
    starts_at: datetime | None
    ends_at: datetime | None
    campaign_id: int | None
    channel: str | None = None
    local_date: str | None = None
    local_time: str | None = None
