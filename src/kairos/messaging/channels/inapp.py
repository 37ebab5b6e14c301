"""The in-app inbox: messages a contact reads inside the customer's own app.

There is no provider to call: the dispatcher writes the inbox entry itself, in the same
transaction that records the result, so this adapter only acknowledges every message,
with the message key as its id.
"""

from __future__ import annotations

from collections.abc import Sequence

from kairos.messaging.channels.base import (
    ChannelOptions,
    Outgoing,
    Provider,
    ProviderConfig,
    SendResult,
    register,
)


class Settings(ProviderConfig):
    pass


class Secrets(ProviderConfig):
    pass


class InAppChannel:
    def send(self, batch: Sequence[Outgoing]) -> list[SendResult]:
        return [SendResult(msg.message_id, "sent", provider_id=msg.key) for msg in batch]

    def close(self) -> None:
        pass


def _factory(settings: Settings, secrets: Secrets, options: ChannelOptions) -> InAppChannel:
    return InAppChannel()


PROVIDER = register(
    Provider(
        name="inapp",
        kind="inapp",
        settings_model=Settings,
        secrets_model=Secrets,
        factory=_factory,
        description="The in-app inbox (stored by Kairos itself)",
    )
)
