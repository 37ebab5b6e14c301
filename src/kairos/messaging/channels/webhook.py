"""Webhooks: a JSON POST to a URL, signed per Standard Webhooks.

Standard Webhooks (https://www.standardwebhooks.com/, spec:
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md)
puts three headers on each request: ``webhook-id`` (the message key, stable across
retries so receivers can deduplicate), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature``: ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), where
the signing secret is written ``whsec_`` + base64(key). Receivers check it with any
Standard Webhooks library or with ``verify_signature`` below.

The target is the message's ``to`` (a URL), else the channel's ``url``. Targets pass the
SSRF guard (``kairos.messaging.ssrf``) at send time, on the very address connected to.
Redirects are not followed: a redirect could point the signed request anywhere.

Answers: 2xx sent; 410 Gone bounced (the receiver retired the endpoint); 408, 429 and 5xx
retried; other codes, 3xx included, failed. Failing to connect is an outage of that
receiver (other receivers in the batch are still attempted).

Content: ``{"payload": any JSON value}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable

import httpx
import orjson
from pydantic import Field, field_validator

from kairos.messaging.channels.base import (
    ChannelOptions,
    Outgoing,
    Provider,
    ProviderConfig,
    SendResult,
    register,
)
from kairos.messaging.channels.http import (
    ContentError,
    HttpChannel,
    HttpUrl,
    bounced,
    failed,
    parse_retry_after,
    retry,
    sent,
    status_line,
)
from kairos.messaging.ssrf import GuardedTransport, TargetNotAllowed, check_url, parse_target

SECRET_PREFIX = "whsec_"
#: Headers the signature and the transport own; settings may not override them.
RESERVED_HEADERS = frozenset(
    {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length", "host"}
    | {"transfer-encoding", "connection"}
)
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an RFC 9110 token
#: The most of a receiver's answer read (then dropped: errors keep the status line only);
#: bigger bodies are not downloaded.
MAX_ANSWER = 64 * 1024


def generate_secret() -> str:
    """A new signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_key(secret: str | bytes) -> bytes:
    """The HMAC key of a ``whsec_…`` secret (bytes are taken as the key itself)."""
    if isinstance(secret, bytes):
        return secret
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a signing secret is whsec_ followed by base64") from exc


def sign(secret: str | bytes, msg_id: str, timestamp: int | str, body: bytes) -> str:
    """The ``webhook-signature`` header value for one request."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_signature(
    secret: str | bytes,
    msg_id: str,
    timestamp: int | str,
    body: bytes | str,
    signature_header: str,
    *,
    tolerance: float | None = None,
) -> bool:
    """Whether ``signature_header`` (space-separated ``v1,<base64>`` signatures, several while
    a secret is rotated) holds a valid signature of this request.

    With ``tolerance`` (seconds), timestamps further than that from now are refused too,
    which is what stops replays (the spec suggests five minutes).
    """
    try:
        sent_at = int(timestamp)
        expected = sign(secret, msg_id, timestamp, body.encode() if isinstance(body, str) else body)
    except ValueError:
        return False
    if tolerance is not None and abs(time.time() - sent_at) > tolerance:
        return False
    valid = False
    for candidate in signature_header.split():
        version, _, value = candidate.partition(",")
        # compare every candidate, in constant time, without an early exit
        valid |= version == "v1" and hmac.compare_digest(value.encode(), expected[3:].encode())
    return valid


def check_headers(headers: dict[str, str]) -> dict[str, str]:
    for name, value in headers.items():
        if not HEADER_NAME.match(name):
            raise ValueError(f"invalid header name {name!r}")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by Kairos")
        if any(c in value for c in "\r\n\0"):
            raise ValueError(f"header {name!r}: line breaks are not allowed")
        if not value.isascii():
            raise ValueError(f"header {name!r}: only ASCII values can be sent")
    return headers


class Settings(ProviderConfig):
    url: HttpUrl | None = Field(None, description="Target of messages that do not name one")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Static headers added to every request; returned by the API, so put credentials "
        "(Authorization, API keys) in the secret `headers` instead",
    )
    timeout: float | None = Field(None, gt=0, le=60, description="Seconds; default: the server's")

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        return check_headers(headers)


class Secrets(ProviderConfig):
    signing_secret: str = Field(
        default_factory=generate_secret,
        description="Standard Webhooks signing secret (whsec_ + base64); generated when not given",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Secret headers added to every request, e.g. Authorization: Bearer …; never returned "
        "(they win over a setting's header of the same name)",
    )

    @field_validator("headers")
    @classmethod
    def _check_secret_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        return check_headers(headers)

    @field_validator("signing_secret")
    @classmethod
    def _check_secret(cls, value: str) -> str:
        if not value.startswith(SECRET_PREFIX):
            raise ValueError("a signing secret starts with whsec_")
        if not 24 <= len(secret_key(value)) <= 64:
            raise ValueError("a signing secret holds 24 to 64 bytes")
        return value


def _merged(*layers: dict[str, str]) -> dict[str, str]:
    """Headers of the later layers win over the earlier ones, whatever their case."""
    out: dict[str, tuple[str, str]] = {}
    for layer in layers:
        out.update({name.lower(): (name, value) for name, value in layer.items()})
    return dict(out.values())


class WebhookChannel(HttpChannel):
    def __init__(self, settings: Settings, secrets: Secrets, options: ChannelOptions) -> None:
        client = httpx.Client(
            transport=GuardedTransport(allow_private=options.allow_private_targets),
            timeout=settings.timeout or options.timeout,
            follow_redirects=False,
            trust_env=False,
            headers=_merged({"user-agent": "kairos-webhooks"}, settings.headers, secrets.headers),
        )
        super().__init__(client)
        self.settings = settings
        self._secret = secret_key(secrets.signing_secret)
        self.now: Callable[[], float] = time.time

    def target(self, msg: Outgoing) -> str | None:
        return msg.to or self.settings.url

    def outage_scope(self, msg: Outgoing) -> str:
        # one receiver that is down must not hold back the others' messages
        try:
            host, port = parse_target(self.target(msg) or "")
        except TargetNotAllowed:
            return ""
        return f"{host}:{port}"

    def send_one(self, msg: Outgoing) -> SendResult:
        url = self.target(msg)
        if not url:
            return failed(msg, "no webhook URL")
        try:
            parse_target(url)
        except TargetNotAllowed as exc:
            return failed(msg, f"invalid webhook URL: {exc.message}")
        if "payload" not in msg.content:
            raise ContentError("a webhook needs a 'payload'")
        try:
            body = orjson.dumps(msg.content["payload"])
        except orjson.JSONEncodeError as exc:
            raise ContentError(f"payload is not JSON: {exc}") from exc
        timestamp = int(self.now())
        headers = {
            "webhook-id": msg.key,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._secret, msg.key, timestamp, body),
            "content-type": "application/json",
        }
        try:
            with self.client.stream("POST", url, content=body, headers=headers) as response:
                _read_capped(response)  # drained for connection reuse; never stored or shown
        except TargetNotAllowed:
            return failed(msg, "target address not allowed")
        status = response.status_code
        error = status_line(response)
        if 200 <= status < 300:
            return sent(msg, msg.key)
        if 300 <= status < 400:
            return failed(msg, f"HTTP {status}: redirects are not followed")
        if status == 410:
            return bounced(msg, error)
        if status in (408, 429) or status >= 500:
            return retry(msg, error, parse_retry_after(response.headers.get("retry-after"), time.time()))
        return failed(msg, error)


def _read_capped(response: httpx.Response) -> bytes:
    """Up to ``MAX_ANSWER`` bytes of the body; a bigger one is abandoned (the connection is
    then closed rather than reused) so a receiver cannot make us download without end."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_ANSWER:
            break
    return b"".join(chunks)[:MAX_ANSWER]


def check_targets(settings: Settings, secrets: Secrets, allow_private: bool) -> None:
    if settings.url is not None:
        check_url(settings.url, allow_private=allow_private)


PROVIDER = register(
    Provider(
        name="webhook",
        kind="webhook",
        settings_model=Settings,
        secrets_model=Secrets,
        factory=WebhookChannel,  # (settings, secrets, options)
        description="Signed JSON POSTs (Standard Webhooks) to a URL",
        check_targets=check_targets,
    )
)
