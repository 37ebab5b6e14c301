"""What the HTTP provider adapters (Twilio, FCM, WeChat, webhooks) share.

Each adapter turns one ``Outgoing`` into one HTTP call (``send_one``); this module runs a
batch of them with modest concurrency (results stay in batch order), maps transport
failures and generic HTTP statuses to ``SendResult``, parses ``Retry-After`` (RFC 9110
§10.2.3: delta-seconds or an HTTP-date) and stops a batch early once the provider turns out
to be unreachable. Provider-specific error bodies are parsed in each provider module.

Clients go through the SSRF guard (``GuardedTransport``): a base URL or token URI a user
configured must not reach loopback, private or metadata addresses unless the operator
allows private targets. Errors keep a status line and the provider's documented error code,
never the text of a response body (``clean_error``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Annotated, Any

import httpx
import orjson
from pydantic import AfterValidator

from kairos.messaging.channels.base import ChannelOptions, Outgoing, SendResult, clean_error
from kairos.messaging.ssrf import GuardedTransport, TargetNotAllowed

#: Requests in flight per channel instance: enough to hide round-trip latency, few enough
#: not to trip providers' per-account concurrency limits.
CONCURRENCY = 4
#: Longer pauses than this are capped: past a day the outbox's own backoff is the better judge.
MAX_RETRY_AFTER = 86_400.0


class ContentError(ValueError):
    """The message content cannot be put in the provider's format: a permanent failure."""


class Outage(Exception):
    """The provider cannot be used right now (unreachable, or our credentials are refused)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def check_http_url(value: str) -> str:
    """A pydantic validator: ``value`` must be an absolute http(s) URL."""
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ValueError(f"invalid URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an http(s) URL")
    return value


#: An http(s) URL in settings.
HttpUrl = Annotated[str, AfterValidator(check_http_url)]
#: A provider API root in settings (``https://api.twilio.com``); tests point it at fakes.
BaseUrl = Annotated[str, AfterValidator(check_http_url), AfterValidator(lambda v: v.rstrip("/"))]


def parse_retry_after(value: str | None, now_ts: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or ``None`` when absent or unparsable.

    ``now_ts`` (a Unix timestamp) turns the HTTP-date form into a delay; dates in the past
    give 0.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000" zones parse naive; HTTP-dates are always GMT
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now_ts
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def short(text: object, limit: int = 200) -> str:
    return clean_error(text, limit)


def status_line(response: httpx.Response) -> str:
    """``HTTP 503 Service Unavailable``: the status and its standard phrase (not the
    server's own reason phrase, which is free text)."""
    phrase = httpx.codes.get_reason_phrase(response.status_code)
    return f"HTTP {response.status_code} {phrase}".rstrip()


def error_code(value: object) -> str | None:
    """A provider's documented error code from a response body (Twilio's 21211, WeChat's
    40001, FCM's ``UNREGISTERED``, OAuth's ``invalid_grant``), or ``None`` when the value
    does not look like one: free text from a body never reaches a stored error."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and re.fullmatch(r"-?[A-Za-z0-9_.]{1,40}", value):
        return value
    return None


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The response's JSON object, or ``{}``: error pages from proxies are often HTML."""
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def sent(msg: Outgoing, provider_id: str | None) -> SendResult:
    return SendResult(msg.message_id, "sent", provider_id=provider_id)


def failed(msg: Outgoing, error: str) -> SendResult:
    return SendResult(msg.message_id, "failed", error=short(error))


def bounced(msg: Outgoing, error: str) -> SendResult:
    return SendResult(msg.message_id, "bounced", error=short(error))


def retry(msg: Outgoing, error: str, retry_after: float | None = None, *, outage: bool = False) -> SendResult:
    return SendResult(msg.message_id, "retry", error=short(error), retry_after=retry_after, outage=outage)


def classify(msg: Outgoing, response: httpx.Response, error: str) -> SendResult:
    """The generic reading of a non-2xx answer, once the provider module has handled the
    statuses and error codes that mean something special for it.

    401/403 mean our credentials are refused: every other message would fail the same way,
    so it is an outage. 408, 429 and 5xx are transient; anything else is this message's fault.
    """
    status = response.status_code
    if status in (401, 403):
        return retry(msg, f"credentials refused: {error}", outage=True)
    if status in (408, 429) or status >= 500:
        delay = parse_retry_after(response.headers.get("retry-after"), time.time())
        return retry(msg, error, delay)
    return failed(msg, error)


def transport_result(msg: Outgoing, exc: httpx.HTTPError) -> SendResult:
    """A request that got no HTTP answer.

    Failing to connect at all (refused, DNS, TLS handshake, connect timeout) means the
    provider is unreachable: an outage. A timeout or a dropped connection after the request
    went out is transient for this message only — and it may have been delivered, which is
    why adapters send the message key where the provider supports idempotency.
    """
    reason = describe_transport_error(exc)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.ProxyError):
        return retry(msg, f"provider unreachable: {reason}", outage=True)
    if isinstance(exc, httpx.TimeoutException):
        return retry(msg, f"timeout: {reason}")
    return retry(msg, f"transport error: {reason}")


def describe_transport_error(exc: httpx.HTTPError) -> str:
    """What went wrong without an HTTP answer, in words that never quote the server: a
    connect error keeps the local OS's text ("[Errno 111] Connection refused"); anything
    else (protocol errors may quote the bytes received) only its class name."""
    name = type(exc).__name__
    if isinstance(exc, httpx.ConnectError | httpx.ProxyError) and str(exc):
        return f"{name}: {exc}"
    return name


SendOne = Callable[[Outgoing], SendResult]


def run_batch(
    batch: Sequence[Outgoing],
    send_one: SendOne,
    *,
    scope: Callable[[Outgoing], str] = lambda msg: "",
    concurrency: int = CONCURRENCY,
) -> list[SendResult]:
    """One result per message, in batch order.

    Once a message comes back as an outage, messages of the same ``scope`` (the whole batch
    unless the adapter says otherwise, e.g. one webhook origin) that have not started are
    not attempted: they get retry+outage too.
    """
    down: dict[str, SendResult] = {}
    lock = threading.Lock()

    def attempt(msg: Outgoing) -> SendResult:
        key = scope(msg)
        with lock:
            cause = down.get(key)
        if cause is not None:
            return retry(msg, f"not attempted: {cause.error}", cause.retry_after, outage=True)
        try:
            result = send_one(msg)
        except Outage as exc:
            result = retry(msg, exc.reason, exc.retry_after, outage=True)
        except ContentError as exc:
            result = failed(msg, f"invalid content: {exc}")
        except httpx.HTTPError as exc:
            result = transport_result(msg, exc)
        except TargetNotAllowed:
            # the configured base URL or token URI resolves to a private address: every
            # message would go the same way, so the channel pauses until it is fixed
            result = retry(msg, "provider address not allowed (private or local network)", outage=True)
        if result.outage:
            with lock:
                down.setdefault(key, result)
        return result

    if len(batch) <= 1 or concurrency <= 1:
        return [attempt(msg) for msg in batch]
    workers = min(concurrency, len(batch))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kairos-send") as pool:
        return list(pool.map(attempt, batch))


def make_client(options: ChannelOptions, **kwargs: Any) -> httpx.Client:
    """The pooled client of one channel instance. Redirects are never followed: a provider
    API does not redirect, and following one would send our credentials elsewhere. Every
    connection goes through the SSRF guard, on the address it checked."""
    limits = httpx.Limits(max_connections=2 * CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    return httpx.Client(
        transport=GuardedTransport(allow_private=options.allow_private_targets, limits=limits),
        timeout=options.timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": "kairos"},
        **kwargs,
    )


class HttpChannel:
    """Base of the HTTP adapters: subclasses implement ``send_one`` for one message."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def send(self, batch: Sequence[Outgoing]) -> list[SendResult]:
        return run_batch(batch, self.send_one, scope=self.outage_scope)

    def send_one(self, msg: Outgoing) -> SendResult:
        raise NotImplementedError

    def outage_scope(self, msg: Outgoing) -> str:
        """Messages sharing a scope share an outage; one provider API is one scope."""
        return ""

    def close(self) -> None:
        self.client.close()
