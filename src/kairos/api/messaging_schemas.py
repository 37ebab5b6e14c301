"""Request and response models of the messaging API (channels, templates, messages, consent)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kairos.messaging.policy import FrequencyCap, QuietHours, known_zone

ChannelKind = Literal["email", "sms", "push", "wechat", "webhook", "inapp"]


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    provider: Literal["smtp", "twilio", "fcm", "wechat", "webhook", "inapp"]
    settings: dict[str, Any] = Field(default_factory=dict, description="Returned by the API")
    secrets: dict[str, Any] = Field(
        default_factory=dict, description="Encrypted at rest and never returned (see `secrets_set`)"
    )
    is_default: bool = Field(False, description="The channel messages of its kind use by default")
    rate_limit: float | None = Field(None, gt=0, description="Most messages per second; null: no limit")


class ChannelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    settings: dict[str, Any] | None = Field(None, description="Merged into the current settings")
    secrets: dict[str, Any] | None = Field(None, description="Merged into the current secrets")
    is_default: bool | None = None
    rate_limit: float | None = Field(None, gt=0)
    resume: bool | None = Field(None, description="true: end a pause after a provider outage now")


class ChannelRead(BaseModel):
    id: int
    name: str
    kind: ChannelKind
    provider: str
    settings: dict[str, Any]
    secrets_set: list[str]
    is_default: bool
    rate_limit: float | None
    paused_until: datetime | None
    pause_reason: str | None
    report_url: str = Field(description="Give this URL to the provider for delivery reports and bounces")
    created_at: datetime
    updated_at: datetime


class ProviderRead(BaseModel):
    name: str = Field(description="What `POST /channels` takes as `provider`")
    kind: ChannelKind
    description: str
    settings_schema: dict[str, Any] = Field(
        description="JSON Schema of the channel's `settings` (returned by the API)"
    )
    secrets_schema: dict[str, Any] = Field(
        description="JSON Schema of the channel's `secrets`: write-only, never returned (`secrets_set` names "
        "those set)"
    )
    verify: bool = Field(description="`POST /channels/{id}/verify` can reach the provider without sending")


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    channel: ChannelKind
    fields: dict[str, Any] = Field(
        description="email: subject, body, format (mjml|html), text?, preheader?; sms: text; push: title, "
        "body, data?, image?; wechat: template_id, url?, data; webhook: payload; inapp: title, body, data?"
    )


class TemplateUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    fields: dict[str, Any] | None = None


class TemplateRead(BaseModel):
    id: int
    name: str
    channel: ChannelKind
    fields: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


class TemplatePreview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = Field(None, description="Render for this contact; null: an empty contact")
    event: dict[str, Any] | None = Field(None, description="A triggering event: {name, properties}")
    payload: dict[str, Any] | None = None
    offer_id: int | None = Field(
        None,
        description="`{{ offer.… }}` of this offer: the code the contact holds, else the static code, else "
        "`SAMPLE00` for a pool offer (nothing is assigned)",
    )
    strict: bool = Field(True, description="Report variables the template uses that have no value")
    tracking: bool = Field(
        True,
        description="false: email links as written and no open pixel (a preview shown in a browser then "
        "loads nothing from the tracking routes)",
    )


class TemplateDraftPreview(TemplatePreview):
    """``POST /templates/preview``: an unsaved template, rendered like a saved one."""

    channel: ChannelKind
    fields: dict[str, Any] = Field(description="As `POST /templates` takes them")


class TemplateRendered(BaseModel):
    content: dict[str, Any]


class TestSend(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: int = Field(description="Whose data fills the template")
    to: str | None = Field(None, description="Send here instead of the contact's own address")
    event: dict[str, Any] | None = None
    payload: dict[str, Any] | None = None
    offer_id: int | None = Field(
        None, description="`{{ offer.… }}` of this offer, as in a preview (nothing is assigned)"
    )


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = None
    user_id: str | None = Field(None, description="Or find the contact by your user id")
    email: str | None = Field(None, description="Or by email address")
    channel: ChannelKind
    template_id: int | None = None
    content: dict[str, Any] | None = Field(None, description="Inline template fields instead of template_id")
    topic_id: int | None = Field(None, description="Subscription topic (marketing messages)")
    transactional: bool = Field(
        True,
        description="Transactional messages skip topic consent, caps and quiet hours (never suppression)",
    )
    channel_id: int | None = Field(None, description="A channel configuration; default: the kind's default")
    to: str | None = Field(None, description="Address override (e.g. a webhook URL)")
    event: dict[str, Any] | None = None
    payload: dict[str, Any] | None = None
    send_at: datetime | None = None

    @model_validator(mode="after")
    def _one_each(self) -> MessageCreate:
        if sum(x is not None for x in (self.contact_id, self.user_id, self.email)) != 1:
            raise ValueError("give exactly one of contact_id, user_id, email")
        if (self.template_id is None) == (self.content is None):
            raise ValueError("give exactly one of template_id, content")
        return self


class MessageEventRead(BaseModel):
    kind: str
    link_id: int | None
    machine: bool
    detail: dict[str, Any] | None
    created_at: datetime


class MessageRead(BaseModel):
    id: int
    contact_id: int
    channel: ChannelKind
    channel_config_id: int | None
    template_id: int | None
    topic_id: int | None
    transactional: bool
    idempotency_key: str
    source: str
    source_id: str | None
    status: str
    reason: str | None
    error: str | None
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    provider_id: str | None
    address: str | None
    variant: str | None = Field(None, description="The experiment variant (of a broadcast) it belongs to")
    created_at: datetime
    updated_at: datetime
    events: list[MessageEventRead] | None = None


class TopicCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    channel: ChannelKind | None = None
    opt_in: bool = Field(
        False, description="Only contacts who subscribed receive it (else: all but unsubscribed)"
    )
    double_opt_in: bool = Field(False, description="A subscription is confirmed by email first")
    confirmation_template_id: int | None = None


class TopicUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    opt_in: bool | None = None
    double_opt_in: bool | None = None
    confirmation_template_id: int | None = None


class TopicRead(BaseModel):
    id: int
    key: str
    name: str
    description: str | None
    channel: ChannelKind | None
    opt_in: bool
    double_opt_in: bool
    confirmation_template_id: int | None
    created_at: datetime


class SubscriptionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic_id: int | None = None
    channel: ChannelKind | None = Field(None, description="All marketing on a channel")
    status: Literal["subscribed", "unsubscribed"]
    source: str = Field("api", max_length=40)
    wording_version: str | None = Field(None, max_length=100, description="The consent text the contact saw")
    ip: str | None = Field(None, max_length=45)
    confirmed: bool = Field(False, description="Skip double opt-in (consent already confirmed elsewhere)")

    @model_validator(mode="after")
    def _one(self) -> SubscriptionChange:
        if (self.topic_id is None) == (self.channel is None):
            raise ValueError("give exactly one of topic_id, channel")
        return self


class SubscriptionRead(BaseModel):
    topic: TopicRead
    status: str


class ContactSubscriptions(BaseModel):
    topics: list[SubscriptionRead]
    channels: dict[str, str] = Field(description="Channel-wide consent: channel → status, where set")


class ConsentEventRead(BaseModel):
    scope: str
    status: str
    source: str
    wording_version: str | None
    ip: str | None
    message_id: int | None
    created_at: datetime


class SuppressionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: ChannelKind
    address: str = Field(min_length=1, max_length=320)
    reason: Literal["hard_bounce", "complaint", "manual", "erasure"] = "manual"
    detail: str | None = None


class SuppressionRead(BaseModel):
    channel: str
    address: str
    reason: str
    detail: str | None
    contact_id: int | None
    created_at: datetime


class ProviderReport(BaseModel):
    """A delivery report from a provider (generic form): what happened to which message."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["delivered", "bounced", "complained", "failed"]
    message_id: int | None = Field(None, description="Kairos message id (from the Message-ID/webhook-id)")
    provider_id: str | None = Field(None, description="Or the provider's id for the message")
    detail: str | None = None


class MessagingPolicyWrite(BaseModel):
    """``PUT /messaging/policy``: the caps and quiet hours; ``timezone`` optional."""

    model_config = ConfigDict(extra="forbid")

    frequency_caps: list[FrequencyCap] = Field(default_factory=list)
    quiet_hours: QuietHours | None = None
    timezone: str | None = Field(
        None,
        description="Sets the workspace's time zone (as `PATCH /workspace` `time_zone` does); left out or "
        "null, the zone stays as it is",
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str | None) -> str | None:
        return None if name is None else known_zone(name)
