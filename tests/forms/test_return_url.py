"""A form's ``return_url`` is normalised the way a browser reads it before the allowlist
check, so nothing that leaves the listed prefix passes (docs/forms.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kairos.clock import FixedClock
from kairos.forms.service import allowed_return_url, return_url_allowed
from tests.forms.test_forms import LEAD, form, post, render, topic

__all__ = ["form", "topic"]

ALLOW = ["https://acme.example/thanks", "https://acme.example/docs/", "https://shop.example:8443/done"]

#: each of these escaped the listed prefix (or origin) before normalisation
ESCAPES = [
    "https://acme.example/thanks/../../evil",
    "https://acme.example/thanks/../admin",
    "https://acme.example/thanks/%2e%2e/%2E%2E/evil",
    "https://acme.example/thanks/.%2e/evil",
    "https://acme.example/docs/../thanksgiving",
    "https://acme.example/docs/..",
    "https://acme.example/thanks/..\\..\\evil",
    "https://acme.example/thanks/%2f..%2f..%2fevil",
    "https://acme.example/thanks/..%5c..%5cevil",
    "https://acme.example\\@evil.example/thanks",
    "https://acme.example/thanks\t/../../evil",
    "https://acme.example/thanks\n",
    "https://acme.example:444/thanks",
    "https://%61cme.example/thanks",
    "https:/\\evil.example/thanks",
    "javascript:alert(1)//https://acme.example/thanks",
]


@pytest.mark.parametrize("url", ESCAPES)
def test_escapes_from_the_allowlist_are_refused(url: str) -> None:
    assert not return_url_allowed(url, ALLOW)


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://acme.example/thanks", "https://acme.example/thanks"),
        ("https://ACME.example:443/thanks?x=1#top", "https://acme.example/thanks?x=1#top"),
        ("https://acme.example/thanks/./more", "https://acme.example/thanks/more"),
        ("https://acme.example/docs/a/../b", "https://acme.example/docs/b"),
        ("https://acme.example/other/../thanks", "https://acme.example/thanks"),
        ("https://acme.example/docs/%2e/guide", "https://acme.example/docs/guide"),
        ("https://shop.example:8443/done", "https://shop.example:8443/done"),
    ],
)
def test_urls_inside_the_allowlist_pass_normalised(url: str, normal: str) -> None:
    assert allowed_return_url(url, ALLOW) == normal


def test_a_listed_query_prefix_matches_whole_parameters() -> None:
    allow = ["https://acme.example/thanks?src=form&"]
    assert return_url_allowed("https://acme.example/thanks?src=form&x=1", allow)
    assert not return_url_allowed("https://acme.example/thanks?src=formx", allow)
    assert not return_url_allowed("https://acme.example/thanks/more?src=form&", allow)


def test_the_redirect_goes_to_the_normalised_url_and_escapes_get_the_thank_you_page(
    client: TestClient, clock: FixedClock, form: dict[str, Any]
) -> None:
    hidden = render(client, form)
    clock.advance(timedelta(seconds=5))
    r = post(client, form, {**hidden, "return_url": "https://ACME.example/x/../thanks/./ok"}, **LEAD)
    assert r.status_code == 303 and r.headers["location"] == "https://acme.example/thanks/ok"
    for bad in ("https://acme.example/thanks/../../evil", "https://acme.example/thanks/%2e%2e/evil"):
        hidden = render(client, form)
        clock.advance(timedelta(seconds=5))
        r = post(client, form, {**hidden, "return_url": bad}, **LEAD)
        assert r.status_code == 200 and "location" not in r.headers and "Check your inbox!" in r.text
