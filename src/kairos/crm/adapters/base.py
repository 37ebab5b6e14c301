"""The ``CrmAdapter`` protocol every CRM adapter implements, and the provider registry.

The sync job hands an adapter a batch of ``ContactPush`` (one contact's mapped properties)
and gets one ``PushResult`` per contact back, and likewise a batch of ``AccountPush`` (one
B2B account: a HubSpot company, a Salesforce Account) to ``upsert_accounts``, before the
contacts, so a contact's push can associate it with its accounts' CRM records. It asks for
the deals changed since a cursor (``deal_changes``). Adapters never touch the database.
Results are classified as the message outbox's are (``kairos.messaging.channels.base``):

- ``synced``: the CRM holds the contact (``crm_id`` is its id there);
- ``retry``: a transient failure (HTTP 408/429/5xx, a timeout); retried with backoff,
  honouring ``retry_after`` (``Retry-After``);
- ``failed``: a permanent failure of this contact (a validation error: a required field
  missing, a malformed email);

``outage=True`` on a retry says the CRM itself cannot be used (unreachable, credentials
refused): the connection pauses instead of burning every contact's retries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from kairos.messaging.channels.base import ChannelOptions, ProviderConfig

PushStatus = Literal["synced", "retry", "failed"]
PROVIDER_NAMES = ("hubspot", "salesforce", "webhook")


@dataclass(slots=True)
class AccountRef:
    """An account a pushed contact belongs to, first the one it joined first (its primary
    account). ``crm_id`` is the account's id in this CRM, None while it is not synced."""

    account_id: int
    crm_id: str | None
    name: str | None = None
    domain: str | None = None
    external_id: str | None = None


@dataclass(slots=True)
class ContactPush:
    """One contact to create or update in the CRM.

    ``properties`` are the CRM properties from the connection's field mapping; ``key`` is
    stable per (connection, contact, version): webhook receivers deduplicate on it."""

    contact_id: int
    key: str
    email: str | None
    external_id: str | None
    crm_id: str | None
    properties: dict[str, Any]
    contact: dict[str, Any] = field(default_factory=dict)  # the Kairos fields (webhook payload)
    #: the contact's accounts (connections pushing accounts): associate the contact with them
    accounts: list[AccountRef] = field(default_factory=list)

    @property
    def record_id(self) -> int:
        return self.contact_id


@dataclass(slots=True)
class AccountPush:
    """One account to create or update in the CRM: ``properties`` from the connection's
    account mapping; ``account`` the Kairos fields (webhook payload); ``key`` stable per
    (connection, account, version)."""

    account_id: int
    key: str
    crm_id: str | None
    properties: dict[str, Any]
    account: dict[str, Any] = field(default_factory=dict)

    @property
    def record_id(self) -> int:
        return self.account_id


@dataclass(slots=True)
class PushResult:
    """The outcome of one push; ``contact_id`` is the record's id: the contact's, or the
    account's for ``upsert_accounts``."""

    contact_id: int
    status: PushStatus
    crm_id: str | None = None
    error: str | None = None
    retry_after: float | None = None
    outage: bool = False


@dataclass(slots=True)
class DealChange:
    """A deal (opportunity) as the CRM has it now. ``contact_crm_ids`` are the CRM ids of
    the contacts it is associated with; ``contact_ids`` Kairos contact ids when the CRM
    carries them (Salesforce's external id field)."""

    deal_id: str
    stage: str
    name: str | None = None
    amount: float | None = None
    currency: str | None = None
    won: bool = False
    lost: bool = False
    contact_crm_ids: list[str] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class DealPage:
    changes: list[DealChange]
    cursor: str | None  # give it back next time; None: unchanged


class CrmError(Exception):
    """The CRM could not be read or reached; ``outage`` when the whole connection is down."""

    def __init__(self, reason: str, *, retry_after: float | None = None, outage: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.outage = outage


class CrmAdapter(Protocol):
    """A configured CRM connection. One instance serves many batches; ``close`` releases its
    connections."""

    def upsert(self, batch: Sequence[ContactPush]) -> list[PushResult]: ...

    def upsert_accounts(self, batch: Sequence[AccountPush]) -> list[PushResult]: ...

    def deal_changes(self, cursor: str | None, since: datetime) -> DealPage:
        """Deals changed since ``cursor`` (from the last page), or since ``since`` (the
        connection's creation) on the first poll."""
        ...

    def verify(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CrmProvider:
    name: str
    settings_model: type[ProviderConfig]
    secrets_model: type[ProviderConfig]
    factory: Callable[[Any, Any, ChannelOptions], CrmAdapter]
    description: str = ""
    #: whether the CRM has deals to read back (webhook connections are push-only)
    deals: bool = True
    #: the mapping a new connection gets when none is given
    default_mapping: tuple[tuple[str, str], ...] = ()
    #: the account mapping a new connection gets when none is given
    default_account_mapping: tuple[tuple[str, str], ...] = ()
    #: (settings, secrets, allow_private) -> None: raise ``TargetNotAllowed`` when a URL the
    #: configuration makes us connect to is refused by the SSRF guard
    check_targets: Callable[[Any, Any, bool], None] | None = None
    #: the largest batch ``upsert`` takes
    batch_size: int = 100


CRM_PROVIDERS: dict[str, CrmProvider] = {}


def register(provider: CrmProvider) -> CrmProvider:
    if provider.name in CRM_PROVIDERS:
        raise ValueError(f"CRM provider {provider.name!r} registered twice")
    CRM_PROVIDERS[provider.name] = provider
    return provider
