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
    created_at: datetime = Field(description="When it was published")
    published_by: str | None = Field(
        None,
        description="Who published it (a user's name and email, or an API key's prefix and name), "
        "from the audit log; null when the log does not say",
    )


class NodeStatsRead(BaseModel):
    entered: int = Field(description="Enrollments that reached the node")
    current: int = Field(description="Enrollments there now (waiting, or about to be handled)")
    passed: int = Field(description="Passages that moved on (by any branch)")
    exited: int = Field(description="Enrollments that ended there by an exit node, an exit rule or removal")
    converted: int = Field(description="Enrollments that ended there by reaching the goal")
    outcomes: dict[str, int] = Field(
        description="Passages by outcome: the branch taken (`next`, `yes`, `timeout`, a split branch …), "
        "`waiting`, `goal`, `exit_rule`, `removed` …"
    )


class JourneyTotalsRead(BaseModel):
    entered: int = Field(description="Enrollments, whatever their state")
    active: int = Field(description="Enrollments still running")
    completed: int = Field(description="Reached the end of a branch")
    converted: int = Field(description="Reached the goal")
    exited: int = Field(description="Left by an exit node, an exit rule or removal")


class JourneyStatsRead(BaseModel):
    version: int | None = Field(description="The version counted (`?version=`); null: every version")
    live_version: int | None = Field(description="The number of the live version")
    nodes: dict[str, NodeStatsRead] = Field(description="Per node id")
    totals: JourneyTotalsRead


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
    node_at: datetime | None = Field(None, description="When it reached its current (or last) node")
    updated_at: datetime
    ended_at: datetime | None


class EnrollmentContact(BaseModel):
    id: int
    external_id: str | None
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None


class JourneyEnrollmentRead(EnrollmentRead):
    contact: EnrollmentContact | None = Field(description="The contact (null if it has since been erased)")
