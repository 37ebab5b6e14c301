"""Provider adapters behind one ``Channel`` protocol (``base.py``), one module per provider."""

from kairos.messaging.channels.base import (
    CHANNEL_KINDS,
    PROVIDERS,
    Channel,
    ChannelKind,
    ChannelOptions,
    Outgoing,
    Provider,
    ProviderConfig,
    SendResult,
    clean_error,
    register,
)

__all__ = [
    "CHANNEL_KINDS",
    "PROVIDERS",
    "Channel",
    "ChannelKind",
    "ChannelOptions",
    "Outgoing",
    "Provider",
    "ProviderConfig",
    "SendResult",
    "clean_error",
    "load_providers",
    "register",
]


def load_providers() -> dict[str, Provider]:
    """Import every provider module so each registers itself."""
    from kairos.messaging.channels import (  # noqa: F401
        fcm,
        inapp,
        smtp,
        twilio,
        webhook,
        wechat,
    )

    return PROVIDERS
