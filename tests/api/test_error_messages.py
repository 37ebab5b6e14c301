"""A 422 names the field and says what to change, in the user's words: no pydantic internals
(``"settings.: Value error, …"``, ``function-after[…]``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

SID = "AC" + "1" * 32

CASES: list[tuple[str, dict[str, Any], str]] = [
    # a rule over several fields of the settings (a model validator): named by its object
    ("/channels", {"name": "sms", "provider": "twilio", "settings": {"account_sid": SID}, "secrets": {"auth_token": "t"}},
     "settings: set exactly one of from_number and messaging_service_sid"),
    # a field of the settings
    ("/channels", {"name": "sms", "provider": "twilio", "settings": {"account_sid": "nope", "from_number": "+15005550006"},
     "secrets": {"auth_token": "t"}}, "settings.account_sid: String should match pattern"),
    # a request body field
    ("/segments", {"name": "", "definition": {"root": {"type": "tag", "tag": "vip"}}}, "name: String should have at least 1"),
    # a rule in a segment node
    ("/segments", {"name": "x", "definition": {"root": {"type": "all", "conditions": "no"}}}, "root.conditions: Input should be a valid list"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "expected"), CASES)
def test_a_422_names_the_field_in_plain_words(
    api: Api, path: str, body: dict[str, Any], expected: str
) -> None:
    r = api.post(path, body)
    assert r.status_code == 422, r.text
    message = r.json()["message"]
    assert message.startswith(expected), message
    for internal in ("Value error,", ".:", "function-after", "union[", "Assertion failed"):
        assert internal not in message, message
