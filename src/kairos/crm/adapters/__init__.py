"""CRM adapters behind one ``CrmAdapter`` protocol (``base.py``), one module per CRM."""

from kairos.crm.adapters.base import (
    CRM_PROVIDERS,
    AccountPush,
    AccountRef,
    ContactPush,
    CrmAdapter,
    CrmError,
    CrmProvider,
    DealChange,
    DealPage,
    PushResult,
)

__all__ = [
    "CRM_PROVIDERS",
    "AccountPush",
    "AccountRef",
    "ContactPush",
    "CrmAdapter",
    "CrmError",
    "CrmProvider",
    "DealChange",
    "DealPage",
    "PushResult",
    "load_crm_providers",
]


def load_crm_providers() -> dict[str, CrmProvider]:
    """Import every adapter module so each registers itself."""
    from kairos.crm.adapters import hubspot, salesforce, webhook  # noqa: F401

    return CRM_PROVIDERS
