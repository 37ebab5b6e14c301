"""Request and response models of ``/crm-connections`` and ``/contacts/{id}/crm-sync``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CrmProviderName = Literal["hubspot", "salesforce", "webhook"]
SyncScope = Literal["all", "segment", "lifecycle"]


class FieldMap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(
        description="Kairos field (id, external_id, email, phone, first_name, last_name, timezone, locale, "
        "lifecycle_stage, score, created_at) or `traits.<name>`"
    )
    target: str = Field(
        description="CRM property (HubSpot internal name, Salesforce field API name, JSON key)"
    )


class AccountFieldMap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(
        description="Account field (id, external_id, name, domain, member_count, created_at), "
        "`traits.<name>`, the default score model's roll-up `score.sum` / `score.max` / "
        "`score.engaged`, or another model's `scores.<model key>.sum` (`.max`, `.engaged`)"
    )
    target: str = Field(
        description="CRM property (HubSpot company property, Salesforce Account field, JSON key)"
    )


class CrmConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    provider: CrmProviderName
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Returned by the API (JSON Schema: `GET /crm-connections/providers`)",
    )
    secrets: dict[str, Any] = Field(
        default_factory=dict, description="Encrypted at rest and never returned (see `secrets_set`)"
    )
    field_mapping: list[FieldMap] | None = Field(
        None, description="Kairos field → CRM property; left out: the provider's default mapping"
    )
    sync_scope: SyncScope = Field(
        "all",
        description="Which contacts are pushed: all, a segment's members, or contacts in `lifecycle_stages`",
    )
    segment_id: int | None = None
    lifecycle_stages: list[str] = Field(default_factory=list)
    push_contacts: bool = Field(True, description="Push contacts to the CRM when they change")
    pull_deals: bool = Field(True, description="Read deal stages back as events (not for webhooks)")
    poll_interval: int = Field(300, ge=60, le=86_400, description="Seconds between deal polls")
    enabled: bool = True
    push_accounts: bool | None = Field(
        None,
        description="Push the B2B accounts of pushed contacts too (HubSpot companies, Salesforce Accounts, "
        "the webhook's `account.upsert`) and associate the contacts with them; left out: true",
    )
    account_mapping: list[AccountFieldMap] | None = Field(
        None, description="Account field → CRM property; left out: the provider's default account mapping"
    )


class CrmConnectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    settings: dict[str, Any] | None = Field(None, description="Merged into the current settings")
    secrets: dict[str, Any] | None = Field(None, description="Merged into the current secrets")
    field_mapping: list[FieldMap] | None = None
    sync_scope: SyncScope | None = None
    segment_id: int | None = None
    lifecycle_stages: list[str] | None = None
    push_contacts: bool | None = None
    pull_deals: bool | None = None
    poll_interval: int | None = Field(None, ge=60, le=86_400)
    enabled: bool | None = None
    push_accounts: bool | None = None
    account_mapping: list[AccountFieldMap] | None = Field(
        None, description="A new account mapping pushes every account the connection holds again"
    )
    resume: bool | None = Field(None, description="true: end a pause after a CRM outage now")


class SyncCounts(BaseModel):
    queued: int
    sending: int
    synced: int
    failed: int


class CrmConnectionRead(BaseModel):
    id: int
    name: str
    provider: CrmProviderName
    settings: dict[str, Any]
    secrets_set: list[str]
    field_mapping: list[FieldMap]
    sync_scope: SyncScope
    segment_id: int | None
    lifecycle_stages: list[str]
    push_contacts: bool
    pull_deals: bool
    poll_interval: int
    enabled: bool
    push_accounts: bool
    account_mapping: list[AccountFieldMap]
    paused_until: datetime | None = Field(description="Set after an outage: queued syncs wait until then")
    pause_reason: str | None
    last_error: str | None
    next_poll_at: datetime | None
    counts: SyncCounts | None = Field(None, description="Contacts per sync status")
    last_synced_at: datetime | None = Field(
        None, description="When a contact of the connection was last pushed successfully"
    )
    created_at: datetime
    updated_at: datetime


class CrmProviderRead(BaseModel):
    name: CrmProviderName
    description: str
    deals: bool = Field(description="Whether deal stages can be read back")
    settings_schema: dict[str, Any]
    secrets_schema: dict[str, Any] = Field(description="Write-only")
    default_mapping: list[FieldMap]
    default_account_mapping: list[AccountFieldMap]


class CrmPushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connection_id: int | None = Field(None, description="One connection; left out: every pushing connection")


class CrmQueued(BaseModel):
    queued: int = Field(description="Contacts (resync) or connections (push) queued")


class CrmContactState(BaseModel):
    connection_id: int
    connection_name: str
    provider: CrmProviderName
    crm_id: str | None = Field(description="The contact's id in that CRM")
    status: Literal["queued", "sending", "synced", "failed"]
    attempts: int
    next_attempt_at: datetime
    last_synced_at: datetime | None
    last_error: str | None


class CrmLogEntry(BaseModel):
    id: int
    connection_id: int
    direction: Literal["push", "pull"]
    outcome: Literal["synced", "retry", "failed", "deal"]
    crm_id: str | None
    detail: str | None
    created_at: datetime


class ContactCrmSync(BaseModel):
    connections: list[CrmContactState]
    log: list[CrmLogEntry] = Field(description="Latest first")


class CrmAccountState(BaseModel):
    connection_id: int
    connection_name: str
    provider: CrmProviderName
    crm_id: str | None = Field(
        description="The account's id in that CRM (HubSpot company, Salesforce Account)"
    )
    status: Literal["queued", "sending", "synced", "failed"]
    attempts: int
    next_attempt_at: datetime
    last_synced_at: datetime | None
    last_error: str | None


class CrmAccountLogEntry(BaseModel):
    id: int
    connection_id: int
    outcome: Literal["synced", "retry", "failed"]
    crm_id: str | None
    detail: str | None
    created_at: datetime


class AccountCrmSync(BaseModel):
    connections: list[CrmAccountState]
    log: list[CrmAccountLogEntry] = Field(description="Latest first")
