"""Request and response models of the journeys API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class JourneyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    definition: dict[str, Any] = Field(
        description="The journey graph (docs/journeys.md); validated, 422 names the node"
    )
    layout: dict[str, Any] | None = Field(
        None, description="UI positions of the nodes, kept beside the definition"
    )
    campaign_id: int | None = Field(None, description="The campaign whose reports include this journey")


class JourneyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    definition: dict[str, Any] | None = Field(None, description="Replaces the draft; publish to make it live")
    layout: dict[str, Any] | None = None
    campaign_id: int | None = None


class JourneyRead(BaseModel):
    id: int
    name: str
    description: str | None
    status: Literal["draft", "active", "paused", "archived"]
    draft: dict[str, Any] | None
    layout: dict[str, Any] | None
    version_id: int | None
    version: int | None = Field(description="Number of the live version")
    campaign_id: int | None = None
    created_at: datetime
    updated_at: datetime


class JourneyVersionRead(BaseModel):
    id: int
    number: int
    definition: dict[str, Any]
    layout: dict[str, Any] | None
    created_at: datetime


class EnrollmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = None
    user_id: str | None = None
    payload: dict[str, Any] | None = Field(None, description="Available to templates as {{ payload.… }}")

    @model_validator(mode="after")
    def _one(self) -> EnrollmentCreate:
        if (self.contact_id is None) == (self.user_id is None):
            raise ValueError("give exactly one of contact_id, user_id")
        return self


class EnrollmentRead(BaseModel):
    id: int
    journey_id: int
    version_id: int
    contact_id: int
    state: Literal["active", "completed", "converted", "exited"]
    node: str | None
    phase: str
    resume_at: datetime | None
    wait_event: str | None
    steps: int
    payload: dict[str, Any] | None
    exit_reason: str | None
    entered_at: datetime
    updated_at: datetime
    ended_at: datetime | None
