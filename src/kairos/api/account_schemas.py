"""Request and response models of /api/v1/accounts and /api/v1/account-scores (B2B accounts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(
        None,
        max_length=255,
        description="The account's id where it comes from (Segment groupId); an "
        "account with this id is updated instead of created",
    )
    name: str | None = Field(None, max_length=200)
    domain: str | None = Field(
        None,
        max_length=300,
        description="Web domain; a URL is reduced to its host (https://www.acme.com → acme.com)",
    )
    traits: dict[str, Any] | None = Field(
        None, description="Anything else (industry, employees, plan …); merged, a null value removes a trait"
    )
    owner_user_id: int | None = Field(
        None,
        ge=1,
        le=2**63 - 1,
        description="The console user who owns the account (assignment by account owner)",
    )


class AccountUpdate(AccountCreate):
    """Only the fields sent change; null clears one (``traits``: merged, null values remove)."""


class AccountScore(BaseModel):
    model: str = Field(description="The score model's key")
    model_name: str
    sum: float = Field(description="Sum of the members' scores (a member without one counts 0)")
    max: float = Field(description="The highest member score")
    engaged: int = Field(description="Members scoring at least engaged_threshold")
    engaged_threshold: float


class AccountRead(BaseModel):
    id: int
    external_id: str | None
    name: str | None
    domain: str | None
    traits: dict[str, Any]
    owner_user_id: int | None
    owner_email: str | None
    member_count: int
    scores: list[AccountScore] = Field(description="The members' scores rolled up, per score model")
    rolled_up_at: datetime | None = Field(description="When the scores were last rolled up (null: not yet)")
    created_at: datetime
    updated_at: datetime


class AccountMemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: int = Field(ge=1, le=2**63 - 1)
    role: str | None = Field(
        None, max_length=100, description="Title or role at the account; null keeps the stored one"
    )


class AccountMembersAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contacts: list[AccountMemberIn] = Field(min_length=1, max_length=500)


class AccountMemberRead(BaseModel):
    id: int = Field(description="The contact's id")
    external_id: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    lifecycle_stage: str | None
    score: float
    role: str | None
    source: str = Field(description="group (a Segment group call), api or import")
    joined_at: datetime


class AccountScoreSetting(BaseModel):
    model: str
    model_name: str
    engaged_threshold: float
    default: bool = Field(description="True while the model uses the default threshold")


class AccountScoreSettingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engaged_threshold: float = Field(
        ge=-1e12, le=1e12, description="A member scoring at least this counts as engaged"
    )
