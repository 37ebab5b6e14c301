"""What the CRM adapters share: reading a non-2xx answer into per-contact results, and
transport failures into retries or outages. Errors keep a status line and the CRM's
documented error code or category, never free text from a response body."""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx

from kairos.crm.adapters.base import AccountPush, ContactPush, CrmError, PushResult
from kairos.messaging.channels.http import (
    describe_transport_error,
    parse_retry_after,
    short,
    status_line,
)
from kairos.messaging.ssrf import TargetNotAllowed

#: a contact's or an account's push
Push = ContactPush | AccountPush


def results(batch: Sequence[Push], **kw: object) -> list[PushResult]:
    return [PushResult(p.record_id, **kw) for p in batch]  # type: ignore[arg-type]


def failed(push: Push, error: str) -> PushResult:
    return PushResult(push.record_id, "failed", crm_id=push.crm_id, error=short(error))


def transient(response: httpx.Response, error: str) -> CrmError | None:
    """A ``CrmError`` for an answer that says "later" (401/403: our credentials are refused,
    an outage of the connection; 408, 429, 5xx: retry), else ``None``."""
    status = response.status_code
    if status in (401, 403):
        return CrmError(f"credentials refused: {error}", outage=True)
    if status in (408, 429) or status >= 500:
        return CrmError(
            error, retry_after=parse_retry_after(response.headers.get("retry-after"), time.time())
        )
    return None


def transport_error(exc: Exception) -> CrmError:
    """A request that got no HTTP answer: failing to connect is an outage; a timeout or a
    dropped connection after sending is a retry (an upsert is safe to repeat)."""
    if isinstance(exc, TargetNotAllowed):
        return CrmError("CRM address not allowed (private or local network)", outage=True)
    assert isinstance(exc, httpx.HTTPError)
    reason = describe_transport_error(exc)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.ProxyError):
        return CrmError(f"CRM unreachable: {reason}", outage=True)
    if isinstance(exc, httpx.TimeoutException):
        return CrmError(f"timeout: {reason}")
    return CrmError(f"transport error: {reason}")


def as_retry(batch: Sequence[Push], exc: CrmError) -> list[PushResult]:
    return [
        PushResult(p.record_id, "retry", crm_id=p.crm_id, error=short(exc.reason),
                   retry_after=exc.retry_after, outage=exc.outage)
        for p in batch
    ]  # fmt: skip


__all__ = ["Push", "as_retry", "failed", "results", "status_line", "transient", "transport_error"]
