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

import unicodedata
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
    #: (settings, secrets, options) -> None: reach the provider without sending anything,
    #: raising ``InvalidInput`` that says what failed (``POST /channels/{id}/verify``)
    verify: Callable[[Any, Any, ChannelOptions], None] | None = None
    #: (settings, secrets, allow_private) -> None: raise ``TargetNotAllowed`` (422
    #: ``url_not_allowed``) when a host or URL the configuration makes us connect to is not
    #: allowed by the SSRF guard (``kairos.messaging.ssrf``); checked when a channel is saved
    check_targets: Callable[[Any, Any, bool], None] | None = None


@dataclass(slots=True)
class ChannelOptions:
    """Process-wide knobs an adapter may need (from ``Settings``), not per-workspace config."""

    allow_private_targets: bool = False  # SSRF guard: may providers be loopback/private?
    timeout: float = 10.0
    extra: dict[str, Any] = field(default_factory=dict)


#: The longest error text stored on a message or a channel (``message.error``,
#: ``pause_reason``) or returned by a verify.
MAX_ERROR = 200


def clean_error(text: object, limit: int = MAX_ERROR) -> str:
    """``text`` fit to store and show: control and format characters (line breaks, escapes,
    bidi overrides) replaced by spaces, runs of white space collapsed, at most ``limit``
    characters.

    Errors are status lines ("HTTP 503 Service Unavailable", "550 5.1.1 no such user",
    "connection refused"), never a remote body: a provider URL a user typed must not turn
    Kairos into a way to read what some server answers."""
    value = "".join(" " if unicodedata.category(c) in ("Cc", "Cf") else c for c in str(text))
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    if provider.name in PROVIDERS:
        raise ValueError(f"provider {provider.name!r} registered twice")
    PROVIDERS[provider.name] = provider
    return provider
