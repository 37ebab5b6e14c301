"""Local servers speaking HubSpot's and Salesforce's REST APIs closely enough for the
adapters' production code: the same paths, auth headers, request and answer shapes, error
bodies, and 429 with ``Retry-After``. Real HTTP on 127.0.0.1 (the tests allow private
targets); each fake records every request and has knobs for failures (``replies``: canned
answers served first)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from tests.messaging.fake_providers import FakeServer, Reply, Request, json_reply


class _Fake(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        handler = self.server.RequestHandlerClass
        handler.do_PATCH = handler.do_GET  # type: ignore[attr-defined]
        self.replies: list[Reply] = []  # served first, one per request (after auth)
        self._ids = itertools.count(1001)

    def canned(self) -> Reply | None:
        with self.lock:
            return self.replies.pop(0) if self.replies else None


class HubSpotFake(_Fake):
    """CRM v3 contacts and companies batch upsert, deal search, v4 deal→contact associations
    read and contact→company default associations created."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.contacts: dict[str, dict[str, Any]] = {}  # id property value (lower) → {"id", "properties"}
        self.companies: dict[str, dict[str, Any]] = {}  # id property value → {"id", "properties"}
        #: company properties created with unique values (the only ones an upsert may match on)
        self.unique_company_properties = {"kairos_account_id"}
        self.associations: set[tuple[str, str]] = set()  # (contact id, company id)
        #: canned answers for one path only, served before ``replies``
        self.path_replies: dict[str, list[Reply]] = {}
        #: deal id → {"properties": {...}, "contacts": [contact ids]}
        self.deals: dict[str, dict[str, Any]] = {}

    def add_deal(self, deal_id: str, stage: str, contact_ids: list[str], amount: str = "1200",
                 currency: str = "EUR", modified: datetime | None = None) -> None:  # fmt: skip
        when = (modified or datetime(2026, 3, 2, 13, 0, tzinfo=UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self.deals[deal_id] = {
            "properties": {"dealname": f"Deal {deal_id}", "dealstage": stage, "amount": amount,
                           "deal_currency_code": currency, "hs_lastmodifieddate": when, "pipeline": "default"},
            "contacts": contact_ids,
        }  # fmt: skip

    def handle(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return json_reply(401, {"status": "error", "message": "Authentication credentials not found.",
                                    "correlationId": "c0", "category": "INVALID_AUTHENTICATION"})  # fmt: skip
        with self.lock:
            queue = self.path_replies.get(request.path)
            if queue:
                return queue.pop(0)
        canned = self.canned()
        if canned is not None:
            return canned
        if request.method == "POST" and request.path == "/crm/v3/objects/contacts/batch/upsert":
            return self._upsert(request.json())
        if request.method == "POST" and request.path == "/crm/v3/objects/companies/batch/upsert":
            return self._upsert_companies(request.json())
        if request.method == "POST" and request.path == "/crm/v4/associations/contacts/companies/batch/associate/default":
            return self._associate(request.json())
        if request.method == "GET" and request.path == "/crm/v3/objects/contacts":
            return json_reply(200, {"results": []})
        if request.method == "POST" and request.path == "/crm/v3/objects/deals/search":
            return self._search(request.json())
        if request.method == "POST" and request.path == "/crm/v4/associations/deals/contacts/batch/read":
            return self._associations(request.json())
        return json_reply(404, {"status": "error", "message": "not found", "category": "OBJECT_NOT_FOUND"})

    def _upsert(self, body: dict[str, Any]) -> Reply:
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not 1 <= len(inputs) <= 100:
            return json_reply(400, {"status": "error", "message": "inputs", "category": "VALIDATION_ERROR"})
        for item in inputs:
            if not item.get("idProperty") or not item.get("id"):
                return json_reply(
                    400, {"status": "error", "message": "idProperty", "category": "VALIDATION_ERROR"}
                )
            email = item.get("properties", {}).get("email")
            if email is not None and "@" not in str(email):  # one bad input fails the batch
                return json_reply(400, {"status": "error", "message": f"Property values were not valid: {email}",
                                        "category": "VALIDATION_ERROR"})  # fmt: skip
        results = []
        for item in inputs:
            key = str(item["id"]).lower()
            known = self.contacts.get(key)
            if known is None:
                known = self.contacts[key] = {"id": str(next(self._ids)), "properties": {}}
            known["properties"].update(item.get("properties") or {})
            results.append({"id": known["id"], "properties": {item["idProperty"]: item["id"], **known["properties"]},
                            "new": len(known["properties"]) == len(item.get("properties") or {}),
                            "createdAt": "2026-03-02T12:00:00.000Z", "updatedAt": "2026-03-02T12:00:00.000Z"})  # fmt: skip
        return json_reply(200, {"status": "COMPLETE", "results": results,
                                "startedAt": "2026-03-02T12:00:00.000Z", "completedAt": "2026-03-02T12:00:00.001Z"})  # fmt: skip

    def _upsert_companies(self, body: dict[str, Any]) -> Reply:
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not 1 <= len(inputs) <= 100:
            return json_reply(400, {"status": "error", "message": "inputs", "category": "VALIDATION_ERROR"})
        for item in inputs:
            if item.get("idProperty") not in self.unique_company_properties or not item.get("id"):
                return json_reply(400, {"status": "error", "category": "VALIDATION_ERROR",
                                        "message": f"{item.get('idProperty')} is not a unique property"})  # fmt: skip
        results = []
        for item in inputs:
            key = str(item["id"])
            known = self.companies.get(key)
            if known is None:
                known = self.companies[key] = {"id": str(next(self._ids) + 8_000_000), "properties": {}}
            known["properties"].update(item.get("properties") or {})
            results.append({"id": known["id"], "properties": {item["idProperty"]: item["id"], **known["properties"]},
                            "createdAt": "2026-03-02T12:00:00.000Z", "updatedAt": "2026-03-02T12:00:00.000Z"})  # fmt: skip
        return json_reply(200, {"status": "COMPLETE", "results": results,
                                "startedAt": "2026-03-02T12:00:00.000Z", "completedAt": "2026-03-02T12:00:00.001Z"})  # fmt: skip

    def _associate(self, body: dict[str, Any]) -> Reply:
        contact_ids = {c["id"] for c in self.contacts.values()}
        company_ids = {c["id"] for c in self.companies.values()}
        results, missing = [], []
        for item in body["inputs"]:
            src, dst = str(item["from"]["id"]), str(item["to"]["id"])
            if src not in contact_ids or dst not in company_ids:
                missing.append(src)
                continue
            self.associations.add((src, dst))
            results.append({"from": {"id": src}, "to": {"id": dst},
                            "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}})  # fmt: skip
        answer: dict[str, Any] = {"status": "COMPLETE", "results": results,
                                  "startedAt": "2026-03-02T12:00:00.000Z", "completedAt": "2026-03-02T12:00:00.001Z"}  # fmt: skip
        if missing:
            answer["numErrors"] = len(missing)
            answer["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "No object found",
                                 "context": {"fromObjectId": missing}}]  # fmt: skip
            return json_reply(207, answer)
        return json_reply(200, answer)

    def _search(self, body: dict[str, Any]) -> Reply:
        (flt,) = body["filterGroups"][0]["filters"]
        assert flt["propertyName"] == "hs_lastmodifieddate" and flt["operator"] == "GTE"
        since = int(flt["value"])
        found = []
        for deal_id, deal in self.deals.items():
            ms = int(datetime.fromisoformat(deal["properties"]["hs_lastmodifieddate"].replace("Z", "+00:00"))
                     .timestamp() * 1000)  # fmt: skip
            if ms >= since:
                found.append((ms, {"id": deal_id, "properties": {p: deal["properties"].get(p) for p in body["properties"]},
                                   "archived": False}))  # fmt: skip
        found.sort(key=lambda x: x[0])
        return json_reply(200, {"total": len(found), "results": [d for _, d in found]})

    def _associations(self, body: dict[str, Any]) -> Reply:
        results = [
            {"from": {"id": item["id"]},
             "to": [{"toObjectId": int(c), "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3}]}
                    for c in self.deals.get(item["id"], {}).get("contacts", [])]}
            for item in body["inputs"]
        ]  # fmt: skip
        return json_reply(200, {"status": "COMPLETE", "results": results})


class SalesforceFake(_Fake):
    """OAuth 2.0 token endpoint (client credentials, refresh token), sObject upsert on an
    external id field, SOQL query of converted leads' opportunities."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        super().__init__()
        self.client_id, self.client_secret = client_id, client_secret
        self.tokens: set[str] = set()
        self.leads: dict[str, dict[str, Any]] = {}  # external id → fields, with "Id"
        self.contacts: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.opportunities: list[dict[str, Any]] = []  # {"lead": ext id, "Id", "StageName", …}

    def expire_sessions(self) -> None:
        self.tokens.clear()

    def handle(self, request: Request) -> Reply:
        if request.path == "/services/oauth2/token":
            form = request.form()
            if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
                return json_reply(
                    400, {"error": "invalid_client", "error_description": "invalid client credentials"}
                )
            if form.get("grant_type") not in ("client_credentials", "refresh_token"):
                return json_reply(400, {"error": "unsupported_grant_type", "error_description": "grant type"})
            token = f"00D!tok{next(self._ids)}"
            self.tokens.add(token)
            return json_reply(200, {"access_token": token, "instance_url": self.url, "token_type": "Bearer",
                                    "issued_at": "1772452800000", "signature": "sig"})  # fmt: skip
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return json_reply(
                401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            )
        canned = self.canned()
        if canned is not None:
            return canned
        m = re.fullmatch(r"/services/data/v60\.0/sobjects/(Lead|Contact|Account)/External_Id__c/([^/]+)", request.path)
        if m and request.method == "PATCH":
            return self._upsert(m.group(1), unquote(m.group(2)), request.json())
        m = re.fullmatch(r"/services/data/v60\.0/sobjects/(Lead|Contact|Account)/describe", request.path)
        if m:
            return json_reply(200, {"name": m.group(1), "fields": []})
        if request.path == "/services/data/v60.0/query":
            return self._query(request.query["q"])
        return json_reply(
            404, [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
        )

    def _upsert(self, sobject: str, ext: str, fields: dict[str, Any]) -> Reply:
        store, prefix, required = {
            "Lead": (self.leads, "00Q", ("LastName", "Company")),
            "Contact": (self.contacts, "003", ("LastName",)),
            "Account": (self.accounts, "001", ("Name",)),
        }[sobject]
        lead = store.get(ext)
        merged = {**(lead or {}), **fields}
        missing = [f for f in required if not merged.get(f)]
        if missing:
            return json_reply(400, [{"message": f"Required fields are missing: {missing}",
                                     "errorCode": "REQUIRED_FIELD_MISSING", "fields": missing}])  # fmt: skip
        account_id = fields.get("AccountId")
        if account_id is not None and account_id not in {a["Id"] for a in self.accounts.values()}:
            return json_reply(400, [{"message": f"Account ID: id value of incorrect type: {account_id}",
                                     "errorCode": "MALFORMED_ID", "fields": ["AccountId"]}])  # fmt: skip
        if lead is None:
            merged["Id"] = f"{prefix}{next(self._ids):012d}"
            store[ext] = merged
            return json_reply(201, {"id": merged["Id"], "success": True, "errors": [], "created": True})
        lead.update(fields)
        return json_reply(200, {"id": lead["Id"], "success": True, "errors": [], "created": False})

    def _query(self, soql: str) -> Reply:
        m = re.search(r"ConvertedOpportunity\.LastModifiedDate >= (\S+)", soql)
        assert m and "FROM Lead" in soql and "IsConverted = true" in soql, soql
        since = datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
        records = []
        for opp in self.opportunities:
            modified = datetime.strptime(opp["LastModifiedDate"], "%Y-%m-%dT%H:%M:%S.%f%z")
            lead = self.leads.get(opp["lead"])
            if modified >= since and lead is not None:
                records.append({
                    "attributes": {"type": "Lead", "url": f"/services/data/v60.0/sobjects/Lead/{lead['Id']}"},
                    "Id": lead["Id"], "External_Id__c": opp["lead"], "ConvertedOpportunityId": opp["Id"],
                    "ConvertedOpportunity": {"attributes": {"type": "Opportunity"},
                                             **{k: v for k, v in opp.items() if k != "lead"}},
                })  # fmt: skip
        return json_reply(200, {"totalSize": len(records), "done": True, "records": records})
