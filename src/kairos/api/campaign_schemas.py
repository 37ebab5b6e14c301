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
    requested_by: int | None = Field(description="The API key that asked for approval, if a key did")
    requested_by_user: int | None = Field(None, description="The console user who asked, if a user did")
    approved_by: int | None = Field(description="The API key that approved, if a key did")
    approved_by_user: int | None = Field(None, description="The console user who approved, if a user did")
    approved_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ApprovalNote(BaseModel):
    """An optional comment with a request for approval or an approval; it goes in the
    campaign's thread (plain text)."""

    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(None, max_length=5000, description="Plain text, shown in the thread")


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(max_length=5000, description="Why (required, plain text): shown in the thread")


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(max_length=5000, description="Plain text (never rendered as HTML)")


class CommentRead(BaseModel):
    id: int
    campaign_id: int
    kind: Literal["comment", "approval_requested", "approved", "rejected"] = Field(
        description="A comment, or an approval step with the comment that came with it"
    )
    body: str | None = Field(description="Plain text; null for an approval step without a comment")
    author_type: Literal["user", "key"]
    author_id: int | None = Field(description="The user's or the API key's id")
    author_name: str = Field(description="The user's name or the key's, when it was written")
    created_at: datetime


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


class BroadcastUpdate(BaseModel):
    """The fields to change on a draft; those left out keep their value. Content and schedule
    are alternatives: a `template_id` drops the experiment (an `experiment` the template), a
    `send_at` drops `local_date`/`local_time` (and those `send_at`); `send_at`, `local_date`
    and `local_time` all null: now."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    campaign_id: int | None = None
    segment_id: int | None = None
    channel: ChannelKind | None = None
    template_id: int | None = None
    experiment: dict[str, Any] | None = Field(None, description="As in BroadcastCreate")
    topic_id: int | None = None
    send_at: datetime | None = None
    local_date: str | None = Field(None, description="YYYY-MM-DD in each contact's time zone")
    local_time: str | None = Field(None, description="HH:MM in each contact's time zone")


class BroadcastProgress(BaseModel):
    """The broadcast's messages by status (a message is in one): `queued` and `sending` are
    still to go; `sent`, `delivered` and `bounced` reached the provider; `failed` did not;
    `skipped` were not sent (consent, suppression, caps, no address, cancelled)."""

    queued: int
    sending: int
    sent: int
    delivered: int
    bounced: int
    failed: int
    skipped: int


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
    queued: int = Field(
        description="Messages queued so far (the audience, less the holdout and any remainder)"
    )
    progress: BroadcastProgress
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
