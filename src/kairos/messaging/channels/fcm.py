"""Push notifications through Firebase Cloud Messaging's HTTP v1 API.

One ``POST /v1/projects/{project_id}/messages:send`` per message (``{"message": {"token",
"notification", "data", "android"?, "apns"?, "webpush"?}}``), answered 200 with the
message's ``name`` (our ``provider_id``) or a Google API error whose ``details`` carry an
``FcmError`` code such as ``UNREGISTERED``.
See https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send and
https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode.

Requests carry an OAuth 2.0 access token obtained with a Google service account through
the JWT bearer flow (RFC 7523): an RS256-signed assertion is exchanged at the account's
``token_uri`` (https://developers.google.com/identity/protocols/oauth2/service-account#httprest).
The token is cached until shortly before it expires and shared by the channel's threads.

Content: ``{"title", "body", "image"?, "data": {str: any}, "android"?, "apns"?, "webpush"?}``;
data values that are not strings are sent as their JSON text (FCM only takes strings).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Annotated, Any

import httpx
import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from kairos.messaging.channels.base import (
    ChannelOptions,
    Outgoing,
    Provider,
    ProviderConfig,
    SendResult,
    register,
)
from kairos.messaging.channels.http import (
    BaseUrl,
    ContentError,
    HttpChannel,
    HttpUrl,
    Outage,
    bounced,
    classify,
    describe_transport_error,
    error_code,
    failed,
    json_body,
    make_client,
    parse_retry_after,
    sent,
    status_line,
)
from kairos.messaging.ssrf import check_url

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # the longest Google accepts
#: Refresh this long before expiry so no request carries a token that lapses in flight.
EXPIRY_MARGIN = 300.0
#: Data keys FCM rejects (https://firebase.google.com/docs/cloud-messaging/concept-options).
RESERVED_DATA_KEYS = frozenset({"from", "notification", "message_type"})


def _load_rsa_key(pem: str) -> RSAPrivateKey:
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError("private_key is not an unencrypted PEM private key") from exc
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("private_key must be an RSA key")
    return key


def _check_pem(pem: str) -> str:
    _load_rsa_key(pem)
    return pem


class ServiceAccount(BaseModel):
    """The fields of a Google service-account key file this adapter needs; others are dropped."""

    model_config = ConfigDict(extra="ignore")

    client_email: str = Field(min_length=3, description="The service account's email")
    private_key: Annotated[str, AfterValidator(_check_pem)] = Field(description="Its PEM private key")
    private_key_id: str | None = Field(None, description="The key's id")
    token_uri: HttpUrl = Field(description="Google's OAuth token endpoint, as in the key file")


class Settings(ProviderConfig):
    project_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9.:_-]{0,99}$",
        description="The Firebase project id",
        examples=["my-app-1234"],
    )
    base_url: BaseUrl = Field(
        "https://fcm.googleapis.com",
        description="The FCM API (change it only for an egress gateway or a test double)",
    )


class Secrets(ProviderConfig):
    service_account: ServiceAccount = Field(description="The service-account key file (object or JSON text)")

    @field_validator("service_account", mode="before")
    @classmethod
    def _parse_json(cls, value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str | bytes) else value


def _fcm_error_code(body: dict[str, Any]) -> str | None:
    error = body.get("error")
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and isinstance(detail.get("errorCode"), str):
            return str(detail["errorCode"])
    return None


def build_message(msg: Outgoing) -> dict[str, Any]:
    content = msg.content
    if not msg.to:
        raise ContentError("no registration token")
    message: dict[str, Any] = {"token": msg.to}
    notification = {
        k: str(content[k]) for k in ("title", "body", "image") if content.get(k) not in (None, "")
    }
    if notification:
        message["notification"] = notification
    raw_data = content.get("data") or {}
    if not isinstance(raw_data, dict):
        raise ContentError("'data' must be an object")
    data: dict[str, str] = {}
    for key, value in raw_data.items():
        name = str(key)
        if name in RESERVED_DATA_KEYS or name.lower().startswith(("google", "gcm")):
            raise ContentError(f"data key {name!r} is reserved by FCM")
        data[name] = value if isinstance(value, str) else orjson.dumps(value).decode()
    if data:
        message["data"] = data
    if not notification and not data:
        raise ContentError("a push needs a title, a body or data")
    for platform in ("android", "apns", "webpush"):
        if content.get(platform) is not None:
            if not isinstance(content[platform], dict):
                raise ContentError(f"{platform!r} must be an object")
            message[platform] = content[platform]
    return {"message": message}


class FcmChannel(HttpChannel):
    def __init__(self, settings: Settings, secrets: Secrets, options: ChannelOptions) -> None:
        super().__init__(make_client(options))
        self.account = secrets.service_account
        self.url = f"{settings.base_url}/v1/projects/{settings.project_id}/messages:send"
        self._key = _load_rsa_key(self.account.private_key)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.now: Callable[[], float] = time.time  # the wall clock JWTs are checked against

    def access_token(self, stale: str | None = None) -> str:
        """The cached token, fetched when missing, about to expire, or equal to ``stale``
        (the one FCM just refused) — a token another thread already replaced is reused."""
        with self._lock:
            if self._token is None or self._token == stale or self.now() >= self._expires_at:
                self._token, self._expires_at = self._fetch_token()
            return self._token

    def _fetch_token(self) -> tuple[str, float]:
        issued = int(self.now())
        claims = {
            "iss": self.account.client_email,
            "scope": SCOPE,
            "aud": self.account.token_uri,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME,
        }
        headers = {"kid": self.account.private_key_id} if self.account.private_key_id else None
        assertion = jwt.encode(claims, self._key, algorithm="RS256", headers=headers)
        try:
            response = self.client.post(
                self.account.token_uri, data={"grant_type": JWT_BEARER, "assertion": assertion}
            )
        except httpx.HTTPError as exc:
            raise Outage(f"token endpoint unreachable: {describe_transport_error(exc)}") from exc
        body = json_body(response)
        token = body.get("access_token")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            # the OAuth error code ("invalid_grant"), not its free-text description
            reason = status_line(response)
            if error_code(body.get("error")) is not None:
                reason += f": {error_code(body.get('error'))}"
            delay = parse_retry_after(response.headers.get("retry-after"), time.time())
            raise Outage(f"access token refused: {reason}", delay)
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else float(ASSERTION_LIFETIME)
        return token, self.now() + lifetime - min(EXPIRY_MARGIN, lifetime / 2)

    def _post(self, payload: bytes, token: str) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        return self.client.post(self.url, content=payload, headers=headers)

    def send_one(self, msg: Outgoing) -> SendResult:
        payload = orjson.dumps(build_message(msg))
        token = self.access_token()
        response = self._post(payload, token)
        if response.status_code == 401 and _fcm_error_code(json_body(response)) != "THIRD_PARTY_AUTH_ERROR":
            # revoked or expired early: one fresh token, then a 401 is an outage
            response = self._post(payload, self.access_token(stale=token))
        body = json_body(response)
        if response.status_code == 200 and isinstance(body.get("name"), str):
            return sent(msg, body["name"])
        raw_error = body.get("error")
        error_obj: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
        code = error_code(_fcm_error_code(body) or error_obj.get("status")) or ""
        # the status and FCM's documented error code; the message text is not kept
        error = status_line(response) + (f": {code}" if code else "")
        if code == "UNREGISTERED":
            return bounced(msg, error)
        if code == "SENDER_ID_MISMATCH":
            # a 403, but about this token (another Firebase project's), not our credentials;
            # not a bounce: a wrong project_id would otherwise suppress every device
            return failed(msg, error)
        return classify(msg, response, error)


def check_targets(settings: Settings, secrets: Secrets, allow_private: bool) -> None:
    check_url(settings.base_url, allow_private=allow_private)
    check_url(secrets.service_account.token_uri, allow_private=allow_private)


PROVIDER = register(
    Provider(
        name="fcm",
        kind="push",
        settings_model=Settings,
        secrets_model=Secrets,
        factory=FcmChannel,  # (settings, secrets, options)
        description="Push notifications through Firebase Cloud Messaging (HTTP v1)",
        check_targets=check_targets,
    )
)
