"""A generic CRM webhook: each contact is a signed JSON POST, like the journey webhook node
(Standard Webhooks headers ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``;
``kairos.messaging.channels.webhook``), for CRMs without an adapter or your own
middleware. ``webhook-id`` is stable per contact and version, so a receiver deduplicates
retries.

Body::

    {"type": "contact.upsert", "contact": {"id", "email", "external_id", "crm_id", …},
     "properties": {<mapped CRM properties>},
     "accounts": [{"id", "external_id", "name", "domain", "crm_id"}, …]}

``accounts`` are the contact's B2B accounts, the one joined first first (empty when the
connection does not push accounts). With ``push_accounts`` each account is also POSTed,
before its contacts and again when it changes (``webhook-id`` stable per account version)::

    {"type": "account.upsert", "account": {"id", "external_id", "name", "domain",
     "member_count", "crm_id", …}, "properties": {<mapped account properties>}}

A 2xx answer syncs the contact; a JSON answer ``{"id": "…"}`` gives its CRM id. 408, 429
(``Retry-After``) and 5xx are retried; failing to connect pauses the connection; other
codes fail the contact. Webhook connections are push-only: deals come back through the
track API (``Deal Won`` events) if your middleware sends them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

import httpx
import orjson

from kairos.crm.adapters.base import (
    AccountPush,
    ContactPush,
    CrmError,
    CrmProvider,
    DealPage,
    PushResult,
    register,
)
from kairos.crm.adapters.http import Push, as_retry, failed, transient, transport_error
from kairos.errors import InvalidInput
from kairos.messaging.channels.base import ChannelOptions
from kairos.messaging.channels.http import error_code
from kairos.messaging.channels.webhook import Secrets, Settings, _merged, _read_capped, secret_key, sign
from kairos.messaging.ssrf import GuardedTransport, TargetNotAllowed, check_url


class CrmWebhook:
    def __init__(self, settings: Settings, secrets: Secrets, options: ChannelOptions) -> None:
        self.settings = settings
        self._secret = secret_key(secrets.signing_secret)
        self.client = httpx.Client(
            transport=GuardedTransport(allow_private=options.allow_private_targets),
            timeout=settings.timeout or options.timeout,
            follow_redirects=False,
            trust_env=False,
            headers=_merged({"user-agent": "kairos-crm"}, settings.headers, secrets.headers),
        )
        self.now: Callable[[], float] = time.time

    def close(self) -> None:
        self.client.close()

    def upsert(self, batch: Sequence[ContactPush]) -> list[PushResult]:
        return self._post_all(batch)

    def upsert_accounts(self, batch: Sequence[AccountPush]) -> list[PushResult]:
        return self._post_all(batch)

    def _post_all(self, batch: Sequence[Push]) -> list[PushResult]:
        out: list[PushResult] = []
        for index, push in enumerate(batch):
            try:
                out.append(self._post(push))
            except CrmError as exc:
                if exc.outage:
                    return out + as_retry(batch[index:], exc)
                out += as_retry([push], exc)
        return out

    def _post(self, push: Push) -> PushResult:
        if not self.settings.url:
            return failed(push, "no webhook URL")
        if isinstance(push, ContactPush):
            accounts = [
                {"id": a.account_id, "external_id": a.external_id, "name": a.name, "domain": a.domain,
                 "crm_id": a.crm_id}
                for a in push.accounts
            ]  # fmt: skip
            body = orjson.dumps(
                {"type": "contact.upsert", "contact": {**push.contact, "crm_id": push.crm_id},
                 "properties": push.properties, "accounts": accounts}
            )  # fmt: skip
        else:
            body = orjson.dumps(
                {"type": "account.upsert", "account": {**push.account, "crm_id": push.crm_id},
                 "properties": push.properties}
            )  # fmt: skip
        timestamp = int(self.now())
        headers = {
            "webhook-id": push.key,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._secret, push.key, timestamp, body),
            "content-type": "application/json",
        }
        try:
            with self.client.stream("POST", self.settings.url, content=body, headers=headers) as response:
                answer = _read_capped(response)
        except (httpx.HTTPError, TargetNotAllowed) as exc:
            raise transport_error(exc) from None
        status = response.status_code
        error = f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".rstrip()
        if 200 <= status < 300:
            crm_id = push.crm_id
            try:
                data = orjson.loads(answer) if answer else None
            except orjson.JSONDecodeError:
                data = None
            if isinstance(data, dict) and error_code(data.get("id")) is not None:
                crm_id = str(data["id"])
            return PushResult(push.record_id, "synced", crm_id=crm_id)
        if 300 <= status < 400:
            return failed(push, f"HTTP {status}: redirects are not followed")
        later = transient(response, error)
        if later is not None and status not in (401, 403):
            raise later
        return failed(push, error)

    def deal_changes(self, cursor: str | None, since: datetime) -> DealPage:
        return DealPage([], cursor)

    def verify(self) -> None:
        if not self.settings.url:
            raise InvalidInput("the webhook has no URL", code="crm_unreachable")


def check_targets(settings: Settings, secrets: Secrets, allow_private: bool) -> None:
    if settings.url is not None:
        check_url(settings.url, allow_private=allow_private)


PROVIDER = register(
    CrmProvider(
        name="webhook",
        settings_model=Settings,
        secrets_model=Secrets,
        factory=CrmWebhook,
        description="Signed JSON POSTs (Standard Webhooks) of each contact to your endpoint",
        deals=False,
        default_mapping=(("email", "email"), ("first_name", "first_name"), ("last_name", "last_name")),
        default_account_mapping=(("name", "name"), ("domain", "domain"), ("score.sum", "score")),
        check_targets=check_targets,
        batch_size=50,
    )
)
