"""Salesforce REST API (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta).

- Auth: OAuth 2.0 against ``login_url`` (``/services/oauth2/token``): the client
  credentials flow (a connected app with a run-as user; ``login_url`` is then your My Domain
  URL) or the refresh-token flow (``refresh_token`` secret). The answer's ``access_token``
  and ``instance_url`` are kept for the connection's life; a 401 ``INVALID_SESSION_ID``
  fetches a new token once and repeats the call.
- Push: an upsert per contact on an external id field, ``PATCH /services/data/v{version}/
  sobjects/{sobject}/{external_id_field}/{Kairos contact id}`` with the mapped fields
  (``Lead`` by default, which needs ``LastName`` and ``Company``: map them). Answers: 201
  created, 200 or 204 updated; 400 ``[{"errorCode": "REQUIRED_FIELD_MISSING", …}]`` is a
  permanent failure of that contact.
- Accounts: ``PATCH …/sobjects/Account/{account_external_id_field}/{Kairos account id}`` with
  the mapped account fields (``Name`` is required: the account's name, else its domain),
  before the contacts. A pushed Lead gets ``Company`` = its primary account's name (the one
  joined first) unless the mapping fills ``Company``; a pushed Contact gets ``AccountId`` =
  that account's Salesforce id once the account is synced.
- Deals: opportunities of converted leads, by SOQL through ``GET …/query``: the leads whose
  ``ConvertedOpportunity.LastModifiedDate`` is at or after the cursor, with the
  opportunity's ``StageName``, ``Amount``, ``IsWon`` and ``IsClosed`` and the lead's
  external id (our contact id). ``nextRecordsUrl`` pages are followed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

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
from kairos.crm.adapters.http import as_retry, failed, transient, transport_error
from kairos.errors import InvalidInput
from kairos.messaging.channels.base import ChannelOptions, ProviderConfig
from kairos.messaging.channels.http import BaseUrl, error_code, json_body, make_client, short, status_line
from kairos.messaging.ssrf import TargetNotAllowed, check_url

MAX_PAGES = 5
NAME = r"^[A-Za-z][A-Za-z0-9_]{0,79}$"  # an API name: Lead, External_Id__c


class Settings(ProviderConfig):
    login_url: BaseUrl = Field(
        "https://login.salesforce.com",
        description="OAuth server: login.salesforce.com, test.salesforce.com or your My Domain URL "
        "(required for the client credentials flow)",
    )
    auth_flow: Literal["client_credentials", "refresh_token"] = Field(
        "client_credentials", description="OAuth 2.0 flow used to get an access token"
    )
    api_version: str = Field("60.0", pattern=r"^[0-9]{2}\.0$", description="REST API version")
    sobject: str = Field("Lead", pattern=NAME, description="Object contacts are upserted as")
    external_id_field: str = Field(
        "External_Id__c", pattern=NAME, description="External id field holding the Kairos contact id"
    )
    account_external_id_field: str = Field(
        "External_Id__c", pattern=NAME, description="External id field of Account: the Kairos account id"
    )
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="Currency of opportunity amounts")


class Secrets(ProviderConfig):
    client_id: str = Field(min_length=1, description="Connected app consumer key")
    client_secret: str = Field(min_length=1, description="Connected app consumer secret")
    refresh_token: str | None = Field(None, description="For the refresh-token flow")


def _errors(response: httpx.Response) -> str:
    """``HTTP 400 Bad Request REQUIRED_FIELD_MISSING``: Salesforce answers errors as a list
    of ``{"errorCode", "message", "fields"}``."""
    try:
        body = response.json()
    except ValueError:
        body = None
    codes: list[str] = []
    if isinstance(body, list):
        codes = [c for item in body if isinstance(item, dict) and (c := error_code(item.get("errorCode")))]
    elif isinstance(body, dict):  # OAuth: {"error": "invalid_grant", "error_description": …}
        code = error_code(body.get("error"))
        codes = [code] if code else []
    line = status_line(response)
    return f"{line} {' '.join(codes[:3])}" if codes else line


class Salesforce:
    def __init__(self, settings: Settings, secrets: Secrets, options: ChannelOptions) -> None:
        self.settings = settings
        self.secrets = secrets
        self.client = make_client(options)
        self._token: tuple[str, str] | None = None  # (access token, instance URL)

    def close(self) -> None:
        self.client.close()

    # --- auth -------------------------------------------------------------------------

    def _login(self) -> tuple[str, str]:
        form = {"grant_type": self.settings.auth_flow, "client_id": self.secrets.client_id,
                "client_secret": self.secrets.client_secret}  # fmt: skip
        if self.settings.auth_flow == "refresh_token":
            if not self.secrets.refresh_token:
                raise CrmError("the refresh-token flow needs a refresh_token secret", outage=True)
            form["refresh_token"] = self.secrets.refresh_token
        try:
            response = self.client.post(self.settings.login_url + "/services/oauth2/token", data=form)
        except (httpx.HTTPError, TargetNotAllowed) as exc:
            raise transport_error(exc) from None
        if response.status_code != 200:
            later = transient(response, _errors(response))
            if later is not None and not later.outage:
                raise later
            raise CrmError(f"OAuth refused: {_errors(response)}", outage=True)
        body = json_body(response)
        token, instance = body.get("access_token"), body.get("instance_url")
        if not isinstance(token, str) or not isinstance(instance, str) or not instance.startswith("http"):
            raise CrmError("OAuth answer without access_token and instance_url", outage=True)
        self._token = (token, instance.rstrip("/"))
        return self._token

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """A call on the instance with the access token, logging in again once on 401."""
        for attempt in (0, 1):
            token, instance = self._token or self._login()
            url = path if path.startswith("http") else instance + path
            try:
                response = self.client.request(
                    method, url, headers={"authorization": f"Bearer {token}"}, **kw
                )
            except (httpx.HTTPError, TargetNotAllowed) as exc:
                raise transport_error(exc) from None
            if response.status_code == 401 and attempt == 0:
                self._token = None  # the session expired: a new token, then once more
                continue
            return response
        raise AssertionError("unreachable")

    def _base(self) -> str:
        return f"/services/data/v{self.settings.api_version}"

    # --- push -------------------------------------------------------------------------

    def upsert(self, batch: Sequence[ContactPush]) -> list[PushResult]:
        out: list[PushResult] = []
        for index, push in enumerate(batch):
            try:
                out.append(self._upsert_one(push))
            except CrmError as exc:
                if exc.outage:  # the rest would go the same way: not attempted
                    return out + as_retry(batch[index:], exc)
                out += as_retry([push], exc)
        return out

    def upsert_accounts(self, batch: Sequence[AccountPush]) -> list[PushResult]:
        out: list[PushResult] = []
        for index, push in enumerate(batch):
            properties = dict(push.properties)
            if not properties.get("Name"):
                name = push.account.get("name") or push.account.get("domain")
                if not name:
                    out.append(failed(push, "the account has no name (Salesforce requires Name)"))
                    continue
                properties["Name"] = name
            try:
                field = self.settings.account_external_id_field
                out.append(self._upsert_one(push, "Account", field, properties))
            except CrmError as exc:
                if exc.outage:
                    return out + as_retry(batch[index:], exc)
                out += as_retry([push], exc)
        return out

    def _contact_fields(self, push: ContactPush) -> dict[str, Any]:
        """The mapped fields, and the primary account: a Lead's ``Company`` (its name), a
        Contact's ``AccountId`` (once synced). A mapped value wins."""
        fields = dict(push.properties)
        primary = push.accounts[0] if push.accounts else None
        if primary is not None:
            if self.settings.sobject == "Lead" and not fields.get("Company") and primary.name:
                fields["Company"] = primary.name
            if self.settings.sobject == "Contact" and not fields.get("AccountId") and primary.crm_id:
                fields["AccountId"] = primary.crm_id
        return fields

    def _upsert_one(
        self, push: ContactPush | AccountPush, sobject: str | None = None, field: str | None = None,
        properties: dict[str, Any] | None = None,
    ) -> PushResult:  # fmt: skip
        s = self.settings
        if isinstance(push, ContactPush):
            sobject, field, properties = s.sobject, s.external_id_field, self._contact_fields(push)
        ext = quote(str(push.record_id), safe="")
        path = f"{self._base()}/sobjects/{sobject}/{field}/{ext}"
        response = self._request("PATCH", path, json=properties)
        status = response.status_code
        if status in (200, 201):
            crm_id = json_body(response).get("id")
            return PushResult(push.record_id, "synced", crm_id=str(crm_id) if crm_id else push.crm_id)
        if status == 204:
            return PushResult(push.record_id, "synced", crm_id=push.crm_id)
        error = _errors(response)
        if status == 403 and "REQUEST_LIMIT_EXCEEDED" in error:
            raise CrmError(error, retry_after=3600.0, outage=True)
        later = transient(response, error)
        if later is not None:
            raise later
        return failed(push, error)

    # --- deals ------------------------------------------------------------------------

    def deal_changes(self, cursor: str | None, since: datetime) -> DealPage:
        mark = cursor or since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        field = self.settings.external_id_field
        soql = (
            f"SELECT Id, {field}, ConvertedOpportunityId, ConvertedOpportunity.Name, "
            "ConvertedOpportunity.StageName, ConvertedOpportunity.Amount, ConvertedOpportunity.IsWon, "
            "ConvertedOpportunity.IsClosed, ConvertedOpportunity.LastModifiedDate "
            f"FROM {self.settings.sobject} WHERE IsConverted = true "
            f"AND ConvertedOpportunity.LastModifiedDate >= {mark} "
            "ORDER BY ConvertedOpportunity.LastModifiedDate ASC"
        )
        newest = mark
        changes: list[DealChange] = []
        url: str | None = f"{self._base()}/query?q={quote(soql)}"
        pages = 0
        while url and pages < MAX_PAGES:
            response = self._request("GET", url)
            if response.status_code != 200:
                error = _errors(response)
                raise transient(response, error) or CrmError(error)
            body = json_body(response)
            for record in body.get("records") or []:
                change = self._deal(record)
                if change is not None:
                    changes.append(change)
                    modified = _soql_time((record.get("ConvertedOpportunity") or {}).get("LastModifiedDate"))
                    newest = max(newest, modified or newest)
            url = body.get("nextRecordsUrl") if not body.get("done", True) else None
            pages += 1
        return DealPage(changes, newest)

    def _deal(self, record: Any) -> DealChange | None:
        if not isinstance(record, dict):
            return None
        opp = record.get("ConvertedOpportunity")
        if not isinstance(opp, dict) or not record.get("ConvertedOpportunityId") or not opp.get("StageName"):
            return None
        ext = str(record.get(self.settings.external_id_field) or "")
        amount = opp.get("Amount")
        return DealChange(
            deal_id=str(record["ConvertedOpportunityId"]),
            stage=str(opp["StageName"]),
            name=opp.get("Name"),
            amount=float(amount) if isinstance(amount, int | float) else None,
            currency=self.settings.currency,
            won=bool(opp.get("IsWon")),
            lost=bool(opp.get("IsClosed")) and not opp.get("IsWon"),
            contact_crm_ids=[str(record["Id"])] if record.get("Id") else [],
            contact_ids=[int(ext)] if ext.isdigit() else [],
        )

    def verify(self) -> None:
        """Log in and describe the object: credentials, instance and object all work."""
        try:
            response = self._request("GET", f"{self._base()}/sobjects/{self.settings.sobject}/describe")
        except CrmError as exc:
            raise InvalidInput(f"Salesforce: {short(exc.reason)}", code="crm_unreachable") from None
        if response.status_code != 200:
            raise InvalidInput(f"Salesforce answered {_errors(response)}", code="crm_unreachable")


def _soql_time(value: Any) -> str | None:
    """``2026-03-02T12:00:00.000+0000`` → ``2026-03-02T12:00:00Z`` (a SOQL datetime literal)."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_targets(settings: Settings, secrets: Secrets, allow_private: bool) -> None:
    check_url(settings.login_url, allow_private=allow_private)


PROVIDER = register(
    CrmProvider(
        name="salesforce",
        settings_model=Settings,
        secrets_model=Secrets,
        factory=Salesforce,
        description="Salesforce: leads upserted on an external id field, converted opportunities read back",
        default_mapping=(
            ("email", "Email"),
            ("first_name", "FirstName"),
            ("last_name", "LastName"),
            ("phone", "Phone"),
        ),
        default_account_mapping=(("name", "Name"), ("domain", "Website"), ("traits.industry", "Industry")),
        check_targets=check_targets,
        batch_size=25,
    )
)
