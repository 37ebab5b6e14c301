"""The ``Channel`` protocol every provider adapter implements, and the provider registry.

The dispatcher hands a provider a batch of rendered ``Outgoing`` messages and gets one
``SendResult`` per message back. Adapters never touch the database: they turn content into
the provider's wire format, talk to it, and classify what came back —

- ``sent``: the provider accepted the message (``provider_id`` is its id for it);
- ``retry``: a transient failure (SMTP 4xx such as 421/451, HTTP 429/5xx, a timeout); the
  outbox retries with backoff, honouring ``retry_after`` when the provider gave one;
- ``failed``: a permanent failure of this message (bad request, invalid token);
- ``bounced``: the provider refused the recipient permanently (SMTP 5xx on RCPT); the
  address goes on the suppression list.

``outage=True`` on a retry says the provider itself is unreachable (connection refused,
TLS failure, auth failure): the dispatcher pauses the channel instead of burning every
message's retries.

A provider module registers itself with ``@register``; configuration is a pydantic model
split into plain ``settings`` (returned by the API) and ``secrets`` (encrypted at rest,
never returned).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

#: What a message is sent on. One kind may have several providers.
ChannelKind = Literal["email", "sms", "push", "wechat", "webhook", "inapp"]
CHANNEL_KINDS: tuple[ChannelKind, ...] = ("email", "sms", "push", "wechat", "webhook", "inapp")

SendStatus = Literal["sent", "retry", "failed", "bounced"]


@dataclass(slots=True)
class Outgoing:
    """One rendered message, ready for a provider.

    ``to`` is the address on this channel: an email address, an E.164 phone number, an FCM
    registration token, a WeChat openid, a webhook URL, or the contact id for the inbox.
    ``content`` is channel-shaped (see each provider module): for email ``subject``,
    ``html``, ``text``, ``from_email``, ``from_name``, ``reply_to``, ``headers``; for SMS
    ``text``; for push ``title``, ``body``, ``data``; for WeChat ``template_id``, ``url``,
    ``data``; for webhooks ``payload`` (a JSON-able object).
    """

    message_id: int  # the outbox row
    key: str  # stable per message: Message-ID local part, webhook-id, provider idempotency
    to: str
    content: dict[str, Any]
    contact_id: int = 0
    workspace_id: int = 0


@dataclass(slots=True)
class SendResult:
    message_id: int
    status: SendStatus
    provider_id: str | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds, when the provider said how long to wait
    outage: bool = False  # the provider is down: pause the channel, do not count the attempt


class ProviderConfig(BaseModel):
    """Base of each provider's ``Settings`` and ``Secrets`` models: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class Channel(Protocol):
    """A configured provider connection. One instance serves many batches (connection
    reuse); ``close`` releases its connections."""

    def send(self, batch: Sequence[Outgoing]) -> list[SendResult]: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Provider:
    name: str  # "smtp", "twilio", "fcm", "wechat", "webhook", "inapp"
    kind: ChannelKind
    settings_model: type[ProviderConfig]
    secrets_model: type[ProviderConfig]
    #: (settings, secrets, options) -> Channel; options carry process-wide things such as
    #: ``allow_private_targets`` for the SSRF guard
    factory: Callable[[Any, Any, ChannelOptions], Channel]
    description: str = ""
    #: (settings, secrets) -> None: reach the provider without sending anything, raising
    #: ``InvalidInput`` that says what failed (``POST /channels/{id}/verify``)
    verify: Callable[[Any, Any], None] | None = None


@dataclass(slots=True)
class ChannelOptions:
    """Process-wide knobs an adapter may need (from ``Settings``), not per-workspace config."""

    allow_private_targets: bool = False  # webhook SSRF guard: loopback/private allowed?
    timeout: float = 10.0
    extra: dict[str, Any] = field(default_factory=dict)


PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    if provider.name in PROVIDERS:
        raise ValueError(f"provider {provider.name!r} registered twice")
    PROVIDERS[provider.name] = provider
    return provider
