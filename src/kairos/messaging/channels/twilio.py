"""SMS through Twilio's Programmable Messaging API.

One ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` per message, form-encoded
``To``, ``From`` (or ``MessagingServiceSid``), ``Body`` and optionally ``StatusCallback``,
with HTTP Basic auth ``AccountSid:AuthToken``. Twilio answers 201 with the message
resource (its ``sid`` is our ``provider_id``) or an error object
``{"code": 21211, "message": ..., "more_info": ..., "status": 400}``.
See https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
and the error codes at https://www.twilio.com/docs/api/errors.

Content: ``{"text": "..."}``.
"""

from __future__ import annotations

import re
from typing import Any, Self

import httpx
from pydantic import Field, model_validator

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
    bounced,
    classify,
    error_code,
    failed,
    json_body,
    make_client,
    sent,
    status_line,
)
from kairos.messaging.ssrf import check_url

E164 = r"^\+[1-9][0-9]{1,14}$"

#: Error codes meaning the number itself can never receive SMS: the address is suppressed.
#: 21211 invalid 'To' number, 21614 not a mobile number, 21610 the recipient replied STOP
#: (Twilio blocks every further message to it until they opt back in).
BOUNCE_CODES = frozenset({21211, 21614, 21610})


class Settings(ProviderConfig):
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$", description="The account SID (AC + 32 hex)")
    from_number: str | None = Field(None, pattern=E164, description="Sender number in E.164 form")
    messaging_service_sid: str | None = Field(
        None, pattern=r"^MG[0-9a-fA-F]{32}$", description="Use a Messaging Service instead of from_number"
    )
    base_url: BaseUrl = Field(
        "https://api.twilio.com",
        description="Twilio's API (change it only for an egress gateway or a test double)",
    )
    status_callback: HttpUrl | None = Field(None, description="Twilio posts delivery status updates here")

    @model_validator(mode="after")
    def _one_sender(self) -> Self:
        if (self.from_number is None) == (self.messaging_service_sid is None):
            raise ValueError("set exactly one of from_number and messaging_service_sid")
        return self


class Secrets(ProviderConfig):
    auth_token: str = Field(min_length=1, description="The account's auth token")


class TwilioChannel(HttpChannel):
    def __init__(self, settings: Settings, secrets: Secrets, options: ChannelOptions) -> None:
        super().__init__(make_client(options, auth=httpx.BasicAuth(settings.account_sid, secrets.auth_token)))
        self.settings = settings
        self.url = f"{settings.base_url}/2010-04-01/Accounts/{settings.account_sid}/Messages.json"

    def send_one(self, msg: Outgoing) -> SendResult:
        text = msg.content.get("text")
        if not isinstance(text, str) or not text:
            raise ContentError("an SMS needs a non-empty 'text'")
        if not re.match(E164, msg.to):
            # contacts store E.164; anything else is our data, not a verdict on the number
            return failed(msg, f"not an E.164 phone number: {msg.to!r}")
        form: dict[str, Any] = {"To": msg.to, "Body": text}
        if self.settings.messaging_service_sid:
            form["MessagingServiceSid"] = self.settings.messaging_service_sid
        else:
            form["From"] = self.settings.from_number
        if self.settings.status_callback:
            form["StatusCallback"] = self.settings.status_callback
        response = self.client.post(self.url, data=form)
        body = json_body(response)
        if response.status_code in (200, 201) and body.get("sid"):
            return sent(msg, str(body["sid"]))
        code = body.get("code")
        # the status and Twilio's documented error code; its message text is not kept (the
        # body is whatever the configured base URL answered)
        error = status_line(response)
        if error_code(code) is not None:
            error += f": Twilio error {error_code(code)}"
        if code in BOUNCE_CODES:
            return bounced(msg, error)
        return classify(msg, response, error)


def check_targets(settings: Settings, secrets: Secrets, allow_private: bool) -> None:
    check_url(settings.base_url, allow_private=allow_private)


PROVIDER = register(
    Provider(
        name="twilio",
        kind="sms",
        settings_model=Settings,
        secrets_model=Secrets,
        factory=TwilioChannel,  # (settings, secrets, options)
        description="SMS through Twilio's Programmable Messaging API",
        check_targets=check_targets,
    )
)
