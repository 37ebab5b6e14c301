"""HubSpot CRM v3 (https://developers.hubspot.com/docs/api/crm/contacts).

- Auth: a private app's access token, ``Authorization: Bearer <token>`` (scopes
  ``crm.objects.contacts.write`` and, to read deals back, ``crm.objects.deals.read``).
- Push: ``POST /crm/v3/objects/contacts/batch/upsert`` with ``{"inputs": [{"idProperty":
  "email", "id": <email>, "properties": {...}}]}``, up to 100 contacts a request, matched by
  ``id_property`` (``email`` or a unique property of your portal). Answers: 200/201 with
  ``results`` (each with the HubSpot ``id``), 207 with ``errors`` naming the inputs that
  failed. A 400 for a batch of several is re-sent contact by contact, so one invalid email
  does not fail the others.
- Accounts: ``POST /crm/v3/objects/companies/batch/upsert`` matched by
  ``company_id_property`` (default ``kairos_account_id``: a custom company property with
  unique values that you create, holding the Kairos account id), then the contacts pushed
  are associated with their accounts' companies by ``POST /crm/v4/associations/contacts/
  companies/batch/associate/default`` (scope ``crm.objects.companies.write``).
- Deals: ``POST /crm/v3/objects/deals/search`` on ``hs_lastmodifieddate`` (ascending, from
  the cursor) and ``POST /crm/v4/associations/deals/contacts/batch/read`` for the contacts
  of each deal. ``won_stages`` / ``lost_stages`` name the stages that mean won and lost
  (the default pipeline's ``closedwon`` and ``closedlost``).
- Errors: ``{"status": "error", "category": "VALIDATION_ERROR", "message": …}``; 401/403
  pause the connection; 429 (``Retry-After``) and 5xx are retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
from pydantic import Field

from kairos.crm.adapters.base import (
    AccountPush,
    ContactPush,
    CrmError,
    CrmProvider,
    DealChange,
    DealPage,
    PushResult,
    register,
)
from kairos.crm.adapters.http import Push, as_retry, failed, transient, transport_error
from kairos.errors import InvalidInput
from kairos.messaging.channels.base import ChannelOptions, ProviderConfig
from kairos.messaging.channels.http import BaseUrl, error_code, json_body, make_client, short, status_line
from kairos.messaging.ssrf import TargetNotAllowed, check_url

BATCH = 100
#: Deal pages (of 100) read per poll; the cursor carries on from the last one next time.
MAX_PAGES = 5
DEAL_PROPERTIES = ["dealname", "dealstage", "amount", "deal_currency_code", "hs_lastmodifieddate", "pipeline"]


class Settings(ProviderConfig):
    base_url: BaseUrl = Field("https://api.hubapi.com", description="HubSpot API root")
    id_property: str = Field(
        "email",
        pattern=r"^[a-z0-9_]{1,100}$",
        description="The unique contact property upserts match on (email, or a unique property of yours "
        "filled by the field mapping)",
    )
    company_id_property: str = Field(
        "kairos_account_id",
        pattern=r"^[a-z0-9_]{1,100}$",
        description="The unique company property (create it in HubSpot with unique values) that holds the "
        "Kairos account id: company upserts match on it",
    )
    won_stages: list[str] = Field(
        default_factory=lambda: ["closedwon"], description="Deal stages that mean won"
    )
    lost_stages: list[str] = Field(
        default_factory=lambda: ["closedlost"], description="Deal stages that mean lost"
    )
    currency: str = Field(
        "USD", pattern=r"^[A-Z]{3}$", description="Currency of deals without deal_currency_code"
    )


class Secrets(ProviderConfig):
    access_token: str = Field(min_length=1, description="A private app's access token (pat-…)")


def _category(response: httpx.Response) -> str:
    body = json_body(response)
    code = error_code(body.get("category")) or error_code(body.get("errorType"))
    return f"{status_line(response)} {code}" if code else status_line(response)


def _epoch_ms(value: Any) -> int | None:
    if value is None:
        return None
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


class HubSpot:
    def __init__(self, settings: Settings, secrets: Secrets, options: ChannelOptions) -> None:
        self.settings = settings
        self.client = make_client(options, base_url=settings.base_url)
        self.client.headers["authorization"] = f"Bearer {secrets.access_token}"

    def close(self) -> None:
        self.client.close()

    # --- push -------------------------------------------------------------------------

    def _id_value(self, push: ContactPush) -> str | None:  # the contact's id property value
        value = push.properties.get(self.settings.id_property)
        if value in (None, "") and self.settings.id_property == "email":
            value = push.email
        return None if value in (None, "") else str(value)

    def upsert(self, batch: Sequence[ContactPush]) -> list[PushResult]:
        sendable: list[tuple[Push, str]] = []
        for push in batch:
            value = self._id_value(push)
            if value is not None:
                sendable.append((push, value))
        out = self._upsert_all("contacts", self.settings.id_property, batch, sendable, "contact")
        self._associate(batch, out)
        return [out[p.contact_id] for p in batch]

    def upsert_accounts(self, batch: Sequence[AccountPush]) -> list[PushResult]:
        """Companies, upserted on ``company_id_property`` (a unique property of the portal)
        holding the Kairos account id."""
        sendable: list[tuple[Push, str]] = [(p, str(p.account_id)) for p in batch]
        out = self._upsert_all("companies", self.settings.company_id_property, batch, sendable, "company")
        return [out[p.account_id] for p in batch]

    def _upsert_all(
        self, objects: str, prop: str, batch: Sequence[Push], sendable: list[tuple[Push, str]], what: str
    ) -> dict[int, PushResult]:
        out = {p.record_id: failed(p, f"no {prop} to match the {what} on") for p in batch}
        for start in range(0, len(sendable), BATCH):
            part = sendable[start : start + BATCH]
            for result in self._upsert(objects, prop, part, split=len(part) > 1):
                out[result.contact_id] = result
        return out

    def _upsert(
        self, objects: str, prop: str, part: list[tuple[Push, str]], *, split: bool
    ) -> list[PushResult]:
        body = {
            "inputs": [
                {"idProperty": prop, "id": value, "properties": {**push.properties, prop: value}}
                for push, value in part
            ]
        }
        pushes = [p for p, _ in part]
        try:
            response = self.client.post(f"/crm/v3/objects/{objects}/batch/upsert", json=body)
        except (httpx.HTTPError, TargetNotAllowed) as exc:
            return as_retry(pushes, transport_error(exc))
        error = _category(response)
        if response.status_code in (200, 201, 207):
            return self._read_results(prop, part, json_body(response))
        later = transient(response, error)
        if later is not None:
            return as_retry(pushes, later)
        if split and response.status_code == 400:
            # one bad input fails the whole batch: find it by sending each alone
            return [r for item in part for r in self._upsert(objects, prop, [item], split=False)]
        return [failed(p, error) for p in pushes]

    def _read_results(
        self, prop: str, part: list[tuple[Push, str]], body: dict[str, Any]
    ) -> list[PushResult]:
        by_value = {value.lower(): push for push, value in part}
        found: dict[int, PushResult] = {}
        for item in body.get("results") or []:
            if not isinstance(item, dict):
                continue
            value = str((item.get("properties") or {}).get(prop) or "").lower()
            push = by_value.get(value)
            if push is not None and item.get("id") is not None:
                found[push.record_id] = PushResult(push.record_id, "synced", crm_id=str(item["id"]))
        for err in body.get("errors") or []:
            if not isinstance(err, dict):
                continue
            code = error_code(err.get("category")) or "error"
            context = err.get("context") or {}
            for value in (context.get("ids") or context.get("id") or []) if isinstance(context, dict) else []:
                push = by_value.get(str(value).lower())
                if push is not None and push.record_id not in found:
                    found[push.record_id] = failed(push, f"HubSpot {code}")
        return [
            found.get(push.record_id)
            or PushResult(push.record_id, "retry", crm_id=push.crm_id, error="not in HubSpot's answer")
            for push, _ in part
        ]

    def _associate(self, batch: Sequence[ContactPush], out: dict[int, PushResult]) -> None:
        """Associate the contacts just upserted with their accounts' companies (those synced):
        ``POST /crm/v4/associations/contacts/companies/batch/associate/default``, the unlabeled
        contact→company association, which HubSpot keeps once however often it is created.
        A transient failure makes the contact a retry (the upsert is repeated, harmless); a
        refused association leaves the contact synced, the error in its log entry."""
        pairs: list[tuple[int, str, str]] = []
        for push in batch:
            result = out[push.contact_id]
            if result.status == "synced" and result.crm_id:
                pairs += [(push.contact_id, result.crm_id, a.crm_id) for a in push.accounts if a.crm_id]
        for start in range(0, len(pairs), BATCH):
            part = pairs[start : start + BATCH]
            inputs = [{"from": {"id": contact}, "to": {"id": company}} for _, contact, company in part]
            path = "/crm/v4/associations/contacts/companies/batch/associate/default"
            try:
                response = self.client.post(path, json={"inputs": inputs})
            except (httpx.HTTPError, TargetNotAllowed) as exc:
                later: CrmError | None = transport_error(exc)
                response = None
            if response is not None:
                if response.status_code in (200, 201, 207):
                    self._association_errors(part, json_body(response), out)
                    continue
                later = transient(response, _category(response))
            for contact_id, _, _ in part:
                result = out[contact_id]
                if later is not None:
                    error = short(f"association: {later.reason}")
                    out[contact_id] = PushResult(
                        contact_id, "retry", crm_id=result.crm_id, error=error,
                        retry_after=later.retry_after, outage=later.outage,
                    )  # fmt: skip
                else:
                    assert response is not None
                    result.error = short(f"association refused: {_category(response)}")

    def _association_errors(
        self, part: list[tuple[int, str, str]], body: dict[str, Any], out: dict[int, PushResult]
    ) -> None:
        by_crm_id = {crm_id: contact_id for contact_id, crm_id, _ in part}
        for err in body.get("errors") or []:
            if not isinstance(err, dict):
                continue
            code = error_code(err.get("category")) or "error"
            context = err.get("context") or {}
            ids = (
                (context.get("fromObjectId") or context.get("ids") or []) if isinstance(context, dict) else []
            )
            for value in ids:
                contact_id = by_crm_id.get(str(value))
                if contact_id is not None:
                    out[contact_id].error = short(f"association refused: HubSpot {code}")

    # --- deals ------------------------------------------------------------------------

    def deal_changes(self, cursor: str | None, since: datetime) -> DealPage:
        mark = int(cursor) if cursor and cursor.isdigit() else int(since.timestamp() * 1000)
        newest = mark
        deals: dict[str, dict[str, Any]] = {}
        after: str | None = None
        for _ in range(MAX_PAGES):
            body: dict[str, Any] = {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(mark)}
                        ]
                    }
                ],
                "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
                "properties": DEAL_PROPERTIES,
                "limit": 100,
            }
            if after:
                body["after"] = after
            page = self._post("/crm/v3/objects/deals/search", body)
            for item in page.get("results") or []:
                if isinstance(item, dict) and item.get("id") is not None:
                    deals[str(item["id"])] = item.get("properties") or {}
                    newest = max(
                        newest, _epoch_ms((item.get("properties") or {}).get("hs_lastmodifieddate")) or 0
                    )
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                break
        if not deals:
            return DealPage([], str(newest))
        contacts = self._deal_contacts(list(deals))
        changes = []
        for deal_id, props in deals.items():
            stage = str(props.get("dealstage") or "")
            if not stage:
                continue
            changes.append(
                DealChange(
                    deal_id=deal_id,
                    stage=stage,
                    name=props.get("dealname"),
                    amount=_number(props.get("amount")),
                    currency=props.get("deal_currency_code") or self.settings.currency,
                    won=stage in self.settings.won_stages,
                    lost=stage in self.settings.lost_stages,
                    contact_crm_ids=contacts.get(deal_id, []),
                )
            )
        return DealPage(changes, str(newest))

    def _deal_contacts(self, deal_ids: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for start in range(0, len(deal_ids), BATCH):
            inputs = [{"id": d} for d in deal_ids[start : start + BATCH]]
            body = self._post("/crm/v4/associations/deals/contacts/batch/read", {"inputs": inputs})
            for item in body.get("results") or []:
                if not isinstance(item, dict):
                    continue
                deal = str((item.get("from") or {}).get("id"))
                out[deal] = [str(t.get("toObjectId")) for t in item.get("to") or [] if isinstance(t, dict)]
        return out

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.client.post(path, json=body)
        except (httpx.HTTPError, TargetNotAllowed) as exc:
            raise transport_error(exc) from None
        if response.status_code in (200, 207):
            return json_body(response)
        error = _category(response)
        raise transient(response, error) or CrmError(error)

    def verify(self) -> None:
        """Read one contact: the token is valid and has the contacts scope."""
        try:
            response = self.client.get("/crm/v3/objects/contacts", params={"limit": 1})
        except (httpx.HTTPError, TargetNotAllowed) as exc:
            raise InvalidInput(f"HubSpot: {transport_error(exc).reason}", code="crm_unreachable") from None
        if response.status_code != 200:
            raise InvalidInput(f"HubSpot answered {_category(response)}", code="crm_unreachable")


def check_targets(settings: Settings, secrets: Secrets, allow_private: bool) -> None:
    check_url(settings.base_url, allow_private=allow_private)


PROVIDER = register(
    CrmProvider(
        name="hubspot",
        settings_model=Settings,
        secrets_model=Secrets,
        factory=HubSpot,
        description="HubSpot CRM: contacts upserted by email, deal stages read back",
        default_mapping=(
            ("email", "email"),
            ("first_name", "firstname"),
            ("last_name", "lastname"),
            ("phone", "phone"),
        ),
        default_account_mapping=(("name", "name"), ("domain", "domain")),
        check_targets=check_targets,
        batch_size=BATCH,
    )
)
