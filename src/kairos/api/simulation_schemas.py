"""Request and response models of ``POST /api/v1/journeys/{id}/simulate``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kairos.durations import Duration

#: A time after the start of the simulation: the shared duration format (``{"amount": 1,
#: "unit": "days"}``; the old ``{"days": 1, "hours": 3}`` is still read, deprecated).
Offset = Duration


class ScriptedEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime | Offset = Field(description="An ISO 8601 instant, or an offset from the start")
    event: str = Field(min_length=1, max_length=200, description="The event name, e.g. 'Email Opened'")
    properties: dict[str, Any] = Field(default_factory=dict)


class HypotheticalContact(BaseModel):
    """A contact that exists only for the simulation."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = None
    phone: str | None = None
    first_name: str | None = Field(None, max_length=200)
    last_name: str | None = Field(None, max_length=200)
    timezone: str | None = Field(None, description="IANA name; wait_until nodes use it")
    locale: str | None = Field(None, max_length=35)
    traits: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list, max_length=100, description="Tags it carries")
    list_ids: list[int] = Field(
        default_factory=list,
        max_length=100,
        description="Static segments (lists) it is a member of; dynamic segments follow from its "
        "fields, traits, tags and events",
    )


class TriggerEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    properties: dict[str, Any] = Field(default_factory=dict)


class SimulationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal["draft", "live"] = Field(
        "draft", description="The draft being edited, or the published version"
    )
    contact_id: int | None = Field(None, description="A real contact (or give `contact`)")
    contact: HypotheticalContact | None = Field(None, description="A hypothetical contact")
    payload: dict[str, Any] | None = Field(None, description="The entry payload ({{ payload.… }})")
    trigger_event: TriggerEventIn | None = Field(
        None, description="Event triggers: the properties of the event that enters ({{ event.… }})"
    )
    events: list[ScriptedEventIn] = Field(default_factory=list, max_length=500)
    start: datetime | None = Field(None, description="Default: now")
    until: Offset = Field(
        default_factory=lambda: Duration(amount=30, unit="days"),
        description="How long to simulate; at most 400 days",
    )


class SimulatedStep(BaseModel):
    at: datetime
    node: str
    type: str | None
    outcome: str = Field(description="The branch taken (next, yes, event, timeout …), waiting, goal …")
    message: int | None = Field(None, description="Index in `messages` of the message this step queued")


class SimulatedWait(BaseModel):
    node: str
    type: str | None
    from_: datetime = Field(alias="from", serialization_alias="from")
    until: datetime | None = Field(description="When its timer was due when the wait began")
    event: str | None = Field(description="wait_for_event: the event it waits for")
    ended_at: datetime | None = Field(description="null: still waiting when the simulation ended")
    outcome: str | None

    model_config = ConfigDict(populate_by_name=True)


class SimulatedMessage(BaseModel):
    node: str
    at: datetime
    channel: str
    template_id: int | None
    topic_id: int | None
    transactional: bool
    status: Literal["would_send"]
    to: str | None
    content: dict[str, Any] | None = Field(description="Rendered as the dispatcher would")
    error: str | None = Field(description="Why it could not be rendered")
    warning: str | None


class SimulatedEnd(BaseModel):
    state: Literal["active", "completed", "converted", "exited"]
    node: str | None
    exit_reason: str | None
    resume_at: datetime | None
    ended_at: datetime | None


class SimulationRead(BaseModel):
    journey_id: int
    version: Literal["draft", "live"]
    contact_id: int | None = Field(description="The real contact simulated; null for a hypothetical one")
    start: datetime
    until: datetime
    entered: bool
    reason: str | None = Field(description="Why the entry rules refused the contact")
    path: list[SimulatedStep]
    waits: list[SimulatedWait]
    messages: list[SimulatedMessage]
    final: SimulatedEnd | None
    truncated: bool = Field(description="The simulation stopped early (too many instants)")
    notes: list[str]
