"""Template messages through the WeChat Official Account (公众号) API.

An access token comes from ``GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…``
(https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html);
each message is one ``POST /cgi-bin/message/template/send?access_token=…`` with
``{"touser": openid, "template_id", "url"?, "client_msg_id", "data": {key: {"value"}}}``
(https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html).

WeChat answers HTTP 200 even for errors, with a non-zero ``errcode``
(https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html):
an invalid or expired token (40001, 40014, 42001) is refreshed once and the message
retried; 45009 (API quota) and -1 (system busy) are transient; 43004 (the user does not
follow the account) and 40003 (invalid openid) mean this openid cannot be reached.

Fetching a token with ``/cgi-bin/token`` invalidates the app's previous token after a
short grace period, so this app id must not be shared with another system that also
fetches tokens itself.

Content: ``{"template_id", "url"?, "miniprogram"?, "data": {key: value or {"value", "color"?}}}``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
from pydantic import Field

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
    Outage,
    bounced,
    classify,
    describe_transport_error,
    error_code,
    failed,
    json_body,
    make_client,
    retry,
    sent,
    status_line,
)
from kairos.messaging.ssrf import check_url

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
TRANSIENT_ERRCODES = frozenset({-1, 45009})
BOUNCE_ERRCODES = frozenset({43004, 40003})
#: Refresh this long before expiry (tokens live 7200 s) so none lapses in flight.
EXPIRY_MARGIN = 300.0


class Settings(ProviderConfig):
    app_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The Official Account's AppID (wx…)")
    base_url: BaseUrl = Field(
        "https://api.weixin.qq.com",
        description="WeChat's API (change it only for an egress gateway or a test double)",
    )


class Secrets(ProviderConfig):
    app_secret: str = Field(min_length=1, description="The Official Account's AppSecret")


def build_template(msg: Outgoing) -> dict[str, Any]:
    content = msg.content
    template_id = content.get("template_id")
    if not isinstance(template_id, str) or not template_id:
        raise ContentError("a WeChat template message needs a 'template_id'")
    if not msg.to:
        raise ContentError("no openid")
    raw = content.get("data") or {}
    if not isinstance(raw, dict):
        raise ContentError("'data' must be an object")
    data: dict[str, dict[str, str]] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            if "value" not in value:
                raise ContentError(f"data field {key!r} has no 'value'")
            data[str(key)] = {k: "" if v is None else str(v) for k, v in value.items()}
        else:
            data[str(key)] = {"value": "" if value is None else str(value)}
    # client_msg_id makes WeChat drop a resend of the same message to the same openid
    # within 10 minutes: a retry after a timeout does not notify the user twice
    payload: dict[str, Any] = {"touser": msg.to, "template_id": template_id, "client_msg_id": msg.key}
    if content.get("url"):
        payload["url"] = str(content["url"])
    if isinstance(content.get("miniprogram"), dict):
        payload["miniprogram"] = content["miniprogram"]
    payload["data"] = data
    return payload


class WechatChannel(HttpChannel):
    def __init__(self, settings: Settings, secrets: Secrets, options: ChannelOptions) -> None:
        super().__init__(make_client(options))
        self.settings = settings
        self._secret = secrets.app_secret
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.now: Callable[[], float] = time.time

    def access_token(self, stale: str | None = None) -> str:
        """The cached token, fetched when missing, about to expire, or equal to ``stale``
        (the one WeChat just refused) — a token another thread already replaced is reused."""
        with self._lock:
            if self._token is None or self._token == stale or self.now() >= self._expires_at:
                self._token, self._expires_at = self._fetch_token()
            return self._token

    def _fetch_token(self) -> tuple[str, float]:
        params = {"grant_type": "client_credential", "appid": self.settings.app_id, "secret": self._secret}
        try:
            response = self.client.get(f"{self.settings.base_url}/cgi-bin/token", params=params)
        except httpx.HTTPError as exc:
            raise Outage(f"token endpoint unreachable: {describe_transport_error(exc)}") from exc
        body = json_body(response)
        token = body.get("access_token")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            detail = status_line(response)
            if error_code(body.get("errcode")) is not None:
                detail += f": errcode {error_code(body.get('errcode'))}"
            raise Outage(f"access token refused: {detail}")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 7200.0
        return token, self.now() + lifetime - min(EXPIRY_MARGIN, lifetime / 2)

    def _post(self, payload: bytes, token: str) -> httpx.Response:
        return self.client.post(
            f"{self.settings.base_url}/cgi-bin/message/template/send",
            params={"access_token": token},
            content=payload,
            headers={"content-type": "application/json; charset=utf-8"},
        )

    def send_one(self, msg: Outgoing) -> SendResult:
        payload = orjson.dumps(build_template(msg))
        token = self.access_token()
        response = self._post(payload, token)
        if response.status_code == 200 and json_body(response).get("errcode") in TOKEN_ERRCODES:
            response = self._post(payload, self.access_token(stale=token))
        if response.status_code != 200:
            return classify(msg, response, status_line(response))
        body = json_body(response)
        errcode = body.get("errcode")
        if errcode == 0:
            msgid = body.get("msgid")
            return sent(msg, None if msgid is None else str(msgid))
        # the documented errcode only: errmsg is free text from the configured base URL
        error = f"errcode {error_code(errcode)}"
        if error_code(errcode) is None:
            return retry(msg, "unexpected answer: no errcode in the reply")
        if errcode in TOKEN_ERRCODES:
            return retry(msg, f"access token refused after refresh: {error}", outage=True)
        if errcode in TRANSIENT_ERRCODES:
            return retry(msg, error)
        if errcode in BOUNCE_ERRCODES:
            return bounced(msg, error)
        return failed(msg, error)


def check_targets(settings: Settings, secrets: Secrets, allow_private: bool) -> None:
    check_url(settings.base_url, allow_private=allow_private)


PROVIDER = register(
    Provider(
        name="wechat",
        kind="wechat",
        settings_model=Settings,
        secrets_model=Secrets,
        factory=WechatChannel,  # (settings, secrets, options)
        description="Template messages through a WeChat Official Account",
        check_targets=check_targets,
    )
)
